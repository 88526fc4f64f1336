"""The scheduler against a plain model, step by step (hypothesis ``RuleBasedStateMachine``).

Two clinicians in different DST zones (New York, London), three clients, a fixed clock that
starts 2 to 24 hours before a real DST transition of one of the zones. Rules book, request,
approve, reject and cancel (with random actors), let staff book and cancel, expire requests,
advance the clock across the transition, replay idempotency keys, try other clients'
appointments, change the mode and the pending-holds-slot switch, and look at the client and staff
views. Every call is predicted by :mod:`scheduler_model` first and the scheduler must agree.
The machine runs on the in-memory store and, unchanged, on the SQLite store; it reads both only
through their units of work.

Checked after every step:

- the scheduler's appointments are the model's (who, when, status);
- no two slot-holding appointments of a clinician overlap; no client holds two overlapping open
  appointments;
- every status change is in SPEC §3's table and terminal statuses never change;
- each approval, rejection and expiry made exactly one email, to the client; a client
  cancellation made exactly one chart note and no email; nothing else emails anyone;
- every attempted change left exactly one audit entry (an idempotent replay none); a refused
  call changed nothing else;
- the client view never shows another client's data; another client's appointment looks
  exactly like a missing one.

At teardown the audit chain verifies.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import attrs
import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from selfsched import (
    Appointment,
    ApprovalPolicy,
    AuditEntry,
    CalendarEvent,
    Client,
    ClientActor,
    Clinician,
    ClinicianActor,
    OutboxItem,
    Practice,
    Role,
    Scheduler,
    SchedulingMode,
    Slot,
    StaffActor,
    SystemActor,
    WorkHours,
    verify_chain,
)
from selfsched.adapters.memory import InMemoryStore
from selfsched.adapters.sqlite import SqliteStore
from selfsched.errors import NotFound, PermissionDenied, SelfschedError, SelfSchedulingDisabled
from selfsched.permissions import Actor
from selfsched.ports import AppointmentStore
from selfsched.testing import (
    FixedClock,
    InMemoryDirectory,
    RecordingChart,
    RecordingMailer,
    SequentialIds,
)
from service_fixtures import use_settings
from stateful.scheduler_model import (
    GRID,
    OPEN,
    TERMINAL,
    TRANSITIONS,
    Appt,
    Doctor,
    Effects,
    Model,
    Refusal,
)

T = TypeVar("T")

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
MISSING = "appointment-missing"

TRANSITION_STARTS = {
    "US spring forward": datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
    "EU spring forward": datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    "EU fall back": datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    "US fall back": datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
}
"""Real DST transitions of 2026; each run starts its clock up to a day before one of them."""

CLIENTS = ("c1", "c2", "c3")
CLIENT_ACTORS = [ClientActor(c) for c in CLIENTS]
STAFF_ACTORS: list[Actor] = [
    ClinicianActor("ny"),
    ClinicianActor("ldn"),
    StaffActor(staff_id="admin", role=Role.SYSTEM_ADMINISTRATOR, approves_requests=True),
    StaffActor(staff_id="sched-on", role=Role.SCHEDULER, approves_requests=True),
    StaffActor(staff_id="sched-off", role=Role.SCHEDULER, approves_requests=False),
    StaffActor(staff_id="director", role=Role.CLINICAL_DIRECTOR, approves_requests=True),
    StaffActor(staff_id="biller", role=Role.BILLER, approves_requests=True),
    StaffActor(staff_id="desk", role=Role.FRONT_DESK),
]
ALL_ACTORS: list[Actor | None] = [*CLIENT_ACTORS, *STAFF_ACTORS, None, SystemActor()]

clients = st.sampled_from(CLIENT_ACTORS)
anyone = st.sampled_from(ALL_ACTORS)
mostly_clients = st.one_of(clients, clients, anyone)
deciders = st.one_of(st.sampled_from(STAFF_ACTORS), st.sampled_from(STAFF_ACTORS), anyone)
clinicians = st.sampled_from(["ny", "ldn"])
appointment_picks = st.tuples(
    st.integers(0, 60), st.sampled_from(["preferred", "preferred", "any", "missing"])
)
"""``(index, kind)``: an appointment the rule is most interested in (the actor's own, a pending
request, ...) if there is one, any known appointment, or an id that does not exist."""
slots = st.tuples(st.none() | st.integers(0, 60), st.integers(-2, 100), st.integers(0, 9))
"""``(anchor, k, off_grid)``: *k* grid steps from now, or near an appointment (a pending one
for an odd *anchor*, a booked one for an even one, if there is one);
``off_grid == 0`` moves the start a quarter hour off the grid."""
OWNER = "the owner"
CLINICIAN_OF = "the appointment's clinician"
Who = Actor | None | str
"""An actor, or one of the two roles above, resolved against the picked appointment."""
client_calls: st.SearchStrategy[Who] = st.one_of(st.just(OWNER), mostly_clients)
decisions: st.SearchStrategy[Who] = st.one_of(st.just(CLINICIAN_OF), deciders)
reasons = st.sampled_from(["I feel better.", "Work conflict", "   ", ""])
keys = st.none() | st.sampled_from(["key-1", "key-2"])
modes = st.sampled_from(
    [SchedulingMode.REQUIRES_APPROVAL, SchedulingMode.REQUIRES_APPROVAL, *SchedulingMode]
)
"""Mostly requests (the default mode), so that there is something to decide."""


@attrs.frozen
class Snapshot:
    """Everything a call may change, read through the store's own unit of work."""

    appointments: tuple[Appointment, ...]
    waiting: tuple[OutboxItem, ...]
    """Outbox items not yet delivered (after a successful call everything is delivered)."""
    audit: tuple[AuditEntry, ...]
    sent: int
    notes: int


class SchedulerMachine(RuleBasedStateMachine):
    """The scheduler driven beside :class:`scheduler_model.Model`."""

    make_store: Callable[[], AppointmentStore] = InMemoryStore
    """The store under test; a subclass runs the same machine on another adapter."""

    def __init__(self) -> None:
        super().__init__()
        self.store = self.make_store()
        self.mailer = RecordingMailer()
        self.chart = RecordingChart()
        self.last_status: dict[str, str] = {}
        self.before = self._snapshot()
        self.refused: SelfschedError | None = None
        self.model: Model
        self.transition: datetime
        self.clock: FixedClock
        self.scheduler: Scheduler

    # -- setup ---------------------------------------------------------------------------------

    @initialize(
        transition=st.sampled_from(sorted(TRANSITION_STARTS)), hours_before=st.integers(2, 24)
    )
    def start(self, transition: str, hours_before: int) -> None:
        """A fresh practice; the clock 2 to 24 hours before a real DST transition."""
        now = TRANSITION_STARTS[transition] - timedelta(hours=hours_before)
        self.transition = TRANSITION_STARTS[transition]
        doctors = {
            "ny": Doctor(
                "ny",
                NY,
                60,
                dict.fromkeys(range(5), "NY office"),
                (now + timedelta(hours=20), now + timedelta(hours=22)),
            ),
            "ldn": Doctor(
                "ldn",
                LONDON,
                90,
                dict.fromkeys(range(7), "London office"),
                (now + timedelta(hours=30), now + timedelta(hours=31)),
            ),
        }
        self.model = Model(
            doctors=doctors,
            clients={c: f"{c}@example.org" for c in CLIENTS},
            now=now,
            min_notice=timedelta(hours=2),
            horizon=timedelta(hours=48),
            late_window=timedelta(hours=24),
            mode=dict.fromkeys(doctors, "requires_approval"),
            holds=dict.fromkeys(doctors, True),
            holds_ever_off=dict.fromkeys(doctors, False),
        )
        whole_days = {day: ["00:00-24:00"] for day in range(7)}
        directory = InMemoryDirectory.of(
            clinicians=[
                Clinician(
                    id=d.id,
                    name=f"Dr. {d.id}",
                    zone=d.zone.key,
                    work_hours=WorkHours(whole_days, locations=d.weekday_location),
                    service_code="90834",
                    service_minutes=d.minutes,
                )
                for d in doctors.values()
            ],
            clients=[
                Client(id=c, name=c, email=email, zone="America/Chicago" if c == "c3" else None)
                for c, email in self.model.clients.items()
            ],
            events={
                d.id: [CalendarEvent.one_off(*d.event, title="Supervision")]
                for d in doctors.values()
            },
        )
        self.clock = FixedClock(now)
        self.scheduler = Scheduler(
            store=self.store,
            directory=directory,
            clock=self.clock,
            ids=SequentialIds(),
            practice=Practice(name="Stateful Clinic", zone="America/New_York"),
            mailer=self.mailer,
            chart=self.chart,
        )
        self._apply_settings()

    def _apply_settings(self) -> None:
        m = self.model
        base = ApprovalPolicy(
            grid_minutes=30,
            min_notice=m.min_notice,
            horizon=m.horizon,
            late_cancellation_window=m.late_window,
        )
        use_settings(
            self.scheduler,
            attrs.evolve(
                self.scheduler.practice,
                policy=base,
                clinician_policies={
                    c: attrs.evolve(
                        base, mode=SchedulingMode(m.mode[c]), pending_holds_slot=m.holds[c]
                    )
                    for c in m.doctors
                },
            ),
        )

    # -- helpers -------------------------------------------------------------------------------

    def _snapshot(self) -> Snapshot:
        with self.store.unit_of_work() as uow:
            appointments = [a for client in CLIENTS for a in uow.for_client(client)]
            waiting = tuple(uow.outbox())
            audit = tuple(uow.audit())
        return Snapshot(
            tuple(sorted(appointments, key=lambda a: (a.start, a.id))),
            waiting,
            audit,
            len(self.mailer.sent),
            len(self.chart.notes),
        )

    def _pick(self, pick: tuple[int, str], prefer: Callable[[Appt], bool] | None = None) -> str:
        index, kind = pick
        appts = sorted(self.model.appts.values(), key=lambda a: int(a.id.rsplit("-", 1)[1]))
        if kind == "missing" or not appts:
            return MISSING
        preferred = [a for a in appts if prefer is not None and prefer(a)]
        chosen = preferred if preferred and kind == "preferred" else appts
        return chosen[index % len(chosen)].id

    def _who(self, who: Who, appointment_id: str) -> Actor | None:
        appt = self.model.get(appointment_id)
        if who == OWNER:
            return ClientActor(appt.client if appt is not None else CLIENTS[0])
        if who == CLINICIAN_OF:
            return ClinicianActor(appt.clinician if appt is not None else "ny")
        assert not isinstance(who, str)
        return who

    def _start(self, slot: tuple[int | None, int, int]) -> datetime:
        anchor, k, off_grid = slot
        if anchor is not None and self.model.appts:
            wanted = "pending" if anchor % 2 else "booked"
            near = self.model.appts[self._pick((anchor, "preferred"), lambda a: a.status == wanted)]
            start = near.start + ((k % 7) - 3) * GRID
        else:
            base = datetime.fromtimestamp(
                -(-self.model.now.timestamp() // GRID.total_seconds()) * GRID.total_seconds(), UTC
            )
            start = base + k * GRID
        return start + timedelta(minutes=15) if off_grid == 0 else start

    def _call(self, expected: Refusal | None, call: Callable[[], T]) -> T | None:
        """Run *call*; check a refusal is the predicted one and changed nothing but the audit."""
        before = self._snapshot()
        error: SelfschedError | None = None
        try:
            result = call()
        except SelfschedError as exc:
            error = exc
        if error is None:
            assert expected is None, f"expected {expected.__name__}, but the call succeeded"
            self.before = before
            return result
        after = self._snapshot()
        assert expected is type(error), f"expected {expected}, got {error!r}"
        assert before.appointments == after.appointments, "a refusal changed appointments"
        assert before.waiting == after.waiting, "a refusal queued or changed outbox items"
        assert (before.sent, before.notes) == (after.sent, after.notes), "a refusal delivered"
        assert before.audit == after.audit[: len(before.audit)], "the audit record was rewritten"
        entries = after.audit[len(before.audit) :]
        assert [("refused", type(error).__name__)] == [(e.outcome, e.error) for e in entries]
        self.model.note_refusal()
        self.refused = error
        return None

    def _written(self, effects: Effects, *, replay: bool = False) -> None:
        """The successful call wrote exactly *effects*."""
        before, after = self.before, self._snapshot()
        assert before.audit == after.audit[: len(before.audit)], "the audit record was rewritten"
        entries = after.audit[len(before.audit) :]
        assert effects.audit == [e.outcome for e in entries], "audit entries of the call"
        assert () == after.waiting, "a change left emails or notes undelivered"
        emails = self.mailer.sent[before.sent :]
        notes = self.chart.notes[before.notes :]
        assert effects.emails == [(str(e.kind), e.appointment_id) for e in emails]
        for email in emails:
            assert self.model.clients[self.model.appts[email.appointment_id].client] == email.to
        assert effects.notes == [(n.appointment_id, n.late) for n in notes]
        for note in notes:
            assert self.model.appts[note.appointment_id].client == note.client_id
            assert note.title == "Appointment Cancellation Note"
        if replay:
            assert before.appointments == after.appointments

    def _looks_missing(self, foreign: SelfschedError | None, ask: Callable[[str], object]) -> None:
        """Another client's appointment gave the same answer as an id that does not exist."""
        assert isinstance(foreign, NotFound)
        missing = self._call(NotFound, lambda: ask(MISSING))
        assert missing is None
        answer = self.refused
        assert type(foreign) is type(answer)
        quoted = repr(foreign.appointment_id)
        assert str(answer) == str(foreign).replace(quoted, repr(MISSING))

    # -- client rules --------------------------------------------------------------------------

    @rule(actor=mostly_clients, clinician=clinicians, slot=slots, key=keys)
    def book(
        self,
        actor: Actor | None,
        clinician: str,
        slot: tuple[int | None, int, int],
        key: str | None,
    ) -> None:
        """A client books or requests a slot (or someone who is no client tries to)."""
        start = self._start(slot)
        self._book(actor, clinician, start, key)

    @precondition(lambda self: any(a.status in OPEN for a in self.model.appts.values()))
    @rule(actor=clients, pick=appointment_picks, after=st.booleans(), other=st.booleans())
    def book_back_to_back(
        self, actor: Actor | None, pick: tuple[int, str], after: bool, other: bool
    ) -> None:
        """A client books the slot that starts as an open appointment ends (or ends as it
        starts), with its clinician or the other one: half-open intervals meet, not overlap."""
        appt = self.model.appts[self._pick((pick[0], "preferred"), lambda a: a.status in OPEN)]
        clinician = appt.clinician if not other else ("ldn" if appt.clinician == "ny" else "ny")
        length = self.model.doctors[clinician].length
        start = appt.end if after else appt.start - length
        self._book(actor, clinician, start, None)

    def _book(self, actor: Actor | None, clinician: str, start: datetime, key: str | None) -> None:
        predicted = self.model.predict_book(actor, clinician, start, key)
        expected = None if isinstance(predicted, str) or predicted is None else predicted
        result = self._call(
            expected, lambda: self.scheduler.book(actor, clinician, start, idempotency_key=key)
        )
        if result is None:
            return
        assert isinstance(actor, ClientActor)
        if predicted == "replay":
            assert key is not None
            first = self.model.keys[(actor.client_id, key)][2]
            assert first == result.id, "a replay must return the first result"
            assert self.model.appts[first].status == result.status
            self._written(Effects(), replay=True)
            return
        effects = self.model.book(actor.client_id, clinician, start, key, result.id)
        assert (start, actor.client_id, clinician) == (
            result.start,
            result.client_id,
            result.clinician_id,
        )
        self._written(effects)

    @precondition(lambda self: bool(self.model.keys))
    @rule(pick=st.integers(0, 20), same=st.booleans(), shift=st.integers(1, 4))
    def replay(self, pick: int, same: bool, shift: int) -> None:
        """A client repeats a booking with the same idempotency key (or reuses it for another)."""
        (client, key), (clinician, start, _) = sorted(self.model.keys.items())[
            pick % len(self.model.keys)
        ]
        self._book(ClientActor(client), clinician, start if same else start + shift * GRID, key)

    @precondition(lambda self: bool(self.model.appts))
    @rule(who=client_calls, pick=appointment_picks, reason=reasons)
    def cancel(self, who: Who, pick: tuple[int, str], reason: str) -> None:
        """A client cancels (their own appointment, someone else's, or a missing one)."""
        appointment_id = self._pick(
            pick,
            lambda a: (
                (who == OWNER or a.client == getattr(who, "client_id", ""))
                and a.status in OPEN
                and a.start > self.model.now
            ),
        )
        actor = self._who(who, appointment_id)
        expected = self.model.predict_cancel(actor, appointment_id, reason)
        result = self._call(expected, lambda: self.scheduler.cancel(actor, appointment_id, reason))
        if result is None:
            if expected is NotFound:
                self._looks_missing(self.refused, lambda i: self.scheduler.cancel(actor, i, reason))
            return
        self._written(self.model.cancel(appointment_id))

    @precondition(lambda self: bool(self.model.appts))
    @rule(who=client_calls, pick=appointment_picks)
    def details(self, who: Who, pick: tuple[int, str]) -> None:
        """Anyone asks for one appointment; clients see only their own, staff views are audited."""
        appointment_id = self._pick(
            pick, lambda a: who == OWNER or a.client == getattr(who, "client_id", "")
        )
        actor = self._who(who, appointment_id)
        appt = self.model.get(appointment_id)
        if isinstance(actor, ClientActor):
            own = appt is not None and appt.client == actor.client_id
            expected: Refusal | None = None if own else NotFound
        elif appt is None:
            expected = NotFound
        elif self.model.reads(actor, appt.clinician):
            expected = None
        else:
            expected = PermissionDenied
        result = self._call(
            expected, lambda: self.scheduler.appointment_details(actor, appointment_id)
        )
        if result is None:
            if isinstance(actor, ClientActor) and expected is NotFound:
                self._looks_missing(
                    self.refused, lambda i: self.scheduler.appointment_details(actor, i)
                )
            return
        assert appt is not None
        assert (result.id, result.client_id, str(result.status)) == (
            appt.id,
            appt.client,
            appt.status,
        )
        self._written(Effects() if isinstance(actor, ClientActor) else self.model.note_view())

    @rule(actor=mostly_clients)
    def my_appointments(self, actor: Actor | None) -> None:
        """A client lists their appointments: exactly their own, nobody else's."""
        expected = None if isinstance(actor, ClientActor) else PermissionDenied
        result = self._call(expected, lambda: self.scheduler.my_appointments(actor))
        if result is None:
            return
        assert isinstance(actor, ClientActor)
        own = {a.id: a for a in self.model.appts.values() if a.client == actor.client_id}
        assert sorted(own) == sorted(e.appointment.id for e in result)
        for entry in result:
            assert entry.appointment.client_id == actor.client_id
            status = own[entry.appointment.id].status
            assert status == str(entry.appointment.status)
            assert {"pending": "placeholder"}.get(status, status) == str(entry.display)
        self._written(Effects())

    @rule(
        actor=mostly_clients,
        clinician=clinicians,
        days_ahead=st.integers(0, 3),
        anchor=st.none() | st.integers(0, 60),
    )
    def view_slots(
        self, actor: Actor | None, clinician: str, days_ahead: int, anchor: int | None
    ) -> None:
        """A client looks at a local day of slots: exactly the model's, Available or not.

        The day is *days_ahead* of today, or with an *anchor*, the day of an appointment (a
        pending or booked one, if there is one), with its clinician.
        """
        if anchor is not None and self.model.appts:
            wanted = "pending" if anchor % 2 else "booked"
            appt = self.model.appts[self._pick((anchor, "preferred"), lambda a: a.status == wanted)]
            clinician = appt.clinician
            day = appt.start.astimezone(self.model.doctors[clinician].zone).date()
        doctor = self.model.doctors[clinician]
        if anchor is None or not self.model.appts:
            day = self.model.now.astimezone(doctor.zone).date() + timedelta(days=days_ahead)
        expected: Refusal | None = None
        if not isinstance(actor, ClientActor):
            expected = PermissionDenied
        elif self.model.mode[clinician] == "disabled":
            expected = SelfSchedulingDisabled
        result = self._call(
            expected,
            lambda: self.scheduler.client_slots(actor, clinician, first_day=day, last_day=day),
        )
        if result is None:
            return
        assert isinstance(actor, ClientActor)
        for slot in result:
            assert type(slot) is Slot, "a client sees plain slots and nothing else"
        seen = [(s.start, s.available) for s in result]
        assert self.model.day_slots(actor.client_id, clinician, day) == seen
        for s in result:
            assert s.end - s.start == doctor.length
        self._written(Effects())

    # -- staff rules ---------------------------------------------------------------------------

    @precondition(lambda self: bool(self.model.appts))
    @rule(who=decisions, pick=appointment_picks, location=st.none() | st.just("Room 2"))
    def approve(self, who: Who, pick: tuple[int, str], location: str | None) -> None:
        """Someone tries to approve a request."""
        appointment_id = self._pick(pick, lambda a: a.status == "pending")
        actor = self._who(who, appointment_id)
        expected = self.model.predict_approve(actor, appointment_id, location)
        result = self._call(
            expected, lambda: self.scheduler.approve(actor, appointment_id, location=location)
        )
        if result is not None:
            self._written(self.model.approve(appointment_id, location))

    @precondition(lambda self: bool(self.model.appts))
    @rule(who=decisions, pick=appointment_picks)
    def reject(self, who: Who, pick: tuple[int, str]) -> None:
        """Someone tries to reject a request or a self-booked appointment."""
        appointment_id = self._pick(pick, lambda a: a.status in OPEN)
        actor = self._who(who, appointment_id)
        expected = self.model.predict_reject(actor, appointment_id)
        result = self._call(expected, lambda: self.scheduler.reject(actor, appointment_id))
        if result is not None:
            self._written(self.model.reject(appointment_id))

    @precondition(lambda self: bool(self.model.appts))
    @rule(who=decisions, pick=appointment_picks)
    def cancel_by_practice(self, who: Who, pick: tuple[int, str]) -> None:
        """Someone tries to cancel a booked appointment for the practice."""
        appointment_id = self._pick(pick, lambda a: a.status == "booked")
        actor = self._who(who, appointment_id)
        expected = self.model.predict_cancel_by_practice(actor, appointment_id)
        result = self._call(
            expected, lambda: self.scheduler.cancel_by_practice(actor, appointment_id)
        )
        if result is not None:
            self._written(self.model.cancel_by_practice(appointment_id))

    @rule(who=decisions, client=clients, clinician=clinicians, slot=slots)
    def book_for_client(
        self,
        who: Who,
        client: ClientActor,
        clinician: str,
        slot: tuple[int | None, int, int],
    ) -> None:
        """Staff book for a client: client-facing limits do not apply, double booking does."""
        actor = ClinicianActor(clinician) if who == CLINICIAN_OF else self._who(who, MISSING)
        start = self._start(slot)
        cid = client.client_id
        expected = self.model.predict_book_for_client(actor, cid, clinician, start)
        result = self._call(
            expected,
            lambda: self.scheduler.book_for_client(
                actor, client_id=cid, clinician_id=clinician, start=start
            ),
        )
        if result is not None:
            self._written(self.model.book_for_client(cid, clinician, start, result.id))

    @rule(actor=deciders)
    def queue(self, actor: Actor | None) -> None:
        """The approval queue and its badge show exactly what the actor may decide."""
        predicted = self.model.queue(actor)
        assert len(predicted or []) == self.scheduler.queue_count(actor)
        expected = None if predicted is not None else PermissionDenied
        result = self._call(expected, lambda: self.scheduler.approval_queue(actor))
        if result is not None:
            assert predicted == [a.id for a in result]
            self._written(self.model.note_view())

    @rule(actor=st.sampled_from([None, SystemActor(), CLIENT_ACTORS[0], STAFF_ACTORS[2]]))
    def expire(self, actor: Actor | None) -> None:
        """The system expires requests that passed their start; anyone else is refused."""
        expected = self.model.predict_expire(actor)
        result = self._call(expected, lambda: self.scheduler.expire_due(actor))
        if result is not None:
            effects = self.model.expire()
            assert [i for _, i in effects.emails] == [a.id for a in result]
            self._written(effects)

    # -- the world -----------------------------------------------------------------------------

    @rule(minutes=st.integers(1, 12 * 60))
    def advance_clock(self, minutes: int) -> None:
        """Time passes (across the DST transition, sooner or later)."""
        self.clock.advance(timedelta(minutes=minutes))
        self.model.now += timedelta(minutes=minutes)

    @rule(clinician=clinicians, mode=modes)
    def change_mode(self, clinician: str, mode: SchedulingMode) -> None:
        """The practice switches a clinician's self-scheduling mode."""
        self.model.mode[clinician] = str(mode)
        self._apply_settings()

    @rule(actor=deciders, clinician=clinicians)
    def preview_disabling(self, actor: Actor | None, clinician: str) -> None:
        """Staff preview turning a clinician's self-scheduling off: nothing is written but the
        audit entry of the view, and every future request of a client with that clinician is
        listed as no longer allowed."""
        expected = None if isinstance(actor, StaffActor) else PermissionDenied
        policy = self.scheduler.practice.policy_for(clinician)
        practice = attrs.evolve(
            self.scheduler.practice,
            clinician_policies={
                **self.scheduler.practice.clinician_policies,
                clinician: attrs.evolve(policy, mode=SchedulingMode.DISABLED),
            },
        )
        result = self._call(expected, lambda: self.scheduler.dry_run(actor, practice=practice))
        if result is None:
            return
        self._written(self.model.note_view())
        assert self.before.appointments == self._snapshot().appointments, "a dry run wrote"
        listed = {affected.appointment.id for affected in result}
        for appointment_id in listed:
            appt = self.model.appts[appointment_id]
            assert (appt.status in OPEN, appt.origin) == (True, "client")
            assert appt.start > self.model.now
        requests = {
            a.id
            for a in self.model.appts.values()
            if a.clinician == clinician
            and a.status == "pending"
            and a.origin == "client"
            and a.start > self.model.now
        }
        assert requests <= listed, "a request the new mode would refuse is not listed"

    @rule(clinician=clinicians, holds=st.booleans())
    def change_pending_holds(self, clinician: str, holds: bool) -> None:
        """The practice switches whether pending requests hold their slot."""
        self.model.holds[clinician] = holds
        self.model.holds_ever_off[clinician] |= not holds
        self._apply_settings()

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def same_appointments(self) -> None:
        """The scheduler holds exactly the model's appointments, with the model's statuses."""
        stored = {a.id: a for a in self._snapshot().appointments}
        assert sorted(self.model.appts) == sorted(stored)
        for appointment_id, appt in self.model.appts.items():
            a = stored[appointment_id]
            got = (a.client_id, a.clinician_id, a.start, a.end, str(a.status), a.location)
            assert (
                appt.client,
                appt.clinician,
                appt.start,
                appt.end,
                appt.status,
                appt.location,
            ) == got

    @invariant()
    def no_double_booking(self) -> None:
        """No two slot-holding appointments of a clinician overlap; nor two open of a client."""
        appts = list(self.model.appts.values())
        stored = {a.id: a for a in self._snapshot().appointments}
        for a, b in itertools.combinations(appts, 2):
            x, y = stored[a.id], stored[b.id]
            if not (x.start < y.end and y.start < x.end):
                continue
            statuses = {str(x.status), str(y.status)}
            if x.clinician_id == y.clinician_id:
                assert statuses != {"booked"}, f"{a.id} and {b.id} are booked over each other"
                if not self.model.holds_ever_off[a.clinician]:
                    assert not statuses <= OPEN, f"{a.id} and {b.id} both hold one slot"
            if x.client_id == y.client_id:
                assert not statuses <= OPEN, f"client {a.client} holds {a.id} and {b.id} at once"

    @invariant()
    def transitions_in_table(self) -> None:
        """Every status change is in SPEC §3's table; a terminal status never changes."""
        now = {a.id: str(a.status) for a in self._snapshot().appointments}
        for appointment_id, status in now.items():
            before = self.last_status.get(appointment_id)
            if before == status:
                continue
            assert before not in TERMINAL, f"{appointment_id} left terminal status {before}"
            assert (before, status) in TRANSITIONS, f"{appointment_id}: {before} -> {status}"
        self.last_status = now

    @invariant()
    def side_effects_add_up(self) -> None:
        """Emails only to clients, one per decision; notes only on client cancellations."""
        snapshot = self._snapshot()
        emails, notes = self.mailer.sent, self.chart.notes
        assert () == snapshot.waiting, "emails or notes were left undelivered"
        assert self.model.emails == len(emails)
        assert self.model.notes == len(notes)
        assert len({(e.appointment_id, e.kind) for e in emails}) == len(emails)
        assert len({e.message_id for e in emails}) == len(emails), "an email went twice"
        for email in emails:
            appt = self.model.appts[email.appointment_id]
            assert self.model.clients[appt.client] == email.to
        for note in notes:
            assert self.model.appts[note.appointment_id].client == note.client_id
        assert self.model.audit == len(snapshot.audit)

    def teardown(self) -> None:
        """The audit record is an unbroken hash chain; the store is closed."""
        if hasattr(self, "scheduler"):
            verify_chain(self._snapshot().audit)
        close = getattr(self.store, "close", None)
        if close is not None:
            close()


STEPS = 50
"""Steps per example; the number of examples comes from the hypothesis profile."""

TestSchedulerMachine = SchedulerMachine.TestCase
TestSchedulerMachine.settings = settings(stateful_step_count=STEPS)


class SqliteSchedulerMachine(SchedulerMachine):
    """The same machine on the SQLite store (an in-memory database per example)."""

    @staticmethod
    def make_store() -> AppointmentStore:
        """A fresh SQLite store."""
        return SqliteStore(":memory:")


TestSchedulerMachineOnSqlite = SqliteSchedulerMachine.TestCase
TestSchedulerMachineOnSqlite.settings = settings(stateful_step_count=STEPS)


def test_a_request_past_its_start_cannot_be_rejected() -> None:
    """A pending request whose start has passed has expired (SPEC §3), even before the sweep:
    rejecting it is refused like approving it, and the sweep then expires it with its email.

    Regression (found by this machine): the rejection went through, so the request ended
    ``REJECTED`` with a "not approved" email instead of ``EXPIRED``.
    """
    machine = SchedulerMachine()
    machine.start(transition="EU fall back", hours_before=2)
    machine.book(CLIENT_ACTORS[0], "ny", (None, 8, 1), None)
    [request] = machine.model.appts
    machine.advance_clock(minutes=5 * 60)
    machine.reject(CLINICIAN_OF, (0, "preferred"))
    machine.approve(CLINICIAN_OF, (0, "preferred"), "Room 2")
    machine.expire(None)
    machine.same_appointments()
    machine.side_effects_add_up()
    machine.teardown()
    assert machine.model.appts[request].status == "expired"
    assert ["expired"] == [str(e.kind) for e in machine.mailer.sent]
