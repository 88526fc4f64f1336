"""``api-module``: ``automodule`` for a submodule, without repeating what ``selfsched`` exports.

Most of the request half is re-exported from :mod:`selfsched` and documented there once. This
directive documents a submodule's docstring and the names of its ``__all__`` that are *not*
re-exported, then lists the ones that are, each linked to its entry under ``selfsched``. The
lists are computed from the modules when the docs are built, so they cannot go stale. Use it
inside an ``{eval-rst}`` block, like ``automodule``, with the same options.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.ext.autodoc.mock import mock
from sphinx.util.docutils import SphinxDirective

TOP = "selfsched"


def reexported(module_name: str, mocked: list[str]) -> list[str]:
    """Classes and functions in *module_name*'s ``__all__`` that ``selfsched`` re-exports.

    Data (constants, aliases) stays with its module: autodoc finds a constant's docstring only
    in the module that assigns it. The modules in *mocked* (``autodoc_mock_imports``) are mocked
    while importing, as autodoc does.
    """
    with mock(mocked):
        module = importlib.import_module(module_name)
    top = importlib.import_module(TOP)
    return sorted(
        name
        for name in getattr(module, "__all__", ())
        if name in top.__all__
        and getattr(top, name) is getattr(module, name)
        and (inspect.isclass(getattr(module, name)) or inspect.isroutine(getattr(module, name)))
    )


class _AnyOption(dict[str, Any]):
    """Accept every option as given, as ``automodule`` does; autodoc checks them."""

    def __bool__(self) -> bool:
        return True

    def __getitem__(self, _key: str) -> Any:  # noqa: ANN401  (docutils' interface)
        return lambda value: value


class ApiModule(SphinxDirective):
    """``automodule`` with the re-exported members excluded and linked instead."""

    has_content = True
    required_arguments = 1
    option_spec = _AnyOption()

    def run(self) -> list[Any]:
        shared = reexported(self.arguments[0], self.config.autodoc_mock_imports)
        options = dict(self.options)
        content = StringList(list(self.content), items=list(self.content.items))
        if shared:
            excluded = [n.strip() for n in str(options.get("exclude-members") or "").split(",")]
            options["exclude-members"] = ", ".join(n for n in [*excluded, *shared] if n)
            links = ", ".join(f":obj:`~{TOP}.{name}`" for name in shared)
            content.append("", "<api-module>")
            content.append(f"Also here, documented under :mod:`{TOP}`: {links}.", "<api-module>")
        # Whatever class this Sphinx registers as ``automodule`` does the work.
        automodule, _ = directives.directive(
            "automodule", self.state.memo.language, self.state.document
        )
        if automodule is None:
            msg = "api-module needs sphinx.ext.autodoc"
            raise self.error(msg)
        inner = automodule(
            "automodule",
            self.arguments,
            options,
            content,
            self.lineno,
            self.content_offset,
            self.block_text,
            self.state,
            self.state_machine,
        )
        return inner.run()


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the ``api-module`` directive."""
    app.setup_extension("sphinx.ext.autodoc")
    app.add_directive("api-module", ApiModule)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
