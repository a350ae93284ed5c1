"""empirical_frequencies, goodness_of_fit and frequency_interval."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from softsample_helpers import (
    empirical_frequencies,
    frequency_interval,
    goodness_of_fit,
)
from softsample_helpers.stats import _bin_ids


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@given(
    batch=st.lists(st.integers(1, 3), max_size=2),
    vocab=st.integers(1, 7),
    num_samples=st.integers(1, 30),
    seed=st.integers(0, 1000),
)
def test_frequencies_count_every_draw(batch, vocab, num_samples, seed):
    samples = torch.randint(vocab, (*batch, num_samples), generator=seeded(seed))
    frequencies = empirical_frequencies(samples, vocab)
    assert frequencies.shape == (*batch, vocab)
    assert torch.allclose(frequencies.sum(-1), torch.ones(batch, dtype=torch.float64))
    flat = samples.reshape(-1, num_samples)
    for row, freq in zip(flat, frequencies.reshape(-1, vocab), strict=True):
        expected = torch.bincount(row, minlength=vocab) / num_samples
        assert torch.allclose(freq, expected.double())


def test_frequencies_reject_out_of_range_and_float_samples():
    with pytest.raises(ValueError, match="index 3, outside 0..2 for 3 categories"):
        empirical_frequencies(torch.tensor([0, 3]), 3)
    with pytest.raises(ValueError, match="index -1"):
        empirical_frequencies(torch.tensor([0, -1]), 3)
    with pytest.raises(
        TypeError, match=r"samples must be an integer tensor.*\.long\(\)"
    ):
        empirical_frequencies(torch.tensor([0.0, 1.0]), 3)
    with pytest.raises(ValueError, match="num_categories must be an integer >= 1"):
        empirical_frequencies(torch.tensor([0]), 0)


def test_goodness_of_fit_matches_scipy_when_no_pooling_is_needed():
    probs = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    samples = torch.tensor([0] * 25 + [1] * 25 + [2] * 50)
    ours = goodness_of_fit(samples, probs)
    reference = scipy_stats.chisquare([25, 25, 50], [20, 30, 50])
    assert ours.statistic == pytest.approx(reference.statistic)
    assert ours.p_value == pytest.approx(reference.pvalue)
    assert ours.dof == 2


def test_goodness_of_fit_accepts_the_right_distribution_and_rejects_a_wrong_one():
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    samples = torch.multinomial(probs, 5_000, replacement=True, generator=seeded(1))
    assert goodness_of_fit(samples, probs).p_value > 0.01
    slightly_wrong = torch.tensor([0.12, 0.18, 0.3, 0.4])
    assert goodness_of_fit(samples, slightly_wrong).p_value < 1e-3


def test_p_values_are_uniform_under_the_null():
    # Across many seeded experiments, a correct test rejects about as often as
    # its level says: the p-values look uniform (Kolmogorov-Smirnov).
    probs = torch.tensor([0.5, 0.25, 0.15, 0.07, 0.03])
    samples = torch.multinomial(probs, 400, replacement=True, generator=seeded(2))
    batch = torch.multinomial(
        probs.expand(300, -1), 400, replacement=True, generator=seeded(3)
    )
    p_values = goodness_of_fit(batch, probs.expand(300, -1)).p_value.numpy()
    assert scipy_stats.kstest(p_values, "uniform").pvalue > 1e-3
    assert goodness_of_fit(samples, probs).dof == 4


def groups(ids: np.ndarray) -> list[list[int]]:
    return [np.flatnonzero(ids == g).tolist() for g in range(ids.max() + 1)]


def test_small_expected_counts_are_pooled():
    expected = np.array([50.0, 30.0, 2.0, 1.0, 1.5, 10.0, 0.0])
    ids = _bin_ids(expected)
    assert ids[6] == -1  # zero probability is not a bin
    bins = groups(ids)
    assert sorted(map(sorted, bins)) == [[0], [1], [2, 3, 4, 5]]  # 4.5 < 5: 10 joins
    assert all(expected[b].sum() >= 5 for b in bins)
    # Many small categories make many groups, not one; the remainder of 1
    # joins the last group.
    uniform_tail = groups(_bin_ids(np.full(100, 2.0)))
    assert len(uniform_tail) == 33
    assert sorted(i for b in uniform_tail for i in b) == list(range(100))
    # Every category large: nothing is pooled.
    assert groups(_bin_ids(np.array([5.0, 6.0]))) == [[0], [1]]
    # Everything small and the total below 5: one group.
    assert groups(_bin_ids(np.array([1.0, 2.0]))) == [[0, 1]]


def test_pooling_keeps_a_long_tail_testable():
    vocab = 1_000
    probs = torch.softmax(-torch.arange(vocab, dtype=torch.float64) / 50, -1)
    samples = torch.multinomial(probs, 2_000, replacement=True, generator=seeded(4))
    result = goodness_of_fit(samples, probs)
    assert 1 <= result.dof < vocab - 1
    assert result.p_value > 1e-3
    flat = torch.full((vocab,), 1 / vocab, dtype=torch.float64)
    assert goodness_of_fit(samples, flat).p_value < 1e-3


def test_a_draw_of_an_impossible_category_is_the_worst_fit():
    probs = torch.tensor([0.5, 0.5, 0.0])
    result = goodness_of_fit(torch.tensor([0, 1, 2, 0]), probs)
    assert result.statistic == float("inf")
    assert result.p_value == 0.0


def test_batched_results_have_the_batch_shape():
    probs = torch.softmax(torch.randn(2, 3, 4, generator=seeded()), -1)
    samples = torch.multinomial(
        probs.reshape(6, 4), 500, replacement=True, generator=seeded(5)
    )
    result = goodness_of_fit(samples.reshape(2, 3, 500), probs)
    assert result.statistic.shape == result.p_value.shape == result.dof.shape == (2, 3)


@pytest.mark.parametrize(
    ("samples", "probs", "error", "message"),
    [
        (
            torch.tensor([0, 1]),
            torch.tensor([0.5, 0.6]),
            ValueError,
            "probs must sum to 1.*normalise",
        ),
        (
            torch.tensor([0, 1]),
            torch.tensor([1.2, -0.2]),
            ValueError,
            "probs contains negative values",
        ),
        (
            torch.tensor([0, 1]),
            torch.tensor([0.5, float("nan")]),
            ValueError,
            "NaN or inf",
        ),
        (
            torch.tensor([0, 1]),
            torch.tensor([1, 0]),
            TypeError,
            "probs must be a floating-point",
        ),
        (torch.tensor([0, 5]), torch.tensor([0.5, 0.5]), ValueError, "index 5"),
        (
            torch.tensor([[0, 1]]),
            torch.tensor([[0.5, 0.5]] * 2),
            ValueError,
            "batch shape",
        ),
        ([0, 1], torch.tensor([0.5, 0.5]), TypeError, "samples must be a torch.Tensor"),
    ],
)
def test_goodness_of_fit_rejects_bad_input(samples, probs, error, message):
    with pytest.raises(error, match=message):
        goodness_of_fit(samples, probs)


def test_wilson_interval_covers_the_truth_about_95_percent_of_the_time():
    probs = torch.tensor([0.6, 0.3, 0.08, 0.02])
    num_samples = 200
    samples = torch.multinomial(
        probs.expand(2_000, -1), num_samples, replacement=True, generator=seeded(6)
    )
    frequencies = empirical_frequencies(samples, 4)
    low, high = frequency_interval(frequencies, num_samples)
    covered = ((low <= probs) & (probs <= high)).double().mean(0)
    # 2,000 experiments: a standard error of 0.005 around 0.95.
    assert ((covered[:3] > 0.93) & (covered[:3] < 0.97)).all(), covered
    # With only 4 expected draws Wilson's coverage dips a little below 95%,
    # a known property of the interval; far below would be a bug.
    assert 0.90 < covered[3] < 0.97, covered
    assert (low >= 0).all() and (high <= 1).all()


def test_interval_rejects_bad_confidence():
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        frequency_interval(torch.tensor([0.5, 0.5]), 10, confidence=95)
