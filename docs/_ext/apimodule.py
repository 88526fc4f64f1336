"""``api-module``: ``automodule`` for a submodule, without repeating what ``selfsched`` exports.

Most of the request half is re-exported from :mod:`selfsched` and documented there once. This
directive documents a submodule's docstring and the names of its ``__all__`` that are *not*
re-exported, then lists the ones that are, each linked to its entry under ``selfsched``. The
lists are computed from the modules when the docs are built, so they cannot go stale. Use it
inside an ``{eval-rst}`` block, like ``automodule``, with the same options.
"""

from __future__ import annotations

import importlib
from typing import Any

from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.ext.autodoc.directive import AutodocDirective

TOP = "selfsched"


def reexported(module_name: str) -> list[str]:
    """Names in *module_name*'s ``__all__`` that ``selfsched`` exports as the same object."""
    module = importlib.import_module(module_name)
    top = importlib.import_module(TOP)
    return sorted(
        name
        for name in getattr(module, "__all__", ())
        if name in top.__all__ and getattr(top, name) is getattr(module, name)
    )


class ApiModule(AutodocDirective):
    """``automodule`` with the re-exported members excluded and linked instead."""

    def run(self) -> list[Any]:
        shared = reexported(self.arguments[0])
        self.name = "automodule"  # AutodocDirective picks its documenter from the name
        if shared:
            excluded = [n.strip() for n in str(self.options.get("exclude-members", "")).split(",")]
            self.options["exclude-members"] = ", ".join(n for n in [*excluded, *shared] if n)
            links = ", ".join(f":obj:`~{TOP}.{name}`" for name in shared)
            content = StringList(list(self.content), items=list(self.content.items))
            content.append("", "<api-module>")
            content.append(f"Also here, documented under :mod:`{TOP}`: {links}.", "<api-module>")
            self.content = content
        return super().run()


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the ``api-module`` directive."""
    app.setup_extension("sphinx.ext.autodoc")
    app.add_directive("api-module", ApiModule)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
