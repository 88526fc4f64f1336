"""The API without traps: each test is one trap an integrator hit wiring selfsched in from the docs.

- a policy with no minimum notice, and one with no horizon;
- enumerated fields typed as their enums (mypy refuses a misspelt value: the ``type: ignore``
  comments below would be reported as unused, under ``warn_unused_ignores``, if it did not);
- one way to act as a clinician (no "clinician" staff role: see ``test_permissions``);
- the backend's own jobs read as a named system actor, audited as such;
- settings that change while the backend runs, atomically, previewed with the dry run.
"""

from __future__ import annotations

import enum
import threading
from datetime import timedelta
from typing import get_args

import attrs
import pytest

from selfsched import (
    Appointment,
    AppointmentStatus,
    ApprovalPolicy,
    CalendarEvent,
    EmailKind,
    EmailTemplate,
    EventKind,
    LiveSettings,
    Origin,
    Practice,
    Role,
    SchedulingMode,
    StaffActor,
    SystemActor,
)
from selfsched.errors import Conflict, InvalidInput, InvalidPolicy, PermissionDenied, WrongType
from selfsched.model import EventKindValue, ModeValue, OriginValue, StatusValue
from selfsched.permissions import RoleValue
from service_fixtures import (
    ADMIN,
    AS_ALICE,
    AS_RIVERA,
    MONDAY,
    NOW,
    SCHEDULER,
    SLOT,
    TUESDAY,
    at,
    build,
)

# -- policy: no notice, no horizon ----------------------------------------------------------------


def test_zero_notice_offers_a_slot_that_starts_in_a_minute() -> None:
    """``min_notice=timedelta(0)``: a client may book any slot that has not started yet."""
    world = build(SchedulingMode.INSTANT, min_notice=timedelta(0))
    world.clock.set(at(MONDAY, 9, 59))

    booked = world.scheduler.book(AS_ALICE, "c1", at(MONDAY, 10))

    assert AppointmentStatus.BOOKED == booked.status


def test_zero_notice_still_refuses_a_slot_that_has_started() -> None:
    world = build(SchedulingMode.INSTANT, min_notice=timedelta(0))
    world.clock.set(at(MONDAY, 10, 1))

    slots = world.scheduler.client_slots(AS_ALICE, "c1", first_day=MONDAY, last_day=MONDAY)

    assert [False, True] == [s.available for s in slots[2:4]]  # 10:00 started, 10:30 not yet


def test_no_horizon_offers_a_slot_years_ahead() -> None:
    """``horizon=None``: no slot is too far ahead."""
    world = build(SchedulingMode.INSTANT, horizon=None)
    far = MONDAY.replace(year=MONDAY.year + 5)
    first = far + timedelta(days=(7 - far.weekday()) % 7)  # a Monday five years on

    slots = world.scheduler.client_slots(AS_ALICE, "c1", first_day=first, last_day=first)

    assert 15 == sum(s.available for s in slots)  # every slot of the working day


def test_the_default_horizon_still_applies() -> None:
    world = build(SchedulingMode.INSTANT)
    far = MONDAY + timedelta(weeks=52)

    slots = world.scheduler.client_slots(AS_ALICE, "c1", first_day=far, last_day=far)

    assert 0 == sum(s.available for s in slots)


def test_no_horizon_and_no_notice_together_are_a_valid_policy() -> None:
    policy = ApprovalPolicy(min_notice=timedelta(0), horizon=None)

    assert (timedelta(0), None) == (policy.min_notice, policy.horizon)


def test_a_negative_notice_is_still_refused() -> None:
    with pytest.raises(InvalidPolicy, match="min_notice must not be negative"):
        ApprovalPolicy(min_notice=timedelta(minutes=-1))


# -- enumerated fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        (AppointmentStatus, StatusValue),
        (Origin, OriginValue),
        (EventKind, EventKindValue),
        (SchedulingMode, ModeValue),
        (Role, RoleValue),
    ],
    ids=["status", "origin", "kind", "mode", "role"],
)
def test_the_typed_string_values_are_exactly_the_enum_values(
    kind: type[enum.Enum], values: object
) -> None:
    """The ``Literal`` a constructor accepts besides the members lists every member's value."""
    assert sorted(m.value for m in kind) == sorted(get_args(values))


def test_constructors_accept_members_and_their_string_values() -> None:
    by_value = Appointment(
        id="a",
        client_id="c",
        clinician_id="d",
        start=NOW,
        end=NOW + timedelta(hours=1),
        status="booked",
        origin="staff",
    )

    assert (AppointmentStatus.BOOKED, Origin.STAFF) == (by_value.status, by_value.origin)
    assert SchedulingMode.INSTANT is ApprovalPolicy(mode="instant").mode
    assert Role.SCHEDULER is StaffActor(staff_id="s", role="scheduler").role


def test_a_misspelt_status_is_refused_by_mypy_and_at_run_time() -> None:
    """mypy reports the call (the ignore below is needed); at run time it names the choices."""
    with pytest.raises(InvalidInput) as caught:
        Appointment(
            id="a",
            client_id="c",
            clinician_id="d",
            start=NOW,
            end=NOW + timedelta(hours=1),
            status="bookd",  # type: ignore[arg-type]
        )

    assert (
        "'bookd' is not a valid AppointmentStatus; use one of 'pending', 'booked', 'rejected', "
        "'missed', 'cancelled', 'expired'."
    ) == str(caught.value)


def test_a_misspelt_mode_kind_and_role_are_refused_by_mypy() -> None:
    with pytest.raises(InvalidPolicy):
        ApprovalPolicy(mode="instantly")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        CalendarEvent(kind="once", start=NOW, end=NOW + timedelta(hours=1))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        StaffActor(staff_id="s", role="admin")  # type: ignore[arg-type]


# -- the system actor -----------------------------------------------------------------------------

EXPORT = SystemActor("nightly-export")


def test_a_backend_job_reads_schedules_the_queue_and_one_appointment() -> None:
    world = build()
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)

    schedule = world.scheduler.schedule(EXPORT, "c1", first_day=MONDAY, last_day=MONDAY)
    queue = world.scheduler.approval_queue(EXPORT)
    details = world.scheduler.appointment_details(EXPORT, request.id)

    assert [request] == [entry.appointment for entry in schedule]
    assert [request] == queue
    assert request == details
    assert 1 == world.scheduler.queue_count(EXPORT)


def test_a_backend_jobs_reads_are_audited_under_its_name() -> None:
    world = build()
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)

    world.scheduler.schedule(EXPORT, "c1", first_day=MONDAY, last_day=TUESDAY)
    world.scheduler.approval_queue(EXPORT)
    world.scheduler.appointment_details(EXPORT, request.id)

    assert [
        ("system:nightly-export", "view_schedule", "viewed", None),
        ("system:nightly-export", "view_queue", "viewed", None),
        ("system:nightly-export", "view_appointment", "viewed", request.id),
    ] == [(e.actor, e.action, e.outcome, e.appointment_id) for e in world.store.audit_entries()[1:]]


def test_a_backend_job_decides_nothing() -> None:
    world = build()
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)

    with pytest.raises(PermissionDenied):
        world.scheduler.approve(EXPORT, request.id)
    with pytest.raises(PermissionDenied):
        world.scheduler.cancel_by_practice(EXPORT, request.id)

    assert AppointmentStatus.PENDING == world.store.appointments()[0].status


# -- settings that change while the backend runs --------------------------------------------------


def test_a_plain_practice_is_kept_in_live_settings() -> None:
    world = build()

    assert isinstance(world.scheduler.settings, LiveSettings)
    assert world.scheduler.practice is world.scheduler.settings.current()


def test_with_policy_changes_one_field_without_evolving_nested_values() -> None:
    practice = build().scheduler.practice

    changed = practice.with_policy(min_notice=timedelta(hours=2))
    for_rivera = practice.with_policy("c1", mode=SchedulingMode.INSTANT)

    assert (timedelta(hours=2), timedelta(hours=24)) == (
        changed.policy.min_notice,
        practice.policy.min_notice,
    )
    assert (SchedulingMode.INSTANT, SchedulingMode.REQUIRES_APPROVAL) == (
        for_rivera.policy_for("c1").mode,
        for_rivera.policy_for("c2").mode,
    )


def test_with_policy_names_the_fields_there_are() -> None:
    with pytest.raises(InvalidPolicy) as caught:
        Practice().with_policy(notice=timedelta(hours=1))

    assert str(caught.value).startswith(
        "ApprovalPolicy has no field 'notice'; the fields are mode, grid_minutes, min_notice,"
    )


def test_change_settings_applies_to_the_next_call() -> None:
    world = build()
    instant = world.scheduler.practice.with_policy(mode=SchedulingMode.INSTANT)

    before = world.scheduler.book(AS_ALICE, "c1", SLOT)
    world.scheduler.change_settings(ADMIN, instant)
    after = world.scheduler.book(AS_ALICE, "c1", at(TUESDAY, 10))

    assert (AppointmentStatus.PENDING, AppointmentStatus.BOOKED) == (before.status, after.status)


def test_change_settings_is_audited_with_the_changed_fields() -> None:
    world = build()
    new = world.scheduler.practice.with_policy(min_notice=timedelta(hours=2)).with_policy(
        "c1", grid_minutes=60
    )

    world.scheduler.change_settings(ADMIN, new)

    entry = world.store.audit_entries()[-1]
    assert ("staff:s-admin:system_administrator", "change_settings", "ok") == (
        entry.actor,
        entry.action,
        entry.outcome,
    )
    assert ("policy.min_notice", "2:00:00") in entry.changes
    assert ("policy[c1].grid_minutes", "60") in entry.changes
    assert ("policy[c1].min_notice", "2:00:00") in entry.changes  # a new override: every field


def test_change_settings_records_reply_to_and_templates_but_not_their_text() -> None:
    world = build()
    wording = EmailTemplate(subject="About your visit", text="Hello $client_name.")
    new = attrs.evolve(
        world.scheduler.practice,
        reply_to="desk@clinic.example",
        email_templates={EmailKind.REJECTED: wording},
    )

    world.scheduler.change_settings(ADMIN, new)
    world.scheduler.change_settings(
        ADMIN,
        attrs.evolve(new, email_templates={EmailKind.REJECTED: attrs.evolve(wording, text="Hi.")}),
    )
    world.scheduler.change_settings(ADMIN, attrs.evolve(new, email_templates={}))

    assert [
        (("email_templates[rejected]", "new"), ("reply_to", "desk@clinic.example")),
        (("email_templates[rejected]", "changed"),),
        (("email_templates[rejected]", "default"),),
    ] == [entry.changes for entry in world.store.audit_entries()]


def test_change_settings_records_a_clinician_back_on_the_practice_policy() -> None:
    world = build(clinician_policies={"c1": ApprovalPolicy(grid_minutes=60)})

    world.scheduler.change_settings(
        ADMIN, attrs.evolve(world.scheduler.practice, clinician_policies={})
    )

    assert (("policy[c1]", "(practice policy)"),) == world.store.audit_entries()[-1].changes


def test_only_a_system_administrator_changes_settings() -> None:
    world = build()
    new = world.scheduler.practice.with_policy(mode=SchedulingMode.INSTANT)

    for actor in (SCHEDULER, AS_RIVERA, AS_ALICE, SystemActor(), None):
        with pytest.raises(PermissionDenied):
            world.scheduler.change_settings(actor, new)

    assert SchedulingMode.REQUIRES_APPROVAL == world.scheduler.practice.policy.mode
    assert ["refused"] * 5 == [e.outcome for e in world.store.audit_entries()]


def test_a_change_made_on_stale_settings_is_a_conflict_and_changes_nothing() -> None:
    world = build()
    read = world.scheduler.practice
    world.scheduler.change_settings(ADMIN, read.with_policy(grid_minutes=60))

    with pytest.raises(Conflict):
        world.scheduler.change_settings(
            ADMIN, read.with_policy(min_notice=timedelta(hours=1)), expected=read
        )

    assert (60, timedelta(hours=24)) == (
        world.scheduler.practice.policy.grid_minutes,
        world.scheduler.practice.policy.min_notice,
    )
    assert ["ok", "refused"] == [e.outcome for e in world.store.audit_entries()]


def test_the_dry_run_previews_a_change_before_it_is_made() -> None:
    world = build(SchedulingMode.INSTANT)
    booked = world.scheduler.book(AS_ALICE, "c1", at(MONDAY, 10, 30))
    hourly = world.scheduler.practice.with_policy(grid_minutes=60)

    affected = world.scheduler.dry_run(ADMIN, practice=hourly)
    world.scheduler.change_settings(ADMIN, hourly)

    assert [booked.id] == [a.appointment.id for a in affected]
    assert AppointmentStatus.BOOKED == world.store.appointments()[0].status  # kept


def test_settings_from_the_callers_own_source() -> None:
    """A backend with its own settings screen passes anything with ``current()``."""

    class FromSettingsScreen:
        def __init__(self) -> None:
            self.value = Practice(zone="America/New_York")

        def current(self) -> Practice:
            return self.value

    source = FromSettingsScreen()
    world = build()
    scheduler = type(world.scheduler)(
        store=world.store,
        directory=world.directory,
        clock=world.clock,
        ids=world.scheduler.ids,
        practice=source,
    )
    source.value = source.value.with_policy(mode=SchedulingMode.INSTANT)

    assert AppointmentStatus.BOOKED == scheduler.book(AS_ALICE, "c1", SLOT).status
    with pytest.raises(WrongType, match="settings that can be replaced"):
        scheduler.change_settings(ADMIN, Practice())


def test_live_settings_replace_is_atomic_under_threads() -> None:
    """Many threads each replace the settings expecting what they read: exactly the number of
    changes that succeeded is the number the value moved by (no lost update)."""
    settings = LiveSettings(Practice().with_policy(daily_max=1))
    wins: list[int] = []
    start = threading.Barrier(8)

    def bump() -> None:
        start.wait()
        for _ in range(200):
            read = settings.current()
            daily = read.policy.daily_max
            assert daily is not None
            try:
                settings.replace(read.with_policy(daily_max=daily + 1), expected=read)
            except Conflict:
                continue
            wins.append(1)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert 1 + len(wins) == settings.current().policy.daily_max
