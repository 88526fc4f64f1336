"""The practice's own words: email templates, and what a template may say.

A practice replaces the wording of any kind of client email with an :class:`EmailTemplate`: a
subject, a plain-text body and, optionally, an HTML alternative. Templates are
:class:`string.Template` text: ``$client_name`` (or ``${client_name}``) is replaced by that
field of the :class:`EmailContext`, ``$$`` is a dollar sign, and nothing else is evaluated (no
attribute access, no indexing, no format specifications). A template is checked when it is
built: a placeholder that is not one of :data:`FIELDS`, or a ``$`` that starts none, raises
:class:`~selfsched.errors.InvalidTemplate`, and a subject that could not be a header raises
:class:`~selfsched.errors.InvalidHeader`.

The templates are part of the practice settings (``Practice.email_templates``), keyed by
:class:`~selfsched.events.EmailKind`; a kind without one is written in the article's words
(:func:`default_template`).

Values are put into the HTML alternative HTML-escaped, and into the subject and the text as
they are. The context holds only what the client may read: never a service code or modifier,
another calendar entry of the clinician, or anything about other clients.

The model imports this module (for ``Practice.email_templates``), so it imports nothing of the
model: :class:`EmailContext` holds text, and :func:`selfsched.emails.email_context` builds it
from the model's values.
"""

from __future__ import annotations

import functools
import html
import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from selfsched import _validate
from selfsched.errors import InvalidInput, InvalidTemplate, WrongType
from selfsched.events import EmailKind

__all__ = [
    "FIELDS",
    "EmailContext",
    "EmailTemplate",
    "default_template",
    "templates_by_kind",
]

_TEXT = _validate.field(lambda name, value: _validate.text(name, value, show=False))
"""A string; a message about anything else leaves the value out (it may be a client's name)."""


@attrs.frozen(kw_only=True)
class EmailContext:
    """Everything an email template may use, and nothing else.

    :func:`selfsched.emails.email_context` builds it for one email. Each field is a placeholder
    of the same name (``$client_name``); each is text.
    """

    client_name: str = attrs.field(validator=_TEXT)
    """The client's name as the practice has it; empty when it has none."""
    date: str = attrs.field(validator=_TEXT)
    """The appointment's date in the client's zone (the practice's when the client has none),
    such as ``Tuesday, April 14, 2026``."""
    time: str = attrs.field(validator=_TEXT)
    """Its start time on the client's clock, such as ``7:00 PM``."""
    time_zone: str = attrs.field(validator=_TEXT)
    """The zone that time is in: its abbreviation at that time and its IANA key, such as
    ``BST (Europe/London)``."""
    clinician_name: str = attrs.field(validator=_TEXT)
    """The clinician's name, or ``your clinician`` when the practice has none for them."""
    location: str = attrs.field(validator=_TEXT)
    """Where the appointment is, or ``No Location Set``."""
    practice_name: str = attrs.field(validator=_TEXT)
    """The practice's name (``Practice.name``)."""
    practice_phone: str = attrs.field(validator=_TEXT)
    """The practice's phone number (``Practice.phone``); empty when it has none."""

    def values(self) -> dict[str, str]:
        """The fields by name, as a template is filled from them."""
        return {name: getattr(self, name) for name in FIELDS}


FIELDS: tuple[str, ...] = tuple(a.name for a in attrs.fields(EmailContext))
"""The names a template may use, in the order :class:`EmailContext` documents them."""


def _listed(names: tuple[str, ...]) -> str:
    """``$a, $b and $c``."""
    marked = [f"${name}" for name in names]
    return marked[0] if len(marked) == 1 else f"{', '.join(marked[:-1])} and {marked[-1]}"


def _checked(part: str, value: object) -> None:
    """Refuse *value* unless it is a template that uses only :data:`FIELDS`."""
    if not isinstance(value, str):
        raise WrongType(f"the email template's {part}", "a string", value)
    template = string.Template(value)
    if not template.is_valid():
        raise InvalidTemplate(
            f"The email template's {part} has a $ that starts no field name; write $$ for a "
            f"dollar sign, or one of the fields: {_listed(FIELDS)}.",
            part=part,
            unknown=(),
            allowed=FIELDS,
        )
    unknown = tuple(name for name in template.get_identifiers() if name not in FIELDS)
    if unknown:
        which = "is not a template field" if len(unknown) == 1 else "are not template fields"
        raise InvalidTemplate(
            f"The email template's {part} uses {_listed(unknown)}, which {which}; the fields "
            f"are {_listed(FIELDS)}.",
            part=part,
            unknown=unknown,
            allowed=FIELDS,
        )


def _template(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """An attrs validator: a template over :data:`FIELDS`."""
    _checked(attribute.name, value)


def _subject(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """An attrs validator: a template over :data:`FIELDS` that is safe as a header."""
    _checked(attribute.name, value)
    _validate.header("email template's subject", value)


@attrs.frozen(kw_only=True)
class EmailTemplate:
    """The wording of one kind of client email: a subject, a plain-text body and, optionally, an
    HTML alternative, each a :class:`string.Template` over :data:`FIELDS`.

    Checked when built: :class:`~selfsched.errors.InvalidTemplate` for a placeholder that is not
    a field (the message names it and lists the fields) or a ``$`` that starts none (write
    ``$$`` for a dollar sign); :class:`~selfsched.errors.InvalidHeader` for a subject with a
    line break or another control character.

    Without *html* the email is sent as plain text only.
    """

    subject: str = attrs.field(validator=_subject)
    """One line; what it yields is checked again as a header when an email is rendered."""
    text: str = attrs.field(validator=_template)
    """The plain-text body."""
    html: str | None = attrs.field(default=None, validator=attrs.validators.optional(_template))
    """The HTML alternative, or ``None`` for none. The template's own markup is kept as written;
    every value put into it is HTML-escaped."""

    def fill(self, context: EmailContext) -> tuple[str, str, str | None]:
        """The subject, text and HTML (``None`` without an HTML template) for *context*.

        The subject is returned as filled in: :func:`selfsched.emails.render` checks it as a
        header.
        """
        _validate.instance("context", context, EmailContext, "an EmailContext")
        values = context.values()
        escaped = {name: html.escape(value) for name, value in values.items()}
        return (
            string.Template(self.subject).substitute(values),
            string.Template(self.text).substitute(values),
            None if self.html is None else string.Template(self.html).substitute(escaped),
        )


def templates_by_kind(value: object) -> Mapping[EmailKind, EmailTemplate]:
    """*value* (a mapping of :class:`~selfsched.events.EmailKind`, or its value, to
    :class:`EmailTemplate`; ``None`` for none) as a read-only mapping keyed by ``EmailKind``.

    The converter of ``Practice.email_templates``.
    """
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise WrongType("email_templates", "a mapping of EmailKind to EmailTemplate", value)
    kinds = {str(kind): kind for kind in EmailKind}
    by_kind: dict[EmailKind, EmailTemplate] = {}
    for key, template in value.items():
        kind = kinds.get(key) if isinstance(key, str) else None
        if kind is None:
            raise InvalidInput(
                f"email_templates has a key {key!r}, which is not an EmailKind; the kinds are "
                f"{', '.join(kinds)}."
            )
        name = f"email_templates[{str(kind)!r}]"
        by_kind[kind] = _validate.instance(name, template, EmailTemplate, "an EmailTemplate")
    return MappingProxyType(by_kind)


# -- the article's words --------------------------------------------------------------------------

_SUBJECTS = {
    EmailKind.APPROVED: "Your appointment request was approved",
    EmailKind.REJECTED: "Your appointment request was not approved",
    EmailKind.EXPIRED: "Your appointment request was not approved",
    EmailKind.CONFIRMED: "Your appointment is booked",
    EmailKind.CANCELLED: "Your appointment was cancelled",
}

_CALL = "Please call your clinician or the clinic{at} for assistance."

_OPENINGS = {
    EmailKind.APPROVED: "Your appointment request has been approved.",
    EmailKind.REJECTED: f"Your appointment request was not approved. {_CALL}",
    EmailKind.EXPIRED: (
        f"Your appointment request was not approved in time and has expired. {_CALL}"
    ),
    EmailKind.CONFIRMED: "Your appointment has been booked.",
    EmailKind.CANCELLED: f"Your appointment has been cancelled. {_CALL}",
}

_DETAILS = (
    ("Date", "$date"),
    ("Time", "$time $time_zone"),
    ("Clinician", "$clinician_name"),
    ("Location", "$location"),
)


def default_template(
    kind: EmailKind, *, client_name: bool = True, practice_phone: bool = True
) -> EmailTemplate:
    """The article's wording of *kind*: what a practice without a template of its own sends.

    It adapts to what the practice has on file, which a template of the practice's own does
    not: it greets the client by name only when there is one (*client_name*), and names the
    practice's phone, in its closing line and in the rejection's and expiry's "call the
    clinic", only when there is one (*practice_phone*). Start from it to write your own.
    """
    return _article(
        _validate.instance("kind", kind, EmailKind, "an EmailKind"),
        client_name=_validate.flag("client_name", client_name),
        practice_phone=_validate.flag("practice_phone", practice_phone),
    )


@functools.cache
def _article(kind: EmailKind, *, client_name: bool, practice_phone: bool) -> EmailTemplate:
    """:func:`default_template`, built once for each of its variants (four per kind)."""
    greeting = "Hello $client_name," if client_name else "Hello,"
    opening = _OPENINGS[kind].format(at=" at $practice_phone" if practice_phone else "")
    closing = "$practice_name · $practice_phone" if practice_phone else "$practice_name"
    lines = [
        greeting,
        "",
        opening,
        "",
        *(f"{label}: {value}" for label, value in _DETAILS),
        "",
        closing,
    ]
    rows = "".join(
        f"<tr><th align='left'>{label}</th><td>{value}</td></tr>" for label, value in _DETAILS
    )
    return EmailTemplate(
        subject=_SUBJECTS[kind],
        text="\n".join(lines) + "\n",
        html=(
            f"<!doctype html><html><body><p>{greeting}</p><p>{opening}</p>"
            f"<table>{rows}</table><p>{closing}</p></body></html>"
        ),
    )
