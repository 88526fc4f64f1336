"""An SMTP mailer: standard library ``smtplib`` and ``email``, one connection per message.

Each :class:`~selfsched.events.EmailMessage` goes out as ``multipart/alternative`` (plain text and
HTML; plain text alone when the message has no HTML; and its calendar invite, when it carries
one, as a ``text/calendar; method=REQUEST`` or ``method=CANCEL`` alternative) with the message's
own stable ``Message-ID``, so a resend carries the same id, and a ``Reply-To`` header when the
message has a reply-to address (the practice's, ``Practice.reply_to``).

How failures are reported (see :class:`~selfsched.ports.Mailer`):

- :class:`~selfsched.errors.DeliveryError`: the message surely did not go out. The server could
  not be reached, refused the greeting, STARTTLS, the login, the sender, the recipient or the
  ``DATA`` command, the connection broke (or the deadline passed) before the final dot was
  handed over, or the server answered the final dot with a 4xx/5xx refusal. A server accepts a
  message only once it has read the final dot, so a connection dropped in the middle of
  ``DATA``, while the client is still sending, is a sure failure; the outbox tries it again
  later, with the same Message-ID, like any other.
- :class:`~selfsched.errors.DeliveryUncertain`: the whole message including the final dot was
  handed to the operating system but no usable answer came back (a timeout, the deadline, a
  dropped connection, a garbled reply). The server may have read the dot and accepted the
  message; the outbox sends it once more with the same Message-ID.

Every wait for the server (connecting, each reply) is cut off after ``timeout`` seconds, and the
whole conversation of one message after ``deadline`` seconds: a server that answers one byte at
a time cannot hold a delivery longer than that.

Header values are checked (no line breaks) before anything is sent, and the ``email`` package
refuses them again, so no value can add a header. SMTP commands are ASCII: an address that is not
is refused with a :class:`~selfsched.errors.DeliveryError`. No error message quotes the client's
address (it is PHI in a log), not even where the server's reply repeats it; messages name the
field instead, and never include the body.
"""

from __future__ import annotations

import contextlib
import email.policy
import email.utils
import math
import re
import smtplib
import socket
import ssl
import threading
import time
from email.message import EmailMessage as MimeMessage
from typing import TYPE_CHECKING

from selfsched.emails import check_header
from selfsched.errors import DeliveryError, DeliveryUncertain, InvalidHeader, InvalidInput
from selfsched.events import EmailMessage

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

__all__ = ["SmtpMailer"]

_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)
_METHOD = re.compile(r"^METHOD:([A-Za-z-]+)\r?$", re.MULTILINE)

_POLICY = email.policy.SMTP.clone(cte_type="7bit")
"""CRLF line ends, and non-ASCII text as quoted-printable or base64: the message is plain ASCII
on the wire, so no server has to support 8BITMIME or SMTPUTF8."""


def _dot_stuffed(data: bytes) -> bytes:
    """*data* as the body of ``DATA``: leading dots doubled, ending in CRLF, then the final dot."""
    stuffed = _LEADING_DOT.sub(b"..", data)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


class _Deadline:
    """The end of one message's conversation: caps every wait, and cuts the connection there.

    A socket timeout bounds each read, not the sum of them. A timer therefore shuts the watched
    connection down when the deadline passes, which ends any read or write in progress (even
    inside ``smtplib``, such as the greeting, or inside a TLS handshake).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def passed(self) -> bool:
        return time.monotonic() >= self._end

    def cap(self, timeout: float) -> float:
        """*timeout*, but no longer than the time left; TimeoutError when none is left."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the deadline of {self.seconds} s was reached")
        return min(timeout, left)

    def watch(self, connection: socket.socket) -> None:
        """Shut *connection* down at the deadline (through a duplicate descriptor of it, so it
        stays reachable when ``ssl`` wraps the original)."""
        duplicate = connection.dup()
        with self._lock:
            self._watched.append(duplicate)
        if self.passed():
            self._expire()

    def _expire(self) -> None:
        with self._lock:
            for connection in self._watched:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Stop the timer and let go of the watched connections."""
        self._timer.cancel()
        with self._lock:
            for connection in self._watched:
                connection.close()
            self._watched.clear()


class _Conversation(smtplib.SMTP):
    """``smtplib.SMTP`` held to a :class:`_Deadline`, speaking TLS from the start if asked."""

    def __init__(
        self,
        host: str,
        deadline: _Deadline,
        implicit_tls: ssl.SSLContext | None,
        *,
        local_hostname: str | None,
        timeout: float,
    ) -> None:
        self._deadline = deadline
        self._implicit_tls = implicit_tls
        super().__init__(local_hostname=local_hostname, timeout=timeout)  # not connected yet
        self._host = host  # the name STARTTLS checks the certificate against

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        """Connect (what ``smtplib`` calls before reading the greeting), watched from the start."""
        connection = socket.create_connection(
            (host, port), self._deadline.cap(timeout), self.source_address
        )
        try:
            self._deadline.watch(connection)
            if self._implicit_tls is None:
                return connection
            return self._implicit_tls.wrap_socket(connection, server_hostname=host)
        except BaseException:
            connection.close()
            raise

    def _cap_wait(self) -> None:
        if self.sock is not None:
            self.sock.settimeout(self._deadline.cap(self.timeout))

    def send(self, s: ReadableBuffer | str) -> None:
        self._cap_wait()
        super().send(s)

    def getreply(self) -> tuple[int, bytes]:
        self._cap_wait()
        return super().getreply()

    def send_data(self, data: bytes) -> None:
        """Hand the dot-stuffed message over, final dot included; a failure raises OSError.

        Unlike :meth:`send`, the socket's own error comes through (``smtplib`` would replace it
        with "Server not connected").
        """
        if self.sock is None:
            raise smtplib.SMTPServerDisconnected("the connection was already closed")
        self._cap_wait()
        self.sock.sendall(data)


class SmtpMailer:
    """Sends client emails through an SMTP server.

    *sender* is the ``From`` address (and the envelope sender). With *starttls* the connection
    is upgraded before anything else is said, and a server that cannot do it is an error, never
    a silent fall back to clear text; with *implicit_tls* (SMTPS, usually port 465) TLS starts
    with the connection. Either checks the server's certificate with *ssl_context* (by default
    the system's trusted certificates). *username* and *password* log in, and need one of the
    two: credentials are never sent in clear text.

    *timeout* (seconds) bounds each wait: connecting, and every reply, including the reply to
    the final dot. *deadline* (seconds; by default twice *timeout*) bounds the whole
    conversation of one message, from connecting to the reply to the final dot, however the
    server spreads its answers. A timeout or the deadline after the final dot was handed over
    makes the delivery uncertain; before it, it surely failed.
    """

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        implicit_tls: bool = False,
        timeout: float = 60.0,
        deadline: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise InvalidInput("Give SmtpMailer both a username and a password, or neither.")
        if starttls and implicit_tls:
            raise InvalidInput(
                "Give SmtpMailer starttls=True (usually port 587) or implicit_tls=True (usually "
                "port 465), not both."
            )
        if username is not None and not (starttls or implicit_tls):
            raise InvalidInput(
                "SmtpMailer would send the username and password in clear text: turn on "
                "starttls=True (or implicit_tls=True for SMTPS on port 465) to log in."
            )
        if deadline is None:
            deadline = 2 * timeout
        if not (math.isfinite(deadline) and deadline > 0):
            raise InvalidInput(
                f"SmtpMailer's deadline must be a positive, finite number of seconds (the "
                f"longest one message may take), not {deadline!r}; leave it out for twice the "
                f"timeout."
            )
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.timeout = timeout
        self.deadline = deadline
        self.ssl_context = ssl_context
        self.local_hostname = local_hostname

    def build(self, message: EmailMessage) -> MimeMessage:
        """The MIME message that :meth:`send` transmits (for inspection and tests)."""
        headers = {
            "From": check_header("sender address", self.sender),
            "To": check_header("client email address", message.to),
            "Subject": check_header("subject", message.subject),
            "Date": email.utils.formatdate(usegmt=True),
            "Message-ID": check_header("Message-ID", message.message_id),
            # RFC 3834: an automatic notification; auto-responders should not answer it.
            "Auto-Submitted": "auto-generated",
        }
        if message.reply_to is not None:
            headers["Reply-To"] = check_header("reply-to address", message.reply_to)
        mime = MimeMessage(policy=_POLICY)
        for name, value in headers.items():
            mime[name] = value
        mime.set_content(message.text)
        if message.html:
            mime.add_alternative(message.html, subtype="html")
        if message.calendar:
            # The invite (selfsched.ical.invite) as the last alternative, with the METHOD it
            # carries (REQUEST or CANCEL) also on the part's Content-Type, as RFC 6047 asks.
            found = _METHOD.search(message.calendar)
            method = found[1].upper() if found else "PUBLISH"
            mime.add_alternative(
                message.calendar, subtype="calendar", params={"method": method}, charset="utf-8"
            )
        return mime

    def send(self, message: EmailMessage) -> None:
        """Deliver *message*; raise DeliveryError or DeliveryUncertain as described above."""
        try:
            mime = self.build(message)
            data = _dot_stuffed(mime.as_bytes())
            recipient = email.utils.parseaddr(message.to)[1]
            envelope_sender = email.utils.parseaddr(self.sender)[1]
        except (InvalidHeader, ValueError, UnicodeError) as exc:
            raise DeliveryError(
                f"Email {message.message_id!r} was not sent: it cannot be written as a safe "
                f"message ({_without(str(exc), message.to)})."
            ) from exc
        for field, address in (("client email address", recipient), ("sender", envelope_sender)):
            problem = (
                "is not an email address"
                if not address
                else "is not ASCII (SMTP commands are)"
                if not address.isascii()
                else None
            )
            if problem is not None:
                raise DeliveryError(
                    f"Email {message.message_id!r} was not sent: the {field} {problem}; correct it."
                )
        deadline = _Deadline(self.deadline)
        try:
            smtp = self._connect(message, deadline)
            delivered = False
            try:
                self._transmit(smtp, message, envelope_sender, recipient, data, deadline)
                delivered = True
            finally:
                if delivered:
                    with contextlib.suppress(smtplib.SMTPException, OSError):
                        smtp.quit()
                smtp.close()
        finally:
            deadline.close()

    def _connect(self, message: EmailMessage, deadline: _Deadline) -> _Conversation:
        """A connection that has read the server's greeting (held to *deadline* already)."""
        tls = (self.ssl_context or ssl.create_default_context()) if self.implicit_tls else None
        smtp = _Conversation(
            self.host, deadline, tls, local_hostname=self.local_hostname, timeout=self.timeout
        )
        try:
            code, reply = smtp.connect(self.host, self.port)
        except (OSError, smtplib.SMTPException) as exc:
            smtp.close()
            raise DeliveryError(
                f"Email {message.message_id!r} was not sent: cannot reach the SMTP server "
                f"{self.host}:{self.port} ({self._why(exc, deadline, message)})."
            ) from exc
        if code != 220:
            smtp.close()
            raise DeliveryError(
                f"Email {message.message_id!r} was not sent: the SMTP server "
                f"{self.host}:{self.port} refused the connection "
                f"({_reply(code, reply, message.to)})."
            )
        return smtp

    def _why(self, exc: BaseException, deadline: _Deadline, message: EmailMessage) -> str:
        """What went wrong, for an error message: the deadline if it passed, else *exc*."""
        if deadline.passed():
            return f"the deadline of {deadline.seconds} s for one message was reached"
        return _without(str(exc), message.to)

    def _transmit(
        self,
        smtp: _Conversation,
        message: EmailMessage,
        envelope_sender: str,
        recipient: str,
        data: bytes,
        deadline: _Deadline,
    ) -> None:
        def refused(step: str, code: int, reply: bytes) -> DeliveryError:
            return DeliveryError(
                f"Email {message.message_id!r} was not sent: the SMTP server "
                f"{self.host}:{self.port} refused {step} ({_reply(code, reply, message.to)})."
            )

        try:
            smtp.ehlo_or_helo_if_needed()
            if self.starttls:
                smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if self.username is not None and self.password is not None:
                smtp.login(self.username, self.password)
            code, reply = smtp.mail(envelope_sender)
            if code != 250:
                raise refused("the sender", code, reply)
            code, reply = smtp.rcpt(recipient)
            if code not in {250, 251}:
                raise refused("the recipient, the client email address", code, reply)
            code, reply = smtp.docmd("DATA")
            if code != 354:
                raise refused("DATA", code, reply)
        except (OSError, ValueError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"Email {message.message_id!r} was not sent: the SMTP conversation with "
                f"{self.host}:{self.port} failed before the message was complete "
                f"({self._why(exc, deadline, message)})."
            ) from exc
        try:
            # Until every byte up to the final dot is handed over, the server cannot have
            # accepted the message: a failure here is a sure failure.
            smtp.send_data(data)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"Email {message.message_id!r} was not sent: the connection to "
                f"{self.host}:{self.port} was dropped while the message was being sent, before "
                f"its final dot ({self._why(exc, deadline, message)}); the server cannot have "
                f"accepted it."
            ) from exc
        try:
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryUncertain(
                f"Email {message.message_id!r} was sent to {self.host}:{self.port} but no reply "
                f"came back ({self._why(exc, deadline, message)}); it may have been accepted."
            ) from exc
        if 200 <= code < 300:
            return
        if 400 <= code < 600:
            raise refused("the message", code, reply)
        detail = _reply(code, reply, message.to)
        if deadline.passed():
            detail += f", cut off at the deadline of {deadline.seconds} s for one message"
        raise DeliveryUncertain(
            f"Email {message.message_id!r} was sent to {self.host}:{self.port} but the reply "
            f"could not be understood ({detail}); it may have been accepted."
        )


def _without(text: str, to: str) -> str:
    """*text* with the client's address (and the whole ``To`` value) left out: it is PHI."""
    for value in {to, email.utils.parseaddr(to)[1]}:
        if value:
            text = re.sub(re.escape(value), "<the client email address>", text, flags=re.IGNORECASE)
    return text


def _reply(code: int, reply: bytes, to: str) -> str:
    """A server's reply for an error message, without the client's address."""
    return _without(f"{code} {reply.decode('ascii', 'replace')}", to)
