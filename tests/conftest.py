"""Shared test settings."""

from hypothesis import HealthCheck, settings

# torch operations make the first examples slow; the deadline would only add
# flakiness, not catch bugs.
settings.register_profile(
    "softsample", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("softsample")
