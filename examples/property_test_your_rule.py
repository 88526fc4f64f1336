"""Property-test a rule of your own with ``selfsched.strategies``.

(``pip install selfsched[testing]`` brings in Hypothesis.)

Say your practice adds one rule on top of selfsched: clients may not book a slot that ends after
20:00 on the clinician's wall clock. You write it as a filter over the client view, then let
Hypothesis try it on calendars in awkward zones, on the days the clocks change, with events,
bookings and every policy setting. Drop ``main()`` and run the two tests with pytest instead.

    python examples/property_test_your_rule.py
"""

from __future__ import annotations

from datetime import time, tzinfo

from hypothesis import given, settings

from selfsched import Slot, available_slots
from selfsched.strategies import SlotQuery, slot_queries

CUTOFF = time(20)


def evening_cutoff(slots: tuple[Slot, ...], zone: tzinfo) -> list[Slot]:
    """Our rule: keep only the slots that end by 20:00 local time, on the day they start."""
    kept = []
    for slot in slots:
        start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
        if end.date() == start.date() and end.time() <= CUTOFF:
            kept.append(slot)
    return kept


@settings(max_examples=60, deadline=None)
@given(slot_queries())
def test_no_kept_slot_ends_after_the_cutoff(query: SlotQuery) -> None:
    """Whatever the zone and date, every slot we keep ends by 20:00 on the clinician's clock."""
    slots = available_slots(query.calendar, query.policy, **query.window())
    for slot in evening_cutoff(slots, query.zone):
        assert slot.end.astimezone(query.zone).time() <= CUTOFF  # noqa: S101  (a test)


@settings(max_examples=60, deadline=None)
@given(slot_queries())
def test_the_rule_only_removes_slots(query: SlotQuery) -> None:
    """The rule never adds a slot or turns an unavailable one available."""
    slots = available_slots(query.calendar, query.policy, **query.window())
    kept = evening_cutoff(slots, query.zone)
    assert set(kept) <= set(slots)  # noqa: S101  (a test)


def main() -> None:
    """Run both properties; Hypothesis prints a minimal failing example if one fails."""
    test_no_kept_slot_ends_after_the_cutoff()
    test_the_rule_only_removes_slots()
    print("evening_cutoff holds on 120 generated calendars, DST transition days included.")


if __name__ == "__main__":
    main()
