"""Print one clinician's available slots for a week, in the client's own time zone.

Run it with ``python examples/preview_week.py``. The clinician works in New York; the client
reads times in London. ``NOW`` is fixed so that the output is the same on every run; in an
application it is the current instant, ``datetime.now(UTC)``, read once at the edge.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from selfsched import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    Clinician,
    ClinicianCalendar,
    WorkHours,
    available_slots,
)

CLINIC = ZoneInfo("America/New_York")
CLIENT = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 6, 17, 0, tzinfo=CLINIC)  # a Friday afternoon

clinician = Clinician(
    id="dr-lee",
    name="Dr. Sam Lee",
    zone="America/New_York",
    work_hours=WorkHours.weekdays("09:00-12:00", "13:00-17:00", location="Main Street Office"),
    service_code="90834",
    service_minutes=50,
)
team_meeting = CalendarEvent.recurring(
    "FREQ=WEEKLY;BYDAY=WE",
    start=datetime(2026, 1, 7, 9, 0, tzinfo=CLINIC),
    end=datetime(2026, 1, 7, 10, 0, tzinfo=CLINIC),
    title="Team meeting",
)
booked = Appointment(
    id="a-1",
    client_id="someone-else",
    clinician_id="dr-lee",
    start=datetime(2026, 3, 9, 13, 0, tzinfo=CLINIC),
    end=datetime(2026, 3, 9, 13, 50, tzinfo=CLINIC),
    status=AppointmentStatus.BOOKED,
)
calendar = ClinicianCalendar(clinician=clinician, events=[team_meeting], appointments=[booked])
policy = ApprovalPolicy(grid_minutes=60)


def main() -> None:
    """Print the week after ``NOW``: the open slots of each day, on the client's clock."""
    first_day = NOW.astimezone(CLINIC).date() + timedelta(days=1)
    last_day = first_day + timedelta(days=6)
    slots = available_slots(calendar, policy, first_day=first_day, last_day=last_day, now=NOW)
    open_slots = [slot.in_zone(CLIENT) for slot in slots if slot.available]

    print(f"{clinician.name}: open slots {first_day} to {last_day}, times in {CLIENT.key}")
    for day, starts in groupby((slot.start for slot in open_slots), key=lambda s: s.date()):
        times = ", ".join(f"{start:%H:%M}" for start in starts)
        print(f"  {day:%a %d %b}  {times}")
    print(f"{len(open_slots)} of {len(slots)} slots open.")


if __name__ == "__main__":
    main()
