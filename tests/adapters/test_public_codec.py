"""``selfsched.adapters.codec``: the public encoding for writers of their own store."""

from __future__ import annotations

import json

import pytest

from selfsched.adapters import _codec, codec
from selfsched.errors import StorageError
from selfsched.events import OutboxItem

from .support import draft, email_item, note_item


@pytest.mark.parametrize("item", [email_item("o-1"), note_item("o-2")], ids=["email", "note"])
def test_a_payload_round_trips_through_json_text(item: OutboxItem) -> None:
    """A payload's dict survives ``json.dumps``/``json.loads`` and decodes to the same payload."""
    payload = item.payload
    data = codec.payload_to_dict(payload)
    assert _codec.payload_to_dict(payload) == data
    assert payload == codec.payload_from_dict(json.loads(json.dumps(data)))


def test_a_malformed_payload_is_a_storage_error() -> None:
    """A dict that is no payload raises StorageError, not a KeyError."""
    with pytest.raises(StorageError):
        codec.payload_from_dict({"type": "email"})
    with pytest.raises(StorageError):
        codec.payload_from_dict({"type": "fax"})


def test_audit_changes_round_trip_as_text_or_decoded_json() -> None:
    """``changes`` pairs come back from the JSON text, and from the array a driver decoded."""
    changes = draft("approve", changes=(("location", "Main office — room 2"), ("x", ""))).changes
    text = codec.changes_to_json(changes)
    assert changes == codec.changes_from_json(text)
    assert changes == codec.changes_from_json(json.loads(text))
