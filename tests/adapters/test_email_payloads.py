"""An email's client id and reply-to address survive the SQL stores, and emails stored before
they existed still read back (with the client id not recorded and no reply-to address)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import attrs
import psycopg
import pytest
from psycopg import sql

from selfsched import ClientActor, ClinicianActor, EmailMessage, LiveSettings
from selfsched.adapters import codec

from .conftest import SHARED_BACKENDS, StoreFactory
from .support import SLOT, email_item, make_world

REPLY_TO = "Test Clinic <desk@clinic.example.test>"


@pytest.mark.parametrize("backend", SHARED_BACKENDS)
def test_a_queued_email_keeps_its_client_id_and_reply_to_in_the_store(
    make_store: StoreFactory,
) -> None:
    """The scheduler queues an approval email; another store on the same database reads it
    back with the client id and the practice's reply-to address."""
    world = make_world(make_store())
    settings = world.scheduler.settings
    assert isinstance(settings, LiveSettings)
    settings.replace(attrs.evolve(settings.current(), reply_to=REPLY_TO))
    request = world.scheduler.book(ClientActor("client-1"), "dr-a", SLOT)
    world.scheduler.approve(ClinicianActor("dr-a"), request.id)

    with make_store().unit_of_work() as uow:
        [item] = uow.outbox()

    assert isinstance(item.payload, EmailMessage)
    assert ("client-1", REPLY_TO, request.id) == (
        item.payload.client_id,
        item.payload.reply_to,
        item.payload.appointment_id,
    )


def overwrite_payload(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, item_id: str, payload: object
) -> None:
    """Replace the stored payload of outbox item *item_id*, as a row written by hand."""
    text = json.dumps(payload)
    if backend == "sqlite":
        with sqlite3.connect(tmp_path / "selfsched.db") as database:
            database.execute("UPDATE outbox SET payload = ? WHERE id = ?", (text, item_id))
        database.close()
        return
    dsn: str = request.getfixturevalue("postgres_dsn")
    schema: str = request.getfixturevalue("postgres_schema")
    with psycopg.connect(dsn) as connection, connection.transaction():
        connection.execute(
            sql.SQL("UPDATE {}.outbox SET payload = %s::jsonb WHERE id = %s").format(
                sql.Identifier(schema)
            ),
            (text, item_id),
        )


@pytest.mark.parametrize("backend", SHARED_BACKENDS)
def test_an_email_stored_before_client_ids_reads_back(
    backend: str, make_store: StoreFactory, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A payload without ``client_id`` and ``reply_to``, as an earlier selfsched wrote it,
    reads back: the client id empty (not recorded), no reply-to address, the rest as stored."""
    waiting = email_item("o-1")
    assert isinstance(waiting.payload, EmailMessage)
    message = attrs.evolve(waiting.payload, client_id="client-1", reply_to=REPLY_TO)
    with make_store().unit_of_work() as uow:
        uow.add_outbox(attrs.evolve(waiting, payload=message))
    old = codec.payload_to_dict(message)
    del old["client_id"], old["reply_to"]
    overwrite_payload(backend, request, tmp_path, "o-1", old)

    with make_store().unit_of_work() as uow:
        [stored] = uow.outbox()

    assert attrs.evolve(message, client_id="", reply_to=None) == stored.payload
