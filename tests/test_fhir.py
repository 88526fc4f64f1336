"""selfsched.fhir: R4 Schedule, Slot, Appointment and Bundle resources, out and back in.

Every resource the module writes is checked twice: by ``fhir.resources`` (6.2.x, the R4 4.0.1
models: structure, types, cardinality of required elements, primitive formats) and by
:func:`check_r4` below, which adds what that validator does not check: the value sets with a
required binding for the codes written here, the invariants that concern these resources, the
lower cardinalities (``Appointment.participant``, ``Schedule.actor``) and FHIR JSON's ban on
empty strings, objects and arrays.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from fhir.resources import __fhir_version__ as fhir_version
from fhir.resources.appointment import Appointment as R4Appointment
from fhir.resources.bundle import Bundle as R4Bundle
from fhir.resources.schedule import Schedule as R4Schedule
from fhir.resources.slot import Slot as R4Slot
from hypothesis import given
from hypothesis import strategies as st

from selfsched import fhir, strategies
from selfsched.errors import InvalidFhirResource, InvalidInput, WrongType
from selfsched.model import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    Clinician,
    ClinicianCalendar,
    Origin,
    WorkHours,
)
from selfsched.slots import ExplainedSlot, Reason, Slot, available_slots, explain
from service_fixtures import AS_ALICE, SLOT, build

S = AppointmentStatus
NY = ZoneInfo("America/New_York")

# -- the validator --------------------------------------------------------------------------------

MODELS: dict[str, Any] = {
    "Appointment": R4Appointment,
    "Bundle": R4Bundle,
    "Schedule": R4Schedule,
    "Slot": R4Slot,
}

# R4 (4.0.1) value sets bound as "required" to the codes this module writes.
APPOINTMENT_STATUS = {
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
}
PARTICIPATION_STATUS = {"accepted", "declined", "tentative", "needs-action"}
PARTICIPANT_REQUIRED = {"required", "optional", "information-only"}
SLOT_STATUS = {"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"}
BUNDLE_TYPE = {
    "document",
    "message",
    "transaction",
    "transaction-response",
    "batch",
    "batch-response",
    "history",
    "searchset",
    "collection",
}
SEARCH_MODE = {"match", "include", "outcome"}


def _no_empty_values(value: object, path: str) -> None:
    """FHIR JSON has no empty strings, objects or arrays, and no nulls (ele-1)."""
    assert value not in ("", {}, [], None), f"{path} is empty"
    if isinstance(value, dict):
        for key, item in value.items():
            _no_empty_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_empty_values(item, f"{path}[{i}]")


def _extensions(value: object, path: str) -> Iterator[tuple[dict[str, Any], str]]:
    if isinstance(value, dict):
        for i, ext in enumerate(value.get("extension", [])):
            yield ext, f"{path}.extension[{i}]"
        for key, item in value.items():
            yield from _extensions(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _extensions(item, f"{path}[{i}]")


def _check_appointment(resource: dict[str, Any]) -> None:
    assert resource["status"] in APPOINTMENT_STATUS
    # app-2: start and end go together; app-3: only proposed, cancelled or waitlist lack them.
    assert ("start" in resource) == ("end" in resource)
    assert "start" in resource or resource["status"] in {"proposed", "cancelled", "waitlist"}
    # app-4: a cancellation reason only on a cancelled appointment or a no-show.
    assert "cancelationReason" not in resource or resource["status"] in {"cancelled", "noshow"}
    assert resource["participant"], "participant is 1..*"
    for participant in resource["participant"]:
        assert participant["status"] in PARTICIPATION_STATUS
        assert participant.get("required", "required") in PARTICIPANT_REQUIRED
        assert "type" in participant or "actor" in participant  # app-1


def check_r4(resource: dict[str, Any]) -> None:
    """Fail unless *resource* is a valid R4 resource of the kinds this module writes."""
    assert json.loads(json.dumps(resource)) == resource, "plain JSON values only"
    kind = resource["resourceType"]
    MODELS[kind].parse_obj(resource)
    _no_empty_values(resource, kind)
    for ext, path in _extensions(resource, kind):
        values = [key for key in ext if key.startswith("value")]
        assert ext.get("url"), f"{path}.url is 1..1"
        assert len(values) == 1, f"{path}: one value[x] (ext-1)"
    if kind == "Appointment":
        _check_appointment(resource)
    elif kind == "Slot":
        assert resource["status"] in SLOT_STATUS
        assert resource["schedule"]["reference"]
    elif kind == "Schedule":
        assert resource["actor"], "actor is 1..*"
    elif kind == "Bundle":
        assert resource["type"] in BUNDLE_TYPE
        searching = resource["type"] in {"searchset", "history"}
        assert "total" not in resource or searching  # bdl-1
        urls = [entry["fullUrl"] for entry in resource.get("entry", [])]
        assert len(urls) == len(set(urls))  # bdl-7
        for entry in resource.get("entry", []):
            assert "search" not in entry or resource["type"] == "searchset"  # bdl-2
            assert entry["search"]["mode"] in SEARCH_MODE
            check_r4(entry["resource"])


def test_the_validator_is_r4() -> None:
    assert "4.0.1" == fhir_version


@pytest.mark.parametrize(
    "broken",
    [
        {"status": "bogus"},  # not in the required value set (fhir.resources accepts it)
        {"participant": []},  # 1..* (fhir.resources accepts an empty list)
        {"end": None},  # app-2
        {"status": "booked", "cancelationReason": {"text": "x"}},  # app-4
        {"participant": [{"status": "maybe", "actor": {"reference": "Patient/p"}}]},
        {"start": "2026-03-10T09:00:00"},  # no offset: fhir.resources refuses
        {"comment": ""},  # ele-1
        {"extension": [{"url": "u", "valueCode": "a", "valueString": "b"}]},  # ext-1
    ],
)
def test_the_validator_refuses_what_r4_refuses(broken: dict[str, Any]) -> None:
    """The checks above can fail: each of these breaks one of them."""
    resource = {
        "resourceType": "Appointment",
        "status": "booked",
        "start": "2026-03-10T09:00:00-05:00",
        "end": "2026-03-10T09:50:00-05:00",
        "participant": [{"actor": {"reference": "Patient/p"}, "status": "accepted"}],
    }
    check_r4(resource)
    broken_resource = {k: v for k, v in {**resource, **broken}.items() if v is not None}
    with pytest.raises((AssertionError, ValueError)):
        check_r4(broken_resource)


# -- values ---------------------------------------------------------------------------------------

START = datetime(2026, 3, 10, 9, 0, tzinfo=NY)
QUINN = Clinician(
    id="dr-quinn",
    name="Dr. Avery Quinn",
    zone="America/New_York",
    work_hours=WorkHours.weekdays("09:00-17:00"),
    service_code="90834",
)


def appointment(status: S, **changes: Any) -> Appointment:
    fields: dict[str, Any] = {
        "id": "appt-1",
        "client_id": "client-7",
        "clinician_id": "dr-quinn",
        "start": START,
        "end": START + timedelta(minutes=50),
        "status": status,
        "service_code": "90834",
        "location": "Main Street Office",
    }
    return Appointment(**{**fields, **changes})


def by_url(resource: dict[str, Any], name: str) -> Any:
    """The value of selfsched's extension *name* (default base), or None."""
    url = fhir.Refs().extension(name)
    for ext in resource.get("extension", []):
        if ext["url"] == url:
            return next(v for k, v in ext.items() if k.startswith("value"))
    return None


# -- the status table, row by row -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "fhir_status", "reason", "patient", "practitioner"),
    [
        (S.PENDING, "pending", None, "accepted", "needs-action"),
        (S.BOOKED, "booked", None, "accepted", "accepted"),
        (S.MISSED, "cancelled", "pat-cpp", "declined", "accepted"),
        (S.REJECTED, "cancelled", "prov", "accepted", "declined"),
        (S.CANCELLED, "cancelled", "prov", "accepted", "declined"),
        (S.EXPIRED, "cancelled", "other", "accepted", "needs-action"),
    ],
)
def test_status_table_row(
    status: S, fhir_status: str, reason: str | None, patient: str, practitioner: str
) -> None:
    resource = fhir.appointment_to_fhir(appointment(status))

    check_r4(resource)
    codes = [c["code"] for c in resource.get("cancelationReason", {}).get("coding", [])]
    systems = {c["system"] for c in resource.get("cancelationReason", {}).get("coding", [])}
    assert fhir_status == resource["status"]
    assert ([reason] if reason else []) == codes
    assert ({fhir.CANCELLATION_REASON} if reason else set()) == systems
    assert [patient, practitioner, "accepted"] == [p["status"] for p in resource["participant"]]
    assert str(status) == by_url(resource, "appointment-status")
    assert appointment(status) == fhir.appointment_from_fhir(resource)


def test_the_documented_table_is_the_code() -> None:
    rows = [
        (r.status.value, r.fhir_status, r.reason, r.patient, r.practitioner)
        for r in fhir.STATUS_TABLE
    ]
    assert sorted(s.value for s in S) == sorted(r[0] for r in rows)
    assert ("missed", "cancelled", "pat-cpp", "declined", "accepted") in rows


@pytest.mark.parametrize("late", [True, False])
def test_a_client_cancellation_carries_the_late_flag(late: bool) -> None:
    resource = fhir.appointment_to_fhir(appointment(S.MISSED, late_cancellation=late))

    assert late is by_url(resource, "late-cancellation")
    assert late is fhir.appointment_from_fhir(resource).late_cancellation


def test_the_late_flag_is_left_out_where_it_says_nothing() -> None:
    assert by_url(fhir.appointment_to_fhir(appointment(S.BOOKED)), "late-cancellation") is None


def test_the_clients_reason_never_leaves_the_chart() -> None:
    """Through the Scheduler: the reason goes to the chart note, and nowhere in the FHIR."""
    world = build()
    booked = world.scheduler.book(AS_ALICE, "c1", SLOT)
    world.scheduler.cancel(AS_ALICE, booked.id, "Private: my divorce hearing moved")
    (stored,) = world.store.appointments()

    text = json.dumps(fhir.appointment_to_fhir(stored))

    assert "divorce" in world.chart.notes[0].text
    assert S.MISSED == stored.status
    assert "divorce" not in text
    assert "hearing" not in text


# -- appointments out -----------------------------------------------------------------------------


def test_appointment_out_in_full() -> None:
    decided = datetime(2026, 3, 2, 14, 5, 30, 250_000, tzinfo=UTC)
    value = appointment(
        S.BOOKED,
        code_modifier="95",
        origin=Origin.CLIENT,
        created_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        decided_at=decided,
        decided_by="staff:s-1",
        version=3,
    )
    base = "https://fhir.example-clinic.org/selfsched"
    refs = fhir.Refs(base=base, location=lambda _name: "Location/main")

    resource = fhir.appointment_to_fhir(value, refs=refs, zone="America/New_York")

    check_r4(resource)
    assert {
        "resourceType": "Appointment",
        "id": "appt-1",
        "meta": {"versionId": "3"},
        "extension": [
            {"url": f"{base}/StructureDefinition/appointment-status", "valueCode": "booked"},
            {"url": f"{base}/StructureDefinition/origin", "valueCode": "client"},
            {
                "url": f"{base}/StructureDefinition/decided",
                "valueDateTime": "2026-03-02T09:05:30.250000-05:00",
            },
            {"url": f"{base}/StructureDefinition/decided-by", "valueString": "staff:s-1"},
        ],
        "identifier": [{"system": f"{base}/appointment-id", "value": "appt-1"}],
        "status": "booked",
        "serviceType": [
            {
                "extension": [
                    {
                        "url": f"{base}/StructureDefinition/cpt-modifier",
                        "valueCoding": {"system": "http://www.ama-assn.org/go/cpt", "code": "95"},
                    }
                ],
                "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "90834"}],
            }
        ],
        "start": "2026-03-10T09:00:00-04:00",
        "end": "2026-03-10T09:50:00-04:00",
        "created": "2026-03-01T07:00:00-05:00",
        "participant": [
            {
                "actor": {"reference": "Patient/client-7", "type": "Patient"},
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": {"reference": "Practitioner/dr-quinn", "type": "Practitioner"},
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": {
                    "reference": "Location/main",
                    "type": "Location",
                    "display": "Main Street Office",
                },
                "required": "required",
                "status": "accepted",
            },
        ],
    } == resource
    assert value == fhir.appointment_from_fhir(resource, refs=refs)


def test_instants_are_written_in_utc_by_default() -> None:
    resource = fhir.appointment_to_fhir(appointment(S.BOOKED))

    assert ("2026-03-10T13:00:00+00:00", "2026-03-10T13:50:00+00:00") == (
        resource["start"],
        resource["end"],
    )


def test_an_offset_with_seconds_is_written_in_utc() -> None:
    """Before 1883 New York kept local mean time, -04:56:02: FHIR offsets are whole minutes."""
    old = appointment(S.BOOKED, start=datetime(1880, 6, 1, 9, tzinfo=NY))
    old = attrs.evolve(old, end=old.start + timedelta(hours=1))

    resource = fhir.appointment_to_fhir(old, zone="America/New_York")

    check_r4(resource)
    assert "1880-06-01T13:56:02+00:00" == resource["start"]


def test_your_own_references_and_ids() -> None:
    patients = {"client-7": "8f14e45f", "bob smith": "c9f0f895"}
    clinicians = {"dr-quinn": "prac-42"}
    refs = fhir.Refs(
        patient=lambda cid: f"https://ehr.example/fhir/Patient/{patients[cid]}",
        practitioner=lambda cid: f"Practitioner/{clinicians[cid]}",
        client_id=lambda ref: {v: k for k, v in patients.items()}.get(ref.rsplit("/", 1)[-1]),
        clinician_id=lambda ref: {v: k for k, v in clinicians.items()}.get(ref.split("/")[-1]),
    )
    value = appointment(S.PENDING, id="appt 1 (legacy)", client_id="bob smith")

    resource = fhir.appointment_to_fhir(value, refs=refs)

    check_r4(resource)
    assert "id" not in resource  # not a FHIR id; the identifier carries it
    assert [
        "https://ehr.example/fhir/Patient/c9f0f895",
        "Practitioner/prac-42",
        None,
    ] == [p["actor"].get("reference") for p in resource["participant"]]
    assert value == fhir.appointment_from_fhir(resource, refs=refs)


def test_an_id_that_is_no_fhir_id_needs_your_function() -> None:
    with pytest.raises(InvalidInput) as caught:
        fhir.appointment_to_fhir(appointment(S.BOOKED, client_id="bob smith"))

    assert (
        "client_id 'bob smith' cannot be a FHIR id as it is (FHIR ids are 1 to 64 letters, "
        "digits, '-' and '.'); give Refs(patient=...) a function that returns your FHIR "
        "server's Patient reference for it."
    ) == str(caught.value)


def test_a_reference_function_must_return_a_reference() -> None:
    refs = fhir.Refs(practitioner=lambda _: "")

    with pytest.raises(InvalidInput, match=r"^Refs.practitioner returned ''; a reference is"):
        fhir.appointment_to_fhir(appointment(S.BOOKED), refs=refs)


@pytest.mark.parametrize(("code", "modifier"), [(" 90834", None), ("90834", "9\n5")])
def test_a_code_fhir_cannot_hold_is_refused(code: str, modifier: str | None) -> None:
    with pytest.raises(InvalidInput, match="cannot be a FHIR code"):
        fhir.appointment_to_fhir(appointment(S.BOOKED, service_code=code, code_modifier=modifier))


def test_blank_text_is_no_value() -> None:
    """FHIR has no empty strings: blank text is written as nothing and reads back as None."""
    value = appointment(S.BOOKED, service_code="", code_modifier=" ", location="", decided_by="")

    resource = fhir.appointment_to_fhir(value)

    check_r4(resource)
    back = fhir.appointment_from_fhir(resource)
    assert (None, None, None, None) == (
        back.service_code,
        back.code_modifier,
        back.location,
        back.decided_by,
    )


def test_a_modifier_without_a_code() -> None:
    resource = fhir.appointment_to_fhir(
        appointment(S.BOOKED, service_code=None, code_modifier="95")
    )

    check_r4(resource)
    assert "coding" not in resource["serviceType"][0]
    assert (None, "95") == (
        fhir.appointment_from_fhir(resource).service_code,
        fhir.appointment_from_fhir(resource).code_modifier,
    )


def test_wrong_arguments_are_typed_errors() -> None:
    with pytest.raises(WrongType, match=r"^appointment must be an Appointment"):
        fhir.appointment_to_fhir("appt-1")  # type: ignore[arg-type]
    with pytest.raises(WrongType, match=r"^slot must be a Slot or an ExplainedSlot"):
        fhir.slot_to_fhir(SLOT, QUINN)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"^base='' is not a URL"):
        fhir.Refs(base="")


# -- schedules and slots out ----------------------------------------------------------------------


def test_schedule() -> None:
    resource = fhir.schedule_to_fhir(QUINN)

    check_r4(resource)
    assert {
        "resourceType": "Schedule",
        "id": "dr-quinn",
        "active": True,
        "serviceType": [
            {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "90834"}]}
        ],
        "actor": [
            {
                "reference": "Practitioner/dr-quinn",
                "type": "Practitioner",
                "display": "Dr. Avery Quinn",
            }
        ],
    } == resource


def test_a_clients_slot_says_free_or_busy_and_nothing_else() -> None:
    start = datetime(2026, 3, 10, 14, tzinfo=UTC)
    free = fhir.slot_to_fhir(Slot(start, start + timedelta(minutes=50), True), QUINN)
    busy = fhir.slot_to_fhir(Slot(start, start + timedelta(minutes=50), False), QUINN)

    for resource in (free, busy):
        check_r4(resource)
    assert ("free", "busy") == (free["status"], busy["status"])
    assert {**free, "status": "busy"} == busy
    assert {"resourceType", "id", "serviceType", "schedule", "status", "start", "end"} == set(busy)
    assert ("2026-03-10T10:00:00-04:00", "Schedule/dr-quinn") == (
        busy["start"],
        busy["schedule"]["reference"],
    )


@pytest.mark.parametrize(
    ("reasons", "status"),
    [
        (set(), "free"),
        ({Reason.PENDING}, "busy-tentative"),
        ({Reason.PENDING, Reason.MIN_NOTICE}, "busy"),
        ({Reason.BOOKED}, "busy"),
        ({Reason.CALENDAR_EVENT, Reason.HORIZON}, "busy"),
        ({Reason.BUFFER}, "busy-unavailable"),
        ({Reason.MIN_NOTICE, Reason.DAILY_MAX}, "busy-unavailable"),
        ({Reason.CLIENT_OVERLAP}, "busy-unavailable"),
    ],
)
def test_a_staff_slots_status(reasons: set[Reason], status: str) -> None:
    start = datetime(2026, 3, 10, 14, tzinfo=UTC)
    slot = ExplainedSlot(start, start + timedelta(minutes=50), frozenset(reasons))

    resource = fhir.slot_to_fhir(slot, QUINN)

    check_r4(resource)
    assert status == resource["status"]
    assert "comment" not in resource


def test_slot_bundle() -> None:
    start = datetime(2026, 3, 10, 14, tzinfo=UTC)
    slots = [
        Slot(start + timedelta(hours=h), start + timedelta(hours=h, minutes=50), True)
        for h in range(3)
    ]

    bundle = fhir.slot_bundle(slots, QUINN)

    check_r4(bundle)
    assert ("searchset", 3) == (bundle["type"], bundle["total"])
    assert [f"urn:uuid:{e['resource']['id']}" for e in bundle["entry"]] == [
        e["fullUrl"] for e in bundle["entry"]
    ]
    assert [{"mode": "match"}] * 3 == [e["search"] for e in bundle["entry"]]
    # The same slot keeps its id from one answer to the next.
    assert bundle == fhir.slot_bundle(slots, QUINN)


# -- properties: every resource valid, and back in equal ------------------------------------------

_CODES = st.sampled_from([None, "90834", "90837", "90791", ""])
_MODIFIERS = st.sampled_from([None, "95", "GT", "HO"])
_LOCATIONS = st.sampled_from([None, "Main Street Office", "Room 2 (upstairs)", "Télé-santé"])
_IDS = st.sampled_from(["appointment-1", "appt_7 (imported)", "0b9c1f4e-6a0d-4d7e-9c6e-1f2a"])


@st.composite
def full_appointments(draw: st.DrawFn) -> Appointment:
    """selfsched.strategies.appointments with every optional field drawn too."""
    zone = draw(strategies.zones())
    base = draw(strategies.appointments(zone))
    instants = strategies.aware_datetimes(zone)
    optional = st.none() | instants
    return attrs.evolve(
        base,
        id=draw(_IDS),
        service_code=draw(_CODES.filter(bool) | st.none()),
        code_modifier=draw(_MODIFIERS),
        location=draw(_LOCATIONS),
        created_at=draw(optional),
        decided_at=draw(optional),
        decided_by=draw(st.sampled_from([None, "staff:s-1", "system"])),
        cancelled_at=draw(optional),
        late_cancellation=draw(st.booleans()),
        version=draw(st.integers(0, 50)),
    )


@given(full_appointments(), strategies.zones())
def test_every_appointment_is_valid_r4_and_reads_back_equal(value: Appointment, zone: str) -> None:
    resource = fhir.appointment_to_fhir(value, zone=zone)

    check_r4(resource)
    assert value == fhir.appointment_from_fhir(json.loads(json.dumps(resource)))


@given(strategies.slot_queries(max_days=2))
def test_every_slot_schedule_and_bundle_is_valid_r4(query: strategies.SlotQuery) -> None:
    clinician = query.calendar.clinician
    client = available_slots(query.calendar, query.policy, **query.window())
    staff = explain(query.calendar, query.policy, **query.window())

    check_r4(fhir.schedule_to_fhir(clinician))
    check_r4(fhir.slot_bundle(client, clinician))
    check_r4(fhir.slot_bundle(staff, clinician))
    for mine, theirs in zip(client, staff, strict=True):
        seen = fhir.slot_to_fhir(mine, clinician)["status"]
        assert seen == ("free" if theirs.available else "busy")
        tentative = fhir.slot_to_fhir(theirs, clinician)["status"] == "busy-tentative"
        assert tentative == (theirs.reasons == {Reason.PENDING})


@given(strategies.slot_queries(max_days=2))
def test_busy_slots_read_back_as_the_same_busy_time(query: strategies.SlotQuery) -> None:
    clinician = query.calendar.clinician
    for slot in explain(query.calendar, query.policy, **query.window()):
        resource = json.loads(json.dumps(fhir.slot_to_fhir(slot, clinician)))

        event = fhir.busy_from_fhir(resource)

        expected = CalendarEvent.one_off(slot.start, slot.end, id=resource["id"])
        assert (None if slot.available else expected) == event


@given(st.lists(full_appointments(), max_size=4))
def test_a_bundle_of_appointments_and_slots_reads_back(values: list[Appointment]) -> None:
    start = datetime(2026, 3, 10, 14, tzinfo=UTC)
    busy = Slot(start, start + timedelta(minutes=50), False)
    slots = fhir.slot_bundle([busy, attrs.evolve(busy, available=True)], QUINN)
    entries = [{"resource": fhir.appointment_to_fhir(v)} for v in values] + slots["entry"]

    found = fhir.read_bundle({"resourceType": "Bundle", "type": "collection", "entry": entries})

    assert tuple(values) == found.appointments
    assert (
        CalendarEvent.one_off(busy.start, busy.end, id=slots["entry"][0]["resource"]["id"]),
    ) == (found.events)


# -- in: appointments from another system ---------------------------------------------------------


def foreign(**changes: Any) -> dict[str, Any]:
    """An Appointment as another system writes it: no selfsched extensions or identifier."""
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": "ehr-991",
        "meta": {"versionId": "4"},
        "status": "booked",
        "start": "2026-03-10T09:00:00-04:00",
        "end": "2026-03-10T09:50:00-04:00",
        "participant": [
            {
                "actor": {"reference": "https://ehr.example/fhir/Patient/client-7"},
                "status": "accepted",
            },
            {"actor": {"reference": "Practitioner/dr-quinn/_history/2"}, "status": "accepted"},
            {"actor": {"reference": "Location/main"}, "status": "accepted"},
            {"actor": {"reference": "RelatedPerson/r1"}, "status": "accepted"},
        ],
    }
    resource.update(changes)
    return {k: v for k, v in resource.items() if v is not None}


def test_a_foreign_appointment() -> None:
    expected = Appointment(
        id="ehr-991",
        client_id="client-7",
        clinician_id="dr-quinn",
        start=START,
        end=START + timedelta(minutes=50),
        status=S.BOOKED,
        location="main",
        origin=Origin.STAFF,
        version=4,
    )
    assert expected == fhir.appointment_from_fhir(foreign())


def _reason(code: str) -> dict[str, Any]:
    return {"coding": [{"system": fhir.CANCELLATION_REASON, "code": code}]}


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"status": "proposed"}, S.PENDING),
        ({"status": "pending"}, S.PENDING),
        ({"status": "booked"}, S.BOOKED),
        ({"status": "arrived"}, S.BOOKED),
        ({"status": "checked-in"}, S.BOOKED),
        ({"status": "fulfilled"}, S.BOOKED),
        ({"status": "cancelled"}, S.CANCELLED),
        ({"status": "cancelled", "cancelationReason": _reason("pat")}, S.MISSED),
        ({"status": "cancelled", "cancelationReason": _reason("pat-fb")}, S.MISSED),
        ({"status": "cancelled", "cancelationReason": _reason("prov-pers")}, S.CANCELLED),
        ({"status": "cancelled", "cancelationReason": {"text": "patient called"}}, S.CANCELLED),
    ],
)
def test_foreign_statuses(changes: dict[str, Any], status: S) -> None:
    assert status == fhir.appointment_from_fhir(foreign(**changes)).status


def test_a_status_changed_elsewhere_wins_over_the_extension() -> None:
    """Written as booked, then cancelled in the EHR with the extension left as it was."""
    resource = fhir.appointment_to_fhir(appointment(S.BOOKED))
    resource["status"] = "cancelled"

    assert S.CANCELLED == fhir.appointment_from_fhir(resource).status


def test_the_extension_refines_a_cancellation() -> None:
    resource = fhir.appointment_to_fhir(appointment(S.EXPIRED))
    del resource["cancelationReason"]

    assert S.EXPIRED == fhir.appointment_from_fhir(resource).status


def test_a_bundle_feeds_the_slot_calculator() -> None:
    """A booked appointment and a busy slot from the FHIR server block their times."""
    busy_slot = {
        "resourceType": "Slot",
        "schedule": {"reference": "Schedule/dr-quinn"},
        "status": "busy-unavailable",
        "start": "2026-03-10T13:00:00-04:00",
        "end": "2026-03-10T14:00:00-04:00",
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": foreign(), "search": {"mode": "match"}},
            {"resource": busy_slot, "search": {"mode": "match"}},
            {"resource": {"resourceType": "Practitioner"}, "search": {"mode": "include"}},
        ],
    }
    found = fhir.read_bundle(bundle)
    calendar = ClinicianCalendar(
        clinician=QUINN, events=found.events, appointments=found.appointments
    )

    slots = available_slots(
        calendar,
        ApprovalPolicy(grid_minutes=60),
        first_day=date(2026, 3, 10),
        last_day=date(2026, 3, 10),
        now=datetime(2026, 3, 1, tzinfo=UTC),
    )

    taken = [f"{s.start.astimezone(NY):%H:%M}" for s in slots if not s.available]
    assert ["09:00", "13:00"] == taken


# -- in: what is refused, by path -----------------------------------------------------------------


def _drop_start(r: dict[str, Any]) -> None:
    del r["start"]


REFUSED: list[tuple[Callable[[dict[str, Any]], None], str, str]] = [
    (
        lambda r: r.update(resourceType="Patient"),
        "Appointment.resourceType",
        "Appointment.resourceType: is 'Patient'; this function reads Appointment resources.",
    ),
    (
        _drop_start,
        "Appointment.start",
        (
            "Appointment.start: is missing; selfsched needs an appointment's start and end (one "
            "without them cannot be read)."
        ),
    ),
    (
        lambda r: r.update(end="2026-03-10T09:50:00"),
        "Appointment.end",
        (
            "Appointment.end: '2026-03-10T09:50:00' has no UTC offset, so it names no instant; add "
            "the offset of the clock it was read on, e.g. '2026-03-10T09:50:00-05:00', or 'Z' for "
            "UTC."
        ),
    ),
    (
        lambda r: r.update(start="2026-03-10"),
        "Appointment.start",
        (
            "Appointment.start: '2026-03-10' is not an instant; write the date, the time to the "
            "second and the UTC offset, e.g. '2026-03-10T09:00:00-05:00'."
        ),
    ),
    (
        lambda r: r.update(end="2026-03-10T08:00:00-04:00"),
        "Appointment.end",
        (
            "Appointment.end: '2026-03-10T08:00:00-04:00' is not after the start "
            "'2026-03-10T09:00:00-04:00'."
        ),
    ),
    (
        lambda r: r.update(status="bogus"),
        "Appointment.status",
        (
            "Appointment.status: 'bogus' is not an R4 appointment status; it is one of proposed, "
            "pending, booked, arrived, fulfilled, cancelled, noshow, entered-in-error, checked-in, "
            "waitlist."
        ),
    ),
    (
        lambda r: r.update(status="noshow"),
        "Appointment.status",
        (
            "Appointment.status: 'noshow': a no-show has no selfsched status (a client who cancels "
            "is 'missed')."
        ),
    ),
    (
        lambda r: r.update(status="entered-in-error"),
        "Appointment.status",
        (
            "Appointment.status: 'entered-in-error': the appointment was entered in error; "
            "leave it out."
        ),
    ),
    (
        lambda r: r["participant"][1]["actor"].update(reference="Practitioner/a b"),
        "Appointment.participant[1].actor.reference",
        (
            "Appointment.participant[1].actor.reference: 'Practitioner/a b' does not give the "
            "clinician's id; give Refs(clinician_id=...) a function that reads your server's "
            "references."
        ),
    ),
    (
        lambda r: r["participant"][1]["actor"].update(reference=7),
        "Appointment.participant[1].actor.reference",
        "Appointment.participant[1].actor.reference: must be a non-empty string, got a number.",
    ),
    (
        lambda r: r["participant"].append({"actor": {"reference": "Patient/other"}}),
        "Appointment.participant[4]",
        (
            "Appointment.participant[4]: is a second Patient; a selfsched appointment has one "
            "client, one clinician and at most one location."
        ),
    ),
    (
        lambda r: r.update(participant=r["participant"][1:]),
        "Appointment.participant",
        (
            "Appointment.participant: has no Patient; selfsched needs the client (an actor of type "
            "Patient, or a Patient/... reference)."
        ),
    ),
    (
        lambda r: r.update(participant=[]),
        "Appointment.participant",
        (
            "Appointment.participant: is missing or empty; an appointment has at least one "
            "participant."
        ),
    ),
    (
        lambda r: r.update(participant={"actor": {}}),
        "Appointment.participant",
        "Appointment.participant: must be a JSON array, got an object.",
    ),
    (
        lambda r: r.update(meta={"versionId": "W/3"}),
        "Appointment.meta.versionId",
        (
            "Appointment.meta.versionId: 'W/3' is not a whole number; selfsched counts an "
            "appointment's versions."
        ),
    ),
    (
        lambda r: r.update(id=None),
        "Appointment.id",
        (
            "Appointment.id: is missing; selfsched needs the appointment's id, here or in an "
            "identifier of system 'https://selfsched.invalid/fhir/appointment-id'."
        ),
    ),
]


@pytest.mark.parametrize(("mutate", "path", "message"), REFUSED)
def test_a_malformed_appointment_names_the_element(
    mutate: Callable[[dict[str, Any]], None], path: str, message: str
) -> None:
    resource = foreign()
    mutate(resource)
    resource = {k: v for k, v in resource.items() if v is not None}

    with pytest.raises(InvalidFhirResource) as caught:
        fhir.appointment_from_fhir(resource)

    assert (path, message) == (caught.value.path, str(caught.value))
    assert isinstance(caught.value, ValueError)


def test_a_malformed_selfsched_extension_names_the_element() -> None:
    resource = fhir.appointment_to_fhir(appointment(S.BOOKED))
    resource["extension"][0]["valueCode"] = "approved"

    with pytest.raises(InvalidFhirResource) as caught:
        fhir.appointment_from_fhir(resource)

    assert (
        "Appointment.extension[0].valueCode: 'approved' is not a selfsched status; it is one of "
        "'pending', 'booked', 'rejected', 'missed', 'cancelled', 'expired'."
    ) == str(caught.value)


def test_a_model_refusal_names_the_resource() -> None:
    resource = foreign(id="x" * 300)
    resource["identifier"] = [{"system": fhir.Refs().identifier_system, "value": "x" * 300}]

    with pytest.raises(InvalidFhirResource) as caught:
        fhir.appointment_from_fhir(resource)

    assert "Appointment: id is 300 characters long; an id has at most 255." == str(caught.value)


SLOT_JSON = {
    "resourceType": "Slot",
    "id": "s1",
    "schedule": {"reference": "Schedule/dr-quinn"},
    "status": "busy",
    "start": "2026-03-10T09:00:00-04:00",
    "end": "2026-03-10T09:50:00-04:00",
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"resourceType": "Appointment"},
            "Slot.resourceType: is 'Appointment'; this function reads Slot resources.",
        ),
        (
            {"status": "maybe"},
            (
                "Slot.status: 'maybe' is not an R4 slot status; it is one of busy, free, "
                "busy-unavailable, busy-tentative, entered-in-error."
            ),
        ),
        ({"start": None}, "Slot.start: is missing; every slot has a start and an end."),
        (
            {"end": "2026-03-10T09:50:00"},
            (
                "Slot.end: '2026-03-10T09:50:00' has no UTC offset, so it names no instant; add "
                "the offset of the clock it was read on, e.g. '2026-03-10T09:50:00-05:00', or 'Z' "
                "for UTC."
            ),
        ),
        (
            {"end": "2026-03-10T09:00:60Z"},
            "Slot.end: '2026-03-10T09:00:60Z' is not a date and time that exists.",
        ),
        (
            {"end": "9999-12-31T23:00:00Z"},
            (
                "Slot.end: '9999-12-31T23:00:00Z' is outside the dates selfsched computes with "
                "(0002-01-01 to 9998-12-31, UTC)."
            ),
        ),
    ],
)
def test_a_malformed_slot_names_the_element(changes: dict[str, Any], message: str) -> None:
    resource = {k: v for k, v in {**SLOT_JSON, **changes}.items() if v is not None}

    with pytest.raises(InvalidFhirResource) as caught:
        fhir.busy_from_fhir(resource)

    assert message == str(caught.value)


def test_a_free_malformed_slot_is_refused_too() -> None:
    with pytest.raises(InvalidFhirResource, match=r"^Slot\.end: is missing"):
        fhir.busy_from_fhir({**SLOT_JSON, "status": "free", "end": None})


@pytest.mark.parametrize("status", ["free", "entered-in-error"])
def test_slots_that_block_nothing(status: str) -> None:
    assert fhir.busy_from_fhir({**SLOT_JSON, "status": status}) is None


def test_a_bundle_names_the_entry() -> None:
    bad = {**SLOT_JSON, "start": "2026-03-10T09:00:00"}
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": SLOT_JSON},
            {"resource": {"resourceType": "Patient"}},
            {"resource": bad},
        ],
    }

    with pytest.raises(InvalidFhirResource) as caught:
        fhir.read_bundle(bundle)
    assert "Bundle.entry[1].resource.resourceType" == caught.value.path
    assert str(caught.value).startswith(
        "Bundle.entry[1].resource.resourceType: is 'Patient'; selfsched reads Appointment and "
        "Slot resources"
    )

    del bundle["entry"][1]
    with pytest.raises(InvalidFhirResource) as caught:
        fhir.read_bundle(bundle)
    assert "Bundle.entry[1].resource.start" == caught.value.path

    with pytest.raises(
        InvalidFhirResource, match=r"^Bundle: must be a JSON object, got an array\.$"
    ):
        fhir.read_bundle([])  # type: ignore[arg-type]
