"""The client view says *Available* or *Unavailable*, never why (SPEC §2, Privacy)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import attrs
from hypothesis import given
from slot_reference import blockers, timeline

from selfsched import (
    AppointmentStatus,
    CalendarEvent,
    ClinicianCalendar,
    Reason,
    Slot,
    available_slots,
    explain,
)
from selfsched.strategies import SlotQuery, slot_queries

_SWAPPED = {
    AppointmentStatus.BOOKED: AppointmentStatus.PENDING,
    AppointmentStatus.PENDING: AppointmentStatus.BOOKED,
}
_TIME_RULES = frozenset({Reason.PAST, Reason.MIN_NOTICE, Reason.HORIZON})


def _client_view(query: SlotQuery) -> list[tuple[datetime, datetime, bool]]:
    return [
        (s.start, s.end, s.available)
        for s in available_slots(query.calendar, query.policy, **query.window())
    ]


def test_a_client_slot_carries_nothing_but_its_times_and_availability() -> None:
    """``Slot`` has exactly three fields: start, end and available."""
    assert ("start", "end", "available") == tuple(f.name for f in attrs.fields(Slot))


@given(slot_queries())
def test_client_view_is_the_same_whatever_the_reasons(query: SlotQuery) -> None:
    """Replace every event, booking, request, buffer and the client's own appointments by plain
    one-off events over the same intervals: the staff view now gives other reasons, the client
    view is unchanged. (The per-day and per-client counts are left out on both sides.)"""
    policy = attrs.evolve(query.policy, daily_max=None, client_open_cap=None)
    query = attrs.evolve(query, policy=policy)
    found = blockers(
        query.calendar,
        policy,
        last_day=query.last_day,
        now=query.now.astimezone(UTC),
        client_id=query.client_id,
        client_appointments=query.client_appointments,
        line=timeline(query.zone, query.first_day, query.last_day),
    )
    lo = datetime.combine(query.first_day, time(), tzinfo=UTC) - timedelta(days=2)
    hi = datetime.combine(query.last_day, time(), tzinfo=UTC) + timedelta(days=3)
    events = [
        CalendarEvent.one_off(s, e, title="Blocked")
        for intervals in found.busy.values()
        for s, e in intervals
        if s < hi and lo < e and s < e  # an empty one (a day Apia skipped) blocks nothing
    ]
    plain = attrs.evolve(
        query,
        calendar=ClinicianCalendar(clinician=query.calendar.clinician, events=events),
        policy=attrs.evolve(policy, buffer_before=timedelta(0), buffer_after=timedelta(0)),
        client_id=None,
        client_appointments=(),
    )
    assert _client_view(query) == _client_view(plain)
    reasons = {
        r for s in explain(plain.calendar, plain.policy, **plain.window()) for r in s.reasons
    }
    assert set() == reasons - _TIME_RULES - {Reason.CALENDAR_EVENT}


@given(slot_queries())
def test_client_view_does_not_depend_on_whose_or_which(query: SlotQuery) -> None:
    """Other clients' names, ids, titles, codes, locations, and booked-versus-pending (when a
    request holds its slot) change the staff view's details but not the client view."""
    holds = query.policy.pending_holds_slot
    appointments = [
        attrs.evolve(
            a,
            id=f"renamed-{i}",
            client_id=a.client_id if a.client_id == query.client_id else "someone-else",
            status=_SWAPPED.get(a.status, a.status) if holds else a.status,
            service_code="99999",
            location="Elsewhere",
        )
        for i, a in enumerate(query.calendar.appointments)
    ]
    events = [
        attrs.evolve(e, id=f"event-{i}", title="Private")
        for i, e in enumerate(query.calendar.events)
    ]
    clinician = attrs.evolve(query.calendar.clinician, name="Someone", service_code="00000")
    renamed = attrs.evolve(
        query,
        calendar=ClinicianCalendar(clinician=clinician, events=events, appointments=appointments),
    )
    assert _client_view(query) == _client_view(renamed)
