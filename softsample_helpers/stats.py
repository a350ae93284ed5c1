"""Counting samples and testing them against the probabilities they follow."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from scipy import stats as scipy_stats

from softsample_helpers._checks import check_count, check_tensor

#: The textbook rule for Pearson's test: every expected count at least 5.
MIN_EXPECTED_COUNT = 5.0


def check_probs(
    probs: torch.Tensor, name: str = "probs", dim: int = -1
) -> torch.Tensor:
    """Check that ``probs`` holds finite, non-negative rows that sum to 1."""
    probs = check_tensor(probs, name)
    if not probs.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got dtype {probs.dtype}; "
            f"convert it with {name}.float()"
        )
    if probs.dim() == 0 or probs.shape[dim] == 0:
        raise ValueError(
            f"{name} must have a non-empty category dimension, got shape "
            f"{tuple(probs.shape)}"
        )
    if not torch.isfinite(probs).all():
        raise ValueError(f"{name} contains NaN or inf; probabilities must be finite")
    if (probs < 0).any():
        raise ValueError(
            f"{name} contains negative values (smallest {probs.min().item():.3g}); "
            f"probabilities must be >= 0, e.g. from torch.softmax(logits, -1)"
        )
    sums = probs.double().sum(dim=dim)
    vocab = probs.shape[dim]
    tolerance = max(1e-6, 8 * torch.finfo(probs.dtype).eps) * max(1.0, vocab**0.5)
    worst = (sums - 1).abs().max().item()
    if worst > tolerance:
        raise ValueError(
            f"{name} must sum to 1 along dim={dim}, but a row sums to "
            f"{sums.flatten()[(sums - 1).abs().flatten().argmax()].item():.6g}; "
            f"normalise with {name} / {name}.sum(dim={dim}, keepdim=True)"
        )
    return probs


def check_samples(
    samples: torch.Tensor, num_categories: int, name: str = "samples"
) -> torch.Tensor:
    """Check that ``samples`` holds integer indices in ``[0, num_categories)``."""
    samples = check_tensor(samples, name)
    if (
        samples.is_floating_point()
        or samples.is_complex()
        or samples.dtype == torch.bool
    ):
        raise TypeError(
            f"{name} must be an integer tensor of category indices, got dtype "
            f"{samples.dtype}; convert it with {name}.long()"
        )
    if samples.dim() == 0:
        raise ValueError(
            f"{name} must have a samples dimension, got a scalar; use {name}.reshape(1)"
        )
    if samples.shape[-1] == 0:
        raise ValueError(
            f"{name} is empty (shape {tuple(samples.shape)}); draw at least one"
        )
    low, high = samples.min().item(), samples.max().item()
    if low < 0 or high >= num_categories:
        bad = low if low < 0 else high
        raise ValueError(
            f"{name} contains the index {bad}, outside 0..{num_categories - 1} "
            f"for {num_categories} categories; check num_categories or the "
            f"sampling code"
        )
    return samples.long()


def empirical_frequencies(samples: torch.Tensor, num_categories: int) -> torch.Tensor:
    """Share of draws that fell in each category, row by row.

    Parameters
    ----------
    samples : torch.Tensor
        Integer indices of shape ``(*batch, num_samples)``.
    num_categories : int
        The vocabulary size; every index must be below it.

    Returns
    -------
    torch.Tensor
        float64 frequencies of shape ``(*batch, num_categories)``; each row
        sums to 1.
    """
    num_categories = check_count(num_categories, "num_categories")
    samples = check_samples(samples, num_categories)
    counts = torch.zeros(*samples.shape[:-1], num_categories, dtype=torch.float64)
    counts.scatter_add_(-1, samples, torch.ones_like(samples, dtype=torch.float64))
    return counts / samples.shape[-1]


class GoodnessOfFit(NamedTuple):
    """Result of Pearson's chi-square test.

    For one distribution each field is a Python number; for a batch each is
    a tensor of shape ``(*batch,)``.

    Attributes
    ----------
    statistic : float or torch.Tensor
        Pearson's ``sum((observed - expected)**2 / expected)``.
    p_value : float or torch.Tensor
        Chance of a statistic at least this large if the samples really
        follow ``probs``. Small values (below 0.01, say) mean they do not.
    dof : int or torch.Tensor
        Degrees of freedom: the number of bins after pooling, minus 1.
    """

    statistic: float | torch.Tensor
    p_value: float | torch.Tensor
    dof: int | torch.Tensor


def _bin_ids(expected: np.ndarray) -> np.ndarray:
    """Group categories so that every group expects at least 5 draws.

    Categories with zero probability are left out (id -1; they are checked
    separately). The others are taken from the smallest expected count up:
    a category expecting 5 or more stays alone, smaller ones are merged into
    groups until each group expects at least 5. A remainder that never gets
    there joins the last group. Grouping small categories into several bins,
    rather than one, keeps the test able to see a wrong long tail.

    Returns
    -------
    numpy.ndarray
        int64 of the shape of ``expected``: each category's group, 0 to
        ``groups - 1``, or -1 for a category of zero probability.
    """
    ids = np.full(expected.shape, -1, dtype=np.int64)
    order = np.argsort(expected, kind="stable")
    order = order[expected[order] > 0]
    next_id = 0
    group_total = 0.0
    group_open = False
    for index in order.tolist():
        ids[index] = next_id
        group_total += expected[index]
        group_open = True
        if group_total >= MIN_EXPECTED_COUNT:
            next_id += 1
            group_total = 0.0
            group_open = False
    if group_open and next_id > 0:
        ids[ids == next_id] = next_id - 1  # the remainder joins the last group
    return ids


def _test_row(counts: np.ndarray, probs: np.ndarray) -> tuple[float, float, int]:
    """Pearson's test for one row of counts against one row of probabilities."""
    total = counts.sum()
    if counts[probs == 0].sum() > 0:
        # A draw of an impossible category: no distribution fits worse.
        return float("inf"), 0.0, max(int((probs > 0).sum()) - 1, 0)
    expected = probs * total
    ids = _bin_ids(expected)
    possible = ids >= 0
    observed_binned = np.bincount(ids[possible], weights=counts[possible])
    expected_binned = np.bincount(ids[possible], weights=expected[possible])
    dof = len(expected_binned) - 1
    if dof == 0:
        return 0.0, 1.0, 0  # one bin: every draw lands in it, nothing to test
    statistic = float(
        ((observed_binned - expected_binned) ** 2 / expected_binned).sum()
    )
    p_value = float(scipy_stats.chi2.sf(statistic, dof))
    return statistic, p_value, dof


def goodness_of_fit(samples: torch.Tensor, probs: torch.Tensor) -> GoodnessOfFit:
    """Test whether ``samples`` were drawn from ``probs`` (Pearson's chi-square).

    Categories expecting fewer than 5 draws are pooled into one bin, the
    textbook condition for the chi-square approximation. A draw from a
    category of probability 0 gives ``statistic=inf`` and ``p_value=0``.

    Parameters
    ----------
    samples : torch.Tensor
        Integer indices of shape ``(*batch, num_samples)``.
    probs : torch.Tensor
        The probabilities the samples should follow, shape
        ``(*batch, vocab)``, each row summing to 1.

    Returns
    -------
    GoodnessOfFit
        ``statistic``, ``p_value`` and ``dof``, per row for a batch.
    """
    probs = check_probs(probs)
    samples = check_samples(samples, probs.shape[-1])
    if samples.shape[:-1] != probs.shape[:-1]:
        raise ValueError(
            f"samples has batch shape {tuple(samples.shape[:-1])} but probs has "
            f"batch shape {tuple(probs.shape[:-1])}; give one row of samples per "
            f"row of probabilities"
        )
    vocab = probs.shape[-1]
    counts = empirical_frequencies(samples, vocab) * samples.shape[-1]
    counts_rows = counts.reshape(-1, vocab).round().numpy()
    probs_rows = probs.double().reshape(-1, vocab).numpy()
    probs_rows = probs_rows / probs_rows.sum(axis=-1, keepdims=True)

    results = [_test_row(c, p) for c, p in zip(counts_rows, probs_rows, strict=True)]
    if probs.dim() == 1:
        statistic, p_value, dof = results[0]
        return GoodnessOfFit(statistic, p_value, dof)
    batch = probs.shape[:-1]
    return GoodnessOfFit(
        statistic=torch.tensor([r[0] for r in results], dtype=torch.float64).reshape(
            batch
        ),
        p_value=torch.tensor([r[1] for r in results], dtype=torch.float64).reshape(
            batch
        ),
        dof=torch.tensor([r[2] for r in results], dtype=torch.int64).reshape(batch),
    )


def frequency_interval(
    frequencies: torch.Tensor, num_samples: int, confidence: float = 0.95
) -> tuple[torch.Tensor, torch.Tensor]:
    """Wilson score interval around each empirical frequency.

    Parameters
    ----------
    frequencies : torch.Tensor
        Empirical frequencies of shape ``(*batch, vocab)``.
    num_samples : int
        How many draws the frequencies come from.
    confidence : float
        Coverage of the interval, in (0, 1).

    Returns
    -------
    tuple of torch.Tensor
        ``(low, high)``, each the shape of ``frequencies``.
    """
    num_samples = check_count(num_samples, "num_samples")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    z = float(scipy_stats.norm.ppf(0.5 + confidence / 2))
    p = frequencies.double()
    n = float(num_samples)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * torch.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return (centre - half).clamp(min=0), (centre + half).clamp(max=1)
