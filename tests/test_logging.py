"""Logging: what each use case and each delivery logs, and that no personal data reaches a log
record or an exception message.

The PHI test plants a marker string in every personal field (the client's name and address, the
cancellation reason, calendar event titles; the clinician's name and the location too, for good
measure), drives every use case (successes, refusals, deliveries that fail and are given up on,
retries, purges, settings changes), captures every record of every ``selfsched`` logger at DEBUG,
and every exception message raised along the way, and finds no marker in any of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import attrs
import pytest

from selfsched import CalendarEvent, Client, SchedulingMode
from selfsched.errors import SelfschedError
from selfsched.logs import FIELDS
from service_fixtures import (
    ADMIN,
    AS_ALICE,
    AS_BOB,
    AS_RIVERA,
    MONDAY,
    RIVERA,
    SCHEDULER,
    SLOT,
    TUESDAY,
    TUESDAY_SLOT,
    World,
    at,
    build,
    use_settings,
)

MARK = "ZQX7"
"""Part of every planted marker: a string that occurs nowhere else."""


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's structured fields (its ``selfsched`` attribute)."""
    found: dict[str, Any] = record.__dict__["selfsched"]
    return found


class Capture(logging.Handler):
    """Keeps every record of every level."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[Capture]:
    """Every record of the ``selfsched`` loggers at DEBUG and above, during the test."""
    root = logging.getLogger("selfsched")
    handler = Capture()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


# -- what is logged -------------------------------------------------------------------------------


def test_a_change_logs_its_action_outcome_appointment_and_durations(captured: Capture) -> None:
    world = build(SchedulingMode.INSTANT, send_confirmations=True)

    booked = world.scheduler.book(AS_ALICE, "c1", SLOT)

    service = [r for r in captured.records if r.name == "selfsched.service"]
    assert 1 == len(service)
    record = service[0]
    assert logging.INFO == record.levelno
    got = fields(record)
    assert ("use_case", "book", "ok", "client", booked.id) == (
        got["event"],
        got["action"],
        got["outcome"],
        got["actor"],
        got["appointment_id"],
    )
    assert got["unit_ms"] >= 0
    assert got["delivery_ms"] >= 0
    assert f"appointment_id={booked.id}" in record.getMessage()


def test_a_delivery_logs_each_attempt(captured: Capture) -> None:
    world = build(SchedulingMode.INSTANT, send_confirmations=True)

    world.scheduler.book(AS_ALICE, "c1", SLOT)

    outbox = [r for r in captured.records if r.name == "selfsched.outbox"]
    assert [(logging.INFO, "delivery", "delivered", "email:confirmed", 1)] == [
        (
            r.levelno,
            fields(r)["event"],
            fields(r)["outcome"],
            fields(r)["kind"],
            fields(r)["attempts"],
        )
        for r in outbox
    ]


def test_retries_are_warnings_and_a_give_up_is_an_error(captured: Capture) -> None:
    world = build(auto_dispatch=False, max_attempts=2)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)
    world.scheduler.approve(SCHEDULER, request.id)
    world.mailer.fail_next = 2

    world.scheduler.dispatch()
    world.clock.advance(timedelta(hours=6))
    world.scheduler.dispatch()

    outbox = [r for r in captured.records if r.name == "selfsched.outbox"]
    assert [
        (logging.WARNING, "retry", 1, "DeliveryError"),
        (logging.ERROR, "failed", 2, "DeliveryError"),
    ] == [
        (r.levelno, fields(r)["outcome"], fields(r)["attempts"], fields(r)["error"]) for r in outbox
    ]


def test_a_refusal_logs_the_error_class(captured: Capture) -> None:
    world = build()
    world.scheduler.book(AS_ALICE, "c1", SLOT)

    with pytest.raises(SelfschedError):
        world.scheduler.book(AS_BOB, "c1", SLOT)

    last = captured.records[-1]
    assert (logging.INFO, "refused", "SlotUnavailable") == (
        last.levelno,
        fields(last)["outcome"],
        fields(last)["error"],
    )


def test_staff_views_are_debug_and_an_idempotent_repeat_is_replayed(captured: Capture) -> None:
    world = build()
    first = world.scheduler.book(AS_ALICE, "c1", SLOT, idempotency_key="k")
    world.scheduler.book(AS_ALICE, "c1", SLOT, idempotency_key="k")
    world.scheduler.approval_queue(SCHEDULER)

    service = [r for r in captured.records if r.name == "selfsched.service"]
    assert [
        (logging.INFO, "ok", first.id),
        (logging.INFO, "replayed", first.id),
        (logging.DEBUG, "viewed", None),
    ] == [(r.levelno, fields(r)["outcome"], fields(r).get("appointment_id")) for r in service]


def test_at_info_a_quiet_practice_logs_only_changes_and_deliveries(captured: Capture) -> None:
    """The level a production service leaves on: no record for views or slot look-ups."""
    logging.getLogger("selfsched").setLevel(logging.INFO)
    world = build()
    world.scheduler.client_slots(AS_ALICE, "c1", first_day=MONDAY, last_day=MONDAY)
    request = world.scheduler.book(AS_ALICE, "c1", SLOT)
    world.scheduler.approval_queue(SCHEDULER)
    world.scheduler.approve(SCHEDULER, request.id)

    assert [
        ("selfsched.service", "request"),
        ("selfsched.outbox", None),  # the approval email, delivered inside the approval's call
        ("selfsched.service", "approve"),
    ] == [(r.name, fields(r).get("action")) for r in captured.records]


def test_every_field_is_documented(captured: Capture) -> None:
    world = build(SchedulingMode.INSTANT, send_confirmations=True)
    world.scheduler.book(AS_ALICE, "c1", SLOT)
    with pytest.raises(SelfschedError):
        world.scheduler.book(AS_BOB, "c1", SLOT)

    used = {name for record in captured.records for name in fields(record)}
    assert used <= set(FIELDS)


# -- never personal data --------------------------------------------------------------------------

PLANTED = {
    "client name": f"Ada {MARK}-name Lovelace",
    "client email": f"ada.{MARK.lower()}-email@example.org",
    "reason": f"My {MARK}-reason is private",
    "event title": f"Therapy of {MARK}-title",
    "clinician name": f"Dr. {MARK}-clinician",
}
"""Personal fields (and the clinician's name, for good measure). A location is the practice's,
not personal: a wrong-typed one is quoted back like any other practice setting."""


def _planted_world() -> World:
    """The standard practice with markers in every personal field."""
    world = build(
        send_confirmations=True,
        events=[
            CalendarEvent.one_off(
                start=at(MONDAY, 12), end=at(MONDAY, 13), title=PLANTED["event title"]
            )
        ],
    )
    world.directory.clients["alice"] = Client(
        id="alice", name=PLANTED["client name"], email=PLANTED["client email"]
    )
    world.directory.clinicians["c1"] = attrs.evolve(RIVERA, name=PLANTED["clinician name"])
    return world


def _every_use_case(world: World, refused: Callable[[Callable[[], object]], None]) -> None:
    s = world.scheduler
    s.client_slots(AS_ALICE, "c1", first_day=MONDAY, last_day=TUESDAY)
    request = s.book(AS_ALICE, "c1", SLOT)
    s.approval_queue(SCHEDULER)
    s.appointment_details(SCHEDULER, request.id)
    s.schedule(AS_RIVERA, "c1", first_day=MONDAY, last_day=TUESDAY)
    s.explain_slots(SCHEDULER, "c1", first_day=MONDAY, last_day=MONDAY, client_id="alice")
    s.edit(AS_RIVERA, request.id, location="Room 2")
    world.mailer.fail_next = 10  # the approval email fails, is retried, is given up on
    s.approve(SCHEDULER, request.id)
    for _ in range(5):
        world.clock.advance(timedelta(hours=6))
        s.dispatch()
    failed = s.failed_deliveries(SCHEDULER)
    s.retry_delivery(SCHEDULER, failed[0].id)
    world.mailer.fail_next = 0
    s.dispatch()
    s.cancel(AS_ALICE, request.id, PLANTED["reason"])
    second = s.book(AS_ALICE, "c1", TUESDAY_SLOT)
    s.reject(AS_RIVERA, second.id)
    third = s.book_for_client(SCHEDULER, client_id="alice", clinician_id="c1", start=SLOT)
    s.cancel_by_practice(SCHEDULER, third.id)
    s.book(AS_ALICE, "c1", at(TUESDAY, 11))  # undecided until it starts: expired
    world.clock.set(at(TUESDAY, 12))
    assert 1 == len(s.expire_due())
    s.dry_run(ADMIN, practice=s.practice.with_policy(grid_minutes=60))
    s.change_settings(ADMIN, s.practice.with_policy(mode=SchedulingMode.INSTANT))
    s.book(AS_ALICE, "c1", at(date(2026, 4, 16), 10))
    # Refusals, each with a marker where a careless message would quote it.
    refused(lambda: s.cancel(AS_ALICE, request.id, PLANTED["reason"]))
    refused(lambda: s.cancel(AS_BOB, request.id, PLANTED["reason"]))
    refused(lambda: s.cancel(AS_ALICE, request.id, [PLANTED["reason"]]))  # type: ignore[arg-type]
    refused(lambda: s.book(PLANTED["client name"], "c1", SLOT))  # type: ignore[arg-type]


def test_no_personal_data_in_any_log_record_or_exception_message(captured: Capture) -> None:
    world = _planted_world()
    messages: list[str] = []

    def refused(call: Callable[[], object]) -> None:
        try:
            call()
        except SelfschedError as exc:
            messages.append(f"{exc!s} {exc!r}")
        else:
            pytest.fail("the call was expected to be refused")

    _every_use_case(world, refused)
    # The header check refuses an address with a line break: the message names the field only.
    world.directory.clients["alice"] = Client(
        id="alice", name=PLANTED["client name"], email=f"{PLANTED['client email']}\nBcc: x@y"
    )
    use_settings(world.scheduler, world.scheduler.practice.with_policy(mode="requires_approval"))
    request = world.scheduler.book(AS_ALICE, "c1", at(date(2026, 4, 17), 10))
    refused(lambda: world.scheduler.approve(SCHEDULER, request.id))

    logged = {
        (fields(r)["event"], fields(r).get("action"), fields(r)["outcome"])
        for r in captured.records
    }
    assert {
        ("use_case", "request", "ok"),
        ("use_case", "book", "ok"),
        ("use_case", "approve", "ok"),
        ("use_case", "reject", "ok"),
        ("use_case", "edit", "ok"),
        ("use_case", "cancel_by_client", "ok"),
        ("use_case", "cancel_by_practice", "ok"),
        ("use_case", "staff_book", "ok"),
        ("use_case", "expire", "ok"),
        ("use_case", "retry_delivery", "ok"),
        ("use_case", "change_settings", "ok"),
        ("use_case", "view_queue", "viewed"),
        ("use_case", "view_failed_deliveries", "viewed"),
        ("use_case", "dry_run", "viewed"),
        ("use_case", "approve", "refused"),
        ("delivery", None, "delivered"),
        ("delivery", None, "retry"),
        ("delivery", None, "failed"),
    } <= logged
    texts = [
        f"{record.getMessage()} {record.__dict__} {record.exc_text or ''}"
        for record in captured.records
    ]
    leaks = [
        (name, text)
        for text in texts + messages
        for name, value in PLANTED.items()
        if MARK in text or value in text
    ]
    assert [] == leaks
    assert len(messages) == 5
