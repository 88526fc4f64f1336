"""Delivering outbox items: emails to the caller's mailer, chart notes to the caller's chart.

The rules, per item:

- delivered: ``delivered_at`` is set and it is never sent again;
- :class:`~selfsched.errors.DeliveryError` (it surely did not go out): retried on later
  dispatches until ``max_attempts`` attempts, then marked ``failed``;
- :class:`~selfsched.errors.DeliveryUncertain` (it may have gone out): marked ``uncertain`` and
  sent once more with the same Message-ID; if that attempt fails too, marked ``failed``.

So no email goes twice except the one resend the SMTP rules allow, and that one carries the same
Message-ID so the client's mail system can fold the duplicates.

An attempt ends the item's claim (``claimed_until``, set by the dispatch that took it): the item
is free for the next dispatch again, unless it was delivered or given up on.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from selfsched.errors import DeliveryUncertain
from selfsched.events import EmailMessage, OutboxItem
from selfsched.ports import Chart, Mailer

__all__ = ["after_attempt", "deliver"]


def after_attempt(
    item: OutboxItem, error: Exception | None, *, now: datetime, max_attempts: int
) -> OutboxItem:
    """The item's next state after one delivery attempt that raised *error* (or ``None``)."""
    attempts = item.attempts + 1
    if error is None:
        return attrs.evolve(item, attempts=attempts, delivered_at=now, claimed_until=None)
    uncertain = isinstance(error, DeliveryUncertain)
    return attrs.evolve(
        item,
        attempts=attempts,
        claimed_until=None,
        uncertain=item.uncertain or uncertain,
        # An uncertain item gets exactly one more try; a certain failure retries to the limit.
        failed=item.uncertain or (not uncertain and attempts >= max_attempts),
        last_error=f"{type(error).__name__}: {error}",
    )


def deliver(
    item: OutboxItem,
    *,
    mailer: Mailer | None,
    chart: Chart | None,
    now: datetime,
    max_attempts: int,
) -> OutboxItem:
    """Try to deliver *item* once; return its next state. Without a target, nothing changes."""
    payload = item.payload
    target = mailer if isinstance(payload, EmailMessage) else chart
    if target is None:
        return item
    try:
        if isinstance(payload, EmailMessage):
            assert mailer is not None  # noqa: S101  (target is the mailer)
            mailer.send(payload)
        else:
            assert chart is not None  # noqa: S101  (target is the chart)
            chart.add_note(payload)
    except Exception as exc:  # noqa: BLE001  (the caller's adapter may raise anything)
        return after_attempt(item, exc, now=now, max_attempts=max_attempts)
    return after_attempt(item, None, now=now, max_attempts=max_attempts)
