"""The scheduler service: the imperative shell around the pure slot calculator and state machine.

Every use case runs the same way: read ``now`` from the clock, open one unit of work, load what
it needs, re-check the slot with the slot calculator, apply a transition from
:mod:`selfsched.requests`, and write the appointment, its outbox items (emails, chart notes) and
its audit entry in that same unit. A refusal writes nothing but its own audit entry.

Every public method checks its arguments first: a value of the wrong type or out of range raises
an :class:`~selfsched.errors.InvalidInput` subclass naming the argument, and is audited as a
refusal like any other.

After a change the outbox is delivered (``auto_dispatch``); a delivery failure never undoes the
change, nor is it raised to the caller of the change: the item stays in the outbox for
:meth:`Scheduler.dispatch` to retry, and the trouble is logged on the ``selfsched`` logger.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Final, TypeVar

import attrs

from selfsched import _time, _validate, emails, logs, outbox, requests, settings
from selfsched.errors import (
    Conflict,
    IdempotencyMismatch,
    InvalidPolicy,
    InvalidRange,
    NotFound,
    PermissionDenied,
    SelfschedError,
    SelfSchedulingDisabled,
    SlotUnavailable,
    TransitionNotAllowed,
    WrongType,
)
from selfsched.events import (
    AuditEntry,
    ChartNote,
    EmailKind,
    OutboxItem,
    chain,
    changes_of,
    redacted,
)
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    Clinician,
    ClinicianCalendar,
    Origin,
    Practice,
    SchedulingMode,
)
from selfsched.outbox import DispatchReport, RetrySchedule
from selfsched.permissions import (
    Actor,
    ClientActor,
    ClinicianActor,
    Role,
    StaffActor,
    SystemActor,
    actor_label,
    can_decide,
    can_edit,
    can_read,
    can_see_staff_views,
    check_actor,
    set_approval_permission,
)
from selfsched.ports import (
    AppointmentStore,
    Chart,
    Clock,
    Directory,
    IdGenerator,
    Mailer,
    SettingsSource,
    UnitOfWork,
)
from selfsched.requests import Action
from selfsched.slots import ExplainedSlot, Reason, Slot, available_slots, check_slot, explain

__all__ = [
    "UNCHANGED",
    "Affected",
    "DispatchReport",
    "Display",
    "ScheduleEntry",
    "Scheduler",
    "display_state",
]

T = TypeVar("T")


def _ms_since(started: float) -> float:
    """Milliseconds elapsed since the ``time.perf_counter()`` reading *started*, to 0.01 ms."""
    return round((time.perf_counter() - started) * 1000, 2)


def _logged(
    level: int,
    action: str,
    actor: object,
    outcome: str,
    *,
    appointment_id: str | None = None,
    error: str | None = None,
    unit_ms: float | None = None,
    delivery_ms: float | None = None,
) -> None:
    """One ``selfsched.service`` record for a use case that ended (see :mod:`selfsched.logs`)."""
    if not logs.SERVICE.isEnabledFor(level):
        return  # the usual case for views at INFO: build nothing
    logs.emit(
        logs.SERVICE,
        level,
        event="use_case",
        action=str(action),
        outcome=outcome,
        actor=actor_label(actor).split(":", 1)[0],
        appointment_id=appointment_id,
        error=error,
        unit_ms=unit_ms,
        delivery_ms=delivery_ms,
    )


class _Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


UNCHANGED: Final = _Unchanged.UNCHANGED
"""Marks an :meth:`Scheduler.edit` argument that should keep its current value."""


class Display(enum.StrEnum):
    """How an appointment is drawn on the clinician's and the client's schedule."""

    PLACEHOLDER = "placeholder"
    """A pending request: the grey placeholder."""
    BOOKED = "booked"
    """The normal light-green appointment."""
    MISSED = "missed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


_DISPLAY = {
    AppointmentStatus.PENDING: Display.PLACEHOLDER,
    AppointmentStatus.BOOKED: Display.BOOKED,
    AppointmentStatus.MISSED: Display.MISSED,
    AppointmentStatus.CANCELLED: Display.CANCELLED,
    AppointmentStatus.REJECTED: Display.REJECTED,
    AppointmentStatus.EXPIRED: Display.EXPIRED,
}


def display_state(appointment: Appointment) -> Display:
    """The schedule display of an appointment (pending requests are grey placeholders)."""
    _validate.instance("appointment", appointment, Appointment, "an Appointment")
    return _DISPLAY[appointment.status]


@attrs.frozen
class ScheduleEntry:
    """One appointment on a schedule with how it is drawn."""

    appointment: Appointment
    display: Display


@attrs.frozen
class Affected:
    """An existing appointment that new settings would no longer allow, and why."""

    appointment: Appointment
    reasons: frozenset[Reason]


MAX_STAFF_MINUTES = 24 * 60
"""The longest appointment staff may book for a client with :meth:`Scheduler.book_for_client`."""

_LOOKAROUND = timedelta(days=2)
"""Appointments loaded around a slot: enough for buffers and the local day's daily maximum."""


@attrs.frozen
class _Outcome:
    """What a change produced inside its unit of work."""

    result: Appointment
    before: AppointmentStatus | None
    changes: dict[str, object] = attrs.Factory(dict)


class Scheduler:
    """Client self-scheduling for one practice, over the caller's ports.

    All public methods take the acting person first. Clients act on their own appointments only;
    another client's appointment id behaves exactly like a missing one.
    """

    def __init__(
        self,
        *,
        store: AppointmentStore,
        directory: Directory,
        clock: Clock,
        ids: IdGenerator,
        practice: Practice | SettingsSource,
        mailer: Mailer | None = None,
        chart: Chart | None = None,
        send_confirmations: bool = False,
        email_domain: str = "selfsched.invalid",
        auto_dispatch: bool = True,
        max_attempts: int = 5,
        dispatch_lease: timedelta = timedelta(minutes=5),
        retry: RetrySchedule | None = None,
    ) -> None:
        _check_ports(store=store, directory=directory, clock=clock, ids=ids, mailer=mailer)
        if chart is not None:
            _validate.conforms("chart", chart, Chart, "a Chart (with add_note) or None")
        if isinstance(practice, Practice):
            practice = settings.LiveSettings(practice)
        _validate.conforms(
            "practice", practice, SettingsSource, "a Practice or a SettingsSource (with current())"
        )
        _validate.flag("send_confirmations", send_confirmations)
        _validate.flag("auto_dispatch", auto_dispatch)
        emails.check_header("email_domain", _validate.identifier("email_domain", email_domain))
        if _validate.whole("max_attempts", max_attempts) < 1:
            raise InvalidPolicy(f"max_attempts must be 1 or more, got {max_attempts!r}.")
        if _validate.length("dispatch_lease", dispatch_lease) <= timedelta(0):
            raise InvalidRange(f"dispatch_lease must be positive, got {dispatch_lease!r}.")
        retry = retry if retry is not None else RetrySchedule()
        _validate.instance("retry", retry, RetrySchedule, "a RetrySchedule")
        self.store = store
        self.directory = directory
        self.clock = clock
        self.ids = ids
        self.settings: SettingsSource = practice
        """Where the practice settings come from: a :class:`~selfsched.settings.LiveSettings`
        when the scheduler was given a plain :class:`~selfsched.Practice`."""
        self.mailer = mailer
        self.chart = chart
        self.send_confirmations = send_confirmations
        self.email_domain = email_domain
        self.auto_dispatch = auto_dispatch
        self.max_attempts = max_attempts
        self.dispatch_lease = dispatch_lease
        self.retry = retry
        self._dispatcher = outbox.Dispatcher(
            store=store,
            now=self._now,
            lease=dispatch_lease,
            max_attempts=max_attempts,
            schedule=retry,
        )

    @property
    def practice(self) -> Practice:
        """The practice settings in force now (read from :attr:`settings` on every use)."""
        current = self.settings.current()
        if not isinstance(current, Practice):
            raise WrongType("settings.current()", "a Practice", current)
        return current

    # -- plumbing ---------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return _time.in_span("clock.now()", self.clock.now())

    def _audit(
        self,
        uow: UnitOfWork,
        *,
        actor: object,
        action: str,
        outcome: str,
        at: datetime,
        appointment_id: str | None = None,
        error: str | None = None,
        before: AppointmentStatus | None = None,
        after: AppointmentStatus | None = None,
        changes: dict[str, object] | None = None,
    ) -> None:
        draft = AuditEntry(
            seq=0,
            at=at,
            actor=actor_label(actor),
            action=str(action),
            outcome=outcome,
            appointment_id=appointment_id,
            error=error,
            before=None if before is None else str(before),
            after=None if after is None else str(after),
            changes=changes_of(changes or {}),
        )
        uow.append_audit(chain(uow.last_audit(), draft))

    def _refused(
        self, actor: object, action: str, appointment_id: object, exc: SelfschedError
    ) -> None:
        at = self._now()
        with self.store.unit_of_work() as uow:
            self._audit(
                uow,
                actor=actor,
                action=action,
                outcome="refused",
                at=at,
                # A malformed id (the wrong type, or absurdly long) is not worth recording.
                appointment_id=appointment_id if _validate.is_identifier(appointment_id) else None,
                error=type(exc).__name__,
            )

    @contextmanager
    def _recorded(self, actor: object, action: str, appointment_id: object) -> Iterator[None]:
        """Audit a :class:`SelfschedError` raised inside as a refusal of *action*; re-raise it."""
        try:
            yield
        except SelfschedError as exc:
            self._refused(actor, action, appointment_id, exc)
            _logged(
                logging.INFO,
                action,
                actor,
                "refused",
                appointment_id=appointment_id if _validate.is_identifier(appointment_id) else None,
                error=type(exc).__name__,
            )
            raise

    def _change(
        self,
        actor: Actor | None,
        action: str,
        appointment_id: str | None,
        body: Callable[[UnitOfWork, datetime], _Outcome | Appointment],
        *,
        checks: Callable[[], object] | None = None,
    ) -> Appointment:
        """Check the arguments, run *body* in one unit of work and audit it (or the refusal).

        Once the unit has committed, the call returns its result: delivering the outbox
        afterwards may fail (:meth:`_after_commit`) but never turns a stored change into an error.
        """
        with self._recorded(actor, action, appointment_id):
            if checks is not None:
                checks()
            now = self._now()
            started = time.perf_counter()
            with self.store.unit_of_work() as uow:
                outcome = body(uow, now)
                if isinstance(outcome, Appointment):  # an idempotent replay: nothing written
                    _logged(logging.INFO, action, actor, "replayed", appointment_id=outcome.id)
                    return outcome
                self._audit(
                    uow,
                    actor=actor,
                    action=action,
                    outcome="ok",
                    at=now,
                    appointment_id=outcome.result.id,
                    before=outcome.before,
                    after=outcome.result.status,
                    changes=outcome.changes,
                )
            unit_ms = _ms_since(started)
        started = time.perf_counter()
        self._after_commit(action, outcome.result.id)
        _logged(
            logging.INFO,
            action,
            actor,
            "ok",
            appointment_id=outcome.result.id,
            unit_ms=unit_ms,
            delivery_ms=_ms_since(started) if self.auto_dispatch else None,
        )
        return outcome.result

    def _after_commit(self, action: str, appointment_id: str | None) -> None:
        """Deliver what a committed change queued (``auto_dispatch``), never failing the change.

        The store may be busy (another instance holds its lock) or a custom port may raise: the
        items stay in the outbox for the next dispatch, and the trouble is logged (a selfsched
        error with its message, anything else by its class name only: see
        :mod:`selfsched.logs`).
        """
        if not self.auto_dispatch:
            return
        try:
            self.dispatch()
        except Exception as exc:  # noqa: BLE001  (whatever a port raises, the change stands)
            logs.emit(
                logs.SERVICE,
                logging.WARNING,
                event="after_commit",
                action=str(action),
                outcome="stored, delivery deferred",
                appointment_id=appointment_id,
                error=logs.describe(exc),
            )

    def _view(
        self,
        actor: Actor | None,
        action: str,
        appointment_id: str | None,
        body: Callable[[], T],
        *,
        checks: Callable[[], object] | None = None,
    ) -> T:
        """A staff view: recorded when it succeeds and when it is refused."""
        with self._recorded(actor, action, appointment_id):
            if checks is not None:
                checks()
            result = body()
        at = self._now()
        started = time.perf_counter()
        with self.store.unit_of_work() as uow:
            self._audit(
                uow,
                actor=actor,
                action=action,
                outcome="viewed",
                at=at,
                appointment_id=appointment_id,
            )
        _logged(
            logging.DEBUG,
            action,
            actor,
            "viewed",
            appointment_id=appointment_id,
            unit_ms=_ms_since(started),
        )
        return result

    def _clinician(self, clinician_id: str) -> Clinician:
        clinician = self.directory.clinician(clinician_id)
        if clinician is None:
            raise NotFound(clinician_id, "clinician")
        return clinician

    def _calendar(
        self, uow: UnitOfWork, clinician: Clinician, start: datetime, end: datetime
    ) -> ClinicianCalendar:
        return ClinicianCalendar(
            clinician=clinician,
            events=self.directory.events(clinician.id, start, end),
            appointments=uow.for_clinician(clinician.id, start, end),
        )

    def _owned(self, uow: UnitOfWork, actor: ClientActor, appointment_id: str) -> Appointment:
        appointment = uow.get(appointment_id)
        if appointment is None or appointment.client_id != actor.client_id:
            raise NotFound(appointment_id)
        return appointment

    def _load(
        self, uow: UnitOfWork, appointment_id: str, actor: Actor | None = None
    ) -> Appointment:
        if isinstance(actor, ClientActor):
            # Another client's appointment must look exactly like a missing one, so ids cannot
            # be probed through the staff methods either.
            return self._owned(uow, actor, appointment_id)
        appointment = uow.get(appointment_id)
        if appointment is None:
            raise NotFound(appointment_id)
        return appointment

    @staticmethod
    def _client_actor(actor: object) -> ClientActor:
        check_actor(actor)
        if not isinstance(actor, ClientActor):
            raise PermissionDenied("Only a signed-in client can do this in the client portal.")
        return actor

    def _email(
        self,
        uow: UnitOfWork,
        kind: EmailKind,
        appointment: Appointment,
        now: datetime,
        *,
        invite: bool = False,
    ) -> None:
        """Queue the email of *kind*; with *invite* and ``Practice.calendar_invites`` on, it
        carries the appointment's calendar invite (REQUEST when booked, CANCEL otherwise)."""
        client = self.directory.client(appointment.client_id)
        if client is None or not client.email:
            return  # nobody to write to; the audit entry still records the change
        clinician = self._clinician(appointment.clinician_id)
        practice = self.practice
        calendar: str | None = None
        if invite and practice.calendar_invites:
            from selfsched import ical  # noqa: PLC0415  (the optional extra, only when it is on)

            calendar = ical.invite(
                appointment,
                client=client,
                clinician=clinician,
                practice=practice,
                domain=self.email_domain,
                stamp=now,
            )
        message = emails.render(
            kind,
            appointment,
            client=client,
            clinician=clinician,
            practice=practice,
            domain=self.email_domain,
            calendar=calendar,
        )
        uow.add_outbox(OutboxItem(id=self.ids.new_id("outbox"), payload=message, created_at=now))

    @staticmethod
    def _expect(appointment: Appointment, expected_version: int | None) -> None:
        if expected_version is not None and appointment.version != expected_version:
            raise Conflict(
                f"Appointment {appointment.id!r} changed since you loaded it (version "
                f"{expected_version}, now {appointment.version}); reload it and decide again."
            )

    # -- client -----------------------------------------------------------------------------------

    def my_appointments(self, actor: Actor | None) -> list[ScheduleEntry]:
        """The client's own appointments with their display. Allowed in every mode."""
        with self._recorded(actor, "list_own", None):
            client = self._client_actor(actor)
        with self.store.unit_of_work() as uow:
            found = uow.for_client(client.client_id)
        return [ScheduleEntry(a, display_state(a)) for a in found]

    def client_slots(
        self, actor: Actor | None, clinician_id: str, *, first_day: date, last_day: date
    ) -> tuple[Slot, ...]:
        """Slots a client may pick with a clinician: Available or Unavailable, never why."""
        with self._recorded(actor, "view_slots", None):
            client = self._client_actor(actor)
            _validate.identifier("clinician_id", clinician_id)
            first_day, last_day = _validate.window(first_day, last_day)
            clinician = self._clinician(clinician_id)
            policy = self.practice.policy_for(clinician_id)
            if policy.mode is SchedulingMode.DISABLED:
                raise SelfSchedulingDisabled(
                    "Online scheduling is turned off; please call the clinic to book."
                )
        now = self._now()
        z = clinician.tz
        lo = datetime.combine(first_day, datetime.min.time(), z) - _LOOKAROUND
        hi = datetime.combine(last_day, datetime.min.time(), z) + _LOOKAROUND
        with self.store.unit_of_work() as uow:
            calendar = self._calendar(uow, clinician, lo, hi)
            own = uow.for_client(client.client_id)
        return available_slots(
            calendar,
            policy,
            first_day=first_day,
            last_day=last_day,
            now=now,
            client_id=client.client_id,
            client_appointments=own,
        )

    def book(
        self,
        actor: Actor | None,
        clinician_id: str,
        start: datetime,
        *,
        idempotency_key: str | None = None,
    ) -> Appointment:
        """A client books a slot: ``BOOKED`` in ``INSTANT`` mode, a ``PENDING`` request otherwise.

        The slot is re-checked inside the unit of work; if it is no longer available the call
        raises :class:`~selfsched.errors.SlotUnavailable` and nothing is written. With an
        *idempotency_key*, a repeated call returns the first result and writes nothing.
        """

        def checks() -> None:
            self._client_actor(actor)
            _validate.identifier("clinician_id", clinician_id)
            _validate.instant("start", start)
            _validate.optional(_validate.identifier)("idempotency_key", idempotency_key)

        def body(uow: UnitOfWork, now: datetime) -> _Outcome | Appointment:
            client = self._client_actor(actor)
            when = _validate.instant("start", start)
            if idempotency_key is not None:
                fingerprint = f"{clinician_id}|{when.isoformat()}"
                seen = uow.idempotent(client.client_id, idempotency_key)
                if seen is not None:
                    if seen[0] != fingerprint:
                        raise IdempotencyMismatch(
                            f"Idempotency key {idempotency_key!r} was first used for another "
                            f"booking; use a new key for a new booking."
                        )
                    return self._load(uow, seen[1])
            clinician = self._clinician(clinician_id)
            policy = self.practice.policy_for(clinician_id)
            status = requests.INITIAL[policy.mode]
            if status is None:
                raise SelfSchedulingDisabled(
                    "Online scheduling is turned off; please call the clinic to book."
                )
            action = Action.BOOK if status is AppointmentStatus.BOOKED else Action.REQUEST
            calendar = self._calendar(uow, clinician, when - _LOOKAROUND, when + _LOOKAROUND)
            own = uow.for_client(client.client_id)
            check = check_slot(
                calendar, policy, when, now=now, client_id=client.client_id, client_appointments=own
            )
            if not check.bookable:
                raise SlotUnavailable(start)
            weekday = when.astimezone(clinician.tz).weekday()
            appointment = Appointment(
                id=self.ids.new_id("appointment"),
                client_id=client.client_id,
                clinician_id=clinician.id,
                start=check.start,
                end=check.end,
                status=requests.next_status(None, action),
                service_code=clinician.service_code,
                location=clinician.work_hours.location(weekday),
                origin=Origin.CLIENT,
                created_at=now,
            )
            uow.add(appointment)
            if idempotency_key is not None:
                uow.remember(client.client_id, idempotency_key, fingerprint, appointment.id)
            if action is Action.BOOK and self.send_confirmations:
                self._email(uow, EmailKind.CONFIRMED, appointment, now, invite=True)
            return _Outcome(appointment, None, {"clinician": clinician.id})

        # The audit names the action the mode makes of it (a malformed id: the practice's mode).
        known = _validate.is_identifier(clinician_id)
        mode = (self.practice.policy_for(clinician_id) if known else self.practice.policy).mode
        label = Action.BOOK if mode is SchedulingMode.INSTANT else Action.REQUEST
        return self._change(actor, label, None, body, checks=checks)

    def cancel(self, actor: Actor | None, appointment_id: str, reason: str) -> Appointment:
        """A client cancels a future ``PENDING`` or ``BOOKED`` appointment with a reason.

        It becomes ``MISSED``; an *Appointment Cancellation Note* with the reason goes to the
        client's chart (the only place the reason is kept); no email goes to the clinician.
        """

        def checks() -> None:
            self._client_actor(actor)
            _validate.identifier("appointment_id", appointment_id)
            if not isinstance(reason, str):  # its content is checked after ownership, below
                raise WrongType("reason", "a string", reason, show=False)

        def body(uow: UnitOfWork, now: datetime) -> _Outcome:
            client = self._client_actor(actor)
            appointment = self._owned(uow, client, appointment_id)
            policy = self.practice.policy_for(appointment.clinician_id)
            if policy.mode is SchedulingMode.DISABLED:
                raise SelfSchedulingDisabled(
                    "Online scheduling is turned off; please call the clinic to cancel."
                )
            text = requests.clean_reason(reason)
            changed = requests.cancel_by_client(
                appointment,
                at=now,
                by=actor_label(client),
                late_window=policy.late_cancellation_window,
            )
            uow.replace(changed)
            uow.add_outbox(
                OutboxItem(
                    id=self.ids.new_id("outbox"),
                    payload=self._cancellation_note(changed, text, now),
                    created_at=now,
                )
            )
            return _Outcome(changed, appointment.status, {"late": changed.late_cancellation})

        return self._change(actor, Action.CANCEL_BY_CLIENT, appointment_id, body, checks=checks)

    def _cancellation_note(self, appointment: Appointment, reason: str, now: datetime) -> ChartNote:
        clinician = self._clinician(appointment.clinician_id)
        local = appointment.start.astimezone(clinician.tz)
        lines = [
            "Appointment Cancellation Note",
            f"Date: {local:%A, %B} {local.day}, {local.year}",
            f"Time: {local:%H:%M} {local.tzname()} ({clinician.zone})",
            f"Clinician: {clinician.name or clinician.id}",
            f"Reason given by the client: {reason}",
        ]
        if appointment.late_cancellation:
            lines.append("Late cancellation: yes (inside the late-cancellation window)")
        return ChartNote(
            note_id=self.ids.new_id("note"),
            client_id=appointment.client_id,
            appointment_id=appointment.id,
            title="Appointment Cancellation Note",
            text="\n".join(lines),
            created_at=now,
            late=appointment.late_cancellation,
        )

    # -- clinician and staff ----------------------------------------------------------------------

    def schedule(
        self, actor: Actor | None, clinician_id: str, *, first_day: date, last_day: date
    ) -> list[ScheduleEntry]:
        """The clinician's appointments over local dates, each with its display state."""

        def body() -> list[ScheduleEntry]:
            if not can_read(actor, clinician_id):
                raise PermissionDenied("Only the clinician or practice staff see this schedule.")
            clinician = self._clinician(clinician_id)
            z = clinician.tz
            lo = _time.from_ts(_time.start_of_day(first_day, z))
            hi = _time.from_ts(_time.start_of_day(last_day + timedelta(days=1), z))
            with self.store.unit_of_work() as uow:
                found = uow.for_clinician(clinician_id, lo, hi)
            return [ScheduleEntry(a, display_state(a)) for a in found]

        def checks() -> None:
            check_actor(actor)
            _validate.identifier("clinician_id", clinician_id)
            _validate.window(first_day, last_day)

        return self._view(actor, "view_schedule", None, body, checks=checks)

    def _queue(self, actor: Actor | None) -> list[Appointment]:
        match check_actor(actor):
            case ClinicianActor(clinician_id=cid):
                scope: Callable[[Appointment], bool] = lambda a: a.clinician_id == cid  # noqa: E731
            case StaffActor(may_approve=True) | SystemActor():
                scope = lambda a: True  # noqa: ARG005, E731
            case _:
                raise PermissionDenied(
                    "Only the clinician or staff allowed to approve requests see the queue."
                )
        with self.store.unit_of_work() as uow:
            return [a for a in uow.pending() if scope(a)]

    def approval_queue(self, actor: Actor | None) -> list[Appointment]:
        """The ``PENDING`` requests *actor* may decide, soonest first. Recorded in the audit.

        A :class:`~selfsched.SystemActor` (the backend's own job) reads every request, and
        decides none.
        """
        return self._view(actor, "view_queue", None, lambda: self._queue(actor))

    def queue_count(self, actor: Actor | None) -> int:
        """The red badge: how many requests wait for *actor* (0 for anyone who decides none).

        Not recorded (it is polled, like a client's slot look-up), except when *actor* is not an
        actor at all: that :class:`~selfsched.errors.WrongType` is audited as a refusal.
        """
        with self._recorded(actor, "queue_count", None):
            check_actor(actor)
        try:
            return len(self._queue(actor))
        except PermissionDenied:
            return 0

    def appointment_details(self, actor: Actor | None, appointment_id: str) -> Appointment:
        """One appointment. Staff and clinician views are recorded; clients see only their own."""

        def checks() -> None:
            check_actor(actor)
            _validate.identifier("appointment_id", appointment_id)

        if isinstance(actor, ClientActor):
            with self._recorded(actor, "view_appointment", appointment_id):
                checks()
                with self.store.unit_of_work() as uow:
                    return self._owned(uow, actor, appointment_id)

        def body() -> Appointment:
            with self.store.unit_of_work() as uow:
                appointment = self._load(uow, appointment_id)
            if not can_read(actor, appointment.clinician_id):
                raise PermissionDenied("Only the clinician or practice staff see this appointment.")
            return appointment

        return self._view(actor, "view_appointment", appointment_id, body, checks=checks)

    def explain_slots(
        self,
        actor: Actor | None,
        clinician_id: str,
        *,
        first_day: date,
        last_day: date,
        client_id: str | None = None,
    ) -> tuple[ExplainedSlot, ...]:
        """The staff explain view: every slot with the reasons it is unavailable."""

        def body() -> tuple[ExplainedSlot, ...]:
            if not can_see_staff_views(actor, clinician_id):
                raise PermissionDenied("Only the clinician or practice staff see slot reasons.")
            clinician = self._clinician(clinician_id)
            z = clinician.tz
            lo = datetime.combine(first_day, datetime.min.time(), z) - _LOOKAROUND
            hi = datetime.combine(last_day, datetime.min.time(), z) + _LOOKAROUND
            with self.store.unit_of_work() as uow:
                calendar = self._calendar(uow, clinician, lo, hi)
                own = uow.for_client(client_id) if client_id is not None else []
            return explain(
                calendar,
                self.practice.policy_for(clinician_id),
                first_day=first_day,
                last_day=last_day,
                now=self._now(),
                client_id=client_id,
                client_appointments=own,
            )

        def checks() -> None:
            check_actor(actor)
            _validate.identifier("clinician_id", clinician_id)
            _validate.window(first_day, last_day)
            _validate.optional(_validate.identifier)("client_id", client_id)

        return self._view(actor, "view_slots_explained", None, body, checks=checks)

    @staticmethod
    def _checks_for_change(
        actor: object, appointment_id: object, expected_version: object, **details: object
    ) -> Callable[[], None]:
        """The argument checks of a decision or an edit: *details* are optional texts."""

        def checks() -> None:
            check_actor(actor)
            _validate.identifier("appointment_id", appointment_id)
            _validate.optional(_validate.whole)("expected_version", expected_version)
            for name, value in details.items():
                _validate.optional_text(name, value)

        return checks

    def _decider(self, actor: Actor | None, appointment: Appointment) -> None:
        if not can_decide(actor, appointment):
            raise PermissionDenied(
                "Only the appointment's clinician, or staff whose role allows it and whose "
                "'approve appointment requests' permission is on, can decide this request."
            )
        if appointment.decided_at is not None:
            # Someone decided it first (two people deciding at once): say so plainly.
            raise Conflict(
                f"Appointment {appointment.id!r} was already decided ({appointment.status}) at "
                f"{appointment.decided_at.isoformat()}; reload it to see the decision."
            )

    def _decidable(
        self,
        uow: UnitOfWork,
        appointment_id: str,
        actor: Actor | None,
        expected_version: int | None,
    ) -> Appointment:
        """The appointment, if *actor* may decide it now (not found, not allowed, conflict)."""
        appointment = self._load(uow, appointment_id, actor)
        self._decider(actor, appointment)
        self._expect(appointment, expected_version)
        return appointment

    def _editable(
        self,
        uow: UnitOfWork,
        appointment_id: str,
        actor: Actor | None,
        expected_version: int | None,
        verb: str,
    ) -> Appointment:
        """The appointment, if *actor* may change it (*verb* names the change for the refusal)."""
        appointment = self._load(uow, appointment_id, actor)
        if not can_edit(actor, appointment):
            raise PermissionDenied(
                f"Only the appointment's clinician or staff who may approve requests can {verb} it."
            )
        self._expect(appointment, expected_version)
        return appointment

    def _still_free(
        self, uow: UnitOfWork, appointment: Appointment, policy: ApprovalPolicy
    ) -> None:
        """Before a request becomes ``BOOKED``: nothing else holds its time any more."""
        for other in uow.for_clinician(
            appointment.clinician_id, appointment.start, appointment.end
        ):
            if other.id == appointment.id:
                continue
            if other.status is AppointmentStatus.BOOKED or (
                other.status is AppointmentStatus.PENDING and policy.pending_holds_slot
            ):
                raise SlotUnavailable(appointment.start)
        for other in uow.for_client(appointment.client_id):
            if (
                other.id != appointment.id
                and other.is_open
                and other.overlaps(appointment.start, appointment.end)
            ):
                raise SlotUnavailable(appointment.start)

    def approve(
        self,
        actor: Actor | None,
        appointment_id: str,
        *,
        location: str | None = None,
        service_code: str | None = None,
        code_modifier: str | None = None,
        expected_version: int | None = None,
    ) -> Appointment:
        """Approve a ``PENDING`` request: it becomes ``BOOKED`` and the client is emailed.

        Location and service code must be set on the request already or given now; the code
        modifier is optional. With *expected_version*, a request changed since it was loaded
        raises :class:`~selfsched.errors.Conflict`.
        """

        def body(uow: UnitOfWork, now: datetime) -> _Outcome:
            appointment = self._decidable(uow, appointment_id, actor, expected_version)
            if appointment.status is AppointmentStatus.PENDING and self._is_due(appointment, now):
                # Undecided at its start (or past its time-to-live): it has expired, even if the
                # expiry sweep has not run yet. Approving it would book a past or stale time.
                raise TransitionNotAllowed(
                    "expired (undecided before its start or time-to-live)", Action.APPROVE
                )
            for name, value in (
                ("location", location),
                ("service code", service_code),
                ("code modifier", code_modifier),
            ):
                if value is not None:
                    emails.check_header(name, value)
            changed = requests.approve(
                appointment,
                at=now,
                by=actor_label(actor),
                location=location,
                service_code=service_code,
                code_modifier=code_modifier,
            )
            self._still_free(uow, changed, self.practice.policy_for(changed.clinician_id))
            uow.replace(changed)
            self._email(uow, EmailKind.APPROVED, changed, now, invite=True)
            return _Outcome(
                changed,
                appointment.status,
                {
                    "location": changed.location,
                    "service_code": changed.service_code,
                    "code_modifier": changed.code_modifier,
                },
            )

        checks = self._checks_for_change(
            actor,
            appointment_id,
            expected_version,
            location=location,
            service_code=service_code,
            code_modifier=code_modifier,
        )
        return self._change(actor, Action.APPROVE, appointment_id, body, checks=checks)

    def reject(
        self, actor: Actor | None, appointment_id: str, *, expected_version: int | None = None
    ) -> Appointment:
        """Reject a ``PENDING`` request or a self-booked ``BOOKED`` appointment; email the client.

        The email says it was not approved and to call the clinician or the clinic. A request
        past its start (or time-to-live) has expired and can no longer be rejected, as it can
        no longer be approved: :meth:`expire_due` gives it its final state and email.
        """

        def body(uow: UnitOfWork, now: datetime) -> _Outcome:
            appointment = self._decidable(uow, appointment_id, actor, expected_version)
            if appointment.status is AppointmentStatus.PENDING and self._is_due(appointment, now):
                # Undecided at its start: it is EXPIRED (SPEC §3), not REJECTED, even if the
                # expiry sweep has not run yet; the client gets the expiry email, not this one.
                raise TransitionNotAllowed(
                    "expired (undecided before its start or time-to-live)", Action.REJECT
                )
            changed = requests.apply(appointment, Action.REJECT, at=now, by=actor_label(actor))
            uow.replace(changed)
            # A booked appointment the practice rejects was on the client's calendar: with
            # invites on, the email cancels it there.
            booked = appointment.status is AppointmentStatus.BOOKED
            self._email(uow, EmailKind.REJECTED, changed, now, invite=booked)
            return _Outcome(changed, appointment.status)

        checks = self._checks_for_change(actor, appointment_id, expected_version)
        return self._change(actor, Action.REJECT, appointment_id, body, checks=checks)

    def edit(
        self,
        actor: Actor | None,
        appointment_id: str,
        *,
        location: str | _Unchanged | None = UNCHANGED,
        service_code: str | _Unchanged | None = UNCHANGED,
        code_modifier: str | _Unchanged | None = UNCHANGED,
        expected_version: int | None = None,
    ) -> Appointment:
        """Change location, service code or code modifier of an open appointment (audited)."""
        fields = {
            name: value
            for name, value in (
                ("location", location),
                ("service_code", service_code),
                ("code_modifier", code_modifier),
            )
            if value is not UNCHANGED
        }

        def body(uow: UnitOfWork, now: datetime) -> _Outcome:
            appointment = self._editable(uow, appointment_id, actor, expected_version, "edit")
            for name, value in fields.items():
                if value is not None:
                    emails.check_header(name.replace("_", " "), value)
            changed = requests.apply(
                appointment, Action.EDIT, at=now, by=actor_label(actor), **fields
            )
            uow.replace(changed)
            return _Outcome(changed, appointment.status, dict(fields))

        checks = self._checks_for_change(actor, appointment_id, expected_version, **fields)
        return self._change(actor, Action.EDIT, appointment_id, body, checks=checks)

    def cancel_by_practice(
        self, actor: Actor | None, appointment_id: str, *, expected_version: int | None = None
    ) -> Appointment:
        """The practice cancels a ``BOOKED`` appointment: it becomes ``CANCELLED``.

        No email, unless the practice sends calendar invites (``Practice.calendar_invites``):
        then the client is told (:attr:`~selfsched.events.EmailKind.CANCELLED`, without a
        reason) and the invite's ``METHOD:CANCEL`` takes it off their calendar.
        """

        def body(uow: UnitOfWork, now: datetime) -> _Outcome:
            appointment = self._editable(uow, appointment_id, actor, expected_version, "cancel")
            changed = requests.apply(
                appointment, Action.CANCEL_BY_PRACTICE, at=now, by=actor_label(actor)
            )
            uow.replace(changed)
            if self.practice.calendar_invites:
                self._email(uow, EmailKind.CANCELLED, changed, now, invite=True)
            return _Outcome(changed, appointment.status)

        checks = self._checks_for_change(actor, appointment_id, expected_version)
        return self._change(actor, Action.CANCEL_BY_PRACTICE, appointment_id, body, checks=checks)

    def book_for_client(
        self,
        actor: Actor | None,
        *,
        client_id: str,
        clinician_id: str,
        start: datetime,
        minutes: int | None = None,
        location: str | None = None,
        service_code: str | None = None,
        code_modifier: str | None = None,
    ) -> Appointment:
        """The clinician or staff book on a client's behalf: ``BOOKED`` at once.

        Client-facing limits (work hours, grid, calendar events, notice, horizon, buffers, daily
        maximum, client cap, the mode) do not apply. Double booking still does: the time must
        not overlap a slot-holding appointment of the clinician or an open one of the client.
        *client_id* must be a client the directory knows (:class:`~selfsched.errors.NotFound`
        otherwise); *minutes* lies between 1 and :data:`MAX_STAFF_MINUTES`.
        """

        def checks() -> None:
            check_actor(actor)
            _validate.identifier("client_id", client_id)
            _validate.identifier("clinician_id", clinician_id)
            _validate.instant("start", start)
            if minutes is not None and not 0 < _validate.whole("minutes", minutes) <= (
                MAX_STAFF_MINUTES
            ):
                raise InvalidRange(
                    f"minutes must be between 1 and {MAX_STAFF_MINUTES}, got {minutes!r}."
                )
            for name, value in (
                ("location", location),
                ("service_code", service_code),
                ("code_modifier", code_modifier),
            ):
                _validate.optional_text(name, value)

        def body(uow: UnitOfWork, now: datetime) -> _Outcome:
            if not (
                (isinstance(actor, ClinicianActor) and actor.clinician_id == clinician_id)
                or (isinstance(actor, StaffActor) and actor.may_approve)
            ):
                raise PermissionDenied(
                    "Only the clinician, or staff who may approve requests, can book for a client."
                )
            clinician = self._clinician(clinician_id)
            if self.directory.client(client_id) is None:
                raise NotFound(client_id, "client")
            when = _validate.instant("start", start)
            length = timedelta(minutes=minutes) if minutes is not None else clinician.service_length
            for name, value in (
                ("location", location),
                ("service code", service_code),
                ("code modifier", code_modifier),
            ):
                if value is not None:
                    emails.check_header(name, value)
            weekday = when.astimezone(clinician.tz).weekday()
            appointment = Appointment(
                id=self.ids.new_id("appointment"),
                client_id=client_id,
                clinician_id=clinician_id,
                start=when,
                end=when + length,
                status=requests.next_status(None, Action.STAFF_BOOK),
                service_code=service_code or clinician.service_code,
                code_modifier=code_modifier,
                location=location
                if location is not None
                else clinician.work_hours.location(weekday),
                origin=Origin.STAFF,
                created_at=now,
            )
            self._still_free(uow, appointment, self.practice.policy_for(clinician_id))
            uow.add(appointment)
            return _Outcome(appointment, None, {"clinician": clinician_id, "client": client_id})

        return self._change(actor, Action.STAFF_BOOK, None, body, checks=checks)

    def set_approval_permission(
        self, actor: Actor | None, member: StaffActor, *, enabled: bool
    ) -> StaffActor:
        """Switch a staff member's "approve appointment requests" permission (audited).

        Returns the updated member for the caller's identity system to store.
        """
        with self._recorded(actor, "set_approval_permission", None):
            changed = set_approval_permission(actor, member, enabled=enabled)
        at = self._now()
        with self.store.unit_of_work() as uow:
            self._audit(
                uow,
                actor=actor,
                action="set_approval_permission",
                outcome="ok",
                at=at,
                changes={"staff": member.staff_id, "enabled": enabled},
            )
        _logged(logging.INFO, "set_approval_permission", actor, "ok")
        return changed

    def change_settings(
        self, actor: Actor | None, practice: Practice, *, expected: Practice | None = None
    ) -> Practice:
        """Put new practice settings in force at once, for every later call; audited.

        For a System Administrator, and only when :attr:`settings` can be replaced (it is a
        :class:`~selfsched.settings.LiveSettings`, or anything with the same ``replace``).
        Preview a change with :meth:`dry_run` first: appointments already made are kept, even
        those the new settings would not allow. *expected* is the value you read and changed:
        :class:`~selfsched.errors.Conflict` if someone changed the settings since. Returns the
        settings replaced. The audit entry lists every changed field and its new value.
        """

        def checks() -> None:
            check_actor(actor)
            _validate.instance("practice", practice, Practice, "a Practice")
            _validate.optional(lambda n, v: _validate.instance(n, v, Practice, "a Practice"))(
                "expected", expected
            )
            if not (isinstance(actor, StaffActor) and actor.role is Role.SYSTEM_ADMINISTRATOR):
                raise PermissionDenied("Only a System Administrator can change the settings.")

        with self._recorded(actor, "change_settings", None):
            checks()
            replace = getattr(self.settings, "replace", None)
            if not callable(replace):
                raise WrongType(
                    "settings", "settings that can be replaced (a LiveSettings)", self.settings
                )
            at = self._now()
            previous = self.practice
            replaced: Practice | None = None
            try:
                with self.store.unit_of_work() as uow:
                    self._audit(
                        uow,
                        actor=actor,
                        action="change_settings",
                        outcome="ok",
                        at=at,
                        changes=_settings_changes(previous, practice),
                    )
                    # Last in the unit: a refused replacement (``expected``) discards the entry.
                    replaced = _validate.instance(
                        "settings.replace()",
                        replace(practice, expected=expected),
                        Practice,
                        "a Practice",
                    )
            except BaseException:
                if replaced is not None:  # in force but not recorded: put the old ones back
                    replace(replaced, expected=practice)
                raise
        _logged(logging.INFO, "change_settings", actor, "ok")
        return replaced

    # -- system -----------------------------------------------------------------------------------

    def expire_due(self, actor: Actor | None = None) -> list[Appointment]:
        """Expire undecided requests whose start (or time-to-live) has passed; email the clients.

        Returns the requests expired now. One that cannot be expired (e.g. its client's email
        address is malformed) is audited as refused and left for a later sweep; the rest still
        expire.
        """
        with self._recorded(actor, Action.EXPIRE, None):
            actor = check_actor(actor) or SystemActor()
            if not isinstance(actor, SystemActor):
                raise PermissionDenied("Only the system expires requests.")
        now = self._now()
        with self.store.unit_of_work() as uow:
            due = [a.id for a in uow.pending() if self._is_due(a, now)]
        expired: list[Appointment] = []
        for appointment_id in due:
            try:
                appointment = self._expire_one(actor, appointment_id)
            except SelfschedError:
                continue  # audited as refused by _change; one bad row must not stop the sweep
            if appointment.status is AppointmentStatus.EXPIRED:
                expired.append(appointment)
        return expired

    def _is_due(self, appointment: Appointment, now: datetime) -> bool:
        if appointment.start <= now:
            return True
        ttl = self.practice.policy_for(appointment.clinician_id).pending_ttl
        return (
            ttl is not None
            and appointment.created_at is not None
            and (appointment.created_at + ttl <= now)
        )

    def _expire_one(self, actor: SystemActor, appointment_id: str) -> Appointment:
        def body(uow: UnitOfWork, now: datetime) -> _Outcome | Appointment:
            appointment = self._load(uow, appointment_id)
            if appointment.status is not AppointmentStatus.PENDING:
                return appointment  # decided or cancelled since the sweep listed it: leave it
            changed = requests.apply(appointment, Action.EXPIRE, at=now, by=actor_label(actor))
            uow.replace(changed)
            self._email(uow, EmailKind.EXPIRED, changed, now)
            return _Outcome(changed, appointment.status)

        return self._change(actor, Action.EXPIRE, appointment_id, body)

    def dispatch(self) -> DispatchReport:
        """Deliver waiting emails and chart notes. Safe to call again, from any thread or process.

        A delivery that surely failed is retried on later calls up to ``max_attempts``; one whose
        outcome is unknown is sent again once, with the same Message-ID, then given up. Two
        schedulers sharing a store never send the same item: see
        :class:`selfsched.outbox.Dispatcher` for the claims that guarantee it.
        """
        return self._dispatcher.run(mailer=self.mailer, chart=self.chart)

    # -- deliveries given up on -------------------------------------------------------------------

    def failed_deliveries(self, actor: Actor | None) -> list[OutboxItem]:
        """The emails and chart notes given up on, oldest first, each with its ``last_error``.

        For practice staff (any role); recorded like other staff views. A chart note's text is
        withheld here (it holds the client's cancellation reason, which belongs in the chart
        only): its ids, title and times say which note it is, and :meth:`retry_delivery` resends
        the note whole.
        """

        def body() -> list[OutboxItem]:
            self._practice_staff(actor, "see failed deliveries")
            with self.store.unit_of_work() as uow:
                return [_withhold_note_text(item) for item in uow.failed_outbox()]

        return self._view(actor, "view_failed_deliveries", None, body)

    @staticmethod
    def _practice_staff(actor: object, what: str) -> None:
        """Refuse anyone but practice staff (any role; not a clinician acting on their own)."""
        check_actor(actor)
        if not isinstance(actor, StaffActor):
            raise PermissionDenied(f"Only practice staff can {what}.")

    def _failed_item(
        self,
        actor: object,
        action: str,
        item_id: object,
        what: str,
        change: Callable[[OutboxItem, datetime], OutboxItem],
    ) -> OutboxItem:
        """Apply *change* to the given-up item *item_id* in one audited unit of work."""
        with self._recorded(actor, action, None):
            self._practice_staff(actor, what)
            _validate.identifier("item_id", item_id)
            now = self._now()
            with self.store.unit_of_work() as uow:
                item = next((i for i in uow.failed_outbox() if i.id == item_id), None)
                if item is None:
                    raise NotFound(item_id, "failed delivery")
                changed = change(item, now)
                uow.update_outbox(changed)
                self._audit(
                    uow,
                    actor=actor,
                    action=action,
                    outcome="ok",
                    at=now,
                    appointment_id=item.payload.appointment_id,
                    changes={"outbox_item": item.id},
                )
        _logged(logging.INFO, action, actor, "ok", appointment_id=item.payload.appointment_id)
        return changed

    def retry_delivery(self, actor: Actor | None, item_id: str) -> OutboxItem:
        """Put an item given up on back in the outbox (practice staff, any role; audited).

        Its attempts start again from zero and ``failed`` is cleared; ``uncertain`` is kept, so an
        item whose delivery was uncertain is sent at most once more. Raises
        :class:`~selfsched.errors.NotFound` unless *item_id* names a failed item (not purged).
        Returns the item as queued; with ``auto_dispatch`` it is delivered at once.
        """
        queued = self._failed_item(
            actor,
            "retry_delivery",
            item_id,
            "retry failed deliveries",
            lambda item, _: attrs.evolve(
                item,
                attempts=0,
                failed=False,
                delivered_at=None,
                claimed_until=None,
                not_before=None,
            ),
        )
        self._after_commit("retry_delivery", queued.payload.appointment_id)
        return queued

    def purge_failed_delivery(self, actor: Actor | None, item_id: str) -> OutboxItem:
        """Drop the content of an item given up on (practice staff, any role; audited).

        The item keeps what the audit needs (ids, kind, times, the Message-ID) and loses the
        rest: the client's address and the email's text, or the chart note's text with the
        cancellation reason. It leaves :meth:`failed_deliveries` and cannot be retried. Raises
        :class:`~selfsched.errors.NotFound` unless *item_id* names a failed item. Returns the
        purged item.
        """
        return self._failed_item(
            actor,
            "purge_delivery",
            item_id,
            "purge failed deliveries",
            lambda item, now: attrs.evolve(item, payload=redacted(item.payload), purged_at=now),
        )

    # -- settings ---------------------------------------------------------------------------------

    def dry_run(
        self,
        actor: Actor | None,
        *,
        practice: Practice | None = None,
        clinicians: Iterable[Clinician] = (),
    ) -> list[Affected]:
        """Which future ``BOOKED``/``PENDING`` client bookings new settings would not allow.

        *practice* replaces the practice settings (mode, grid, notice, ...); *clinicians* replace
        clinician profiles (work hours, service length). Writes nothing. Appointments booked by
        staff are not subject to client rules and are not listed.
        """
        replaced: dict[str, Clinician] = {}
        new_practice = self.practice

        def checks() -> None:
            nonlocal new_practice
            check_actor(actor)
            if practice is not None:
                new_practice = _validate.instance("practice", practice, Practice, "a Practice")
            for clinician in _validate.tuple_of("clinicians", clinicians, Clinician, "a Clinician"):
                replaced[clinician.id] = clinician

        def body() -> list[Affected]:
            self._practice_staff(actor, "preview settings changes")
            now = self._now()
            affected: list[Affected] = []
            with self.store.unit_of_work() as uow:
                open_future = [a for a in uow.open_after(now) if a.origin is Origin.CLIENT]
                for appointment in open_future:
                    reasons = self._recheck(uow, appointment, new_practice, replaced, now)
                    if reasons:
                        affected.append(Affected(appointment, reasons))
            return affected

        # It shows staff the clients' appointments, so it is recorded like other staff views.
        return self._view(actor, "dry_run", None, body, checks=checks)

    def _recheck(
        self,
        uow: UnitOfWork,
        appointment: Appointment,
        practice: Practice,
        replaced: dict[str, Clinician],
        now: datetime,
    ) -> frozenset[Reason]:
        clinician_id = appointment.clinician_id
        clinician = replaced.get(clinician_id) or self._clinician(clinician_id)
        lo, hi = appointment.start - _LOOKAROUND, appointment.start + _LOOKAROUND
        calendar = ClinicianCalendar(
            clinician=clinician,
            events=self.directory.events(clinician_id, lo, hi),
            appointments=uow.for_clinician(clinician_id, lo, hi),
        )
        return settings.no_longer_allowed(
            appointment,
            calendar,
            practice.policy_for(clinician_id),
            now=now,
            client_appointments=uow.for_client(appointment.client_id),
        )


def _check_ports(
    *, store: object, directory: object, clock: object, ids: object, mailer: object
) -> None:
    """The Scheduler's ports have the methods it calls (a clear error now, not a crash later)."""
    if not callable(getattr(store, "unit_of_work", None)):
        raise WrongType("store", "an AppointmentStore (with unit_of_work())", store)
    if isinstance(clock, type | date):  # ``datetime`` itself has a ``now``: not a Clock
        raise WrongType("clock", "a Clock (with now())", clock)
    for name, value, port, noun in (
        ("directory", directory, Directory, "a Directory (clinician, client, events)"),
        ("clock", clock, Clock, "a Clock (with now())"),
        ("ids", ids, IdGenerator, "an IdGenerator (with new_id(kind))"),
    ):
        _validate.conforms(name, value, port, noun)
    if mailer is not None:
        _validate.conforms("mailer", mailer, Mailer, "a Mailer (with send(message)) or None")


def _settings_changes(old: Practice, new: Practice) -> dict[str, object]:
    """Every setting that differs, by dotted name: ``policy.min_notice``, ``policy[dr-a].mode``,
    ``email_templates[rejected]`` (recorded as ``changed``, ``default`` or ``new``: not the
    template's text)."""

    changes: dict[str, object] = {
        name: getattr(new, name)
        for name in ("name", "zone", "phone", "reply_to", "calendar_invites")
        if getattr(old, name) != getattr(new, name)
    }
    for kind in sorted({*old.email_templates, *new.email_templates}):
        was, now = old.email_templates.get(kind), new.email_templates.get(kind)
        if was != now:
            changes[f"email_templates[{kind}]"] = (
                "default" if now is None else "new" if was is None else "changed"
            )
    changes |= _policy_changes("policy", old.policy, new.policy)
    for clinician_id in sorted({*old.clinician_policies, *new.clinician_policies}):
        was_p, now_p = (p.clinician_policies.get(clinician_id) for p in (old, new))
        if was_p != now_p:
            changes |= _policy_changes(f"policy[{clinician_id}]", was_p, now_p)
    return changes


def _policy_changes(
    prefix: str, old: ApprovalPolicy | None, new: ApprovalPolicy | None
) -> dict[str, object]:
    """The fields of *new* that differ from *old* (all of them when *old* is ``None``); a
    clinician override that is gone is ``(practice policy)``."""
    if new is None:
        return {prefix: "(practice policy)"}
    return {
        f"{prefix}.{field.name}": getattr(new, field.name)
        for field in attrs.fields(ApprovalPolicy)
        if old is None or getattr(old, field.name) != getattr(new, field.name)
    }


WITHHELD = "(withheld: the note is in the outbox and reaches the chart when retried)"
"""What :meth:`Scheduler.failed_deliveries` shows instead of a chart note's text."""


def _withhold_note_text(item: OutboxItem) -> OutboxItem:
    if isinstance(item.payload, ChartNote):
        return attrs.evolve(item, payload=attrs.evolve(item.payload, text=WITHHELD))
    return item
