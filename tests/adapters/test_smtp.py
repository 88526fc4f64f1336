"""SmtpMailer against a real SMTP server on loopback (aiosmtpd), alone and under the scheduler."""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage as MimeMessage
from typing import Any

import attrs
import pytest
from aiosmtpd.controller import Controller

from selfsched import ClientActor, ClinicianActor
from selfsched.adapters.memory import InMemoryStore
from selfsched.adapters.smtp import SmtpMailer
from selfsched.errors import DeliveryError, DeliveryUncertain, InvalidHeader, InvalidInput
from selfsched.events import EmailKind, EmailMessage

from .support import SLOT, World, make_world

SHORT = 0.3
"""The mailer's timeout in these tests, in seconds."""


def free_port() -> int:
    """A loopback TCP port nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@attrs.define
class Handler:
    """An aiosmtpd handler that records every message and answers as told.

    ``data_reply``: ``"accept"``, ``"reject"`` (550 after the final dot), ``"hang"`` (never
    answer the final dot), ``"hang-once"`` (hang on the first message only) or ``"drop"`` (close
    the connection after the final dot). ``reject_recipient`` refuses RCPT with 550.
    """

    data_reply: str = "accept"
    reject_recipient: bool = False
    received: list[MimeMessage] = attrs.Factory(list)
    raw: list[bytes] = attrs.Factory(list)
    envelopes: list[tuple[str, list[str]]] = attrs.Factory(list)
    release: threading.Event = attrs.Factory(threading.Event)

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook name)
        self,
        server: Any,  # noqa: ARG002  (aiosmtpd's hook signature)
        session: Any,  # noqa: ARG002
        envelope: Any,
        address: str,
        options: Any,  # noqa: ARG002
    ) -> str:
        """Accept the recipient, or refuse it."""
        if self.reject_recipient:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802  (aiosmtpd's hook name)
        self,
        server: Any,
        session: Any,  # noqa: ARG002  (aiosmtpd's hook signature)
        envelope: Any,
    ) -> str:
        """Record the message, then answer the final dot as configured."""
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, MimeMessage)
        self.received.append(message)
        self.raw.append(envelope.content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        hang = self.data_reply == "hang" or (
            self.data_reply == "hang-once" and len(self.received) == 1
        )
        if hang:
            await asyncio.to_thread(self.release.wait)
        if self.data_reply == "drop":
            server.transport.abort()
        if self.data_reply == "reject":
            return "550 5.7.1 Message refused by policy"
        return "250 2.0.0 Message accepted for delivery"


@pytest.fixture
def handler() -> Handler:
    """The server's behaviour; tests change it before sending."""
    return Handler()


@pytest.fixture
def port(handler: Handler) -> Iterator[int]:
    """An SMTP server on 127.0.0.1 for one test; its port."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=5)
    controller.start()
    try:
        yield controller.port
    finally:
        handler.release.set()
        controller.stop()


def mailer(port: int, **options: Any) -> SmtpMailer:
    """An SmtpMailer for the test server with a short timeout."""
    return SmtpMailer(
        "127.0.0.1",
        port,
        sender="Test Clinic <no-reply@clinic.example.test>",
        timeout=SHORT,
        **options,
    )


MESSAGE = EmailMessage(
    message_id="<appointment-1.approved.v2@clinic.example.test>",
    kind=EmailKind.APPROVED,
    appointment_id="appointment-1",
    to="client-1@example.test",
    subject="Your appointment request was approved",
    text=(
        "Your appointment request has been approved.\n"
        "Date: Wednesday, March 4, 2026\n"
        "Clinician: Dr. Müller — Main office\n"
        ".\n"
        ".a line that starts with a dot\n"
    ),
    html="<p>Your appointment request has been approved.</p><p>Dr. Müller &mdash; Main office</p>",
)


# -- the mailer alone -----------------------------------------------------------------------------


def test_a_message_arrives_with_its_headers_and_both_parts(port: int, handler: Handler) -> None:
    """One message: From, To, Subject, the stable Message-ID; plain text and HTML alternatives."""
    mailer(port).send(MESSAGE)
    [received] = handler.received
    assert "client-1@example.test" == received["To"]
    assert MESSAGE.subject == received["Subject"]
    assert MESSAGE.message_id == received["Message-ID"]
    assert "Test Clinic <no-reply@clinic.example.test>" == received["From"]
    assert received["Date"] is not None
    assert "multipart/alternative" == received.get_content_type()
    assert ["text/plain", "text/html"] == [p.get_content_type() for p in received.iter_parts()]
    plain = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert plain is not None
    assert html is not None
    # Lines arrive with SMTP's CRLF; dot-stuffed lines arrive intact.
    assert MESSAGE.text == plain.get_content().replace("\r\n", "\n")
    assert MESSAGE.html == html.get_content().replace("\r\n", "\n").rstrip("\n")
    assert [("no-reply@clinic.example.test", ["client-1@example.test"])] == handler.envelopes


def test_the_message_is_plain_ascii_on_the_wire(port: int, handler: Handler) -> None:
    """Non-ASCII names travel encoded, so the server needs neither 8BITMIME nor SMTPUTF8."""
    SmtpMailer("127.0.0.1", port, sender="Clínica <no-reply@clinic.example.test>").send(MESSAGE)
    [raw] = handler.raw
    raw.decode("ascii")
    [received] = handler.received
    assert "Clínica <no-reply@clinic.example.test>" == received["From"]
    plain = received.get_body(("plain",))
    assert plain is not None
    assert "Dr. Müller — Main office" in plain.get_content()


def test_a_refused_message_is_a_delivery_error(port: int, handler: Handler) -> None:
    """550 in answer to the final dot: surely not delivered, DeliveryError (not uncertain)."""
    handler.data_reply = "reject"
    with pytest.raises(DeliveryError, match="550") as caught:
        mailer(port).send(MESSAGE)
    assert not isinstance(caught.value, DeliveryUncertain)


def test_a_refused_recipient_is_a_delivery_error(port: int, handler: Handler) -> None:
    """550 to RCPT: nothing was sent, DeliveryError."""
    handler.reject_recipient = True
    with pytest.raises(DeliveryError, match="recipient") as caught:
        mailer(port).send(MESSAGE)
    assert not isinstance(caught.value, DeliveryUncertain)
    assert [] == handler.received


def test_no_answer_to_the_final_dot_is_uncertain(port: int, handler: Handler) -> None:
    """The server got the whole message but never answered: DeliveryUncertain."""
    handler.data_reply = "hang"
    with pytest.raises(DeliveryUncertain) as caught:
        mailer(port).send(MESSAGE)
    assert isinstance(caught.value.__cause__, smtplib.SMTPServerDisconnected | OSError)
    assert [MESSAGE.message_id] == [m["Message-ID"] for m in handler.received]


def test_a_connection_dropped_after_the_final_dot_is_uncertain(port: int, handler: Handler) -> None:
    """The server hung up after reading the message, without a reply: DeliveryUncertain."""
    handler.data_reply = "drop"
    with pytest.raises(DeliveryUncertain):
        mailer(port).send(MESSAGE)


def test_a_closed_port_is_a_delivery_error() -> None:
    """Connection refused: DeliveryError raised from the socket error."""
    with pytest.raises(DeliveryError) as caught:
        mailer(free_port()).send(MESSAGE)
    assert not isinstance(caught.value, DeliveryUncertain)
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


@pytest.mark.parametrize(
    "field", ["subject", "to", "message_id"], ids=["subject", "to", "message-id"]
)
def test_a_header_with_a_line_break_is_never_sent(port: int, handler: Handler, field: str) -> None:
    """A CR/LF in a header value is refused before connecting; no header can be injected."""
    evil = attrs.evolve(MESSAGE, **{field: getattr(MESSAGE, field) + "\r\nBcc: x@evil.test"})
    with pytest.raises(DeliveryError) as caught:
        mailer(port).send(evil)
    assert isinstance(caught.value.__cause__, InvalidHeader)
    assert [] == handler.received


def test_starttls_is_never_skipped(port: int, handler: Handler) -> None:
    """A server that cannot do STARTTLS gets nothing when STARTTLS is asked for."""
    with pytest.raises(DeliveryError, match=r"(?i)starttls"):
        mailer(port, starttls=True).send(MESSAGE)
    assert [] == handler.received


def test_a_username_needs_a_password() -> None:
    """Half a login is a configuration mistake, refused when the mailer is made."""
    with pytest.raises(InvalidInput):
        SmtpMailer("127.0.0.1", sender="a@clinic.example.test", username="clinic")


# -- under the scheduler --------------------------------------------------------------------------


def approved_email_waiting(smtp: SmtpMailer) -> World:
    """A scheduler with one approval email in its outbox, delivered through *smtp*."""
    world = make_world(InMemoryStore(), mailer=smtp)
    request = world.scheduler.book(ClientActor("client-1"), "dr-a", SLOT)
    world.scheduler.approve(ClinicianActor("dr-a"), request.id)
    return world


def test_an_uncertain_email_is_sent_again_once_with_the_same_message_id(
    port: int, handler: Handler
) -> None:
    """Through dispatch: uncertain, resent once with the same Message-ID, then never again."""
    handler.data_reply = "hang"
    world = approved_email_waiting(mailer(port))
    reports = [world.scheduler.dispatch() for _ in range(3)]
    assert [(0, 1, 0), (0, 0, 1), (0, 0, 0)] == [
        (r.delivered, r.retrying, r.failed) for r in reports
    ]
    ids = [m["Message-ID"] for m in handler.received]
    assert 2 == len(ids)
    assert ids[0] == ids[1]
    assert ids[0].startswith("<appointment-1.approved.v2@")


def test_an_uncertain_email_whose_resend_succeeds_is_delivered(port: int, handler: Handler) -> None:
    """Through dispatch: uncertain first, the one resend is accepted; two copies, one id."""
    handler.data_reply = "hang-once"
    world = approved_email_waiting(mailer(port))
    first, second, third = (world.scheduler.dispatch() for _ in range(3))
    assert (0, 1, 0) == (first.delivered, first.retrying, first.failed)
    assert (1, 0, 0) == (second.delivered, second.retrying, second.failed)
    assert (0, 0, 0) == (third.delivered, third.retrying, third.failed)
    assert 1 == len({m["Message-ID"] for m in handler.received})
    assert 2 == len(handler.received)
