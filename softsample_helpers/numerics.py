"""Softmax written out, the limits of ``exp``, and entropy.

These functions are small on purpose: a lesson shows their code next to
their output, so each one reads as the formula it teaches.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from softsample_helpers._checks import FLOAT_DTYPES, check_logits, check_tensor


def naive_softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Textbook softmax, ``exp(x) / sum(exp(x))``, kept to show how it breaks.

    Parameters
    ----------
    logits : torch.Tensor
        Floating-point scores of shape ``(*batch, vocab)`` (categories along
        ``dim``).
    dim : int
        The category dimension.

    Returns
    -------
    torch.Tensor
        Same shape and dtype as ``logits``. Contains NaN when ``exp``
        overflows (a logit of 89 or more in float32) or when every ``exp``
        in a row underflows to zero: that is the lesson.
    """
    logits = check_logits(logits, dim=dim)
    exps = torch.exp(logits)
    return exps / exps.sum(dim=dim, keepdim=True)


def stable_softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax with the largest logit subtracted first, in readable steps.

    Subtracting the row maximum changes nothing mathematically (the common
    factor ``exp(-max)`` cancels) but keeps every ``exp`` at most 1, so it
    cannot overflow, and the largest term is exactly 1, so the sum cannot
    be zero.

    Parameters
    ----------
    logits : torch.Tensor
        Floating-point scores of shape ``(*batch, vocab)``; ``-inf`` masks
        a category out.
    dim : int
        The category dimension.

    Returns
    -------
    torch.Tensor
        Probabilities, same shape and dtype as ``logits``; every row along
        ``dim`` sums to 1.
    """
    logits = check_logits(logits, dim=dim)
    row_max = logits.amax(dim=dim, keepdim=True)
    shifted = logits - row_max  # every entry <= 0, the largest exactly 0
    exps = torch.exp(shifted)  # every entry in [0, 1], the largest exactly 1
    return exps / exps.sum(dim=dim, keepdim=True)


class ExpLimits(NamedTuple):
    """Where ``exp`` stops giving ordinary numbers in one dtype.

    Attributes
    ----------
    overflow : float
        Above this, ``exp(x)`` is larger than the largest finite number and
        becomes ``inf``: ``log(finfo.max)``.
    subnormal : float
        Below this, ``exp(x)`` is smaller than the smallest normal number and
        loses precision: ``log(finfo.tiny)``.
    zero : float
        Below this, ``exp(x)`` rounds to exactly 0: the log of half the
        smallest subnormal number.
    """

    overflow: float
    subnormal: float
    zero: float


def exp_limits(dtype: torch.dtype) -> ExpLimits:
    """Compute the thresholds of ``exp`` for a floating-point dtype.

    Parameters
    ----------
    dtype : torch.dtype
        One of ``torch.float16``, ``torch.bfloat16``, ``torch.float32`` or
        ``torch.float64``.

    Returns
    -------
    ExpLimits
        For float32 about ``(88.72, -87.34, -103.97)``.
    """
    if dtype not in FLOAT_DTYPES:
        allowed = ", ".join(str(d) for d in FLOAT_DTYPES)
        raise TypeError(f"dtype must be one of {allowed}; got {dtype!r}")
    info = torch.finfo(dtype)
    # The smallest subnormal number is tiny * eps; exp rounds to zero below
    # half of it. Added as logs, because in float64 the product itself
    # would already round to zero.
    log_smallest_subnormal = math.log(info.tiny) + math.log(info.eps)
    return ExpLimits(
        overflow=math.log(info.max),
        subnormal=math.log(info.tiny),
        zero=log_smallest_subnormal - math.log(2),
    )


def entropy(probs: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Shannon entropy in nats, ``-sum(p * log p)`` with ``0 log 0 = 0``.

    Parameters
    ----------
    probs : torch.Tensor
        Probabilities of shape ``(*batch, vocab)``, each row summing to 1.
    dim : int
        The category dimension.

    Returns
    -------
    torch.Tensor
        Shape ``(*batch,)``: 0 for a one-hot row, ``log(vocab)`` for a
        uniform one.
    """
    from softsample_helpers.stats import check_probs

    probs = check_probs(check_tensor(probs, "probs"), dim=dim)
    terms = torch.special.xlogy(probs, probs)  # 0 where probs == 0
    return -terms.sum(dim=dim)
