"""Sphinx configuration: MyST Markdown pages, the furo theme, autodoc and executed examples.

Every example in these pages is a doctest: ``nox -s docs`` builds the HTML with warnings as
errors and then runs ``sphinx-build -b doctest``. Nothing here reaches the network.

Two local extensions live in ``_ext/``: ``statediagram`` draws the request state machine from
``selfsched.requests.TRANSITIONS``, and ``apimodule`` documents a submodule without repeating
what ``selfsched`` re-exports.
"""

from __future__ import annotations

import doctest
import importlib.util
import sys
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "selfsched"
author = "selfsched developers"
copyright = "selfsched developers"
release = metadata.version("selfsched")
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "apimodule",
    "statediagram",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
root_doc = "index"

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True}
# selfsched.adapters.postgres needs psycopg (the [postgres] extra); where it is not installed,
# the reference is built from the module's source with psycopg mocked.
if importlib.util.find_spec("psycopg") is None:
    autodoc_mock_imports = ["psycopg"]

# The names every doctest may use without importing them: the standard library's time types and
# the whole public API. Pages import anything else themselves. README_MD lets a hidden doctest in
# requests.md run the README's request example (tests/test_cli.py runs its first example).
# Sphinx's default flags include IGNORE_EXCEPTION_DETAIL, which would let an example show an
# error message the library no longer raises. Messages are part of what the docs promise: check
# them.
doctest_default_flags = doctest.ELLIPSIS | doctest.DONT_ACCEPT_TRUE_FOR_1

doctest_global_setup = f"""
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
from selfsched import *
from selfsched import errors

README_MD = Path({str(Path(__file__).resolve().parents[1] / "README.md")!r})
"""

html_theme = "furo"
html_title = f"selfsched {release}"
