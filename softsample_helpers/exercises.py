"""Check functions for the lesson exercises.

Each ``check_*`` function tests a learner's answer for real (it calls their
function on several inputs, extreme ones included, and compares with a
reference) and prints one line: ``Correct: ...`` or ``Not yet: <hint>``.
A wrong answer is part of learning, so it never raises; only calling a check
the wrong way (say, passing a number where a function is expected) raises a
``TypeError`` that says what to pass instead.

The functions are grouped by lesson, in the order the exercises appear.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from numbers import Real
from typing import Any

import torch

from softsample_helpers.numerics import exp_limits
from softsample_helpers.stats import goodness_of_fit

#: Below this p-value a learner's sampler is judged not to follow the
#: distribution. The draws use fixed seeds, so the verdict is deterministic;
#: a correct sampler lands far above it.
P_VALUE_FLOOR = 1e-4


# Shared plumbing ---------------------------------------------------------


def _report(ok: bool, message: str) -> None:
    """Print the verdict the learner reads."""
    print(("Correct: " if ok else "Not yet: ") + message)


def _require_callable(fn: object, what: str) -> None:
    """Raise a TypeError when a check meant for a function gets something else."""
    if not callable(fn):
        raise TypeError(
            f"pass your function itself, e.g. check(my_function), not "
            f"{type(fn).__name__}; this check expects {what}"
        )


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class _Wrong(Exception):
    """Raised inside a check to stop at the first problem, with its hint."""


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """Call the learner's function, turning its exceptions into a hint."""
    try:
        return fn(*args)
    except Exception as error:  # the learner's code may raise anything
        hint = f"your function raised {type(error).__name__}: {error}"
        if "size of tensor" in str(error):
            hint += "; for a batch, reduce with dim=-1, keepdim=True"
        raise _Wrong(hint) from error


def _as_tensor(result: object, expected_shape: tuple[int, ...]) -> torch.Tensor:
    """Check that a learner's result is a tensor of the expected shape."""
    if result is None:
        raise _Wrong(
            "your function returned None; finish it so that it returns a tensor"
        )
    if not isinstance(result, torch.Tensor):
        raise _Wrong(
            f"your function returned a {type(result).__name__}; return a torch.Tensor"
        )
    if tuple(result.shape) != expected_shape:
        raise _Wrong(
            f"for input of shape {expected_shape} your function returned shape "
            f"{tuple(result.shape)}; it should keep the shape (reduce with "
            f"dim=-1, keepdim=True)"
        )
    return result


@contextmanager
def _watching(names: tuple[str, ...]) -> Iterator[list[str]]:
    """Record calls to the torch functions ``names`` while the block runs.

    Exercises that ask the learner to write softmax themselves use this to
    notice a call to the built-in one. The built-ins keep working; the
    check only reports that they were used.
    """
    used: list[str] = []
    patched: list[tuple[object, str, object, bool]] = []

    def recorder(label: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            used.append(label)
            return original(*args, **kwargs)

        return wrapper

    owners: list[tuple[object, str]] = [
        (torch, "torch"),
        (torch.nn.functional, "torch.nn.functional"),
        (torch.special, "torch.special"),
        (torch.Tensor, "Tensor"),
    ]
    for owner, owner_label in owners:
        for name in names:
            if not hasattr(owner, name):
                continue
            own = name in vars(owner)
            original = getattr(owner, name)
            setattr(owner, name, recorder(f"{owner_label}.{name}", original))
            patched.append((owner, name, original, own))
    try:
        yield used
    finally:
        for owner, name, original, own in reversed(patched):
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)  # the method lives on a base class


def _grade(run: Callable[[], str]) -> None:
    """Run a grading routine and print its verdict."""
    try:
        message = run()
    except _Wrong as wrong:
        _report(False, str(wrong))
        return
    _report(True, message)


def _close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-6) -> bool:
    """Compare two results, treating matching infinities as equal."""
    a = a.detach().to(torch.float64)
    b = b.detach().to(torch.float64)
    if a.shape != b.shape:
        return False
    return bool(torch.allclose(a, b, rtol=1e-5, atol=atol, equal_nan=False))


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _as_shape(answer: object) -> tuple[int, ...] | None:
    """Read a shape given as a tuple, list or torch.Size; None otherwise."""
    if isinstance(answer, torch.Size | tuple | list) and all(
        isinstance(n, int) and not isinstance(n, bool) for n in answer
    ):
        return tuple(answer)
    return None


def _shape_check(answer: object, expected: tuple[int, ...], hints: dict) -> None:
    shape = _as_shape(answer)
    if shape is None:
        _report(False, "set answer to a shape, written as a tuple like (2, 3)")
    elif shape == expected:
        _report(True, f"the shape is {expected}.")
    else:
        _report(False, hints.get(shape, hints["default"]))


# 00 Start here -----------------------------------------------------------


def check_seeded_draw(fn: Callable[[int], torch.Tensor]) -> None:
    """Check ``fn(seed)``: three uniform numbers from a generator seeded with ``seed``.

    Parameters
    ----------
    fn : callable
        Takes an int seed and returns a float tensor of shape ``(3,)``.
    """
    _require_callable(fn, "a function seed -> tensor of 3 numbers")

    def run() -> str:
        # fork_rng leaves the learner's global random state as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(1)
            first = _as_tensor(_call(fn, 0), (3,))
            torch.manual_seed(2)
            again = _as_tensor(_call(fn, 0), (3,))
            other = _as_tensor(_call(fn, 1), (3,))
        if not torch.equal(first, again):
            raise _Wrong(
                "two calls with seed 0 gave different numbers, so the draw "
                "depends on the global random state; make "
                "generator = torch.Generator().manual_seed(seed) and pass "
                "generator=generator to torch.rand"
            )
        if torch.equal(first, other):
            raise _Wrong("seeds 0 and 1 gave the same numbers; use the seed")
        expected = torch.rand(3, generator=_generator(0))
        if not torch.equal(first, expected):
            raise _Wrong(
                "the draw is reproducible but not torch.rand(3, "
                "generator=torch.Generator().manual_seed(seed)); draw with "
                "torch.rand from a generator seeded with the seed"
            )
        return "the same seed gives the same numbers, whatever else ran before."

    _grade(run)


def check_batch_shape(answer: object) -> None:
    """Check the shape of logits for 4 sentences over a vocabulary of 10 tokens."""
    _shape_check(
        answer,
        (4, 10),
        {
            (10, 4): "the course puts the batch first: (batch, vocab)",
            (40,): "keep one row per sentence: two dimensions, (batch, vocab)",
            "default": "one row per sentence, one column per token: (batch, vocab)",
        },
    )


# 01 Softmax --------------------------------------------------------------

_ORDINARY_LOGITS = [
    torch.tensor([2.0, 1.0, 0.1]),
    torch.tensor([0.0, 0.0, 0.0, 0.0]),
    torch.tensor([-3.0, 5.0, 1.0, 0.5, 2.0]),
    torch.tensor([[1.0, 2.0, 3.0], [3.0, 0.0, -1.0], [0.5, 0.5, 4.0]]),
]


def check_softmax(fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check a learner's softmax written with ``torch.exp`` and a sum.

    Parameters
    ----------
    fn : callable
        Takes float32 logits of shape ``(vocab,)`` or ``(batch, vocab)`` and
        returns probabilities of the same shape, normalised along the last
        dimension.
    """
    _require_callable(fn, "a function logits -> probs")

    def run() -> str:
        with _watching(("softmax",)) as used:
            results = [_call(fn, logits.clone()) for logits in _ORDINARY_LOGITS]
        if used:
            raise _Wrong(
                f"you called {used[0]}; the exercise is to write it yourself "
                f"with torch.exp and .sum"
            )
        for logits, result in zip(_ORDINARY_LOGITS, results, strict=True):
            result = _as_tensor(result, tuple(logits.shape))
            expected = torch.softmax(logits, dim=-1)
            if _close(result, expected):
                continue
            if logits.dim() == 2 and _close(result.sum(), torch.tensor(1.0)):
                raise _Wrong(
                    "for a batch, each row must sum to 1, not the whole tensor; "
                    "sum with .sum(dim=-1, keepdim=True)"
                )
            raise _Wrong(
                f"for logits {logits.tolist()} your probabilities differ from "
                f"softmax; divide torch.exp(logits) by its sum"
            )
        return "your softmax matches torch.softmax on single rows and batches."

    _grade(run)


def check_temperature_softmax(
    fn: Callable[[torch.Tensor, float], torch.Tensor],
) -> None:
    """Check ``fn(logits, temperature)``: softmax of ``logits / temperature``.

    Parameters
    ----------
    fn : callable
        Takes float32 logits of shape ``(vocab,)`` or ``(batch, vocab)`` and a
        float temperature > 0; returns probabilities of the same shape.
    """
    _require_callable(fn, "a function (logits, temperature) -> probs")

    def run() -> str:
        for temperature in (0.5, 1.0, 2.0, 10.0):
            for logits in _ORDINARY_LOGITS:
                result = _as_tensor(
                    _call(fn, logits.clone(), temperature), tuple(logits.shape)
                )
                expected = torch.softmax(logits / temperature, dim=-1)
                if _close(result, expected):
                    continue
                if _close(result, torch.softmax(logits * temperature, dim=-1)):
                    raise _Wrong(
                        "you multiplied by the temperature; divide the logits "
                        "by it, so that a high temperature flattens"
                    )
                if _close(result, torch.softmax(logits, dim=-1)):
                    raise _Wrong(
                        f"with temperature={temperature} you returned plain "
                        f"softmax(logits); divide the logits by the temperature "
                        f"first"
                    )
                raise _Wrong(
                    f"with temperature={temperature} and logits "
                    f"{logits.tolist()} the result differs from "
                    f"softmax(logits / temperature)"
                )
        return "dividing by the temperature before softmax, as it should be."

    _grade(run)


def check_entropy_answer(value: object) -> None:
    """Check the largest entropy, in nats, of a distribution over 5 categories."""
    expected = math.log(5)
    if not _is_number(value):
        _report(False, "set answer to a number, e.g. answer = 1.0")
    elif abs(float(value) - expected) < 1e-3:  # type: ignore[arg-type]
        _report(True, f"log(5) = {expected:.4f} nats, reached by the uniform 1/5.")
    elif abs(float(value) - math.log2(5)) < 1e-3:  # type: ignore[arg-type]
        _report(False, "that is in bits; the course measures entropy in nats (ln)")
    else:
        _report(
            False,
            "the largest entropy belongs to the uniform distribution; compute "
            "-sum(p * log p) with every p = 1/5",
        )


# 02 Extreme logits -------------------------------------------------------

_EXTREME_CASES = [
    torch.tensor([2.0, 1.0, 0.1]),
    torch.tensor([1000.0, 0.0, -1000.0]),
    torch.tensor([89.0, 1.0, 0.0]),
    torch.tensor([-1000.0, -1001.0, -1002.0]),
    torch.tensor([3.0, float("-inf"), 1.0]),
    torch.tensor([[1000.0, 999.0, 0.0], [-1000.0, -1001.0, -1003.0]]),
]


def check_stable_softmax(fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check a learner's max-subtracting softmax on ordinary and extreme logits.

    Parameters
    ----------
    fn : callable
        Takes float32 logits of shape ``(vocab,)`` or ``(batch, vocab)``, with
        entries as large as +-1000 or ``-inf``; returns probabilities of the
        same shape without NaN.
    """
    _require_callable(fn, "a function logits -> probs")

    def run() -> str:
        with _watching(("softmax", "log_softmax")) as used:
            results = [_call(fn, logits.clone()) for logits in _EXTREME_CASES]
        if used:
            raise _Wrong(
                f"you called {used[0]}; write the max subtraction yourself with "
                f"amax, torch.exp and .sum"
            )
        for logits, result in zip(_EXTREME_CASES, results, strict=True):
            result = _as_tensor(result, tuple(logits.shape))
            if _close(result, torch.softmax(logits, dim=-1)):
                continue
            if torch.isnan(result).any():
                if logits.dim() == 2:
                    raise _Wrong(
                        "a batch row came out NaN; subtract each row's own "
                        "maximum, logits.amax(dim=-1, keepdim=True), not the "
                        "maximum of the whole tensor"
                    )
                raise _Wrong(
                    f"logits {logits.tolist()} give NaN; subtract the largest "
                    f"logit before torch.exp, so no exp can overflow"
                )
            raise _Wrong(
                f"for logits {logits.tolist()} your probabilities differ from "
                f"softmax; exp(logits - max) divided by its sum along dim=-1"
            )
        return "no NaN at +-1000, masked -inf entries and per-row batches."

    _grade(run)


def _first_overflowing_integer(dtype: torch.dtype) -> int:
    n = math.floor(exp_limits(dtype).overflow)
    while not torch.isinf(torch.exp(torch.tensor(float(n), dtype=dtype))):
        n += 1
    return n


def check_overflow_answer(value: object) -> None:
    """Check the smallest whole-number logit whose ``exp`` is inf in float16."""
    expected = _first_overflowing_integer(torch.float16)
    if not isinstance(value, int) or isinstance(value, bool):
        _report(False, "set answer to a whole number, e.g. answer = 10")
    elif value == expected:
        _report(True, f"exp({expected}) is inf in float16; exp({expected - 1}) is not.")
    elif value == _first_overflowing_integer(torch.float32):
        _report(False, "that is float32's limit; look at exp_limits(torch.float16)")
    elif value < expected:
        _report(
            False,
            f"exp({value}) is still finite in float16; try larger numbers "
            f"(exp_limits(torch.float16).overflow tells you where to look)",
        )
    else:
        _report(False, f"exp({value - 1}) already overflows in float16; go lower")


def _largest_visible_gap() -> int:
    """Largest whole gap d with softmax([0, -d]) > 0 in float32."""
    d = math.floor(-exp_limits(torch.float32).zero) + 1
    while torch.softmax(torch.tensor([0.0, -float(d)]), dim=-1)[1] == 0:
        d -= 1
    return d


def check_zero_gap_answer(value: object) -> None:
    """Check the largest gap below the top logit that keeps a probability above 0."""
    expected = _largest_visible_gap()
    limits = exp_limits(torch.float32)
    if not isinstance(value, int) or isinstance(value, bool):
        _report(False, "set answer to a whole number, e.g. answer = 50")
    elif value == expected:
        _report(
            True,
            f"a logit {expected} below the top still gets a (subnormal) "
            f"probability; at {expected + 1} it is exactly 0.",
        )
    elif value in (math.floor(-limits.subnormal), math.ceil(-limits.subnormal)):
        _report(
            False,
            "below that gap the probability turns subnormal, but subnormal "
            "numbers are still above 0; look at exp_limits(torch.float32).zero",
        )
    elif value < expected:
        _report(False, f"a gap of {value + 1} still gives a probability above 0")
    else:
        _report(False, f"at a gap of {value} the probability is already exactly 0")


# 03 Log-softmax ----------------------------------------------------------


def check_round_trip_answer(answer: object) -> None:
    """Check True/False: exp(log_softmax) is more stable than softmax for sampling."""
    if not isinstance(answer, bool):
        _report(False, "set answer to True or False")
    elif answer is False:
        _report(
            True,
            "both give the same probabilities; torch.softmax already "
            "subtracts the max.",
        )
    else:
        _report(
            False,
            "look at the largest difference printed earlier: the two agree to "
            "float32 rounding, because torch.softmax already subtracts the max",
        )


def check_log_softmax(fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check a learner's log_softmax: finite where log(softmax) gives -inf.

    Parameters
    ----------
    fn : callable
        Takes float32 logits of shape ``(vocab,)`` or ``(batch, vocab)``;
        returns log-probabilities of the same shape.
    """
    _require_callable(fn, "a function logits -> log_probs")
    cases = [case for case in _EXTREME_CASES if torch.isfinite(case).all()]

    def run() -> str:
        with _watching(("log_softmax", "softmax")) as used:
            results = [_call(fn, logits.clone()) for logits in cases]
        if used:
            raise _Wrong(
                f"you called {used[0]}; build it from the logits and "
                f"torch.logsumexp instead"
            )
        for logits, result in zip(cases, results, strict=True):
            result = _as_tensor(result, tuple(logits.shape))
            expected = torch.log_softmax(logits, dim=-1)
            if _close(result, expected, atol=1e-4):
                continue
            if torch.isnan(result).any():
                raise _Wrong(
                    f"for logits {logits.tolist()} you got NaN: exp overflowed; "
                    f"subtract torch.logsumexp(logits, dim=-1, keepdim=True) "
                    f"from the logits instead"
                )
            if torch.isneginf(result).any():
                raise _Wrong(
                    f"for logits {logits.tolist()} you got -inf: log of a "
                    f"probability that rounded to 0; compute logits - "
                    f"torch.logsumexp(logits, dim=-1, keepdim=True) instead"
                )
            raise _Wrong(
                f"for logits {logits.tolist()} your log-probabilities differ "
                f"from log_softmax; subtract torch.logsumexp(logits, dim=-1, "
                f"keepdim=True) from the logits"
            )
        return "finite log-probabilities, even 2000 below the top."

    _grade(run)


def check_gumbel_max(
    fn: Callable[[torch.Tensor, int, torch.Generator], torch.Tensor],
) -> None:
    """Check a Gumbel-max sampler ``fn(logits, num_samples, generator)``.

    The draws are tested with Pearson's chi-square against
    ``softmax(logits)`` (fixed seeds, so the verdict is reproducible).

    Parameters
    ----------
    fn : callable
        Takes float32 logits of shape ``(vocab,)``, an int ``num_samples``
        and a ``torch.Generator``; returns int64 indices of shape
        ``(num_samples,)``.
    """
    _require_callable(fn, "a function (logits, num_samples, generator) -> indices")
    cases = [
        torch.tensor([2.0, 1.0, 0.1, -1.0]),
        torch.tensor([0.0, 0.0, 0.0]),
        torch.tensor([-1000.0, -1000.5, -1002.0]),
    ]
    num_samples = 20_000

    def run() -> str:
        for seed, logits in enumerate(cases):
            samples = _as_tensor(
                _call(fn, logits.clone(), num_samples, _generator(seed)),
                (num_samples,),
            )
            if samples.is_floating_point() or samples.dtype == torch.bool:
                raise _Wrong(
                    f"return category indices (int64), got dtype {samples.dtype}"
                )
            again = _call(fn, logits.clone(), num_samples, _generator(seed))
            if not torch.equal(samples, again):
                raise _Wrong(
                    "the same seed gave different samples; pass "
                    "generator=generator to torch.rand"
                )
            if samples.min() < 0 or samples.max() >= logits.numel():
                raise _Wrong("indices must lie in 0..vocab-1; take argmax(dim=-1)")
            if samples.unique().numel() == 1 and logits.std() > 0:
                raise _Wrong(
                    "every sample is the same category; add fresh Gumbel noise "
                    "for each sample before taking argmax"
                )
            fit = goodness_of_fit(samples, torch.softmax(logits, dim=-1))
            if fit.p_value < P_VALUE_FLOOR:
                raise _Wrong(
                    f"for logits {logits.tolist()} the draws do not follow "
                    f"softmax(logits) (chi-square p = {fit.p_value:.1e}); add "
                    f"-log(-log(u)) to the logits, with u uniform in (0, 1), "
                    f"then take argmax"
                )
        return "your draws follow softmax(logits), even at logits near -1000."

    _grade(run)


# 04 Multinomial sampling -------------------------------------------------


def check_multinomial_shape(answer: object) -> None:
    """Check the output shape of torch.multinomial for probs (8, 50), 3 samples."""
    _shape_check(
        answer,
        (8, 3),
        {
            (3, 8): "the batch comes first: (batch, num_samples)",
            (8, 50): "multinomial returns indices, not probabilities: "
            "(batch, num_samples)",
            (8, 50, 3): "one index per sample, not one per category: "
            "(batch, num_samples)",
            (3,): "each row of the batch gets its own samples: (batch, num_samples)",
            "default": "one row per distribution, one column per sample",
        },
    )


def check_batch_sampler(
    fn: Callable[[torch.Tensor, float, int, torch.Generator], torch.Tensor],
) -> None:
    """Check ``fn(logits, temperature, num_samples, generator)`` on a batch.

    Every row of the result is tested with Pearson's chi-square against
    ``softmax(logits / temperature)`` (fixed seeds, reproducible verdict).

    Parameters
    ----------
    fn : callable
        Takes float32 logits of shape ``(batch, vocab)``, a temperature > 0,
        an int ``num_samples`` (possibly larger than ``vocab``) and a
        ``torch.Generator``; returns int64 indices of shape
        ``(batch, num_samples)``.
    """
    _require_callable(
        fn, "a function (logits, temperature, num_samples, generator) -> indices"
    )
    logits = torch.tensor(
        [
            [2.0, 1.0, 0.0, -1.0, 0.5],
            [0.0, 0.0, 3.0, 0.0, 0.0],
            [1.0, 2.0, 3.0, 4.0, 5.0],
        ]
    )
    num_samples = 4_000

    def run() -> str:
        for seed, temperature in enumerate((1.0, 0.5, 2.0)):
            samples = _as_tensor(
                _call(fn, logits.clone(), temperature, num_samples, _generator(seed)),
                (logits.shape[0], num_samples),
            )
            if samples.is_floating_point() or samples.dtype == torch.bool:
                raise _Wrong(f"return category indices, got dtype {samples.dtype}")
            again = _call(
                fn, logits.clone(), temperature, num_samples, _generator(seed)
            )
            if not torch.equal(samples, again):
                raise _Wrong(
                    "the same seed gave different samples; pass "
                    "generator=generator to torch.multinomial"
                )
            target = torch.softmax(logits / temperature, dim=-1)
            fit = goodness_of_fit(samples, target)
            if bool((fit.p_value >= P_VALUE_FLOOR).all()):  # type: ignore[union-attr]
                continue
            plain = goodness_of_fit(samples, torch.softmax(logits, dim=-1))
            if temperature != 1.0 and bool(
                (plain.p_value >= P_VALUE_FLOOR).all()  # type: ignore[union-attr]
            ):
                raise _Wrong(
                    f"with temperature={temperature} the draws follow "
                    f"softmax(logits); divide the logits by the temperature"
                )
            raise _Wrong(
                f"with temperature={temperature} some rows do not follow "
                f"softmax(logits / temperature); sample with torch.multinomial"
                f"(probs, num_samples, replacement=True, generator=generator)"
            )
        return "every row follows its own distribution, at every temperature."

    _grade(run)


def check_without_replacement_answer(value: object) -> None:
    """Check how many draws without replacement logits with two -inf allow."""
    logits = torch.tensor([2.0, 0.5, float("-inf"), 1.0, float("-inf"), 0.0])
    expected = int((torch.softmax(logits, dim=-1) > 0).sum())
    if not isinstance(value, int) or isinstance(value, bool):
        _report(False, "set answer to a whole number, e.g. answer = 2")
    elif value == expected:
        _report(True, f"{expected} categories have a probability above 0.")
    elif value == logits.numel():
        _report(False, "a logit of -inf gets probability exactly 0; count the others")
    else:
        _report(
            False,
            "count the categories whose probability is above 0: "
            "(torch.softmax(logits, -1) > 0).sum()",
        )
