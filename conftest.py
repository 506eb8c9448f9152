"""Settings every test shares: hypothesis profiles and the ``slow`` marker.

Hypothesis profiles (``--hypothesis-profile NAME``; ``annoplan`` unless told):

- ``annoplan``: the suite's default. Derandomized (each property test draws the same examples on every run
  and machine: seeded, never flaky), no deadline (no test is timed), no example database.
- ``quick``: as ``annoplan`` with at most 10 examples a test, for a fast look while editing.
- ``thorough``: 1,000 examples a test, randomized, for hunting counterexamples by hand; a failure prints the
  blob that reproduces it (``@reproduce_failure``). Not for the standing suite.

``@pytest.mark.slow`` marks a test that takes seconds: ``pytest -m "not slow"`` leaves those out.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

settings.register_profile("annoplan", derandomize=True, deadline=None, database=None, print_blob=True)
settings.register_profile("quick", parent=settings.get_profile("annoplan"), max_examples=10)
settings.register_profile(
    "thorough", derandomize=False, deadline=None, database=None, max_examples=1000, print_blob=True
)
settings.load_profile("annoplan")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes seconds; pytest -m 'not slow' leaves it out")
