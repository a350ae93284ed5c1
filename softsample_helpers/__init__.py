"""Helpers for the softsample lessons: stable numerics, sampling, statistics.

The lessons import from here so that each notebook shows the idea it
teaches and leaves the plumbing (input checks, plotting, widgets) to this
package. Importing it prints and logs nothing.
"""

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

__all__ = [
    "ExpLimits",
    "GoodnessOfFit",
    "empirical_frequencies",
    "entropy",
    "exp_limits",
    "frequency_interval",
    "goodness_of_fit",
    "naive_softmax",
    "sample_categorical",
    "stable_softmax",
]
