"""Slot previews as you would script them in a notebook: a staff summary of two clinicians.

Each ``# %%`` marks a cell (the "percent" format that Jupyter, VS Code and jupytext read); run
the whole file with ``python examples/notebook_preview.py``. It answers the questions a practice
manager asks before opening self-scheduling: how many slots each clinician offers per day, what
blocks the others, and when the first opening is.
"""

# %% Setup: two clinicians in different zones, one policy.
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from selfsched import (
    Appointment,
    ApprovalPolicy,
    CalendarEvent,
    Clinician,
    ClinicianCalendar,
    Reason,
    WorkHours,
    explain,
    first_available,
)

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 9, 8, 0, tzinfo=NY)  # fixed, so the notebook shows the same every run
FIRST, LAST = date(2026, 3, 10), date(2026, 3, 13)

lee = Clinician(
    id="dr-lee",
    name="Dr. Sam Lee",
    zone="America/New_York",
    work_hours=WorkHours.weekdays("09:00-12:00", "13:00-17:00"),
)
kim = Clinician(
    id="dr-kim",
    name="Dr. Jo Kim",
    zone="America/Los_Angeles",
    work_hours=WorkHours.weekdays("10:00-18:00"),
    service_minutes=45,
)


def booked(clinician: Clinician, number: int, start: datetime) -> Appointment:
    """A booked appointment of the clinician's default length."""
    return Appointment(
        id=f"{clinician.id}-{number}",
        client_id=f"client-{number}",
        clinician_id=clinician.id,
        start=start,
        end=start + clinician.service_length,
        status="booked",
    )


calendars = [
    ClinicianCalendar(
        clinician=lee,
        events=[CalendarEvent.all_day(date(2026, 3, 12), title="Conference")],
        appointments=[
            booked(lee, n, datetime(2026, 3, 10, hour, 0, tzinfo=NY))
            for n, hour in enumerate((9, 10, 14), start=1)
        ],
    ),
    ClinicianCalendar(
        clinician=kim,
        events=[
            CalendarEvent.recurring(
                "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
                start=datetime(2026, 1, 5, 12, 0, tzinfo=kim.tz),
                end=datetime(2026, 1, 5, 13, 0, tzinfo=kim.tz),
                title="Lunch",
            )
        ],
    ),
]
policy = ApprovalPolicy(grid_minutes=30, buffer_after=timedelta(minutes=10), daily_max=6)

# %% Per clinician and day: open slots, and what blocks the rest (staff view).
print(f"{'clinician':<12} {'day':<10} {'open':>4} {'of':>3}  blocked by")
for calendar in calendars:
    slots = explain(calendar, policy, first_day=FIRST, last_day=LAST, now=NOW)
    zone = calendar.clinician.tz
    for day in (FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)):
        today = [s for s in slots if s.start.astimezone(zone).date() == day]
        why: Counter[Reason] = Counter(r for s in today for r in s.reasons)
        summary = ", ".join(f"{reason} x{count}" for reason, count in why.most_common()) or "-"
        opened = sum(s.available for s in today)
        name = calendar.clinician.name
        print(f"{name:<12} {day:%a %d %b} {opened:>4} {len(today):>3}  {summary}")

# %% The first opening across both clinicians, on the client's clock.
found = first_available(calendars, policy, now=NOW)
if found is None:
    print("Nobody has an opening within the horizon.")
else:
    clinician, slot = found
    when = slot.start.astimezone(ZoneInfo("America/Chicago"))
    print(f"First opening: {clinician.name}, {when:%a %d %b %H:%M %Z}")
