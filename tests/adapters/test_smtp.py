"""SmtpMailer against a real SMTP server on loopback (aiosmtpd), alone and under the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import math
import shutil
import smtplib
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any

import attrs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from selfsched import ClientActor, ClinicianActor, DispatchReport, LiveSettings
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
            # As real servers do (Postfix, for one): the refusal repeats the address.
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
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


@contextlib.contextmanager
def serving(
    handler: Handler, controller: type[Controller] = Controller, **options: Any
) -> Iterator[int]:
    """An aiosmtpd server on 127.0.0.1 (*options* go to its Controller) while inside; its port."""
    server = controller(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=5, **options)
    server.start()
    try:
        yield server.port
    finally:
        handler.release.set()
        server.stop()


@pytest.fixture
def port(handler: Handler) -> Iterator[int]:
    """An SMTP server on 127.0.0.1 for one test; its port."""
    with serving(handler) as number:
        yield number


def mailer(port: int, **options: Any) -> SmtpMailer:
    """An SmtpMailer for the test server with a short timeout (unless *options* give one)."""
    return SmtpMailer(
        "127.0.0.1",
        port,
        sender="Test Clinic <no-reply@clinic.example.test>",
        **{"timeout": SHORT, **options},
    )


MESSAGE = EmailMessage(
    message_id="<appointment-1.approved.v2@clinic.example.test>",
    kind=EmailKind.APPROVED,
    appointment_id="appointment-1",
    client_id="client-1",
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


def test_a_reply_to_address_arrives_as_a_header(port: int, handler: Handler) -> None:
    """A message with a reply-to address has a Reply-To header; one without has none."""
    replying = attrs.evolve(MESSAGE, reply_to="Test Clinic <desk@clinic.example.test>")
    mailer(port).send(replying)
    mailer(port).send(MESSAGE)
    assert ["Test Clinic <desk@clinic.example.test>", None] == [
        received["Reply-To"] for received in handler.received
    ]


def test_a_message_without_html_arrives_as_plain_text(port: int, handler: Handler) -> None:
    """No HTML (a practice template without one): a single text/plain part."""
    mailer(port).send(attrs.evolve(MESSAGE, html=""))
    [received] = handler.received
    assert "text/plain" == received.get_content_type()
    assert MESSAGE.text == received.get_content().replace("\r\n", "\n")


@pytest.mark.parametrize(
    "field",
    ["subject", "to", "message_id", "reply_to"],
    ids=["subject", "to", "message-id", "reply-to"],
)
def test_a_header_with_a_line_break_is_never_sent(port: int, handler: Handler, field: str) -> None:
    """A CR/LF in a header value is refused before connecting; no header can be injected."""
    base = attrs.evolve(MESSAGE, reply_to="desk@clinic.example.test")
    evil = attrs.evolve(base, **{field: getattr(base, field) + "\r\nBcc: x@evil.test"})
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


def test_the_practices_reply_to_address_arrives_with_its_emails(
    port: int, handler: Handler
) -> None:
    """``Practice.reply_to``, through the scheduler's outbox, is the email's Reply-To header."""
    world = make_world(InMemoryStore(), mailer=mailer(port))
    settings = world.scheduler.settings
    assert isinstance(settings, LiveSettings)
    settings.replace(attrs.evolve(settings.current(), reply_to="desk@clinic.example.test"))
    request = world.scheduler.book(ClientActor("client-1"), "dr-a", SLOT)
    world.scheduler.approve(ClinicianActor("dr-a"), request.id)

    assert 1 == world.scheduler.dispatch().delivered
    [received] = handler.received
    assert ("desk@clinic.example.test", "client-1@example.test") == (
        received["Reply-To"],
        received["To"],
    )


def dispatch_after_backoff(world: World, rounds: int) -> list[DispatchReport]:
    """Dispatch *rounds* times, the clock moved past any retry's back-off after each."""
    reports = []
    for _ in range(rounds):
        reports.append(world.scheduler.dispatch())
        world.clock.advance(world.scheduler.retry.cap)
    return reports


def test_an_uncertain_email_is_sent_again_once_with_the_same_message_id(
    port: int, handler: Handler
) -> None:
    """Through dispatch: uncertain, resent once with the same Message-ID, then never again."""
    handler.data_reply = "hang"
    world = approved_email_waiting(mailer(port))
    reports = dispatch_after_backoff(world, 3)
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
    first, second, third = dispatch_after_backoff(world, 3)
    assert (0, 1, 0) == (first.delivered, first.retrying, first.failed)
    assert (1, 0, 0) == (second.delivered, second.retrying, second.failed)
    assert (0, 0, 0) == (third.delivered, third.retrying, third.failed)
    assert 1 == len({m["Message-ID"] for m in handler.received})
    assert 2 == len(handler.received)


# -- issue 7, item 8: a deadline per message, drops mid-DATA, credentials, PHI in errors ---------

CLINIC_LOGIN = "clinic"
CLINIC_PASSWORD = "s3cret"  # noqa: S105  (the test server's login)

TRICKLE_GAP = 0.05
"""Seconds between two bytes of a trickled reply."""


@contextlib.contextmanager
def scripted_server(script: Callable[[socket.socket, threading.Event], None]) -> Iterator[int]:
    """A TCP server on 127.0.0.1 that runs *script* on each connection while inside; its port.

    *script* gets the connection and an event set when the test is over (it should then stop).
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    over = threading.Event()

    def serve() -> None:
        while not over.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection, contextlib.suppress(OSError):
                script(connection, over)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        over.set()
        thread.join(10)
        listener.close()


def trickle(connection: socket.socket, over: threading.Event, data: bytes) -> None:
    """Send *data* one byte at a time, TRICKLE_GAP apart, each byte well within any timeout."""
    for byte in data:
        if over.is_set():
            return
        connection.sendall(bytes([byte]))
        time.sleep(TRICKLE_GAP)


def trickled_greeting(connection: socket.socket, over: threading.Event) -> None:
    """Greet one byte at a time: 86 bytes, about 4.3 s in all."""
    trickle(connection, over, b"220 " + b"slow" * 20 + b"\r\n")


def trickled_final_reply(connection: socket.socket, over: threading.Event) -> None:
    """A small SMTP server that accepts everything but trickles its answer to the final dot
    (a reply of nine lines, 110 bytes: about 5.5 s)."""
    with connection.makefile("rb") as reader:
        connection.sendall(b"220 scripted ESMTP\r\n")
        while line := reader.readline():
            command = line[:4].upper()
            if command == b"DATA":
                connection.sendall(b"354 Go ahead\r\n")
                while reader.readline() not in {b".\r\n", b""}:
                    pass
                # Many lines, so the deadline falls before the last one: a reply cut short in
                # its last line still carries the server's verdict, its code.
                trickle(connection, over, b"250-Queued\r\n" * 8 + b"250 2.0.0 Ok\r\n")
            elif command == b"QUIT":
                connection.sendall(b"221 Bye\r\n")
                return
            else:
                connection.sendall(b"250 OK\r\n")


def test_item8_a_trickled_greeting_ends_at_the_default_deadline() -> None:
    """A server greeting one byte at a time cannot stretch a delivery past its deadline.

    Every byte comes well within the socket timeout (0.5 s), so only the deadline per message
    (by default twice the timeout) stops it: a DeliveryError, since nothing was sent, saying
    the deadline was reached, well before the greeting's 4.3 s.
    """
    with scripted_server(trickled_greeting) as number:
        smtp = mailer(number, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(DeliveryError, match="deadline") as caught:
            smtp.send(MESSAGE)
        took = time.monotonic() - started
    assert 1.0 == smtp.deadline
    assert not isinstance(caught.value, DeliveryUncertain)
    assert took < smtp.deadline + 0.5


def test_item8_a_reply_to_the_final_dot_trickled_past_the_deadline_is_uncertain() -> None:
    """A deadline passing after the final dot: the server may have the message, so uncertain."""
    with scripted_server(trickled_final_reply) as number:
        smtp = mailer(number, timeout=2.0, deadline=1.0)
        started = time.monotonic()
        with pytest.raises(DeliveryUncertain, match=r"deadline of 1\.0 s") as caught:
            smtp.send(MESSAGE)
        took = time.monotonic() - started
    assert "may have been accepted" in str(caught.value)
    assert took < 1.0 + 0.5


@pytest.mark.parametrize("deadline", [0.0, -1.0, math.nan, math.inf])
def test_item8_a_deadline_must_be_a_positive_number_of_seconds(deadline: float) -> None:
    """A deadline that could never pass, or has already passed, is refused when it is set."""
    with pytest.raises(InvalidInput, match="deadline"):
        SmtpMailer("127.0.0.1", sender="a@clinic.example.test", deadline=deadline)


class DropsMidData(SMTP):
    """aiosmtpd's server, except that it hangs up once it has read 64 KiB of a message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.data_bytes: int | None = None

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802  (aiosmtpd's command hook)
        """Count what arrives from here on."""
        self.data_bytes = 0
        await super().smtp_DATA(arg)

    def data_received(self, data: bytes) -> None:
        """Past 64 KiB of DATA, drop the connection (unread data left: the peer gets a reset)."""
        if self.data_bytes is not None and isinstance(self.transport, asyncio.WriteTransport):
            self.data_bytes += len(data)
            if self.data_bytes > 64 * 1024:
                self.transport.abort()
                return
        super().data_received(data)


class DropsMidDataController(Controller):
    """A Controller whose server is :class:`DropsMidData`."""

    def factory(self) -> SMTP:
        """The server for one connection."""
        return DropsMidData(self.handler, **self.SMTP_kwargs)


def test_item8_a_connection_dropped_mid_data_is_a_delivery_error(handler: Handler) -> None:
    """The server hangs up while the message is still being sent: surely not delivered.

    The final dot was never handed over, so the server cannot have accepted the message: a
    DeliveryError (retried like any other, with the same Message-ID), not DeliveryUncertain,
    and its message names what happened. The message is far larger than the socket buffers, so
    the client is still sending when the connection goes.
    """
    big = attrs.evolve(MESSAGE, text=MESSAGE.text + "A long line of the message body.\n" * 300_000)
    with (
        serving(handler, DropsMidDataController) as number,
        pytest.raises(DeliveryError, match="dropped while the message was being sent") as e,
    ):
        mailer(number, timeout=5.0).send(big)
    assert not isinstance(e.value, DeliveryUncertain)
    assert isinstance(e.value.__cause__, OSError)
    assert "before its final dot" in str(e.value)
    assert [] == handler.received


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made for this session by openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the TLS tests need the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
    ]
    subprocess.run(  # noqa: S603  (a fixed command line)
        [openssl, *command, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """The test server's TLS settings, with the session's certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """A client's TLS settings that trust the session's certificate (and nothing else)."""
    return ssl.create_default_context(cafile=str(certificate[0]))


def clinic_login(  # the signature aiosmtpd calls an authenticator with
    server: Any,
    session: Any,
    envelope: Any,
    mechanism: str,
    auth_data: Any,
) -> AuthResult:
    """Accept the clinic's login only."""
    ok = isinstance(auth_data, LoginPassword) and (
        (CLINIC_LOGIN.encode(), CLINIC_PASSWORD.encode()) == (auth_data.login, auth_data.password)
    )
    return AuthResult(success=ok)


def test_item8_credentials_are_never_sent_over_clear_text() -> None:
    """A login without STARTTLS or implicit TLS is refused when the mailer is made."""
    with pytest.raises(InvalidInput, match=r"starttls=True"):
        SmtpMailer(
            "127.0.0.1",
            sender="a@clinic.example.test",
            username=CLINIC_LOGIN,
            password=CLINIC_PASSWORD,
        )


def test_item8_starttls_and_implicit_tls_together_are_refused() -> None:
    """STARTTLS upgrades a clear connection, implicit TLS never has one: choose one."""
    with pytest.raises(InvalidInput, match="implicit_tls"):
        SmtpMailer("127.0.0.1", sender="a@clinic.example.test", starttls=True, implicit_tls=True)


def test_item8_a_login_after_starttls_delivers(
    handler: Handler, certificate: tuple[Path, Path]
) -> None:
    """Username and password go out after STARTTLS, to a server that insists on both."""
    tls = server_tls(certificate)
    with serving(
        handler,
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        authenticator=clinic_login,
    ) as number:
        smtp = mailer(
            number,
            starttls=True,
            ssl_context=client_tls(certificate),
            username=CLINIC_LOGIN,
            password=CLINIC_PASSWORD,
        )
        smtp.send(MESSAGE)
    assert [MESSAGE.message_id] == [m["Message-ID"] for m in handler.received]


def test_item8_implicit_tls_delivers(handler: Handler, certificate: tuple[Path, Path]) -> None:
    """``implicit_tls=True`` (SMTPS, usually port 465) speaks TLS from the first byte."""
    # aiosmtpd offers AUTH over TLS it started itself (STARTTLS) only, unless told otherwise;
    # the mailer logs in because it has a username, and a wrong login would fail the test.
    with serving(
        handler,
        ssl_context=server_tls(certificate),
        auth_require_tls=False,
        authenticator=clinic_login,
    ) as number:
        smtp = mailer(
            number,
            implicit_tls=True,
            ssl_context=client_tls(certificate),
            username=CLINIC_LOGIN,
            password=CLINIC_PASSWORD,
        )
        smtp.send(MESSAGE)
    assert [MESSAGE.message_id] == [m["Message-ID"] for m in handler.received]


def test_item8_implicit_tls_refuses_an_untrusted_certificate(
    handler: Handler, certificate: tuple[Path, Path]
) -> None:
    """The server's certificate is checked: a self-signed one nobody trusts gets nothing."""
    with (
        serving(handler, ssl_context=server_tls(certificate)) as number,
        pytest.raises(DeliveryError, match=r"(?i)certificate") as caught,
    ):
        mailer(number, implicit_tls=True).send(MESSAGE)
    assert not isinstance(caught.value, DeliveryUncertain)
    assert [] == handler.received


@pytest.mark.parametrize(
    ("to", "refuse"),
    [
        ("ana@@example.test", False),
        ("ana.müller@example.test", False),
        ("ana.mueller@example.test", True),
    ],
    ids=["not-an-address", "not-ascii", "refused-by-the-server"],
)
def test_item8_no_error_message_quotes_the_client_address(
    port: int, handler: Handler, to: str, refuse: bool
) -> None:
    """The client's address is PHI: an error names the field, never the address itself.

    Also when the server's refusal repeats the address, as real servers do.
    """
    handler.reject_recipient = refuse
    with pytest.raises(DeliveryError) as caught:
        mailer(port).send(attrs.evolve(MESSAGE, to=to))
    assert to.lower() not in str(caught.value).lower()
    assert "client email address" in str(caught.value)
    assert [] == handler.received
