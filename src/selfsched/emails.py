"""Client emails: minimal content, rendered in the client's zone, headers checked before queueing.

An email carries only the date, the time in the client's zone (with the zone named), the
clinician's name and the location or "No Location Set". Never a service code, never a
cancellation reason. Emails go to the client only.
"""

from __future__ import annotations

import html
from datetime import datetime

from selfsched import _time
from selfsched.errors import InvalidHeader, WrongType
from selfsched.events import EmailKind, EmailMessage
from selfsched.model import Appointment, Client, Clinician, Practice

__all__ = ["NO_LOCATION", "check_header", "render"]

NO_LOCATION = "No Location Set"

_SUBJECTS = {
    EmailKind.APPROVED: "Your appointment request was approved",
    EmailKind.REJECTED: "Your appointment request was not approved",
    EmailKind.EXPIRED: "Your appointment request was not approved",
    EmailKind.CONFIRMED: "Your appointment is booked",
}

_OPENINGS = {
    EmailKind.APPROVED: "Your appointment request has been approved.",
    EmailKind.REJECTED: (
        "Your appointment request was not approved. Please call your clinician or the clinic "
        "for assistance."
    ),
    EmailKind.EXPIRED: (
        "Your appointment request was not approved in time and has expired. Please call your "
        "clinician or the clinic for assistance."
    ),
    EmailKind.CONFIRMED: "Your appointment has been booked.",
}


def _breaks_a_header(ch: str) -> bool:
    """A C0 or C1 control, DEL, or a character ``str.splitlines`` splits on (U+2028, U+2029)."""
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F or code in {0x2028, 0x2029}


def check_header(name: str, value: str) -> str:
    """Return *value* if it is safe as an email header value; :class:`InvalidHeader` otherwise.

    Refused: every character ``str.splitlines`` splits on (CR, LF, VT, FF, FS, GS, RS, NEL,
    U+2028, U+2029) and every other C0 or C1 control character, tab and NUL included. The
    message names the field and the character, never the value (an address is PHI in a log).
    """
    if not isinstance(value, str):
        raise WrongType(name, "a string", value, show=False)
    for position, ch in enumerate(value):
        if _breaks_a_header(ch):
            raise InvalidHeader(
                f"The {name} contains a control character (U+{ord(ch):04X}) at position "
                f"{position}; remove it before sending email."
            )
    return value


def message_id(appointment: Appointment, kind: EmailKind, domain: str) -> str:
    """A Message-ID that is the same every time this email is rendered."""
    safe = "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in appointment.id)
    return f"<{safe}.{kind}.v{appointment.version}@{domain}>"


def render(
    kind: EmailKind,
    appointment: Appointment,
    *,
    client: Client,
    clinician: Clinician,
    practice: Practice,
    domain: str = "selfsched.invalid",
) -> EmailMessage:
    """The email of *kind* about *appointment*, in the client's zone (or the practice's)."""
    if not client.email:
        raise InvalidHeader(f"Client {client.id!r} has no email address; add one to email them.")
    to = check_header("client email address", client.email)
    subject = check_header("subject", _SUBJECTS[kind])
    zone_key = client.zone or practice.zone
    local: datetime = appointment.start.astimezone(_time.zone(zone_key))
    when_date = f"{local:%A, %B} {local.day}, {local.year}"
    when_time = f"{local:%I:%M %p}".lstrip("0")
    zone_label = f"{local.tzname()} ({zone_key})"
    location = appointment.location or NO_LOCATION
    who = clinician.name or "your clinician"
    greeting = f"Hello {client.name}," if client.name else "Hello,"
    lines = [
        greeting,
        "",
        _OPENINGS[kind],
        "",
        f"Date: {when_date}",
        f"Time: {when_time} {zone_label}",
        f"Clinician: {who}",
        f"Location: {location}",
        "",
        f"{practice.name}" + (f" · {practice.phone}" if practice.phone else ""),
    ]
    text = "\n".join(lines) + "\n"
    rows = "".join(
        f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in (
            ("Date", when_date),
            ("Time", f"{when_time} {zone_label}"),
            ("Clinician", who),
            ("Location", location),
        )
    )
    body = (
        f"<p>{html.escape(greeting)}</p><p>{html.escape(_OPENINGS[kind])}</p>"
        f"<table>{rows}</table>"
        f"<p>{html.escape(lines[-1])}</p>"
    )
    return EmailMessage(
        message_id=check_header("Message-ID", message_id(appointment, kind, domain)),
        kind=kind,
        appointment_id=appointment.id,
        to=to,
        subject=subject,
        text=text,
        html=f"<!doctype html><html><body>{body}</body></html>",
    )
