"""Decoding filters: properties of filter_logits and sampling with them.

Property tests pin down what each filter keeps (ties included) and the
order temperature -> top-k -> top-p -> min-p; statistical tests check that
the sampler draws from the filtered distribution and never a cut category.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from softsample_helpers import filter_logits, goodness_of_fit, sample_categorical

NEG_INF = float("-inf")
ALPHA = 1e-3


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def logit_rows(min_vocab: int = 1, max_vocab: int = 30, masked: bool = True):
    """Rows of logits from a coarse grid (so ties happen), some masked."""
    values = st.sampled_from([x / 2 for x in range(-12, 13)])
    if masked:
        values = st.one_of(values, st.just(NEG_INF))
    return (
        st.lists(values, min_size=min_vocab, max_size=max_vocab)
        .filter(lambda row: any(math.isfinite(x) for x in row))
        .map(lambda row: torch.tensor(row, dtype=torch.float64))
    )


def kept(filtered: torch.Tensor) -> torch.Tensor:
    return torch.isfinite(filtered)


top_ks = st.one_of(st.none(), st.integers(1, 35))
top_ps = st.one_of(st.none(), st.floats(0.01, 1.0))
min_ps = st.one_of(st.none(), st.floats(0.0, 0.99))
temperatures = st.sampled_from([0.3, 1.0, 2.5])


@given(logits=logit_rows(), top_k=top_ks, top_p=top_ps, min_p=min_ps, t=temperatures)
def test_the_most_probable_category_always_survives(logits, top_k, top_p, min_p, t):
    filtered = filter_logits(
        logits, temperature=t, top_k=top_k, top_p=top_p, min_p=min_p
    )
    assert kept(filtered)[logits.argmax()]
    # Kept categories keep their logits / temperature; masked ones stay out.
    assert torch.equal(filtered[kept(filtered)], (logits / t)[kept(filtered)])
    assert not kept(filtered)[torch.isneginf(logits)].any()


@given(logits=logit_rows(masked=False), top_k=st.integers(1, 35))
def test_top_k_keeps_k_plus_ties_at_the_kth(logits, top_k):
    keep = kept(filter_logits(logits, top_k=top_k))
    k = min(top_k, logits.numel())
    kth = logits.sort(descending=True).values[k - 1]
    assert torch.equal(keep, logits >= kth)
    assert keep.sum() >= k
    if (logits == kth).sum() == 1:
        assert keep.sum() == k  # no tie at the edge: exactly k


def test_top_k_with_distinct_logits_keeps_exactly_k():
    logits = torch.tensor([0.1, 3.0, -1.0, 2.0, 0.5])
    assert kept(filter_logits(logits, top_k=2)).tolist() == [
        False,
        True,
        False,
        True,
        False,
    ]
    tied = torch.tensor([1.0, 2.0, 1.0, 0.0])
    assert kept(filter_logits(tied, top_k=2)).tolist() == [True, True, True, False]


@given(logits=logit_rows(), top_p=st.floats(0.01, 0.999), t=temperatures)
def test_top_p_keeps_the_smallest_nucleus(logits, top_p, t):
    keep = kept(filter_logits(logits, temperature=t, top_p=top_p))
    probs = torch.softmax(logits / t, dim=-1)
    assert probs[keep].sum() >= top_p - 1e-12
    # Dropping the least probable kept group would fall short of top_p ...
    weakest = probs[keep].min()
    assert probs[keep & (probs > weakest)].sum() < top_p + 1e-12
    # ... and everything at least as probable as a kept category is kept.
    assert torch.equal(keep, probs >= weakest)


@given(logits=logit_rows(), min_p=st.floats(0.001, 0.99), t=temperatures)
def test_min_p_keeps_a_share_of_the_top_probability(logits, min_p, t):
    keep = kept(filter_logits(logits, temperature=t, min_p=min_p))
    probs = torch.softmax(logits / t, dim=-1)
    ratio = probs / probs.max()
    clear = (ratio - min_p).abs() > 1e-9  # leave rounding at the edge alone
    assert torch.equal(keep[clear], (ratio >= min_p)[clear])


@given(logits=logit_rows(), top_k=top_ks, top_p=top_ps, min_p=min_ps, t=temperatures)
def test_filters_apply_in_order_temperature_top_k_top_p_min_p(
    logits, top_k, top_p, min_p, t
):
    together = filter_logits(
        logits, temperature=t, top_k=top_k, top_p=top_p, min_p=min_p
    )
    one_by_one = filter_logits(logits, temperature=t)
    one_by_one = filter_logits(one_by_one, top_k=top_k)
    one_by_one = filter_logits(one_by_one, top_p=top_p)
    one_by_one = filter_logits(one_by_one, min_p=min_p)
    assert torch.equal(together, one_by_one)


def test_the_order_matters():
    # Probabilities 0.36, 0.33, 0.30, 0.01. Top-k=2 first leaves 0.52 and
    # 0.48, and top-p=0.5 then needs only the first; top-p first would keep
    # two (0.36 < 0.5), and top-k=2 would keep both.
    logits = torch.tensor([0.36, 0.33, 0.30, 0.01]).log()
    in_order = filter_logits(logits, top_k=2, top_p=0.5)
    assert kept(in_order).tolist() == [True, False, False, False]
    reversed_order = filter_logits(filter_logits(logits, top_p=0.5), top_k=2)
    assert kept(reversed_order).tolist() == [True, True, False, False]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_dtype_of_the_result(dtype):
    logits = torch.tensor([[1.0, 2.0, 3.0]], dtype=dtype)
    assert filter_logits(logits, top_k=1).dtype == torch.float32
    assert filter_logits(logits.double(), top_k=1).dtype == torch.float64


def test_off_values_keep_everything():
    logits = torch.tensor([0.0, -3.0, NEG_INF, 1.0])
    for options in [{}, {"top_p": 1.0}, {"min_p": 0.0}, {"top_k": 10}]:
        assert torch.equal(filter_logits(logits, **options), logits)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"top_k": 0}, ValueError, "top_k must be an integer >= 1, got 0"),
        ({"top_k": 2.5}, TypeError, "top_k must be an integer >= 1"),
        ({"top_k": True}, TypeError, "top_k must be an integer"),
        ({"top_p": 0.0}, ValueError, r"top_p must be a number in \(0, 1\], got 0.0"),
        ({"top_p": 1.5}, ValueError, r"top_p must be a number in \(0, 1\]"),
        ({"top_p": float("nan")}, ValueError, "top_p must be a number"),
        ({"top_p": "most"}, TypeError, "top_p must be a number"),
        ({"min_p": 1.0}, ValueError, r"min_p must be a number in \[0, 1\), got 1.0"),
        ({"min_p": -0.1}, ValueError, r"min_p must be a number in \[0, 1\)"),
        ({"temperature": 0.0}, ValueError, "temperature must be a finite number > 0"),
        ({"logits": torch.tensor([1, 2])}, TypeError, "floating-point tensor"),
    ],
)
@pytest.mark.parametrize("function", ["filter_logits", "sample_categorical"])
def test_bad_values_are_rejected_clearly(options, error, message, function):
    arguments = {"logits": torch.tensor([0.0, 1.0])} | options
    call = filter_logits if function == "filter_logits" else sample_categorical
    with pytest.raises(error, match=message):
        call(**arguments)


@pytest.mark.parametrize(
    "options",
    [
        {"top_k": 3},
        {"top_p": 0.8},
        {"min_p": 0.1},
        {"temperature": 0.7, "top_k": 5, "top_p": 0.9, "min_p": 0.05},
    ],
    ids=["top_k", "top_p", "min_p", "all"],
)
@pytest.mark.parametrize("num_samples", [1, 20_000])
def test_draws_follow_the_filtered_distribution(options, num_samples):
    logits = torch.tensor([2.0, 1.5, 1.0, 0.8, 0.0, -0.5, NEG_INF, -1.0, -3.0])
    filtered = filter_logits(logits, **options)
    expected = torch.softmax(filtered.double(), dim=-1)
    assert (expected == 0).sum() > 1  # something was cut besides the mask
    rows = 20_000 if num_samples == 1 else 1
    samples = sample_categorical(
        logits.expand(rows, -1), num_samples, generator=seeded(3), **options
    ).reshape(-1)
    assert goodness_of_fit(samples, expected).p_value > ALPHA
    assert not (expected[samples] == 0).any(), "drew a cut category"
    unfiltered = torch.softmax(logits.double() / options.get("temperature", 1.0), -1)
    assert goodness_of_fit(samples, unfiltered).p_value < ALPHA


def test_cut_categories_are_never_drawn_from_a_long_row():
    logits = torch.randn(8, 5_000, generator=seeded(4)) * 3
    filtered = filter_logits(logits, top_p=0.5)
    samples = sample_categorical(logits, 200, top_p=0.5, generator=seeded(5))
    assert torch.isfinite(filtered.gather(-1, samples)).all()


def test_without_replacement_counts_only_what_survives():
    logits = torch.tensor([3.0, 2.0, 1.0, 0.0])
    samples = sample_categorical(
        logits, 2, top_k=2, replacement=False, generator=seeded()
    )
    assert sorted(samples.tolist()) == [0, 1]
    with pytest.raises(ValueError, match="num_samples=3 is more than the 2"):
        sample_categorical(logits, 3, top_k=2, replacement=False)


# The decoding explorer, driven headless -------------------------------------


def test_explorer_defaults_show_the_example_with_every_token_kept():
    from softsample_helpers.decoding import example_next_token_logits
    from softsample_helpers.explorers import decoding_explorer

    explorer = decoding_explorer()
    logits, labels = example_next_token_logits()
    assert repr(explorer) == "DecodingExplorer(categories=300)"
    assert explorer.keep.all()
    assert bytes(explorer.image.value[:4]) == b"\x89PNG"
    assert "Kept <b>300</b> of 300 tokens" in explorer.readout.value
    assert labels[0] in explorer.readout.value
    assert explorer.message.value == ""


@pytest.mark.parametrize(
    ("slider", "value", "option"),
    [
        ("top_k_slider", 20, "top_k"),
        ("top_p_slider", 0.9, "top_p"),
        ("min_p_slider", 0.05, "min_p"),
        ("temperature_slider", 0.5, "temperature"),
    ],
)
def test_every_knob_filters_as_filter_logits_does(slider, value, option):
    from softsample_helpers.explorers import decoding_explorer

    logits = torch.linspace(3.0, -6.0, 120, dtype=torch.float64)
    explorer = decoding_explorer(logits, top_p=0.95)
    getattr(explorer, slider).value = value
    settings = {"top_p": 0.95} | {option: value}
    expected = torch.softmax(filter_logits(logits, **settings), dim=-1).numpy()
    assert (explorer.keep == (expected > 0)).all()
    assert abs(explorer.filtered_probs - expected).max() < 1e-12
    kept = int((expected > 0).sum())
    assert f"Kept <b>{kept}</b> of 120 tokens" in explorer.readout.value
    # Bars show the probabilities before filtering, coloured by the verdict.
    # (Below the axis floor a bar stops at the floor: a log axis has no 0.)
    from softsample_helpers.explorers import DECODING_FLOOR

    tops = np.array([path.vertices[1, 1] for path in explorer.bars.get_paths()])
    before = torch.softmax(logits / settings.get("temperature", 1.0), -1).numpy()
    assert abs(tops - np.maximum(before, DECODING_FLOOR / 10)).max() < 1e-12
    colours = explorer.bars.get_facecolor()
    assert len(colours) == 120
    assert len({tuple(c) for c in colours}) == (2 if kept < 120 else 1)
    kept_colour = tuple(colours[int(np.flatnonzero(expected > 0)[0])])
    is_kept_colour = [tuple(c) == kept_colour for c in colours]
    assert is_kept_colour == explorer.keep.tolist()


def test_explorer_starts_from_the_given_knobs():
    from softsample_helpers.explorers import decoding_explorer

    logits = torch.linspace(2.0, -2.0, 30)
    explorer = decoding_explorer(logits, top_k=5, temperature=2.0)
    assert explorer.top_k_slider.value == 5
    assert explorer.keep.sum() == 5
    off = decoding_explorer(logits)
    assert off.top_k_slider.value == 30 and off.top_p_slider.value == 1.0
    assert off.min_p_slider.value == 0.0


def test_explorer_error_is_shown_and_it_recovers(monkeypatch):
    from softsample_helpers import explorers

    explorer = explorers.decoding_explorer(torch.linspace(1.0, -1.0, 10))

    def broken(*args, **kwargs):
        raise RuntimeError("deliberately broken for the test")

    monkeypatch.setattr(explorers, "filter_logits", broken)
    explorer.top_k_slider.value = 3
    assert "deliberately broken for the test" in explorer.message.value
    assert explorer.message.layout.display is None
    monkeypatch.undo()
    explorer.top_k_slider.value = 4
    assert explorer.message.value == ""
    assert explorer.keep.sum() == 4


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"logits": torch.zeros(1001)}, ValueError, "2 to 1000 tokens"),
        ({"logits": torch.zeros(2, 3)}, ValueError, "shape (vocab,)"),
        ({"logits": torch.tensor([0.0, float("nan")])}, ValueError, "finite"),
        ({"logits": "abc"}, TypeError, "1-D floating-point tensor"),
        ({"top_k": 0}, ValueError, "top_k must be an integer >= 1"),
        ({"top_p": 0.001}, ValueError, "at least 0.01 for the slider"),
        ({"min_p": 0.995}, ValueError, "at most 0.99 for the slider"),
        ({"temperature": 0.0}, ValueError, "temperature must be a finite number"),
        ({"labels": ["a"]}, ValueError, "labels has 1 names"),
    ],
)
def test_explorer_rejects_bad_arguments(kwargs, error, words):
    from softsample_helpers.explorers import decoding_explorer

    arguments = {"logits": torch.tensor([1.0, 0.0, -1.0])} | kwargs
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        decoding_explorer(**arguments)


# Exercise checks of lesson 05 -----------------------------------------------


def verdict(capsys) -> str:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    return out


def right_top_k(logits, k):
    kth = torch.topk(logits, min(k, logits.shape[-1]), dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, NEG_INF)


def right_min_p(logits, min_p):
    probs = torch.softmax(logits, dim=-1)
    return logits.masked_fill(probs < min_p * probs.amax(-1, keepdim=True), NEG_INF)


@pytest.mark.parametrize(
    ("fn", "start", "words"),
    [
        (right_top_k, "Correct", "ties included"),
        (lambda x, k: x, "Not yet", "keep the k largest"),
        (  # breaks ties by position: keeps exactly k
            lambda x, k: torch.full_like(x, NEG_INF).scatter(
                -1,
                torch.topk(x, min(k, x.shape[-1]), -1).indices,
                x.gather(-1, torch.topk(x, min(k, x.shape[-1]), -1).indices),
            ),
            "Not yet",
            "tied",
        ),
        (
            lambda x, k: x.masked_fill(x < torch.topk(x, k).values[-1], NEG_INF),
            "Not yet",
            "each row",
        ),
        (lambda x, k: None, "Not yet", "returned None"),
    ],
)
def test_check_top_k_filter(capsys, fn, start, words):
    from softsample_helpers.decoding_exercises import check_top_k_filter

    check_top_k_filter(fn)
    out = verdict(capsys)
    assert out.startswith(start) and words in out, out


@pytest.mark.parametrize(
    ("fn", "start", "words"),
    [
        (right_min_p, "Correct", "same tokens"),
        (  # compares logits instead of probabilities
            lambda x, p: x.masked_fill(x < p * x.amax(-1, keepdim=True), NEG_INF),
            "Not yet",
            "min_p",
        ),
        (  # exp without the max: overflows at 1000
            lambda x, p: x.masked_fill(
                x.exp() < p * x.exp().amax(-1, keepdim=True), NEG_INF
            ),
            "Not yet",
            "overflow",
        ),
    ],
)
def test_check_min_p_filter(capsys, fn, start, words):
    from softsample_helpers.decoding_exercises import check_min_p_filter

    check_min_p_filter(fn)
    out = verdict(capsys)
    assert out.startswith(start) and words in out, out


def test_check_nucleus_size_answer(capsys):
    from softsample_helpers.decoding import example_next_token_logits
    from softsample_helpers.decoding_exercises import check_nucleus_size_answer

    logits, _ = example_next_token_logits()
    probs = torch.softmax(logits.double(), -1)
    # Independent of filter_logits: the first count whose cumulative mass >= 0.5.
    right = int((probs.cumsum(-1) < 0.5).sum()) + 1
    check_nucleus_size_answer(right)
    assert verdict(capsys).startswith("Correct")
    check_nucleus_size_answer(right - 1)
    assert "one short" in verdict(capsys)
    for wrong in [right + 3, "five", None, 2.5]:
        check_nucleus_size_answer(wrong)
        assert verdict(capsys).startswith("Not yet")


def test_checks_want_functions():
    from softsample_helpers.decoding_exercises import check_top_k_filter

    with pytest.raises(TypeError, match="pass your function itself"):
        check_top_k_filter(3)
