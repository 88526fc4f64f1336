"""The ``selfsched`` command line: the ``preview`` week grid, its options and its exit codes."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from selfsched import (
    ApprovalPolicy,
    Clinician,
    ClinicianCalendar,
    Weekday,
    WorkHours,
    available_slots,
)
from selfsched import _cli as cli
from selfsched._demo import DEMO_CLINICIAN, demo_calendar, on_or_after

NOW = "2026-03-02T08:00:00-05:00"  # a Monday morning in New York; the grid starts on Tuesday
WIDE = ("--width", "200")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``selfsched`` in-process and return (exit status, stdout, stderr)."""
    status = cli.main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def grid(text: str) -> dict[tuple[str, str], str]:
    """Parse a full-word grid into ``{(column header, time): cell}``."""
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("Time"))
    days = re.split(r"\s{2,}", header)[1:]
    cells = {}
    for line in lines:
        if re.match(r"\d\d:\d\d", line):
            label, *row = re.split(r"\s{2,}", line)
            assert len(days) == len(row)
            cells.update({(day, label): cell for day, cell in zip(days, row, strict=True)})
    return cells


def test_title_names_clinician_zone_and_dates(capsys: pytest.CaptureFixture[str]) -> None:
    """The first line names the clinician, its zone and the first and last dates shown."""
    status, out, _ = run(capsys, "preview", "--now", NOW, *WIDE)

    assert 0 == status
    assert (
        "Dr. Avery Quinn (America/New_York): Tue 03 Mar 2026 to Mon 09 Mar 2026"
        == out.splitlines()[0]
    )


def test_columns_are_the_seven_days_after_now(capsys: pytest.CaptureFixture[str]) -> None:
    """Days are columns, starting the local day after now; times are rows."""
    _, out, _ = run(capsys, "preview", "--now", NOW, *WIDE)

    header = next(line for line in out.splitlines() if line.startswith("Time"))
    assert [
        "Time",
        "Tue Mar 03",
        "Wed Mar 04",
        "Thu Mar 05",
        "Fri Mar 06",
        "Sat Mar 07",
        "Sun Mar 08",
        "Mon Mar 09",
    ] == re.split(r"\s{2,}", header)
    times = sorted({t for _, t in grid(out)})
    assert ["09:00", "09:30", "10:00", "10:30", "11:00"] == times[:5]
    assert "16:00" == times[-1]


def test_grid_shows_both_words(capsys: pytest.CaptureFixture[str]) -> None:
    """A wide grid spells out Available and Unavailable, and marks times without a slot."""
    _, out, _ = run(capsys, "preview", "--now", NOW, *WIDE)

    cells = set(grid(out).values())
    assert {"Available", "Unavailable", "-"} == cells


def test_demo_appointments_show_unavailable(capsys: pytest.CaptureFixture[str]) -> None:
    """Tuesday's booked 13:00 and pending 15:00 appointments make those slots Unavailable."""
    _, out, _ = run(capsys, "preview", "--now", NOW, *WIDE)

    cells = grid(out)
    assert "Unavailable" == cells["Tue Mar 03", "13:00"]
    assert "Unavailable" == cells["Tue Mar 03", "15:00"]
    assert "Available" == cells["Tue Mar 03", "14:00"]


def test_missed_appointment_reopens_its_slot(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo's MISSED Wednesday 11:00 appointment does not block: the slot is Available."""
    _, out, _ = run(capsys, "preview", "--now", NOW, *WIDE)

    assert "Available" == grid(out)["Wed Mar 04", "11:00"]


def test_events_block_their_time(capsys: pytest.CaptureFixture[str]) -> None:
    """The weekly team meeting blocks Wednesday 09:00 and the all-day event all of Friday."""
    _, out, _ = run(capsys, "preview", "--now", NOW, *WIDE)

    cells = grid(out)
    assert "Unavailable" == cells["Wed Mar 04", "09:00"]
    assert {"Unavailable"} == {cell for (day, _), cell in cells.items() if day == "Fri Mar 06"}
    assert {"-"} == {cell for (day, _), cell in cells.items() if day == "Sat Mar 07"}


def test_footer_counts_and_notes_the_clock_change(capsys: pytest.CaptureFixture[str]) -> None:
    """Below the grid: the legend, the DST change inside the week, a count and the locations."""
    _, out, _ = run(capsys, "preview", "--now", NOW, *WIDE)

    assert "Clocks change in America/New_York on Sun 08 Mar 2026 (UTC-05:00 to UTC-04:00)." in out
    assert re.search(r"^\d+ of 60 slots available\.$", out, re.MULTILINE)
    assert "Tue No Location Set; Wed Main Street Office; Thu Telehealth" in out


def test_zone_shows_times_on_the_viewers_clock(capsys: pytest.CaptureFixture[str]) -> None:
    """With --zone, rows are the viewer's wall times: New York 13:00 is 18:00 in London."""
    _, out, _ = run(capsys, "preview", "--now", NOW, "--zone", "Europe/London", *WIDE)

    cells = grid(out)
    assert "Times in Europe/London, the viewer's zone." in out
    assert "Now: 2026-03-02 13:00 GMT." in out
    assert "Unavailable" == cells["Tue Mar 03", "18:00"]
    assert "-" == cells["Tue Mar 03", "13:00"]
    assert "Tue Mar 10" not in {day for day, _ in cells}  # overlapped, but no slot there
    assert "Clocks change in America/New_York on Sun 08 Mar 2026" in out  # the clinician's


def test_zone_far_away_adds_a_column(capsys: pytest.CaptureFixture[str]) -> None:
    """In Tokyo the clinician's seven days touch eight local dates, and all appear."""
    _, out, _ = run(capsys, "preview", "--now", NOW, "--zone", "Asia/Tokyo", *WIDE)

    days = {day for day, _ in grid(out)}
    assert 8 == len(days)
    assert "Tue Mar 10" in days


@pytest.mark.parametrize(
    ("grid_minutes", "present", "absent"),
    [("60", "10:00", "09:30"), ("30", "09:30", "09:15"), ("15", "09:15", "11:15")],
)
def test_grid_option_sets_the_rows(
    capsys: pytest.CaptureFixture[str], grid_minutes: str, present: str, absent: str
) -> None:
    """--grid 60/30/15 puts slot starts on the hour, half hour or quarter hour."""
    _, out, _ = run(capsys, "preview", "--now", NOW, "--grid", grid_minutes, *WIDE)

    times = {t for _, t in grid(out)}
    assert present in times
    assert absent not in times
    assert f"on a {grid_minutes}-minute grid" in out


def test_days_option_sets_the_columns(capsys: pytest.CaptureFixture[str]) -> None:
    """--days 3 shows three days."""
    _, out, _ = run(capsys, "preview", "--now", NOW, "--days", "3", *WIDE)

    assert {"Tue Mar 03", "Wed Mar 04", "Thu Mar 05"} == {day for day, _ in grid(out)}
    assert out.splitlines()[0].endswith("Tue 03 Mar 2026 to Thu 05 Mar 2026")


def test_narrow_width_uses_a_legend(capsys: pytest.CaptureFixture[str]) -> None:
    """A grid that would not fit shrinks to A/U cells, and the legend spells out both words."""
    _, out, _ = run(capsys, "preview", "--now", NOW, "--width", "60")

    assert "A = Available, U = Unavailable, - = no slot starts at this time." in out
    rows = [line for line in out.splitlines() if re.match(r"\d\d:\d\d ", line)]
    assert all(len(line) <= 60 for line in rows)
    row = next(line for line in out.splitlines() if line.startswith("13:00"))
    assert ["13:00", "U", "A", "A", "U", "-", "-", "A"] == row.split()


def test_width_defaults_to_the_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --width the terminal's width decides (COLUMNS where set)."""
    monkeypatch.setenv("COLUMNS", "60")
    _, narrow, _ = run(capsys, "preview", "--now", NOW)
    monkeypatch.setenv("COLUMNS", "150")
    _, wide, _ = run(capsys, "preview", "--now", NOW)

    assert "A = Available" in narrow
    assert "A = Available" not in wide
    assert "Unavailable  " in wide


def test_now_accepts_z_and_other_offsets(capsys: pytest.CaptureFixture[str]) -> None:
    """--now takes any UTC offset, 'Z' included; the same instant gives the same grid."""
    _, offset, _ = run(capsys, "preview", "--now", NOW, *WIDE)
    _, zulu, _ = run(capsys, "preview", "--now", "2026-03-02T13:00:00Z", *WIDE)

    assert offset == zulu


def test_without_now_the_clock_is_read(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --now the CLI asks the system clock, and only then."""
    monkeypatch.setattr(cli, "_system_now", lambda: datetime(2026, 3, 2, 13, 0, tzinfo=UTC))
    _, from_clock, _ = run(capsys, "preview", *WIDE)
    _, given, _ = run(capsys, "preview", "--now", NOW, *WIDE)

    assert given == from_clock


def test_real_clock_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """With the real clock the command succeeds and shows the days after today."""
    status, out, _ = run(capsys, "preview", *WIDE)

    assert 0 == status
    assert "Dr. Avery Quinn (America/New_York): " in out


def test_naive_now_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """A --now without an offset exits 2 with the library's NaiveDatetime message."""
    status, out, err = run(capsys, "preview", "--now", "2026-03-02T08:00:00")

    assert 2 == status
    assert "" == out
    assert "selfsched: error: --now=datetime.datetime(2026, 3, 2, 8, 0) has no time zone." in err
    assert "2026-03-02T08:00:00-05:00" in err


def test_unknown_zone_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown --zone exits 2 and says what a zone key looks like."""
    status, out, err = run(capsys, "preview", "--now", NOW, "--zone", "Mars/Olympus")

    assert 2 == status
    assert "" == out
    assert "'Mars/Olympus' is not a known IANA time zone" in err


@pytest.mark.parametrize(
    "now",
    ["9999-12-31T00:00:00+00:00", "0001-01-01T00:00:00+00:00", "9998-12-30T00:00:00+00:00"],
)
def test_now_at_the_ends_of_the_calendar_is_refused(
    capsys: pytest.CaptureFixture[str], now: str
) -> None:
    """A --now at the ends of datetime's range exits 2 with a message, not a traceback."""
    status, out, err = run(capsys, "preview", "--now", now)

    assert 2 == status
    assert "" == out
    assert err.startswith("selfsched: error: ")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("preview", "--now", "yesterday"), "is not an ISO 8601 date-time"),
        (("preview", "--days", "0"), "give a number from 1 to 31"),
        (("preview", "--days", "many"), "is not a whole number"),
        (("preview", "--grid", "20"), "invalid choice"),
        (("preview", "--width", "5"), "give a number from 20"),
        ((), "the following arguments are required: COMMAND"),
        (("book",), "invalid choice"),
    ],
)
def test_bad_arguments_exit_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    """Malformed arguments print usage and a reason, and exit 2."""
    status, out, err = run(capsys, *args)

    assert 2 == status
    assert "" == out
    assert "usage: selfsched" in err
    assert message in err


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    """--help and --version print and exit 0."""
    help_status, help_out, _ = run(capsys, "preview", "--help")
    version_status, version_out, _ = run(capsys, "--version")

    assert (0, 0) == (help_status, version_status)
    assert "--zone IANA" in help_out
    assert version_out.startswith("selfsched ")


def test_render_marks_the_second_of_a_repeated_time() -> None:
    """On a fall-back night a repeated wall time gets a second row, marked '*'."""
    clinician = Clinician(
        id="night",
        name="Night shift",
        zone="America/New_York",
        work_hours=WorkHours({Weekday.SUNDAY: ["00:00-03:00"]}),
        service_minutes=30,
    )
    calendar = ClinicianCalendar(clinician=clinician)
    day = date(2026, 11, 1)
    now = datetime(2026, 10, 1, tzinfo=UTC)
    slots = available_slots(calendar, ApprovalPolicy(), first_day=day, last_day=day, now=now)

    text = cli.render_week(
        calendar,
        slots,
        first_day=day,
        last_day=day,
        now=now,
        zone=ZoneInfo("America/New_York"),
        grid_minutes=30,
        width=100,
    )

    rows = [line.split()[0] for line in text.splitlines() if re.match(r"\d\d:\d\d", line)]
    assert ["00:00", "00:30", "01:00", "01:00*", "01:30", "01:30*", "02:00", "02:30"] == rows
    assert "* = the second time this clock time occurs, after the clocks went back." in text
    assert "Clocks change in America/New_York on Sun 01 Nov 2026 (UTC-04:00 to UTC-05:00)." in text


def test_render_without_work_hours_says_so() -> None:
    """A clinician without work hours gets an explicit 'no slots' line, not an empty grid."""
    calendar = ClinicianCalendar(clinician=Clinician(id="off", name="Off", zone="UTC"))
    day = date(2026, 3, 3)

    text = cli.render_week(
        calendar,
        (),
        first_day=day,
        last_day=day,
        now=datetime(2026, 3, 2, tzinfo=UTC),
        zone=ZoneInfo("UTC"),
        grid_minutes=30,
        width=100,
    )

    assert "(no slots: the clinician has no work hours on these days)" in text
    assert "0 of 0 slots available." in text


def test_demo_week_is_relative_to_its_first_day() -> None:
    """Any week of the demo clinic has its appointments inside the seven days shown."""
    for first_day in (date(2026, 3, 3), date(2026, 11, 1), date(2027, 1, 1)):
        calendar = demo_calendar(first_day)
        days = {a.start.astimezone(DEMO_CLINICIAN.tz).date() for a in calendar.appointments}
        assert all(0 <= (d - first_day).days < 7 for d in days)
        assert on_or_after(first_day, Weekday.FRIDAY).weekday() == Weekday.FRIDAY


def _scripts_dir() -> Path:
    return Path(sysconfig.get_path("scripts"))


def test_installed_console_script_runs() -> None:
    """The ``selfsched`` console script installed with the package prints the grid."""
    script = _scripts_dir() / ("selfsched.exe" if sys.platform == "win32" else "selfsched")
    assert script.exists(), f"{script} is missing: install the package (pip install -e .)"

    done = subprocess.run(  # noqa: S603  (a fixed argument list, no shell)
        [str(script), "preview", "--now", NOW, "--width", "120"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert (0, "") == (done.returncode, done.stderr)
    assert "Dr. Avery Quinn (America/New_York): Tue 03 Mar 2026" in done.stdout
    assert "Unavailable" in done.stdout


def test_python_dash_m_runs() -> None:
    """``python -m selfsched`` is the same command, exit codes included."""
    ok = subprocess.run(  # noqa: S603  (a fixed argument list, no shell)
        [sys.executable, "-m", "selfsched", "preview", "--now", NOW, "--width", "120"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    naive = subprocess.run(
        [sys.executable, "-m", "selfsched", "preview", "--now", "2026-03-02T08:00"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert 0 == ok.returncode
    assert "Available" in ok.stdout
    assert 2 == naive.returncode
    assert "has no time zone" in naive.stderr


def test_zone_behind_drops_empty_edge_days(capsys: pytest.CaptureFixture[str]) -> None:
    """Los Angeles evenings before the first New York day have no slots: no empty column."""
    _, out, _ = run(capsys, "preview", "--now", NOW, "--zone", "America/Los_Angeles", *WIDE)

    header = next(line for line in out.splitlines() if line.startswith("Time"))
    assert "Tue Mar 03" == re.split(r"\s{2,}", header)[1]
    assert "06:00" == min(t for _, t in grid(out))


def test_readme_example_prints_what_the_readme_says(capsys: pytest.CaptureFixture[str]) -> None:
    """The usage example in README.md runs and prints exactly the output shown under it."""
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    shown = re.search(r"```text\n(.*?)```", section, re.DOTALL)
    assert code is not None
    assert shown is not None

    exec(compile(code[1], "README.md", "exec"), {})  # noqa: S102  (our own README)

    assert shown[1] == capsys.readouterr().out


def test_zone_keeps_mostly_covered_empty_days(capsys: pytest.CaptureFixture[str]) -> None:
    """An edge date without slots stays when most of it is inside the days asked for."""
    _, out, _ = run(
        capsys, "preview", "--now", NOW, "--days", "5", "--zone", "Europe/London", *WIDE
    )
    _, howe, _ = run(
        capsys, "preview", "--now", NOW, "--days", "1", "--zone", "Australia/Lord_Howe", *WIDE
    )

    assert "Sat Mar 07" in {day for day, _ in grid(out)}  # 19 of its 24 hours are asked for
    assert {"Wed Mar 04"} == {day for day, _ in grid(howe)}  # Tue Mar 03 there: 8 hours, empty
