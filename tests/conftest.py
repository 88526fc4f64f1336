"""Shared test configuration: hypothesis profiles chosen by HYPOTHESIS_PROFILE.

- ``dev`` (default): quick feedback while editing.
- ``ci``: what ``.ci/run`` uses: 200 examples, derandomized (the same examples every run).
- ``thorough``: for a long local run before a release.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# The store contract asserts in a module of the package: have pytest rewrite its asserts as it
# does the tests', for detailed failure messages. `pytester` runs the contract on broken stores.
pytest.register_assert_rewrite("selfsched.testing.contract")
pytest_plugins = ["pytester"]

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    print_blob=True,
    # The same examples on every run: a landing is judged on reproducible evidence. New ground
    # is explored by the random `dev` and `thorough` runs.
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
