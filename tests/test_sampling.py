"""The basic contract of sample_categorical: shapes, seeding, exactness, errors.

Exactness is checked statistically: with a fixed seed, Pearson's test must
not reject the true distribution (p > 0.001) and must reject a wrong one.
"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from softsample_helpers import goodness_of_fit, sample_categorical

NEG_INF = float("-inf")
ALPHA = 1e-3  # a fixed seed either passes or fails; 1e-3 keeps false alarms rare


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@given(
    batch=st.lists(st.integers(1, 3), max_size=3),
    vocab=st.integers(1, 6),
    num_samples=st.integers(1, 5),
)
def test_shape_is_batch_then_num_samples(batch, vocab, num_samples):
    logits = torch.randn(*batch, vocab, generator=seeded())
    samples = sample_categorical(logits, num_samples, generator=seeded())
    assert samples.shape == (*batch, num_samples)
    assert samples.dtype == torch.int64
    assert ((samples >= 0) & (samples < vocab)).all()


def test_same_generator_seed_gives_same_draws():
    logits = torch.randn(4, 10, generator=seeded(1))
    first = sample_categorical(logits, 50, generator=seeded(7))
    second = sample_categorical(logits, 50, generator=seeded(7))
    other = sample_categorical(logits, 50, generator=seeded(8))
    assert torch.equal(first, second)
    assert not torch.equal(first, other)


@pytest.mark.parametrize(
    "logits",
    [
        torch.tensor([2.0, 1.0, 0.0, -1.0]),
        torch.tensor([1000.0, 999.0, 998.5, -1000.0]),  # huge: naive exp overflows
        torch.tensor([-1000.0, -1001.0, -1002.0]),  # tiny: naive exp underflows
        torch.tensor([0.0, NEG_INF, 1.0, NEG_INF, 0.5]),  # masked categories
        torch.tensor([3.0, 1.0, 0.5], dtype=torch.float16),
        torch.tensor([3.0, 1.0, 0.5], dtype=torch.bfloat16),
        torch.tensor([3.0, 1.0, 0.5], dtype=torch.float64),
    ],
    ids=["plain", "huge", "tiny", "masked", "float16", "bfloat16", "float64"],
)
@pytest.mark.parametrize("num_samples", [1, 20_000])
def test_draws_follow_softmax(logits, num_samples):
    probs = torch.softmax(logits.double(), dim=-1)
    # For one sample per row, ask for many rows instead.
    rows = 20_000 if num_samples == 1 else 1
    samples = sample_categorical(
        logits.expand(rows, -1), num_samples, generator=seeded(3)
    ).reshape(-1)
    result = goodness_of_fit(samples, probs)
    assert result.p_value > ALPHA, result
    assert not (probs[samples] == 0).any(), "drew a masked category"


@pytest.mark.parametrize("temperature", [0.25, 1.0, 4.0])
def test_draws_follow_softmax_of_logits_over_temperature(temperature):
    logits = torch.tensor([1.0, 0.0, -0.5, 2.0])
    probs = torch.softmax(logits.double() / temperature, dim=-1)
    samples = sample_categorical(
        logits, 20_000, temperature=temperature, generator=seeded(5)
    )
    assert goodness_of_fit(samples, probs).p_value > ALPHA
    # The same draws are clearly wrong for temperature 1 unless it is 1.
    if temperature != 1.0:
        wrong = torch.softmax(logits.double(), dim=-1)
        assert goodness_of_fit(samples, wrong).p_value < ALPHA


def test_each_row_of_a_batch_follows_its_own_distribution():
    logits = torch.tensor(
        [[[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]], [[5.0, NEG_INF, 5.0], [0.0, 0.0, 0.0]]]
    )
    samples = sample_categorical(logits, 10_000, generator=seeded(11))
    result = goodness_of_fit(samples, torch.softmax(logits, -1))
    assert result.p_value.shape == (2, 2)
    assert (result.p_value > ALPHA).all(), result
    # Rows swapped: the test must notice.
    swapped = torch.softmax(logits.flip(1), -1)
    assert (goodness_of_fit(samples, swapped).p_value[0] < ALPHA).all()


def test_low_temperature_approaches_greedy_and_high_uniform():
    logits = torch.tensor([1.0, 3.0, 2.0, 2.9])
    cold = sample_categorical(logits, 2_000, temperature=1e-3, generator=seeded())
    assert (cold == 1).all()
    hot = sample_categorical(logits, 20_000, temperature=1e4, generator=seeded())
    assert goodness_of_fit(hot, torch.full((4,), 0.25)).p_value > ALPHA


def test_without_replacement_draws_distinct_categories():
    logits = torch.tensor([[0.0, 1.0, NEG_INF, 2.0, 0.5]] * 200)
    samples = sample_categorical(logits, 4, replacement=False, generator=seeded())
    for row in samples:
        assert len(set(row.tolist())) == 4
        assert 2 not in row.tolist()


def test_without_replacement_refuses_impossible_categories():
    logits = torch.tensor([0.0, NEG_INF, 1.0])
    with pytest.raises(
        ValueError, match=r"num_samples=3 is more than the 2 categories"
    ):
        sample_categorical(logits, 3, replacement=False)
    # Probabilities that underflow to exactly 0 count as impossible too.
    underflow = torch.tensor([0.0, -1000.0])
    with pytest.raises(ValueError, match="use replacement=True"):
        sample_categorical(underflow, 2, replacement=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"logits": torch.tensor([1, 2])}, TypeError, "floating-point tensor"),
        ({"logits": torch.tensor([float("nan"), 0.0])}, ValueError, "NaN"),
        ({"logits": torch.tensor([float("inf"), 0.0])}, ValueError, r"\+inf"),
        ({"logits": torch.full((2,), NEG_INF)}, ValueError, "all -inf"),
        ({"logits": torch.zeros(3, 0)}, ValueError, "empty category dimension"),
        (
            {"temperature": 0.0},
            ValueError,
            r"temperature must be a finite number > 0, got 0.0; use argmax",
        ),
        ({"temperature": -1.0}, ValueError, "temperature must be a finite number > 0"),
        (
            {"temperature": float("inf")},
            ValueError,
            "temperature must be a finite number > 0",
        ),
        (
            {"temperature": float("nan")},
            ValueError,
            "temperature must be a finite number > 0",
        ),
        ({"temperature": "hot"}, TypeError, "temperature must be a finite number > 0"),
        ({"num_samples": 0}, ValueError, "num_samples must be an integer >= 1, got 0"),
        ({"num_samples": 2.0}, TypeError, "num_samples must be an integer"),
        ({"replacement": "yes"}, TypeError, "replacement must be True or False"),
        ({"generator": 42}, TypeError, "generator must be a torch.Generator"),
    ],
)
def test_bad_input_is_named_with_the_fix(kwargs, error, message):
    arguments = {"logits": torch.tensor([0.0, 1.0]), "num_samples": 1} | kwargs
    with pytest.raises(error, match=message):
        sample_categorical(**arguments)
