"""Helpers for the softsample lessons: stable numerics, sampling, statistics.

The lessons import from here so that each notebook shows the idea it
teaches and leaves the plumbing (input checks, plotting, widgets) to this
package. Importing it prints and logs nothing.

The explorers are imported on first use, so that code which only computes
does not pay for loading ipywidgets and matplotlib.
"""

from typing import TYPE_CHECKING, Any

from softsample_helpers.decoding import filter_logits
from softsample_helpers.numerics import (
    ExpLimits,
    entropy,
    exp_limits,
    naive_softmax,
    stable_softmax,
)
from softsample_helpers.sampling import sample_categorical
from softsample_helpers.stats import (
    GoodnessOfFit,
    empirical_frequencies,
    frequency_interval,
    goodness_of_fit,
)

if TYPE_CHECKING:
    from softsample_helpers.explorers import (
        decoding_explorer,
        extreme_logits_explorer,
        inverse_cdf_explorer,
        log_space_explorer,
        sampling_explorer,
        softmax_explorer,
    )

_EXPLORERS = (
    "decoding_explorer",
    "extreme_logits_explorer",
    "inverse_cdf_explorer",
    "log_space_explorer",
    "sampling_explorer",
    "softmax_explorer",
)


def __getattr__(name: str) -> Any:
    if name in _EXPLORERS:
        from softsample_helpers import explorers

        return getattr(explorers, name)
    raise AttributeError(f"module 'softsample_helpers' has no attribute {name!r}")


__all__ = [
    "ExpLimits",
    "GoodnessOfFit",
    "decoding_explorer",
    "empirical_frequencies",
    "entropy",
    "exp_limits",
    "extreme_logits_explorer",
    "filter_logits",
    "frequency_interval",
    "goodness_of_fit",
    "inverse_cdf_explorer",
    "log_space_explorer",
    "naive_softmax",
    "sample_categorical",
    "sampling_explorer",
    "softmax_explorer",
    "stable_softmax",
]
