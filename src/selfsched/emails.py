"""Client emails: minimal content, rendered in the client's zone, headers checked before queueing.

An email carries only the date, the time in the client's zone (with the zone named), the
clinician's name and the location or "No Location Set", and the practice's name and phone.
Never a service code, never a cancellation reason. Emails go to the client only. A calendar
invite, when the practice sends them (:mod:`selfsched.ical`), says no more.

The wording is the practice's (``Practice.email_templates``, see :mod:`selfsched.wording`), by
default the article's; either way it is filled from an :class:`~selfsched.wording.EmailContext`
that holds nothing else, and what the subject template yields is checked as a header here, before
the email is queued (and so before the change that caused it is committed).
"""

from __future__ import annotations

from datetime import datetime

from selfsched import _time, _validate
from selfsched.errors import InvalidHeader
from selfsched.events import EmailKind, EmailMessage
from selfsched.model import Appointment, Client, Clinician, Practice
from selfsched.wording import EmailContext, default_template

__all__ = ["NO_CLINICIAN_NAME", "NO_LOCATION", "check_header", "email_context", "render"]

NO_LOCATION = "No Location Set"

NO_CLINICIAN_NAME = "your clinician"
"""What ``$clinician_name`` reads when the practice has no name for the clinician."""


def check_header(name: str, value: str) -> str:
    """Return *value* if it is safe as an email header value; :class:`InvalidHeader` otherwise.

    Refused: every character ``str.splitlines`` splits on (CR, LF, VT, FF, FS, GS, RS, NEL,
    U+2028, U+2029) and every other C0 or C1 control character, tab and NUL included. The
    message names the field and the character, never the value (an address is PHI in a log).
    """
    return _validate.header(name, value)


def message_id(appointment: Appointment, kind: EmailKind, domain: str) -> str:
    """A Message-ID that is the same every time this email is rendered."""
    safe = "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in appointment.id)
    return f"<{safe}.{kind}.v{appointment.version}@{domain}>"


def email_context(
    appointment: Appointment, *, client: Client, clinician: Clinician, practice: Practice
) -> EmailContext:
    """What a template may say about *appointment*, read in the client's zone (or the
    practice's): see :class:`~selfsched.wording.EmailContext` for each field."""
    zone_key = client.zone or practice.zone
    local: datetime = appointment.start.astimezone(_time.zone(zone_key))
    return EmailContext(
        client_name=client.name,
        date=f"{local:%A, %B} {local.day}, {local.year}",
        time=f"{local:%I:%M %p}".lstrip("0"),
        time_zone=f"{local.tzname()} ({zone_key})",
        clinician_name=clinician.name or NO_CLINICIAN_NAME,
        location=appointment.location or NO_LOCATION,
        practice_name=practice.name,
        practice_phone=practice.phone or "",
    )


def render(
    kind: EmailKind,
    appointment: Appointment,
    *,
    client: Client,
    clinician: Clinician,
    practice: Practice,
    domain: str = "selfsched.invalid",
    calendar: str | None = None,
) -> EmailMessage:
    """The email of *kind* about *appointment*, in the client's zone (or the practice's).

    *calendar* is the calendar invite it carries, if any (:func:`selfsched.ical.invite`, which
    the service passes when ``Practice.calendar_invites`` is on).

    Worded by the practice's template for *kind*, or by the article's
    (:func:`~selfsched.wording.default_template`). Raises :class:`InvalidHeader` when the client
    has no address, or the address, the Message-ID or the subject the template yields could not
    be a header; the service renders inside the unit of work, so the change is refused too. (The
    practice's reply-to address was checked when the :class:`~selfsched.Practice` was built.)
    """
    if not client.email:
        raise InvalidHeader(f"Client {client.id!r} has no email address; add one to email them.")
    to = check_header("client email address", client.email)
    context = email_context(appointment, client=client, clinician=clinician, practice=practice)
    template = practice.email_templates.get(kind)
    if template is None:
        template = default_template(
            kind,
            client_name=bool(context.client_name),
            practice_phone=bool(context.practice_phone),
        )
    subject, text, html = template.fill(context)
    return EmailMessage(
        message_id=check_header("Message-ID", message_id(appointment, kind, domain)),
        kind=kind,
        appointment_id=appointment.id,
        client_id=appointment.client_id,
        to=to,
        subject=check_header("subject", subject),
        text=text,
        html="" if html is None else html,
        reply_to=practice.reply_to,  # checked as an address and a header by Practice
        calendar=calendar,
    )
