"""The slot calculator against a deliberately simple reference (``slot_reference.py``).

The reference finds every local wall time by brute force and checks every candidate slot against
every busy interval; it shares no code with the library. Equal lists mean both soundness (every
slot the library offers is one the rules allow) and completeness (none is missing).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from slot_reference import RefSlot, reference_explain

from selfsched import available_slots, check_slot, explain
from selfsched.strategies import SlotQuery, slot_queries


def _reference(query: SlotQuery) -> list[RefSlot]:
    return reference_explain(
        query.calendar,
        query.policy,
        first_day=query.first_day,
        last_day=query.last_day,
        now=query.now,
        client_id=query.client_id,
        client_appointments=query.client_appointments,
    )


@given(slot_queries())
def test_client_view_equals_reference(query: SlotQuery) -> None:
    """Same slots, same times, same availability as the reference: nothing extra, nothing lost."""
    expected = [(s.start, s.end, s.available) for s in _reference(query)]
    actual = [
        (s.start, s.end, s.available)
        for s in available_slots(query.calendar, query.policy, **query.window())
    ]
    assert expected == actual


@given(slot_queries())
def test_explain_reasons_equal_reference(query: SlotQuery) -> None:
    """The staff view gives each slot exactly the reasons the reference finds."""
    expected = [(s.start, s.end, s.reasons) for s in _reference(query)]
    actual = [
        (s.start, s.end, s.reasons) for s in explain(query.calendar, query.policy, **query.window())
    ]
    assert expected == actual


@given(slot_queries())
def test_explain_and_client_view_agree(query: SlotQuery) -> None:
    """A slot is available in the staff view exactly when it is in the client view."""
    staff = explain(query.calendar, query.policy, **query.window())
    client = available_slots(query.calendar, query.policy, **query.window())
    expected = [(s.start, s.end, s.available) for s in staff]
    actual = [(s.start, s.end, s.available) for s in client]
    assert expected == actual


@given(slot_queries(), st.data())
def test_check_slot_agrees_with_explain(query: SlotQuery, data: st.DataObject) -> None:
    """``check_slot`` on a slot of the staff view gives that slot's end and reasons."""
    staff = explain(query.calendar, query.policy, **query.window())
    if not staff:
        return
    picked = data.draw(st.lists(st.sampled_from(staff), min_size=1, max_size=4, unique=True))
    for slot in picked:
        checked = check_slot(
            query.calendar,
            query.policy,
            slot.start,
            now=query.now,
            client_id=query.client_id,
            client_appointments=query.client_appointments,
        )
        assert (slot.start, slot.end, slot.reasons) == (
            checked.start,
            checked.end,
            checked.reasons,
        )
