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

from selfsched.errors import TamperDetected

__all__ = [
    "GENESIS",
    "AuditEntry",
    "ChartNote",
    "EmailKind",
    "EmailMessage",
    "OutboxItem",
    "chain",
    "changes_of",
    "verify_chain",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first audit entry."""


class EmailKind(enum.StrEnum):
    """Why a client is emailed."""

    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CONFIRMED = "confirmed"
    """Optional booking confirmation in ``INSTANT`` mode."""


@attrs.frozen(kw_only=True)
class EmailMessage:
    """A rendered email to a client, exactly as it will be sent.

    ``message_id`` is stable (derived from the appointment, the kind and the version), so a resend
    after an uncertain delivery carries the same Message-ID.
    """

    message_id: str
    kind: EmailKind
    appointment_id: str
    to: str
    subject: str
    text: str
    html: str


@attrs.frozen(kw_only=True)
class ChartNote:
    """A note for the client's chart ("Notes and Documents"), e.g. an Appointment Cancellation
    Note. This is the only place a cancellation reason is kept."""

    note_id: str
    client_id: str
    appointment_id: str
    title: str
    text: str
    created_at: datetime
    late: bool = False


@attrs.frozen(kw_only=True)
class OutboxItem:
    """An email or chart note waiting to be delivered, stored with the change that caused it.

    ``uncertain`` is set after a delivery attempt whose outcome could not be known; such an item
    is sent at most once more.
    """

    id: str
    payload: EmailMessage | ChartNote
    created_at: datetime
    attempts: int = 0
    uncertain: bool = False
    delivered_at: datetime | None = None
    failed: bool = False
    """Given up on: an uncertain resend also failed, or attempts ran out."""
    last_error: str | None = None
    claimed_until: datetime | None = None
    """Set while a dispatch is delivering the item: no other dispatch, in this process or
    another, takes it before this instant. A claim left by a dispatch that died lapses then, and
    the item is delivered again."""


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One line of the append-only, hash-chained audit record."""

    seq: int
    at: datetime
    actor: str
    action: str
    outcome: str
    """``"ok"``, ``"refused"`` or ``"viewed"``."""
    appointment_id: str | None = None
    error: str | None = None
    """The error class of a refusal, e.g. ``"PermissionDenied"``."""
    before: str | None = None
    """Status before the change (``None`` for a new appointment)."""
    after: str | None = None
    """Status after the change."""
    changes: tuple[tuple[str, str], ...] = ()
    """Non-clinical fields set by the change, as ``(name, value)`` pairs."""
    prev_hash: str = GENESIS
    hash: str = ""

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


def changes_of(fields: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    """Sorted ``(name, str(value))`` pairs, skipping ``None``."""
    return tuple(sorted((k, str(v)) for k, v in fields.items() if v is not None))
