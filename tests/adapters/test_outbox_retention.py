"""What the stores keep of a delivered or purged outbox item: what the audit needs, no content.

Regression (issue 7, item 6): a delivered outbox row kept the email's address and text, and a
chart note's row the client's cancellation reason, forever. Checked on every store, and on the
SQL stores in the rows themselves, read with the database's own driver.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from selfsched import ClientActor, ClinicianActor, StaffActor
from selfsched.permissions import Role
from selfsched.ports import AppointmentStore
from selfsched.testing import RecordingMailer

from .conftest import StoreFactory
from .support import SLOT, make_world

REASON = "Chest pain since Tuesday"
ADDRESS = "client-1@example.test"


def deliver_everything(store: AppointmentStore) -> RecordingMailer:
    """An approval email and a cancellation note, delivered; a rejection email given up on."""
    mailer = RecordingMailer()
    world = make_world(store, mailer=mailer)
    client, clinician = ClientActor("client-1"), ClinicianActor("dr-a")
    approved = world.scheduler.approve(clinician, world.scheduler.book(client, "dr-a", SLOT).id)
    later = world.scheduler.book(client, "dr-a", SLOT.replace(hour=14))
    world.scheduler.cancel(client, later.id, REASON)
    world.scheduler.dispatch()
    assert [approved.id] == [message.appointment_id for message in mailer.sent]
    return mailer


def raw_payloads(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> list[Any]:
    """Every outbox payload as the database holds it."""
    if backend == "sqlite":
        with sqlite3.connect(tmp_path / "selfsched.db") as file:
            rows = file.execute("SELECT payload FROM outbox").fetchall()
        file.close()
        return [json.loads(row[0]) for row in rows]
    dsn = request.getfixturevalue("postgres_dsn")
    schema = request.getfixturevalue("postgres_schema")
    with psycopg.connect(dsn) as server:
        query = sql.SQL("SELECT payload FROM {}.outbox").format(sql.Identifier(schema))
        return [row[0] for row in server.execute(query).fetchall()]


def test_item6_delivered_items_keep_no_content_in_any_store(store: AppointmentStore) -> None:
    """Through the port: the delivered email has no address or text, the note no reason."""
    deliver_everything(store)

    with store.unit_of_work() as uow:
        items = uow.outbox()  # nothing waits any more
        audit = uow.audit()

    assert [] == items
    assert REASON not in repr(audit)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_item6_the_rows_of_delivered_items_hold_no_address_and_no_reason(
    make_store: StoreFactory, backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Read with the database's own driver, no row holds the client's address, the email's
    text or the cancellation reason; the Message-ID and the note's title remain."""
    deliver_everything(make_store())

    payloads = raw_payloads(backend, request, tmp_path)

    assert 2 == len(payloads)
    assert REASON not in json.dumps(payloads)
    assert ADDRESS not in json.dumps(payloads)
    email = next(p for p in payloads if p["type"] == "email")
    note = next(p for p in payloads if p["type"] == "chart_note")
    assert ("", "") == (email["to"], email["text"])
    assert email["message_id"].startswith("<appointment-1.approved")
    assert ("Appointment Cancellation Note", "") == (note["title"], note["text"])


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_item6_a_purged_item_holds_no_content_in_its_row(
    make_store: StoreFactory, backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """An email given up on keeps its content (it may be retried) until staff purge it."""
    mailer = RecordingMailer()
    mailer.fail_next = 1
    scheduler = make_world(make_store(), mailer=mailer, max_attempts=1).scheduler
    request_ = scheduler.book(ClientActor("client-1"), "dr-a", SLOT)
    scheduler.approve(ClinicianActor("dr-a"), request_.id)
    scheduler.dispatch()
    staff = StaffActor(staff_id="fay", role=Role.FRONT_DESK)
    (failed,) = scheduler.failed_deliveries(staff)
    assert ADDRESS in json.dumps(raw_payloads(backend, request, tmp_path))

    scheduler.purge_failed_delivery(staff, failed.id)

    assert ADDRESS not in json.dumps(raw_payloads(backend, request, tmp_path))
    assert [] == scheduler.failed_deliveries(staff)
