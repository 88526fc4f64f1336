"""Delivering outbox items: emails to the caller's mailer, chart notes to the caller's chart.

The rules, per item:

- delivered: ``delivered_at`` is set, it is never sent again, and its payload is
  :func:`~selfsched.events.redacted` (the address, the email's text, the chart note's reason go;
  ids, kind, times and the Message-ID stay for the audit);
- :class:`~selfsched.errors.DeliveryError` (it surely did not go out): retried on later
  dispatches, each no sooner than its :class:`RetrySchedule` allows (``not_before``), until
  ``max_attempts`` attempts, then marked ``failed``;
- :class:`~selfsched.errors.DeliveryUncertain` (it may have gone out): marked ``uncertain`` and
  sent once more, after the same back-off, with the same Message-ID; if that attempt fails too,
  marked ``failed``.

So no email goes twice except the one resend the SMTP rules allow, and that one carries the same
Message-ID so the client's mail system can fold the duplicates. A mail server that is down for a
while sees a few attempts spread over the schedule, not a burst.

An attempt ends the item's claim (``claimed_until``, set by the dispatch that took it): the item
is free for the next dispatch again, unless it was delivered or given up on.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from selfsched import _validate, logs
from selfsched.errors import DeliveryUncertain, InvalidPolicy
from selfsched.events import EmailMessage, OutboxItem, redacted
from selfsched.ports import AppointmentStore, Chart, Mailer

__all__ = ["DispatchReport", "Dispatcher", "RetrySchedule", "after_attempt", "deliver"]


_MICROSECOND = timedelta(microseconds=1)


def _positive_length(name: str, value: object) -> timedelta:
    length = _validate.length(name, value)
    if length <= timedelta(0):
        raise InvalidPolicy(f"{name} must be positive, got {length!r}.")
    return length


def _factor(name: str, value: object) -> int:
    factor = _validate.whole(name, value)
    if factor < 1:
        raise InvalidPolicy(f"{name} must be 1 or more, got {factor!r}.")
    return factor


def _fraction(name: str, value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < 1:
        raise InvalidPolicy(
            f"{name} must be a number from 0 up to (not including) 1, got {value!r}."
        )
    return float(value)


@attrs.frozen(kw_only=True)
class RetrySchedule:
    """How long a failed delivery waits before its next attempt: exponential back-off, jittered.

    After the *n*-th failed attempt the item waits ``first * factor ** (n - 1)``, at most
    ``cap``, less a share of up to ``jitter`` of it. The share is drawn from the item's id and
    attempt number (a hash, not a random generator), so the schedule is reproducible and pure,
    and items that failed together spread out instead of retrying in one burst.

    With the defaults (1 minute, factor 4, cap 6 hours, jitter 0.5) the waits after attempts 1
    to 4 lie in 30 s-1 min, 2-4 min, 8-16 min and 32-64 min: with five attempts a message is given
    up on after about 40 minutes to 1.4 hours of failures.
    """

    first: timedelta = attrs.field(
        default=timedelta(minutes=1), validator=_validate.field(_positive_length)
    )
    factor: int = attrs.field(default=4, validator=_validate.field(_factor))
    cap: timedelta = attrs.field(
        default=timedelta(hours=6), validator=_validate.field(_positive_length)
    )
    jitter: float = attrs.field(default=0.5, validator=_validate.field(_fraction))

    def wait(self, item_id: str, attempts: int) -> timedelta:
        """The wait after *item_id*'s failed attempt number *attempts* (1 for the first)."""
        # In whole microseconds (Python integers cannot overflow; timedelta can). Past 64
        # doublings any cap is reached, so the power need not grow further.
        exponent = min(max(attempts - 1, 0), 64)
        base = min(self.cap // _MICROSECOND, self.first // _MICROSECOND * self.factor**exponent)
        digest = hashlib.sha256(f"{item_id}:{attempts}".encode()).digest()
        share = int.from_bytes(digest[:8], "big") / 2**64  # in [0, 1)
        return timedelta(microseconds=base - round(base * self.jitter * share))


@attrs.frozen
class DispatchReport:
    """What one dispatch did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0


_DEFAULT_SCHEDULE = RetrySchedule()


def after_attempt(
    item: OutboxItem,
    error: Exception | None,
    *,
    now: datetime,
    max_attempts: int,
    schedule: RetrySchedule = _DEFAULT_SCHEDULE,
) -> OutboxItem:
    """The item's next state after one delivery attempt that raised *error* (or ``None``).

    A delivered item keeps only its :func:`~selfsched.events.redacted` payload; one to retry
    waits until ``now`` plus its *schedule*'s wait.
    """
    attempts = item.attempts + 1
    if error is None:
        return attrs.evolve(
            item,
            attempts=attempts,
            delivered_at=now,
            claimed_until=None,
            not_before=None,
            payload=redacted(item.payload),
        )
    uncertain = isinstance(error, DeliveryUncertain)
    # An uncertain item gets exactly one more try; a certain failure retries to the limit.
    failed = item.uncertain or (not uncertain and attempts >= max_attempts)
    return attrs.evolve(
        item,
        attempts=attempts,
        claimed_until=None,
        uncertain=item.uncertain or uncertain,
        failed=failed,
        last_error=f"{type(error).__name__}: {error}",
        not_before=None if failed else now + schedule.wait(item.id, attempts),
    )


def deliver(
    item: OutboxItem,
    *,
    mailer: Mailer | None,
    chart: Chart | None,
    now: datetime,
    max_attempts: int,
    schedule: RetrySchedule = _DEFAULT_SCHEDULE,
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
        return after_attempt(item, exc, now=now, max_attempts=max_attempts, schedule=schedule)
    return after_attempt(item, None, now=now, max_attempts=max_attempts, schedule=schedule)


def _log_attempt(item: OutboxItem) -> None:
    """One ``selfsched.outbox`` record for a delivery attempt (see :mod:`selfsched.logs`).

    The error is named by its class only: a caller's mailer may put an address in its message.
    """
    payload = item.payload
    kind = f"email:{payload.kind}" if isinstance(payload, EmailMessage) else "chart_note"
    error = None if item.last_error is None else item.last_error.split(":", 1)[0]
    if item.delivered_at is not None:
        level, outcome, error = logging.INFO, "delivered", None
    elif item.failed:
        level, outcome = logging.ERROR, "failed"
    else:
        level, outcome = logging.WARNING, "uncertain" if item.uncertain else "retry"
    logs.emit(
        logs.OUTBOX,
        level,
        event="delivery",
        outcome=outcome,
        item_id=item.id,
        kind=kind,
        appointment_id=payload.appointment_id,
        attempts=item.attempts,
        error=error,
    )


class Dispatcher:
    """Delivers a store's outbox; what :meth:`selfsched.Scheduler.dispatch` runs.

    A dispatch first *claims* the items it will deliver, in one unit of work: each gets
    ``claimed_until = now + lease``, and items another dispatch claimed until later are left
    alone. Units of work never interleave, so two dispatchers sharing a store (two backend
    instances) never both claim, and so never both send, the same item. Each item is then
    delivered outside any unit and its outcome recorded, which ends its claim. When half the
    lease has passed, the claims of the items still to deliver are renewed; if the lease ran out
    meanwhile, the dispatch stops and leaves them to the next one. A claim left by a dispatch
    that died lapses after the lease, and the item is delivered again, with the same Message-ID.
    Keep one delivery (and a unit's wait for the store) well under half the lease, and the
    instances' clocks in step.

    Dispatches of one dispatcher also run one at a time (a second caller waits for the first).
    A dispatch started from inside a delivery (a mailer or chart that calls back) does nothing;
    what it would have sent waits for the next dispatch.
    """

    def __init__(
        self,
        *,
        store: AppointmentStore,
        now: Callable[[], datetime],
        lease: timedelta,
        max_attempts: int,
        schedule: RetrySchedule = _DEFAULT_SCHEDULE,
    ) -> None:
        self.store = store
        self.now = now
        self.lease = lease
        self.max_attempts = max_attempts
        self.schedule = schedule
        self._lock = threading.RLock()
        self._running = False

    def run(self, *, mailer: Mailer | None, chart: Chart | None) -> DispatchReport:
        """Claim, deliver and record every waiting item that has a target here."""
        with self._lock:
            if self._running:
                return DispatchReport()
            self._running = True
            try:
                return self._run(mailer, chart)
            finally:
                self._running = False

    def _run(self, mailer: Mailer | None, chart: Chart | None) -> DispatchReport:
        claimed = self._claim(mailer, chart)
        delivered = retrying = failed = 0
        while claimed:
            until = claimed[0].claimed_until
            assert until is not None  # noqa: S101  (every claimed item has a claim)
            if self.now() >= until - self.lease / 2:
                claimed = self._renew(claimed)
                if not claimed:
                    break  # the lease ran out: the items may be another dispatch's by now
            item = claimed.pop(0)
            updated = deliver(
                item,
                mailer=mailer,
                chart=chart,
                now=self.now(),
                max_attempts=self.max_attempts,
                schedule=self.schedule,
            )
            self._record(item, updated)
            _log_attempt(updated)
            if updated.delivered_at is not None:
                delivered += 1
            elif updated.failed:
                failed += 1
            else:
                retrying += 1
        return DispatchReport(delivered, retrying, failed)

    def _claim(self, mailer: Mailer | None, chart: Chart | None) -> list[OutboxItem]:
        """Claim every due waiting item with a target here and no live claim, in one unit."""
        with self.store.unit_of_work() as uow:
            now = self.now()
            until = now + self.lease

            def free(item: OutboxItem) -> bool:
                target = mailer if isinstance(item.payload, EmailMessage) else chart
                lapsed = item.claimed_until is None or item.claimed_until <= now
                due = item.not_before is None or item.not_before <= now
                return target is not None and lapsed and due

            claimed = [attrs.evolve(i, claimed_until=until) for i in uow.outbox() if free(i)]
            for item in claimed:
                uow.update_outbox(item)
        return claimed

    def _renew(self, claimed: list[OutboxItem]) -> list[OutboxItem]:
        """Extend the claims on *claimed* by a new lease; none if the old one has run out."""
        with self.store.unit_of_work() as uow:
            now = self.now()
            if claimed[0].claimed_until is None or claimed[0].claimed_until <= now:
                return []
            renewed = [attrs.evolve(item, claimed_until=now + self.lease) for item in claimed]
            for item in renewed:
                uow.update_outbox(item)
        return renewed

    def _record(self, claimed: OutboxItem, updated: OutboxItem) -> None:
        """Store the outcome of delivering *claimed*, which ends the claim.

        If the claim ran out during the delivery and another dispatch has since taken or finished
        the item, only a delivery is recorded: the item is now the other dispatch's, but an email
        that went out must not be sent again.
        """
        with self.store.unit_of_work() as uow:
            until = claimed.claimed_until
            if until is not None and until <= self.now():
                stored = next((i for i in uow.outbox() if i.id == claimed.id), None)
                taken = stored is None or stored.claimed_until != until
                if taken and updated.delivered_at is None:
                    return
            uow.update_outbox(updated)
