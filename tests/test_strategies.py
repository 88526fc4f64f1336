"""The Hypothesis strategies shipped to users (:mod:`selfsched.strategies`) are tested too.

They must find real DST transitions, draw only valid values, draw the awkward cases often, and
shrink toward the simplest case: UTC, Monday 09:00-17:00, no events, the default policy.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from selfsched import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    Clinician,
    ClinicianCalendar,
    EventKind,
    TimeRange,
    WorkHours,
)
from selfsched.events import GENESIS, AuditEntry, EmailMessage, OutboxItem, verify_chain
from selfsched.model import Client, Practice
from selfsched.slots import Slot
from selfsched.strategies import (
    BASE_DAY,
    CLIENT_IDS,
    DST_ZONES,
    ZONES,
    SlotQuery,
    appointments,
    audit_entries,
    aware_datetimes,
    calendar_events,
    chart_notes,
    clients,
    clinician_calendars,
    clinicians,
    email_messages,
    email_templates,
    explained_slots,
    find_transitions,
    local_dates,
    outbox_items,
    policies,
    practices,
    recurring_events,
    slot_checks,
    slot_queries,
    slots,
    time_ranges,
    transition_instants,
    work_hours,
    zones,
)

SECOND = timedelta(seconds=1)
OFFICE = WorkHours({0: ["09:00-17:00"]})
QUICK = settings(database=None, max_examples=20, suppress_health_check=list(HealthCheck))
# Hypothesis tries the simplest choices first (all zero), and shrinking moves toward them: the
# value they give is where a shrunk failure ends up when it needs nothing more.
SIMPLEST = settings(QUICK, max_examples=1, phases=[Phase.generate])


def _minimal(strategy: st.SearchStrategy[Any]) -> Any:
    """The value the simplest choices give: the shrink target."""
    return find(strategy, lambda _: True, settings=SIMPLEST)


def _shrunk(strategy: st.SearchStrategy[Any]) -> Any:
    """The value the shrinker reaches from random examples when anything will do."""
    return find(strategy, lambda _: True, settings=QUICK)


# -- importing --------------------------------------------------------------------------------


def test_importing_selfsched_does_not_import_hypothesis() -> None:
    """Hypothesis is the optional [testing] extra: ``import selfsched`` must not need it."""
    code = "import sys, selfsched; print('hypothesis' in sys.modules)"
    result = subprocess.run(  # noqa: S603  (our own interpreter, a constant program)
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "False" == result.stdout.strip()


# -- transitions ------------------------------------------------------------------------------


def _shown(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).isoformat()


def test_find_transitions_new_york_2024() -> None:
    """New York springs forward at 02:00 EST and falls back at 02:00 EDT."""
    found = find_transitions("America/New_York", 2024, 2024)
    expected = [
        ("2024-03-10T01:59:59-05:00", "2024-03-10T03:00:00-04:00"),
        ("2024-11-03T01:59:59-04:00", "2024-11-03T01:00:00-05:00"),
    ]
    zone = "America/New_York"
    assert expected == [(_shown(t - SECOND, zone), _shown(t, zone)) for t in found]


def test_find_transitions_lord_howe_shifts_half_an_hour() -> None:
    """Lord Howe Island moves its clocks by 30 minutes."""
    found = find_transitions("Australia/Lord_Howe", 2024, 2024)
    expected = [
        ("2024-04-07T01:59:59+11:00", "2024-04-07T01:30:00+10:30"),
        ("2024-10-06T01:59:59+10:30", "2024-10-06T02:30:00+11:00"),
    ]
    zone = "Australia/Lord_Howe"
    assert expected == [(_shown(t - SECOND, zone), _shown(t, zone)) for t in found]


def test_find_transitions_santiago_at_local_midnight() -> None:
    """Santiago changes at local midnight: back to 23:00 the day before, forward to 01:00."""
    found = find_transitions("America/Santiago", 2024, 2024)
    expected = [
        ("2024-04-06T23:59:59-03:00", "2024-04-06T23:00:00-04:00"),
        ("2024-09-07T23:59:59-04:00", "2024-09-08T01:00:00-03:00"),
    ]
    zone = "America/Santiago"
    assert expected == [(_shown(t - SECOND, zone), _shown(t, zone)) for t in found]


def test_find_transitions_apia_skipped_a_whole_day() -> None:
    """Samoa went from 29 to 31 December 2011: the 30th never happened in Apia."""
    last = find_transitions("Pacific/Apia", 2011, 2011)[-1]
    zone = "Pacific/Apia"
    assert ("2011-12-29T23:59:59-10:00", "2011-12-31T00:00:00+14:00") == (
        _shown(last - SECOND, zone),
        _shown(last, zone),
    )


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "Asia/Kathmandu"])
def test_zones_without_transitions(zone: str) -> None:
    """Zones with a fixed offset since 2000 have no transitions, and no transition instants."""
    assert ((), True) == (find_transitions(zone), transition_instants(zone).is_empty)


@given(st.sampled_from(ZONES).flatmap(lambda z: st.tuples(st.just(z), transition_instants(z))))
def test_transitions_are_exact_to_the_second(pair: tuple[str, datetime]) -> None:
    """At each transition found the offset changes, and a second earlier it had not yet."""
    zone, t = pair
    z = ZoneInfo(zone)
    before, at = (t - SECOND).astimezone(z).utcoffset(), t.astimezone(z).utcoffset()
    assert (True, t.microsecond) == (before != at, 0)


@pytest.mark.parametrize("zone", ZONES)
def test_the_offset_is_constant_between_transitions(zone: str) -> None:
    """Sampled every six hours, the offset changes only where a transition was found."""
    z = ZoneInfo(zone)
    found = set(find_transitions(zone, 2020, 2025))
    instant, stop = datetime(2020, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(hours=6)
    unexplained = []
    while instant < stop:
        after = instant + step
        changed = instant.astimezone(z).utcoffset() != after.astimezone(z).utcoffset()
        if changed and not any(instant < t <= after for t in found):
            unexplained.append(instant)
        instant = after
    assert [] == unexplained


# -- shrinking --------------------------------------------------------------------------------


def test_zones_shrink_to_utc() -> None:
    """The simplest zone is UTC, also when every zone may be drawn."""
    assert ("UTC", "UTC") == (_minimal(zones()), _minimal(zones(all_zones=True)))


def test_dates_shrink_to_the_base_monday() -> None:
    """Dates shrink toward Monday 2024-01-01, also in a zone with transitions."""
    assert (BASE_DAY, 0) == (_minimal(local_dates("America/New_York")), BASE_DAY.weekday())


def test_aware_datetimes_shrink_to_midnight_utc() -> None:
    """The simplest aware datetime is 2024-01-01 00:00 UTC."""
    assert datetime(2024, 1, 1, tzinfo=ZoneInfo("UTC")) == _minimal(aware_datetimes())


def test_work_hours_shrink_to_monday_nine_to_five() -> None:
    """Work hours shrink toward Monday 09:00-17:00 and nothing else; the shrinker gets there
    from random weekly templates."""
    assert (OFFICE, OFFICE, TimeRange.parse("09:00-17:00")) == (
        _minimal(work_hours()),
        _shrunk(work_hours()),
        _minimal(time_ranges()),
    )


def test_policies_shrink_to_the_defaults() -> None:
    """The simplest policy is ``ApprovalPolicy()`` with every documented default."""
    assert ApprovalPolicy() == _minimal(policies())


def test_clinicians_and_calendars_shrink_to_the_simplest_case() -> None:
    """UTC, Monday 09:00-17:00, a 50-minute service, no events and no appointments."""
    clinician = Clinician(id="clinician-1", name="Dr Example", zone="UTC", work_hours=OFFICE)
    expected = (clinician, ClinicianCalendar(clinician=clinician))
    assert expected == (_minimal(clinicians()), _minimal(clinician_calendars()))


def test_appointments_shrink_to_a_booking_at_nine() -> None:
    """The simplest appointment is a 50-minute ``BOOKED`` one at 09:00 on the base Monday."""
    start = datetime(2024, 1, 1, 9, tzinfo=UTC)
    expected = Appointment(
        id="appointment-1",
        client_id=CLIENT_IDS[0],
        clinician_id="clinician-1",
        start=start,
        end=start + timedelta(minutes=50),
        status=AppointmentStatus.BOOKED,
    )
    assert expected == _minimal(appointments())


def test_slot_queries_shrink_to_an_open_monday() -> None:
    """The simplest question: the base Monday in UTC, asked two days ahead, by no client."""
    query = _minimal(slot_queries())
    expected = SlotQuery(
        calendar=ClinicianCalendar(
            clinician=Clinician(id="clinician-1", name="Dr Example", zone="UTC", work_hours=OFFICE)
        ),
        policy=ApprovalPolicy(),
        first_day=BASE_DAY,
        last_day=BASE_DAY,
        now=datetime(2023, 12, 30, tzinfo=UTC),
    )
    assert expected == query


def test_shrinking_keeps_what_a_failure_needs() -> None:
    """Asked for a calendar with a recurring event in a DST zone, shrinking drops the rest: New
    York (the first DST zone), a recurring event or two, no appointments, Monday 09:00-17:00."""
    calendar = find(
        clinician_calendars(),
        lambda c: (
            c.clinician.zone in DST_ZONES and any(e.kind is EventKind.RECURRING for e in c.events)
        ),
        settings=settings(QUICK, max_examples=200, derandomize=True),
    )
    assert ("America/New_York", True, 0, OFFICE) == (
        calendar.clinician.zone,
        len(calendar.events) <= 2,
        len(calendar.appointments),
        calendar.clinician.work_hours,
    )


# -- validity and variety ---------------------------------------------------------------------


@given(aware_datetimes())
def test_aware_datetimes_are_real_instants(value: datetime) -> None:
    """Every drawn datetime is aware, exists on its zone's clock, survives a UTC round trip and
    lies within a few days of 2000-2040."""
    back = value.astimezone(UTC).astimezone(value.tzinfo)
    assert (value.isoformat(), value.fold) == (back.isoformat(), back.fold)
    assert date(1999, 12, 31) <= value.date() <= date(2041, 1, 4)


@given(calendar_events("Australia/Lord_Howe", around=date(2024, 10, 6)))
def test_events_are_valid_and_near_their_date(event: Any) -> None:
    """Events start within five weeks of the date they cluster around."""
    when = event.day if event.kind is EventKind.ALL_DAY else event.start.date()
    assert timedelta(days=-35) <= when - date(2024, 10, 6) <= timedelta(days=3)


@given(recurring_events("America/New_York", around=date(2024, 11, 3)))
def test_recurring_events_parse_and_keep_their_exdates_aware(event: Any) -> None:
    """Every drawn RRULE is accepted by the model; EXDATEs are aware instants."""
    assert (EventKind.RECURRING, True) == (
        event.kind,
        all(e.tzinfo is not None for e in event.exdates),
    )


@given(slot_queries())
def test_slot_queries_are_consistent(query: SlotQuery) -> None:
    """Windows of 1-3 days; unique appointment ids; the client's outside appointments are its
    own and at another clinician."""
    ids = [a.id for a in (*query.calendar.appointments, *query.client_appointments)]
    own = {(a.client_id, a.clinician_id) for a in query.client_appointments}
    assert 0 <= (query.last_day - query.first_day).days <= 2
    assert sorted(set(ids)) == sorted(ids)
    assert own <= {(query.client_id, "clinician-9")}
    assert query.now.tzinfo is not None


def test_dst_zones_and_transition_dates_are_drawn_often() -> None:
    """Over one (derandomized) run of the active profile, most questions are in a DST zone and
    many sit on a date within a day of a real transition."""
    seen: list[SlotQuery] = []

    @settings(derandomize=True, database=None)  # a frequency: the same draws every run
    @given(slot_queries())
    def collect(query: SlotQuery) -> None:
        seen.append(query)

    collect()

    def near_transition(query: SlotQuery) -> bool:
        start = datetime.combine(query.first_day, time(), tzinfo=UTC)
        found = find_transitions(query.calendar.clinician.zone)
        return any(abs(t - start) < timedelta(days=3) for t in found)

    in_dst_zone = sum(q.calendar.clinician.zone in DST_ZONES for q in seen)
    near = sum(near_transition(q) for q in seen)
    assert (True, True) == (in_dst_zone >= len(seen) / 3, near >= len(seen) / 6)


def test_awkward_instants_are_reachable() -> None:
    """The strategies reach a series that starts at the second of a repeated wall time, and an
    event that starts exactly when the clocks spring forward."""
    ny = ZoneInfo("America/New_York")
    series = find(
        recurring_events("America/New_York", around=date(2024, 11, 3)),
        lambda e: e.start.astimezone(ny).fold == 1,
        settings=settings(QUICK, max_examples=500, derandomize=True),
    )
    jump = datetime(2024, 3, 10, 7, tzinfo=UTC)
    event = find(
        calendar_events("America/New_York", around=date(2024, 3, 10)),
        lambda e: e.start == jump,
        settings=settings(QUICK, max_examples=500, derandomize=True),
    )
    assert series.start is not None
    assert (1, jump) == (series.start.astimezone(ny).fold, event.start)


# -- the values for exchanging and storing ------------------------------------------------------


def test_the_exchange_strategies_shrink_to_their_simplest_values() -> None:
    """A practice to the defaults, a client to its id alone, a slot to an open 50-minute one at
    midnight UTC on the base Monday, an outbox item to an empty approval email waiting, an audit
    entry to the first of a record."""
    midnight = datetime.combine(BASE_DAY, time(), tzinfo=UTC)
    item = _minimal(outbox_items())
    entry = _minimal(audit_entries())
    assert (Practice(), Client(id=CLIENT_IDS[0])) == (_minimal(practices()), _minimal(clients()))
    assert Slot(midnight, midnight + timedelta(minutes=50), available=True) == _minimal(slots())
    assert (frozenset(), frozenset()) == (
        _minimal(explained_slots()).reasons,
        _minimal(slot_checks()).reasons,
    )
    assert isinstance(item.payload, EmailMessage)
    assert ("", 0, None) == (item.payload.text, item.attempts, item.delivered_at)
    assert (1, GENESIS, midnight) == (entry.seq, entry.prev_hash, entry.at)


def test_appointments_sometimes_carry_what_the_slots_ignore() -> None:
    """Codes, location, decision and cancellation times are drawn too, for the round trips."""
    found = find(
        appointments(),
        lambda a: None not in (a.location, a.created_at, a.decided_at, a.cancelled_at),
        settings=settings(QUICK, max_examples=500, derandomize=True),
    )
    assert found.created_at is not None
    assert found.created_at <= found.start


def test_exchanged_values_are_drawn_with_awkward_text_offsets_and_states() -> None:
    """Free text beyond ASCII, instants kept at an offset other than UTC, chart notes in the
    outbox, sealed entries that follow another, templates with placeholders and dollars. (Each
    ``find`` fails when nothing in 500 examples has the property.)"""
    strict = settings(QUICK, max_examples=500, derandomize=True)
    note = find(chart_notes(), lambda n: any(ord(c) > 127 for c in n.text), settings=strict)
    item = find(
        outbox_items(),
        lambda i: not isinstance(i.payload, EmailMessage) and i.created_at.utcoffset(),
        settings=strict,
    )
    entry: AuditEntry = find(audit_entries(), lambda e: e.seq == 2, settings=strict)
    template = find(email_templates(), lambda t: "$$" in t.text and "${" in t.text, settings=strict)
    email = find(email_messages(), lambda e: e.reply_to is not None, settings=strict)
    assert isinstance(item, OutboxItem)
    assert note.text
    assert entry.prev_hash != GENESIS
    assert entry.hash == entry.digest()
    assert template.subject == template.subject.strip("\r\n")
    assert email.reply_to


@given(audit_entries())
def test_audit_entries_are_sealed(entry: AuditEntry) -> None:
    """Each entry carries the hash of its content; a first entry is a whole record."""
    assert entry.hash == entry.digest()
    if entry.seq == 1:
        verify_chain([entry])
