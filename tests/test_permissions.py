"""Who may do what: actors, roles, the approval checkbox, and who may switch it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from selfsched.errors import InvalidInput, PermissionDenied
from selfsched.model import Appointment
from selfsched.permissions import (
    APPROVER_ROLES,
    Actor,
    ClientActor,
    ClinicianActor,
    Role,
    StaffActor,
    SystemActor,
    actor_label,
    can_decide,
    can_edit,
    can_see_staff_views,
    set_approval_permission,
)

START = datetime(2026, 4, 13, 14, 0, tzinfo=UTC)
REQUEST = Appointment(
    id="a-1",
    client_id="alice",
    clinician_id="c1",
    start=START,
    end=START + timedelta(minutes=50),
    status="pending",
)
ADMIN = StaffActor(staff_id="admin", role=Role.SYSTEM_ADMINISTRATOR, approves_requests=True)
OTHER_ROLES = sorted(set(Role) - APPROVER_ROLES)


def test_approver_roles_are_the_articles_four() -> None:
    """ "The roles that can be configure to approve appointment requests are: System
    Administrator, Assistant System Administrator, Clinical Director and Scheduler." """
    expected = {
        Role.SYSTEM_ADMINISTRATOR,
        Role.ASSISTANT_SYSTEM_ADMINISTRATOR,
        Role.CLINICAL_DIRECTOR,
        Role.SCHEDULER,
    }

    assert expected == set(APPROVER_ROLES)


@pytest.mark.parametrize("role", sorted(APPROVER_ROLES))
@pytest.mark.parametrize("checkbox", [True, False])
def test_approver_role_decides_only_with_the_checkbox(role: Role, checkbox: bool) -> None:
    """An approver role may decide requests exactly when its checkbox is on."""
    member = StaffActor(staff_id="s", role=role, approves_requests=checkbox)

    assert (
        checkbox == member.may_approve == can_decide(member, REQUEST) == can_edit(member, REQUEST)
    )


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_never_decide_even_with_the_checkbox(role: Role) -> None:
    """For any other role the checkbox is inactive: even a stored True has no effect."""
    member = StaffActor(staff_id="s", role=role, approves_requests=True)

    assert (False, False, False) == (
        member.may_approve,
        can_decide(member, REQUEST),
        can_edit(member, REQUEST),
    )


def test_the_appointments_clinician_decides_and_edits() -> None:
    """The appointment's own clinician may approve, reject and edit it."""
    assert (True, True) == (
        can_decide(ClinicianActor("c1"), REQUEST),
        can_edit(ClinicianActor("c1"), REQUEST),
    )


def test_another_clinician_does_not_decide() -> None:
    """A clinician cannot decide or edit another clinician's request."""
    assert (False, False) == (
        can_decide(ClinicianActor("c2"), REQUEST),
        can_edit(ClinicianActor("c2"), REQUEST),
    )


@pytest.mark.parametrize("actor", [ClientActor("alice"), ClientActor("bob"), SystemActor(), None])
def test_clients_system_and_nobody_do_not_decide(actor: Actor | None) -> None:
    """Clients (even the request's own), the system and an anonymous caller cannot decide."""
    assert (False, False) == (can_decide(actor, REQUEST), can_edit(actor, REQUEST))


def test_role_is_converted_from_its_stored_string() -> None:
    """A role stored as its string value becomes the Role member."""
    assert Role.SCHEDULER is StaffActor(staff_id="s", role="scheduler").role


def test_unknown_role_is_refused() -> None:
    """A role that does not exist is our InvalidInput (a ValueError), naming the valid roles.

    Regression: the converter used to let enum's bare ValueError escape.
    """
    with pytest.raises(InvalidInput) as caught:
        StaffActor(staff_id="s", role="janitor")  # type: ignore[arg-type]

    expected = (
        "'janitor' is not a staff role; use one of 'system_administrator', "
        "'assistant_system_administrator', 'clinical_director', 'scheduler', 'biller', "
        "'front_desk'."
    )
    assert expected == str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_there_is_one_way_to_act_as_a_clinician() -> None:
    """A staff member with a "clinician" role could never approve even their own clients'
    requests: the role is gone, and asking for it says which actor to use instead."""
    with pytest.raises(InvalidInput) as caught:
        StaffActor(staff_id="s", role="clinician")  # type: ignore[arg-type]

    expected = (
        "'clinician' is not a staff role: a clinician acts on their own clients' appointments "
        "as ClinicianActor(clinician_id=...). Staff roles are 'system_administrator', "
        "'assistant_system_administrator', 'clinical_director', 'scheduler', 'biller', "
        "'front_desk'."
    )
    assert expected == str(caught.value)
    assert "clinician" not in {role.value for role in Role}


def test_checkbox_is_off_by_default() -> None:
    """A new staff member does not approve requests until an administrator says so."""
    assert False is StaffActor(staff_id="s", role=Role.SCHEDULER).approves_requests


@pytest.mark.parametrize(
    ("actor", "label"),
    [
        (ClientActor("alice"), "client:alice"),
        (ClinicianActor("c1"), "clinician:c1"),
        (StaffActor(staff_id="s9", role=Role.SCHEDULER), "staff:s9:scheduler"),
        (SystemActor(), "system:system"),
        (SystemActor("sweeper"), "system:sweeper"),
        (None, "anonymous"),
    ],
)
def test_actor_labels(actor: Actor | None, label: str) -> None:
    """Audit labels are stable ``kind:id`` strings with no personal details."""
    assert label == actor_label(actor)


# -- staff views ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "clinician_id", "allowed"),
    [
        (ClinicianActor("c1"), "c1", True),
        (ClinicianActor("c1"), None, True),
        (ClinicianActor("c1"), "c2", False),
        (StaffActor(staff_id="s", role=Role.BILLER), "c2", True),
        (ClientActor("alice"), "c1", False),
        (SystemActor(), "c1", False),
        (None, None, False),
    ],
)
def test_staff_views(actor: Actor | None, clinician_id: str | None, allowed: bool) -> None:
    """A clinician sees their own calendar's staff views, any staff member sees every
    clinician's, clients and the system see none."""
    assert allowed == can_see_staff_views(actor, clinician_id)


# -- the checkbox ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(APPROVER_ROLES))
def test_administrator_switches_the_checkbox_on(role: Role) -> None:
    """ "The System Administrator goes to their Staff page and clicks on the staff members name
    ... Over on the right at the bottom is the checkbox to enable approvals." """
    member = StaffActor(staff_id="s", role=role)

    changed = set_approval_permission(ADMIN, member, enabled=True)

    assert StaffActor(staff_id="s", role=role, approves_requests=True) == changed
    assert False is member.approves_requests


@pytest.mark.parametrize("role", list(Role))
def test_administrator_switches_the_checkbox_off_for_anyone(role: Role) -> None:
    """Switching approvals off is always allowed to an administrator, for any role."""
    member = StaffActor(staff_id="s", role=role, approves_requests=True)

    assert False is set_approval_permission(ADMIN, member, enabled=False).approves_requests


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_checkbox_is_inactive_for_other_roles(role: Role) -> None:
    """ "If the checkbox is inactive it means that staff member is not allowed to do appointment
    approvals in the system." Switching it on for such a role is refused, naming the roles."""
    member = StaffActor(staff_id="s", role=role)

    with pytest.raises(PermissionDenied) as caught:
        set_approval_permission(ADMIN, member, enabled=True)

    expected = (
        f"The {role} role cannot approve appointment requests; give the staff member one of "
        "these roles first: assistant_system_administrator, clinical_director, scheduler, "
        "system_administrator."
    )
    assert expected == str(caught.value)


@pytest.mark.parametrize(
    "by",
    [
        StaffActor(staff_id="x", role=Role.ASSISTANT_SYSTEM_ADMINISTRATOR, approves_requests=True),
        StaffActor(staff_id="x", role=Role.CLINICAL_DIRECTOR, approves_requests=True),
        StaffActor(staff_id="x", role=Role.SCHEDULER, approves_requests=True),
        ClinicianActor("c1"),
        ClientActor("alice"),
        SystemActor(),
        None,
    ],
)
@pytest.mark.parametrize("enabled", [True, False])
def test_only_a_system_administrator_switches_it(by: Actor | None, enabled: bool) -> None:
    """Nobody but a System Administrator changes who approves, in either direction."""
    member = StaffActor(staff_id="s", role=Role.SCHEDULER, approves_requests=not enabled)

    with pytest.raises(PermissionDenied) as caught:
        set_approval_permission(by, member, enabled=enabled)

    assert "Only a System Administrator can change who approves requests." == str(caught.value)


def test_administrator_without_own_checkbox_still_switches_others() -> None:
    """Switching is the administrator role's right, not tied to its own approval checkbox."""
    admin = StaffActor(staff_id="a", role=Role.SYSTEM_ADMINISTRATOR, approves_requests=False)
    member = StaffActor(staff_id="s", role=Role.SCHEDULER)

    assert True is set_approval_permission(admin, member, enabled=True).approves_requests
