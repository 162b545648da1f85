"""The log key holder's record outside the file, against someone who can write the file.

Each attack is built as an operator without the log key would build it: with the stored
event bytes and signatures (public to anyone holding the file), ``sqlite3``, and the
library's own public functions. Rebuilding a file from the stored entries minus one
renumbers the rest and recomputes every hash, Merkle node and cached table, so the file
on its own is consistent: only what the log key's holder recorded outside it shows the
deletion, and ``checkpoint()`` refuses to sign it.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FixedClock, World, seeded_signer
from points_ledger import (
    AutoCheckpoint,
    IntegrityError,
    InvalidEventError,
    KeySpec,
    Ledger,
    LedgerError,
    LogRecord,
    LogRecordError,
    RegisterKey,
    RevokeKey,
    Role,
    SharedWriter,
    SignatureError,
    save_signer,
)
from points_ledger.cli import cli
from points_ledger.cli.app import AppState
from points_ledger.store.sqlite import SqliteStore

# Key files at a cheap scrypt cost: these tests are about commands, not key strength.
pytestmark = pytest.mark.usefixtures("cheap_scrypt")

PASS = "log record test passphrase"


def _history(world: World) -> World:
    """Awards, a spend, a reversal and a key revocation: entries worth removing."""
    world.issue("m1", 100)
    world.issue("m2", 40)
    world.pay("m1", "m2", 30)
    wrong = world.issue("m2", 999)
    world.reverse(wrong.entry.seq)
    world.issue("m1", 5)
    return world


def _rebuild_without(source: Ledger, target: Path, drop: Sequence[int]) -> None:
    """What a keyless operator can do: re-append the stored entries, minus some, to a new file.

    Every stored signature still verifies (the genesis, and so the ledger id, is the
    same), so the new file passes every check it can make on its own.
    """
    kept = [e for e in source.entries() if e.seq not in set(drop)]
    clock = FixedClock(kept[-1].recorded_at)
    with Ledger(SqliteStore.create(target), clock=clock) as forged:
        forged.append_many([(e.event, e.signatures) for e in kept])


def _swap_files(original: Path, forged: Path) -> None:
    original.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{original}{suffix}").unlink(missing_ok=True)
    forged.rename(original)


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return _history(make_world())


def test_a_rebuilt_file_without_the_reversal_passes_alone_but_not_against_the_record(
    world: World, tmp_path: Path
) -> None:
    record = tmp_path / "log.record"
    signed = world.ledger.checkpoint(world.log_key, record)
    reversal = next(e.seq for e in world.ledger.entries() if e.kind == "reverse")
    _rebuild_without(world.ledger, tmp_path / "forged.db", [reversal])
    world.ledger.close()
    _swap_files(world.path, tmp_path / "forged.db")

    with Ledger.open(world.path) as ledger:
        alone = ledger.audit()
        assert alone.ok  # consistent on its own: this is the attack
        assert alone.unanchored == alone.entries_checked == signed.size - 1
        report = ledger.audit(record=record)
        assert [(p.code, p.seq) for p in report.problems][:1] == [("rewritten", reversal)]
        with pytest.raises(IntegrityError) as caught:
            ledger.verify(record=record)
        assert caught.value.seq == reversal
        # The log key is never made to sign a second root for a size it signed.
        with pytest.raises(IntegrityError, match="refusing to sign") as refused:
            ledger.checkpoint(world.log_key, record)
        assert refused.value.seq == reversal
    assert LogRecord.open(record).size == signed.size


def test_swapping_two_entries_is_named_at_the_first_one(world: World, tmp_path: Path) -> None:
    record = LogRecord.open(tmp_path / "log.record")
    world.ledger.checkpoint(world.log_key, record)
    entries = list(world.ledger.entries())
    spend = next(
        e.seq
        for e in entries
        if e.kind == "transfer"
        and e.signatures[0].key_id in {s.key_id for s in world.members.values()}
    )
    order = [e for e in entries if e.seq not in (spend, spend + 1)]
    order[spend:spend] = [entries[spend + 1], entries[spend]]
    with Ledger(
        SqliteStore.create(tmp_path / "swapped.db"), clock=FixedClock(entries[-1].recorded_at)
    ) as forged:
        forged.append_many([(e.event, e.signatures) for e in order])
        report = forged.audit(record=record)
    assert report.problems[0].code == "rewritten"
    assert report.problems[0].seq == spend


def test_a_revoked_key_restored_in_the_cache_signs_nothing_the_log_key_will_anchor(
    world: World, tmp_path: Path
) -> None:
    record = tmp_path / "log.record"
    committee = world.committee
    issuer = seeded_signer("issuer/rogue")
    spec = KeySpec(public_key=issuer.public_key_b64, roles=(Role.ADMIN,))
    world.ledger.append(
        RegisterKey(id="k-rogue", effective_at=world.ledger.entry(0).event.effective_at, key=spec),
        world.quorum,
    )
    world.ledger.append(
        RevokeKey(
            id="revoke-rogue",
            effective_at=world.ledger.entry(0).event.effective_at,
            key_id=issuer.key_id,
            reason="left the office",
        ),
        world.quorum,
    )
    world.ledger.checkpoint(world.log_key, record)
    # The operator un-revokes the key in the cache with plain SQL...
    conn = sqlite3.connect(world.path)
    with conn:
        conn.execute("UPDATE keys SET revoked_at_seq = NULL WHERE key_id = ?", (issuer.key_id,))
    conn.close()
    ledger = world.reopen()
    # ...the running ledger trusts its cache and takes an award signed by that key...
    event = world.transfer_event("issuer", "m1", 500)
    ledger.append(event, [issuer, world.admins[1], *committee])
    # ...but the log key holder's check replays the log and will not anchor it.
    with pytest.raises(IntegrityError, match="refusing to sign"):
        ledger.checkpoint(world.log_key, record)
    assert LogRecord.open(record).size == ledger.size() - 1


def test_a_record_belongs_to_one_ledger(make_world: Callable[..., World], tmp_path: Path) -> None:
    first = make_world("first.db")
    second = make_world("second.db")
    record = tmp_path / "log.record"
    first.ledger.checkpoint(first.log_key, record)
    with pytest.raises(IntegrityError, match="belongs to ledger"):
        second.ledger.checkpoint(second.log_key, record)
    report = second.ledger.audit(record=record)
    assert [p.code for p in report.problems] == ["record_mismatch"]


def test_checkpoints_extend_the_record_and_same_size_returns_the_recorded_one(
    world: World, tmp_path: Path
) -> None:
    record = LogRecord.open(tmp_path / "log.record")
    first = world.ledger.checkpoint(world.log_key, record)
    assert world.ledger.checkpoint(world.log_key, record) == first
    world.issue("m1", 1)
    second = world.ledger.checkpoint(world.log_key, record)
    assert second.root_hash == world.ledger.root()
    reopened = LogRecord.open(record.folder)
    assert [c.size for c in reopened.checkpoints()] == [first.size, second.size]
    assert list(reopened.entry_hashes()) == [e.hash for e in world.ledger.entries()]
    assert reopened.ledger_id == world.ledger.ledger_id
    report = world.ledger.verify(record=record)
    assert report.unanchored == 0 and report.anchored == second.size


def test_a_crash_between_the_hashes_and_the_checkpoint_line_loses_nothing(
    world: World, tmp_path: Path
) -> None:
    folder = tmp_path / "log.record"
    world.ledger.checkpoint(world.log_key, folder)
    size = LogRecord.open(folder).size
    # A crash after the entry hashes were written, in the middle of the checkpoint line:
    with (folder / "entries.bin").open("ab") as handle:
        handle.write(b"\x07" * 32 * 3)
    with (folder / "checkpoints.jsonl").open("ab") as handle:
        handle.write(b'{"note": "chengdu')
    record = LogRecord.open(folder)
    assert record.size == size
    world.issue("m2", 2)
    again = world.ledger.checkpoint(world.log_key, record)
    assert list(LogRecord.open(folder).entry_hashes()) == [e.hash for e in world.ledger.entries()]
    assert again.size == size + 1


def test_auto_checkpoint_anchors_every_n_entries_and_after_a_while(
    make_world: Callable[..., World], tmp_path: Path
) -> None:
    clock = FixedClock()
    world = make_world(clock=clock)
    record = LogRecord.open(tmp_path / "log.record")
    auto = AutoCheckpoint(world.log_key, record, every_entries=3, every=dt.timedelta(hours=1))
    world.ledger.close()
    world.ledger = Ledger.open(world.path, clock=clock, auto_checkpoint=auto)
    world.issue("m1", 1)  # the first append anchors everything so far
    assert record.size == world.ledger.size()
    anchored = record.size
    world.issue("m1", 1)
    world.issue("m1", 1)
    assert record.size == anchored
    world.issue("m1", 1)  # three entries since the last checkpoint
    assert record.size == anchored + 3
    world.issue("m1", 1)
    clock.advance(hours=2)
    world.issue("m1", 1)  # the last checkpoint is now older than an hour
    assert record.size == world.ledger.size()
    assert world.ledger.verify(record=record).unanchored == 0


def test_auto_checkpoint_with_another_key_is_refused_at_open(
    make_world: Callable[..., World], tmp_path: Path
) -> None:
    # Found only after the next append, the wrong key made every append answer
    # bad_signature although its entry was committed (a web client told "refused").
    world = make_world()
    record = LogRecord.open(tmp_path / "log.record")
    wrong = AutoCheckpoint(seeded_signer("not-the-log-key"), record, every_entries=1)
    size = world.ledger.size()
    world.ledger.close()
    with pytest.raises(SignatureError, match="not the ledger's log key"):
        Ledger.open(world.path, auto_checkpoint=wrong)
    with pytest.raises(SignatureError, match="not the ledger's log key"):
        SharedWriter.open(world.path, auto_checkpoint=wrong)
    with Ledger.open(world.path, read_only=True) as reader:
        assert reader.size() == size
    right = AutoCheckpoint(world.log_key, record, every_entries=1)
    Ledger.open(world.path, auto_checkpoint=right).close()


def test_the_command_line_keeps_the_record_beside_the_log_key(world: World, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    save_signer(world.log_key, keys / "log.key", PASS)
    env = {"POINTS_LEDGER_PASSPHRASE": PASS, "POINTS_LEDGER_DB": str(world.path)}
    world.ledger.close()
    state = AppState(clock=FixedClock(dt.datetime(2024, 5, 2, tzinfo=dt.UTC)))
    runner = CliRunner()
    before = runner.invoke(cli, ["verify"], env=env, obj=state)
    assert before.exit_code == 0, before.output
    assert "not under a checkpoint held outside the file" in before.stdout
    signed = runner.invoke(
        cli, ["checkpoint", "--log-key", str(keys / "log.key")], env=env, obj=state
    )
    assert signed.exit_code == 0, signed.output
    assert (keys / "log.record" / "checkpoints.jsonl").is_file()
    after = runner.invoke(
        cli, ["verify", "--record", str(keys / "log.record"), "--json"], env=env, obj=state
    )
    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout)["unanchored"] == 0


def test_a_fresh_signer_is_unused_until_its_first_checkpoint(tmp_path: Path) -> None:
    record = LogRecord.open(tmp_path / "r")
    assert (record.origin, record.size, record.latest()) == (None, 0, None)
    assert list(record.entry_hashes()) == []


def test_two_record_objects_on_one_folder_never_lose_a_checkpoint(
    world: World, tmp_path: Path
) -> None:
    folder = tmp_path / "log.record"
    world.ledger.checkpoint(world.log_key, folder)
    app_record = LogRecord.open(folder)  # held for the life of an application
    world.issue("m1", 1)
    world.ledger.checkpoint(world.log_key, folder)  # cron signs meanwhile
    cron_size = world.ledger.size()
    world.issue("m1", 1)
    world.ledger.checkpoint(world.log_key, app_record)  # the stale object reloads first
    sizes = [c.size for c in LogRecord.open(folder).checkpoints()]
    assert cron_size in sizes and sizes == sorted(sizes) and sizes[-1] == world.ledger.size()
    assert [c.size for c in world.ledger.checkpoints()] == sizes


def test_a_doctored_record_is_named_as_the_records_fault(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "log.record"
    world.ledger.checkpoint(world.log_key, folder)
    entries = folder / "entries.bin"
    data = bytearray(entries.read_bytes())
    data[70] ^= 1  # one bit of entry 2's recorded hash
    entries.write_bytes(bytes(data))
    with pytest.raises(LogRecordError, match="do not lead to the root it signed") as refused:
        world.ledger.checkpoint(world.log_key, folder)
    assert "restore the record folder from its own backup" in refused.value.hint
    report = world.ledger.audit(record=folder)
    assert [p.code for p in report.problems] == ["record_invalid"]
    (folder / "checkpoints.jsonl").write_bytes(b"not json\n")
    damaged = world.ledger.audit(record=folder)  # a finding, not an exception
    assert [p.code for p in damaged.problems] == ["record_invalid"]
    assert damaged.entries_checked == world.ledger.size()


def test_an_unsigned_row_in_the_checkpoints_table_does_not_stop_checkpoints(
    world: World, tmp_path: Path
) -> None:
    world.ledger.close()
    conn = sqlite3.connect(world.path)
    with conn:
        conn.execute(
            "INSERT INTO checkpoints VALUES (?, zeroblob(32), 'hello', 0)", (world_size := 6,)
        )
    conn.close()
    ledger = world.reopen()
    assert ledger.size() > world_size
    signed = ledger.checkpoint(world.log_key, tmp_path / "log.record")
    assert signed.size == ledger.size()
    assert "checkpoint_invalid" in {p.code for p in ledger.audit().problems}


def test_a_wrong_key_or_a_wrong_argument_is_refused_before_anything_is_made(
    world: World, tmp_path: Path
) -> None:
    folder = tmp_path / "never-made"
    with pytest.raises(SignatureError):
        world.ledger.checkpoint(world.admins[0], folder)
    assert not folder.exists()
    for bad in (None, 123):
        with pytest.raises(InvalidEventError):
            world.ledger.checkpoint(world.log_key, bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidEventError):
        world.ledger.audit(record=123)  # type: ignore[arg-type]
    with pytest.raises(InvalidEventError):
        world.ledger.sign(world.transfer_event("m1", "m2", 1), [world.members["m1"]])  # type: ignore[arg-type]


def test_a_clock_that_fails_or_lies_is_a_ledger_error(world: World) -> None:
    path = world.path
    minters = [*world.quorum, *world.committee]  # the clock is the only thing wrong
    world.ledger.close()

    def broken() -> dt.datetime:
        raise ZeroDivisionError("tick")

    with Ledger.open(path, clock=broken) as ledger, pytest.raises(LedgerError, match="clock"):
        ledger.append(world.transfer_event("issuer", "m1", 1), minters)
    with (
        Ledger.open(path, clock=lambda: "now") as ledger,  # type: ignore[arg-type, return-value]
        pytest.raises(InvalidEventError, match="datetime"),
    ):
        ledger.append(world.transfer_event("issuer", "m1", 1), minters)


def test_a_clock_before_1970_records_nothing(world: World, tmp_path: Path) -> None:
    # A clock reset to zero and shifted west of UTC reads 1969: every entry stamped with it
    # would stay in the signed log for good, and verify() would name it as damage.
    path, size = world.path, world.ledger.size()
    minters = [*world.quorum, *world.committee]
    world.ledger.close()
    before_1970 = FixedClock(dt.datetime(1969, 12, 31, 23, 59, tzinfo=dt.UTC))
    with Ledger.open(path, clock=before_1970) as ledger:
        with pytest.raises(InvalidEventError, match="before 1970") as refused:
            ledger.append(world.transfer_event("issuer", "m1", 1), minters)
        assert refused.value.hint == "Set the computer's clock right, then try again."
        assert ledger.size() == size
    new = tmp_path / "new.db"
    with pytest.raises(InvalidEventError, match="before 1970"):
        Ledger.create(
            new,
            origin="test.example/1969",
            log_key=seeded_signer("log"),
            admins=[seeded_signer("a1"), seeded_signer("a2")],
            clock=before_1970,
        )
    assert not new.exists()
