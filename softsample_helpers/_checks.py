"""Input checks shared by the public functions.

Every check raises ``TypeError`` or ``ValueError`` with a message that names
the argument, says what was wrong, and says what to do instead, so that a
student sees a sentence rather than a stack trace from deep inside torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real

import torch

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def check_tensor(value: object, name: str) -> torch.Tensor:
    """Return ``value`` if it is a tensor; otherwise raise a ``TypeError``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor, got {type(value).__name__}; "
            f"wrap it with torch.tensor(...)"
        )
    return value


def check_logits(logits: object, name: str = "logits", dim: int = -1) -> torch.Tensor:
    """Check that ``logits`` is a usable floating-point tensor of scores.

    Allowed: a float16, bfloat16, float32 or float64 tensor with at least one
    dimension, a non-empty category dimension ``dim``, no NaN, no ``+inf``,
    and at least one finite entry along ``dim`` in every row (``-inf`` masks
    a category out).
    """
    logits = check_tensor(logits, name)
    if logits.dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{name} must be a floating-point tensor, got dtype {logits.dtype}; "
            f"convert it with {name}.float()"
        )
    if logits.dim() == 0:
        raise ValueError(
            f"{name} must have at least one dimension (the categories), got a "
            f"scalar; use {name}.reshape(1) or give one score per category"
        )
    if not -logits.dim() <= dim < logits.dim():
        raise ValueError(
            f"dim={dim} is out of range for {name} with {logits.dim()} "
            f"dimension(s); use a dim between {-logits.dim()} and {logits.dim() - 1}"
        )
    if logits.shape[dim] == 0:
        raise ValueError(
            f"{name} has an empty category dimension (shape {tuple(logits.shape)}, "
            f"dim={dim}); give at least one category"
        )
    if torch.isnan(logits).any():
        raise ValueError(
            f"{name} contains NaN; find where the NaN came from, or use -inf to "
            f"mask a category out"
        )
    if torch.isposinf(logits).any():
        raise ValueError(
            f"{name} contains +inf, which has no probability; use a large finite "
            f"value, or -inf to mask a category out"
        )
    if logits.numel() > 0:
        all_masked = torch.isneginf(logits).all(dim=dim)
        if all_masked.any():
            where = ""
            if all_masked.dim() > 0:
                row = all_masked.nonzero()[0].tolist()
                where = f" (row {row[0] if len(row) == 1 else tuple(row)})"
            raise ValueError(
                f"{name} has a row whose entries are all -inf{where}, so no "
                f"category can be drawn; leave at least one category finite"
            )
    return logits


def check_positive_number(value: object, name: str, hint: str = "") -> float:
    """Return ``value`` as a float if it is a finite real number > 0."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(
            f"{name} must be a finite number > 0, got {type(value).__name__}"
            + (f"; {hint}" if hint else "")
        )
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(
            f"{name} must be a finite number > 0, got {number!r}"
            + (f"; {hint}" if hint else "")
        )
    return number


def check_count(value: object, name: str, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer >= ``minimum``."""
    if (
        isinstance(value, torch.Tensor)
        and value.numel() == 1
        and not value.is_floating_point()
    ):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"{name} must be an integer >= {minimum}, got {type(value).__name__} "
            f"{value!r}"
        )
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return value


def check_generator(generator: object) -> torch.Generator | None:
    """Return ``generator`` if it is ``None`` or a CPU ``torch.Generator``."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None, got "
            f"{type(generator).__name__}; make one with "
            f"torch.Generator().manual_seed(0)"
        )
    return generator


def check_labels(labels: Sequence[str] | None, vocab: int) -> list[str]:
    """Category names: the given ones, or ``0, 1, ...``."""
    if labels is None:
        return [str(i) for i in range(vocab)]
    if isinstance(labels, str) or not isinstance(labels, Sequence):
        raise TypeError(
            f"labels must be a list of strings, one per category, got "
            f"{type(labels).__name__}"
        )
    if len(labels) != vocab:
        raise ValueError(
            f"labels has {len(labels)} names but there are {vocab} categories; "
            f"give exactly one name per category"
        )
    return [str(label) for label in labels]
