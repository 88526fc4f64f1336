"""One test per sentence of the help article about requests, approval, rejection, cancellation,
roles and the disabled mode, quoted verbatim in the docstring, shown through the Scheduler.

The slot sentences (grid, work hours, calendar events, "Unavailable") are in test_article.py. A
sentence the article repeats in both methods (the cancellation paragraph) is tested once per
method. Sentences with nothing to check ("See an example below:") are listed in comments.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import attrs
import pytest

from selfsched.errors import (
    MissingDetails,
    PermissionDenied,
    SelfSchedulingDisabled,
    SlotUnavailable,
    TransitionNotAllowed,
)
from selfsched.events import ChartNote, EmailKind
from selfsched.model import Appointment, AppointmentStatus, ApprovalPolicy, SchedulingMode
from selfsched.permissions import APPROVER_ROLES, Actor, Role, StaffActor
from selfsched.service import Display, Scheduler
from service_fixtures import (
    ADMIN,
    AS_ALICE,
    AS_BOB,
    AS_CAROL,
    AS_RIVERA,
    MONDAY,
    SCHEDULER,
    SLOT,
    TUESDAY_SLOT,
    World,
    at,
    build,
    use_settings,
)

S = AppointmentStatus
BOTH = pytest.mark.parametrize("mode", [SchedulingMode.INSTANT, SchedulingMode.REQUIRES_APPROVAL])


def booked(mode: SchedulingMode) -> tuple[World, Appointment]:
    """Alice's appointment on Monday 10:00 with Dr. Rivera, BOOKED: booked directly (INSTANT) or
    requested and approved (REQUIRES_APPROVAL). The mailer is emptied afterwards."""
    world = build(mode)
    appointment = world.scheduler.book(AS_ALICE, "c1", SLOT)
    if mode is SchedulingMode.REQUIRES_APPROVAL:
        appointment = world.scheduler.approve(AS_RIVERA, appointment.id)
    world.mailer.sent.clear()
    return world, appointment


def clinician_display(world: World, appointment_id: str) -> Display:
    """How the appointment is drawn on Dr. Rivera's schedule for Monday."""
    entries = world.scheduler.schedule(AS_RIVERA, "c1", first_day=MONDAY, last_day=MONDAY)
    (display,) = [e.display for e in entries if e.appointment.id == appointment_id]
    return display


def client_display(world: World, appointment_id: str) -> Display:
    """How the appointment is drawn on Alice's own schedule."""
    entries = world.scheduler.my_appointments(AS_ALICE)
    (display,) = [e.display for e in entries if e.appointment.id == appointment_id]
    return display


# == Introduction ==================================================================================


def test_disabled_clients_view_but_change_nothing() -> None:
    """If either of these features are disabled, the client can view their appointments when
    they login to the Client Portal but they can't make any changes."""
    world = build(SchedulingMode.INSTANT)
    mine = world.scheduler.book(AS_ALICE, "c1", SLOT)
    use_settings(
        world.scheduler,
        attrs.evolve(world.scheduler.practice, policy=ApprovalPolicy(mode=SchedulingMode.DISABLED)),
    )
    refusals: list[type[Exception]] = []

    viewed = [e.appointment.id for e in world.scheduler.my_appointments(AS_ALICE)]
    changes: list[Callable[[], Appointment]] = [
        lambda: world.scheduler.book(AS_ALICE, "c1", TUESDAY_SLOT),
        lambda: world.scheduler.cancel(AS_ALICE, mine.id, "Sick"),
    ]
    for change in changes:
        with pytest.raises(SelfSchedulingDisabled) as caught:
            change()
        refusals.append(type(caught.value))

    assert ([mine.id], [SelfSchedulingDisabled] * 2) == (viewed, refusals)
    assert [mine] == world.store.appointments()


# == Client Self Scheduling without Clinician Approvals ============================================


def test_instant_booking_goes_on_the_schedule_immediately() -> None:
    """This method allows a client to login to the client portal and book an appointment that
    will get added to the clinician's schedule immediately if their request complies within the
    settings shown below:"""
    world = build(SchedulingMode.INSTANT)

    appointment = world.scheduler.book(AS_ALICE, "c1", SLOT)

    assert (S.BOOKED, Display.BOOKED) == (
        appointment.status,
        clinician_display(world, appointment.id),
    )


def test_instant_booking_that_does_not_comply_is_refused() -> None:
    """This method allows a client to login to the client portal and book an appointment that
    will get added to the clinician's schedule immediately if their request complies within the
    settings shown below:

    ... and only then: a time outside the settings (here 08:00, before work hours) is refused
    and nothing reaches the schedule.
    """
    world = build(SchedulingMode.INSTANT)

    with pytest.raises(SlotUnavailable):
        world.scheduler.book(AS_ALICE, "c1", at(MONDAY, 8))

    assert [] == world.scheduler.schedule(AS_RIVERA, "c1", first_day=MONDAY, last_day=MONDAY)


def test_booking_takes_the_clinicians_service_code_and_the_client_cannot_pick_one() -> None:
    """The service code used for the appointment will automatically default to whatever the
    clinician has designated in their clinician service code settings. The client will not see
    the service code or be able to pick a service code.

    The service side: the booking carries Dr. Rivera's code 90834; book() takes no code; the
    client's confirmation email does not show it.
    """
    world = build(SchedulingMode.INSTANT, send_confirmations=True)

    appointment = world.scheduler.book(AS_ALICE, "c1", SLOT)

    parameters = inspect.signature(Scheduler.book).parameters
    (email,) = world.mailer.sent
    assert ("90834", [], False, False) == (
        appointment.service_code,
        [p for p in parameters if "code" in p or "service" in p],
        "90834" in email.text,
        "90834" in email.html,
    )


def test_booking_location_is_the_weekday_default_or_no_location_set() -> None:
    """The service locations shown on the client's appointment creation window will show "No
    Location Set" unless the clinician has set a default for each day of the week in their
    Clinician Work Hours settings.

    The service side: Monday has a default, Tuesday does not; the confirmation says so.
    """
    world = build(SchedulingMode.INSTANT, send_confirmations=True)

    monday = world.scheduler.book(AS_ALICE, "c1", SLOT)
    tuesday = world.scheduler.book(AS_ALICE, "c1", TUESDAY_SLOT)

    assert ("Main Street Office", None) == (monday.location, tuesday.location)
    assert ["Location: Main Street Office", "Location: No Location Set"] == [
        line for m in world.mailer.sent for line in m.text.splitlines() if line.startswith("Loc")
    ]


@pytest.mark.parametrize("who", [AS_RIVERA, SCHEDULER])
def test_location_and_service_code_can_be_updated_later(who: Actor) -> None:
    """Both the service location and service code can be updated later by the clinician or
    staff member later as needed."""
    world, appointment = booked(SchedulingMode.INSTANT)

    edited = world.scheduler.edit(
        who,
        appointment.id,
        location="Telehealth",
        service_code="90837",
    )

    assert ("Telehealth", "90837", S.BOOKED) == (
        edited.location,
        edited.service_code,
        edited.status,
    )


# -- the cancellation paragraph, which the article gives under both methods ------------------------


@BOTH
def test_client_cancellation_is_marked_missed(mode: SchedulingMode) -> None:
    """If a client later cancels their appointment, the appointment will be marked missed on the
    clinician's schedule."""
    world, appointment = booked(mode)

    world.scheduler.cancel(AS_ALICE, appointment.id, "Feeling better")

    assert Display.MISSED == clinician_display(world, appointment.id)


@BOTH
def test_client_is_asked_for_a_reason(mode: SchedulingMode) -> None:
    """The client will be asked to provide a reason for the cancelation.

    cancel() takes the reason as a required argument, and a blank one is refused.
    """
    world, appointment = booked(mode)

    with pytest.raises(ValueError, match="Please tell us why you are cancelling"):
        world.scheduler.cancel(AS_ALICE, appointment.id, "   ")

    parameter = inspect.signature(Scheduler.cancel).parameters["reason"]
    assert (inspect.Parameter.empty, S.BOOKED) == (
        parameter.default,
        world.store.appointments()[0].status,
    )


@BOTH
def test_cancellation_note_is_added_to_the_chart(mode: SchedulingMode) -> None:
    """An Appointment Cancellation Note will be added to their chart in the Notes and Documents
    tab."""
    world, appointment = booked(mode)

    world.scheduler.cancel(AS_ALICE, appointment.id, "Feeling better")

    assert [("alice", appointment.id, "Appointment Cancellation Note")] == [
        (n.client_id, n.appointment_id, n.title) for n in world.chart.notes
    ]
    assert "Reason given by the client: Feeling better" in world.chart.notes[0].text


@BOTH
def test_clinician_is_not_emailed_about_a_client_cancellation(mode: SchedulingMode) -> None:
    """The clinician does not get notified via email when an appointment is cancelled in this
    manner.

    Nobody is emailed: the outbox gains the chart note only.
    """
    world, appointment = booked(mode)
    queued = len(world.store.outbox_items())

    world.scheduler.cancel(AS_ALICE, appointment.id, "Feeling better")

    assert ([], [ChartNote]) == (
        world.mailer.sent,
        [type(i.payload) for i in world.store.outbox_items()[queued:]],
    )


# == Client Self Scheduling Requiring Clinician or Staff Approval ==================================


def test_client_requests_an_appointment() -> None:
    """This method allows client to login to the client portal and request an appointment."""
    world = build(SchedulingMode.REQUIRES_APPROVAL)

    request = world.scheduler.book(AS_ALICE, "c1", SLOT)

    assert (S.PENDING, "alice", "c1") == (request.status, request.client_id, request.clinician_id)


def test_a_request_must_be_approved_before_the_appointment_happens() -> None:
    """An appointment request must be approved by the clinician or a staff prior to the
    appointment actually happening.

    Undecided at its start, the request cannot be approved any more, and the expiry sweep tells
    the client it was not approved.
    """
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)
    world.clock.set(SLOT)

    with pytest.raises(TransitionNotAllowed):
        world.scheduler.approve(AS_RIVERA, request.id)
    world.scheduler.expire_due()

    assert (S.EXPIRED, [EmailKind.EXPIRED]) == (
        world.store.appointments()[0].status,
        [m.kind for m in world.mailer.sent],
    )


def test_the_request_is_a_grey_area_the_clinician_can_open() -> None:
    """1. Click on the grey are on the appointment on the clinician's schedule to open the edit
    appointment window."""
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)

    display = clinician_display(world, request.id)
    opened = world.scheduler.appointment_details(AS_RIVERA, request.id)

    assert (Display.PLACEHOLDER, request) == (display, opened)


def test_choose_service_code_and_location() -> None:
    """Choose the correct service code and location."""
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", TUESDAY_SLOT)

    approved = world.scheduler.approve(
        AS_RIVERA, request.id, service_code="90837", location="Room 2"
    )

    assert ("90837", "Room 2") == (approved.service_code, approved.location)


@pytest.mark.parametrize("modifier", [None, "HJ"])
def test_the_code_modifier_is_optional(modifier: str | None) -> None:
    """The Code Modifier is optional."""
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)

    approved = world.scheduler.approve(AS_RIVERA, request.id, code_modifier=modifier)

    assert (S.BOOKED, modifier) == (approved.status, approved.code_modifier)


def test_click_approve() -> None:
    """Then click the Approve button."""
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)

    approved = world.scheduler.approve(AS_RIVERA, request.id)

    assert (S.BOOKED, "clinician:c1") == (approved.status, approved.decided_by)


def test_approval_emails_the_client_and_the_placeholder_turns_green() -> None:
    """The client will get an email letting them know the appointment was approved and the gray
    appointment placeholders will change to the normal light green color."""
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)
    before = clinician_display(world, request.id)

    world.scheduler.approve(AS_RIVERA, request.id)

    assert (Display.PLACEHOLDER, Display.BOOKED) == (before, clinician_display(world, request.id))
    assert [("alice@example.org", "Your appointment request was approved")] == [
        (m.to, m.subject) for m in world.mailer.sent
    ]


def test_appointment_requests_menu() -> None:
    """2. Click on the Action menu item called +Appointment Requests.

    The approval queue is what that menu item opens; it is the approver's.
    """
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)

    assert [request] == world.scheduler.approval_queue(SCHEDULER)


def test_the_red_number_counts_waiting_requests() -> None:
    """Notice there is a red number next to it indicating there are two appointment requests
    waiting to be reviewed."""
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    world.scheduler.book(AS_ALICE, "c1", SLOT)
    world.scheduler.book(AS_BOB, "c1", TUESDAY_SLOT)

    assert 2 == world.scheduler.queue_count(SCHEDULER)


def test_the_requests_screen_shows_all_requests_needing_approval() -> None:
    """On the Appointment Requests screen you will see all of the requests that need approval.

    All of them, with every clinician, and only those still waiting.
    """
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    alices = world.scheduler.book(AS_ALICE, "c1", SLOT)
    bobs = world.scheduler.book(AS_BOB, "c2", TUESDAY_SLOT)
    carols = world.scheduler.book(AS_CAROL, "c1", at(MONDAY, 14))
    world.scheduler.approve(SCHEDULER, carols.id)

    assert [alices.id, bobs.id] == [a.id for a in world.scheduler.approval_queue(SCHEDULER)]


# "See an example below:" (a screenshot in the article; nothing to check)


def test_location_and_service_code_are_needed_before_approval() -> None:
    """Before can approval can be done, The location and service code need to be selected."""
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", TUESDAY_SLOT)  # no default location

    with pytest.raises(MissingDetails):
        world.scheduler.approve(SCHEDULER, request.id)

    assert [request] == world.scheduler.approval_queue(SCHEDULER)


def test_the_procedure_code_modifier_is_optional_on_the_requests_screen() -> None:
    """The procedure code modifier is optional.

    Approving from the requests screen with location and code but no modifier.
    """
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", TUESDAY_SLOT)
    (queued,) = world.scheduler.approval_queue(SCHEDULER)

    approved = world.scheduler.approve(SCHEDULER, queued.id, location="Room 1")

    assert (request.id, S.BOOKED, None) == (approved.id, approved.status, approved.code_modifier)


def test_then_click_approve_on_the_requests_screen() -> None:
    """Then click the Approve button.

    From the requests screen: the request leaves the queue.
    """
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)

    world.scheduler.approve(SCHEDULER, request.id)

    assert ([], 0) == (
        world.scheduler.approval_queue(SCHEDULER),
        world.scheduler.queue_count(SCHEDULER),
    )


def test_approval_turns_both_schedules_green() -> None:
    """The client will get an email letting them know the appointment was approved and the gray
    appointment placeholder on the clinician's and client's schedule will change to the normal
    light green color."""
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)
    before = (clinician_display(world, request.id), client_display(world, request.id))

    world.scheduler.approve(SCHEDULER, request.id)

    after = (clinician_display(world, request.id), client_display(world, request.id))
    assert ((Display.PLACEHOLDER,) * 2, (Display.BOOKED,) * 2) == (before, after)
    assert [EmailKind.APPROVED] == [m.kind for m in world.mailer.sent]


@BOTH
def test_rejection_emails_the_client_to_call(mode: SchedulingMode) -> None:
    """In either method if the appointment is rejected, the client gets an email telling them it
    wasn't approved and to call their clinician or the clinic for assistance. (This practice has
    a phone number, so the email says which number to call.)"""
    world = build(mode)
    appointment = world.scheduler.book(AS_ALICE, "c1", SLOT)

    world.scheduler.reject(AS_RIVERA, appointment.id)

    (email,) = world.mailer.sent
    assert ("alice@example.org", "Your appointment request was not approved") == (
        email.to,
        email.subject,
    )
    assert "Please call your clinician or the clinic at 555-0100 for assistance." in email.text


# The cancellation paragraph is repeated here; its four tests above run under both methods.


# == Who can approve appointment requests? =========================================================


def test_a_staff_role_enables_approving() -> None:
    """There is a Staff role that will enable certain staff members to approve appointment
    requests."""
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)
    scheduler = StaffActor(staff_id="s1", role=Role.SCHEDULER, approves_requests=True)
    biller = StaffActor(staff_id="s2", role=Role.BILLER, approves_requests=True)

    with pytest.raises(PermissionDenied):
        world.scheduler.approve(biller, request.id)

    assert S.BOOKED == world.scheduler.approve(scheduler, request.id).status


@pytest.mark.parametrize("role", list(Role))
def test_the_four_roles_that_can_approve(role: Role) -> None:
    """The roles that can be configure to approve appointment requests are: System
    Administrator, Assistant System Administrator, Clinical Director and Scheduler."""
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)
    member = StaffActor(staff_id="s1", role=role, approves_requests=True)
    can_approve = role in {
        Role.SYSTEM_ADMINISTRATOR,
        Role.ASSISTANT_SYSTEM_ADMINISTRATOR,
        Role.CLINICAL_DIRECTOR,
        Role.SCHEDULER,
    }

    try:
        outcome = str(world.scheduler.approve(member, request.id).status)
    except PermissionDenied:
        outcome = "refused"

    assert ("booked" if can_approve else "refused") == outcome
    assert can_approve == (role in APPROVER_ROLES)


def test_the_system_administrator_sets_it_on_the_staff_page() -> None:
    """The System Administrator goes to their Staff page and clicks on the staff members name on
    the left side of the page.

    Only a System Administrator changes a staff member's approval setting.
    """
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    member = StaffActor(staff_id="s1", role=Role.SCHEDULER)
    director = StaffActor(staff_id="s2", role=Role.CLINICAL_DIRECTOR, approves_requests=True)

    with pytest.raises(PermissionDenied):
        world.scheduler.set_approval_permission(director, member, enabled=True)

    assert (
        True
        is world.scheduler.set_approval_permission(ADMIN, member, enabled=True).approves_requests
    )


def test_the_checkbox_enables_approvals() -> None:
    """Over on the right at the bottom is the checkbox to enable approvals."""
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)
    member = StaffActor(staff_id="s1", role=Role.CLINICAL_DIRECTOR)
    with pytest.raises(PermissionDenied):
        world.scheduler.approve(member, request.id)

    enabled = world.scheduler.set_approval_permission(ADMIN, member, enabled=True)

    assert S.BOOKED == world.scheduler.approve(enabled, request.id).status


@pytest.mark.parametrize("role", [Role.BILLER, Role.FRONT_DESK])
def test_an_inactive_checkbox_means_no_approvals(role: Role) -> None:
    """If the checkbox is inactive it means that staff member is not allowed to do appointment
    approvals in the system.

    For a role outside the four the checkbox cannot be switched on, and a stored "on" has no
    effect.
    """
    world = build(SchedulingMode.REQUIRES_APPROVAL)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)
    member = StaffActor(staff_id="s1", role=role, approves_requests=True)

    with pytest.raises(PermissionDenied):
        world.scheduler.set_approval_permission(
            ADMIN, StaffActor(staff_id="s1", role=role), enabled=True
        )
    with pytest.raises(PermissionDenied):
        world.scheduler.approve(member, request.id)

    assert (0, S.PENDING) == (
        world.scheduler.queue_count(member),
        world.store.appointments()[0].status,
    )
