"""An SMTP mailer: standard library ``smtplib`` and ``email``, one connection per message.

Each :class:`~selfsched.events.EmailMessage` goes out as ``multipart/alternative`` (plain text and
HTML) with the message's own stable ``Message-ID``, so a resend carries the same id.

How failures are reported (see :class:`~selfsched.ports.Mailer`):

- :class:`~selfsched.errors.DeliveryError`: the message surely did not go out. The server could
  not be reached, refused the greeting, STARTTLS, the login, the sender, the recipient or the
  ``DATA`` command, the connection broke before the final dot was handed over, or the server
  answered the final dot with a 4xx/5xx refusal.
- :class:`~selfsched.errors.DeliveryUncertain`: the whole message including the final dot was
  sent but no usable answer came back (a timeout, a dropped connection, a garbled reply). The
  server may have accepted it; the outbox sends it once more with the same Message-ID.

Header values are checked (no line breaks) before anything is sent, and the ``email`` package
refuses them again, so no value can add a header. SMTP commands are ASCII: an address that is not
is refused with a :class:`~selfsched.errors.DeliveryError`.
"""

from __future__ import annotations

import contextlib
import email.policy
import email.utils
import re
import smtplib
import ssl
from email.message import EmailMessage as MimeMessage

from selfsched.emails import check_header
from selfsched.errors import DeliveryError, DeliveryUncertain, InvalidHeader, InvalidInput
from selfsched.events import EmailMessage

__all__ = ["SmtpMailer"]

_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)

_POLICY = email.policy.SMTP.clone(cte_type="7bit")
"""CRLF line ends, and non-ASCII text as quoted-printable or base64: the message is plain ASCII
on the wire, so no server has to support 8BITMIME or SMTPUTF8."""


def _dot_stuffed(data: bytes) -> bytes:
    """*data* as the body of ``DATA``: leading dots doubled, ending in CRLF, then the final dot."""
    stuffed = _LEADING_DOT.sub(b"..", data)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


class SmtpMailer:
    """Sends client emails through an SMTP server.

    *sender* is the ``From`` address (and the envelope sender). With *starttls* the connection
    is upgraded before anything else is said, and a server that cannot do it is an error, never
    a silent fall back to clear text. *username* and *password* log in (after STARTTLS, if set).
    *timeout* (seconds) applies to connecting and to every reply, including the reply to the
    final dot; when that one does not come in time the delivery is uncertain.
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
        timeout: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise InvalidInput("Give SmtpMailer both a username and a password, or neither.")
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout
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
        mime = MimeMessage(policy=_POLICY)
        for name, value in headers.items():
            mime[name] = value
        mime.set_content(message.text)
        mime.add_alternative(message.html, subtype="html")
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
                f"message ({exc})."
            ) from exc
        if not recipient or not envelope_sender:
            raise DeliveryError(
                f"Email {message.message_id!r} was not sent: {message.to!r} or the sender "
                f"{self.sender!r} is not an email address."
            )
        try:
            smtp = smtplib.SMTP(
                self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
            )
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"Email {message.message_id!r} was not sent: cannot reach the SMTP server "
                f"{self.host}:{self.port} ({exc})."
            ) from exc
        delivered = False
        try:
            self._transmit(smtp, message, envelope_sender, recipient, data)
            delivered = True
        finally:
            if delivered:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    smtp.quit()
            smtp.close()

    def _transmit(
        self,
        smtp: smtplib.SMTP,
        message: EmailMessage,
        envelope_sender: str,
        recipient: str,
        data: bytes,
    ) -> None:
        def refused(step: str, detail: object) -> DeliveryError:
            return DeliveryError(
                f"Email {message.message_id!r} was not sent: the SMTP server "
                f"{self.host}:{self.port} refused {step} ({detail})."
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
                raise refused("the sender", f"{code} {reply!r}")
            code, reply = smtp.rcpt(recipient)
            if code not in {250, 251}:
                raise refused("the recipient", f"{code} {reply!r}")
            code, reply = smtp.docmd("DATA")
            if code != 354:
                raise refused("DATA", f"{code} {reply!r}")
            # Until every byte up to the final dot is handed over, the server cannot have
            # accepted the message: a failure here is a sure failure.
            smtp.send(data)
        except (OSError, ValueError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"Email {message.message_id!r} was not sent: the SMTP conversation with "
                f"{self.host}:{self.port} failed before the message was complete ({exc})."
            ) from exc
        try:
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryUncertain(
                f"Email {message.message_id!r} was sent to {self.host}:{self.port} but no reply "
                f"came back ({exc}); it may have been accepted."
            ) from exc
        if 200 <= code < 300:
            return
        if 400 <= code < 600:
            raise refused("the message", f"{code} {reply!r}")
        raise DeliveryUncertain(
            f"Email {message.message_id!r} was sent to {self.host}:{self.port} but the reply "
            f"could not be understood ({code} {reply!r}); it may have been accepted."
        )
