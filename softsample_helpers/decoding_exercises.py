"""Check functions for the exercises of lessons 05 and 06.

Like ``softsample_helpers.exercises`` (lessons 00-04), each ``check_*``
function tests a learner's answer for real and prints one line,
``Correct: ...`` or ``Not yet: <hint>``. A wrong answer never raises; only
calling a check the wrong way raises a ``TypeError`` saying what to pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import Any, cast

import torch

from softsample_helpers.decoding import example_next_token_logits, filter_logits
from softsample_helpers.exercises import (
    P_VALUE_FLOOR,
    _as_tensor,
    _call,
    _generator,
    _grade,
    _is_number,
    _report,
    _require_callable,
    _Wrong,
)
from softsample_helpers.stats import goodness_of_fit

NEG_INF = float("-inf")


def _same_filter(result: torch.Tensor, expected: torch.Tensor) -> bool:
    """Same kept set, and the kept logits unchanged."""
    kept = torch.isfinite(expected)
    if not torch.equal(torch.isfinite(result), kept):
        return False
    return bool(torch.allclose(result[kept].double(), expected[kept].double()))


def _check_filter(
    fn: Callable[[torch.Tensor, Any], torch.Tensor],
    cases: list[tuple[torch.Tensor, Any, str]],
    reference: Callable[[torch.Tensor, Any], torch.Tensor],
    name: str,
) -> str:
    """Compare a learner's filter with ``filter_logits`` case by case."""
    for logits, setting, hint in cases:
        result = _as_tensor(_call(fn, logits.clone(), setting), tuple(logits.shape))
        if not result.is_floating_point():
            raise _Wrong("return the logits (a float tensor), with -inf where cut")
        expected = reference(logits, setting)
        if not _same_filter(result, expected):
            kept = torch.isfinite(result).sum().item()
            want = torch.isfinite(expected).sum().item()
            raise _Wrong(
                f"for logits {logits.double().round(decimals=3).tolist()} and "
                f"{name}={setting} you keep "
                f"{kept} categories, not {want}; {hint}"
            )
    return "your filter keeps the same tokens as filter_logits, ties included."


# 05 Decoding strategies -----------------------------------------------------


def check_top_k_filter(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> None:
    """Check ``fn(logits, k)``: top-k filtering, cut logits set to ``-inf``.

    Parameters
    ----------
    fn : callable
        Takes float32 logits of shape ``(vocab,)`` or ``(batch, vocab)`` and
        an int ``k``; returns logits of the same shape with every category
        below the k-th largest logit of its row set to ``-inf`` (ties with
        the k-th are kept).
    """
    _require_callable(fn, "a function (logits, k) -> filtered logits")
    cases = [
        (torch.tensor([1.0, 3.0, 2.0, 0.5]), 2, "keep the k largest logits"),
        (
            torch.tensor([[0.1, -2.0, 4.0, 1.0], [5.0, 4.0, 3.0, 2.0]]),
            1,
            "filter each row on its own (topk(..., dim=-1) and keepdim)",
        ),
        (
            torch.tensor([2.0, 1.0, 1.0, 1.0, 0.0]),
            2,
            "keep every category tied with the k-th largest: compare with "
            "logits >= kth_value",
        ),
        (
            torch.tensor([0.0, 1.0, NEG_INF]),
            5,
            "when k is larger than the vocabulary, keep everything (use min(k, vocab))",
        ),
    ]
    _grade(
        lambda: _check_filter(fn, cases, lambda x, k: filter_logits(x, top_k=k), "k")
    )


def check_min_p_filter(fn: Callable[[torch.Tensor, float], torch.Tensor]) -> None:
    """Check ``fn(logits, min_p)``: keep tokens with ``p >= min_p * p_max``.

    Parameters
    ----------
    fn : callable
        Takes float32 logits of shape ``(vocab,)`` or ``(batch, vocab)`` and
        a float ``min_p`` in (0, 1); returns logits of the same shape with
        the cut categories set to ``-inf``.
    """
    _require_callable(fn, "a function (logits, min_p) -> filtered logits")
    cases = [
        (
            torch.tensor([2.0, 1.0, 0.0, -1.0, -3.0]),
            0.2,
            "compare each probability with min_p times the largest one",
        ),
        (
            torch.tensor([[3.0, 2.9, -5.0], [0.0, -0.5, -4.0]]),
            0.5,
            "take the largest probability of each row (amax(dim=-1, keepdim=True))",
        ),
        (
            torch.tensor([1000.0, 999.0, 990.0]),
            0.3,
            "use softmax (or logits - max), not exp(logits), which overflows",
        ),
    ]
    _grade(
        lambda: _check_filter(
            fn, cases, lambda x, p: filter_logits(x, min_p=p), "min_p"
        )
    )


def _nucleus_size(top_p: float) -> int:
    logits, _ = example_next_token_logits()
    return int(torch.isfinite(filter_logits(logits, top_p=top_p)).sum())


def check_nucleus_size_answer(value: object) -> None:
    """Check the number of tokens top-p = 0.5 keeps of the lesson's distribution."""
    if not _is_number(value) or not float(cast(Real, value)).is_integer():
        _report(False, "set answer to a whole number of tokens")
        return
    expected = _nucleus_size(0.5)
    answer = int(float(cast(Real, value)))
    if answer == expected:
        _report(
            True,
            f"top-p = 0.5 keeps {expected} tokens; half the probability sits in "
            f"a handful of words.",
        )
    elif answer == expected - 1:
        _report(
            False,
            "one short: keep tokens while the mass *before* them is below 0.5, "
            "so the token that crosses 0.5 is kept too",
        )
    elif answer == _nucleus_size(0.9):
        _report(False, "that is the count for top_p=0.9; the exercise asks for 0.5")
    else:
        _report(
            False,
            "sort the probabilities, take cumsum, and count the tokens whose mass "
            "before them is below 0.5 (or count what filter_logits keeps)",
        )


# 06 Sampling at scale -------------------------------------------------------


def check_random_number_count_answer(answer: object) -> None:
    """Check ``(for multinomial, for inverse CDF)`` at shape ``(32, 128000)``."""
    expected = (32 * 128_000, 32)
    if not (
        isinstance(answer, tuple | list)
        and len(answer) == 2
        and all(_is_number(n) for n in answer)
    ):
        _report(False, "set answer to two numbers, like (1000, 10)")
        return
    multinomial, inverse = (int(float(cast(Real, n))) for n in answer)
    if (multinomial, inverse) == expected:
        _report(
            True,
            f"{expected[0]:,} exponential numbers against {expected[1]} uniforms: "
            f"one per category against one per row.",
        )
    elif multinomial != expected[0]:
        _report(
            False,
            "torch.multinomial(probs, 1) draws one number per category in every "
            "row: rows times vocabulary",
        )
    else:
        _report(False, "the inverse-CDF method needs one uniform per row (per draw)")


def check_float32_step_answer(value: object) -> None:
    """Check the smallest power of ten that changes ``0.9`` in float32."""
    if not _is_number(value) or not float(cast(Real, value)) > 0:
        _report(False, "set answer to a positive number such as 1e-5")
        return
    step = float(cast(Real, value))
    exponent = math.log10(step)
    if not math.isclose(exponent, round(exponent), abs_tol=1e-9):
        _report(False, "give a power of ten: 1e-6, 1e-7, 1e-8, ...")
        return
    base = torch.tensor(0.9, dtype=torch.float32)
    changes = bool(base + step != base)
    smaller_changes = bool(base + step / 10 != base)
    if changes and not smaller_changes:
        _report(
            True,
            f"0.9 + {step:g} is a new float32 number, 0.9 + {step / 10:g} is "
            f"not: near 0.9 float32 steps are 2**-24, about 6e-8, so smaller "
            f"probabilities vanish from a float32 running sum.",
        )
    elif changes:
        _report(False, "a smaller power of ten still changes 0.9; go smaller")
    else:
        _report(False, "0.9 plus that is still 0.9 in float32; go larger")


def check_inverse_cdf_sampler(
    fn: Callable[[torch.Tensor, torch.Generator], torch.Tensor],
) -> None:
    """Check ``fn(probs, generator)``: one inverse-CDF draw per row.

    Parameters
    ----------
    fn : callable
        Takes float32 probabilities of shape ``(rows, vocab)`` and a
        ``torch.Generator``; returns int64 indices of shape ``(rows, 1)``.
    """
    _require_callable(fn, "a function (probs, generator) -> indices of shape (rows, 1)")
    rows = 20_000
    cases = [
        torch.tensor([0.5, 0.25, 0.125, 0.125]),
        torch.tensor([0.0, 0.3, 0.0, 0.0, 0.7, 0.0]),  # zeros at both ends
        torch.softmax(torch.linspace(4.0, -4.0, 300), dim=-1),
    ]

    def run() -> str:
        for seed, probs in enumerate(cases):
            batch = probs.expand(rows, -1).contiguous()
            samples = _as_tensor(_call(fn, batch, _generator(seed)), (rows, 1))
            if samples.is_floating_point() or samples.dtype == torch.bool:
                raise _Wrong("return indices (int64), e.g. from torch.searchsorted")
            again = _call(fn, batch, _generator(seed))
            if not torch.equal(samples, again):
                raise _Wrong("the same seed gave different draws; pass the generator")
            if samples.min() < 0 or samples.max() >= probs.numel():
                raise _Wrong(
                    "an index fell outside the vocabulary; scale the uniform by the "
                    "row total and use searchsorted(cdf, u, right=True)"
                )
            samples = samples.reshape(-1)
            if (probs[samples] == 0).any():
                raise _Wrong(
                    "you drew a category of probability 0; use right=True in "
                    "searchsorted so that u lands after ties in the cumulative sum"
                )
            fit = goodness_of_fit(samples, probs.double() / probs.double().sum())
            if fit.p_value < P_VALUE_FLOOR:
                raise _Wrong(
                    f"the draws do not follow probs (chi-square p = "
                    f"{fit.p_value:.1e}); compare each row's uniform u * total "
                    f"with the cumulative sum"
                )
        return "one uniform per row finds the right token, zeros never drawn."

    _grade(run)
