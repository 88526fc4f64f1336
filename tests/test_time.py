"""Examples for selfsched._time: zone keys, aware-only checks, and wall time to instants.

Expected instants are worked out by hand from the published offsets (2025 transitions):
America/New_York springs forward on 9 March at 02:00 EST (07:00 UTC) and falls back on 2 November
at 02:00 EDT (06:00 UTC); America/Havana springs forward at midnight on 9 March (05:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from selfsched import _time
from selfsched.errors import NaiveDatetime, UnknownTimeZone

NEW_YORK = ZoneInfo("America/New_York")
HAVANA = ZoneInfo("America/Havana")


def posix(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """POSIX seconds of a UTC wall time, computed with plain arithmetic from the epoch."""
    days = (date(year, month, day) - date(1970, 1, 1)).days
    return days * 86_400 + hour * 3_600 + minute * 60


# -- zones ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["America/New_York", "UTC", "Asia/Kolkata", "Etc/GMT+5"])
def test_zone_loads_an_iana_key(key: str) -> None:
    """A valid IANA key gives the ZoneInfo of that key."""
    expected = key

    assert expected == _time.zone(key).key


def test_zone_passes_a_zoneinfo_through() -> None:
    """A ZoneInfo is returned as it is, not looked up again."""
    expected = NEW_YORK

    assert expected is _time.zone(NEW_YORK)


def test_zone_key_of_a_zoneinfo() -> None:
    """zone_key normalises a ZoneInfo to its key, the form stored on a clinician."""
    expected = "Australia/Lord_Howe"

    assert expected == _time.zone_key(ZoneInfo("Australia/Lord_Howe"))


@pytest.mark.parametrize(
    "key",
    ["Mars/Olympus", "", "../../etc/passwd", "/etc/passwd", "America", " UTC", None, 42],
)
def test_zone_refuses_what_is_not_an_iana_key(key: object) -> None:
    """Unknown keys, directories, paths and non-strings raise UnknownTimeZone carrying the key."""
    with pytest.raises(UnknownTimeZone) as caught:
        _time.zone(key)  # type: ignore[arg-type]

    assert key == caught.value.key
    assert repr(key) in str(caught.value)


# -- aware-only -----------------------------------------------------------------------------------


def test_to_utc_keeps_the_instant() -> None:
    """09:00 in New York in June (EDT, UTC-4) is 13:00 UTC, and the result's zone is UTC."""
    expected = datetime(2025, 6, 2, 13, 0, tzinfo=UTC)

    actual = _time.to_utc("start", datetime(2025, 6, 2, 9, 0, tzinfo=NEW_YORK))

    assert expected == actual
    assert UTC is actual.tzinfo


def test_to_utc_accepts_a_fixed_offset() -> None:
    """Any aware datetime is accepted, including a fixed-offset timezone."""
    expected = datetime(2025, 6, 2, 4, 0, tzinfo=UTC)

    actual = _time.to_utc(
        "start", datetime(2025, 6, 2, 9, 30, tzinfo=timezone(timedelta(hours=5.5)))
    )

    assert expected == actual


@pytest.mark.parametrize(
    "value", [datetime(2025, 6, 2, 9, 0), None, "2025-06-02T09:00", date(2025, 6, 2)]
)
def test_require_aware_refuses_naive_and_non_datetimes(value: object) -> None:
    """A naive datetime, None, a string or a date raises NaiveDatetime naming the parameter."""
    with pytest.raises(NaiveDatetime) as caught:
        _time.require_aware("now", value)

    expected = ("now", f"now={value!r} ")
    assert expected == (caught.value.name, str(caught.value)[: len(expected[1])])


def test_optional_utc_lets_none_through() -> None:
    """optional_utc is to_utc for optional fields: None stays None."""
    assert _time.optional_utc("decided_at", None) is None


# -- POSIX seconds --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "floor", "ceil"),
    [
        (datetime(2025, 6, 2, 13, 0, tzinfo=UTC), posix(2025, 6, 2, 13), posix(2025, 6, 2, 13)),
        (
            datetime(2025, 6, 2, 13, 0, 0, 1, tzinfo=UTC),
            posix(2025, 6, 2, 13),
            posix(2025, 6, 2, 13) + 1,
        ),
        (datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC), -1, 0),
    ],
)
def test_ts_rounds_down_and_ts_ceil_rounds_up(instant: datetime, floor: int, ceil: int) -> None:
    """ts floors to whole seconds (also before 1970); ts_ceil rounds a fraction up."""
    assert (floor, ceil) == (_time.ts(instant), _time.ts_ceil(instant))


def test_from_ts_is_the_inverse_of_ts() -> None:
    """from_ts gives the UTC datetime of POSIX seconds."""
    expected = datetime(2025, 3, 9, 7, 0, tzinfo=UTC)

    assert expected == _time.from_ts(posix(2025, 3, 9, 7))


# -- wall time to instants ------------------------------------------------------------------------


def test_wall_instants_of_an_ordinary_time() -> None:
    """An ordinary wall time has exactly one instant: 09:00 EST on 3 March is 14:00 UTC."""
    expected = (posix(2025, 3, 3, 14),)

    assert expected == _time.wall_instants(datetime(2025, 3, 3, 9, 0), NEW_YORK)


def test_wall_instants_of_a_skipped_time() -> None:
    """02:30 on the spring-forward day does not exist in New York: no instant shows it."""
    expected: tuple[int, ...] = ()

    assert expected == _time.wall_instants(datetime(2025, 3, 9, 2, 30), NEW_YORK)


def test_wall_instants_of_a_repeated_time() -> None:
    """01:30 on the fall-back day happens twice: 05:30 UTC (EDT), then 06:30 UTC (EST)."""
    expected = (posix(2025, 11, 2, 5, 30), posix(2025, 11, 2, 6, 30))

    assert expected == _time.wall_instants(datetime(2025, 11, 2, 1, 30), NEW_YORK)


def test_wall_bound_in_a_gap_is_the_transition() -> None:
    """A boundary inside the gap resolves to the instant the clock jumps: 07:00 UTC."""
    expected = posix(2025, 3, 9, 7)
    wall = datetime(2025, 3, 9, 2, 30)

    assert (expected, expected) == (
        _time.wall_bound(wall, NEW_YORK, end=False),
        _time.wall_bound(wall, NEW_YORK, end=True),
    )


@pytest.mark.parametrize(
    ("zone", "wall", "expected"),
    [
        # New York 02:00 EDT -> 01:00 EST. 01:30 shows at 05:30Z and 06:30Z; the clock shows
        # less than 01:30 until 06:30Z (01:00-01:29 EST come again), so a range ends then.
        (
            NEW_YORK,
            datetime(2025, 11, 2, 1, 30),
            (posix(2025, 11, 2, 5, 30), posix(2025, 11, 2, 6, 30)),
        ),
        # 01:00 itself is where the clock goes back to: after its first showing at 05:00Z the
        # clock never shows less than 01:00 again, so a range ending at 01:00 ends at 05:00Z.
        (NEW_YORK, datetime(2025, 11, 2, 1, 0), (posix(2025, 11, 2, 5), posix(2025, 11, 2, 5))),
        # Lord Howe 2025-04-06 02:00 +11 -> 01:30 +10:30 (at 15:00Z): 01:30 shows at 14:30Z and
        # 15:00Z, and a range ending at 01:30 ends at the first (found by the property tests).
        (
            ZoneInfo("Australia/Lord_Howe"),
            datetime(2025, 4, 6, 1, 30),
            (posix(2025, 4, 5, 14, 30), posix(2025, 4, 5, 14, 30)),
        ),
    ],
)
def test_wall_bound_in_a_fold(zone: ZoneInfo, wall: datetime, expected: tuple[int, int]) -> None:
    """A repeated start is its first instant; a repeated end is the last instant before which
    the clock still shows less than it."""
    assert expected == (
        _time.wall_bound(wall, zone, end=False),
        _time.wall_bound(wall, zone, end=True),
    )


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        (NEW_YORK, date(2025, 3, 9), posix(2025, 3, 9, 5)),
        (NEW_YORK, date(2025, 3, 10), posix(2025, 3, 10, 4)),
        (HAVANA, date(2025, 3, 9), posix(2025, 3, 9, 5)),
        (HAVANA, date(2025, 3, 8), posix(2025, 3, 8, 5)),
    ],
    ids=["ny-spring-day", "ny-after", "havana-midnight-skipped", "havana-before"],
)
def test_start_of_day(zone: ZoneInfo, day: date, expected: int) -> None:
    """A local date starts at its first instant; in Havana on 9 March that is 01:00 CDT."""
    assert expected == _time.start_of_day(day, zone)


def test_local_wall_and_offset() -> None:
    """06:30 UTC on the fall-back day reads 01:30 in New York, at UTC-5."""
    seconds = posix(2025, 11, 2, 6, 30)
    expected = (datetime(2025, 11, 2, 1, 30), -5 * 3600)

    assert expected == (
        _time.local_wall(seconds, NEW_YORK),
        _time.utc_offset_at(seconds, NEW_YORK),
    )
