"""Decoding filters: temperature, top-k, top-p (nucleus) and min-p.

A language model's next-token distribution has a long tail of unlikely
tokens. Decoding filters cut that tail before sampling. This module applies
them in one fixed order,

    temperature -> top-k -> top-p -> min-p,

each filter seeing the distribution the previous one left (renormalised).
Other libraries may use another order, or apply some filters together, so
the same four numbers can keep a different set of tokens elsewhere: check
the order before comparing settings across libraries.

Every filter here keeps the categories whose score is at least a
threshold. Ties at the threshold are therefore all kept, the most probable
category always survives, and the result does not depend on how a sort
orders equal values.
"""

from __future__ import annotations

import math
from numbers import Real

import torch

from softsample_helpers._checks import (
    check_count,
    check_logits,
    check_positive_number,
)


def check_top_k(top_k: object) -> int | None:
    """Return ``top_k`` if it is ``None`` or an integer >= 1."""
    if top_k is None:
        return None
    if isinstance(top_k, Real) and not isinstance(top_k, bool | int):
        raise TypeError(
            f"top_k must be an integer >= 1 (how many of the most probable "
            f"categories to keep), got {type(top_k).__name__} {top_k!r}; "
            f"use None to switch top-k off"
        )
    return check_count(top_k, "top_k")


def _check_fraction(
    value: object, name: str, *, low_open: bool, high_open: bool, off: str
) -> float | None:
    """Return ``value`` as a float if it lies in the given interval."""
    low_bracket = "(" if low_open else "["
    high_bracket = ")" if high_open else "]"
    interval = f"{low_bracket}0, 1{high_bracket}"
    if value is None:
        return None
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(
            f"{name} must be a number in {interval}, got {type(value).__name__}; "
            f"use None to switch it off"
        )
    number = float(value)
    too_low = number <= 0 if low_open else number < 0
    too_high = number >= 1 if high_open else number > 1
    if math.isnan(number) or too_low or too_high:
        raise ValueError(
            f"{name} must be a number in {interval}, got {number!r}; {off}"
        )
    return number


def check_top_p(top_p: object) -> float | None:
    """Return ``top_p`` if it is ``None`` or a number in (0, 1]."""
    return _check_fraction(
        top_p,
        "top_p",
        low_open=True,
        high_open=False,
        off="1.0 or None keeps every category, smaller values keep fewer",
    )


def check_min_p(min_p: object) -> float | None:
    """Return ``min_p`` if it is ``None`` or a number in [0, 1)."""
    return _check_fraction(
        min_p,
        "min_p",
        low_open=False,
        high_open=True,
        off="0.0 or None keeps every category, use argmax for greedy choice",
    )


def _top_k_mask(logits: torch.Tensor, top_k: int) -> torch.Tensor:
    """Keep categories whose logit is at least the k-th largest in the row."""
    k = min(top_k, logits.shape[-1])
    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits >= kth_largest


def _top_p_mask(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the most probable categories until their mass reaches ``top_p``.

    Sorted from most to least probable, a category is kept while the mass
    *before* it is below ``top_p``; every category at least as probable as
    the last one kept is kept too, so ties at the edge stay together.
    Summed in float64 so that the mass of a long tail is not rounded away.
    """
    probs = torch.softmax(logits.double(), dim=-1)
    sorted_probs = probs.sort(dim=-1, descending=True).values
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
    num_kept = (mass_before < top_p).sum(dim=-1, keepdim=True)  # always >= 1
    last_kept = sorted_probs.gather(-1, num_kept - 1)
    return probs >= last_kept


def _min_p_mask(logits: torch.Tensor, min_p: float) -> torch.Tensor:
    """Keep categories at least ``min_p`` times as probable as the top one.

    ``p >= min_p * p_max`` is ``logit >= max_logit + log(min_p)``, which
    needs no softmax and cannot underflow.
    """
    row_max = logits.amax(dim=-1, keepdim=True)
    return logits >= row_max + math.log(min_p)


def filter_logits(
    logits: torch.Tensor,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    min_p: float | None = None,
) -> torch.Tensor:
    """Divide by the temperature, then cut categories with top-k, top-p, min-p.

    The filters run in the order temperature, top-k, top-p, min-p; each one
    sees the distribution the previous one left, renormalised. (Other
    libraries may order or combine the filters differently, so the same
    settings can keep different tokens there.) A cut category gets the
    logit ``-inf``, so ``torch.softmax`` of the result gives it probability
    exactly 0 and the kept categories share all the mass in their original
    proportions.

    Ties: every filter keeps all categories tied at its threshold, so the
    result never depends on how a sort orders equal values, and the most
    probable category of each row always survives.

    Parameters
    ----------
    logits : torch.Tensor
        Floating-point scores of shape ``(*batch, vocab)``; ``-inf`` masks a
        category out and it stays out.
    temperature : float
        A finite number > 0 the logits are divided by first.
    top_k : int, optional
        Keep the ``top_k`` highest logits of each row (more if several tie
        with the ``top_k``-th; all of them if ``top_k >= vocab``). An
        integer >= 1; ``None`` switches it off.
    top_p : float, optional
        Nucleus filtering: keep the smallest set of most probable categories
        whose total probability is at least ``top_p`` (plus any tied with
        its least probable member). In (0, 1]; ``None`` or 1.0 switch it
        off.
    min_p : float, optional
        Keep categories whose probability is at least ``min_p`` times the
        largest one in the row. In [0, 1); ``None`` or 0.0 switch it off.

    Returns
    -------
    torch.Tensor
        ``logits / temperature`` with cut categories set to ``-inf``, shape
        ``(*batch, vocab)``: float64 for float64 input, float32 otherwise
        (half-precision input is upcast so that dividing by a small
        temperature cannot overflow).
    """
    logits = check_logits(logits)
    temperature = check_positive_number(
        temperature, "temperature", hint="use argmax for greedy choice"
    )
    top_k = check_top_k(top_k)
    top_p = check_top_p(top_p)
    min_p = check_min_p(min_p)

    work_dtype = torch.float64 if logits.dtype == torch.float64 else torch.float32
    scaled = logits.to(work_dtype) / temperature
    keep = torch.ones_like(scaled, dtype=torch.bool)
    if top_k is not None:
        keep &= _top_k_mask(scaled, top_k)
    # Each later filter sees only what survived, as if renormalised.
    if top_p is not None and top_p < 1.0:
        keep &= _top_p_mask(scaled.masked_fill(~keep, -math.inf), top_p)
    if min_p is not None and min_p > 0.0:
        keep &= _min_p_mask(scaled.masked_fill(~keep, -math.inf), min_p)
    return scaled.masked_fill(~keep, -math.inf)


#: The head of the made-up next-token distribution, most likely first.
_EXAMPLE_HEAD = (
    *("mat", "floor", "sofa", "bed", "rug", "chair", "windowsill", "couch"),
    *("table", "roof", "grass", "doorstep", "carpet", "fence", "stairs", "porch"),
    *("bench", "pillow", "step", "ground", "wall", "desk", "keyboard", "box"),
)


def example_next_token_logits(vocab: int = 300) -> tuple[torch.Tensor, list[str]]:
    """Made-up logits for the word after "The cat sat on the", shaped like a model's.

    Not from a real model: the probabilities fall off with rank like a
    power law, ``p ~ rank**-1.1`` (as word frequencies and language models'
    next-token distributions roughly do), with a little fixed noise, so the
    head is a handful of likely words and the tail hundreds of unlikely
    ones. Sorted from most to least likely.

    Parameters
    ----------
    vocab : int
        Number of tokens, at least 24 (the named ones).

    Returns
    -------
    logits : torch.Tensor
        float32 of shape ``(vocab,)``, decreasing.
    labels : list of str
        One name per token: words for the first 24, ``"tok<rank>"`` after.
    """
    vocab = check_count(vocab, "vocab", minimum=len(_EXAMPLE_HEAD))
    ranks = torch.arange(1, vocab + 1, dtype=torch.float64)
    noise = torch.randn(vocab, generator=torch.Generator().manual_seed(0)) * 0.15
    logits = (-1.1 * ranks.log() + noise.double()).sort(descending=True).values
    labels = [*_EXAMPLE_HEAD, *(f"tok{rank}" for rank in range(25, vocab + 1))]
    return logits.float(), labels
