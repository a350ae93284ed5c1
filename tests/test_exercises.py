"""Every exercise check: a right answer prints Correct, a wrong one a hint.

The wrong answers are the mistakes a learner is likely to make; each test
names the hint it expects, so a check that stopped looking at the answer
(or gave a useless hint) fails here.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

from softsample_helpers import exercises


def verdict(capsys: pytest.CaptureFixture[str], check: Callable, answer: object) -> str:
    """Run a check and return the one line it printed."""
    check(answer)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    return out.strip()


def assert_correct(
    capsys: pytest.CaptureFixture[str], check: Callable, answer: object
) -> None:
    line = verdict(capsys, check, answer)
    assert line.startswith("Correct: "), line


def assert_hint(
    capsys: pytest.CaptureFixture[str], check: Callable, answer: object, hint: str
) -> None:
    line = verdict(capsys, check, answer)
    assert line.startswith("Not yet: "), line
    assert hint in line, line


# 00 Start here -----------------------------------------------------------


def test_seeded_draw(capsys: pytest.CaptureFixture[str]) -> None:
    def right(seed: int) -> torch.Tensor:
        return torch.rand(3, generator=torch.Generator().manual_seed(seed))

    assert_correct(capsys, exercises.check_seeded_draw, right)
    assert_hint(capsys, exercises.check_seeded_draw, lambda seed: None, "returned None")
    assert_hint(
        capsys, exercises.check_seeded_draw, lambda seed: torch.rand(3), "generator"
    )
    assert_hint(
        capsys,
        exercises.check_seeded_draw,
        lambda seed: torch.rand(3, generator=torch.Generator().manual_seed(7)),
        "use the seed",
    )
    assert_hint(
        capsys,
        exercises.check_seeded_draw,
        lambda seed: torch.randn(3, generator=torch.Generator().manual_seed(seed)),
        "torch.rand",
    )
    assert_hint(capsys, exercises.check_seeded_draw, lambda seed: 1 / 0, "raised")


def test_seeded_draw_leaves_global_state_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(2)
    torch.manual_seed(123)
    exercises.check_seeded_draw(lambda seed: torch.rand(3))
    assert torch.equal(torch.rand(2), expected)


def test_batch_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert_correct(capsys, exercises.check_batch_shape, (4, 10))
    assert_correct(capsys, exercises.check_batch_shape, torch.Size([4, 10]))
    assert_hint(capsys, exercises.check_batch_shape, (10, 4), "batch first")
    assert_hint(capsys, exercises.check_batch_shape, None, "tuple")
    assert_hint(capsys, exercises.check_batch_shape, (4, 9), "one row per sentence")


# 01 Softmax --------------------------------------------------------------


def test_softmax(capsys: pytest.CaptureFixture[str]) -> None:
    def right(logits: torch.Tensor) -> torch.Tensor:
        exps = torch.exp(logits)
        return exps / exps.sum(dim=-1, keepdim=True)

    def whole_sum(logits: torch.Tensor) -> torch.Tensor:
        return torch.exp(logits) / torch.exp(logits).sum()

    assert_correct(capsys, exercises.check_softmax, right)
    assert_hint(capsys, exercises.check_softmax, lambda x: None, "returned None")
    assert_hint(capsys, exercises.check_softmax, whole_sum, "each row must sum to 1")
    assert_hint(capsys, exercises.check_softmax, lambda x: x / x.sum(), "torch.exp")
    assert_hint(
        capsys, exercises.check_softmax, lambda x: torch.softmax(x, -1), "torch.softmax"
    )
    assert_hint(
        capsys, exercises.check_softmax, lambda x: x.softmax(-1), "Tensor.softmax"
    )
    assert_hint(capsys, exercises.check_softmax, lambda x: x.tolist(), "list")


def test_softmax_check_restores_torch() -> None:
    original = torch.softmax
    exercises.check_softmax(lambda x: torch.softmax(x, -1))
    assert torch.softmax is original
    assert "softmax" not in vars(torch.Tensor)


def test_check_needs_a_function() -> None:
    with pytest.raises(TypeError, match="pass your function itself"):
        exercises.check_softmax(torch.tensor([1.0]))  # type: ignore[arg-type]


def test_temperature_softmax(capsys: pytest.CaptureFixture[str]) -> None:
    check = exercises.check_temperature_softmax
    assert_correct(capsys, check, lambda x, t: torch.softmax(x / t, -1))
    assert_hint(capsys, check, lambda x, t: torch.softmax(x * t, -1), "multiplied")
    assert_hint(capsys, check, lambda x, t: torch.softmax(x, -1), "plain softmax")
    assert_hint(capsys, check, lambda x, t: torch.softmax(x / t**2, -1), "differs")


def test_entropy_answer(capsys: pytest.CaptureFixture[str]) -> None:
    check = exercises.check_entropy_answer
    assert_correct(capsys, check, math.log(5))
    assert_correct(capsys, check, 1.6094)
    assert_hint(capsys, check, math.log2(5), "bits")
    assert_hint(capsys, check, 0.2, "uniform")
    assert_hint(capsys, check, None, "a number")
    assert_hint(capsys, check, True, "a number")


# 02 Extreme logits -------------------------------------------------------


def test_stable_softmax(capsys: pytest.CaptureFixture[str]) -> None:
    def right(logits: torch.Tensor) -> torch.Tensor:
        exps = torch.exp(logits - logits.amax(dim=-1, keepdim=True))
        return exps / exps.sum(dim=-1, keepdim=True)

    def global_max(logits: torch.Tensor) -> torch.Tensor:
        exps = torch.exp(logits - logits.max())
        return exps / exps.sum(dim=-1, keepdim=True)

    def naive(logits: torch.Tensor) -> torch.Tensor:
        return torch.exp(logits) / torch.exp(logits).sum(dim=-1, keepdim=True)

    check = exercises.check_stable_softmax
    assert_correct(capsys, check, right)
    assert_hint(capsys, check, naive, "subtract the largest logit")
    assert_hint(capsys, check, global_max, "each row's own maximum")
    assert_hint(capsys, check, lambda x: torch.softmax(x, -1), "torch.softmax")
    assert_hint(
        capsys,
        check,
        lambda x: torch.exp(torch.nn.functional.log_softmax(x, -1)),
        "log_softmax",
    )
    assert_hint(capsys, check, lambda x: None, "returned None")


def test_overflow_answer(capsys: pytest.CaptureFixture[str]) -> None:
    check = exercises.check_overflow_answer
    assert_correct(capsys, check, 12)
    assert_hint(capsys, check, 11, "still finite")
    assert_hint(capsys, check, 13, "go lower")
    assert_hint(capsys, check, 89, "float32")
    assert_hint(capsys, check, 11.5, "whole number")
    assert_hint(capsys, check, None, "whole number")


def test_zero_gap_answer(capsys: pytest.CaptureFixture[str]) -> None:
    check = exercises.check_zero_gap_answer
    assert_correct(capsys, check, 103)
    assert_hint(capsys, check, 87, "subnormal")
    assert_hint(capsys, check, 100, "still gives a probability above 0")
    assert_hint(capsys, check, 104, "already exactly 0")
    assert_hint(capsys, check, None, "whole number")


# 03 Log-softmax ----------------------------------------------------------


def test_round_trip_answer(capsys: pytest.CaptureFixture[str]) -> None:
    check = exercises.check_round_trip_answer
    assert_correct(capsys, check, False)
    assert_hint(capsys, check, True, "already subtracts the max")
    assert_hint(capsys, check, None, "True or False")
    assert_hint(capsys, check, 0, "True or False")


def test_log_softmax(capsys: pytest.CaptureFixture[str]) -> None:
    check = exercises.check_log_softmax
    assert_correct(
        capsys, check, lambda x: x - torch.logsumexp(x, dim=-1, keepdim=True)
    )

    def by_max(x: torch.Tensor) -> torch.Tensor:
        shifted = x - x.amax(dim=-1, keepdim=True)
        return shifted - torch.log(torch.exp(shifted).sum(dim=-1, keepdim=True))

    assert_correct(capsys, check, by_max)
    assert_hint(capsys, check, lambda x: torch.log_softmax(x, -1), "log_softmax")
    assert_hint(
        capsys,
        check,
        lambda x: torch.log(torch.exp(x) / torch.exp(x).sum(-1, keepdim=True)),
        "NaN",
    )

    def log_of_stable(x: torch.Tensor) -> torch.Tensor:
        exps = torch.exp(x - x.amax(dim=-1, keepdim=True))
        return torch.log(exps / exps.sum(dim=-1, keepdim=True))

    assert_hint(capsys, check, log_of_stable, "-inf")
    assert_hint(capsys, check, lambda x: x - torch.logsumexp(x, dim=-1), "keepdim")
    assert_hint(capsys, check, lambda x: x - x.amax(dim=-1, keepdim=True), "differ")


def gumbel_max(logits: torch.Tensor, num_samples: int, generator: torch.Generator):
    u = torch.rand(num_samples, logits.numel(), generator=generator)
    u = u.clamp(min=torch.finfo(u.dtype).tiny)
    return torch.argmax(logits - torch.log(-torch.log(u)), dim=-1)


def test_gumbel_max(capsys: pytest.CaptureFixture[str]) -> None:
    check = exercises.check_gumbel_max
    assert_correct(capsys, check, gumbel_max)

    def noise_on_probs(logits, num_samples, generator):
        return gumbel_max(torch.softmax(logits, -1), num_samples, generator)

    def no_noise(logits, num_samples, generator):
        return logits.argmax().repeat(num_samples)

    def global_rng(logits, num_samples, generator):
        return gumbel_max(logits, num_samples, None)

    def uniform(logits, num_samples, generator):
        return torch.randint(logits.numel(), (num_samples,), generator=generator)

    assert_hint(capsys, check, noise_on_probs, "do not follow")
    assert_hint(capsys, check, uniform, "do not follow")
    assert_hint(capsys, check, no_noise, "same category")
    assert_hint(capsys, check, global_rng, "same seed gave different")
    assert_hint(
        capsys,
        check,
        lambda x, n, g: gumbel_max(x, n, g).float(),
        "int64",
    )


# 04 Multinomial sampling -------------------------------------------------


def test_multinomial_shape(capsys: pytest.CaptureFixture[str]) -> None:
    check = exercises.check_multinomial_shape
    assert_correct(capsys, check, (8, 3))
    assert_correct(capsys, check, [8, 3])
    assert_hint(capsys, check, (3, 8), "batch comes first")
    assert_hint(capsys, check, (8, 50), "indices, not probabilities")
    assert_hint(capsys, check, "8, 3", "tuple")


def test_batch_sampler(capsys: pytest.CaptureFixture[str]) -> None:
    check = exercises.check_batch_sampler

    def right(logits, temperature, num_samples, generator):
        probs = torch.softmax(logits / temperature, dim=-1)
        return torch.multinomial(
            probs, num_samples, replacement=True, generator=generator
        )

    def ignores_temperature(logits, temperature, num_samples, generator):
        return right(logits, 1.0, num_samples, generator)

    def first_row_only(logits, temperature, num_samples, generator):
        return right(logits[:1], temperature, num_samples, generator).expand(
            logits.shape[0], -1
        )

    def no_generator(logits, temperature, num_samples, generator):
        return right(logits, temperature, num_samples, None)

    assert_correct(capsys, check, right)
    assert_hint(capsys, check, ignores_temperature, "divide the logits")
    assert_hint(capsys, check, first_row_only, "some rows do not follow")
    assert_hint(capsys, check, no_generator, "generator=generator")
    assert_hint(capsys, check, lambda x, t, n, g: right(x, t, n, g)[:, :10], "shape")


def test_without_replacement_answer(capsys: pytest.CaptureFixture[str]) -> None:
    check = exercises.check_without_replacement_answer
    assert_correct(capsys, check, 4)
    assert_hint(capsys, check, 6, "-inf")
    assert_hint(capsys, check, 3, "count the categories")
    assert_hint(capsys, check, None, "whole number")
