"""The former names of checkpoint things still work, with a DeprecationWarning."""

from __future__ import annotations

import datetime as dt
import importlib
import sys

import pytest

import points_ledger.notes as notes
from points_ledger import SignedCheckpoint
from points_ledger.log_notes import verify_checkpoint_note
from points_ledger.notes import CheckpointBody

ROOT = bytes(range(32))


def test_notes_checkpoint_is_the_checkpoint_body_and_warns() -> None:
    with pytest.warns(DeprecationWarning, match="CheckpointBody"):
        former = notes.Checkpoint
    assert former is CheckpointBody
    with pytest.raises(AttributeError):
        _ = notes.Checkpointt


def test_a_signed_checkpoint_gives_its_body_under_both_names() -> None:
    signed = SignedCheckpoint(
        origin="example.org/log",
        size=3,
        root_hash=ROOT,
        note="example.org/log\n3\n...\n",
        recorded_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    assert signed.body == CheckpointBody("example.org/log", 3, ROOT)
    with pytest.warns(DeprecationWarning, match="body"):
        assert signed.checkpoint == signed.body
    assert signed.text == "example.org/log\n3\n" + signed.body.to_text().split("\n")[2] + "\n"


def test_the_former_checkpoints_module_warns_and_keeps_open_checkpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "points_ledger.checkpoints", raising=False)
    with pytest.warns(DeprecationWarning, match="log_notes"):
        former = importlib.import_module("points_ledger.checkpoints")
    assert former.open_checkpoint is verify_checkpoint_note


def test_a_verified_receipt_gives_its_checkpoint_body_under_both_names() -> None:
    from points_ledger import VerifiedReceipt

    body = CheckpointBody("example.org/log", 3, ROOT)
    facts = {
        "origin": "example.org/log",
        "seq": 1,
        "recorded_at": dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        "event": None,
        "signatures": (),
        "postings": (),
        "entry_hash": bytes(32),
    }
    made = VerifiedReceipt(**facts, checkpoint_body=body, checkpoint_note="note")  # type: ignore[arg-type]
    assert made.checkpoint_body is body
    with pytest.warns(DeprecationWarning, match="checkpoint_body"):
        assert made.checkpoint is body
    with pytest.warns(DeprecationWarning, match="checkpoint_body"):
        former = VerifiedReceipt(**facts, checkpoint=body, checkpoint_note="note")  # type: ignore[arg-type]
    assert former == made
    with pytest.raises(TypeError, match="both"), pytest.warns(DeprecationWarning):
        VerifiedReceipt(**facts, checkpoint_body=body, checkpoint=body)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="checkpt"):
        VerifiedReceipt(**facts, checkpt=body)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs checkpoint_body"):
        VerifiedReceipt(**facts)  # type: ignore[arg-type]
