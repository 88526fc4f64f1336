"""Effect records and the hash-chained audit record: editing, removing, inserting or reordering an
entry is detected."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from selfsched.errors import TamperDetected
from selfsched.events import GENESIS, AuditEntry, chain, changes_of, verify_chain

T0 = datetime(2026, 4, 6, 13, 0, tzinfo=UTC)


def draft(action: str, *, outcome: str = "ok", minutes: int = 0) -> AuditEntry:
    """An unsealed entry (seq 0, no hash) as the service builds it."""
    return AuditEntry(
        seq=0,
        at=T0 + timedelta(minutes=minutes),
        actor="staff:s1:scheduler",
        action=action,
        outcome=outcome,
        appointment_id="appointment-1",
        before="pending",
        after="booked",
        changes=(("location", "Room 1"),),
    )


def record(n: int = 4) -> list[AuditEntry]:
    """A valid chain of *n* entries."""
    entries: list[AuditEntry] = []
    for i in range(n):
        entries.append(chain(entries[-1] if entries else None, draft(f"a{i}", minutes=i)))
    return entries


def test_first_entry_links_to_genesis() -> None:
    """The first sealed entry is number 1 and points at the all-zero genesis hash."""
    first = chain(None, draft("request"))

    assert (1, GENESIS, "0" * 64) == (first.seq, first.prev_hash, GENESIS)


def test_entries_are_numbered_and_linked() -> None:
    """Each entry is numbered after the last and carries the last one's hash."""
    entries = record(3)

    assert [1, 2, 3] == [e.seq for e in entries]
    assert [GENESIS, entries[0].hash, entries[1].hash] == [e.prev_hash for e in entries]


def test_hash_is_sha256_of_canonical_content() -> None:
    """The hash is SHA-256 over sorted, compact JSON of every field but the hash itself, so any
    implementation in any language can check the record."""
    entry = chain(None, draft("approve"))
    content = {
        "seq": 1,
        "at": "2026-04-06T13:00:00+00:00",
        "actor": "staff:s1:scheduler",
        "action": "approve",
        "outcome": "ok",
        "appointment_id": "appointment-1",
        "error": None,
        "before": "pending",
        "after": "booked",
        "changes": [["location", "Room 1"]],
        "prev_hash": GENESIS,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))

    assert content == entry.content()
    assert hashlib.sha256(text.encode()).hexdigest() == entry.hash


def test_sealing_ignores_what_the_draft_claimed() -> None:
    """chain() overwrites any seq, prev_hash or hash the draft carried."""
    forged = attrs.evolve(draft("approve"), seq=99, prev_hash="f" * 64, hash="bogus")

    assert chain(None, draft("approve")) == chain(None, forged)


def test_an_intact_record_verifies() -> None:
    """verify_chain returns quietly for an untouched record, and for an empty one."""
    verify_chain(record())
    verify_chain([])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("actor", "staff:s2:scheduler"),
        ("action", "reject"),
        ("outcome", "refused"),
        ("appointment_id", "appointment-2"),
        ("after", "rejected"),
        ("at", T0 + timedelta(days=1)),
        ("changes", (("location", "Room 9"),)),
        ("error", "PermissionDenied"),
    ],
)
def test_edited_entry_is_detected(field: str, value: Any) -> None:
    """Changing any field of an entry breaks its own hash: detected at that entry."""
    entries = record()
    entries[2] = attrs.evolve(entries[2], **{field: value})

    with pytest.raises(TamperDetected) as caught:
        verify_chain(entries)

    assert 2 == caught.value.index


def test_edited_and_resealed_entry_is_detected_at_the_next() -> None:
    """An edit that also recomputes the entry's own hash breaks the link from the next one."""
    entries = record()
    edited = attrs.evolve(entries[1], outcome="refused")
    entries[1] = attrs.evolve(edited, hash=edited.digest())

    with pytest.raises(TamperDetected) as caught:
        verify_chain(entries)

    assert 2 == caught.value.index


@pytest.mark.parametrize("index", [0, 1, 2])
def test_removed_entry_is_detected(index: int) -> None:
    """Removing any entry but the last leaves a gap that is detected where it is."""
    entries = record()
    del entries[index]

    with pytest.raises(TamperDetected) as caught:
        verify_chain(entries)

    assert index == caught.value.index


def test_cut_off_tail_is_detected_with_a_kept_head() -> None:
    """Removing the last entries leaves a valid chain; the head kept elsewhere catches it."""
    entries = record()
    head = entries[-1].hash
    del entries[-2:]

    verify_chain(entries)  # the chain alone cannot see it
    with pytest.raises(TamperDetected) as caught:
        verify_chain(entries, head=head)

    assert 2 == caught.value.index


def test_resealed_record_is_detected_with_a_kept_head() -> None:
    """A record rewritten and resealed from the start verifies alone, not against the head."""
    entries = record()
    head = entries[-1].hash
    forged: list[AuditEntry] = []
    for entry in entries:
        changed = attrs.evolve(entry, actor="staff:someone-else:scheduler")
        forged.append(chain(forged[-1] if forged else None, changed))

    verify_chain(forged)
    with pytest.raises(TamperDetected):
        verify_chain(forged, head=head)


def test_intact_record_matches_its_head() -> None:
    """An untouched record ends with the kept head: no error."""
    entries = record()

    verify_chain(entries, head=entries[-1].hash)
    verify_chain([], head=GENESIS)


def test_reordered_entries_are_detected() -> None:
    """Swapping two entries is detected at the first one out of place."""
    entries = record()
    entries[1], entries[2] = entries[2], entries[1]

    with pytest.raises(TamperDetected) as caught:
        verify_chain(entries)

    assert 1 == caught.value.index


def test_inserted_entry_is_detected() -> None:
    """An entry slipped in, even one correctly sealed onto its predecessor, breaks the next
    link."""
    entries = record()
    entries.insert(2, chain(entries[1], draft("forged")))

    with pytest.raises(TamperDetected) as caught:
        verify_chain(entries)

    assert 3 == caught.value.index


def test_tamper_message_says_what_to_do() -> None:
    """The error names the entry and tells the reader to restore and investigate."""
    expected = (
        "The audit record is broken at entry 5: an entry was edited, removed or reordered. "
        "Restore the record from a backup and investigate."
    )

    assert expected == str(TamperDetected(5))


def test_changes_of_sorts_stringifies_and_skips_none() -> None:
    """Changed fields are sorted by name, values as text, unset values left out."""
    expected = (("code_modifier", "95"), ("late", "True"), ("location", "Room 1"))

    assert expected == changes_of(
        {"location": "Room 1", "service_code": None, "late": True, "code_modifier": "95"}
    )
