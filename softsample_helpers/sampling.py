"""Drawing category indices from logits."""

from __future__ import annotations

import torch

from softsample_helpers._checks import (
    check_count,
    check_generator,
    check_logits,
    check_positive_number,
)


def _as_rows(logits: torch.Tensor) -> torch.Tensor:
    """View ``(*batch, vocab)`` as ``(rows, vocab)``, upcasting half types."""
    work_dtype = torch.float64 if logits.dtype == torch.float64 else torch.float32
    return logits.reshape(-1, logits.shape[-1]).to(work_dtype)


def sample_categorical(
    logits: torch.Tensor,
    num_samples: int = 1,
    *,
    temperature: float = 1.0,
    replacement: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw category indices from ``softmax(logits / temperature)``.

    Parameters
    ----------
    logits : torch.Tensor
        Floating-point scores of shape ``(*batch, vocab)``, any number of
        batch dimensions (including none). ``-inf`` masks a category: it is
        never drawn.
    num_samples : int
        How many indices to draw per row, >= 1.
    temperature : float
        A finite number > 0. Below 1 sharpens the distribution, above 1
        flattens it.
    replacement : bool
        Whether an index may be drawn more than once in a row. Without
        replacement, ``num_samples`` may not exceed the number of categories
        with non-zero probability.
    generator : torch.Generator, optional
        The source of randomness; the same seed gives the same draws.

    Returns
    -------
    torch.Tensor
        int64 indices of shape ``(*batch, num_samples)``.
    """
    logits = check_logits(logits)
    num_samples = check_count(num_samples, "num_samples")
    temperature = check_positive_number(
        temperature, "temperature", hint="use argmax for greedy choice"
    )
    if not isinstance(replacement, bool):
        raise TypeError(f"replacement must be True or False, got {replacement!r}")
    generator = check_generator(generator)

    rows = _as_rows(logits)
    probs = torch.softmax(rows / temperature, dim=-1)

    if not replacement:
        available = int((probs > 0).sum(dim=-1).min())
        if num_samples > available:
            raise ValueError(
                f"num_samples={num_samples} is more than the {available} "
                f"categories with non-zero probability in some row, so sampling "
                f"without replacement would have to draw impossible categories; "
                f"ask for at most {available}, or use replacement=True"
            )

    samples = torch.multinomial(
        probs, num_samples, replacement=replacement, generator=generator
    )
    return samples.reshape(*logits.shape[:-1], num_samples)
