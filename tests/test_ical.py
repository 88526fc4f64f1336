"""selfsched.ical: appointments as iCalendar events and invites, external calendars as busy time.

The two fixture calendars under tests/data are written for these tests in the style of a Google
Calendar export and an Outlook export; every busy interval expected of them is computed by hand
below (New York is UTC-5 until the clocks go forward on Sunday 8 March 2026, UTC-4 after).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfsched import ical
from selfsched.adapters.memory import InMemoryStore
from selfsched.errors import (
    ExtraNotInstalled,
    InvalidCalendarFile,
    InvalidInput,
    InvalidRange,
    WrongType,
)
from selfsched.events import EmailKind, EmailMessage, redacted
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    CalendarEvent,
    Client,
    Clinician,
    Practice,
    SchedulingMode,
)
from selfsched.permissions import ClientActor, ClinicianActor
from selfsched.settings import LiveSettings
from selfsched.testing._builders import World, make_world

DATA = Path(__file__).parent / "data"
NY = ZoneInfo("America/New_York")
MARCH = datetime(2026, 3, 2, tzinfo=NY)
APRIL = datetime(2026, 4, 1, tzinfo=NY)


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def busy(name: str, zone: str = "America/New_York") -> list[tuple[object, ...]]:
    """The fixture calendar's busy time over March 2026 (New York), as comparable tuples."""
    events = ical.busy_from_ics(
        (DATA / name).read_bytes(), clinician_zone=zone, start=MARCH, end=APRIL
    )
    return [
        (e.title, e.start, e.end) if e.day is None else (e.title, e.day, e.days) for e in events
    ]


# -- in: the fixture calendars --------------------------------------------------------------------


def test_a_google_export_becomes_busy_time() -> None:
    """Weekly Monday 12:00 series across the DST change, an instance moved, one skipped by EXDATE,
    one cancelled, one added by RDATE; a two-day all-day event; one-offs in UTC and floating."""
    assert [
        ("Supervision", utc(2, 17), utc(2, 18)),  # 12:00 EST
        ("Lunch with Sam", utc(4, 17), utc(4, 18)),  # floating 12:00, read in New York (EST)
        ("Dentist", utc(5, 15), utc(5, 16)),  # written in UTC
        ("Supervision (moved)", utc(10, 19), utc(10, 20)),  # 9 March moved to 10th 15:00 EDT
        ("Conference", date(2026, 3, 12), 2),  # 12 and 13 March, whole days
        # 16 March: EXDATE. 17 March: a transparent all-day event, free.
        ("Supervision", utc(19, 16), utc(19, 17)),  # RDATE Thursday 12:00 EDT
        # 23 March: cancelled instance.
        ("Supervision", utc(30, 16), utc(30, 17)),  # 12:00 EDT: the wall time kept across DST
    ] == busy("google.ics")


def test_an_outlook_export_becomes_busy_time() -> None:
    """Windows zone names (with quoted TZIDs), COUNT, an override, EXDATE, a cancelled instance,
    an all-day out-of-office, a free event and an Outlook "Customized Time Zone"."""
    assert [
        ("Team meeting", utc(3, 14), utc(3, 15)),  # Tuesday 09:00 EST
        ("Call with the LA office", utc(5, 18), utc(5, 18, 30)),  # 10:00 PST
        ("Call with Berlin", utc(6, 14), utc(6, 15)),  # 15:00 at +01:00 (the file's own zone)
        ("Team meeting (moved)", utc(10, 15), utc(10, 16, 30)),  # moved to 11:00 EDT
        # 12 March: the webinar is TRANSP:TRANSPARENT. 17 March: EXDATE.
        ("Out of office", date(2026, 3, 20), 1),
        # 24 March: cancelled instance.
        ("Team meeting", utc(31, 13), utc(31, 14)),  # sixth and last (COUNT=6), 09:00 EDT
    ] == busy("outlook.ics")


def test_floating_times_are_read_in_the_clinicians_zone() -> None:
    """The floating lunch is noon wherever the clinician is; times with a zone do not move."""
    london = {title: (start, end) for title, start, end in busy("google.ics", "Europe/London")}
    assert (utc(4, 12), utc(4, 13)) == london["Lunch with Sam"]
    assert (utc(5, 15), utc(5, 16)) == london["Dentist"]


def test_the_busy_events_are_calendar_events_with_stable_ids() -> None:
    events = ical.busy_from_ics(
        (DATA / "google.ics").read_bytes(),
        clinician_zone="America/New_York",
        start=MARCH,
        end=APRIL,
    )
    assert all(isinstance(e, CalendarEvent) for e in events)
    assert "5q1n0v3s7c2k9m4b8d6f0h2j4l@google.com/2026-03-02T12:00:00-05:00" == events[0].id
    assert len({e.id for e in events}) == len(events)


def test_only_occurrences_that_overlap_the_window_are_returned() -> None:
    """An occurrence that straddles the window's start is returned whole; the next week's not."""
    start = datetime(2026, 3, 2, 12, 30, tzinfo=NY)
    events = ical.busy_from_ics(
        (DATA / "google.ics").read_bytes(),
        clinician_zone="America/New_York",
        start=start,
        end=start + timedelta(hours=1),
    )
    assert [("Supervision", utc(2, 17), utc(2, 18))] == [(e.title, e.start, e.end) for e in events]


def calendar(*lines: str, zones: str = "") -> bytes:
    """An iCalendar file of one VCALENDAR with *zones* and then *lines* (CRLF line ends)."""
    body = "\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//EN", zones.strip(), *lines]
    ).replace("\n\n", "\n")
    return (body + "\nEND:VCALENDAR\n").replace("\n", "\r\n").encode()


def event(*lines: str, summary: str = "Team meeting", uid: str = "e1") -> list[str]:
    return ["BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:{summary}", *lines, "END:VEVENT"]


def read(data: bytes, zone: str = "America/New_York") -> tuple[CalendarEvent, ...]:
    return ical.busy_from_ics(data, clinician_zone=zone, start=MARCH, end=APRIL)


def test_a_windows_zone_name_resolves_without_a_vtimezone() -> None:
    data = calendar(
        *event(
            "DTSTART;TZID=Eastern Standard Time:20260309T090000",
            "DTEND;TZID=Eastern Standard Time:20260309T100000",
        )
    )
    [found] = read(data)
    assert (utc(9, 13), utc(9, 14)) == (found.start, found.end)


def test_a_weekly_series_since_2000_is_within_the_bound() -> None:
    data = calendar(
        *event(
            "DTSTART;TZID=America/New_York:20000103T090000",
            "DTEND;TZID=America/New_York:20000103T100000",
            "RRULE:FREQ=WEEKLY;BYDAY=MO",
        )
    )
    assert [utc(d, h) for d, h in ((2, 14), (9, 13), (16, 13), (23, 13), (30, 13))] == [
        e.start for e in read(data)
    ]


def test_duration_and_events_without_length() -> None:
    """DURATION gives the end; a date-time event without end or duration blocks nothing; an
    all-day event without DTEND is one day."""
    data = calendar(
        *event("DTSTART:20260303T150000Z", "DURATION:PT45M", uid="a"),
        *event("DTSTART:20260304T150000Z", uid="b"),
        *event("DTSTART;VALUE=DATE:20260305", uid="c", summary="Day off"),
    )
    assert [(utc(3, 15), utc(3, 15, 45), None), (None, None, date(2026, 3, 5))] == [
        (e.start, e.end, e.day) for e in read(data)
    ]


def test_a_broken_x_property_is_ignored() -> None:
    """Vendors' own properties do not change busy time: a malformed one does not refuse the file."""
    data = calendar(
        *event(
            "DTSTART:20260303T150000Z",
            "DTEND:20260303T160000Z",
            "X-MICROSOFT-CDO-APPT-SEQUENCE;VALUE=DATE-TIME:not a time",
        )
    )
    assert 1 == len(read(data))


# -- in: malformed files --------------------------------------------------------------------------

GOOD = event("DTSTART:20260303T150000Z", "DTEND:20260303T160000Z", uid="good", summary="Fine")

MALFORMED = {
    "not iCalendar": (
        b"hello",
        "VCALENDAR",
        None,
        (
            "VCALENDAR: the file cannot be read as iCalendar (Content line could not be parsed "
            "into parts: 'hello': Invalid content line)."
        ),
    ),
    "no VCALENDAR": (
        b"BEGIN:VEVENT\r\nEND:VEVENT\r\n",
        "VCALENDAR",
        None,
        "VCALENDAR: the file holds no VCALENDAR; export the calendar as .ics.",
    ),
    "a bad DTSTART": (
        calendar(*GOOD, *event("DTSTART:2026-03-03", "DTEND:20260303T160000Z")),
        "VEVENT 'Team meeting'",
        "DTSTART",
        "VEVENT 'Team meeting' DTSTART: Expected datetime, date, or time. Got: '2026-03-03'.",
    ),
    "no DTSTART": (
        calendar(*GOOD, *event("DTEND:20260303T160000Z")),
        "VEVENT 'Team meeting'",
        "DTSTART",
        "VEVENT 'Team meeting' DTSTART: missing; every event needs a start.",
    ),
    "an unknown zone": (
        calendar(*event("DTSTART;TZID=Mars/Olympus:20260303T090000", "DURATION:PT1H")),
        "VEVENT 'Team meeting'",
        "DTSTART",
        (
            "VEVENT 'Team meeting' DTSTART: TZID 'Mars/Olympus' is not an IANA time zone, a "
            "Windows time zone name or a VTIMEZONE of this file; add its VTIMEZONE to the file or "
            "use a zone such as 'America/New_York'."
        ),
    ),
    "an end before the start": (
        calendar(*event("DTSTART:20260303T150000Z", "DTEND:20260303T140000Z")),
        "VEVENT 'Team meeting'",
        "DTEND",
        "VEVENT 'Team meeting' DTEND: is before DTSTART.",
    ),
    "a date end for a timed start": (
        calendar(*event("DTSTART:20260303T150000Z", "DTEND;VALUE=DATE:20260304")),
        "VEVENT 'Team meeting'",
        "DTEND",
        (
            "VEVENT 'Team meeting' DTEND: is a date where DTSTART is a date-time, or the other way "
            "round."
        ),
    ),
    "a bad RRULE": (
        calendar(*event("DTSTART:20260303T150000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;BYDAY=XX")),
        "VEVENT 'Team meeting'",
        "RRULE",
        "VEVENT 'Team meeting' RRULE: Expected weekday abbreviation, got: XX.",
    ),
    "a line that is no property": (
        calendar(*event("DTSTART:20260303T150000Z", "no colon here")),
        "VEVENT 'Team meeting'",
        None,
        (
            "VEVENT 'Team meeting': Content line could not be parsed into parts: 'no colon here': "
            "Invalid content line."
        ),
    ),
    "an event named by its UID": (
        calendar("BEGIN:VEVENT", "UID:abc-1", "DTEND:20260303T160000Z", "END:VEVENT"),
        "VEVENT with UID 'abc-1'",
        "DTSTART",
        "VEVENT with UID 'abc-1' DTSTART: missing; every event needs a start.",
    ),
    "a time zone that does not repeat yearly": (
        calendar(
            *event("DTSTART;TZID=Home:20260303T090000", "DURATION:PT1H"),
            zones="""
BEGIN:VTIMEZONE
TZID:Home
BEGIN:STANDARD
DTSTART:19700101T000000
TZOFFSETFROM:+0000
TZOFFSETTO:+0100
RRULE:FREQ=DAILY
END:STANDARD
END:VTIMEZONE""",
        ),
        "VTIMEZONE #1 STANDARD",
        "RRULE",
        (
            "VTIMEZONE #1 STANDARD RRULE: 'FREQ=DAILY': a time zone's changes repeat yearly "
            "(FREQ=YEARLY)."
        ),
    ),
}


@pytest.mark.parametrize(
    ("data", "component", "prop", "message"), MALFORMED.values(), ids=list(MALFORMED)
)
def test_a_malformed_file_names_the_component_and_property(
    data: bytes, component: str, prop: str | None, message: str
) -> None:
    """Nothing is returned (the good event before the bad one neither): a typed error."""
    with pytest.raises(InvalidCalendarFile) as caught:
        read(data)
    assert (component, prop, message) == (
        caught.value.component,
        caught.value.property,
        str(caught.value),
    )
    assert isinstance(caught.value, InvalidInput)


def test_the_arguments_are_checked() -> None:
    with pytest.raises(WrongType, match="data must be the bytes of an iCalendar file, got str"):
        ical.busy_from_ics("BEGIN:VCALENDAR", clinician_zone="UTC", start=MARCH, end=APRIL)  # type: ignore[arg-type]
    with pytest.raises(InvalidRange, match="at or before start"):
        ical.busy_from_ics(calendar(*GOOD), clinician_zone="UTC", start=APRIL, end=MARCH)


# -- in: the cost bound ---------------------------------------------------------------------------


def test_a_secondly_rule_is_refused() -> None:
    data = calendar(*event("DTSTART:20260303T150000Z", "DURATION:PT1S", "RRULE:FREQ=SECONDLY"))
    with pytest.raises(InvalidCalendarFile, match="FREQ=SECONDLY is not a calendar rule") as caught:
        read(data)
    assert ("VEVENT 'Team meeting'", "RRULE") == (caught.value.component, caught.value.property)


def test_a_huge_count_is_refused() -> None:
    data = calendar(
        *event("DTSTART:20260303T150000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=5000")
    )
    with pytest.raises(InvalidCalendarFile, match="COUNT may be at most 1000"):
        read(data)


def test_a_dense_rule_from_long_ago_is_refused_before_it_is_expanded() -> None:
    """Every 15 minutes since 1970 is millions of occurrences before March 2026: refused by the
    bound (the counting stops at MAX_EXPANSION), not expanded."""
    data = calendar(
        *event("DTSTART:19700101T000000Z", "DURATION:PT5M", "RRULE:FREQ=MINUTELY;INTERVAL=15")
    )
    with pytest.raises(InvalidCalendarFile) as caught:
        read(data)
    assert (
        "VEVENT 'Team meeting' RRULE: expanding the file's repeating events from their first "
        "occurrences to 2026-04-01 takes more than 100000 steps, the most selfsched spends on one "
        "file (this rule's start is 1970-01-01); export a shorter range or end old series."
    ) == str(caught.value)


def test_the_bound_is_for_the_whole_file() -> None:
    """Many series, each within the bound alone, together are not."""
    series = [
        line
        for n in range(40)
        for line in event(
            "DTSTART:20150101T000000Z",
            "DURATION:PT5M",
            "RRULE:FREQ=DAILY",
            uid=f"s{n}",
            summary=f"S{n}",
        )
    ]
    with pytest.raises(InvalidCalendarFile, match="takes more than 100000 steps") as caught:
        read(calendar(*series))
    # Each daily series since 2015 is about 8,300 steps: the 13th crosses the bound.
    assert "VEVENT 'S12'" == caught.value.component


def test_an_ended_series_costs_only_until_its_end() -> None:
    """UNTIL stops the counting: an old dense series that ended long ago is no cost."""
    data = calendar(
        *event(
            "DTSTART:19700101T000000Z",
            "DURATION:PT5M",
            "RRULE:FREQ=MINUTELY;INTERVAL=15;UNTIL=19700301T000000Z",
        ),
        *GOOD,
    )
    assert ["Fine"] == [e.title for e in read(data)]


# -- out ------------------------------------------------------------------------------------------

CLINICIAN = Clinician(id="dr-a", name="Dr. Ada", zone="America/New_York", service_code="90834")
CLIENT = Client(id="client-1", name="Sam", email="sam@example.test")
PRACTICE = Practice(
    name="Test Clinic", phone="555-0100", reply_to="Front desk <desk@clinic.example.test>"
)
BOOKED = Appointment(
    id="appointment-7",
    client_id="client-1",
    clinician_id="dr-a",
    start=utc(9, 14),
    end=utc(9, 14, 50),
    status=AppointmentStatus.BOOKED,
    service_code="90834",
    code_modifier="95",
    location="Main office",
    created_at=utc(2, 9),
    decided_at=utc(2, 10),
    version=2,
)


def parse(text: str | bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(text)


def test_an_invite_parses_back() -> None:
    text = ical.invite(
        BOOKED, client=CLIENT, clinician=CLINICIAN, practice=PRACTICE, domain="clinic.example.test"
    )
    parsed = parse(text)
    [zone] = parsed.walk("VTIMEZONE")
    [vevent] = parsed.walk("VEVENT")
    assert "REQUEST" == parsed["METHOD"]
    assert "America/New_York" == zone["TZID"]
    assert "appointment-7@clinic.example.test" == vevent["UID"]
    assert 2 == vevent["SEQUENCE"]
    assert "CONFIRMED" == vevent["STATUS"]
    assert "America/New_York" == vevent["DTSTART"].params["TZID"]
    assert datetime(2026, 3, 9, 10, tzinfo=NY) == vevent.decoded("DTSTART")
    assert utc(9, 14, 50) == vevent.decoded("DTEND")
    assert utc(2, 10) == vevent.decoded("DTSTAMP")
    assert "Appointment with Dr. Ada" == vevent["SUMMARY"]
    assert "Main office" == vevent["LOCATION"]
    assert (
        "Clinician: Dr. Ada\nLocation: Main office\nTest Clinic · 555-0100" == vevent["DESCRIPTION"]
    )
    assert "mailto:sam@example.test" == vevent["ATTENDEE"]
    assert "mailto:desk@clinic.example.test" == vevent["ORGANIZER"]
    assert "Front desk" == vevent["ORGANIZER"].params["CN"]
    assert "90834" not in text
    assert "95" not in text.replace("DTSTART", "")


def test_a_cancelled_or_rejected_appointment_cancels() -> None:
    for status in ("cancelled", "rejected", "missed"):
        changed = attrs.evolve(BOOKED, status=status, version=3, cancelled_at=utc(3, 8))
        parsed = parse(ical.invite(changed, client=CLIENT, clinician=CLINICIAN, practice=PRACTICE))
        [vevent] = parsed.walk("VEVENT")
        assert ("CANCEL", "CANCELLED", 3, "appointment-7@selfsched.invalid") == (
            parsed["METHOD"],
            vevent["STATUS"],
            vevent["SEQUENCE"],
            vevent["UID"],
        )


def test_a_request_that_was_never_booked_has_no_invite() -> None:
    for status in ("pending", "expired"):
        with pytest.raises(InvalidInput, match="it was never booked"):
            ical.method_for(attrs.evolve(BOOKED, status=status))


def test_without_a_location_or_a_reply_to_address() -> None:
    """No Location Set, as the email says; no ORGANIZER without the practice's address; a
    clinician in UTC gets Z times and no VTIMEZONE."""
    utc_clinician = attrs.evolve(CLINICIAN, zone="UTC", name="")
    parsed = parse(
        ical.invite(
            attrs.evolve(BOOKED, location=None),
            client=CLIENT,
            clinician=utc_clinician,
            practice=Practice(name="Test Clinic"),
        )
    )
    [vevent] = parsed.walk("VEVENT")
    assert [] == parsed.walk("VTIMEZONE")
    assert ("No Location Set", "Appointment with your clinician") == (
        vevent["LOCATION"],
        vevent["SUMMARY"],
    )
    assert "ORGANIZER" not in vevent
    assert b"DTSTART:20260309T140000Z" in vevent.to_ical()


def test_the_appointment_must_be_the_clinicians() -> None:
    with pytest.raises(InvalidInput, match="is with clinician 'dr-a', not 'dr-b'"):
        ical.appointment_event(
            BOOKED, clinician=attrs.evolve(CLINICIAN, id="dr-b"), practice=PRACTICE
        )


def test_a_feed_for_staff() -> None:
    """The clinician's appointments in the range, sorted; others' left out; statuses mapped."""
    pending = attrs.evolve(BOOKED, id="a-2", status="pending", start=utc(3, 15), end=utc(3, 16))
    cancelled = attrs.evolve(BOOKED, id="a-3", status="cancelled", start=utc(4, 15), end=utc(4, 16))
    other = attrs.evolve(BOOKED, id="a-4", clinician_id="dr-b")
    later = attrs.evolve(BOOKED, id="a-5", start=utc(2, 15, month=4), end=utc(2, 16, month=4))
    data = ical.feed(
        [BOOKED, later, other, cancelled, pending], CLINICIAN, MARCH, APRIL, practice=PRACTICE
    )
    parsed = parse(data)
    assert "METHOD" not in parsed
    assert 1 == len(parsed.walk("VTIMEZONE"))
    assert [
        ("a-2@selfsched.invalid", "TENTATIVE", "OPAQUE"),
        ("a-3@selfsched.invalid", "CANCELLED", "TRANSPARENT"),
        ("appointment-7@selfsched.invalid", "CONFIRMED", "OPAQUE"),
    ] == [(str(e["UID"]), str(e["STATUS"]), str(e["TRANSP"])) for e in parsed.walk("VEVENT")]
    assert b"ATTENDEE" not in data
    assert b"sam@example.test" not in data


ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC", "Asia/Kolkata"]


@settings(max_examples=40, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2060, 12, 31), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=1, max_value=24 * 60),
    zone=st.sampled_from(ZONES),
    status=st.sampled_from(
        [
            AppointmentStatus.BOOKED,
            AppointmentStatus.CANCELLED,
            AppointmentStatus.REJECTED,
            AppointmentStatus.MISSED,
        ]
    ),
    version=st.integers(min_value=0, max_value=10_000),
)
def test_any_invite_parses_back_to_the_appointments_instants(
    start: datetime, minutes: int, zone: str, status: AppointmentStatus, version: int
) -> None:
    """DTSTART and DTEND are the appointment's instants (written in the clinician's zone), the
    UID and SEQUENCE its id and version, and no service code or modifier is in it."""
    start = start.replace(second=0, microsecond=0)
    appointment = attrs.evolve(
        BOOKED,
        start=start,
        end=start + timedelta(minutes=minutes),
        status=status,
        version=version,
        service_code="SVC-CODE-7",
        code_modifier="MOD-Q",
    )
    clinician = attrs.evolve(CLINICIAN, zone=zone)
    text = ical.invite(appointment, client=CLIENT, clinician=clinician, practice=PRACTICE)
    [vevent] = parse(text).walk("VEVENT")
    assert (appointment.start, appointment.end) == (
        vevent.decoded("DTSTART"),
        vevent.decoded("DTEND"),
    )
    assert ("appointment-7@selfsched.invalid", version) == (vevent["UID"], vevent["SEQUENCE"])
    if zone != "UTC":
        assert zone == vevent["DTSTART"].params["TZID"]
    assert "SVC-CODE-7" not in text
    assert "MOD-Q" not in text


# -- the practice setting and the emails ----------------------------------------------------------


def test_invites_need_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "icalendar", None)
    assert not Practice().calendar_invites
    with pytest.raises(ExtraNotInstalled) as caught:
        Practice(calendar_invites=True)
    assert ("ical", True) == (caught.value.extra, isinstance(caught.value, ImportError))
    assert (
        "calendar_invites=True needs the icalendar package, which is not installed: install "
        "selfsched with its ical extra (pip install 'selfsched[ical]'), or leave "
        "calendar_invites off."
    ) == str(caught.value)


def test_the_setting_is_a_flag() -> None:
    with pytest.raises(WrongType, match="calendar_invites must be True or False, got str"):
        Practice(calendar_invites="yes")  # type: ignore[arg-type]


def test_selfsched_imports_without_the_extra() -> None:
    """The core never imports icalendar: with it (and the expander) unimportable, selfsched
    works with invites off, and selfsched.ical says what to install."""
    script = textwrap.dedent(
        """
        import sys
        sys.modules["icalendar"] = None
        sys.modules["recurring_ical_events"] = None
        import selfsched
        from selfsched.errors import ExtraNotInstalled
        selfsched.Practice()
        try:
            import selfsched.ical
        except ExtraNotInstalled as exc:
            print(exc)
        """
    )
    done = subprocess.run(  # noqa: S603  (this interpreter, a fixed script)
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert (
        "selfsched.ical needs the icalendar and recurring-ical-events packages: install "
        "selfsched with its ical extra (pip install 'selfsched[ical]').\n"
    ) == done.stdout


NY_SLOT = utc(4, 15)
"""Wednesday 4 March, 10:00 in New York: inside Dr. Ada's work hours there."""


def world(*, invites: bool, mode: SchedulingMode = SchedulingMode.REQUIRES_APPROVAL) -> World:
    """The adapter tests' world, with Dr. Ada in New York and invites on or off."""
    built = make_world(InMemoryStore(), mode=mode, send_confirmations=True)
    ada = built.directory.clinicians["dr-a"]
    built.directory.clinicians["dr-a"] = attrs.evolve(ada, zone="America/New_York")
    live = built.scheduler.settings
    assert isinstance(live, LiveSettings)
    live.replace(attrs.evolve(live.current(), calendar_invites=invites))
    return built


def emails(built: World) -> list[EmailMessage]:
    store = built.scheduler.store
    assert isinstance(store, InMemoryStore)
    return [i.payload for i in store.outbox_items() if isinstance(i.payload, EmailMessage)]


def method_of(message: EmailMessage) -> tuple[EmailKind, str | None]:
    if message.calendar is None:
        return message.kind, None
    return message.kind, str(parse(message.calendar)["METHOD"])


def test_with_invites_on_each_email_carries_its_method() -> None:
    built = world(invites=True)
    ada = ClinicianActor("dr-a")
    first = built.scheduler.book(ClientActor("client-1"), "dr-a", NY_SLOT)
    built.scheduler.approve(ada, first.id)
    built.scheduler.cancel_by_practice(ada, first.id)
    second = built.scheduler.book(ClientActor("client-2"), "dr-a", NY_SLOT + timedelta(hours=2))
    built.scheduler.reject(ada, second.id)
    assert [
        (EmailKind.APPROVED, "REQUEST"),
        (EmailKind.CANCELLED, "CANCEL"),
        (EmailKind.REJECTED, None),  # a pending request was on no calendar
    ] == [method_of(m) for m in emails(built)]
    approved, cancelled, _ = emails(built)
    assert approved.calendar is not None
    assert cancelled.calendar is not None
    [booked] = parse(approved.calendar).walk("VEVENT")
    [gone] = parse(cancelled.calendar).walk("VEVENT")
    assert booked["UID"] == gone["UID"]
    assert booked.decoded("SEQUENCE") < gone.decoded("SEQUENCE")
    assert datetime(2026, 3, 4, 10, tzinfo=NY) == booked.decoded("DTSTART")
    assert (
        "Hello,\n\nYour appointment has been cancelled. Please call your clinician or the "
        "clinic for assistance.\n\nDate: Wednesday, March 4, 2026\nTime: 3:00 PM UTC (UTC)\n"
        "Clinician: Dr. Ada\nLocation: Main office\n\nTest Clinic\n"
    ) == cancelled.text


def test_instant_bookings_and_rejections_of_booked_appointments() -> None:
    built = world(invites=True, mode=SchedulingMode.INSTANT)
    booked = built.scheduler.book(ClientActor("client-1"), "dr-a", NY_SLOT)
    built.scheduler.reject(ClinicianActor("dr-a"), booked.id)
    assert [(EmailKind.CONFIRMED, "REQUEST"), (EmailKind.REJECTED, "CANCEL")] == [
        method_of(m) for m in emails(built)
    ]


def test_with_invites_off_nothing_changes() -> None:
    """No calendar part, and a practice cancellation sends no email, as before."""
    built = world(invites=False)
    ada = ClinicianActor("dr-a")
    first = built.scheduler.book(ClientActor("client-1"), "dr-a", NY_SLOT)
    built.scheduler.approve(ada, first.id)
    built.scheduler.cancel_by_practice(ada, first.id)
    assert [(EmailKind.APPROVED, None)] == [method_of(m) for m in emails(built)]


def test_a_redacted_email_keeps_no_invite() -> None:
    built = world(invites=True)
    first = built.scheduler.book(ClientActor("client-1"), "dr-a", NY_SLOT)
    built.scheduler.approve(ClinicianActor("dr-a"), first.id)
    [message] = emails(built)
    gone = redacted(message)
    assert isinstance(gone, EmailMessage)
    assert (message.calendar is not None, gone.calendar) == (True, None)
