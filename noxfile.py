"""Developer and CI tasks. ``nox`` runs the default sessions; ``nox -s bench`` the benchmark."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "mypy", "docs", "examples"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_external_run = True

PYPROJECT = nox.project.load_toml("pyproject.toml")
GROUPS = PYPROJECT["dependency-groups"]


def _install_group(session: nox.Session, name: str) -> None:
    session.install(*nox.project.dependency_groups(PYPROJECT, name))


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite with branch coverage (HYPOTHESIS_PROFILE picks the budget)."""
    _install_group(session, "tests")
    session.install("-e", ".[testing,postgres,ical]")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *session.posargs)
    session.run("coverage", "combine", success_codes=[0, 1])
    session.run("coverage", "report", "--fail-under=90")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over everything."""
    _install_group(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def mypy(session: nox.Session) -> None:
    """mypy --strict over the package, tests, examples, benchmarks and this file."""
    _install_group(session, "typing")
    session.install("-e", ".[testing,postgres,ical]")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the docs with warnings as errors, then run every code example in them."""
    _install_group(session, "docs")
    session.install("-e", ".[testing,ical]")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")
    session.run(
        "sphinx-build", "-W", "--keep-going", "-b", "doctest", "docs", "docs/_build/doctest"
    )


@nox.session
def examples(session: nox.Session) -> None:
    """Run every script in examples/, the preview command and the SQLAlchemy store's tests.

    The store's tests (the store contract) run on SQLite, and on PostgreSQL too when
    SELFSCHED_TEST_POSTGRES_DSN is set, as .ci/run sets it.
    """
    _install_group(session, "examples")
    session.install("-e", ".[testing]")
    for script in sorted(Path("examples").glob("*.py")):
        session.run("python", str(script))
    session.run("selfsched", "preview", "--now", "2026-03-02T08:00:00-05:00")
    session.run("pytest", "examples/sqlalchemy_store", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """The slot-engine benchmark against peers and floors; pass --quick --check as needed."""
    _install_group(session, "bench")
    session.install("-e", ".")
    session.run("python", "benchmarks/run.py", *(session.posargs or ["--check"]))


@nox.session(default=False)
def postgres(session: nox.Session) -> None:
    """Only the PostgreSQL tests (needs SELFSCHED_TEST_POSTGRES_DSN)."""
    _install_group(session, "tests")
    session.install("-e", ".[testing,postgres]")
    session.run("pytest", "-m", "postgres", *session.posargs)


@nox.session(default=False)
def build(session: nox.Session) -> None:
    """Build the sdist and wheel and check that py.typed is inside."""
    session.install("build")
    session.run("python", "-m", "build", "--outdir", "dist")
