"""Who may do what: actors, staff roles and the "approve appointment requests" permission.

Identity is the caller's: it authenticates people and hands selfsched an *actor* value. The rules
here are pure functions of those values.

- A client acts only on its own appointments.
- A clinician acts as a :class:`ClinicianActor`: they may approve, reject and edit their own
  clients' appointments. There is no "clinician" staff role; a clinician who also holds a staff
  role (a clinical director who sees clients) acts as a :class:`StaffActor` for practice-wide work.
- A staff member may approve or reject only with a role among :data:`APPROVER_ROLES` *and* the
  permission switched on; only a System Administrator switches it, and only for those roles.
"""

from __future__ import annotations

import enum
from typing import Literal

import attrs

from selfsched import _validate
from selfsched.errors import InvalidInput, PermissionDenied, WrongType
from selfsched.model import Appointment

__all__ = [
    "APPROVER_ROLES",
    "Actor",
    "ClientActor",
    "ClinicianActor",
    "Role",
    "RoleValue",
    "StaffActor",
    "SystemActor",
    "actor_label",
    "can_decide",
    "can_edit",
    "can_read",
    "can_see_staff_views",
    "check_actor",
    "set_approval_permission",
]


class Role(enum.StrEnum):
    """Practice staff roles.

    There is deliberately no clinician role: a clinician acting on their own schedule is a
    :class:`ClinicianActor`, the one way to act as a clinician.
    """

    SYSTEM_ADMINISTRATOR = "system_administrator"
    ASSISTANT_SYSTEM_ADMINISTRATOR = "assistant_system_administrator"
    CLINICAL_DIRECTOR = "clinical_director"
    SCHEDULER = "scheduler"
    BILLER = "biller"
    FRONT_DESK = "front_desk"


RoleValue = Literal[
    "system_administrator",
    "assistant_system_administrator",
    "clinical_director",
    "scheduler",
    "biller",
    "front_desk",
]
"""The string values a :class:`StaffActor`'s ``role`` accepts besides the :class:`Role` members."""


APPROVER_ROLES = frozenset(
    {
        Role.SYSTEM_ADMINISTRATOR,
        Role.ASSISTANT_SYSTEM_ADMINISTRATOR,
        Role.CLINICAL_DIRECTOR,
        Role.SCHEDULER,
    }
)
"""The roles that *can be configured* to approve appointment requests (the article's list)."""


_ID = _validate.field(_validate.identifier)


def _to_role(value: Role | RoleValue) -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(repr(r.value) for r in Role)
        if isinstance(value, str) and value.strip().lower() == "clinician":
            raise InvalidInput(
                f"'clinician' is not a staff role: a clinician acts on their own clients' "
                f"appointments as ClinicianActor(clinician_id=...). Staff roles are {allowed}."
            ) from None
        raise InvalidInput(f"{value!r} is not a staff role; use one of {allowed}.") from None


@attrs.frozen
class ClientActor:
    """A client signed in to the portal."""

    client_id: str = attrs.field(validator=_ID)


@attrs.frozen
class ClinicianActor:
    """A clinician acting on their own schedule."""

    clinician_id: str = attrs.field(validator=_ID)


@attrs.frozen(kw_only=True)
class StaffActor:
    """A practice staff member with a role and the approval checkbox.

    ``approves_requests`` is the checkbox on the staff page. It has effect only for a role in
    :data:`APPROVER_ROLES`; for any other role the checkbox is inactive and the value is ignored.
    """

    staff_id: str = attrs.field(validator=_ID)
    role: Role = attrs.field(converter=_to_role)
    approves_requests: bool = attrs.field(default=False, validator=_validate.field(_validate.flag))

    @property
    def may_approve(self) -> bool:
        """The role is one that can approve and the permission is on."""
        return self.approves_requests and self.role in APPROVER_ROLES


@attrs.frozen
class SystemActor:
    """The library itself, or the backend's own jobs (a nightly export, a sync).

    It expires undecided requests (:meth:`~selfsched.Scheduler.expire_due`) and may read what a
    job needs: a clinician's schedule, the whole approval queue and one appointment. It decides
    nothing. Name each job (``SystemActor("nightly-export")``): the audit records it as
    ``system:<name>``.
    """

    name: str = attrs.field(default="system", validator=_ID)


Actor = ClientActor | ClinicianActor | StaffActor | SystemActor

_ACTORS = (ClientActor, ClinicianActor, StaffActor, SystemActor)


def check_actor(value: object, name: str = "actor") -> Actor | None:
    """*value* if it is an actor or ``None`` (nobody signed in); :class:`WrongType` otherwise."""
    if value is None or isinstance(value, _ACTORS):
        return value
    # The value is not quoted: a caller who passes the wrong thing may well pass a person's name.
    raise WrongType(
        name, "a ClientActor, ClinicianActor, StaffActor, SystemActor or None", value, show=False
    )


def actor_label(actor: object) -> str:
    """A stable, PHI-free label for audit records: ``kind:id``."""
    match actor:
        case ClientActor(client_id=cid):
            return f"client:{cid}"
        case ClinicianActor(clinician_id=cid):
            return f"clinician:{cid}"
        case StaffActor(staff_id=sid, role=role):
            return f"staff:{sid}:{role}"
        case SystemActor(name=name):
            return f"system:{name}"
        case None:
            return "anonymous"
        case _:
            return f"invalid:{type(actor).__name__}"


def can_decide(actor: Actor | None, appointment: Appointment) -> bool:
    """May *actor* approve or reject *appointment*?"""
    match actor:
        case ClinicianActor(clinician_id=cid):
            return cid == appointment.clinician_id
        case StaffActor():
            return actor.may_approve
        case _:
            return False


def can_read(actor: Actor | None, clinician_id: str | None = None) -> bool:
    """May *actor* read *clinician_id*'s appointments (schedules, one appointment, the queue)?

    Whoever sees staff views, and the system (the backend's own jobs).
    """
    return isinstance(actor, SystemActor) or can_see_staff_views(actor, clinician_id)


def can_edit(actor: Actor | None, appointment: Appointment) -> bool:
    """May *actor* change location, service code or modifier of *appointment*?

    The clinician of the appointment, and staff who may decide requests.
    """
    return can_decide(actor, appointment)


def can_see_staff_views(actor: Actor | None, clinician_id: str | None = None) -> bool:
    """May *actor* see staff views (schedules, explain) of *clinician_id*'s calendar?"""
    match actor:
        case ClinicianActor(clinician_id=cid):
            return clinician_id is None or cid == clinician_id
        case StaffActor():
            return True
        case _:
            return False


def set_approval_permission(by: Actor | None, member: StaffActor, *, enabled: bool) -> StaffActor:
    """Switch *member*'s "approve appointment requests" checkbox; return the changed member.

    Only a System Administrator may switch it, and only on for a role in
    :data:`APPROVER_ROLES` (switching it off is always allowed to an administrator).
    """
    check_actor(by, "by")
    _validate.instance("member", member, StaffActor, "a StaffActor")
    _validate.flag("enabled", enabled)
    if not (isinstance(by, StaffActor) and by.role is Role.SYSTEM_ADMINISTRATOR):
        raise PermissionDenied("Only a System Administrator can change who approves requests.")
    if enabled and member.role not in APPROVER_ROLES:
        allowed = ", ".join(sorted(r.value for r in APPROVER_ROLES))
        raise PermissionDenied(
            f"The {member.role} role cannot approve appointment requests; give the staff member "
            f"one of these roles first: {allowed}."
        )
    return attrs.evolve(member, approves_requests=enabled)
