"""A plain, dict-based re-statement of the scheduling rules, to drive beside the real scheduler.

It shares no logic with :mod:`selfsched`: it imports only the error classes (to name the refusal
it expects) and the actor value types (to read who is acting). Statuses are plain strings, the
rules are SPEC §1-§4 written out again for the small world the state machine uses:

- every day is a work day, ``00:00-24:00`` local; slot starts on the 30-minute local grid; a slot
  of the clinician's length must end by the next local midnight; no buffers, no daily maximum, no
  client cap; one one-off calendar event per clinician;
- a slot is bookable by a client when it is at least ``min_notice`` and at most ``horizon``
  ahead, overlaps no event, no ``BOOKED`` appointment of the clinician, no ``PENDING`` one while
  the clinician's policy says pending requests hold their slot, and no open appointment of the
  client with anyone (all intervals half-open);
- the expected side effects of each call: audit entries, client emails, chart notes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from selfsched.errors import (
    Conflict,
    EmptyReason,
    IdempotencyMismatch,
    MissingDetails,
    NotFound,
    OffGrid,
    PermissionDenied,
    SelfschedError,
    SelfSchedulingDisabled,
    SlotUnavailable,
    TransitionNotAllowed,
)
from selfsched.permissions import Actor, ClientActor, ClinicianActor, StaffActor, SystemActor

GRID = timedelta(minutes=30)
APPROVER_ROLES = frozenset(
    {"system_administrator", "assistant_system_administrator", "clinical_director", "scheduler"}
)
"""SPEC §4: the roles that may decide requests when their permission is on."""

TRANSITIONS = frozenset(
    {
        (None, "booked"),  # a client books (INSTANT) or staff book for a client
        (None, "pending"),  # a client requests (REQUIRES_APPROVAL)
        ("pending", "booked"),  # approve
        ("pending", "rejected"),  # reject
        ("booked", "rejected"),  # reject a self-booked appointment
        ("pending", "missed"),  # the client cancels
        ("booked", "missed"),  # the client cancels
        ("booked", "cancelled"),  # the practice cancels
        ("pending", "expired"),  # nobody decided before the start
    }
)
"""SPEC §3, ``(from, to)``; ``None`` is "no appointment yet"."""
TERMINAL = frozenset({"rejected", "missed", "cancelled", "expired"})
OPEN = frozenset({"pending", "booked"})

Refusal = type[SelfschedError]


@dataclass
class Doctor:
    """A clinician of the small world: zone, service length, locations, one busy event."""

    id: str
    zone: ZoneInfo
    minutes: int
    weekday_location: dict[int, str]
    event: tuple[datetime, datetime]

    @property
    def length(self) -> timedelta:
        """Elapsed length of a slot."""
        return timedelta(minutes=self.minutes)

    def midnight(self, day: date) -> datetime:
        """The UTC instant of local midnight starting *day* (midnight exists in both zones)."""
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)


@dataclass
class Appt:
    """What the model knows of one appointment."""

    id: str
    client: str
    clinician: str
    start: datetime
    end: datetime
    status: str
    origin: str
    location: str | None
    approved: bool = False

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Half-open overlap."""
        return self.start < end and start < self.end


@dataclass
class Effects:
    """What one successful call must have written."""

    audit: list[str] = field(default_factory=list)
    """Outcomes of the new audit entries, in order ("ok", "viewed")."""
    emails: list[tuple[str, str]] = field(default_factory=list)
    """``(kind, appointment id)`` of the new client emails."""
    notes: list[tuple[str, bool]] = field(default_factory=list)
    """``(appointment id, late)`` of the new chart notes."""


@dataclass
class Model:
    """The state of the world as the rules say it should be."""

    doctors: dict[str, Doctor]
    clients: dict[str, str]
    """Client id -> email address."""
    now: datetime
    min_notice: timedelta
    horizon: timedelta
    late_window: timedelta
    mode: dict[str, str]
    holds: dict[str, bool]
    holds_ever_off: dict[str, bool] = field(default_factory=dict)
    appts: dict[str, Appt] = field(default_factory=dict)
    keys: dict[tuple[str, str], tuple[str, datetime, str]] = field(default_factory=dict)
    audit: int = 0
    emails: int = 0
    notes: int = 0

    # -- who may do what (SPEC §4) ---------------------------------------------------------------

    @staticmethod
    def may_decide(actor: Actor | None, appt: Appt) -> bool:
        """The appointment's clinician, or an approver role with its permission on."""
        if isinstance(actor, ClinicianActor):
            return actor.clinician_id == appt.clinician
        if isinstance(actor, StaffActor):
            return str(actor.role) in APPROVER_ROLES and actor.approves_requests
        return False

    @staticmethod
    def sees_staff_views(actor: Actor | None, clinician: str) -> bool:
        """The clinician of that calendar, or any staff member."""
        if isinstance(actor, ClinicianActor):
            return actor.clinician_id == clinician
        return isinstance(actor, StaffActor)

    @classmethod
    def reads(cls, actor: Actor | None, clinician: str) -> bool:
        """Who sees staff views, and the system (the backend's own jobs): schedules, one
        appointment, the queue."""
        return isinstance(actor, SystemActor) or cls.sees_staff_views(actor, clinician)

    # -- slots (SPEC §2) ---------------------------------------------------------------------------

    def on_grid(self, clinician: str, start: datetime) -> bool:
        """The local wall time is on the 30-minute grid."""
        local = start.astimezone(self.doctors[clinician].zone)
        return local.minute % 30 == 0 and local.second == 0 and local.microsecond == 0

    def inside_work_hours(self, clinician: str, start: datetime) -> bool:
        """The slot ends by the next local midnight (work hours are the whole day)."""
        doctor = self.doctors[clinician]
        day = start.astimezone(doctor.zone).date()
        return start + doctor.length <= doctor.midnight(day + timedelta(days=1))

    def holding(self, clinician: str) -> Iterator[Appt]:
        """The clinician's appointments that hold their slot under the current policy."""
        for a in self.appts.values():
            if a.clinician == clinician and (
                a.status == "booked" or (a.status == "pending" and self.holds[clinician])
            ):
                yield a

    def open_of(self, client: str) -> Iterator[Appt]:
        """The client's open appointments, with any clinician."""
        return (a for a in self.appts.values() if a.client == client and a.status in OPEN)

    def time_taken(
        self, client: str, clinician: str, start: datetime, end: datetime, skip: str = ""
    ) -> bool:
        """Something of the clinician holds the time, or the client already has it."""
        return any(a.id != skip and a.overlaps(start, end) for a in self.holding(clinician)) or any(
            a.id != skip and a.overlaps(start, end) for a in self.open_of(client)
        )

    def bookable(self, client: str, clinician: str, start: datetime) -> bool:
        """May the client book this on-grid start?"""
        doctor = self.doctors[clinician]
        end = start + doctor.length
        event_start, event_end = doctor.event
        return (
            self.inside_work_hours(clinician, start)
            and self.now + self.min_notice <= start <= self.now + self.horizon
            and not (event_start < end and start < event_end)
            and not self.time_taken(client, clinician, start, end)
        )

    def day_slots(self, client: str, clinician: str, day: date) -> list[tuple[datetime, bool]]:
        """Every slot of a local day, each with whether the client may book it."""
        doctor = self.doctors[clinician]
        last = doctor.midnight(day + timedelta(days=1))
        start = doctor.midnight(day)
        found = []
        while start + doctor.length <= last:
            found.append((start, self.bookable(client, clinician, start)))
            start += GRID
        return found

    # -- client calls ------------------------------------------------------------------------------

    def get(self, appointment_id: str) -> Appt | None:
        """The appointment, if it exists."""
        return self.appts.get(appointment_id)

    def visible(self, actor: Actor | None, appointment_id: str) -> Appt | None:
        """The appointment as *actor* may name it: a client sees only its own (SPEC §4)."""
        appt = self.appts.get(appointment_id)
        if isinstance(actor, ClientActor) and appt is not None and appt.client != actor.client_id:
            return None
        return appt

    def predict_book(  # noqa: PLR0911  (one return per refusal, in the service's order)
        self, actor: Actor | None, clinician: str, start: datetime, key: str | None
    ) -> Refusal | str | None:
        """The refusal a client booking gets, ``"replay"`` for a replayed key, else ``None``."""
        if not isinstance(actor, ClientActor):
            return PermissionDenied
        if key is not None and (actor.client_id, key) in self.keys:
            first_clinician, first_start, _ = self.keys[(actor.client_id, key)]
            if (first_clinician, first_start) != (clinician, start):
                return IdempotencyMismatch
            return "replay"
        if self.mode[clinician] == "disabled":
            return SelfSchedulingDisabled
        if not self.on_grid(clinician, start):
            return OffGrid
        if not self.bookable(actor.client_id, clinician, start):
            return SlotUnavailable
        return None

    def book(
        self, client: str, clinician: str, start: datetime, key: str | None, new_id: str
    ) -> Effects:
        """Record a client's booking (``BOOKED`` in INSTANT mode, else a ``PENDING`` request)."""
        doctor = self.doctors[clinician]
        status = "booked" if self.mode[clinician] == "instant" else "pending"
        self._add(client, clinician, start, start + doctor.length, status, "client", new_id)
        if key is not None:
            self.keys[(client, key)] = (clinician, start, new_id)
        return self._effects(["ok"])

    def predict_cancel(
        self, actor: Actor | None, appointment_id: str, reason: str
    ) -> Refusal | None:
        """The refusal a client cancellation gets, if any."""
        if not isinstance(actor, ClientActor):
            return PermissionDenied
        appt = self.get(appointment_id)
        if appt is None or appt.client != actor.client_id:
            return NotFound
        if self.mode[appt.clinician] == "disabled":
            return SelfSchedulingDisabled
        if not reason.strip():
            return EmptyReason
        if appt.start <= self.now or appt.status not in OPEN:
            return TransitionNotAllowed
        return None

    def cancel(self, appointment_id: str) -> Effects:
        """The client cancelled: ``MISSED``, one chart note, no email."""
        appt = self.appts[appointment_id]
        appt.status = "missed"
        late = appt.start - self.now < self.late_window
        return self._effects(["ok"], notes=[(appointment_id, late)])

    # -- decisions ---------------------------------------------------------------------------------

    def decided(self, appt: Appt) -> bool:
        """Somebody already approved, rejected or expired it: a second decision is a conflict."""
        return appt.approved or appt.status in {"rejected", "expired"}

    def due(self, appt: Appt) -> bool:
        """A pending request that passed its start undecided (there is no time-to-live here)."""
        return appt.status == "pending" and appt.start <= self.now

    def predict_approve(  # noqa: PLR0911  (one return per refusal, in the service's order)
        self, actor: Actor | None, appointment_id: str, location: str | None
    ) -> Refusal | None:
        """The refusal an approval gets, if any."""
        appt = self.visible(actor, appointment_id)
        if appt is None:
            return NotFound
        if not self.may_decide(actor, appt):
            return PermissionDenied
        if self.decided(appt):
            return Conflict
        if self.due(appt):
            return TransitionNotAllowed
        if (location or appt.location) is None:
            return MissingDetails
        if appt.status != "pending":
            return TransitionNotAllowed
        if self.time_taken(appt.client, appt.clinician, appt.start, appt.end, skip=appt.id):
            return SlotUnavailable
        return None

    def approve(self, appointment_id: str, location: str | None) -> Effects:
        """Approved: ``BOOKED``, one email to the client."""
        appt = self.appts[appointment_id]
        appt.status = "booked"
        appt.approved = True
        appt.location = location or appt.location
        return self._effects(["ok"], emails=[("approved", appointment_id)])

    def predict_reject(self, actor: Actor | None, appointment_id: str) -> Refusal | None:
        """The refusal a rejection gets, if any."""
        appt = self.visible(actor, appointment_id)
        if appt is None:
            return NotFound
        if not self.may_decide(actor, appt):
            return PermissionDenied
        if self.decided(appt):
            return Conflict
        if self.due(appt):
            return TransitionNotAllowed
        if appt.status == "pending" or (
            appt.status == "booked" and appt.origin == "client" and not appt.approved
        ):
            return None  # a request, or a client's own instant booking: nobody decided it yet
        return TransitionNotAllowed

    def reject(self, appointment_id: str) -> Effects:
        """Rejected: ``REJECTED``, one email to the client."""
        self.appts[appointment_id].status = "rejected"
        return self._effects(["ok"], emails=[("rejected", appointment_id)])

    def predict_cancel_by_practice(
        self, actor: Actor | None, appointment_id: str
    ) -> Refusal | None:
        """The refusal a practice cancellation gets, if any."""
        appt = self.visible(actor, appointment_id)
        if appt is None:
            return NotFound
        if not self.may_decide(actor, appt):
            return PermissionDenied
        if appt.status != "booked":
            return TransitionNotAllowed
        return None

    def cancel_by_practice(self, appointment_id: str) -> Effects:
        """Cancelled by the practice: ``CANCELLED``, no email, no note."""
        self.appts[appointment_id].status = "cancelled"
        return self._effects(["ok"])

    def predict_book_for_client(
        self, actor: Actor | None, client: str, clinician: str, start: datetime
    ) -> Refusal | None:
        """The refusal a staff booking gets: client rules do not apply, double booking does."""
        allowed = (isinstance(actor, ClinicianActor) and actor.clinician_id == clinician) or (
            isinstance(actor, StaffActor)
            and str(actor.role) in APPROVER_ROLES
            and actor.approves_requests
        )
        if not allowed:
            return PermissionDenied
        end = start + self.doctors[clinician].length
        if self.time_taken(client, clinician, start, end):
            return SlotUnavailable
        return None

    def book_for_client(self, client: str, clinician: str, start: datetime, new_id: str) -> Effects:
        """Staff booked: ``BOOKED`` at once, origin staff."""
        end = start + self.doctors[clinician].length
        self._add(client, clinician, start, end, "booked", "staff", new_id)
        return self._effects(["ok"])

    def predict_expire(self, actor: Actor | None) -> Refusal | None:
        """Only the system expires requests (no actor means the system)."""
        if actor is None or isinstance(actor, SystemActor):
            return None
        return PermissionDenied

    def expire(self) -> Effects:
        """Every pending request that passed its start expires, each with one email."""
        due = sorted((a for a in self.appts.values() if self.due(a)), key=lambda a: a.start)
        for appt in due:
            appt.status = "expired"
        return self._effects(["ok"] * len(due), emails=[("expired", a.id) for a in due])

    # -- views -------------------------------------------------------------------------------------

    def queue(self, actor: Actor | None) -> list[str] | None:
        """The pending requests *actor* may decide (all of them for the system, which reads and
        decides none), soonest first; ``None`` when refused."""
        if isinstance(actor, ClinicianActor):
            scope = [a for a in self.appts.values() if a.clinician == actor.clinician_id]
        elif isinstance(actor, SystemActor) or (
            isinstance(actor, StaffActor)
            and str(actor.role) in APPROVER_ROLES
            and actor.approves_requests
        ):
            scope = list(self.appts.values())
        else:
            return None
        pending = sorted((a for a in scope if a.status == "pending"), key=lambda a: (a.start, a.id))
        return [a.id for a in pending]

    def note_refusal(self) -> None:
        """A refused call: one audit entry, nothing else."""
        self.audit += 1

    def note_view(self) -> Effects:
        """A recorded staff view: one audit entry."""
        return self._effects(["viewed"])

    # -- plumbing ----------------------------------------------------------------------------------

    def _add(
        self,
        client: str,
        clinician: str,
        start: datetime,
        end: datetime,
        status: str,
        origin: str,
        new_id: str,
    ) -> None:
        assert new_id not in self.appts, f"the scheduler reused the id {new_id!r}"
        doctor = self.doctors[clinician]
        location = doctor.weekday_location.get(start.astimezone(doctor.zone).weekday())
        self.appts[new_id] = Appt(new_id, client, clinician, start, end, status, origin, location)

    def _effects(
        self,
        audit: list[str],
        emails: list[tuple[str, str]] | None = None,
        notes: list[tuple[str, bool]] | None = None,
    ) -> Effects:
        effects = Effects(audit, emails or [], notes or [])
        self.audit += len(effects.audit)
        self.emails += len(effects.emails)
        self.notes += len(effects.notes)
        return effects
