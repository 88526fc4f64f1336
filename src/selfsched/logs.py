"""What selfsched logs: standard-library ``logging``, and never personal data.

Two loggers, both children of ``selfsched`` (which has a ``NullHandler``: a library logs, the
application decides where to):

- ``selfsched.service``: one record per use case when it ends. ``INFO`` for a change (``ok``,
  or ``replayed`` for an idempotent repeat) and for a refusal (``refused``, with the error's class
  name); ``DEBUG`` for a staff view (``viewed``). A failed delivery right after a change is a
  ``WARNING``.
- ``selfsched.outbox``: one record per delivery attempt. ``INFO`` when delivered, ``WARNING``
  when it will be retried (or its outcome is unknown), ``ERROR`` when it is given up on.

Every record carries its fields as one attribute, ``record.selfsched`` (a dict: see
:data:`FIELDS`), for structured logs; the message repeats them for people. The fields are ids,
names of actions and errors, counts and durations. Never a name, an email address, a
cancellation reason, an event title or any other free text: selfsched's own error messages are
written to hold none, and of any other exception only the class name is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from selfsched.errors import SelfschedError

__all__ = ["FIELDS", "OUTBOX", "SERVICE", "describe", "emit"]

logging.getLogger("selfsched").addHandler(logging.NullHandler())

SERVICE = logging.getLogger("selfsched.service")
OUTBOX = logging.getLogger("selfsched.outbox")

FIELDS: Mapping[str, str] = {
    "event": "what happened: 'use_case', 'delivery' or 'after_commit'",
    "action": "the use case, as the audit names it ('request', 'approve', 'view_queue', ...)",
    "outcome": "'ok', 'replayed', 'refused' or 'viewed'; for a delivery 'delivered', 'retry', "
    "'uncertain' or 'failed'",
    "actor": "the kind of actor: 'client', 'clinician', 'staff', 'system' or 'anonymous'",
    "appointment_id": "the appointment's id, when there is one",
    "error": "the error's class name, when there is one",
    "unit_ms": "time spent opening, running and committing the unit of work, in milliseconds",
    "delivery_ms": "time spent delivering the outbox after the change, in milliseconds",
    "item_id": "the outbox item's id",
    "kind": "the outbox item's kind: 'email:<kind>' or 'chart_note'",
    "attempts": "delivery attempts made so far, this one included",
}
"""Every field a record's ``selfsched`` attribute may hold, and what it means."""


def describe(exc: BaseException) -> str:
    """Text about *exc* that is safe to log: a selfsched error's message (written to hold no
    personal data) or, for anything else, only its class name."""
    if isinstance(exc, SelfschedError):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


def emit(logger: logging.Logger, level: int, **fields: object) -> None:
    """Log one record whose message lists *fields* and whose ``selfsched`` attribute holds them."""
    if not logger.isEnabledFor(level):
        return
    present = {name: value for name, value in fields.items() if value is not None}
    text = " ".join(f"{name}={value}" for name, value in present.items())
    logger.log(level, "selfsched %s", text, extra={"selfsched": present})
