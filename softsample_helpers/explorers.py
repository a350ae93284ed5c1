"""Interactive explorers: move a slider, see the distribution change at once.

Three widgets, each an ``ipywidgets.VBox`` that works with default
arguments and with 2 to 50 categories:

- :func:`softmax_explorer`: logits and temperature in, probabilities and
  entropy out.
- :func:`extreme_logits_explorer`: one logit dragged to +-1000; the naive
  and the stable softmax side by side, on a line that marks where ``exp``
  overflows and underflows.
- :func:`sampling_explorer`: draws samples and compares their frequencies
  with the probabilities, with 95% intervals and a chi-square p-value.

Why they are fast: each figure is drawn in full once, with matplotlib's Agg
renderer, and saved as a background; a slider then only updates the bars
and text that move, redraws those on the saved background ("blitting") and
sends one PNG to an ``ipywidgets.Image``. That takes a few milliseconds,
where clearing an ``Output`` widget and plotting again takes about a
hundred. The y axis snaps to a few fixed heights, so a full redraw is needed
only when the bars outgrow the axis.

Why they never fail silently: every callback runs inside a guard that shows
any exception, with its traceback, in the explorer's message area and
keeps the explorer usable.

Displayed in a notebook, an explorer also offers a PNG of its current
figure, so a notebook viewed without a kernel (GitHub, nbviewer, an HTML
export) still shows the figure; JupyterLab shows the live widget. Its text
repr is short and stable (``SoftmaxExplorer(categories=5)``), as nbval
compares it.

Sliders send values while they move (``continuous_update``): ipywidgets
keeps at most one message in flight and sends only the latest value, so a
fast drag cannot queue up redraws.

In class, ``make present`` serves ``notebooks/presentation/explorers.ipynb``
with Voila: the three explorers on one page, code hidden.
"""

from __future__ import annotations

import base64
import html
import io
import math
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from PIL import Image as PILImage

from softsample_helpers import plots
from softsample_helpers._checks import (
    FLOAT_DTYPES,
    check_count,
    check_labels,
    check_positive_number,
)
from softsample_helpers.numerics import entropy, exp_limits, naive_softmax
from softsample_helpers.sampling import sample_categorical
from softsample_helpers.stats import (
    GoodnessOfFit,
    empirical_frequencies,
    goodness_of_fit,
)

#: The explorers accept this many categories, no fewer and no more.
MIN_CATEGORIES, MAX_CATEGORIES = 2, 50
#: The temperature slider spans 10**-2 to 10**2 on a log scale.
TEMPERATURE_RANGE = (0.01, 100.0)
#: The logit sliders of the extreme explorer reach this far either way.
EXTREME_LOGIT = 1000.0
#: Sample sizes offered by the sampling explorer's slider.
SAMPLE_SIZES: tuple[int, ...] = (
    *(10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000),
    *(10_000, 20_000, 50_000, 100_000),
)
#: Heights the probability axis snaps to, so that it rarely needs redrawing.
Y_LIMITS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.05)
#: Bars get their value written above them up to this many categories.
MAX_VALUE_LABELS = 10

_FIGURE_DPI = 96
_WARNING_STYLE = (
    "color:#7a1d00;background:#fff0eb;border-left:4px solid #d55e00;"
    "padding:6px 10px;margin:4px 0"
)


# Checking arguments ---------------------------------------------------------


def _check_explorer_logits(logits: object, default: Sequence[float]) -> torch.Tensor:
    """Logits for an explorer: 1-D, finite, 2 to 50 categories, as float64."""
    if logits is None:
        return torch.tensor(default, dtype=torch.float64)
    if isinstance(logits, list | tuple):
        try:
            logits = torch.tensor(logits, dtype=torch.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"logits must be a 1-D tensor or a list of numbers, got a "
                f"{type(logits).__name__} that torch.tensor cannot read ({error})"
            ) from None
    if not isinstance(logits, torch.Tensor):
        raise TypeError(
            f"logits must be a 1-D tensor or a list of numbers, got "
            f"{type(logits).__name__}; wrap it with torch.tensor(...)"
        )
    if not logits.is_floating_point():
        raise TypeError(
            f"logits must be a floating-point tensor, got dtype {logits.dtype}; "
            f"convert it with logits.float()"
        )
    if logits.dim() != 1:
        raise ValueError(
            f"logits must have shape (vocab,), one score per category, got "
            f"{tuple(logits.shape)}; pick one row with logits[0]"
        )
    vocab = logits.shape[0]
    if not MIN_CATEGORIES <= vocab <= MAX_CATEGORIES:
        raise ValueError(
            f"an explorer shows {MIN_CATEGORIES} to {MAX_CATEGORIES} categories, "
            f"got {vocab}; pass a shorter slice such as logits[:{MAX_CATEGORIES}]"
        )
    if not torch.isfinite(logits).all():
        raise ValueError(
            "logits must all be finite for a slider to hold them; replace NaN "
            "and +-inf by a number such as -1000.0"
        )
    return logits.detach().to(torch.float64)


def _check_temperature(temperature: object) -> float:
    value = check_positive_number(temperature, "temperature")
    low, high = TEMPERATURE_RANGE
    if not low <= value <= high:
        raise ValueError(
            f"temperature must be between {low} and {high} for the slider, got "
            f"{value!r}"
        )
    return value


# A figure that redraws only what moves ---------------------------------------


class LiveFigure:
    """A matplotlib figure rendered to PNG, redrawing only its moving artists.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        A figure made with ``Figure(...)`` (not pyplot, so that the notebook's
        inline backend never shows it by itself).
    """

    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        self.canvas = FigureCanvasAgg(figure)
        self._dynamic: list[Artist] = []
        self._background: Any = None
        self.full_draws = 0  # how often the whole figure was drawn (for tests)

    def animate(self, *artists: Artist) -> None:
        """Mark artists as moving: left out of the background, redrawn each time."""
        for artist in artists:
            artist.set_animated(True)
            self._dynamic.append(artist)

    def invalidate(self) -> None:
        """Something static changed (an axis limit, a title): redraw it all next."""
        self._background = None

    def render(self) -> bytes:
        """Draw the figure and return it as PNG bytes."""
        if self._background is None:
            self.canvas.draw()
            # Freeze the layout found by the first draw: later draws need not
            # solve it again, and the axes stay put while bars move.
            self.figure.set_layout_engine("none")
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self.full_draws += 1
        else:
            self.canvas.restore_region(self._background)
        for artist in self._dynamic:
            self.figure.draw_artist(artist)

        width, height = self.canvas.get_width_height()
        pixels = PILImage.frombuffer(
            "RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1
        )
        buffer = io.BytesIO()
        # Level 1 compresses a flat-coloured chart nearly as well as level 6
        # in a fraction of the time.
        pixels.convert("RGB").save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


def _snap_ylim(ax: Axes, top: float, live: LiveFigure) -> None:
    """Set the y limit to the smallest fixed height above ``top``."""
    target = next((limit for limit in Y_LIMITS if top <= limit), Y_LIMITS[-1])
    if ax.get_ylim()[1] != target:
        ax.set_ylim(0, target)
        live.invalidate()


def _value_labels(ax: Axes, vocab: int, live: LiveFigure) -> list[Text]:
    """Text above each bar, written only when the categories are few."""
    if vocab > MAX_VALUE_LABELS:
        return []
    texts = [
        ax.text(i, 0, "", ha="center", va="bottom", fontsize="small")
        for i in range(vocab)
    ]
    live.animate(*texts)
    return texts


def _update_value_labels(
    texts: list[Text], values: np.ndarray, x_offset: float = 0.0
) -> None:
    for i, (text, value) in enumerate(zip(texts, values, strict=False)):
        text.set_position((i + x_offset, value))
        text.set_text(f"{value:.2f}" if value >= 0.005 or value == 0 else "<0.01")


def _slider_grid(sliders: Sequence[widgets.Widget]) -> widgets.Widget:
    """Sliders one under another, or in columns when there are many."""
    if len(sliders) <= 6:
        return widgets.VBox(list(sliders))
    return widgets.GridBox(
        list(sliders),
        layout=widgets.Layout(
            grid_template_columns="repeat(auto-fill, minmax(380px, 1fr))",
            max_height="260px",
            overflow="auto",
        ),
    )


def _logit_sliders(
    logits: torch.Tensor, labels: list[str], limit: float, step: float
) -> tuple[widgets.FloatSlider, ...]:
    return tuple(
        widgets.FloatSlider(
            value=float(value),
            min=-limit,
            max=limit,
            step=step,
            description=f"logit {label}",
            readout_format=".1f",
            style={"description_width": "90px"},
            layout=widgets.Layout(width="380px"),
        )
        for value, label in zip(logits.tolist(), labels, strict=True)
    )


def _temperature_slider(temperature: float) -> widgets.FloatLogSlider:
    low, high = TEMPERATURE_RANGE
    return widgets.FloatLogSlider(
        value=temperature,
        base=10,
        min=math.log10(low),
        max=math.log10(high),
        step=0.02,
        description="temperature",
        readout_format=".3g",
        style={"description_width": "90px"},
        layout=widgets.Layout(width="420px"),
    )


def _logit_limit(logits: torch.Tensor) -> float:
    """Slider range: +-10, or wider to hold the given logits."""
    return max(10.0, float(math.ceil(logits.abs().max().item())))


# The common frame of the three explorers ------------------------------------


class Explorer(widgets.VBox):
    """Controls above a live figure, a readout and a message area.

    Subclasses build their figure and controls, then call :meth:`_finish`.
    """

    vocab: int
    live: LiveFigure

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Natural size, shrinking on narrow screens; without a width a flex
        # column would stretch (and blur) the picture to the page's width.
        self.image = widgets.Image(
            format="png",
            layout=widgets.Layout(
                max_width="100%", height="auto", align_self="flex-start"
            ),
        )
        # Readouts a little larger than body text: they are read from afar.
        self.readout = widgets.HTML(style={"font_size": "1.1em"})
        self.message = widgets.HTML(layout=widgets.Layout(display="none"))
        self.add_class("softsample-explorer")

    def _finish(self, controls: Sequence[widgets.Widget]) -> None:
        self.children = (*controls, self.image, self.readout, self.message)
        self._guarded(self._redraw)()

    def _redraw(self) -> None:
        """Recompute, update the artists and readout, render the PNG."""
        raise NotImplementedError

    def _guarded(self, function: Callable[..., None]) -> Callable[..., None]:
        """Wrap a callback so that an error is shown, not swallowed or raised."""

        def run(*args: Any) -> None:
            try:
                function(*args)
            except Exception as error:  # shown to the learner, never swallowed
                self._show_error(error)
            else:
                self._clear_error()

        return run

    def _observe_all(self, controls: Sequence[widgets.Widget]) -> None:
        redraw = self._guarded(lambda _change: self._redraw())
        for control in controls:
            control.observe(redraw, names="value")

    def _show_error(self, error: BaseException) -> None:
        details = "".join(traceback.format_exception(error))
        self.message.value = (
            f'<div style="{_WARNING_STYLE}"><b>The explorer could not redraw:</b> '
            f"{html.escape(type(error).__name__)}: {html.escape(str(error))}"
            f"<details><summary>Details</summary><pre>{html.escape(details)}</pre>"
            f"</details></div>"
        )
        self.message.layout.display = None

    def _clear_error(self) -> None:
        if self.message.value:
            self.message.value = ""
            self.message.layout.display = "none"

    def _render(self) -> None:
        self.image.value = self.live.render()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None and self.image.value:
            # A static copy of the figure for viewers without a kernel.
            bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle

    def __repr__(self) -> str:
        # Short and stable: nbval compares it, and the default repr would
        # list every child widget.
        return f"{type(self).__name__}(categories={self.vocab})"


def _new_figure(figsize: tuple[float, float]) -> Figure:
    with plots.course_style():
        return Figure(figsize=figsize, dpi=_FIGURE_DPI, layout="constrained")


# softmax_explorer -------------------------------------------------------------


class SoftmaxExplorer(Explorer):
    """A slider per logit and a temperature slider over ``softmax(logits / T)``.

    Attributes
    ----------
    logit_sliders : tuple of ipywidgets.FloatSlider
    temperature_slider : ipywidgets.FloatLogSlider
    probs : numpy.ndarray
        The probabilities drawn, float64 of shape ``(vocab,)``.
    entropy : float
        Their entropy in nats, as shown in the readout.
    bars : matplotlib.container.BarContainer
    """

    def __init__(
        self, logits: torch.Tensor, temperature: float, labels: list[str]
    ) -> None:
        super().__init__()
        self.vocab = logits.shape[0]
        self.labels = labels
        self.logit_sliders = _logit_sliders(logits, labels, _logit_limit(logits), 0.1)
        self.temperature_slider = _temperature_slider(temperature)
        self.probs = np.zeros(self.vocab)
        self.entropy = 0.0

        with plots.course_style():
            figure = _new_figure((8.0, 4.2))
            self.live = LiveFigure(figure)
            self.ax = figure.add_subplot()
            self.bars = plots.draw_probability_bars(self.ax, self.probs)
            plots.set_category_ticks(self.ax, labels)
            self.ax.set_ylabel("probability")
            self.ax.set_title("softmax(logits / temperature)")
            self.live.animate(*self.bars.patches)
            self.value_texts = _value_labels(self.ax, self.vocab, self.live)

        controls = [*self.logit_sliders, self.temperature_slider]
        self._observe_all(controls)
        self._finish([_slider_grid(self.logit_sliders), self.temperature_slider])

    def _redraw(self) -> None:
        logits = torch.tensor(
            [s.value for s in self.logit_sliders], dtype=torch.float64
        )
        temperature = float(self.temperature_slider.value)
        probs = torch.softmax(logits / temperature, dim=-1)
        self.probs = probs.numpy()
        self.entropy = float(entropy(probs))

        for bar, height in zip(self.bars.patches, self.probs, strict=True):
            bar.set_height(height)
        _update_value_labels(self.value_texts, self.probs)
        _snap_ylim(self.ax, 1.12 * float(self.probs.max()), self.live)
        self._render()

        top = int(self.probs.argmax())
        self.readout.value = (
            f"Entropy: <b>{self.entropy:.3f}</b> nats (uniform over {self.vocab} "
            f"categories: {math.log(self.vocab):.3f}). Most likely: "
            f"<b>{html.escape(self.labels[top])}</b> with probability "
            f"{self.probs[top]:.3f}."
        )


def softmax_explorer(
    logits: torch.Tensor | Sequence[float] | None = None,
    *,
    temperature: float = 1.0,
    labels: Sequence[str] | None = None,
) -> SoftmaxExplorer:
    """Sliders for each logit and the temperature, bars of the probabilities.

    Parameters
    ----------
    logits : torch.Tensor or list of float, optional
        Starting scores of shape ``(vocab,)``, 2 to 50 finite values; default
        ``[2.0, 1.0, 0.5, 0.0, -1.0]``. The sliders span +-10, or further if
        a logit needs it.
    temperature : float
        Starting temperature, between 0.01 and 100 (the slider is log-scale).
    labels : sequence of str, optional
        One name per category.

    Returns
    -------
    SoftmaxExplorer
        An ``ipywidgets.VBox``; display it as the last line of a cell.
    """
    logits_t = _check_explorer_logits(logits, default=[2.0, 1.0, 0.5, 0.0, -1.0])
    return SoftmaxExplorer(
        logits_t, _check_temperature(temperature), check_labels(labels, len(logits_t))
    )


# extreme_logits_explorer ------------------------------------------------------


class ExtremeLogitsExplorer(Explorer):
    """One logit dragged to +-1000: naive against stable softmax in a dtype.

    Attributes
    ----------
    logit_slider : ipywidgets.FloatSlider
        The dragged logit, ``logits[index]``.
    shift_slider : ipywidgets.FloatSlider
        A number added to every logit (softmax ignores it; ``exp`` does not).
    logits : torch.Tensor
        The logits in ``dtype``, shape ``(vocab,)``.
    naive_probs, stable_probs : numpy.ndarray
        float64 copies of both results; the naive one may hold NaN.
    naive_bars, stable_bars : matplotlib.container.BarContainer
        NaN bars are drawn at height 0; a hatched warning bar marks them.
    """

    def __init__(
        self, logits: torch.Tensor, index: int, dtype: torch.dtype, labels: list[str]
    ) -> None:
        super().__init__()
        self.vocab = logits.shape[0]
        self.index = index
        self.dtype = dtype
        self.labels = labels
        self._base_logits = logits
        self.limits = exp_limits(dtype)
        self.logit_slider = widgets.FloatSlider(
            value=float(logits[index]),
            min=-EXTREME_LOGIT,
            max=EXTREME_LOGIT,
            step=1.0,
            description=f"logit {labels[index]}",
            readout_format=".0f",
            style={"description_width": "150px"},
            layout=widgets.Layout(width="640px"),
        )
        self.shift_slider = widgets.FloatSlider(
            value=0.0,
            min=-EXTREME_LOGIT,
            max=EXTREME_LOGIT,
            step=1.0,
            description="add to every logit",
            readout_format=".0f",
            style={"description_width": "150px"},
            layout=widgets.Layout(width="640px"),
        )
        self.naive_probs = np.zeros(self.vocab)
        self.stable_probs = np.zeros(self.vocab)
        self._build_figure()
        self._observe_all([self.logit_slider, self.shift_slider])
        self._finish([self.logit_slider, self.shift_slider])

    def _build_figure(self) -> None:
        dtype_name = str(self.dtype).replace("torch.", "")
        with plots.course_style():
            figure = _new_figure((9.0, 5.4))
            self.live = LiveFigure(figure)
            grid = figure.add_gridspec(2, 2, height_ratios=(1, 2.6))
            self.line_ax = figure.add_subplot(grid[0, :])
            self.naive_ax = figure.add_subplot(grid[1, 0])
            self.stable_ax = figure.add_subplot(grid[1, 1], sharey=self.naive_ax)

            limit = 2.1 * EXTREME_LOGIT
            for (low, high), (_, color, hatch) in zip(
                plots.exp_regions(self.dtype), plots.EXP_REGIONS, strict=True
            ):
                self.line_ax.axvspan(
                    max(low, -limit),
                    min(high, limit),
                    color=color,
                    hatch=hatch,
                    alpha=0.45,
                    linewidth=0,
                )
            self.line_ax.set_xscale("symlog", linthresh=10.0)
            self.line_ax.set_xlim(-limit, limit)
            self.line_ax.set_ylim(0, 1)
            self.line_ax.set_yticks([])
            self.line_ax.grid(False)
            self.line_ax.set_xlabel(f"logit value (symmetric log scale), {dtype_name}")
            self.line_ax.set_title(
                f"Where exp breaks in {dtype_name}: ▼ the dragged logit, | the others"
            )
            # Names on the bands themselves: no legend to look up.
            for x, name in (
                (-6 * EXTREME_LOGIT / 10, "exp → 0"),
                (0.0, "ordinary numbers"),
                (6 * EXTREME_LOGIT / 10, "exp → inf"),
            ):
                self.line_ax.text(
                    x,
                    0.8,
                    name,
                    ha="center",
                    va="center",
                    fontsize="small",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5},
                )
            (self.others_marker,) = self.line_ax.plot(
                [],
                [],
                linestyle="none",
                marker="|",
                markersize=22,
                markeredgewidth=2.5,
                color=plots.INK_COLOR,
            )
            (self.dragged_marker,) = self.line_ax.plot(
                [],
                [],
                linestyle="none",
                marker="v",
                markersize=16,
                color=plots.INK_COLOR,
            )
            self.live.animate(self.others_marker, self.dragged_marker)

            self.naive_bars, self.nan_bars, self.nan_texts = self._result_panel(
                self.naive_ax, "naive: exp(x) / sum(exp(x))"
            )
            self.stable_bars, _, _ = self._result_panel(
                self.stable_ax, "stable: subtract the max first"
            )
            self.stable_ax.tick_params(labelleft=False)
            self.naive_ax.set_ylabel("probability")

    def _result_panel(
        self, ax: Axes, title: str
    ) -> tuple[BarContainer, list[Rectangle], list[Text]]:
        bars = plots.draw_probability_bars(ax, np.zeros(self.vocab))
        plots.set_category_ticks(ax, self.labels)
        ax.set_ylim(0, 1.05)
        ax.set_title(title, fontsize="medium")
        self.live.animate(*bars.patches)
        nan_bars = [
            Rectangle(
                (i - 0.4, 0),
                0.8,
                1.0,
                facecolor="white",
                edgecolor=plots.WARNING_COLOR,
                hatch="xx",
                linewidth=1.5,
                visible=False,
            )
            for i in range(self.vocab)
        ]
        nan_texts = [
            ax.text(
                i,
                0.5,
                "NaN",
                ha="center",
                va="center",
                rotation=0 if self.vocab <= 6 else 90,
                color=plots.WARNING_COLOR,
                fontweight="bold",
                visible=False,
                fontsize="medium" if self.vocab <= 12 else "xx-small",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
            )
            for i in range(self.vocab)
        ]
        for patch in nan_bars:
            ax.add_patch(patch)
        self.live.animate(*nan_bars, *nan_texts)
        return bars, nan_bars, nan_texts

    def _redraw(self) -> None:
        work = self._base_logits.clone()
        work[self.index] = float(self.logit_slider.value)
        work = work + float(self.shift_slider.value)
        self.logits = work.to(self.dtype)

        # The dtype under study is where the arithmetic happens; float64 is
        # only used to hand the results to matplotlib.
        naive = naive_softmax(self.logits)
        stable = torch.softmax(self.logits, dim=-1)
        self.naive_probs = naive.double().numpy()
        self.stable_probs = stable.double().numpy()

        is_nan = np.isnan(self.naive_probs)
        for bar, height in zip(self.naive_bars.patches, self.naive_probs, strict=True):
            bar.set_height(0.0 if math.isnan(height) else height)
        for bar, height in zip(
            self.stable_bars.patches, self.stable_probs, strict=True
        ):
            bar.set_height(height)
        for flag, patch, text in zip(
            is_nan, self.nan_bars, self.nan_texts, strict=True
        ):
            patch.set_visible(bool(flag))
            text.set_visible(bool(flag))

        values = self.logits.double().numpy()
        others = np.delete(values, self.index)
        self.others_marker.set_data(others, np.full_like(others, 0.3))
        self.dragged_marker.set_data([values[self.index]], [0.42])
        self._render()
        self.readout.value = self._explain(is_nan)

    def _explain(self, is_nan: np.ndarray) -> str:
        """Say in words what happened inside the naive formula."""
        dtype_name = str(self.dtype).replace("torch.", "")
        exps = torch.exp(self.logits)
        total = exps.sum()
        dragged = float(self.logits[self.index])
        lines = [
            f"In {dtype_name}, exp overflows above {self.limits.overflow:.2f} and "
            f"rounds to 0 below {self.limits.zero:.2f}.",
            f"Dragged logit {dragged:.0f}: exp gives "
            f"<b>{float(exps[self.index]):.4g}</b>; the sum of all exps is "
            f"<b>{float(total):.4g}</b>.",
        ]
        if is_nan.any():
            cause = "inf / inf" if torch.isinf(total) else "0 / 0"
            lines.append(
                f"Naive softmax: <b>{int(is_nan.sum())} of {self.vocab}</b> "
                f"probabilities are NaN ({cause})."
            )
        else:
            lines.append("Naive softmax: no NaN.")
        largest = float(self.logits.max())
        lines.append(
            f"Stable softmax: subtract the largest logit ({largest:.0f}), so the "
            f"largest exp is exactly 1; the probabilities sum to "
            f"{float(self.stable_probs.sum()):.4f}."
        )
        return "<br>".join(lines)


def extreme_logits_explorer(
    logits: torch.Tensor | Sequence[float] | None = None,
    *,
    index: int = 0,
    dtype: torch.dtype = torch.float32,
    labels: Sequence[str] | None = None,
) -> ExtremeLogitsExplorer:
    """Drag one logit to +-1000 and watch the naive softmax break.

    Parameters
    ----------
    logits : torch.Tensor or list of float, optional
        Starting scores of shape ``(vocab,)``, 2 to 50 finite values; default
        ``[3.0, 1.0, 0.0, -2.0]``.
    index : int
        Which logit the slider drags.
    dtype : torch.dtype
        Where the arithmetic happens: float16, bfloat16, float32 (default)
        or float64. Its overflow and underflow limits are marked.
    labels : sequence of str, optional
        One name per category.

    Returns
    -------
    ExtremeLogitsExplorer
        An ``ipywidgets.VBox``.
    """
    logits_t = _check_explorer_logits(logits, default=[3.0, 1.0, 0.0, -2.0])
    vocab = logits_t.shape[0]
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError(f"index must be an integer, got {type(index).__name__}")
    if not -vocab <= index < vocab:
        raise ValueError(
            f"index={index} is out of range for {vocab} logits; use 0 to {vocab - 1}"
        )
    if dtype not in FLOAT_DTYPES:
        allowed = ", ".join(str(d) for d in FLOAT_DTYPES)
        raise TypeError(f"dtype must be one of {allowed}; got {dtype!r}")
    if logits_t.abs().max() > EXTREME_LOGIT:
        raise ValueError(
            f"logits must lie within +-{EXTREME_LOGIT:.0f}, the slider's range; "
            f"got {logits_t.abs().max().item():.4g}"
        )
    return ExtremeLogitsExplorer(
        logits_t, index % vocab, dtype, check_labels(labels, vocab)
    )


# sampling_explorer ------------------------------------------------------------


class SamplingExplorer(Explorer):
    """Draw samples and compare their frequencies with the probabilities.

    Attributes
    ----------
    logit_sliders : tuple of ipywidgets.FloatSlider
    temperature_slider : ipywidgets.FloatLogSlider
    num_samples_slider : ipywidgets.SelectionSlider
    seed_input : ipywidgets.BoundedIntText
    resample_button : ipywidgets.Button
        Adds 1 to the seed, which draws a new sample.
    probs, frequencies : numpy.ndarray
        float64 of shape ``(vocab,)``: what is drawn as bars.
    interval_low, interval_high : numpy.ndarray
        The 95% Wilson interval of each frequency.
    fit : GoodnessOfFit
        Pearson's chi-square test of the samples against ``probs``.
    """

    def __init__(
        self,
        logits: torch.Tensor,
        temperature: float,
        num_samples: int,
        seed: int,
        labels: list[str],
    ) -> None:
        super().__init__()
        self.vocab = logits.shape[0]
        self.labels = labels
        self.logit_sliders = _logit_sliders(logits, labels, _logit_limit(logits), 0.1)
        self.temperature_slider = _temperature_slider(temperature)
        sizes = sorted({*SAMPLE_SIZES, num_samples})
        self.num_samples_slider = widgets.SelectionSlider(
            options=[(f"{n:,}", n) for n in sizes],
            value=num_samples,
            description="samples",
            style={"description_width": "90px"},
            layout=widgets.Layout(width="420px"),
        )
        self.seed_input = widgets.BoundedIntText(
            value=seed,
            min=0,
            max=2**31 - 1,
            description="seed",
            style={"description_width": "90px"},
            layout=widgets.Layout(width="200px"),
        )
        self.resample_button = widgets.Button(
            description="Draw new samples",
            layout=widgets.Layout(width="auto"),
            icon="refresh",
            tooltip="Add 1 to the seed and draw again",
        )
        self.resample_button.on_click(self._guarded(self._next_seed))
        self.probs = np.zeros(self.vocab)
        self.frequencies = np.zeros(self.vocab)

        with plots.course_style():
            figure = _new_figure((8.5, 4.4))
            self.live = LiveFigure(figure)
            self.ax = figure.add_subplot()
            zeros = np.zeros(self.vocab)
            self.probability_bars = plots.draw_probability_bars(
                self.ax, zeros, offset=-0.2, width=0.4
            )
            self.frequency_bars = plots.draw_frequency_bars(
                self.ax, zeros, offset=0.2, width=0.4
            )
            self.interval_lines = LineCollection(
                [], colors=plots.INK_COLOR, linewidths=2.0, label="95% interval"
            )
            self.ax.add_collection(self.interval_lines)
            plots.set_category_ticks(self.ax, labels)
            self.ax.set_ylabel("probability or frequency")
            self.ax.set_title("Samples against the distribution they come from")
            self.ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncols=3)
            self.live.animate(
                *self.probability_bars.patches,
                *self.frequency_bars.patches,
                self.interval_lines,
            )

        controls = [
            *self.logit_sliders,
            self.temperature_slider,
            self.num_samples_slider,
            self.seed_input,
        ]
        self._observe_all(controls)
        self._finish(
            [
                _slider_grid(self.logit_sliders),
                self.temperature_slider,
                self.num_samples_slider,
                widgets.HBox([self.seed_input, self.resample_button]),
            ]
        )

    def _next_seed(self, _button: widgets.Button) -> None:
        self.seed_input.value = (self.seed_input.value + 1) % (2**31)

    def _redraw(self) -> None:
        logits = torch.tensor(
            [s.value for s in self.logit_sliders], dtype=torch.float64
        )
        temperature = float(self.temperature_slider.value)
        num_samples = int(self.num_samples_slider.value)
        generator = torch.Generator().manual_seed(int(self.seed_input.value))

        probs = torch.softmax(logits / temperature, dim=-1)
        samples = sample_categorical(
            logits, num_samples, temperature=temperature, generator=generator
        )
        frequencies = empirical_frequencies(samples, self.vocab)
        self.fit: GoodnessOfFit = goodness_of_fit(samples, probs)
        segments = plots.interval_segments(frequencies, num_samples, offset=0.2)
        self.interval_low = segments[:, 0, 1]
        self.interval_high = segments[:, 1, 1]
        self.probs = probs.numpy()
        self.frequencies = frequencies.numpy()

        for bar, height in zip(self.probability_bars.patches, self.probs, strict=True):
            bar.set_height(height)
        for bar, height in zip(
            self.frequency_bars.patches, self.frequencies, strict=True
        ):
            bar.set_height(height)
        self.interval_lines.set_segments(list(segments))
        top = max(float(self.probs.max()), float(self.interval_high.max()))
        _snap_ylim(self.ax, 1.03 * top, self.live)
        self._render()
        self.readout.value = self._explain(num_samples)

    def _explain(self, num_samples: int) -> str:
        statistic, p_value, dof = self.fit
        if dof == 0:
            verdict = "only one category can occur here, so there is nothing to test"
        else:
            verdict = (
                f"chi-square {float(statistic):.2f} on {int(dof)} degrees of "
                f"freedom, <b>p = {float(p_value):.3g}</b>: "
                + (
                    "a result this far off happens less than 1 time in 100 by "
                    "chance, so suspect the sampler"
                    if float(p_value) < 0.01
                    else "consistent with the probabilities"
                )
            )
        return (
            f"{num_samples:,} samples, seed {self.seed_input.value}. "
            f"Goodness of fit: {verdict}."
        )


def sampling_explorer(
    logits: torch.Tensor | Sequence[float] | None = None,
    *,
    temperature: float = 1.0,
    num_samples: int = 1000,
    seed: int = 0,
    labels: Sequence[str] | None = None,
) -> SamplingExplorer:
    """Sample from ``softmax(logits / T)`` and compare frequencies to probabilities.

    Parameters
    ----------
    logits : torch.Tensor or list of float, optional
        Starting scores of shape ``(vocab,)``, 2 to 50 finite values; default
        ``[2.0, 1.0, 0.5, 0.0, -1.0]``.
    temperature : float
        Starting temperature, between 0.01 and 100.
    num_samples : int
        Starting sample size, 1 to 100,000.
    seed : int
        Seed of the ``torch.Generator`` for the draws; the button adds 1.
    labels : sequence of str, optional
        One name per category.

    Returns
    -------
    SamplingExplorer
        An ``ipywidgets.VBox``.
    """
    logits_t = _check_explorer_logits(logits, default=[2.0, 1.0, 0.5, 0.0, -1.0])
    num_samples = check_count(num_samples, "num_samples")
    if num_samples > SAMPLE_SIZES[-1]:
        raise ValueError(
            f"num_samples must be at most {SAMPLE_SIZES[-1]:,} to stay interactive, "
            f"got {num_samples:,}"
        )
    seed = check_count(seed, "seed", minimum=0)
    if seed >= 2**31:
        raise ValueError(f"seed must be below 2**31, got {seed}")
    return SamplingExplorer(
        logits_t,
        _check_temperature(temperature),
        num_samples,
        seed,
        check_labels(labels, len(logits_t)),
    )


# log_space_explorer -----------------------------------------------------------

#: The log-space explorer's gap slider reaches this far.
MAX_GAP = 400


class LogSpaceExplorer(Explorer):
    """One logit pushed far below the others: ``log(softmax)`` vs ``log_softmax``.

    The logits are ``[0, -1, -gap]``. The figure plots the log-probability of
    the last category against the gap, as each method computes it in
    float32: ``log_softmax`` follows the true line ``-gap - 0.31`` all the
    way, ``log(softmax(...))`` falls off a cliff to ``-inf`` where the
    probability itself rounds to 0.

    Attributes
    ----------
    gap_slider : ipywidgets.IntSlider
    probability : float
        ``softmax(logits)[-1]`` in float32.
    log_of_softmax, log_softmax : float
        The two log-probabilities of the last category, as drawn.
    """

    def __init__(self, gap: int, dtype: torch.dtype) -> None:
        super().__init__()
        self.vocab = 3
        self.dtype = dtype
        self.gap_slider = widgets.IntSlider(
            value=gap,
            min=0,
            max=MAX_GAP,
            description="gap",
            style={"description_width": "90px"},
            layout=widgets.Layout(width="520px"),
        )
        self.cliff = -exp_limits(dtype).zero  # past this, exp(-gap) rounds to 0

        with plots.course_style():
            figure = _new_figure((8.0, 4.4))
            self.live = LiveFigure(figure)
            self.ax = figure.add_subplot()
            gaps = np.linspace(0, MAX_GAP, 401)
            curves = self._log_probs(torch.tensor(gaps))
            self.ax.plot(
                gaps,
                curves[1],
                color=plots.PROBABILITY_COLOR,
                linewidth=3,
                label="log_softmax(logits)",
            )
            finite = np.isfinite(curves[0])
            self.ax.plot(
                gaps[finite],
                curves[0][finite],
                color=plots.WARNING_COLOR,
                linewidth=2,
                linestyle="--",
                label="log(softmax(logits))",
            )
            bottom = -1.05 * MAX_GAP
            self.ax.axvspan(
                self.cliff,
                MAX_GAP,
                color="#bbbbbb",
                alpha=0.25,
                hatch="xx",
                label=f"{str(dtype).removeprefix('torch.')} probability is exactly 0",
            )
            self.ax.set_xlim(-0.03 * MAX_GAP, 1.03 * MAX_GAP)
            self.ax.set_ylim(bottom - 0.05 * MAX_GAP, 0.05 * MAX_GAP)
            self.ax.set_xlabel("gap: how far the last logit sits below the top one")
            self.ax.set_ylabel("log-probability of the last category")
            self.ax.set_title("Log space keeps what the probability cannot")
            self.ax.legend(loc="upper right", frameon=True, framealpha=0.95)
            self.marker_exact = self.ax.plot(
                [], [], "o", markersize=12, color=plots.PROBABILITY_COLOR
            )[0]
            self.marker_log = self.ax.plot(
                [], [], "v", markersize=14, color=plots.WARNING_COLOR
            )[0]
            self.inf_label = self.ax.text(
                0,
                bottom,
                "",
                color=plots.WARNING_COLOR,
                fontweight="bold",
                ha="left",
                va="bottom",
            )
            self.live.animate(self.marker_exact, self.marker_log, self.inf_label)
            self._bottom = bottom

        self._observe_all([self.gap_slider])
        self._finish([self.gap_slider])

    def _log_probs(self, gaps: torch.Tensor) -> np.ndarray:
        """Both log-probabilities of the last category, shape ``(2, len(gaps))``."""
        logits = torch.stack(
            [torch.zeros_like(gaps), -torch.ones_like(gaps), -gaps], dim=-1
        ).to(self.dtype)
        log_of_softmax = torch.log(torch.softmax(logits, dim=-1))[:, -1]
        log_softmax = torch.log_softmax(logits, dim=-1)[:, -1]
        return torch.stack([log_of_softmax, log_softmax]).double().numpy()

    def _redraw(self) -> None:
        gap = int(self.gap_slider.value)
        log_of_softmax, log_softmax = self._log_probs(torch.tensor([float(gap)]))[:, 0]
        self.log_of_softmax, self.log_softmax = (
            float(log_of_softmax),
            float(log_softmax),
        )
        self.probability = math.exp(self.log_of_softmax)

        self.marker_exact.set_data([gap], [self.log_softmax])
        # -inf cannot be drawn: the triangle sits on the bottom edge instead.
        shown = (
            self.log_of_softmax if math.isfinite(self.log_of_softmax) else self._bottom
        )
        self.marker_log.set_data([gap], [shown])
        self.inf_label.set_position((gap + 0.02 * MAX_GAP, self._bottom))
        self.inf_label.set_text(
            "" if math.isfinite(self.log_of_softmax) else "log(softmax) = -inf"
        )
        self._render()
        self.readout.value = (
            f"<pre>probability            {self.probability:.4e}\n"
            f"log(softmax(logits))   {self.log_of_softmax:.4f}\n"
            f"log_softmax(logits)    {self.log_softmax:.4f}</pre>"
        )


def log_space_explorer(
    gap: int = 50, *, dtype: torch.dtype = torch.float32
) -> LogSpaceExplorer:
    """Push one logit far below; compare ``log(softmax)`` with ``log_softmax``.

    Parameters
    ----------
    gap : int
        Starting distance between the top logit and the last one, 0 to 400.
    dtype : torch.dtype
        The floating-point type the logits are computed in.

    Returns
    -------
    LogSpaceExplorer
        An ``ipywidgets.VBox``.
    """
    gap = check_count(gap, "gap", minimum=0)
    if gap > MAX_GAP:
        raise ValueError(f"gap must be at most {MAX_GAP}, got {gap}")
    if dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"dtype must be one of {', '.join(map(str, FLOAT_DTYPES))}; got {dtype!r}"
        )
    return LogSpaceExplorer(gap, dtype)


# Decoding ---------------------------------------------------------------------
# Appended by the decoding lessons (05, 06); imported here so that the
# sections above stay as they were.

from softsample_helpers.decoding import (  # noqa: E402
    check_min_p,
    check_top_k,
    check_top_p,
    example_next_token_logits,
    filter_logits,
)
from softsample_helpers.sampling import _search_blocks  # noqa: E402

#: The decoding explorer shows up to this many tokens (bars a pixel wide).
MAX_DECODING_TOKENS = 1000
#: Its probability axis (log scale) starts here; rarer tokens fall below it.
DECODING_FLOOR = 1e-6


def _check_decoding_logits(logits: object) -> torch.Tensor:
    """Logits for the decoding explorer: 1-D, finite, 2 to 1000 tokens, float64."""
    if isinstance(logits, list | tuple):
        logits = torch.tensor(logits, dtype=torch.float64)
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError(
            f"logits must be a 1-D floating-point tensor or a list of numbers, "
            f"got {type(logits).__name__}; wrap it with torch.tensor(...)"
        )
    if logits.dim() != 1 or not 2 <= logits.shape[0] <= MAX_DECODING_TOKENS:
        raise ValueError(
            f"logits must have shape (vocab,) with 2 to {MAX_DECODING_TOKENS} "
            f"tokens, got {tuple(logits.shape)}; pick one row with logits[0] or "
            f"the most likely tokens with logits.sort(descending=True).values"
            f"[:{MAX_DECODING_TOKENS}]"
        )
    if not torch.isfinite(logits).all():
        raise ValueError(
            "logits must all be finite for the explorer; replace NaN and +-inf "
            "by a number such as -1000.0"
        )
    return logits.detach().to(torch.float64)


class DecodingExplorer(Explorer):
    """Temperature, top-k, top-p and min-p over a long-tailed distribution.

    Attributes
    ----------
    temperature_slider : ipywidgets.FloatLogSlider
    top_k_slider : ipywidgets.IntSlider
        At the vocabulary size, top-k keeps everything (off).
    top_p_slider : ipywidgets.FloatSlider
        At 1.0, top-p keeps everything (off).
    min_p_slider : ipywidgets.FloatSlider
        At 0.0, min-p keeps everything (off).
    probs : numpy.ndarray
        ``softmax(logits / T)`` before filtering, float64 of shape ``(vocab,)``.
    filtered_probs : numpy.ndarray
        After filtering and renormalising: 0 for cut tokens.
    keep : numpy.ndarray
        bool of shape ``(vocab,)``: which tokens survive.
    bars : matplotlib.collections.PolyCollection
        One rectangle per token, its probability before filtering, coloured
        by whether the filters keep it.
    """

    def __init__(
        self,
        logits: torch.Tensor,
        temperature: float,
        top_k: int,
        top_p: float,
        min_p: float,
        labels: list[str],
    ) -> None:
        super().__init__()
        self.vocab = logits.shape[0]
        self.logits = logits
        self.labels = labels
        self.temperature_slider = _temperature_slider(temperature)
        knob = {"style": {"description_width": "90px"}}
        wide = widgets.Layout(width="420px")
        self.top_k_slider = widgets.IntSlider(
            value=top_k, min=1, max=self.vocab, description="top-k", layout=wide, **knob
        )
        self.top_p_slider = widgets.FloatSlider(
            value=top_p,
            min=0.01,
            max=1.0,
            step=0.01,
            description="top-p",
            layout=wide,
            **knob,
        )
        self.min_p_slider = widgets.FloatSlider(
            value=min_p,
            min=0.0,
            max=0.99,
            step=0.01,
            description="min-p",
            layout=wide,
            **knob,
        )
        # Start from the real bars: a log axis cannot scale bars of height 0.
        self.probs = torch.softmax(logits / temperature, dim=-1).numpy()
        self.filtered_probs = self.probs
        self.keep = np.ones(self.vocab, dtype=bool)

        with plots.course_style():
            figure = _new_figure((9.0, 4.4))
            self.live = LiveFigure(figure)
            self.ax = figure.add_subplot()
            self.bars = plots.draw_kept_and_cut_bars(
                self.ax, self.probs, self.keep, DECODING_FLOOR / 10
            )
            (self.renormalised_line,) = self.ax.step(
                [], [], where="mid", color=plots.INK_COLOR, linewidth=1.5
            )
            self.ax.set_yscale("log")
            self.ax.set_ylim(DECODING_FLOOR, 1.0)
            self.ax.set_xlim(-0.5, self.vocab - 0.5)
            self.ax.grid(False, axis="x")
            self.ax.set_xlabel("token, most likely first")
            self.ax.set_ylabel("probability (log scale)")
            self.ax.set_title("Which tokens the filters keep")
            plots.kept_and_cut_legend(self.ax)
            self.live.animate(self.bars, self.renormalised_line)

        controls = [
            self.temperature_slider,
            self.top_k_slider,
            self.top_p_slider,
            self.min_p_slider,
        ]
        self._observe_all(controls)
        self._finish(controls)

    def _settings(self) -> dict[str, Any]:
        """The slider values as ``filter_logits`` arguments (None when off)."""
        top_k = int(self.top_k_slider.value)
        top_p = float(self.top_p_slider.value)
        min_p = float(self.min_p_slider.value)
        return {
            "temperature": float(self.temperature_slider.value),
            "top_k": top_k if top_k < self.vocab else None,
            "top_p": top_p if top_p < 1.0 else None,
            "min_p": min_p if min_p > 0.0 else None,
        }

    def _redraw(self) -> None:
        settings = self._settings()
        probs = torch.softmax(self.logits / settings["temperature"], dim=-1)
        filtered = torch.softmax(filter_logits(self.logits, **settings), dim=-1)
        self.probs = probs.numpy()
        self.filtered_probs = filtered.numpy()
        self.keep = self.filtered_probs > 0

        plots.update_kept_and_cut_bars(
            self.bars, self.probs, self.keep, DECODING_FLOOR / 10
        )
        kept = np.flatnonzero(self.keep)
        self.renormalised_line.set_data(kept, self.filtered_probs[kept])
        self._render()
        self.readout.value = self._explain()

    def _explain(self) -> str:
        kept = int(self.keep.sum())
        mass = float(self.probs[self.keep].sum())
        top = int(self.probs.argmax())
        before = float(entropy(torch.from_numpy(self.probs)))
        after = float(entropy(torch.from_numpy(self.filtered_probs)))
        return (
            f"Kept <b>{kept}</b> of {self.vocab} tokens, holding "
            f"<b>{mass:.1%}</b> of the probability. After renormalising, "
            f"<b>{html.escape(self.labels[top])}</b> has probability "
            f"{self.filtered_probs[top]:.3f} (before: {self.probs[top]:.3f}). "
            f"Entropy {before:.2f} &rarr; {after:.2f} nats. Order: temperature, "
            f"top-k, top-p, min-p."
        )


def decoding_explorer(
    logits: torch.Tensor | Sequence[float] | None = None,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    min_p: float | None = None,
    labels: Sequence[str] | None = None,
) -> DecodingExplorer:
    """Four decoding knobs over a long-tailed distribution, kept and cut tokens.

    Parameters
    ----------
    logits : torch.Tensor or list of float, optional
        Scores of shape ``(vocab,)``, 2 to 1000 finite values; default the
        300-token ``example_next_token_logits()``. Shown in the given order,
        so pass them most likely first.
    temperature : float
        Starting temperature, between 0.01 and 100.
    top_k, top_p, min_p : optional
        Starting filters, as in ``filter_logits``; ``None`` starts a knob at
        its "off" end (top-k at the vocabulary size, top-p at 1, min-p at 0).
    labels : sequence of str, optional
        One name per token; the readout names the most likely one.

    Returns
    -------
    DecodingExplorer
        An ``ipywidgets.VBox``.
    """
    if logits is None:
        example, example_labels = example_next_token_logits()
        logits = example.double()
        labels = example_labels if labels is None else labels
    logits_t = _check_decoding_logits(logits)
    vocab = len(logits_t)
    top_k = check_top_k(top_k)
    top_p = check_top_p(top_p)
    min_p = check_min_p(min_p)
    if top_p is not None and top_p < 0.01:
        raise ValueError(f"top_p must be at least 0.01 for the slider, got {top_p!r}")
    if min_p is not None and min_p > 0.99:
        raise ValueError(f"min_p must be at most 0.99 for the slider, got {min_p!r}")
    return DecodingExplorer(
        logits_t,
        _check_temperature(temperature),
        vocab if top_k is None else min(top_k, vocab),
        1.0 if top_p is None else top_p,
        0.0 if min_p is None else min_p,
        check_labels(labels, vocab),
    )


#: Block sizes the inverse-CDF explorer offers.
EXPLORER_BLOCK_SIZES = (2, 4, 8, 16)
#: The inverse-CDF explorer shows at most this many tokens.
MAX_SEARCH_TOKENS = 64


class InverseCdfExplorer(Explorer):
    """One uniform number finds its token: first its block, then inside it.

    Each token is a bar spanning its slice of the cumulative probability,
    ``[cdf before it, cdf through it)``; the uniform ``u`` (scaled by the
    total) is a horizontal line, and the token whose slice it crosses is
    the draw. Shaded: the block the first search picked.

    Attributes
    ----------
    uniform_slider : ipywidgets.FloatSlider
    block_size_slider : ipywidgets.SelectionSlider
    token : int
        The drawn token, from the package's block search.
    block : int
        The block it lies in.
    """

    def __init__(
        self, logits: torch.Tensor, uniform: float, block_size: int, labels: list[str]
    ) -> None:
        super().__init__()
        self.vocab = logits.shape[0]
        self.labels = labels
        self.probs = torch.softmax(logits, dim=-1)
        self.cdf = self.probs.cumsum(dim=-1).numpy()
        before = self.cdf - self.probs.numpy()
        self.uniform_slider = widgets.FloatSlider(
            value=uniform,
            min=0.0,
            max=0.99,
            step=0.01,
            description="uniform u",
            readout_format=".2f",
            style={"description_width": "90px"},
            layout=widgets.Layout(width="420px"),
        )
        self.block_size_slider = widgets.SelectionSlider(
            options=list(EXPLORER_BLOCK_SIZES),
            value=block_size,
            description="block size",
            style={"description_width": "90px"},
            layout=widgets.Layout(width="420px"),
        )
        self.token = 0
        self.block = 0
        self._drawn_block_size = 0

        with plots.course_style():
            figure = _new_figure((9.0, 4.6))
            self.live = LiveFigure(figure)
            self.ax = figure.add_subplot()
            x = np.arange(self.vocab)
            self.slices = self.ax.bar(
                x,
                self.probs.numpy(),
                bottom=before,
                width=0.8,
                color=plots.PROBABILITY_COLOR,
                label="a token's slice",
            )
            self.block_span = Rectangle(
                (0, 0),
                0,
                1,
                facecolor=plots.FREQUENCY_COLOR,
                alpha=0.3,
                edgecolor="none",
                label="the chosen block",
            )
            self.ax.add_patch(self.block_span)
            (self.uniform_line,) = self.ax.plot(
                [-0.5, self.vocab - 0.5],
                [0, 0],
                color=plots.INK_COLOR,
                linewidth=1.5,
                label="uniform u",
            )
            self.chosen = Rectangle(
                (0, 0),
                0.8,
                0,
                facecolor=plots.FREQUENCY_COLOR,
                edgecolor=plots.INK_COLOR,
                linewidth=1.0,
                label="the drawn token",
            )
            self.ax.add_patch(self.chosen)
            self.boundaries = LineCollection(
                [], colors="#888888", linewidths=1.0, linestyles="dotted"
            )
            self.ax.add_collection(self.boundaries)
            self.ax.set_xlim(-0.5, self.vocab - 0.5)
            self.ax.set_ylim(0, 1.0)
            self.ax.grid(False, axis="x")
            self.ax.set_xlabel("token")
            self.ax.set_ylabel("cumulative probability")
            self.ax.set_title("Inverse CDF: u picks a block, then a token in it")
            self.ax.legend(loc="lower right")
            self.live.animate(self.block_span, self.uniform_line, self.chosen)

        controls = [self.uniform_slider, self.block_size_slider]
        self._observe_all(controls)
        self._finish(controls)

    def _redraw(self) -> None:
        uniform = float(self.uniform_slider.value)
        size = int(self.block_size_slider.value)
        uniforms = torch.tensor([[uniform]], dtype=torch.float64)
        probs = self.probs.unsqueeze(0)
        self.token = int(_search_blocks(probs, uniforms, block_size=size)[0, 0])
        self.block = self.token // size
        num_blocks = math.ceil(self.vocab / size)

        start = self.block * size
        stop = min(start + size, self.vocab)
        low = float(self.cdf[start - 1]) if start > 0 else 0.0
        high = float(self.cdf[stop - 1])
        self.block_span.set_bounds(start - 0.5, low, stop - start, high - low)
        self.uniform_line.set_ydata([uniform, uniform])
        token_low = float(self.cdf[self.token] - self.probs[self.token])
        self.chosen.set_bounds(
            self.token - 0.4, token_low, 0.8, float(self.probs[self.token])
        )
        edges = [b * size - 0.5 for b in range(1, num_blocks)]
        segments = [[(edge, 0.0), (edge, 1.0)] for edge in edges]
        if size != self._drawn_block_size:  # static lines: redraw everything
            self.boundaries.set_segments(segments)
            self._drawn_block_size = size
            self.live.invalidate()
        self._render()
        self.readout.value = (
            f"u = {uniform:.2f}. Step 1: search the {num_blocks} cumulative block "
            f"sums: u falls in block {self.block} (tokens {start} to {stop - 1}, "
            f"cumulative {low:.3f} to {high:.3f}). Step 2: search the "
            f"{stop - start} tokens of that block: <b>token {self.token}, "
            f"{html.escape(self.labels[self.token])}</b>. Looked at "
            f"{num_blocks + stop - start} numbers instead of {self.vocab}."
        )


def inverse_cdf_explorer(
    logits: torch.Tensor | Sequence[float] | None = None,
    *,
    uniform: float = 0.5,
    block_size: int = 8,
    labels: Sequence[str] | None = None,
) -> InverseCdfExplorer:
    """Drag a uniform number and watch the two-step (block, token) search.

    Parameters
    ----------
    logits : torch.Tensor or list of float, optional
        Scores of shape ``(vocab,)``, 2 to 64 finite values; default the 40
        most likely tokens of ``example_next_token_logits()``.
    uniform : float
        Starting value of ``u``, in [0, 0.99].
    block_size : int
        Starting block size, one of 2, 4, 8, 16.
    labels : sequence of str, optional
        One name per token.

    Returns
    -------
    InverseCdfExplorer
        An ``ipywidgets.VBox``.
    """
    if logits is None:
        example, example_labels = example_next_token_logits()
        logits = example[:40].double()
        labels = example_labels[:40] if labels is None else labels
    logits_t = _check_decoding_logits(logits)
    if logits_t.shape[0] > MAX_SEARCH_TOKENS:
        raise ValueError(
            f"the inverse-CDF explorer shows at most {MAX_SEARCH_TOKENS} tokens, "
            f"got {logits_t.shape[0]}; pass logits[:{MAX_SEARCH_TOKENS}]"
        )
    if isinstance(uniform, bool) or not isinstance(uniform, int | float):
        raise TypeError(f"uniform must be a number in [0, 0.99], got {uniform!r}")
    if not 0.0 <= uniform <= 0.99:
        raise ValueError(f"uniform must be a number in [0, 0.99], got {uniform!r}")
    if block_size not in EXPLORER_BLOCK_SIZES:
        raise ValueError(
            f"block_size must be one of {EXPLORER_BLOCK_SIZES}, got {block_size!r}"
        )
    return InverseCdfExplorer(
        logits_t, float(uniform), block_size, check_labels(labels, len(logits_t))
    )
