"""Figures for the lessons: one look, readable when projected, colour-blind safe.

Every function draws onto a matplotlib ``Axes`` (or makes a ``Figure``) and
returns it; none calls ``plt.show()``, so a lesson decides when a figure
appears. Probabilities are always solid bars and empirical frequencies
always hatched, outlined bars, so the two are told apart without colour.

The palette is seaborn's "colorblind" palette (the Okabe-Ito colours), and
the font sizes follow seaborn's "notebook" context scaled up for a
projector.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from softsample_helpers._checks import (
    FLOAT_DTYPES,
    check_count,
    check_labels,
    check_tensor,
)
from softsample_helpers.numerics import exp_limits
from softsample_helpers.stats import check_probs, frequency_interval

_PALETTE = sns.color_palette("colorblind").as_hex()

#: Colour of true probabilities (solid bars).
PROBABILITY_COLOR = _PALETTE[0]  # blue
#: Colour of empirical frequencies (hatched, outlined bars).
FREQUENCY_COLOR = _PALETTE[1]  # orange
#: Colour of something that went wrong (NaN, overflow).
WARNING_COLOR = _PALETTE[3]  # vermillion
#: Colour of confidence intervals and guide lines.
INK_COLOR = "#222222"
#: Hatch of empirical frequencies; probabilities have none.
FREQUENCY_HATCH = "///"
#: Hatches that tell several frequency series apart (method agreement).
SERIES_HATCHES = ("///", "\\\\\\", "...", "xxx", "ooo", "---")
#: More categories than this and only every k-th tick is labelled.
MAX_TICK_LABELS = 20


def course_rc() -> dict[str, Any]:
    """Return the matplotlib settings of the course look.

    Returns
    -------
    dict
        rcParams: seaborn's "whitegrid" style and "notebook" context at
        1.3 times the font size, the colour-blind palette, and thicker
        hatch lines so patterns survive a projector.
    """
    rc: dict[str, Any] = {}
    rc.update(sns.axes_style("whitegrid"))
    rc.update(sns.plotting_context("notebook", font_scale=1.3))
    rc.update(
        {
            "axes.prop_cycle": cycler(color=_PALETTE),
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.figsize": (8.0, 4.5),
            "figure.dpi": 80,
            "figure.autolayout": False,
            "figure.constrained_layout.use": True,
            "hatch.linewidth": 1.5,
            "legend.frameon": False,
            "savefig.bbox": None,
        }
    )
    return rc


def use_course_style() -> None:
    """Switch matplotlib to the course look for the rest of the session.

    Lessons call this once near the top. The explorers do not need it: they
    draw inside :func:`course_style` whatever the global settings are.
    """
    mpl.rcParams.update(cast(Any, course_rc()))


@contextlib.contextmanager
def course_style() -> Iterator[None]:
    """Apply the course look only inside a ``with`` block."""
    with mpl.rc_context(cast(Any, course_rc())):
        yield


# Input checks -----------------------------------------------------------------


def _as_vector(values: object, name: str) -> torch.Tensor:
    """Return ``values`` as a 1-D float64 tensor, or explain why not."""
    if isinstance(values, np.ndarray):
        values = torch.from_numpy(values)
    values = check_tensor(values, name)
    if not values.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got dtype {values.dtype}; "
            f"convert it with {name}.double()"
        )
    if values.dim() != 1:
        raise ValueError(
            f"{name} must have shape (vocab,), got {tuple(values.shape)}; for a "
            f"batch use plot_batch_frequencies, or pick one row with {name}[0]"
        )
    return values.detach().double()


def _check_distribution(values: object, name: str) -> torch.Tensor:
    """A 1-D tensor of probabilities that sum to 1, as float64."""
    vector = _as_vector(values, name)
    return check_probs(vector, name)


def _check_pair(
    probs: object, frequencies: object
) -> tuple[torch.Tensor, torch.Tensor]:
    """Probabilities and frequencies over the same categories."""
    probs_t = _check_distribution(probs, "probs")
    freqs_t = _check_distribution(frequencies, "frequencies")
    if freqs_t.shape != probs_t.shape:
        raise ValueError(
            f"frequencies has {freqs_t.shape[0]} categories but probs has "
            f"{probs_t.shape[0]}; give one frequency per category, e.g. from "
            f"empirical_frequencies(samples, num_categories={probs_t.shape[0]})"
        )
    return probs_t, freqs_t


def _check_num_samples(num_samples: int | None) -> int | None:
    return None if num_samples is None else check_count(num_samples, "num_samples")


def _new_axes(ax: Axes | None, figsize: tuple[float, float] | None = None) -> Axes:
    """The given axes, or fresh ones on a new pyplot figure in the course look."""
    if ax is not None:
        if not isinstance(ax, Axes):
            raise TypeError(
                f"ax must be a matplotlib Axes or None, got {type(ax).__name__}"
            )
        return ax
    with course_style():
        _, new_ax = plt.subplots(figsize=figsize)
    return new_ax


# Building blocks (the explorers reuse these and update the artists in place) --


def set_category_ticks(ax: Axes, labels: Sequence[str]) -> None:
    """Label the category axis, thinning labels when there are many."""
    vocab = len(labels)
    step = max(1, math.ceil(vocab / MAX_TICK_LABELS))
    positions = list(range(0, vocab, step))
    ax.set_xticks(positions, [labels[i] for i in positions])
    ax.set_xlim(-0.6, vocab - 0.4)
    ax.grid(False, axis="x")
    ax.set_xlabel("category")


def draw_probability_bars(
    ax: Axes, probs: np.ndarray, *, offset: float = 0.0, width: float = 0.8
) -> BarContainer:
    """Solid bars of the true probabilities."""
    return ax.bar(
        np.arange(len(probs)) + offset,
        probs,
        width=width,
        color=PROBABILITY_COLOR,
        edgecolor=PROBABILITY_COLOR,
        label="probability",
    )


def draw_frequency_bars(
    ax: Axes,
    frequencies: np.ndarray,
    *,
    offset: float = 0.0,
    width: float = 0.8,
    color: str = FREQUENCY_COLOR,
    hatch: str = FREQUENCY_HATCH,
    label: str = "observed frequency",
) -> BarContainer:
    """Hatched, outlined bars of empirical frequencies."""
    return ax.bar(
        np.arange(len(frequencies)) + offset,
        frequencies,
        width=width,
        facecolor="white",
        edgecolor=color,
        hatch=hatch,
        linewidth=1.5,
        label=label,
    )


def interval_segments(
    frequencies: torch.Tensor, num_samples: int, *, offset: float = 0.0
) -> np.ndarray:
    """Vertical segments of the 95% Wilson intervals, shape ``(vocab, 2, 2)``."""
    low, high = frequency_interval(frequencies, num_samples)
    x = np.arange(frequencies.shape[-1]) + offset
    return np.stack(
        [np.stack([x, low.numpy()], axis=-1), np.stack([x, high.numpy()], axis=-1)],
        axis=1,
    )


def draw_intervals(
    ax: Axes, frequencies: torch.Tensor, num_samples: int, *, offset: float = 0.0
) -> mpl.collections.LineCollection:
    """Black whiskers of the 95% intervals around each frequency."""
    segments = interval_segments(frequencies, num_samples, offset=offset)
    lines = mpl.collections.LineCollection(
        list(segments), colors=INK_COLOR, linewidths=2.0, label="95% interval"
    )
    ax.add_collection(lines)
    return lines


def probability_ylim(*series: np.ndarray) -> float:
    """An upper y limit with headroom, never above what a probability needs."""
    top = max(float(np.max(s)) for s in series) if series else 1.0
    return min(1.05, max(0.05, 1.15 * top))


# Public figures ---------------------------------------------------------------


def plot_probabilities(
    probs: torch.Tensor,
    *,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Bar chart of one probability distribution.

    Parameters
    ----------
    probs : torch.Tensor
        Probabilities of shape ``(vocab,)``, any float dtype, summing to 1.
    labels : sequence of str, optional
        One name per category; default ``0, 1, ...``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Default "Probability of each category".

    Returns
    -------
    matplotlib.axes.Axes
    """
    probs_t = _check_distribution(probs, "probs")
    names = check_labels(labels, probs_t.shape[0])
    ax = _new_axes(ax)
    values = probs_t.numpy()

    draw_probability_bars(ax, values)
    set_category_ticks(ax, names)
    ax.set_ylim(0, probability_ylim(values))
    ax.set_ylabel("probability")
    ax.set_title(title if title is not None else "Probability of each category")
    return ax


def plot_frequencies(
    probs: torch.Tensor,
    frequencies: torch.Tensor,
    *,
    num_samples: int | None = None,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """True probabilities next to the frequencies observed in samples.

    Probabilities are solid bars, frequencies hatched outlined bars beside
    them; with ``num_samples`` each frequency gets its 95% Wilson interval.

    Parameters
    ----------
    probs : torch.Tensor
        Probabilities of shape ``(vocab,)``, summing to 1.
    frequencies : torch.Tensor
        Empirical frequencies of shape ``(vocab,)``, summing to 1, e.g. from
        :func:`softsample_helpers.empirical_frequencies`.
    num_samples : int, optional
        How many draws the frequencies come from; draws the intervals.
    labels : sequence of str, optional
        One name per category.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Default "Probabilities and observed frequencies" plus the sample size.

    Returns
    -------
    matplotlib.axes.Axes
    """
    probs_t, freqs_t = _check_pair(probs, frequencies)
    num_samples = _check_num_samples(num_samples)
    names = check_labels(labels, probs_t.shape[0])
    ax = _new_axes(ax)

    draw_probability_bars(ax, probs_t.numpy(), offset=-0.2, width=0.4)
    draw_frequency_bars(ax, freqs_t.numpy(), offset=0.2, width=0.4)
    tops = [probs_t.numpy(), freqs_t.numpy()]
    if num_samples is not None:
        draw_intervals(ax, freqs_t, num_samples, offset=0.2)
        tops.append(frequency_interval(freqs_t, num_samples)[1].numpy())

    set_category_ticks(ax, names)
    ax.set_ylim(0, probability_ylim(*tops))
    ax.set_ylabel("probability or frequency")
    if title is None:
        title = "Probabilities and observed frequencies"
        if num_samples is not None:
            title += f" ({num_samples:,} samples)"
    ax.set_title(title)
    ax.legend(loc="upper right")
    return ax


def plot_batch_frequencies(
    probs: torch.Tensor,
    frequencies: torch.Tensor,
    *,
    num_samples: int | None = None,
    titles: Sequence[str] | None = None,
) -> Figure:
    """One :func:`plot_frequencies` panel per row of a batch.

    Parameters
    ----------
    probs : torch.Tensor
        Probabilities of shape ``(batch, vocab)``, each row summing to 1.
    frequencies : torch.Tensor
        Empirical frequencies of shape ``(batch, vocab)``.
    num_samples : int, optional
        Draws per row; adds 95% intervals.
    titles : sequence of str, optional
        One title per row; default "Row 0", "Row 1", ...

    Returns
    -------
    matplotlib.figure.Figure
        Panels in a grid of up to three columns.
    """
    probs_t = check_probs(check_tensor(probs, "probs")).detach().double()
    freqs_t = check_probs(check_tensor(frequencies, "frequencies")).detach().double()
    if probs_t.dim() != 2:
        raise ValueError(
            f"probs must have shape (batch, vocab), got {tuple(probs_t.shape)}; "
            f"for one distribution use plot_frequencies"
        )
    if freqs_t.shape != probs_t.shape:
        raise ValueError(
            f"frequencies has shape {tuple(freqs_t.shape)} but probs has "
            f"{tuple(probs_t.shape)}; give one row of frequencies per row of probs"
        )
    batch = probs_t.shape[0]
    names = list(titles) if titles is not None else [f"Row {i}" for i in range(batch)]
    if len(names) != batch:
        raise ValueError(
            f"titles has {len(names)} entries but the batch has {batch} rows; "
            f"give one title per row"
        )

    ncols = min(batch, 3)
    nrows = math.ceil(batch / ncols)
    with course_style():
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(5.5 * ncols, 3.8 * nrows), squeeze=False
        )
    for row, ax in enumerate(axes.flat):
        if row >= batch:
            ax.set_visible(False)
            continue
        plot_frequencies(
            probs_t[row],
            freqs_t[row],
            num_samples=num_samples,
            ax=ax,
            title=names[row],
        )
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()  # one legend for the whole figure, above the panels
    handles, texts = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, texts, loc="outside upper center", ncols=len(texts))
    return fig


def plot_convergence(
    sample_sizes: Sequence[int] | torch.Tensor | np.ndarray,
    gaps: Sequence[float] | torch.Tensor | np.ndarray,
    *,
    ax: Axes | None = None,
) -> Axes:
    """How the gap between frequencies and probabilities shrinks with samples.

    Parameters
    ----------
    sample_sizes : sequence of int
        Numbers of samples, shape ``(sizes,)``, all >= 1.
    gaps : sequence of float or torch.Tensor
        The gap measured at each size, shape ``(sizes,)``, or
        ``(sizes, repeats)`` for several runs (each run is drawn as faint
        dots and their mean as the line). Every gap must be > 0 to fit on
        a log scale.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Log-log axes with a ``1/sqrt(n)`` guide fitted through the points.
    """
    sizes = np.asarray(torch.as_tensor(sample_sizes, dtype=torch.float64))
    gap_values = np.asarray(torch.as_tensor(gaps, dtype=torch.float64))
    if sizes.ndim != 1 or sizes.size < 2:
        raise ValueError(
            f"sample_sizes must be a 1-D list of at least two sizes, got shape "
            f"{sizes.shape}"
        )
    if gap_values.ndim not in (1, 2) or gap_values.shape[0] != sizes.size:
        raise ValueError(
            f"gaps must have shape ({sizes.size},) or ({sizes.size}, repeats), one "
            f"gap per sample size, got {gap_values.shape}"
        )
    if not (np.all(np.isfinite(sizes)) and np.all(sizes >= 1)):
        raise ValueError("sample_sizes must all be finite numbers >= 1")
    if not (np.all(np.isfinite(gap_values)) and np.all(gap_values > 0)):
        raise ValueError(
            "gaps must all be finite and > 0 to be drawn on a log scale; a gap "
            "of exactly 0 usually means too few categories or too many samples"
        )
    ax = _new_axes(ax)

    mean_gaps = gap_values if gap_values.ndim == 1 else gap_values.mean(axis=1)
    if gap_values.ndim == 2:
        for column in gap_values.T:
            ax.scatter(sizes, column, color=FREQUENCY_COLOR, alpha=0.3, s=18)
    ax.plot(
        sizes,
        mean_gaps,
        marker="o",
        color=FREQUENCY_COLOR,
        linewidth=2.5,
        label="measured gap" if gap_values.ndim == 1 else "mean measured gap",
    )
    # The guide's height is the least-squares fit of c / sqrt(n) in log space.
    scale = float(np.exp(np.mean(np.log(mean_gaps) + 0.5 * np.log(sizes))))
    guide_x = np.geomspace(sizes.min(), sizes.max(), 50)
    ax.plot(
        guide_x,
        scale / np.sqrt(guide_x),
        linestyle="--",
        color=INK_COLOR,
        linewidth=2,
        label=r"$c\,/\sqrt{n}$ guide",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of samples n")
    ax.set_ylabel("gap between frequencies\nand probabilities")
    ax.set_title("Frequencies approach probabilities like 1/√n")
    ax.legend()
    return ax


#: How each range of ``exp``'s input is drawn: (label, colour, hatch).
EXP_REGIONS = (
    ("exp(x) rounds to 0", "#bbbbbb", "xx"),
    ("subnormal (precision lost)", _PALETTE[1], ".."),
    ("ordinary number", PROBABILITY_COLOR, ""),
    ("exp(x) overflows to inf", WARNING_COLOR, "//"),
)
#: The x axis of plot_exp_limits reaches well past float64's limits.
_EXP_AXIS_LIMIT = 3000.0


def exp_regions(dtype: torch.dtype) -> list[tuple[float, float]]:
    """The four input ranges of ``exp`` in ``dtype``: zero, subnormal, ok, inf."""
    limits = exp_limits(dtype)
    edge = _EXP_AXIS_LIMIT
    return [
        (-edge, limits.zero),
        (limits.zero, limits.subnormal),
        (limits.subnormal, limits.overflow),
        (limits.overflow, edge),
    ]


def plot_exp_limits(
    dtypes: Sequence[torch.dtype] | None = None, *, ax: Axes | None = None
) -> Axes:
    """Where ``exp(x)`` overflows, turns subnormal and rounds to zero, per dtype.

    Parameters
    ----------
    dtypes : sequence of torch.dtype, optional
        Default ``float16, bfloat16, float32, float64``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One horizontal band per dtype over the input ``x``, on a
        symmetric-log axis so that float16's +-11 and float64's +-709 both
        show; each threshold is written on its band.
    """
    chosen = list(FLOAT_DTYPES if dtypes is None else dtypes)
    if not chosen:
        raise ValueError("dtypes must name at least one floating-point dtype")
    for dtype in chosen:
        if dtype not in FLOAT_DTYPES:
            allowed = ", ".join(str(d) for d in FLOAT_DTYPES)
            raise TypeError(f"dtypes may contain only {allowed}; got {dtype!r}")
    ax = _new_axes(ax, figsize=(10.0, 2.0 + 0.8 * len(chosen)))

    # The first dtype goes on top: rows count down from len(chosen) - 1.
    for position, dtype in zip(range(len(chosen) - 1, -1, -1), chosen, strict=True):
        for (low, high), (_, color, hatch) in zip(
            exp_regions(dtype), EXP_REGIONS, strict=True
        ):
            ax.barh(
                position,
                high - low,
                left=low,
                height=0.5,
                color=color,
                hatch=hatch,
                edgecolor="white",
                linewidth=0.5,
            )
        limits = exp_limits(dtype)
        for value, align in ((limits.zero, "right"), (limits.overflow, "left")):
            ax.text(
                value,
                position + 0.28,
                f"{value:.2f}",
                ha=align,
                va="bottom",
                fontsize="small",
            )
    ax.set_xscale("symlog", linthresh=10.0)
    ax.set_xlim(-_EXP_AXIS_LIMIT, _EXP_AXIS_LIMIT)
    ax.set_ylim(-0.5, len(chosen) - 0.1)
    ax.set_yticks(
        range(len(chosen)), [str(d).replace("torch.", "") for d in reversed(chosen)]
    )
    ax.grid(False, axis="y")
    ax.set_xlabel("x, the input of exp (symmetric log scale)")
    ax.set_title("What exp(x) gives in each floating-point type")
    handles = [
        Patch(facecolor=color, hatch=hatch, edgecolor="white", label=label)
        for label, color, hatch in EXP_REGIONS
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)
    return ax


def plot_method_agreement(
    probs: torch.Tensor,
    frequencies_by_method: Mapping[str, torch.Tensor],
    *,
    num_samples: int | None = None,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Grouped bars: the probabilities, then each sampling method's frequencies.

    Parameters
    ----------
    probs : torch.Tensor
        Probabilities of shape ``(vocab,)``.
    frequencies_by_method : mapping of str to torch.Tensor
        Method name to its empirical frequencies, each of shape ``(vocab,)``;
        up to six methods, each with its own colour and hatch.
    num_samples : int, optional
        Draws per method; adds 95% intervals.
    labels : sequence of str, optional
        One name per category.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Default "Do the sampling methods agree?".

    Returns
    -------
    matplotlib.axes.Axes
    """
    probs_t = _check_distribution(probs, "probs")
    if not isinstance(frequencies_by_method, Mapping) or not frequencies_by_method:
        raise TypeError(
            "frequencies_by_method must be a non-empty dict mapping a method "
            "name to its frequencies, e.g. {'multinomial': freqs}"
        )
    if len(frequencies_by_method) > len(SERIES_HATCHES):
        raise ValueError(
            f"at most {len(SERIES_HATCHES)} methods fit in one figure, got "
            f"{len(frequencies_by_method)}; split them over several figures"
        )
    series = {}
    for name, freqs in frequencies_by_method.items():
        series[str(name)] = _check_pair(probs_t, freqs)[1]
    num_samples = _check_num_samples(num_samples)
    names = check_labels(labels, probs_t.shape[0])
    ax = _new_axes(ax)

    groups = 1 + len(series)
    width = 0.84 / groups
    offsets = (np.arange(groups) - (groups - 1) / 2) * width
    draw_probability_bars(ax, probs_t.numpy(), offset=offsets[0], width=width)
    tops = [probs_t.numpy()]
    colors = _PALETTE[1:3] + _PALETTE[4:]
    for k, (method, freqs) in enumerate(series.items()):
        draw_frequency_bars(
            ax,
            freqs.numpy(),
            offset=offsets[k + 1],
            width=width,
            color=colors[k],
            hatch=SERIES_HATCHES[k],
            label=method,
        )
        tops.append(freqs.numpy())
        if num_samples is not None:
            lines = draw_intervals(ax, freqs, num_samples, offset=offsets[k + 1])
            if k > 0:
                lines.set_label("_nolegend_")
            tops.append(frequency_interval(freqs, num_samples)[1].numpy())

    set_category_ticks(ax, names)
    ax.set_ylim(0, probability_ylim(*tops))
    ax.set_ylabel("probability or frequency")
    ax.set_title(title if title is not None else "Do the sampling methods agree?")
    ax.legend(loc="upper right")
    return ax


# Lesson figures ---------------------------------------------------------------

#: Fill of categories a decoding filter cut: light grey, told apart from the
#: blue of kept categories by lightness as well as hue. (Bars a pixel or two
#: wide cannot show a hatch, so lightness carries the difference.)
CUT_COLOR = "#c8c8c8"


def _bar_outlines(heights: np.ndarray, bottom: float) -> list[np.ndarray]:
    """Corners of touching bars: ``vocab`` arrays of shape ``(4, 2)``.

    Bars start at ``bottom`` (a log axis has no 0) and reach at least it.
    """
    left = np.arange(len(heights)) - 0.5
    top = np.maximum(heights, bottom)
    base = np.full_like(top, bottom)
    xs = np.stack([left, left, left + 1, left + 1], axis=-1)
    ys = np.stack([base, top, top, base], axis=-1)
    return list(np.stack([xs, ys], axis=-1))


def update_kept_and_cut_bars(
    bars: PolyCollection, probs: np.ndarray, keep: np.ndarray, bottom: float = 0.0
) -> None:
    """Move the bars of :func:`draw_kept_and_cut_bars` to new heights and verdicts."""
    bars.set_verts(_bar_outlines(probs, bottom))
    bars.set_facecolor([PROBABILITY_COLOR if k else CUT_COLOR for k in keep])


def draw_kept_and_cut_bars(
    ax: Axes, probs: np.ndarray, keep: np.ndarray, bottom: float = 0.0
) -> PolyCollection:
    """Touching bars of ``probs``: blue where kept, light grey where cut.

    One collection of rectangles rather than a patch per bar: with hundreds
    of tokens, drawing patches one by one is what makes a figure slow.
    ``bottom`` is where bars start (above 0 on a log axis).
    """
    bars = PolyCollection([], linewidths=0)
    update_kept_and_cut_bars(bars, probs, keep, bottom)
    ax.add_collection(bars)
    return bars


def kept_and_cut_legend(ax: Axes, *, renormalised: bool = True) -> None:
    """Legend for :func:`draw_kept_and_cut_bars` (and the renormalised line)."""
    handles: list[Any] = [
        Patch(facecolor=PROBABILITY_COLOR, label="kept"),
        Patch(facecolor=CUT_COLOR, label="cut"),
    ]
    if renormalised:
        handles.append(
            mpl.lines.Line2D([], [], color=INK_COLOR, label="kept, renormalised")
        )
    ax.legend(handles=handles, loc="upper right")


def plot_filtered_distribution(
    probs: torch.Tensor,
    filtered_probs: torch.Tensor,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    log_scale: bool = False,
) -> Axes:
    """A distribution before and after a decoding filter, token by token.

    Parameters
    ----------
    probs : torch.Tensor
        Probabilities before filtering, shape ``(vocab,)``, most likely
        first (sort them if they are not).
    filtered_probs : torch.Tensor
        Probabilities after filtering, shape ``(vocab,)``: 0 where a token
        was cut, the rest renormalised, e.g.
        ``torch.softmax(filter_logits(logits, top_p=0.9), -1)``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Default "Kept and cut tokens".
    log_scale : bool
        A logarithmic probability axis, to see the tail.

    Returns
    -------
    matplotlib.axes.Axes
        Blue bars for kept tokens, grey for cut ones (their probability
        before filtering), and a black step line for the renormalised
        probabilities of the kept ones.
    """
    before = _check_distribution(probs, "probs")
    after = _check_distribution(filtered_probs, "filtered_probs")
    if after.shape != before.shape:
        raise ValueError(
            f"filtered_probs has {after.shape[0]} tokens but probs has "
            f"{before.shape[0]}; filter the same logits the probabilities come from"
        )
    ax = _new_axes(ax, figsize=(9.0, 4.2))
    before_np, after_np = before.numpy(), after.numpy()
    positive = before_np[before_np > 0]
    bottom = positive.min() / 2 if log_scale else 0.0
    draw_kept_and_cut_bars(ax, before_np, after_np > 0, bottom)
    kept = np.flatnonzero(after_np > 0)
    ax.step(kept, after_np[kept], where="mid", color=INK_COLOR, linewidth=1.5)

    ax.set_xlim(-0.5, len(before_np) - 0.5)
    ax.set_xlabel("token, most likely first")
    ax.set_ylabel("probability")
    if log_scale:
        ax.set_yscale("log")
        ax.set_ylim(bottom, 1.0)
    else:
        ax.set_ylim(0, probability_ylim(before_np, after_np))
    ax.grid(False, axis="x")
    ax.set_title(title if title is not None else "Kept and cut tokens")
    kept_and_cut_legend(ax)
    return ax


def plot_timings(
    times_ms: Mapping[str, float],
    *,
    reference: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Horizontal bars of measured times on a log axis, fastest at the top.

    Parameters
    ----------
    times_ms : mapping of str to float
        Method name to time in milliseconds (each > 0).
    reference : str, optional
        A method whose time is marked with a dashed line, and written next
        to every bar as a ratio ("2.5x").
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    title : str, optional
        Default "Time per call".

    Returns
    -------
    matplotlib.axes.Axes
    """
    if not times_ms or any(not (t > 0 and math.isfinite(t)) for t in times_ms.values()):
        raise ValueError("times_ms must map method names to finite times > 0")
    if reference is not None and reference not in times_ms:
        raise ValueError(f"reference {reference!r} is not one of {list(times_ms)}")
    ax = _new_axes(ax, figsize=(9.0, 0.55 * len(times_ms) + 1.6))
    ordered = sorted(times_ms.items(), key=lambda item: item[1], reverse=True)
    names = [name for name, _ in ordered]
    values = np.array([time for _, time in ordered])

    ax.barh(names, values, color=PROBABILITY_COLOR, height=0.6)
    ax.set_xscale("log")
    ax.set_xlim(values.min() / 3, values.max() * 6)
    if reference is not None:
        base = times_ms[reference]
        ax.axvline(base, color=INK_COLOR, linestyle="--", linewidth=1.5)
        for y, value in enumerate(values):
            ax.text(value * 1.15, y, f"{value / base:.1f}x", va="center")
    ax.grid(False, axis="y")
    ax.set_xlabel("milliseconds per call (log scale)")
    ax.set_title(title if title is not None else "Time per call")
    return ax
