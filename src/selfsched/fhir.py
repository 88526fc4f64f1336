"""FHIR R4 scheduling resources, as plain dicts ready for ``json.dumps``.

Out: a clinician's ``Schedule`` (:func:`schedule_to_fhir`); slots as ``Slot`` resources
(:func:`slot_to_fhir`) and as a ``searchset`` ``Bundle`` (:func:`slot_bundle`); appointments as
``Appointment`` resources (:func:`appointment_to_fhir`). In: ``Appointment`` resources become
:class:`~selfsched.Appointment` values (:func:`appointment_from_fhir`), busy ``Slot`` resources
one-off :class:`~selfsched.CalendarEvent` values (:func:`busy_from_fhir`), and a ``Bundle`` of
both a :class:`FhirImport` (:func:`read_bundle`), so that a backend can feed the slot calculator
from its FHIR server.

References to patients, practitioners, locations and schedules are built by the functions of a
:class:`Refs` (by default the ids as they are: ``Patient/<client_id>``), so that the ids of your
FHIR server appear. How each :class:`~selfsched.AppointmentStatus` is written is the table
:data:`STATUS_TABLE`. What FHIR has no element for (selfsched's exact status, who created the
appointment, the decision, the cancellation time, the late flag, the code modifier) travels in
extensions whose URLs start with :attr:`Refs.base`, so that an appointment written out reads back
equal. A client's free-text cancellation reason is never written: it stays in the chart.

A slot as a client sees it is ``free`` or ``busy`` and nothing else: no comment, no extension,
nothing that tells why. Staff slots (:class:`~selfsched.slots.ExplainedSlot`) may also be
``busy-tentative`` (only a pending request is in the way) or ``busy-unavailable`` (only a rule
is: notice, horizon, buffer, a cap).

Everything here is pure: no I/O and no clock. A resource that cannot be read raises
:class:`~selfsched.errors.InvalidFhirResource` naming the element at fault.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final

import attrs

from selfsched import _time, _validate
from selfsched.errors import InvalidFhirResource, InvalidInput, WrongType
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    CalendarEvent,
    Clinician,
    Origin,
)
from selfsched.slots import ExplainedSlot, Reason, Slot

__all__ = [
    "CANCELLATION_REASON",
    "CPT",
    "DEFAULT_BASE",
    "STATUS_TABLE",
    "FhirImport",
    "Refs",
    "StatusRow",
    "appointment_from_fhir",
    "appointment_to_fhir",
    "busy_from_fhir",
    "read_bundle",
    "schedule_to_fhir",
    "slot_bundle",
    "slot_to_fhir",
]

Resource = dict[str, Any]
"""A FHIR resource as JSON: what ``json.loads`` gives and ``json.dumps`` takes."""

CPT: Final = "http://www.ama-assn.org/go/cpt"
"""The system of CPT codes (and of CPT modifiers, which are CPT codes too)."""

CANCELLATION_REASON: Final = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"
"""HL7's code system of appointment cancellation reasons (``pat``, ``prov``, ``other``, ...)."""

DEFAULT_BASE: Final = "https://selfsched.invalid/fhir"
"""Where selfsched's own extensions and identifier system are named unless :attr:`Refs.base`
says otherwise. ``.invalid`` is a reserved domain that never resolves: give your own base, a URL
your organisation controls, before exchanging resources with another system."""

_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_CODE = re.compile(r"\S+( \S+)*")
_REFERENCE = re.compile(
    r"(?:^|/)(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})"
    r"(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
)
_TYPE_OF = re.compile(r"(?:^|/)(?P<type>[A-Z][A-Za-z]+)/[^/]+(?:/_history/[^/]+)?$")
"""The resource type a reference names, whatever the shape of its id."""
_INSTANT = re.compile(
    r"-?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?P<offset>Z|[+-]\d{2}:\d{2})?"
)


# -- references -----------------------------------------------------------------------------------


def _as_is(kind: str, field: str, option: str) -> Callable[[str], str]:
    """``"<kind>/<id>"`` for an id that is a FHIR id; an actionable error for one that is not."""

    def reference(identifier: str) -> str:
        if not _FHIR_ID.fullmatch(identifier):
            raise InvalidInput(
                f"{field} {identifier!r} cannot be a FHIR id as it is (FHIR ids are 1 to 64 "
                f"letters, digits, '-' and '.'); give Refs({option}=...) a function that "
                f"returns your FHIR server's {kind} reference for it."
            )
        return f"{kind}/{identifier}"

    reference.__name__ = f"{option}_as_is"
    return reference


def _id_of(kind: str) -> Callable[[str], str | None]:
    """The id of a ``<kind>/<id>`` reference (relative, absolute or versioned), else ``None``."""

    def identifier(reference: str) -> str | None:
        match = _REFERENCE.search(reference)
        return match["id"] if match and match["type"] == kind else None

    identifier.__name__ = f"{kind.lower()}_id"
    return identifier


def _no_reference(name: str) -> str | None:
    """Locations are written by name only (``actor.display``), without a reference."""
    return None


def _base(value: str) -> str:
    text = _validate.text("base", value)
    if not text or any(ch.isspace() for ch in text):
        raise InvalidInput(
            f"base={text!r} is not a URL; give one your organisation controls, such as "
            f"'https://fhir.example-clinic.org/selfsched'."
        )
    return text.rstrip("/")


_PATIENT = _as_is("Patient", "client_id", "patient")
_PRACTITIONER = _as_is("Practitioner", "clinician_id", "practitioner")
_SCHEDULE = _as_is("Schedule", "clinician_id", "schedule")
_PATIENT_ID = _id_of("Patient")
_PRACTITIONER_ID = _id_of("Practitioner")
_LOCATION_ID = _id_of("Location")


@attrs.frozen(kw_only=True)
class Refs:
    """How selfsched's ids become FHIR references and back, and where its extensions live.

    The first four functions write references: each takes a selfsched id (a location's name)
    and returns a reference such as ``"Patient/123"`` or
    ``"https://ehr.example/fhir/Patient/123"``. By default the ids are used as they are, and an
    id that is not a FHIR id raises :class:`~selfsched.errors.InvalidInput` saying which
    function to give. ``location`` may return ``None``: the location is then written by name
    only (the default).

    The last three read references back: each takes a reference and returns the selfsched id
    (the location's name), or ``None`` when it cannot, which is reported as
    :class:`~selfsched.errors.InvalidFhirResource` naming the element. By default they take the
    id out of a ``Type/id`` reference (relative, absolute or versioned) of the right type. A
    location written with a ``display`` reads back as that name without calling
    ``location_name``.

    ``base`` is the URL under which selfsched's extensions (``{base}/StructureDefinition/...``)
    and its appointment identifier system (``{base}/appointment-id``) are named.
    """

    patient: Callable[[str], str] = _PATIENT
    practitioner: Callable[[str], str] = _PRACTITIONER
    schedule: Callable[[str], str] = _SCHEDULE
    location: Callable[[str], str | None] = _no_reference
    client_id: Callable[[str], str | None] = _PATIENT_ID
    clinician_id: Callable[[str], str | None] = _PRACTITIONER_ID
    location_name: Callable[[str], str | None] = _LOCATION_ID
    base: str = attrs.field(default=DEFAULT_BASE, converter=_base)

    def extension(self, name: str) -> str:
        """The URL of one of selfsched's extensions, e.g. ``extension("late-cancellation")``."""
        return f"{self.base}/StructureDefinition/{name}"

    @property
    def identifier_system(self) -> str:
        """The ``Identifier.system`` under which an appointment's selfsched id is written."""
        return f"{self.base}/appointment-id"


_REFS = Refs()


def _reference(value: object, what: str) -> str:
    """A caller's function returned *value* for a reference: it must be a non-empty string."""
    if not isinstance(value, str) or not value or any(ch.isspace() for ch in value):
        raise InvalidInput(
            f"Refs.{what} returned {value!r}; a reference is a string without spaces such as "
            f"'Patient/123'."
        )
    return value


# -- the status table -----------------------------------------------------------------------------


@attrs.frozen
class StatusRow:
    """How one :class:`~selfsched.AppointmentStatus` is written as an R4 ``Appointment``."""

    status: AppointmentStatus
    fhir_status: str
    """``Appointment.status``."""
    reason: str | None
    """``Appointment.cancelationReason``: a code of :data:`CANCELLATION_REASON`, or none."""
    patient: str
    """The patient participant's ``status``."""
    practitioner: str
    """The practitioner participant's ``status``."""


_S = AppointmentStatus

STATUS_TABLE: Final[tuple[StatusRow, ...]] = (
    StatusRow(_S.PENDING, "pending", None, "accepted", "needs-action"),
    StatusRow(_S.BOOKED, "booked", None, "accepted", "accepted"),
    StatusRow(_S.MISSED, "cancelled", "pat-cpp", "declined", "accepted"),
    StatusRow(_S.REJECTED, "cancelled", "prov", "accepted", "declined"),
    StatusRow(_S.CANCELLED, "cancelled", "prov", "accepted", "declined"),
    StatusRow(_S.EXPIRED, "cancelled", "other", "accepted", "needs-action"),
)
"""Each selfsched status as an R4 ``Appointment``, one row each.

A pending request is ``pending``: the client has accepted the time they asked for, the
clinician has not answered (``proposed`` would say that nobody has accepted anything). Every
final status is ``cancelled``, never ``noshow``: a client who cancels (``missed`` on the
schedule) did not fail to turn up. The cancellation reason says who cancelled: the patient
through the portal (``pat-cpp``), the provider (``prov``) for a rejection or a practice
cancellation, ``other`` for a request that expired undecided. The exact status, and for a
client cancellation whether it was late, travel in extensions (see :class:`Refs`)."""

_BY_STATUS: Final = {row.status: row for row in STATUS_TABLE}

_REASON_DISPLAY: Final = {
    "pat-cpp": "Patient: Canceled via Patient Portal",
    "prov": "Provider",
    "other": "Other",
}

# R4 value sets with a required binding, for reading.
_APPOINTMENT_STATUSES: Final = (
    "proposed",
    "pending",
    "booked",
    "arrived",
    "fulfilled",
    "cancelled",
    "noshow",
    "entered-in-error",
    "checked-in",
    "waitlist",
)
_HOLDING: Final = frozenset({"booked", "arrived", "checked-in", "fulfilled"})
_NO_SELFSCHED_STATUS: Final = {
    "noshow": "a no-show has no selfsched status (a client who cancels is 'missed')",
    "entered-in-error": "the appointment was entered in error; leave it out",
    "waitlist": "a waitlist entry has no time on the schedule; leave it out",
}
_SLOT_STATUSES: Final = ("busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error")
_NOT_BUSY: Final = frozenset({"free", "entered-in-error"})


# -- writing --------------------------------------------------------------------------------------


def _instant(value: datetime, z: tzinfo) -> str:
    """An instant with its UTC offset in *z*; in UTC where *z*'s offset is not whole minutes."""
    local = value.astimezone(z)
    offset = local.utcoffset()
    if offset is None or offset % timedelta(minutes=1):
        local = value.astimezone(UTC)
    return local.isoformat()


def _code(name: str, value: str | None) -> str | None:
    """A FHIR code, or ``None`` for no value (blank text is no value in FHIR)."""
    if value is None or not value.strip():
        return None
    if not _CODE.fullmatch(value):
        raise InvalidInput(
            f"{name}={value!r} cannot be a FHIR code: remove the spaces around it and "
            f"any run of spaces or line break inside it."
        )
    return value


def _service_type(code: str | None, modifier: str | None, refs: Refs) -> Resource | None:
    """The CPT code as ``serviceType``, the modifier as a CPT coding in an extension on it."""
    code, modifier = _code("service_code", code), _code("code_modifier", modifier)
    concept: Resource = {}
    if modifier is not None:
        concept["extension"] = [
            {
                "url": refs.extension("cpt-modifier"),
                "valueCoding": {"system": CPT, "code": modifier},
            }
        ]
    if code is not None:
        concept["coding"] = [{"system": CPT, "code": code}]
    return concept or None


def _participant(actor: Resource, status: str) -> Resource:
    return {"actor": actor, "required": "required", "status": status}


def appointment_to_fhir(
    appointment: Appointment, *, refs: Refs = _REFS, zone: str = "UTC"
) -> Resource:
    """An R4 ``Appointment`` for *appointment*; instants are written with *zone*'s offset.

    The status is written as :data:`STATUS_TABLE` says. ``id`` is the appointment's id when
    that is a FHIR id; the id is always in ``identifier`` too (system
    :attr:`Refs.identifier_system`). ``meta.versionId`` is the version, ``created`` the
    creation time, ``serviceType`` the CPT code. The participants are the patient, the
    practitioner and, when there is one, the location. Text left blank (``""``) is written as
    no value, which FHIR has no other way to say.
    """
    _validate.instance("appointment", appointment, Appointment, "an Appointment")
    _validate.instance("refs", refs, Refs, "a Refs")
    z = _time.zone(zone)
    row = _BY_STATUS[appointment.status]
    resource: Resource = {"resourceType": "Appointment"}
    if _FHIR_ID.fullmatch(appointment.id):
        resource["id"] = appointment.id
    resource["meta"] = {"versionId": str(appointment.version)}
    resource["extension"] = _extensions(appointment, refs, z)
    resource["identifier"] = [{"system": refs.identifier_system, "value": appointment.id}]
    resource["status"] = row.fhir_status
    if row.reason is not None:
        coding = {
            "system": CANCELLATION_REASON,
            "code": row.reason,
            "display": _REASON_DISPLAY[row.reason],
        }
        resource["cancelationReason"] = {"coding": [coding]}
    service = _service_type(appointment.service_code, appointment.code_modifier, refs)
    if service is not None:
        resource["serviceType"] = [service]
    resource["start"] = _instant(appointment.start, z)
    resource["end"] = _instant(appointment.end, z)
    if appointment.created_at is not None:
        resource["created"] = _instant(appointment.created_at, z)
    patient = _reference(refs.patient(appointment.client_id), "patient")
    practitioner = _reference(refs.practitioner(appointment.clinician_id), "practitioner")
    participants = [
        _participant({"reference": patient, "type": "Patient"}, row.patient),
        _participant({"reference": practitioner, "type": "Practitioner"}, row.practitioner),
    ]
    location = appointment.location
    if location is not None and location.strip():
        actor: Resource = {"type": "Location", "display": location}
        found = refs.location(location)
        if found is not None:
            actor = {"reference": _reference(found, "location"), **actor}
        participants.append(_participant(actor, "accepted"))
    resource["participant"] = participants
    return resource


def _extensions(appointment: Appointment, refs: Refs, z: tzinfo) -> list[Resource]:
    found: list[Resource] = [
        {"url": refs.extension("appointment-status"), "valueCode": str(appointment.status)},
        {"url": refs.extension("origin"), "valueCode": str(appointment.origin)},
    ]
    if appointment.status is AppointmentStatus.MISSED or appointment.late_cancellation:
        found.append(
            {
                "url": refs.extension("late-cancellation"),
                "valueBoolean": appointment.late_cancellation,
            }
        )
    if appointment.decided_at is not None:
        found.append(
            {"url": refs.extension("decided"), "valueDateTime": _instant(appointment.decided_at, z)}
        )
    if appointment.decided_by is not None and appointment.decided_by.strip():
        found.append({"url": refs.extension("decided-by"), "valueString": appointment.decided_by})
    if appointment.cancelled_at is not None:
        found.append(
            {
                "url": refs.extension("cancelled"),
                "valueDateTime": _instant(appointment.cancelled_at, z),
            }
        )
    return found


def schedule_to_fhir(clinician: Clinician, *, refs: Refs = _REFS) -> Resource:
    """The clinician's R4 ``Schedule``: active, its actor the practitioner (with the
    clinician's name as ``display``), its ``serviceType`` the clinician's default CPT code.

    ``id`` is the id in :attr:`Refs.schedule`'s reference for the clinician.
    """
    _validate.instance("clinician", clinician, Clinician, "a Clinician")
    _validate.instance("refs", refs, Refs, "a Refs")
    resource: Resource = {"resourceType": "Schedule"}
    match = _REFERENCE.search(_reference(refs.schedule(clinician.id), "schedule"))
    if match and match["type"] == "Schedule":
        resource["id"] = match["id"]
    resource["active"] = True
    service = _service_type(clinician.service_code, None, refs)
    if service is not None:
        resource["serviceType"] = [service]
    actor: Resource = {
        "reference": _reference(refs.practitioner(clinician.id), "practitioner"),
        "type": "Practitioner",
    }
    if clinician.name.strip():
        actor["display"] = clinician.name
    resource["actor"] = [actor]
    return resource


_SCHEDULED: Final = frozenset({Reason.BOOKED, Reason.CALENDAR_EVENT, Reason.PENDING})


def _slot_status(slot: Slot | ExplainedSlot) -> str:
    if isinstance(slot, Slot):
        return "free" if slot.available else "busy"
    if not slot.reasons:
        return "free"
    if slot.reasons == {Reason.PENDING}:
        return "busy-tentative"
    return "busy" if slot.reasons & _SCHEDULED else "busy-unavailable"


def slot_to_fhir(
    slot: Slot | ExplainedSlot,
    clinician: Clinician,
    *,
    refs: Refs = _REFS,
    zone: str | None = None,
) -> Resource:
    """An R4 ``Slot`` of the clinician's schedule; instants with the offset of *zone* (by
    default the clinician's).

    A client's :class:`~selfsched.Slot` is ``free`` or ``busy``, and nothing else says why. A
    staff :class:`~selfsched.slots.ExplainedSlot` is ``free``; ``busy-tentative`` when a
    pending request is all that is in the way; ``busy`` when an appointment, a request or a
    calendar event is; ``busy-unavailable`` when only a rule is (notice, horizon, buffer, the
    daily maximum, the client's cap or another of the client's appointments). The reasons
    themselves are not written.

    ``id`` is a UUID derived from the schedule reference and the slot's start and end, so the
    same slot keeps its id from one answer to the next.
    """
    if not isinstance(slot, Slot | ExplainedSlot):
        raise WrongType("slot", "a Slot or an ExplainedSlot", slot)
    _validate.instance("clinician", clinician, Clinician, "a Clinician")
    _validate.instance("refs", refs, Refs, "a Refs")
    z = _time.zone(clinician.zone if zone is None else zone)
    start, end = _time.to_utc("slot.start", slot.start), _time.to_utc("slot.end", slot.end)
    schedule = _reference(refs.schedule(clinician.id), "schedule")
    key = f"{schedule} {start.isoformat()} {end.isoformat()}"
    resource: Resource = {
        "resourceType": "Slot",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
    }
    service = _service_type(clinician.service_code, None, refs)
    if service is not None:
        resource["serviceType"] = [service]
    resource["schedule"] = {"reference": schedule}
    resource["status"] = _slot_status(slot)
    resource["start"] = _instant(start, z)
    resource["end"] = _instant(end, z)
    return resource


def slot_bundle(
    slots: Iterable[Slot | ExplainedSlot],
    clinician: Clinician,
    *,
    refs: Refs = _REFS,
    zone: str | None = None,
) -> Resource:
    """The slots as a ``searchset`` ``Bundle``, each entry a match (:func:`slot_to_fhir`).

    ``total`` is the number of slots; each ``fullUrl`` is ``urn:uuid:`` and the slot's id. Pass
    only the available slots to answer "which times are free?".
    """
    resources = [slot_to_fhir(slot, clinician, refs=refs, zone=zone) for slot in slots]
    bundle: Resource = {"resourceType": "Bundle", "type": "searchset", "total": len(resources)}
    if resources:  # FHIR JSON has no empty arrays
        bundle["entry"] = [
            {
                "fullUrl": f"urn:uuid:{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ]
    return bundle


# -- reading --------------------------------------------------------------------------------------


def _kind(value: object) -> str:
    """The JSON kind of *value*, for messages (never the value: it may be a client's name)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return "null" if value is None else f"a {type(value).__name__}"


def _parse_instant(path: str, text: str) -> datetime:
    match = _INSTANT.fullmatch(text)
    if match is None:
        raise InvalidFhirResource(
            path,
            f"{text!r} is not an instant; write the date, the time to the second and the UTC "
            f"offset, e.g. '2026-03-10T09:00:00-05:00'.",
        )
    if match["offset"] is None:
        raise InvalidFhirResource(
            path,
            f"{text!r} has no UTC offset, so it names no instant; add the offset of the clock "
            f"it was read on, e.g. '{text}-05:00', or 'Z' for UTC.",
        )
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidFhirResource(path, f"{text!r} is not a date and time that exists.") from None
    try:
        return _time.in_span(path, value)
    except InvalidInput:
        raise InvalidFhirResource(
            path,
            f"{text!r} is outside the dates selfsched computes with ({_time.FIRST_DAY} to "
            f"{_time.LAST_DAY}, UTC).",
        ) from None


class _Node:
    """A JSON object of a resource and its FHIRPath, for messages that name the element."""

    __slots__ = ("path", "value")

    def __init__(self, value: object, path: str) -> None:
        if not isinstance(value, Mapping):
            raise InvalidFhirResource(path, f"must be a JSON object, got {_kind(value)}.")
        self.value: Mapping[str, Any] = value
        self.path = path

    def at(self, name: str) -> str:
        return f"{self.path}.{name}"

    def string(self, name: str) -> str | None:
        """The string *name*, or ``None`` when it is absent."""
        value = self.value.get(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise InvalidFhirResource(
                self.at(name), f"must be a non-empty string, got {_kind(value)}."
            )
        return value

    def need(self, name: str, why: str) -> str:
        """The string *name*; its absence is an error that says *why* it is needed."""
        value = self.string(name)
        if value is None:
            raise InvalidFhirResource(self.at(name), f"is missing; {why}")
        return value

    def flag(self, name: str) -> bool | None:
        value = self.value.get(name)
        if value is not None and not isinstance(value, bool):
            raise InvalidFhirResource(self.at(name), f"must be true or false, got {_kind(value)}.")
        return value

    def instant(self, name: str) -> datetime | None:
        text = self.string(name)
        return None if text is None else _parse_instant(self.at(name), text)

    def need_instant(self, name: str, why: str) -> datetime:
        return _parse_instant(self.at(name), self.need(name, why))

    def need_span(self, why: str) -> tuple[datetime, datetime]:
        """The instants ``start`` and ``end``, the end after the start; their absence is an
        error that says *why* they are needed."""
        start = self.need_instant("start", why)
        end = self.need_instant("end", why)
        if end <= start:
            raise InvalidFhirResource(
                self.at("end"),
                f"{self.value['end']!r} is not after the start {self.value['start']!r}.",
            )
        return start, end

    def child(self, name: str) -> _Node | None:
        value = self.value.get(name)
        return None if value is None else _Node(value, self.at(name))

    def children(self, name: str) -> list[_Node]:
        value = self.value.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise InvalidFhirResource(self.at(name), f"must be a JSON array, got {_kind(value)}.")
        return [_Node(item, f"{self.path}.{name}[{i}]") for i, item in enumerate(value)]

    def extension(self, url: str) -> _Node | None:
        """The first extension with *url*, or ``None``."""
        for found in self.children("extension"):
            if found.need("url", "an extension names its definition.") == url:
                return found
        return None


def _resource(value: object, kind: str, path: str) -> _Node:
    node = _Node(value, path)
    found = node.value.get("resourceType")
    if found != kind:
        shown = repr(found) if isinstance(found, str) else _kind(found)
        raise InvalidFhirResource(
            node.at("resourceType"), f"is {shown}; this function reads {kind} resources."
        )
    return node


def _own_status(found: _Node) -> AppointmentStatus:
    code = found.need("valueCode", "the extension carries a selfsched status.")
    try:
        return AppointmentStatus(code)
    except ValueError:
        allowed = ", ".join(repr(s.value) for s in AppointmentStatus)
        raise InvalidFhirResource(
            found.at("valueCode"), f"{code!r} is not a selfsched status; it is one of {allowed}."
        ) from None


def _patient_cancelled(node: _Node) -> bool:
    reason = node.child("cancelationReason")
    for coding in [] if reason is None else reason.children("coding"):
        code = coding.string("code") or ""
        if coding.string("system") == CANCELLATION_REASON and code.split("-")[0] == "pat":
            return True
    return False


def _read_status(node: _Node, refs: Refs) -> AppointmentStatus:
    path = node.at("status")
    code = node.need("status", "every appointment has a status.")
    if code not in _APPOINTMENT_STATUSES:
        raise InvalidFhirResource(
            path,
            f"{code!r} is not an R4 appointment status; it is one of "
            f"{', '.join(_APPOINTMENT_STATUSES)}.",
        )
    if code in _NO_SELFSCHED_STATUS:
        raise InvalidFhirResource(path, f"{code!r}: {_NO_SELFSCHED_STATUS[code]}.")
    found = node.extension(refs.extension("appointment-status"))
    if found is not None:
        own = _own_status(found)
        # The extension refines the status it was written with; a status changed since (by
        # another system) wins over it.
        if _BY_STATUS[own].fhir_status == code:
            return own
    if code in {"proposed", "pending"}:
        return AppointmentStatus.PENDING
    if code in _HOLDING:
        return AppointmentStatus.BOOKED
    return AppointmentStatus.MISSED if _patient_cancelled(node) else AppointmentStatus.CANCELLED


def _read_id(node: _Node, refs: Refs) -> str:
    for identifier in node.children("identifier"):
        if identifier.string("system") == refs.identifier_system:
            return identifier.need("value", "the identifier holds the appointment id.")
    return node.need(
        "id",
        f"selfsched needs the appointment's id, here or in an identifier of system "
        f"{refs.identifier_system!r}.",
    )


def _read_back(actor: _Node, read: Callable[[str], str | None], option: str, what: str) -> str:
    path = actor.at("reference")
    reference = actor.need("reference", f"selfsched needs {what} from it.")
    found = read(reference)
    if not _validate.is_identifier(found):
        raise InvalidFhirResource(
            path,
            f"{reference!r} does not give {what}; give Refs({option}=...) a function that "
            f"reads your server's references.",
        )
    return found


def _actor_type(actor: _Node) -> str | None:
    kind = actor.string("type")
    if kind is None:
        reference = actor.string("reference")
        match = None if reference is None else _TYPE_OF.search(reference)
        kind = None if match is None else match["type"]
    return kind


def _read_participants(node: _Node, refs: Refs) -> tuple[str, str, str | None]:
    participants = node.children("participant")
    if not participants:
        raise InvalidFhirResource(
            node.at("participant"),
            "is missing or empty; an appointment has at least one participant.",
        )
    found: dict[str, str | None] = {}
    for participant in participants:
        actor = participant.child("actor")
        kind = None if actor is None else _actor_type(actor)
        if actor is None or kind not in {"Patient", "Practitioner", "Location"}:
            continue  # other actors (devices, related persons, roles) have no selfsched field
        if kind in found:
            raise InvalidFhirResource(
                participant.path,
                f"is a second {kind}; a selfsched appointment has one client, one clinician "
                f"and at most one location.",
            )
        if kind == "Patient":
            found[kind] = _read_back(actor, refs.client_id, "client_id", "the client's id")
        elif kind == "Practitioner":
            found[kind] = _read_back(actor, refs.clinician_id, "clinician_id", "the clinician's id")
        else:
            display = actor.string("display")
            found[kind] = display or _read_back(
                actor, refs.location_name, "location_name", "the location's name"
            )
    for kind, who in (("Patient", "client"), ("Practitioner", "clinician")):
        if found.get(kind) is None:
            raise InvalidFhirResource(
                node.at("participant"),
                f"has no {kind}; selfsched needs the {who} (an actor of type {kind}, or a "
                f"{kind}/... reference).",
            )
    return str(found["Patient"]), str(found["Practitioner"]), found.get("Location")


def _read_service(node: _Node, refs: Refs) -> tuple[str | None, str | None]:
    for concept in node.children("serviceType"):
        code = modifier = None
        for coding in concept.children("coding"):
            if coding.string("system") == CPT:
                code = coding.need("code", "a CPT coding has a code.")
                break
        found = concept.extension(refs.extension("cpt-modifier"))
        if found is not None:
            value = found.child("valueCoding")
            if value is None:
                raise InvalidFhirResource(
                    found.at("valueCoding"), "is missing; it holds the modifier."
                )
            modifier = value.need("code", "the modifier is a CPT code.")
        if code is not None or modifier is not None:
            return code, modifier
    return None, None


def _read_version(node: _Node) -> int:
    meta = node.child("meta")
    text = None if meta is None else meta.string("versionId")
    if text is None:
        return 1
    if not text.isascii() or not text.isdigit():
        raise InvalidFhirResource(
            node.at("meta.versionId"),
            f"{text!r} is not a whole number; selfsched counts an appointment's versions.",
        )
    return int(text)


def _ext_value(node: _Node, refs: Refs, name: str, element: str) -> _Node | None:
    found = node.extension(refs.extension(name))
    if found is not None and element not in found.value:
        raise InvalidFhirResource(found.at(element), f"is missing; the {name} extension has one.")
    return found


def _read_origin(node: _Node, refs: Refs) -> Origin:
    found = _ext_value(node, refs, "origin", "valueCode")
    if found is None:
        return Origin.STAFF  # made in another system, not booked by a client in selfsched
    code = found.need("valueCode", "the extension carries an origin.")
    try:
        return Origin(code)
    except ValueError:
        raise InvalidFhirResource(
            found.at("valueCode"), f"{code!r} is not an origin; it is 'client' or 'staff'."
        ) from None


def _read_appointment(node: _Node, refs: Refs) -> Appointment:
    status = _read_status(node, refs)
    appointment_id = _read_id(node, refs)
    start, end = node.need_span(
        "selfsched needs an appointment's start and end (one without them cannot be read)."
    )
    client_id, clinician_id, location = _read_participants(node, refs)
    service_code, modifier = _read_service(node, refs)
    late = _ext_value(node, refs, "late-cancellation", "valueBoolean")
    decided = _ext_value(node, refs, "decided", "valueDateTime")
    decided_by = _ext_value(node, refs, "decided-by", "valueString")
    cancelled = _ext_value(node, refs, "cancelled", "valueDateTime")
    try:
        return Appointment(
            id=appointment_id,
            client_id=client_id,
            clinician_id=clinician_id,
            start=start,
            end=end,
            status=status,
            service_code=service_code,
            code_modifier=modifier,
            location=location,
            origin=_read_origin(node, refs),
            created_at=node.instant("created"),
            decided_at=None if decided is None else decided.instant("valueDateTime"),
            decided_by=None if decided_by is None else decided_by.string("valueString"),
            cancelled_at=None if cancelled is None else cancelled.instant("valueDateTime"),
            late_cancellation=bool(late is not None and late.flag("valueBoolean")),
            version=_read_version(node),
        )
    except InvalidFhirResource:
        raise
    except InvalidInput as exc:
        raise InvalidFhirResource(node.path, str(exc)) from exc


def appointment_from_fhir(resource: Mapping[str, Any], *, refs: Refs = _REFS) -> Appointment:
    """The :class:`~selfsched.Appointment` an R4 ``Appointment`` resource describes.

    An appointment written by :func:`appointment_to_fhir` with the same *refs* reads back
    equal. One from another system reads as :data:`STATUS_TABLE` says in reverse: ``proposed``
    and ``pending`` are ``PENDING``; ``booked``, ``arrived``, ``checked-in`` and ``fulfilled``
    are ``BOOKED`` (the time is taken); ``cancelled`` is ``MISSED`` when the cancellation
    reason is the patient's (``pat`` or a ``pat-`` code), else ``CANCELLED``. Its id is the
    resource id, its origin ``staff``, its version ``meta.versionId`` (1 without one).

    Raises :class:`~selfsched.errors.InvalidFhirResource`, naming the element, for another
    resource type, a status selfsched has no meaning for (``noshow``, ``entered-in-error``,
    ``waitlist``) or that R4 does not define, a missing or naive ``start`` or ``end``, and a
    missing patient or practitioner.
    """
    _validate.instance("refs", refs, Refs, "a Refs")
    return _read_appointment(_resource(resource, "Appointment", "Appointment"), refs)


def _read_slot(node: _Node) -> CalendarEvent | None:
    path = node.at("status")
    status = node.need("status", "every slot has a status.")
    if status not in _SLOT_STATUSES:
        raise InvalidFhirResource(
            path, f"{status!r} is not an R4 slot status; it is one of {', '.join(_SLOT_STATUSES)}."
        )
    start, end = node.need_span("every slot has a start and an end.")
    if status in _NOT_BUSY:
        return None
    return CalendarEvent.one_off(start, end, id=node.string("id") or "")


def busy_from_fhir(resource: Mapping[str, Any]) -> CalendarEvent | None:
    """A one-off :class:`~selfsched.CalendarEvent` for a busy R4 ``Slot``, or ``None``.

    ``busy``, ``busy-unavailable`` and ``busy-tentative`` slots block their time (the event's
    id is the slot's id); ``free`` and ``entered-in-error`` slots block nothing. Raises
    :class:`~selfsched.errors.InvalidFhirResource` for another resource type, a status R4 does
    not define, or a missing or naive ``start`` or ``end``.
    """
    return _read_slot(_resource(resource, "Slot", "Slot"))


@attrs.frozen
class FhirImport:
    """What :func:`read_bundle` found: appointments, and the busy time of busy slots."""

    appointments: tuple[Appointment, ...]
    events: tuple[CalendarEvent, ...]


_CONTEXT_ONLY: Final = frozenset({"include", "outcome"})


def read_bundle(bundle: Mapping[str, Any], *, refs: Refs = _REFS) -> FhirImport:
    """The appointments and busy slots of a ``Bundle`` (any type, such as a ``searchset``).

    Entries found only for context (``search.mode`` ``include`` or ``outcome``) are skipped;
    any other entry must be an ``Appointment`` (:func:`appointment_from_fhir`) or a ``Slot``
    (:func:`busy_from_fhir`), else :class:`~selfsched.errors.InvalidFhirResource` names it.
    Events are not grouped by schedule: read one clinician's slots at a time.
    """
    _validate.instance("refs", refs, Refs, "a Refs")
    node = _resource(bundle, "Bundle", "Bundle")
    appointments: list[Appointment] = []
    events: list[CalendarEvent] = []
    for entry in node.children("entry"):
        search = entry.child("search")
        if search is not None and search.string("mode") in _CONTEXT_ONLY:
            continue
        resource = entry.child("resource")
        if resource is None:
            raise InvalidFhirResource(entry.at("resource"), "is missing.")
        kind = resource.value.get("resourceType")
        if kind == "Appointment":
            appointments.append(_read_appointment(resource, refs))
        elif kind == "Slot":
            event = _read_slot(resource)
            if event is not None:
                events.append(event)
        else:
            shown = repr(kind) if isinstance(kind, str) else _kind(kind)
            raise InvalidFhirResource(
                resource.at("resourceType"),
                f"is {shown}; selfsched reads Appointment and Slot resources (entries whose "
                f"search.mode is 'include' or 'outcome' are skipped).",
            )
    return FhirImport(tuple(appointments), tuple(events))
