"""``selfsched.serialize``: one JSON form for every public value, read back exactly.

Every value the strategies draw round-trips, through ``json`` text too; the documented shape
holds for a few values written out in full; a malformed document raises ``InvalidDocument``
naming where and what; the stores keep outbox payloads and audit changes in the same form.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from selfsched import serialize, strategies
from selfsched.adapters import codec
from selfsched.errors import InvalidDocument, StorageError, WrongType
from selfsched.events import GENESIS, AuditEntry, ChartNote, EmailKind, EmailMessage, OutboxItem
from selfsched.events import chain as seal
from selfsched.model import (
    Appointment,
    ApprovalPolicy,
    CalendarEvent,
    Clinician,
    ClinicianCalendar,
    Practice,
    SchedulingMode,
    WorkHours,
)
from selfsched.slots import ExplainedSlot, Reason, Slot
from selfsched.wording import EmailTemplate

START = datetime(2026, 3, 9, 14, tzinfo=UTC)
HOUR = timedelta(hours=1)

STRATEGIES: dict[type, st.SearchStrategy[Any]] = {
    Appointment: strategies.appointments(),
    ApprovalPolicy: strategies.policies(),
    AuditEntry: strategies.audit_entries(),
    CalendarEvent: strategies.calendar_events(),
    ChartNote: strategies.chart_notes(),
    serialize.TYPES["client"]: strategies.clients(),
    Clinician: strategies.clinicians(),
    ClinicianCalendar: strategies.clinician_calendars(),
    EmailMessage: strategies.email_messages(),
    EmailTemplate: strategies.email_templates(),
    ExplainedSlot: strategies.explained_slots(),
    OutboxItem: strategies.outbox_items(),
    Practice: strategies.practices(),
    Slot: strategies.slots(),
    serialize.TYPES["slot_check"]: strategies.slot_checks(),
    WorkHours: strategies.work_hours(),
}
"""A strategy for each class :mod:`selfsched.serialize` writes."""


def json_ready(data: object) -> bool:
    """Whether *data* holds only plain ``str``, ``int``, ``bool``, ``None``, lists and dicts."""
    if type(data) in {str, int, bool} or data is None:
        return True
    if type(data) is list:
        return all(json_ready(item) for item in data)
    if type(data) is dict:
        return all(type(k) is str and json_ready(v) for k, v in data.items())
    return False


# -- every value round-trips ----------------------------------------------------------------------


def test_every_type_has_a_strategy() -> None:
    """The property below covers every type the module writes."""
    assert set(serialize.TYPES.values()) == set(STRATEGIES)


@pytest.mark.parametrize("cls", list(STRATEGIES), ids=lambda cls: cls.__name__)
def test_every_generated_value_round_trips_exactly(cls: type) -> None:
    """``from_dict(to_dict(v)) == v``, also through JSON text and with the class given; the
    dict is JSON-ready, and writing the value read back gives the same dict."""

    @given(STRATEGIES[cls])
    def round_trip(value: Any) -> None:
        data = serialize.to_dict(value)
        through_text = json.loads(json.dumps(data))
        back = serialize.from_dict(data)

        assert json_ready(data)
        assert value == back
        assert value == serialize.from_dict(through_text, cls)
        assert data == serialize.to_dict(back) == through_text

    round_trip()


@given(strategies.audit_entries())
def test_an_audit_entry_read_back_still_verifies(entry: AuditEntry) -> None:
    """``at`` reads back to the very text the hash covers, at any offset, so the digest holds."""
    back = serialize.from_dict(json.loads(json.dumps(serialize.to_dict(entry))), AuditEntry)

    assert (entry.at.isoformat(), entry.hash) == (back.at.isoformat(), back.digest())


@given(
    st.datetimes(
        timezones=st.one_of(
            st.timezones(),
            st.builds(timezone, st.timedeltas(-23 * HOUR + HOUR / 60, 23 * HOUR - HOUR / 60)),
        )
    )
)
def test_any_aware_datetime_reads_back_with_its_offset_and_zone(value: datetime) -> None:
    """An instant kept as given (a chart note's time) reads back showing the same wall time and
    offset, in the same ``ZoneInfo`` when it had one; from year 1 to year 9999."""
    data = serialize.field_to_json(ChartNote, "created_at", value)
    back = serialize.field_from_json(ChartNote, "created_at", json.loads(json.dumps(data)))

    assert isinstance(back, datetime)
    assert (value, value.isoformat(), value.tzinfo) == (back, back.isoformat(), back.tzinfo)


@given(st.timedeltas())
def test_any_timedelta_reads_back(value: timedelta) -> None:
    """Every length of time ``timedelta`` holds, negative too, to the microsecond."""
    data = serialize.field_to_json(ApprovalPolicy, "min_notice", value)

    assert value == serialize.field_from_json(ApprovalPolicy, "min_notice", data)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(hours=24), "PT24H"),
        (timedelta(days=60), "PT1440H"),
        (timedelta(hours=1, minutes=30), "PT1H30M"),
        (timedelta(minutes=1, seconds=0.25), "PT1M0.25S"),
        (timedelta(microseconds=1), "PT0.000001S"),
        (-HOUR, "-PT1H"),
    ],
)
def test_lengths_of_time_are_iso_8601_durations_in_hours(value: timedelta, text: str) -> None:
    assert text == serialize.field_to_json(ApprovalPolicy, "min_notice", value)
    assert value == serialize.field_from_json(ApprovalPolicy, "min_notice", text)


def test_a_duration_may_be_written_in_other_units_of_the_same_kinds() -> None:
    """``PT90M`` is read as an hour and a half (and written back as ``PT1H30M``)."""
    assert timedelta(minutes=90) == serialize.field_from_json(ApprovalPolicy, "min_notice", "PT90M")


def test_an_optional_text_field_of_an_email_is_kept() -> None:
    """Each ``str | None`` field of an email, the ones added after this module too, is written
    and read back with text in it, and a document without its key reads as ``None``."""
    email = EmailMessage(
        message_id="<m-1>",
        kind=EmailKind.APPROVED,
        appointment_id="a-1",
        client_id="c-1",
        to="alice@example.test",
        subject="s",
        text="t",
        html="",
    )
    optional = [f.name for f in attrs.fields(EmailMessage) if f.default is None]
    assert "reply_to" in optional
    for name in optional:
        text: Any = f"{name}: BEGIN:VCALENDAR\r\n…"
        filled = attrs.evolve(email, **{name: text})
        data = serialize.to_dict(filled)
        without = {key: value for key, value in data.items() if key != name}

        assert filled == serialize.from_dict(json.loads(json.dumps(data)))
        assert email == serialize.from_dict(without)


# -- the documented shape -------------------------------------------------------------------------


def test_an_appointment_is_written_with_every_field() -> None:
    appointment = Appointment(
        id="a-1",
        client_id="client-1",
        clinician_id="dr-a",
        start=START.astimezone(ZoneInfo("America/New_York")),
        end=START + HOUR,
        status="booked",
        created_at=datetime(2026, 3, 1, 9, 30, 15, 250_000, tzinfo=UTC),
    )

    assert {
        "type": "appointment",
        "schema_version": 1,
        "id": "a-1",
        "client_id": "client-1",
        "clinician_id": "dr-a",
        "start": "2026-03-09T14:00:00+00:00",
        "end": "2026-03-09T15:00:00+00:00",
        "status": "booked",
        "service_code": None,
        "code_modifier": None,
        "location": None,
        "origin": "client",
        "created_at": "2026-03-01T09:30:15.250000+00:00",
        "decided_at": None,
        "decided_by": None,
        "cancelled_at": None,
        "late_cancellation": False,
        "version": 1,
    } == serialize.to_dict(appointment)


def test_a_policy_writes_its_lengths_as_durations() -> None:
    policy = ApprovalPolicy(mode=SchedulingMode.INSTANT, horizon=None, buffer_after=timedelta(0))

    assert {
        "type": "approval_policy",
        "schema_version": 1,
        "mode": "instant",
        "grid_minutes": 30,
        "min_notice": "PT24H",
        "horizon": None,
        "buffer_before": "PT0S",
        "buffer_after": "PT0S",
        "daily_max": None,
        "client_open_cap": None,
        "pending_holds_slot": True,
        "late_cancellation_window": "PT24H",
        "pending_ttl": None,
    } == serialize.to_dict(policy)


def test_a_clinician_nests_its_work_hours_seven_days_monday_first() -> None:
    clinician = Clinician(
        id="dr-a",
        zone="Europe/London",
        work_hours=WorkHours(
            {0: ["09:00-12:00", "13:00-24:00"], 2: ["10:00-11:00"]}, locations={0: "Annex"}
        ),
    )

    assert {
        "type": "clinician",
        "schema_version": 1,
        "id": "dr-a",
        "name": "",
        "zone": "Europe/London",
        "work_hours": {
            "type": "work_hours",
            "schema_version": 1,
            "days": [["09:00-12:00", "13:00-24:00"], [], ["10:00-11:00"], [], [], [], []],
            "locations": ["Annex", None, None, None, None, None, None],
        },
        "service_code": None,
        "service_minutes": 50,
    } == serialize.to_dict(clinician)


def test_a_slot_shown_in_a_zone_names_it_and_reasons_are_sorted() -> None:
    slot = ExplainedSlot(START, START + HOUR, frozenset({Reason.PAST, Reason.BOOKED}))

    assert {
        "type": "explained_slot",
        "schema_version": 1,
        "start": "2026-03-09T10:00:00-04:00[America/New_York]",
        "end": "2026-03-09T11:00:00-04:00[America/New_York]",
        "reasons": ["booked", "past"],
    } == serialize.to_dict(slot.in_zone("America/New_York"))


def test_an_outbox_item_nests_its_payload_and_an_audit_entry_its_changes() -> None:
    made = datetime(2026, 3, 2, 4, tzinfo=timezone(-5 * HOUR))
    note = ChartNote(
        note_id="n-1",
        client_id="client-1",
        appointment_id="a-1",
        title="Appointment Cancellation Note",
        text="a fever",
        created_at=made,
        late=True,
    )
    item = OutboxItem(id="o-1", payload=note, created_at=START)
    entry = seal(
        None,
        AuditEntry(
            seq=1, at=made, actor="system", action="cancel", outcome="ok", changes=(("x", "1"),)
        ),
    )

    assert {
        "type": "outbox_item",
        "schema_version": 1,
        "id": "o-1",
        "payload": {
            "type": "chart_note",
            "schema_version": 1,
            "note_id": "n-1",
            "client_id": "client-1",
            "appointment_id": "a-1",
            "title": "Appointment Cancellation Note",
            "text": "a fever",
            "created_at": "2026-03-02T04:00:00-05:00",
            "late": True,
        },
        "created_at": "2026-03-09T14:00:00+00:00",
        "attempts": 0,
        "uncertain": False,
        "delivered_at": None,
        "failed": False,
        "last_error": None,
        "claimed_until": None,
        "not_before": None,
        "purged_at": None,
    } == serialize.to_dict(item)
    assert {
        "type": "audit_entry",
        "schema_version": 1,
        "seq": 1,
        "at": "2026-03-02T04:00:00-05:00",
        "actor": "system",
        "action": "cancel",
        "outcome": "ok",
        "appointment_id": None,
        "error": None,
        "before": None,
        "after": None,
        "changes": [["x", "1"]],
        "prev_hash": GENESIS,
        "hash": entry.hash,
    } == serialize.to_dict(entry)


def test_a_practice_keys_policies_by_clinician_and_templates_by_kind() -> None:
    practice = Practice(
        clinician_policies={"dr-b": ApprovalPolicy(), "dr-a": ApprovalPolicy(grid_minutes=15)},
        email_templates={"rejected": EmailTemplate(subject="No", text="Sorry, $client_name.")},
    )

    data = serialize.to_dict(practice)

    assert ["dr-a", "dr-b"] == sorted(data["clinician_policies"])  # type: ignore[call-overload]
    assert {
        "rejected": {
            "type": "email_template",
            "schema_version": 1,
            "subject": "No",
            "text": "Sorry, $client_name.",
            "html": None,
        }
    } == data["email_templates"]


def test_a_document_without_a_defaulted_key_reads_as_the_default() -> None:
    """Keys added later with a default keep the version: an older document lacks them."""
    data = serialize.to_dict(calendar())
    del data["events"], data["appointments"]

    assert ClinicianCalendar(clinician=calendar().clinician) == serialize.from_dict(data)


# -- malformed documents --------------------------------------------------------------------------


def calendar() -> ClinicianCalendar:
    """A calendar with two appointments (the second's index is 1) and a one-off event."""
    return ClinicianCalendar(
        clinician=Clinician(id="dr-a", work_hours=WorkHours.weekdays("09:00-17:00")),
        events=[CalendarEvent.one_off(START, START + HOUR, id="e-1")],
        appointments=[
            Appointment(
                id=f"a-{i}",
                client_id="client-1",
                clinician_id="dr-a",
                start=START + i * HOUR,
                end=START + (i + 1) * HOUR,
                status="booked",
            )
            for i in range(2)
        ],
    )


Change = Callable[[dict[str, Any]], object]


def second(data: dict[str, Any]) -> dict[str, Any]:
    """The second appointment's object in a calendar's document."""
    appointment: dict[str, Any] = data["appointments"][1]
    return appointment


MALFORMED: list[tuple[str, Change, str, str]] = [
    (
        "missing field",
        lambda d: second(d).pop("start"),
        "appointments[1].start",
        "appointments[1].start is missing; type 'appointment' needs it.",
    ),
    (
        "wrong type",
        lambda d: second(d).update(version="2"),
        "appointments[1].version",
        "appointments[1].version must be a whole number, got str '2'.",
    ),
    (
        "text is not shown",
        lambda d: d["clinician"].update(name=["Dr Private"]),
        "clinician.name",
        "clinician.name must be a string, got list.",
    ),
    (
        "naive instant",
        lambda d: second(d).update(start="2026-03-09T15:00:00"),
        "appointments[1].start",
        (
            "appointments[1].start must be an instant with its UTC offset (RFC 3339), such as "
            "'2026-03-09T14:00:00+00:00', got str '2026-03-09T15:00:00'."
        ),
    ),
    (
        "bad enum value",
        lambda d: second(d).update(status="bookd"),
        "appointments[1].status",
        (
            "appointments[1].status must be one of 'pending', 'booked', 'rejected', 'missed', "
            "'cancelled', 'expired', got str 'bookd'."
        ),
    ),
    (
        "unknown type",
        lambda d: d["events"][0].update(type="holiday"),
        "events[0].type",
        "events[0].type must be 'calendar_event', got str 'holiday'.",
    ),
    (
        "missing type",
        lambda d: d["clinician"].pop("type"),
        "clinician.type",
        "clinician.type is missing; it says which value the object is.",
    ),
    (
        "newer version",
        lambda d: d["clinician"]["work_hours"].update(schema_version=2),
        "clinician.work_hours.schema_version",
        (
            "clinician.work_hours.schema_version is 2, newer than this selfsched reads for type "
            "'work_hours' (1); read the document with the selfsched that wrote it, or a newer one."
        ),
    ),
    (
        "no version",
        lambda d: d.pop("schema_version"),
        "schema_version",
        "schema_version is missing; type 'clinician_calendar' is at version 1.",
    ),
    (
        "version zero",
        lambda d: d.update(schema_version=0),
        "schema_version",
        "schema_version must be a whole number from 1, got int 0.",
    ),
    (
        "unknown key",
        lambda d: second(d).update(stauts="booked"),
        "appointments[1].stauts",
        (
            "appointments[1].stauts is not a key of type 'appointment'; its keys are type, "
            "schema_version, id, client_id, clinician_id, start, end, status, service_code, "
            "code_modifier, location, origin, created_at, decided_at, decided_by, cancelled_at, "
            "late_cancellation, version."
        ),
    ),
    (
        "refused by the model",
        lambda d: second(d).update(end="2026-03-09T14:30:00+00:00"),
        "appointments[1]",
        (
            "appointments[1] is refused: appointment 'a-1' ends at 2026-03-09T14:30:00+00:00, at "
            "or before its start 2026-03-09T15:00:00+00:00."
        ),
    ),
    (
        "bad work range",
        lambda d: d["clinician"]["work_hours"]["days"][0].append("17:00-09:00"),
        "clinician.work_hours.days[0][1]",
        (
            "clinician.work_hours.days[0][1] is refused: Work range 17:00-09:00 ends at or before "
            "it starts; a range must lie within one day (use '24:00' for midnight)."
        ),
    ),
    (
        "not an array",
        lambda d: d.update(appointments={"a-0": {}}),
        "appointments",
        "appointments must be an array of appointment objects, got dict {'a-0': {}}.",
    ),
    (
        "not an object",
        lambda d: d["appointments"].append("a-2"),
        "appointments[2]",
        "appointments[2] must be a JSON object, got str 'a-2'.",
    ),
    (
        "offset the zone never has",
        lambda d: second(d).update(start="2026-03-09T15:00:00+00:00[America/New_York]"),
        "appointments[1].start",
        (
            "appointments[1].start is refused: America/New_York is never at UTC offset +00:00 at "
            "2026-03-09T15:00:00; write the offset the zone has then, or leave the zone out."
        ),
    ),
]


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_a_malformed_document_names_where_and_what(change: Change, path: str, message: str) -> None:
    data = serialize.to_dict(calendar())
    change(data)

    with pytest.raises(InvalidDocument) as raised:
        serialize.from_dict(data)

    assert (path, message) == (raised.value.path, str(raised.value))


def test_a_document_of_another_type_than_asked_for_is_refused() -> None:
    with pytest.raises(InvalidDocument, match=r"^type must be 'appointment', got str 'clinician'"):
        serialize.from_dict(serialize.to_dict(calendar().clinician), Appointment)


@pytest.mark.parametrize(
    "text", ["P1D", "PT", "PT1.1234567S", "1h", "PT-1H", "PT1S1M", 3600, "PT9999999999999999H"]
)
def test_a_length_of_time_in_another_form_is_refused(text: object) -> None:
    data = serialize.to_dict(ApprovalPolicy()) | {"min_notice": text}

    with pytest.raises(InvalidDocument, match=r"^min_notice must be a length of time as an ISO"):
        serialize.from_dict(data)


def test_a_reason_listed_twice_is_refused() -> None:
    data = serialize.to_dict(ExplainedSlot(START, START + HOUR, frozenset({Reason.PAST})))
    data["reasons"] = ["past", "past"]

    with pytest.raises(InvalidDocument, match=r"^reasons must be an array of values, each once"):
        serialize.from_dict(data)


def test_what_is_not_a_value_of_the_module_is_a_wrong_type() -> None:
    with pytest.raises(WrongType, match=r"^value must be a value of one of appointment, "):
        serialize.to_dict(START)  # type: ignore[arg-type]
    with pytest.raises(WrongType, match=r"^kind must be a class of selfsched.serialize.TYPES"):
        serialize.from_dict(serialize.to_dict(ApprovalPolicy()), dict)  # type: ignore[type-var]
    with pytest.raises(InvalidDocument, match=r"^the document must be a JSON object, got list"):
        serialize.from_dict([])  # type: ignore[call-overload]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


def places(data: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """The path of every value inside *data* (keys and indexes), *data* itself first."""
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += places(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += places(value, (*path, index))
    return found


@given(st.sampled_from(list(STRATEGIES.values())).flatmap(lambda s: s), st.data())
def test_a_document_with_any_value_changed_reads_or_raises_invalid_document(
    value: Any, data: st.DataObject
) -> None:
    """Put any JSON value anywhere in a document (or a key more): it reads back as a value, or
    raises ``InvalidDocument`` and nothing else."""
    document = serialize.to_dict(value)
    path = data.draw(st.sampled_from(places(document)[1:]))
    holder: Any = document
    for step in path[:-1]:
        holder = holder[step]
    if data.draw(st.booleans()) and isinstance(holder, dict):
        holder[data.draw(st.text(max_size=8))] = data.draw(JSON)
    else:
        holder[path[-1]] = data.draw(JSON)

    try:
        serialize.from_dict(document)
    except InvalidDocument as exc:
        assert exc.path in str(exc)  # noqa: PT017  (reading back is also a pass)


# -- the stores use the same codec ----------------------------------------------------------------


@given(strategies.outbox_items())
def test_a_stored_payload_is_its_serialize_form(item: OutboxItem) -> None:
    data = codec.payload_to_dict(item.payload)

    assert serialize.to_dict(item.payload) == data
    assert item.payload == codec.payload_from_dict(json.loads(json.dumps(data)))


def test_a_payload_stored_before_versions_reads_as_version_1() -> None:
    """As the outbox wrote an email before it carried a client id, a reply-to address or a
    schema version."""
    stored = {
        "type": "email",
        "message_id": "<o-1.approved.v2@clinic.example.test>",
        "kind": "approved",
        "appointment_id": "a-1",
        "to": "client-1@example.test",
        "subject": "s",
        "text": "t",
        "html": "h",
    }
    expected = EmailMessage(
        message_id="<o-1.approved.v2@clinic.example.test>",
        kind=EmailKind.APPROVED,
        appointment_id="a-1",
        client_id="",
        to="client-1@example.test",
        subject="s",
        text="t",
        html="h",
    )

    assert expected == codec.payload_from_dict(stored)


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        (
            {"type": "chart_note", "note_id": "n-1"},
            (
                "A stored outbox payload is malformed: client_id is missing; type 'chart_note' "
                "needs it."
            ),
        ),
        (
            serialize.to_dict(ApprovalPolicy()),
            (
                "A stored outbox payload has type 'approval_policy'; an outbox payload is an "
                "'email' or a 'chart_note'."
            ),
        ),
    ],
)
def test_a_malformed_stored_payload_is_a_storage_error(
    stored: dict[str, object], message: str
) -> None:
    with pytest.raises(StorageError) as raised:
        codec.payload_from_dict(stored)

    assert message == str(raised.value)


@pytest.mark.parametrize("stored", ["[[1, 2]]", '[["a"]]', "{}", "not json", [["a", None]]])
def test_malformed_stored_audit_changes_are_a_storage_error(stored: Any) -> None:
    with pytest.raises(StorageError, match=r"^A stored audit entry's changes are malformed: "):
        codec.changes_from_json(stored)
