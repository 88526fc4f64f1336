"""Side effects as values: client emails, chart notes, outbox items and audit entries.

Transitions produce these; the service stores them in the same unit of work as the change, and
delivers emails and chart notes from the outbox afterwards. Nothing here does I/O.

The audit record is append-only and tamper-evident: each entry carries the SHA-256 of its own
content and of the entry before it, so editing, removing or reordering an entry breaks the chain
(:func:`verify_chain`). Entries hold no free-text health information: ids, statuses, and the
non-clinical fields that changed (location, service code, modifier, times).
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime

import attrs

from selfsched import _time, _validate
from selfsched.errors import TamperDetected, WrongType

__all__ = [
    "GENESIS",
    "AuditEntry",
    "ChartNote",
    "EmailKind",
    "EmailMessage",
    "OutboxItem",
    "chain",
    "changes_of",
    "redacted",
    "verify_chain",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first audit entry."""

_TEXT = _validate.field(_validate.text)
_PRIVATE = _validate.field(lambda name, value: _validate.text(name, value, show=False))
_OPTIONAL_PRIVATE = _validate.field(
    lambda name, value: _validate.optional_text(name, value, show=False)
)
_OPTIONAL_TEXT = _validate.field(_validate.optional(_validate.text))
_FLAG = _validate.field(_validate.flag)
_COUNT = _validate.field(_validate.whole)


_AT = _validate.field(_time.require_aware)
"""An aware datetime, kept as given (an audit entry's time is hashed as written)."""
_OPTIONAL_AT = _validate.field(_validate.optional(_time.require_aware))


def _payload(name: str, value: object) -> object:
    if not isinstance(value, EmailMessage | ChartNote):
        raise WrongType(name, "an EmailMessage or a ChartNote", value)
    return value


def _changes(name: str, value: object) -> object:
    pairs = value if isinstance(value, tuple) else None
    if pairs is None or not all(
        isinstance(p, tuple) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs
    ):
        raise WrongType(name, "a tuple of (name, value) string pairs", value)
    return value


class EmailKind(enum.StrEnum):
    """Why a client is emailed."""

    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CONFIRMED = "confirmed"
    """Optional booking confirmation in ``INSTANT`` mode."""
    CANCELLED = "cancelled"
    """The practice cancelled a booked appointment; sent only with ``Practice.calendar_invites``
    on, to carry the invite's ``METHOD:CANCEL``."""


@attrs.frozen(kw_only=True)
class EmailMessage:
    """A rendered email to a client, exactly as it will be sent.

    ``message_id`` is stable (derived from the appointment, the kind and the version), so a resend
    after an uncertain delivery carries the same Message-ID.
    """

    message_id: str = attrs.field(validator=_TEXT)
    kind: EmailKind = attrs.field(
        validator=_validate.field(
            lambda name, value: _validate.instance(name, value, EmailKind, "an EmailKind")
        )
    )
    appointment_id: str = attrs.field(validator=_TEXT)
    client_id: str = attrs.field(validator=_TEXT)
    """The client the email is to, as the appointment names them. Empty only in an email stored
    before emails carried it (see :func:`selfsched.adapters.codec.payload_from_dict`)."""
    to: str = attrs.field(validator=_PRIVATE)
    subject: str = attrs.field(validator=_TEXT)
    text: str = attrs.field(validator=_PRIVATE)
    html: str = attrs.field(validator=_PRIVATE)
    """The HTML alternative; empty for an email sent as plain text only."""
    reply_to: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    """Where the client's replies go (the ``Reply-To`` header): ``Practice.reply_to``, or
    ``None`` for the sender's address."""
    calendar: str | None = attrs.field(default=None, validator=_OPTIONAL_PRIVATE)
    """The calendar invite the email carries (``Practice.calendar_invites``): the text of an
    iCalendar object with its ``METHOD`` (``REQUEST`` or ``CANCEL``), sent as a ``text/calendar``
    part; ``None`` for none. See :func:`selfsched.ical.invite`."""


@attrs.frozen(kw_only=True)
class ChartNote:
    """A note for the client's chart ("Notes and Documents"), e.g. an Appointment Cancellation
    Note. This is the only place a cancellation reason is kept."""

    note_id: str = attrs.field(validator=_TEXT)
    client_id: str = attrs.field(validator=_TEXT)
    appointment_id: str = attrs.field(validator=_TEXT)
    title: str = attrs.field(validator=_TEXT)
    text: str = attrs.field(validator=_PRIVATE)
    created_at: datetime = attrs.field(validator=_AT)
    late: bool = attrs.field(default=False, validator=_FLAG)


@attrs.frozen(kw_only=True)
class OutboxItem:
    """An email or chart note waiting to be delivered, stored with the change that caused it.

    ``uncertain`` is set after a delivery attempt whose outcome could not be known; such an item
    is sent at most once more. Once delivered (or purged) the item keeps only what the audit
    needs: see :func:`redacted`.
    """

    id: str = attrs.field(validator=_TEXT)
    payload: EmailMessage | ChartNote = attrs.field(validator=_validate.field(_payload))
    created_at: datetime = attrs.field(validator=_AT)
    attempts: int = attrs.field(default=0, validator=_COUNT)
    uncertain: bool = attrs.field(default=False, validator=_FLAG)
    delivered_at: datetime | None = attrs.field(default=None, validator=_OPTIONAL_AT)
    failed: bool = attrs.field(default=False, validator=_FLAG)
    """Given up on: an uncertain resend also failed, or attempts ran out."""
    last_error: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    claimed_until: datetime | None = attrs.field(default=None, validator=_OPTIONAL_AT)
    """Set while a dispatch is delivering the item: no other dispatch, in this process or
    another, takes it before this instant. A claim left by a dispatch that died lapses then, and
    the item is delivered again."""
    not_before: datetime | None = attrs.field(default=None, validator=_OPTIONAL_AT)
    """No dispatch delivers the item before this instant: the back-off after a failed attempt
    (see :class:`selfsched.outbox.RetrySchedule`). ``None``: as soon as possible."""
    purged_at: datetime | None = attrs.field(default=None, validator=_OPTIONAL_AT)
    """When staff purged the item after it was given up on: its payload is redacted and it is
    no longer listed among the failed deliveries, nor can it be retried."""


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One line of the append-only, hash-chained audit record."""

    seq: int = attrs.field(validator=_COUNT)
    at: datetime = attrs.field(validator=_AT)
    actor: str = attrs.field(validator=_TEXT)
    action: str = attrs.field(validator=_TEXT)
    outcome: str = attrs.field(validator=_TEXT)
    """``"ok"``, ``"refused"`` or ``"viewed"``."""
    appointment_id: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    error: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    """The error class of a refusal, e.g. ``"PermissionDenied"``."""
    before: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    """Status before the change (``None`` for a new appointment)."""
    after: str | None = attrs.field(default=None, validator=_OPTIONAL_TEXT)
    """Status after the change."""
    changes: tuple[tuple[str, str], ...] = attrs.field(
        default=(), validator=_validate.field(_changes)
    )
    """Non-clinical fields set by the change, as ``(name, value)`` pairs."""
    prev_hash: str = attrs.field(default=GENESIS, validator=_TEXT)
    hash: str = attrs.field(default="", validator=_TEXT)

    def content(self) -> dict[str, object]:
        """The hashed content: every field but ``hash``."""
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "outcome": self.outcome,
            "appointment_id": self.appointment_id,
            "error": self.error,
            "before": self.before,
            "after": self.after,
            "changes": [list(pair) for pair in self.changes],
            "prev_hash": self.prev_hash,
        }

    def digest(self) -> str:
        """SHA-256 of :meth:`content` as canonical JSON."""
        text = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def chain(previous: AuditEntry | None, draft: AuditEntry) -> AuditEntry:
    """*draft* numbered after *previous*, linked to it, and sealed with its own hash."""
    seq = 1 if previous is None else previous.seq + 1
    prev_hash = GENESIS if previous is None else previous.hash
    linked = attrs.evolve(draft, seq=seq, prev_hash=prev_hash, hash="")
    return attrs.evolve(linked, hash=linked.digest())


def verify_chain(entries: Iterable[AuditEntry], *, head: str | None = None) -> None:
    """Raise :class:`~selfsched.errors.TamperDetected` at the first entry that breaks the chain.

    The chain alone cannot tell that entries were cut off its end, or that the whole record was
    rewritten and resealed. Keep the last entry's hash somewhere else too (a log, another
    database) and pass it as *head*: a record that does not end with it is reported at the index
    where the missing entry should be.
    """
    entries = _validate.tuple_of("entries", entries, AuditEntry, "an AuditEntry")
    _validate.optional_text("head", head)
    prev_hash = GENESIS
    expected_seq = 1
    index = -1
    for index, entry in enumerate(entries):
        if entry.seq != expected_seq or entry.prev_hash != prev_hash:
            raise TamperDetected(index)
        if entry.digest() != entry.hash:
            raise TamperDetected(index)
        prev_hash = entry.hash
        expected_seq += 1
    if head is not None and head != prev_hash:
        raise TamperDetected(index + 1)


REDACTED = ""
"""What a redacted payload field holds."""


def redacted(payload: EmailMessage | ChartNote) -> EmailMessage | ChartNote:
    """*payload* with only what the audit needs: ids, kind, title, times and the Message-ID.

    An email loses its address, subject, both bodies, its reply-to address and its calendar
    invite (it keeps the client id); a chart note its text (which holds the client's
    cancellation reason). The outbox keeps a delivered item, or a purged one, this way.
    """
    if isinstance(payload, EmailMessage):
        return attrs.evolve(
            payload,
            to=REDACTED,
            subject=REDACTED,
            text=REDACTED,
            html=REDACTED,
            reply_to=None,
            calendar=None,
        )
    return attrs.evolve(payload, text=REDACTED)


def changes_of(fields: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    """Sorted ``(name, str(value))`` pairs, skipping ``None``."""
    return tuple(sorted((k, str(v)) for k, v in fields.items() if v is not None))
