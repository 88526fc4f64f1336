"""Regression tests for the defects an adversarial review found (one test, or more, per item).

Each test is named after its item and failed before the fix. The table test of malformed input
across every public entry point is in ``test_malformed_input.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from selfsched import Appointment, ApprovalPolicy, Client, Clinician, Practice, StaffActor
from selfsched.errors import InvalidHeader, SelfschedError, WrongType
from selfsched.permissions import ClientActor, ClinicianActor, Role, SystemActor
from service_fixtures import ALICE, NOW, SCHEDULER, SLOT, build, snapshot

NOT_BOOLEANS = ["false", "0", "no", "", "true", [0], [], 0, 1, None, 0.0]


@pytest.mark.parametrize("value", NOT_BOOLEANS, ids=repr)
def test_item4_the_approval_checkbox_accepts_booleans_only(value: object) -> None:
    """``approves_requests`` is True or False: "false", "0", "no", [0] and 1 are refused.

    Regression (issue 7, item 4): any truthy value turned the checkbox on, so
    ``approves_requests="false"`` could approve.
    """
    with pytest.raises(WrongType) as caught:
        StaffActor(staff_id="s-1", role=Role.SCHEDULER, approves_requests=value)  # type: ignore[arg-type]

    assert "approves_requests" == caught.value.name
    assert str(caught.value).startswith("approves_requests must be True or False, got ")


TYPED_FIELDS: dict[str, Callable[[], object]] = {
    "Appointment.late_cancellation": lambda: Appointment(
        id="a",
        client_id="c",
        clinician_id="d",
        start=SLOT,
        end=SLOT + timedelta(hours=1),
        status="booked",
        late_cancellation="no",  # type: ignore[arg-type]
    ),
    "Appointment.client_id": lambda: Appointment(
        id="a",
        client_id=7,  # type: ignore[arg-type]
        clinician_id="d",
        start=SLOT,
        end=SLOT + timedelta(hours=1),
        status="booked",
    ),
    "Appointment.location": lambda: Appointment(
        id="a",
        client_id="c",
        clinician_id="d",
        start=SLOT,
        end=SLOT + timedelta(hours=1),
        status="booked",
        location=["Room 1"],  # type: ignore[arg-type]
    ),
    "ApprovalPolicy.pending_holds_slot": lambda: ApprovalPolicy(pending_holds_slot="false"),  # type: ignore[arg-type]
    "Clinician.id": lambda: Clinician(id=None),  # type: ignore[arg-type]
    "Clinician.service_code": lambda: Clinician(id="d", service_code=90834),  # type: ignore[arg-type]
    "Client.email": lambda: Client(id="c", email=b"a@example.org"),  # type: ignore[arg-type]
    "Practice.policy": lambda: Practice(policy={"mode": "instant"}),  # type: ignore[arg-type]
    "Practice.clinician_policies": lambda: Practice(clinician_policies={"d": "instant"}),  # type: ignore[dict-item]
    "ClientActor.client_id": lambda: ClientActor(None),  # type: ignore[arg-type]
    "ClinicianActor.clinician_id": lambda: ClinicianActor(42),  # type: ignore[arg-type]
    "SystemActor.name": lambda: SystemActor(name=b"cron"),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("build_it", TYPED_FIELDS.values(), ids=TYPED_FIELDS.keys())
def test_item4_typed_fields_of_public_values_accept_their_type_only(
    build_it: Callable[[], object],
) -> None:
    """Every typed field of the public values refuses a value of another type by name, as
    ``daily_max="3"`` always was."""
    with pytest.raises(WrongType) as caught:
        build_it()

    assert caught.value.name in str(caught.value)


def test_item4_a_client_address_of_the_wrong_type_is_not_shown() -> None:
    """The message about a client's email address names the field, never the address."""
    with pytest.raises(WrongType) as caught:
        Client(id="c", email=b"alice@example.org")  # type: ignore[arg-type]

    assert "email must be a string, got bytes." == str(caught.value)


def test_item5_a_control_character_in_the_address_is_refused_before_the_approval_commits() -> None:
    """A vertical tab in the client's address refuses the approval before anything commits: the
    request stays pending, no email is queued, and the refusal is audited.

    Regression (issue 7, item 5): the approval committed, then the email package refused the
    header and the message was given up after five attempts.
    """
    world = build()
    pending = world.scheduler.book(ClientActor(ALICE.id), "c1", SLOT)
    world.directory.clients[ALICE.id] = Client(
        id=ALICE.id, name=ALICE.name, email="alice@example.org\x0bBcc: x@example.org"
    )
    appointments, outbox, audit = snapshot(world.store)

    with pytest.raises(InvalidHeader) as caught:
        world.scheduler.approve(SCHEDULER, pending.id, location="Room 1")

    assert "example.org" not in str(caught.value)
    after = snapshot(world.store)
    assert (appointments, outbox) == after[:2]
    assert [("refused", "InvalidHeader")] == [(e.outcome, e.error) for e in after[2][len(audit) :]]
    assert NOW == world.clock.now()
    assert isinstance(caught.value, SelfschedError)
