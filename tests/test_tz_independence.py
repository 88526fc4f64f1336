"""Results do not depend on the machine's time zone.

The library never reads the system zone: every zone is an explicit IANA key. These tests change
the process's zone (``TZ`` plus ``time.tzset()``), run the same computations, and compare the
results, including their ``repr``, so a datetime that silently came back in the local zone fails.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from selfsched import (
    Appointment,
    ApprovalPolicy,
    CalendarEvent,
    Clinician,
    ClinicianCalendar,
    Weekday,
    WorkHours,
    available_slots,
    check_slot,
    explain,
    first_available,
)

pytestmark = pytest.mark.skipif(not hasattr(time, "tzset"), reason="time.tzset is Unix-only")

# Machine zones to try, with their UTC offset on 1 January 2025, to check the switch took effect.
MACHINE_ZONES = {
    "UTC": timedelta(0),
    "America/Los_Angeles": timedelta(hours=-8),
    "America/St_Johns": timedelta(hours=-3, minutes=-30),
    "Asia/Kathmandu": timedelta(hours=5, minutes=45),
    "Australia/Lord_Howe": timedelta(hours=11),
    "Pacific/Kiritimati": timedelta(hours=14),
}

SetZone = Callable[[str], None]


@pytest.fixture
def machine_zone() -> Iterator[SetZone]:
    """Set the process's zone with TZ and tzset(); restore the previous zone afterwards."""
    before = os.environ.get("TZ")

    def set_zone(key: str) -> None:
        """Make *key* the process's local zone."""
        os.environ["TZ"] = key
        time.tzset()

    try:
        yield set_zone
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def compute() -> str:
    """A spread of library results around DST transitions, as one repr string."""
    new_york = Clinician(
        id="dr-ny",
        zone="America/New_York",
        work_hours=WorkHours([["00:00-03:00", "09:00-12:00"]] * 7),
        service_minutes=50,
    )
    lord_howe = Clinician(
        id="dr-lh",
        zone="Australia/Lord_Howe",
        work_hours=WorkHours({Weekday.SUNDAY: ["01:00-03:00"], Weekday.MONDAY: ["09:00-12:00"]}),
        service_minutes=30,
    )
    meeting = CalendarEvent.recurring(
        "FREQ=DAILY;UNTIL=20251110T000000Z",
        start=datetime(2025, 10, 28, 14, 0, tzinfo=UTC),
        end=datetime(2025, 10, 28, 15, 0, tzinfo=UTC),
    )
    booked = Appointment(
        id="a1",
        client_id="c1",
        clinician_id="dr-ny",
        start=datetime(2025, 11, 2, 6, 0, tzinfo=UTC),
        end=datetime(2025, 11, 2, 6, 50, tzinfo=UTC),
        status="booked",
    )
    calendars = [
        ClinicianCalendar(
            clinician=new_york,
            events=[meeting, CalendarEvent.all_day(date(2025, 11, 4))],
            appointments=[booked],
        ),
        ClinicianCalendar(clinician=lord_howe),
    ]
    policy = ApprovalPolicy(grid_minutes=30, horizon=timedelta(days=30), daily_max=3)
    now = datetime(2025, 10, 25, 12, 0, tzinfo=UTC)
    results: list[object] = []
    for calendar in calendars:
        first, last = date(2025, 11, 1), date(2025, 11, 4)
        offered = available_slots(calendar, policy, first_day=first, last_day=last, now=now)
        results.append(offered)
        results.append([s.in_zone("Asia/Kolkata") for s in offered])
        results.append(explain(calendar, policy, first_day=first, last_day=last, now=now))
    results.append(
        check_slot(calendars[0], policy, datetime(2025, 11, 2, 6, 0, tzinfo=UTC), now=now)
    )
    results.append(first_available(calendars, policy, now=now))
    return repr(results)


@pytest.mark.parametrize("key", MACHINE_ZONES)
def test_switching_the_machine_zone_takes_effect(machine_zone: SetZone, key: str) -> None:
    """The fixture really changes the local zone (so the comparison below can fail)."""
    machine_zone(key)
    expected = MACHINE_ZONES[key]

    local = datetime(2025, 1, 1, 12, 0, tzinfo=UTC).astimezone()

    assert expected == local.utcoffset()


def test_results_do_not_depend_on_the_machine_zone(machine_zone: SetZone) -> None:
    """The same computation gives the same result (and repr) in every machine zone."""
    machine_zone("UTC")
    expected = compute()

    actual = {}
    for key in MACHINE_ZONES:
        machine_zone(key)
        actual[key] = compute()

    assert dict.fromkeys(MACHINE_ZONES, expected) == actual
