"""Softmax variants, exp limits and entropy."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from softsample_helpers import entropy, exp_limits, naive_softmax, stable_softmax

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
# Loose enough for half precision, tight enough to catch a wrong formula.
TOLERANCE = {
    torch.float16: 2e-3,
    torch.bfloat16: 1e-2,
    torch.float32: 1e-6,
    torch.float64: 1e-12,
}


def logit_rows(max_batch_dims: int = 3, min_value: float = -50, max_value: float = 50):
    """Hypothesis strategy: float64 tensors of shape (*batch, vocab)."""

    @st.composite
    def build(draw):
        batch = draw(st.lists(st.integers(1, 3), max_size=max_batch_dims))
        vocab = draw(st.integers(1, 8))
        numel = math.prod(batch) * vocab
        values = draw(
            st.lists(
                st.floats(min_value, max_value, allow_nan=False),
                min_size=numel,
                max_size=numel,
            )
        )
        return torch.tensor(values, dtype=torch.float64).reshape(*batch, vocab)

    return build()


@given(logit_rows())
def test_stable_softmax_rows_sum_to_one_and_are_positive(logits):
    probs = stable_softmax(logits)
    assert probs.shape == logits.shape
    assert torch.allclose(
        probs.sum(-1), torch.ones(logits.shape[:-1], dtype=torch.float64)
    )
    assert (probs > 0).all()


@given(logit_rows(), st.floats(-1e3, 1e3))
def test_stable_softmax_is_shift_invariant(logits, shift):
    assert torch.allclose(
        stable_softmax(logits), stable_softmax(logits + shift), atol=1e-10
    )


@given(logit_rows(max_batch_dims=1))
def test_stable_softmax_keeps_the_order(logits):
    probs = stable_softmax(logits)
    bigger = logits.unsqueeze(-1) > logits.unsqueeze(-2)
    assert (probs.unsqueeze(-1) >= probs.unsqueeze(-2))[bigger].all()


@pytest.mark.parametrize("dtype", DTYPES)
@given(logits=logit_rows(min_value=-200, max_value=200))
def test_stable_softmax_agrees_with_torch_across_dtypes(dtype, logits):
    logits = logits.to(dtype)
    ours = stable_softmax(logits).double()
    reference = torch.softmax(logits.double(), dim=-1)
    assert ours.dtype == torch.float64
    assert (ours - reference).abs().max() <= TOLERANCE[dtype]


def test_stable_softmax_handles_what_breaks_the_naive_one():
    logits = torch.tensor([1000.0, 0.0, -1000.0])
    assert torch.isnan(naive_softmax(logits)).any()
    assert stable_softmax(logits).tolist() == [1.0, 0.0, 0.0]
    very_negative = torch.tensor([-1000.0, -1001.0])
    assert torch.isnan(naive_softmax(very_negative)).all()
    assert torch.allclose(
        stable_softmax(very_negative), torch.softmax(very_negative, -1)
    )


def test_stable_softmax_respects_dim_and_masks():
    logits = torch.tensor([[0.0, 1.0], [float("-inf"), 2.0]])
    by_column = stable_softmax(logits, dim=0)
    assert torch.allclose(by_column, torch.softmax(logits, dim=0))
    assert stable_softmax(logits)[1].tolist() == [0.0, 1.0]


def test_naive_softmax_is_the_textbook_formula_where_it_works():
    logits = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    assert torch.allclose(naive_softmax(logits), torch.softmax(logits, -1))


def test_float32_overflow_starts_at_89():
    assert not torch.isnan(naive_softmax(torch.tensor([88.0, 0.0]))).any()
    assert torch.isnan(naive_softmax(torch.tensor([89.0, 0.0]))).any()


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (torch.float32, (88.72, -87.34, -103.97)),
        (torch.float16, (11.09, -9.70, -17.33)),
        (torch.float64, (709.78, -708.40, -745.13)),
        (torch.bfloat16, (88.72, -87.34, -92.88)),
    ],
)
def test_exp_limits_match_known_values(dtype, expected):
    limits = exp_limits(dtype)
    assert limits == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_limits_describe_what_exp_really_does(dtype):
    info = torch.finfo(dtype)
    limits = exp_limits(dtype)

    def exp_at(x: float) -> float:
        return torch.exp(torch.tensor(x, dtype=torch.float64).to(dtype)).item()

    assert math.isinf(exp_at(limits.overflow + 0.5))
    assert math.isfinite(exp_at(limits.overflow - 0.5))
    assert 0 < exp_at(limits.subnormal - 0.5) < info.tiny
    assert exp_at(limits.subnormal + 0.5) >= info.tiny
    assert exp_at(limits.zero - 0.5) == 0.0
    assert exp_at(limits.zero + 0.5) > 0.0


def test_exp_limits_rejects_other_dtypes():
    with pytest.raises(TypeError, match="dtype must be one of"):
        exp_limits(torch.int32)


def test_entropy_ranges_from_zero_to_log_vocab():
    assert entropy(torch.tensor([0.0, 1.0, 0.0])).item() == 0.0
    uniform = torch.full((2, 5), 0.2, dtype=torch.float64)
    assert torch.allclose(
        entropy(uniform), torch.full((2,), math.log(5), dtype=torch.float64)
    )


@pytest.mark.parametrize("function", [naive_softmax, stable_softmax])
@pytest.mark.parametrize(
    ("logits", "error", "message"),
    [
        ([1.0, 2.0], TypeError, "logits must be a torch.Tensor"),
        (torch.tensor([1, 2]), TypeError, r"floating-point tensor.*logits.float\(\)"),
        (torch.tensor(1.0), ValueError, "at least one dimension"),
        (torch.zeros(2, 0), ValueError, "empty category dimension"),
        (torch.tensor([1.0, float("nan")]), ValueError, "logits contains NaN"),
        (torch.tensor([1.0, float("inf")]), ValueError, r"logits contains \+inf"),
        (
            torch.tensor([[0.0, 1.0], [float("-inf"), float("-inf")]]),
            ValueError,
            r"all -inf \(row 1\)",
        ),
    ],
)
def test_softmax_rejects_bad_logits_by_name(function, logits, error, message):
    with pytest.raises(error, match=message):
        function(logits)


def test_softmax_rejects_a_dim_out_of_range():
    with pytest.raises(ValueError, match="dim=2 is out of range"):
        stable_softmax(torch.zeros(2, 3), dim=2)
