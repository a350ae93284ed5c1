"""Headless tests of the explorers: move sliders, check what is drawn.

Setting a widget's ``.value`` in Python runs its observers at once, so each
test sets values and then reads the bar heights, readouts and image back.
"""

from __future__ import annotations

import base64
import io
import math
import re

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from PIL import Image

from softsample_helpers import (
    empirical_frequencies,
    entropy,
    explorers,
    extreme_logits_explorer,
    goodness_of_fit,
    log_space_explorer,
    sample_categorical,
    sampling_explorer,
    softmax_explorer,
)

EXPLORERS = [softmax_explorer, extreme_logits_explorer, sampling_explorer]


def heights(bars) -> np.ndarray:
    return np.array([patch.get_height() for patch in bars.patches])


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def assert_clean(explorer) -> None:
    """No error shown, and a PNG in the image widget."""
    assert explorer.message.value == ""
    assert bytes(explorer.image.value).startswith(b"\x89PNG")


# Common behaviour -------------------------------------------------------------


@pytest.mark.parametrize("make", EXPLORERS)
def test_default_arguments_give_a_working_container(make):
    explorer = make()
    assert isinstance(explorer, widgets.VBox)
    assert_clean(explorer)
    assert explorer.readout.value


@pytest.mark.parametrize("make", EXPLORERS)
def test_repr_is_short_and_stable(make):
    explorer = make(torch.zeros(3))
    assert repr(explorer) == f"{type(explorer).__name__}(categories=3)"
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"] == repr(explorer)
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert base64.b64decode(bundle["image/png"]) == bytes(explorer.image.value)


@pytest.mark.parametrize("make", EXPLORERS)
@pytest.mark.parametrize("vocab", [2, 50])
def test_two_to_fifty_categories(make, vocab):
    generator = torch.Generator().manual_seed(vocab)
    explorer = make(torch.randn(vocab, generator=generator))
    assert_clean(explorer)
    assert explorer.vocab == vocab


@pytest.mark.parametrize("make", EXPLORERS)
@pytest.mark.parametrize(
    ("logits", "error", "words"),
    [
        (torch.zeros(1), ValueError, "2 to 50 categories"),
        (torch.zeros(51), ValueError, "2 to 50 categories"),
        (torch.zeros(2, 3), ValueError, "shape (vocab,)"),
        (torch.tensor([1.0, float("nan")]), ValueError, "finite"),
        (torch.tensor([1.0, -float("inf")]), ValueError, "finite"),
        (torch.tensor([1, 2]), TypeError, "floating-point"),
        ("1, 2", TypeError, "list of numbers"),
        (["a", "b"], TypeError, "list of numbers"),
    ],
)
def test_bad_logits_are_rejected(make, logits, error, words):
    with pytest.raises(error, match=re.escape(words)):
        make(logits)


@pytest.mark.parametrize("make", EXPLORERS)
def test_labels_name_the_categories(make):
    explorer = make([1.0, 2.0], labels=["cat", "dog"])
    assert_clean(explorer)
    with pytest.raises(ValueError, match="one name per category"):
        make([1.0, 2.0], labels=["cat"])


@pytest.mark.parametrize("make", [softmax_explorer, sampling_explorer])
@pytest.mark.parametrize("temperature", [0.0, -1.0, 1000.0, float("nan")])
def test_bad_temperature_is_rejected(make, temperature):
    with pytest.raises(ValueError, match="temperature"):
        make(temperature=temperature)


@pytest.mark.parametrize("make", EXPLORERS)
def test_an_error_in_a_callback_is_shown_and_the_explorer_survives(make, monkeypatch):
    explorer = make()
    image_before = bytes(explorer.image.value)
    slider = explorer.logit_slider if hasattr(explorer, "logit_slider") else None
    slider = slider or explorer.logit_sliders[0]

    def broken(*args, **kwargs):
        raise RuntimeError("deliberately broken for the test")

    monkeypatch.setattr(torch, "softmax", broken)
    slider.value = slider.value + 1  # must not raise
    assert "RuntimeError" in explorer.message.value
    assert "deliberately broken for the test" in explorer.message.value
    assert explorer.message.layout.display is None  # visible
    assert bytes(explorer.image.value) == image_before  # the last good figure stays

    monkeypatch.undo()
    slider.value = slider.value + 1
    assert_clean(explorer)
    assert explorer.message.layout.display == "none"
    assert bytes(explorer.image.value) != image_before


@pytest.mark.parametrize("make", EXPLORERS)
def test_moving_a_slider_redraws_only_the_moving_parts(make):
    explorer = make()
    # the smallest logit: moving it leaves the y axis where it is
    slider = getattr(explorer, "logit_slider", None) or explorer.logit_sliders[-1]
    before = bytes(explorer.image.value)
    slider.value = slider.value + 0.5
    assert bytes(explorer.image.value) != before
    assert explorer.live.full_draws == 1


@pytest.mark.parametrize("make", EXPLORERS)
def test_blitted_image_matches_a_full_redraw(make):
    explorer = make()
    slider = getattr(explorer, "logit_slider", None) or explorer.logit_sliders[0]
    slider.value = slider.value - 2
    blitted = pixels(bytes(explorer.image.value))
    explorer.live.invalidate()
    full = pixels(explorer.live.render())
    differing = np.abs(blitted - full).max(axis=-1) > 8
    # bars drawn after the axes may cover a few pixels of a spine
    assert differing.mean() < 0.002


# softmax_explorer -------------------------------------------------------------


def test_softmax_bars_are_the_probabilities():
    explorer = softmax_explorer([1.0, 2.0, 3.0], temperature=2.0)
    expected = torch.softmax(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64) / 2, -1)
    assert heights(explorer.bars) == pytest.approx(expected.numpy())

    explorer.logit_sliders[0].value = 5.0
    explorer.temperature_slider.value = 0.5
    expected = torch.softmax(
        torch.tensor([5.0, 2.0, 3.0], dtype=torch.float64) / 0.5, -1
    )
    assert heights(explorer.bars) == pytest.approx(expected.numpy())
    assert explorer.probs == pytest.approx(expected.numpy())


def test_softmax_entropy_readout():
    explorer = softmax_explorer(torch.zeros(4))
    assert explorer.entropy == pytest.approx(math.log(4))
    assert f"<b>{math.log(4):.3f}</b> nats" in explorer.readout.value

    explorer.logit_sliders[2].value = 8.0
    expected = float(entropy(torch.softmax(torch.tensor([0, 0, 8.0, 0]).double(), -1)))
    assert explorer.entropy == pytest.approx(expected)
    assert f"<b>{expected:.3f}</b>" in explorer.readout.value
    assert "Most likely: <b>2</b>" in explorer.readout.value


def test_softmax_value_labels_follow_the_bars():
    explorer = softmax_explorer(torch.zeros(2))
    assert [t.get_text() for t in explorer.value_texts] == ["0.50", "0.50"]
    many = softmax_explorer(torch.zeros(30))
    assert many.value_texts == []


def test_softmax_at_the_temperature_minimum_is_one_hot_not_nan():
    explorer = softmax_explorer([1.0, 1.5, -2.0])
    explorer.temperature_slider.value = explorer.temperature_slider.min
    assert explorer.temperature_slider.value == pytest.approx(0.01)
    assert np.isfinite(heights(explorer.bars)).all()
    assert heights(explorer.bars) == pytest.approx([0.0, 1.0, 0.0], abs=1e-12)
    assert explorer.entropy == pytest.approx(0.0, abs=1e-9)
    assert_clean(explorer)


def test_softmax_at_plus_minus_1000():
    explorer = softmax_explorer([1000.0, -1000.0, 0.0])
    assert explorer.logit_sliders[0].max >= 1000
    assert heights(explorer.bars) == pytest.approx([1.0, 0.0, 0.0])
    explorer.logit_sliders[0].value = -1000.0
    explorer.logit_sliders[1].value = -1000.0
    explorer.logit_sliders[2].value = -1000.0
    explorer.temperature_slider.value = explorer.temperature_slider.min
    assert heights(explorer.bars) == pytest.approx([1 / 3] * 3)
    assert_clean(explorer)


def test_softmax_slider_range_grows_only_when_needed():
    assert softmax_explorer().logit_sliders[0].max == 10
    assert softmax_explorer([0.0, 42.5]).logit_sliders[0].max == 43


def test_softmax_axis_snaps_to_fit_the_bars():
    explorer = softmax_explorer(torch.zeros(20))
    assert explorer.ax.get_ylim()[1] == pytest.approx(0.1)  # 1/20 + headroom
    explorer.logit_sliders[0].value = 10.0
    assert explorer.ax.get_ylim()[1] == pytest.approx(1.05)
    assert explorer.live.full_draws == 2


# extreme_logits_explorer ------------------------------------------------------


def test_extreme_logit_overflow_makes_the_naive_softmax_nan():
    explorer = extreme_logits_explorer()
    assert not np.isnan(explorer.naive_probs).any()

    explorer.logit_slider.value = 1000.0
    assert math.isnan(explorer.naive_probs[0])
    assert explorer.nan_bars[0].get_visible()
    assert not explorer.nan_bars[1].get_visible()
    assert np.isfinite(heights(explorer.naive_bars)).all()
    assert heights(explorer.stable_bars) == pytest.approx([1, 0, 0, 0])
    assert "1 of 4</b> probabilities are NaN (inf / inf)" in explorer.readout.value
    assert "<b>inf</b>" in explorer.readout.value
    assert_clean(explorer)


def test_extreme_logit_underflow_everywhere_gives_zero_over_zero():
    explorer = extreme_logits_explorer()
    explorer.logit_slider.value = -1000.0
    assert not np.isnan(explorer.naive_probs).any()  # the others still count
    explorer.shift_slider.value = -1000.0
    assert np.isnan(explorer.naive_probs).all()
    assert all(patch.get_visible() for patch in explorer.nan_bars)
    assert "4 of 4</b> probabilities are NaN (0 / 0)" in explorer.readout.value
    assert explorer.stable_probs.sum() == pytest.approx(1.0)
    assert np.isfinite(heights(explorer.stable_bars)).all()


def test_extreme_marks_the_limits_of_the_chosen_dtype():
    explorer = extreme_logits_explorer(dtype=torch.float16)
    explorer.logit_slider.value = 12.0  # above float16's 11.09
    assert math.isnan(explorer.naive_probs[0])
    assert "above 11.09" in explorer.readout.value
    assert explorer.dragged_marker.get_xdata()[0] == pytest.approx(12.0)

    wide = extreme_logits_explorer(dtype=torch.float64)
    wide.logit_slider.value = 500.0
    assert not np.isnan(wide.naive_probs).any()
    wide.logit_slider.value = 1000.0
    assert math.isnan(wide.naive_probs[0])


def test_extreme_drags_the_chosen_index():
    explorer = extreme_logits_explorer([0.0, 0.0, 0.0], index=-1)
    explorer.logit_slider.value = 2.0
    assert explorer.logits.tolist() == [0.0, 0.0, 2.0]
    assert explorer.logit_slider.description == "logit 2"


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"index": 4}, ValueError, "out of range"),
        ({"index": 1.0}, TypeError, "integer"),
        ({"dtype": torch.int32}, TypeError, "dtype"),
        ({"logits": [0.0, 2000.0]}, ValueError, "+-1000"),
    ],
)
def test_extreme_rejects_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=re.escape(words)):
        extreme_logits_explorer(**kwargs)


# sampling_explorer ------------------------------------------------------------


def expected_frequencies(logits, temperature, num_samples, seed):
    logits = torch.tensor(logits, dtype=torch.float64)
    generator = torch.Generator().manual_seed(seed)
    samples = sample_categorical(
        logits, num_samples, temperature=temperature, generator=generator
    )
    return samples, empirical_frequencies(samples, len(logits))


def test_sampling_bars_are_the_probabilities_and_the_frequencies():
    logits = [1.0, 0.0, -1.0]
    explorer = sampling_explorer(logits, num_samples=10_000, seed=3)
    samples, freqs = expected_frequencies(logits, 1.0, 10_000, 3)
    probs = torch.softmax(torch.tensor(logits, dtype=torch.float64), -1)
    assert heights(explorer.probability_bars) == pytest.approx(probs.numpy())
    assert heights(explorer.frequency_bars) == pytest.approx(freqs.numpy())
    assert [p.get_hatch() for p in explorer.frequency_bars.patches] == ["///"] * 3

    fit = goodness_of_fit(samples, probs)
    assert explorer.fit.p_value == pytest.approx(fit.p_value)
    assert f"<b>p = {fit.p_value:.3g}</b>" in explorer.readout.value
    assert "10,000 samples, seed 3" in explorer.readout.value


def test_sampling_intervals_surround_the_frequencies():
    explorer = sampling_explorer(num_samples=500)
    segments = explorer.interval_lines.get_segments()
    assert len(segments) == explorer.vocab
    for (low, high), freq in zip(
        [(s[0][1], s[1][1]) for s in segments], explorer.frequencies, strict=True
    ):
        assert low <= freq <= high


def test_sampling_every_control_redraws():
    explorer = sampling_explorer([0.5, 0.0], num_samples=100, seed=0)
    explorer.num_samples_slider.value = 20_000
    assert "20,000 samples" in explorer.readout.value
    _, freqs = expected_frequencies([0.5, 0.0], 1.0, 20_000, 0)
    assert heights(explorer.frequency_bars) == pytest.approx(freqs.numpy())

    explorer.temperature_slider.value = 3.0
    _, freqs = expected_frequencies([0.5, 0.0], 3.0, 20_000, 0)
    assert heights(explorer.frequency_bars) == pytest.approx(freqs.numpy())


def test_sampling_resample_button_moves_to_the_next_seed():
    explorer = sampling_explorer(num_samples=1000, seed=7)
    first = heights(explorer.frequency_bars)
    explorer.resample_button.click()
    assert explorer.seed_input.value == 8
    assert not np.array_equal(heights(explorer.frequency_bars), first)
    explorer.seed_input.value = 7
    assert heights(explorer.frequency_bars) == pytest.approx(first)


def test_sampling_follows_its_distribution_across_seeds():
    # Under the null hypothesis p-values are uniform: about 5% fall below 0.05.
    explorer = sampling_explorer([2.0, 1.0, 0.0, -1.0], num_samples=2000)
    p_values = []
    for seed in range(200):
        explorer.seed_input.value = seed
        p_values.append(explorer.fit.p_value)
    assert 2 <= sum(p < 0.05 for p in p_values) <= 22


def test_sampling_at_the_extremes():
    explorer = sampling_explorer([1000.0, -1000.0, 0.0], num_samples=10_000)
    explorer.temperature_slider.value = explorer.temperature_slider.min
    assert heights(explorer.frequency_bars) == pytest.approx([1.0, 0.0, 0.0])
    assert np.isfinite(heights(explorer.probability_bars)).all()
    assert "nothing to test" in explorer.readout.value
    for slider in explorer.logit_sliders:
        slider.value = -1000.0
    assert heights(explorer.probability_bars) == pytest.approx([1 / 3] * 3)
    assert_clean(explorer)


def test_sampling_offers_the_requested_sample_size():
    explorer = sampling_explorer(num_samples=1234)
    assert explorer.num_samples_slider.value == 1234
    assert 1234 in [value for _, value in explorer.num_samples_slider.options]


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"num_samples": 0}, ValueError, "num_samples"),
        ({"num_samples": 1.5}, TypeError, "num_samples"),
        ({"num_samples": 10**6}, ValueError, "at most 100,000"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 2**31}, ValueError, "below 2**31"),
    ],
)
def test_sampling_rejects_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=re.escape(words)):
        sampling_explorer(**kwargs)


def test_explorer_module_exports_what_the_package_root_exports():
    assert explorers.softmax_explorer is softmax_explorer
    assert explorers.sampling_explorer is sampling_explorer
    assert explorers.extreme_logits_explorer is extreme_logits_explorer


# log_space_explorer -----------------------------------------------------------


def test_log_space_follows_log_softmax_where_log_of_softmax_fails():
    explorer = log_space_explorer(gap=50)
    assert_clean(explorer)
    assert repr(explorer) == "LogSpaceExplorer(categories=3)"
    # Both agree while the probability is an ordinary float32 number.
    assert explorer.log_of_softmax == pytest.approx(explorer.log_softmax, abs=1e-4)
    assert explorer.log_softmax == pytest.approx(-50 - math.log1p(math.exp(-1)), 1e-6)

    before = bytes(explorer.image.value)
    explorer.gap_slider.value = 200  # past float32's zero threshold (~104)
    assert_clean(explorer)
    assert bytes(explorer.image.value) != before
    assert explorer.probability == 0.0
    assert explorer.log_of_softmax == float("-inf")
    assert explorer.log_softmax == pytest.approx(-200.3133, abs=1e-3)
    assert "-inf" in explorer.readout.value
    assert explorer.inf_label.get_text() == "log(softmax) = -inf"
    assert explorer.live.full_draws == 1


def test_log_space_cliff_moves_with_the_dtype():
    gap = 300  # float32 has rounded to 0 long before; float64 has not
    assert log_space_explorer(gap).log_of_softmax == float("-inf")
    wide = log_space_explorer(gap, dtype=torch.float64)
    assert wide.log_of_softmax == pytest.approx(wide.log_softmax, abs=1e-6)
    assert wide.inf_label.get_text() == ""


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"gap": -1}, ValueError, "gap must be an integer >= 0"),
        ({"gap": 401}, ValueError, "gap must be at most 400"),
        ({"gap": 1.5}, TypeError, "gap must be an integer"),
        ({"dtype": torch.int64}, TypeError, "dtype must be one of"),
    ],
)
def test_log_space_rejects_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        log_space_explorer(**kwargs)
