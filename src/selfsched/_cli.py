"""The ``selfsched`` command line: the I/O edge of an otherwise pure library.

``selfsched preview`` prints a week of the bundled demo clinic as a grid a person can read: days
as columns, times as rows, each cell *Available* or *Unavailable*, exactly what a client would be
offered. It is the one place in the package that reads the real clock, and only when ``--now`` is
not given.

Subcommands hang off one parser (:func:`build_parser`) so later ones slot in beside ``preview``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from importlib import metadata
from typing import TextIO

import attrs

from selfsched import _time
from selfsched._demo import DEMO_CLINICIAN, DEMO_POLICY, demo_calendar
from selfsched.errors import InvalidInput, InvalidRange, NaiveDatetime, SelfschedError
from selfsched.model import Clinician, ClinicianCalendar, Weekday
from selfsched.slots import Slot, available_slots

__all__ = ["build_parser", "main", "render_week"]

AVAILABLE = "Available"
UNAVAILABLE = "Unavailable"
NO_SLOT = "-"
MAX_DAYS = 31
DEFAULT_WIDTH = 100
"""Used when the output is not a terminal and ``COLUMNS`` is unset."""

_GAP = "  "
_TIME_WIDTH = 6


# -- argument types -------------------------------------------------------------------------------


def _iso_datetime(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        msg = f"{text!r} is not an ISO 8601 date-time; write e.g. 2026-03-02T08:00:00-05:00"
        raise argparse.ArgumentTypeError(msg) from None


def _bounded_int(low: int, high: int) -> type[int]:
    """An argparse ``type`` for whole numbers in ``[low, high]`` (a class, for a clear name)."""

    class _Bounded(int):
        def __new__(cls, text: str) -> _Bounded:  # noqa: PYI034  (argparse calls the class)
            try:
                value = int(text)
            except ValueError:
                msg = f"{text!r} is not a whole number"
                raise argparse.ArgumentTypeError(msg) from None
            if not low <= value <= high:
                msg = f"{value} is out of range; give a number from {low} to {high}"
                raise argparse.ArgumentTypeError(msg)
            return super().__new__(cls, value)

    return _Bounded


def build_parser() -> argparse.ArgumentParser:
    """The ``selfsched`` argument parser, one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="selfsched",
        description="Client self-scheduling rules for behavioural-health practices.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    preview = commands.add_parser(
        "preview",
        help="print the coming week of the demo clinic as a client would see it",
        description=(
            "Print the demo clinician's slots for the days after NOW as a week grid: each cell "
            "is Available or Unavailable, as a client would see it. The data are a fictional "
            "demo clinic bundled with selfsched."
        ),
    )
    preview.add_argument(
        "--now",
        type=_iso_datetime,
        metavar="ISO8601",
        help="the current instant, with a UTC offset (default: the system clock)",
    )
    preview.add_argument(
        "--days",
        type=_bounded_int(1, MAX_DAYS),
        default=7,
        metavar="N",
        help=f"how many days to show, starting the day after NOW (default: 7, at most {MAX_DAYS})",
    )
    preview.add_argument(
        "--zone",
        metavar="IANA",
        help="show times in this IANA time zone, e.g. Europe/London (default: the clinician's)",
    )
    preview.add_argument(
        "--grid",
        type=int,
        choices=(15, 30, 60),
        help="slot starts every 15, 30 or 60 minutes (default: the policy's, 30)",
    )
    preview.add_argument(
        "--width",
        type=_bounded_int(20, 10_000),
        metavar="COLUMNS",
        help="fit the grid in this many columns; narrower grids use a one-letter legend "
        "(default: the terminal's width)",
    )
    preview.set_defaults(handler=_preview)
    return parser


def _version() -> str:
    try:
        return metadata.version("selfsched")
    except metadata.PackageNotFoundError:  # pragma: no cover - only when run from a bare checkout
        return "unknown"


# -- preview --------------------------------------------------------------------------------------


def _system_now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime("--now", value)
    return value


def _preview(args: argparse.Namespace, out: TextIO) -> int:
    now = _system_now() if args.now is None else _aware(args.now)
    display = None if args.zone is None else _time.zone(args.zone)
    zone = DEMO_CLINICIAN.tz
    try:
        first_day = now.astimezone(zone).date() + timedelta(days=1)
        last_day = first_day + timedelta(days=args.days - 1)
    except OverflowError:
        raise InvalidRange(
            f"--now {now.isoformat()} leaves no days to show before the calendar ends; "
            f"give a date between the years 2 and 9998."
        ) from None
    calendar = demo_calendar(first_day)
    policy = DEMO_POLICY if args.grid is None else attrs.evolve(DEMO_POLICY, grid_minutes=args.grid)
    slots = available_slots(calendar, policy, first_day=first_day, last_day=last_day, now=now)
    width = args.width or shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    text = render_week(
        calendar,
        slots,
        first_day=first_day,
        last_day=last_day,
        now=now,
        zone=display or zone,
        grid_minutes=policy.grid_minutes,
        width=width,
    )
    out.write(text)
    return 0


# -- rendering ------------------------------------------------------------------------------------


def _columns(
    first_day: date, last_day: date, clinic: tzinfo, shown: tzinfo, used: set[date]
) -> list[date]:
    """The viewer's dates that the clinician's days overlap, less empty ones at either edge.

    An edge date stays if it has a slot or if at least half of it lies inside the clinician's
    days, so the clinician's own zone shows exactly the days asked for, slots or not.
    """
    lo = _time.start_of_day(first_day, clinic)
    hi = _time.start_of_day(last_day + timedelta(days=1), clinic)
    first, last = (_time.local_wall(s, shown).date() for s in (lo, hi - 1))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def keep(day: date) -> bool:
        start = _time.start_of_day(day, shown)
        end = _time.start_of_day(day + timedelta(days=1), shown)
        inside = min(end, hi) - max(start, lo)
        return day in used or 2 * inside >= end - start

    while days and not keep(days[0]):
        days.pop(0)
    while days and not keep(days[-1]):
        days.pop()
    return days


def _clock_changes(days: Sequence[date], z: tzinfo) -> list[str]:
    """A note for each of *days* on which the UTC offset of *z* changes."""
    name = str(getattr(z, "key", z))
    notes = []
    for day in days:
        before = _time.utc_offset_at(_time.start_of_day(day, z), z)
        after = _time.utc_offset_at(_time.start_of_day(day + timedelta(days=1), z) - 1, z)
        if before != after:
            change = f"UTC{_offset(before)} to UTC{_offset(after)}"
            notes.append(f"Clocks change in {name} on {day:%a %d %b %Y} ({change}).")
    return notes


def _offset(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _locations(clinician: Clinician, first_day: date, last_day: date) -> str:
    hours = clinician.work_hours
    seen: list[str] = []
    for offset in range(min(7, (last_day - first_day).days + 1)):
        weekday = (first_day + timedelta(days=offset)).weekday()
        if hours.ranges(weekday):
            name = Weekday(weekday).name[:3].title()
            seen.append(f"{name} {hours.location(weekday) or 'No Location Set'}")
    return "; ".join(seen)


def render_week(
    calendar: ClinicianCalendar,
    slots: Sequence[Slot],
    *,
    first_day: date,
    last_day: date,
    now: datetime,
    zone: tzinfo,
    grid_minutes: int,
    width: int,
) -> str:
    """The grid of *slots* (days as columns, times as rows) in *zone*, with a title and legend.

    Cells read *Available* or *Unavailable*, or ``-`` where no slot starts. When that grid is
    wider than *width*, cells shrink to ``A``/``U`` and a legend spells the words out.
    """
    clinician = calendar.clinician
    clinic = clinician.tz
    zone_name = str(getattr(zone, "key", zone))
    cells: dict[tuple[date, time, int], bool] = {}
    for slot in slots:
        local = slot.start.astimezone(zone)
        cells[local.date(), local.time(), local.fold] = slot.available
    days = _columns(first_day, last_day, clinic, zone, {d for d, _, _ in cells})
    rows = sorted({(t, fold) for _, t, fold in cells})

    full = _TIME_WIDTH + len(days) * (len(_GAP) + len(UNAVAILABLE)) <= width
    cell_width = len(UNAVAILABLE) if full else 3
    words: dict[bool | None, str] = (
        {True: AVAILABLE, False: UNAVAILABLE} if full else {True: "A", False: "U"}
    )
    headers = (
        [[f"{d:%a %b %d}" for d in days]]
        if full
        else [[f"{d:%a}" for d in days], [f"{d:%d}" for d in days]]
    )

    def line(first: str, columns: Sequence[str]) -> str:
        padded = [c.center(cell_width) if not full else c.ljust(cell_width) for c in columns]
        return (first.ljust(_TIME_WIDTH) + _GAP + _GAP.join(padded)).rstrip()

    shown_in = "the clinician's zone" if zone_name == clinician.zone else "the viewer's zone"
    dates = f"{first_day:%a %d %b %Y} to {last_day:%a %d %b %Y}"
    session = f"{clinician.service_minutes}-minute sessions on a {grid_minutes}-minute grid."
    out = [
        f"{clinician.name} ({clinician.zone}): {dates}",
        f"Demo clinic (fictional data). Times in {zone_name}, {shown_in}.",
        f"{session} Now: {now.astimezone(zone):%Y-%m-%d %H:%M %Z}.",
        "",
    ]
    out.extend(line("Time" if i == 0 else "", h) for i, h in enumerate(headers))
    repeated = False
    for t, fold in rows:
        label = f"{t:%H:%M}" + ("*" if fold else "")
        repeated = repeated or bool(fold)
        marks = [words.get(cells.get((d, t, fold)), NO_SLOT) for d in days]
        out.append(line(label, marks))
    if not rows:
        out.append("(no slots: the clinician has no work hours on these days)")
    out.append("")
    legend = f"{NO_SLOT} = no slot starts at this time"
    if not full:
        legend = f"A = {AVAILABLE}, U = {UNAVAILABLE}, {legend}"
    out.append(legend + ".")
    if repeated:
        out.append("* = the second time this clock time occurs, after the clocks went back.")
    out.extend(_clock_changes(days, zone))
    if zone_name != clinician.zone:
        clinic_days = [
            first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)
        ]
        out.extend(_clock_changes(clinic_days, clinic))
    available = sum(slot.available for slot in slots)
    out.append(f"{available} of {len(slots)} slots available.")
    out.append(f"Default location: {_locations(clinician, first_day, last_day)}.")
    return "\n".join(out) + "\n"


# -- entry point ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``selfsched`` command and return its exit status (2 for bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed usage or help already
        return exc.code if isinstance(exc.code, int) else 2
    try:
        status: int = args.handler(args, sys.stdout)
    except InvalidInput as exc:
        print(f"selfsched: error: {exc}", file=sys.stderr)
        if isinstance(exc, NaiveDatetime):
            print(
                "selfsched: give --now with a UTC offset, e.g. 2026-03-02T08:00:00-05:00 "
                "or 2026-03-02T13:00:00Z.",
                file=sys.stderr,
            )
        return 2
    except SelfschedError as exc:  # pragma: no cover - no command refuses yet
        print(f"selfsched: error: {exc}", file=sys.stderr)
        return 1
    return status
