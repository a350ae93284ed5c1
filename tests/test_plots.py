"""The figure functions draw what they are given, in the course look."""

from __future__ import annotations

import math
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.collections import LineCollection

from softsample_helpers import (
    empirical_frequencies,
    exp_limits,
    frequency_interval,
    plots,
)

# pyplot picks the non-interactive Agg backend when there is no display.

PROBS = torch.tensor([0.5, 0.25, 0.125, 0.125])
FREQS = torch.tensor([0.45, 0.3, 0.15, 0.1], dtype=torch.float64)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def bar_patches(ax, hatched: bool) -> list:
    """The bars of one kind: hatched (frequencies) or solid (probabilities)."""
    return [p for p in ax.patches if bool(p.get_hatch()) == hatched]


def test_course_style_is_scoped_and_global_on_request():
    before = matplotlib.rcParams["font.size"]
    with plots.course_style():
        inside = matplotlib.rcParams["font.size"]
        cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    assert inside > before
    assert matplotlib.rcParams["font.size"] == before
    assert plots.PROBABILITY_COLOR in cycle and plots.FREQUENCY_COLOR in cycle

    with matplotlib.rc_context():
        plots.use_course_style()
        assert matplotlib.rcParams["font.size"] == inside


def test_plot_probabilities_draws_one_bar_per_probability():
    ax = plots.plot_probabilities(PROBS, labels=["a", "b", "c", "d"], title="T")
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx(PROBS.tolist())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]
    assert ax.get_title() == "T"
    assert ax.get_ylabel() == "probability"
    assert ax.get_ylim()[1] <= 1.05


def test_plot_probabilities_default_title_and_own_axes():
    fig, ax = plt.subplots()
    assert plots.plot_probabilities(PROBS, ax=ax) is ax
    assert ax.get_title() == "Probability of each category"


@pytest.mark.parametrize(
    ("probs", "error", "words"),
    [
        ([0.5, 0.5], TypeError, "torch.Tensor"),
        (torch.tensor([[0.5, 0.5]]), ValueError, "shape (vocab,)"),
        (torch.tensor([0.5, 0.6]), ValueError, "sum to 1"),
        (torch.tensor([1.5, -0.5]), ValueError, "negative"),
        (torch.tensor([1, 0]), TypeError, "floating-point"),
    ],
)
def test_plot_probabilities_rejects_bad_probs(probs, error, words):
    with pytest.raises(error, match=re.escape(words)):
        plots.plot_probabilities(probs)


def test_plot_probabilities_rejects_wrong_labels():
    with pytest.raises(ValueError, match="one name per category"):
        plots.plot_probabilities(PROBS, labels=["a"])
    with pytest.raises(TypeError, match="list of strings"):
        plots.plot_probabilities(PROBS, labels="abcd")


def test_plot_frequencies_tells_the_two_apart_by_pattern_and_colour():
    ax = plots.plot_frequencies(PROBS, FREQS)
    solid, hatched = bar_patches(ax, False), bar_patches(ax, True)
    assert [p.get_height() for p in solid] == pytest.approx(PROBS.tolist())
    assert [p.get_height() for p in hatched] == pytest.approx(FREQS.tolist())
    assert solid[0].get_facecolor() != hatched[0].get_facecolor()
    assert not [c for c in ax.collections if isinstance(c, LineCollection)]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["probability", "observed frequency"]


def test_plot_frequencies_draws_wilson_intervals():
    ax = plots.plot_frequencies(PROBS, FREQS, num_samples=200)
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    low, high = frequency_interval(FREQS, 200)
    segments = lines.get_segments()
    assert [s[0][1] for s in segments] == pytest.approx(low.tolist())
    assert [s[1][1] for s in segments] == pytest.approx(high.tolist())
    assert "200 samples" in ax.get_title()


def test_plot_frequencies_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="one frequency per category"):
        plots.plot_frequencies(PROBS, torch.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match="num_samples"):
        plots.plot_frequencies(PROBS, FREQS, num_samples=0)


def test_many_categories_get_thinned_tick_labels():
    probs = torch.full((50,), 1 / 50)
    ax = plots.plot_frequencies(probs, probs, num_samples=1000)
    assert len(ax.get_xticklabels()) <= plots.MAX_TICK_LABELS
    assert len(bar_patches(ax, True)) == 50


def test_plot_batch_frequencies_one_panel_per_row():
    generator = torch.Generator().manual_seed(0)
    probs = torch.softmax(torch.randn(4, 6, generator=generator), dim=-1)
    samples = torch.multinomial(probs, 300, replacement=True, generator=generator)
    freqs = empirical_frequencies(samples, 6)
    fig = plots.plot_batch_frequencies(probs, freqs, num_samples=300)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["Row 0", "Row 1", "Row 2", "Row 3"]
    for row, ax in enumerate(panels):
        heights = [p.get_height() for p in bar_patches(ax, True)]
        assert heights == pytest.approx(freqs[row].tolist())
    assert len(fig.legends) == 1


def test_plot_batch_frequencies_rejects_bad_shapes():
    with pytest.raises(ValueError, match="batch, vocab"):
        plots.plot_batch_frequencies(PROBS, PROBS)
    with pytest.raises(ValueError, match="one title per row"):
        plots.plot_batch_frequencies(PROBS[None], PROBS[None], titles=["a", "b"])


def test_plot_convergence_is_log_log_with_a_root_n_guide():
    sizes = [10, 100, 1000, 10000]
    ax = plots.plot_convergence(sizes, [0.3, 0.1, 0.03, 0.01])
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    measured, guide = ax.get_lines()
    x, y = guide.get_data()
    assert y[0] / y[-1] == pytest.approx(math.sqrt(x[-1] / x[0]))
    assert list(measured.get_ydata()) == pytest.approx([0.3, 0.1, 0.03, 0.01])


def test_plot_convergence_averages_repeats():
    gaps = torch.tensor([[0.2, 0.4], [0.05, 0.15]])
    ax = plots.plot_convergence(torch.tensor([10, 100]), gaps)
    measured = ax.get_lines()[0]
    assert list(measured.get_ydata()) == pytest.approx([0.3, 0.1])
    assert len(ax.collections) == 2  # each repeat drawn as dots


@pytest.mark.parametrize(
    ("sizes", "gaps", "words"),
    [
        ([10], [0.1], "at least two"),
        ([10, 100], [0.1], "one gap per sample size"),
        ([10, 100], [0.1, 0.0], "log scale"),
        ([0, 100], [0.1, 0.01], ">= 1"),
    ],
)
def test_plot_convergence_rejects_bad_input(sizes, gaps, words):
    with pytest.raises(ValueError, match=words):
        plots.plot_convergence(sizes, gaps)


def test_plot_exp_limits_marks_each_threshold():
    ax = plots.plot_exp_limits()
    texts = {t.get_text() for t in ax.texts}
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        limits = exp_limits(dtype)
        assert f"{limits.overflow:.2f}" in texts
        assert f"{limits.zero:.2f}" in texts
    # tick labels run bottom to top, so the first dtype is the last label
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "float64",
        "float32",
        "bfloat16",
        "float16",
    ]
    assert ax.get_xscale() == "symlog"
    assert len(ax.get_legend().get_texts()) == 4


def test_plot_exp_limits_puts_the_first_dtype_on_top():
    ax = plots.plot_exp_limits([torch.float16, torch.float64])
    ticks = {t.get_text(): t.get_position()[1] for t in ax.get_yticklabels()}
    assert ticks["float16"] > ticks["float64"]
    overflow_band = [p for p in ax.patches if p.get_hatch() == "//"]
    starts = sorted(p.get_x() for p in overflow_band)
    assert starts == pytest.approx(
        sorted([exp_limits(torch.float16).overflow, exp_limits(torch.float64).overflow])
    )


def test_plot_exp_limits_rejects_integer_dtypes():
    with pytest.raises(TypeError, match="float"):
        plots.plot_exp_limits([torch.int32])


def test_plot_method_agreement_groups_bars():
    other = torch.tensor([0.52, 0.23, 0.13, 0.12], dtype=torch.float64)
    ax = plots.plot_method_agreement(
        PROBS, {"multinomial": FREQS, "gumbel-max": other}, num_samples=500
    )
    assert len(ax.patches) == 3 * 4
    hatches = {p.get_hatch() for p in ax.patches}
    assert hatches == {None, plots.SERIES_HATCHES[0], plots.SERIES_HATCHES[1]}
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["95% interval", "probability", "multinomial", "gumbel-max"]
    gumbel = [p for p in ax.patches if p.get_hatch() == plots.SERIES_HATCHES[1]]
    assert [p.get_height() for p in gumbel] == pytest.approx(other.tolist())
    # bars of one category sit side by side, not on top of each other
    first = sorted(p.get_x() for p in ax.patches if abs(p.get_x()) < 0.5)
    assert np.all(np.diff(first) > 0)


def test_plot_method_agreement_rejects_bad_series():
    with pytest.raises(TypeError, match="non-empty dict"):
        plots.plot_method_agreement(PROBS, {})
    with pytest.raises(ValueError, match="one frequency per category"):
        plots.plot_method_agreement(PROBS, {"a": torch.tensor([0.5, 0.5])})
    many = {str(i): FREQS for i in range(7)}
    with pytest.raises(ValueError, match="at most 6"):
        plots.plot_method_agreement(PROBS, many)


def test_no_function_shows_the_figure(monkeypatch):
    shown = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(1))
    plots.plot_probabilities(PROBS)
    plots.plot_frequencies(PROBS, FREQS, num_samples=10)
    plots.plot_exp_limits()
    assert shown == []
