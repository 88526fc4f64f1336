"""A Sphinx directive that draws the request state machine from ``selfsched.requests``.

``state-machine`` reads :data:`~selfsched.requests.TRANSITIONS`, :data:`~selfsched.requests.INITIAL`
and :data:`~selfsched.requests.TERMINAL` when the docs are built and emits, for each of its
options (all three by default):

``table``
    a table of every action against every status it could start from ("new": no appointment
    yet), each cell the status the action leads to, or a dash where the action is refused;
``diagram``
    a text diagram: for each status in turn, the arrows leaving it, labelled with their action;
``modes``
    the status a client's booking starts in, per scheduling mode.

It also checks the machine's definition and warns (so a ``-W`` build fails) when a terminal
status has a way out, a status cannot be reached from "new", or a status that is not terminal
has no way out. Nothing here is drawn by hand, so the page cannot drift from the code.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from selfsched import requests
from selfsched.model import AppointmentStatus

logger = logging.getLogger(__name__)

NEW = "(new)"
"""How the table and diagram name ``None``, the state before an appointment exists."""

TERMINAL_MARK = "■"


def _name(status: enum.Enum | None) -> str:
    return NEW if status is None else str(status.value)


def _ordered_actions(
    transitions: Mapping[tuple[Any, Any], Any], action_type: type[enum.Enum]
) -> list[Any]:
    used = {action for _, action in transitions}
    return [a for a in action_type if a in used]


def check(
    transitions: Mapping[tuple[Any, Any], Any],
    initial: Mapping[Any, Any],
    terminal: Iterable[Any],
    statuses: Iterable[Any],
) -> list[str]:
    """Problems with the machine's definition, as sentences (empty when it is sound)."""
    problems: list[str] = []
    terminal = frozenset(terminal)
    outgoing: dict[Any, set[Any]] = {}
    for (source, _action), target in transitions.items():
        outgoing.setdefault(source, set()).add(target)
    problems.extend(
        f"terminal status {_name(status)!r} has transitions out of it"
        for status in sorted(terminal & outgoing.keys(), key=_name)
    )
    reachable = {None}
    frontier = [None]
    while frontier:
        for target in outgoing.get(frontier.pop(), ()):
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    for status in statuses:
        if status not in reachable:
            problems.append(f"status {_name(status)!r} cannot be reached from {NEW}")
        elif status not in terminal and not (outgoing.get(status, set()) - {status}):
            problems.append(f"status {_name(status)!r} is not terminal but nothing leads out of it")
    for mode, status in initial.items():
        if status is not None and status not in outgoing.get(None, set()):
            problems.append(
                f"mode {mode.value!r} starts in {_name(status)!r}, which {NEW} cannot reach"
            )
    return problems


def _table(header: list[str], rows: list[list[str]], classes: list[str]) -> nodes.table:
    table = nodes.table(classes=classes)
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)

    def row_of(cells: list[str], *, head: bool) -> nodes.row:
        row = nodes.row()
        for index, text in enumerate(cells):
            entry = nodes.entry()
            if head or index == 0:
                entry += nodes.paragraph("", "", nodes.literal(text, text))
            else:
                entry += nodes.paragraph(text=text)
            row += entry
        return row

    thead = nodes.thead()
    thead += row_of(header, head=True)
    group += thead
    tbody = nodes.tbody()
    for cells in rows:
        tbody += row_of(cells, head=False)
    group += tbody
    return table


def transition_table(
    transitions: Mapping[tuple[Any, Any], Any], statuses: list[Any], actions: list[Any]
) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per action, one column per status it may start from."""
    header = ["action \\ from", *(_name(s) for s in statuses)]
    rows = []
    for action in actions:
        cells = [str(action.value)]
        for status in statuses:
            target = transitions.get((status, action))
            cells.append("—" if target is None else _name(target))
        rows.append(cells)
    return header, rows


def diagram(
    transitions: Mapping[tuple[Any, Any], Any],
    terminal: Iterable[Any],
    statuses: list[Any],
    actions: list[Any],
) -> str:
    """The arrows leaving each status, one block per status in *statuses* order, then the
    terminal statuses on one line."""
    terminal = frozenset(terminal)
    blocks: list[tuple[str, list[tuple[str, str]]]] = []
    for status in statuses:
        arrows = [
            (str(action.value), transitions[(status, action)])
            for action in actions
            if (status, action) in transitions
        ]
        if arrows:
            blocks.append((_name(status), [(a, _name(t), t in terminal) for a, t in arrows]))
    left = max(len(source) for source, _ in blocks)
    label = max(len(action) for _, arrows in blocks for action, _, _ in arrows)
    lines: list[str] = []
    for source, arrows in blocks:
        for index, (action, target, final) in enumerate(arrows):
            if len(arrows) == 1:
                branch = "──"
            elif index == 0:
                branch = "─┬"
            elif index == len(arrows) - 1:
                branch = " └"
            else:
                branch = " ├"
            head = source if index == 0 else ""
            arrow = "↺" if target == source else "▶"
            mark = f" {TERMINAL_MARK}" if final else ""
            rule = "─" * (label - len(action))
            lines.append(f"{head:<{left}} {branch}─ {action} {rule}─{arrow} {target}{mark}")
        lines.append("")
    ends = [_name(s) for s in statuses if s in terminal]
    lines.append(f"{TERMINAL_MARK} terminal: {', '.join(ends)} (nothing leads out)")
    lines.append("↺ the action keeps the status")
    return "\n".join(lines)


class StateMachine(SphinxDirective):
    """``state-machine``: the table, the diagram and the starting statuses, from the code."""

    has_content = False
    option_spec = {  # noqa: RUF012  (docutils' interface)
        "table": directives.flag,
        "diagram": directives.flag,
        "modes": directives.flag,
    }

    def run(self) -> list[nodes.Node]:
        transitions = requests.TRANSITIONS
        statuses: list[Any] = [None, *AppointmentStatus]  # new first, then the enum's order
        actions = _ordered_actions(transitions, requests.Action)
        for problem in check(
            transitions, requests.INITIAL, requests.TERMINAL, list(AppointmentStatus)
        ):
            logger.warning(
                "selfsched.requests.TRANSITIONS: %s", problem, location=self.get_location()
            )

        wanted = set(self.options) or {"table", "diagram", "modes"}
        out: list[nodes.Node] = []
        if "table" in wanted:
            header, rows = transition_table(transitions, statuses, actions)
            out.append(_table(header, rows, ["state-table"]))
        if "diagram" in wanted:
            text = diagram(transitions, requests.TERMINAL, statuses, actions)
            block = nodes.literal_block(text, text, classes=["state-diagram"])
            block["language"] = "text"
            out.append(block)
        if "modes" in wanted:
            rows = [
                [
                    str(mode.value),
                    _name(status) if status is not None else "— (clients cannot book)",
                ]
                for mode, status in requests.INITIAL.items()
            ]
            out.append(_table(["mode", "a client's booking starts as"], rows, ["state-modes"]))
        return out


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the ``state-machine`` directive."""
    app.add_directive("state-machine", StateMachine)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
