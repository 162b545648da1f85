"""Attacks by someone who can write the ledger file but holds no key.

Each test plays the attack with plain ``sqlite3`` and the library's public functions
(see ``forge.py``), then checks that the ledger no longer lets it through.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path

import pytest
from forge import LogRow, read_log, rebuild_caches, write_log

from conftest import DAY, ORIGIN, FixedClock, World, build_world, seeded_signer
from points_ledger import (
    Asset,
    IntegrityError,
    Ledger,
    LimitExceededError,
    Posting,
    Transfer,
)
from points_ledger.log_notes import log_vkey
from points_ledger.models.common import AMOUNT_MAX, BALANCE_ABS_MAX

# -- item: configuration, origin and the log key come from entry 0 ------------------------


def _edit_cached_config(path: Path, **changes: object) -> None:
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        (text,) = conn.execute(
            "SELECT value FROM state WHERE namespace = 'ledger' AND key = 'config'"
        ).fetchone()
        value = json.loads(text)
        value.update(changes)
        conn.execute(
            "UPDATE state SET value = ? WHERE namespace = 'ledger' AND key = 'config'",
            (json.dumps(value),),
        )
    finally:
        conn.close()


def _fake_ledger(path: Path) -> None:
    """A whole other ledger with the same origin, its own log key and admin."""
    Ledger.create(
        path,
        origin=ORIGIN,
        log_key=seeded_signer("attacker/log"),
        admins=[seeded_signer("attacker/admin")],
        threshold=1,
        effective_at=DAY,
        clock=FixedClock(),
    ).close()


def test_a_replaced_file_cannot_borrow_the_published_log_key_from_the_cache(
    tmp_path: Path,
) -> None:
    real = build_world(tmp_path / "real.db")
    published = real.ledger.log_vkey()
    real.ledger.close()
    fake = tmp_path / "fake.db"
    _fake_ledger(fake)
    _edit_cached_config(fake, log_key=base64.b64encode(real.log_key.public_key).decode())
    with Ledger.open(fake) as ledger:
        assert ledger.log_vkey() != published
        assert ledger.log_vkey() == log_vkey(ORIGIN, seeded_signer("attacker/log").public_key)
    _edit_cached_config(fake, origin="somewhere.else/else", admin_threshold=5)
    with Ledger.open(fake) as ledger:
        assert ledger.origin == ORIGIN
        assert ledger.config.policy.admin_threshold == 1


def test_a_genesis_rewritten_to_carry_the_published_log_key_is_refused(tmp_path: Path) -> None:
    real = build_world(tmp_path / "real.db")
    real.ledger.close()
    fake = tmp_path / "fake.db"
    _fake_ledger(fake)
    attacker_key = base64.b64encode(seeded_signer("attacker/log").public_key)
    real_key = base64.b64encode(real.log_key.public_key)
    rows = read_log(fake)
    genesis = rows[0]
    assert attacker_key in genesis.event
    rows[0] = LogRow(
        genesis.event.replace(attacker_key, real_key),
        genesis.signatures,
        genesis.postings,
        genesis.recorded_at_us,
    )
    write_log(fake, rows)
    # The replay refuses the genesis, so the attacker writes the cache rows themselves.
    conn = sqlite3.connect(str(fake), isolation_level=None)
    config = {"origin": ORIGIN, "log_key": real_key.decode(), "admin_threshold": 1}
    conn.execute(
        "INSERT OR REPLACE INTO state VALUES ('ledger', 'config', ?)",
        (json.dumps({**config, "committee_threshold": 2}),),
    )
    conn.close()
    with Ledger.open(fake) as ledger:
        with pytest.raises(IntegrityError, match="genesis"):
            ledger.log_vkey()
        report = ledger.audit()
    assert not report.ok
    assert 0 in report.seqs()


# -- item: the schema check compares every object but sqlite_stat1..4 -----------------------


def test_a_trigger_named_like_a_statistics_table_is_reported(world: World) -> None:
    world.issue("m1", 10)
    world.ledger.close()
    conn = sqlite3.connect(str(world.path), isolation_level=None)
    conn.execute(
        "CREATE TRIGGER sqliteXstat1 BEFORE INSERT ON checkpoints BEGIN SELECT RAISE(IGNORE); END"
    )
    conn.execute("CREATE TABLE sqlite0stat2 (x INTEGER)")
    conn.execute("ANALYZE")  # the real statistics tables are allowed
    conn.close()
    with Ledger.open(world.path) as ledger:
        report = ledger.audit()
    messages = [p.message for p in report.problems if p.code == "schema_mismatch"]
    assert any("sqliteXstat1" in m for m in messages), report.to_text()
    assert any("sqlite0stat2" in m for m in messages), report.to_text()
    assert not any("sqlite_stat1" in m for m in messages), report.to_text()


def test_statistics_tables_alone_do_not_fail_the_audit(world: World) -> None:
    world.issue("m1", 10)
    world.ledger.close()
    conn = sqlite3.connect(str(world.path), isolation_level=None)
    conn.execute("ANALYZE")
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
    conn.close()
    with Ledger.open(world.path) as ledger:
        assert ledger.audit().ok


# -- item: replay reads only the entries before the one it checks ---------------------------


def test_a_reverse_moved_in_front_of_its_target_is_reported(world: World) -> None:
    first = world.issue("m1", 100).entry.seq
    second = world.issue("m2", 50).entry.seq
    target = world.pay("m1", "m2", 30).entry.seq
    last = world.issue("m1", 1).entry.seq
    reversal = world.reverse(target).entry.seq
    assert [first, second, target, last, reversal] == list(range(first, first + 5))
    world.ledger.close()
    rows = read_log(world.path)
    # The reversal goes to seq first + 1, its target stays at first + 2; every balance
    # stays valid.
    order = [*range(first), second, reversal, target, first, last]
    write_log(world.path, [rows[i] for i in order])
    moved = first + 1
    with Ledger.open(world.path) as ledger:
        report = ledger.audit()
        assert moved in report.seqs(), report.to_text()
        assert any(p.code == "rule_broken" and p.seq == moved for p in report.problems)
        with pytest.raises(IntegrityError, match=f"entry {moved}"):
            ledger.verify()


def test_a_forged_log_with_only_rechained_edits_still_passes(world: World) -> None:
    # The forging helpers themselves leave a faithful copy passing: the attacks above are
    # caught for what they change, not for how the file was rewritten.
    world.issue("m1", 100)
    target = world.pay("m1", "m2", 30).entry.seq
    world.reverse(target)
    world.ledger.close()
    write_log(world.path, read_log(world.path))
    rebuild_caches(world.path)
    with Ledger.open(world.path) as ledger:
        assert ledger.audit().ok


# -- item: balances have a documented bound --------------------------------------------------


def _big_transfer(world: World, n: int) -> Transfer:
    pairs = 32
    return Transfer(
        id=f"big-{n}",
        effective_at=DAY,
        postings=(
            *(Posting(account="issuer", asset=Asset.PTS, amount=-AMOUNT_MAX) for _ in range(pairs)),
            *(Posting(account="m1", asset=Asset.PTS, amount=AMOUNT_MAX) for _ in range(pairs)),
        ),
    )


def test_a_balance_past_the_bound_is_refused_and_later_awards_still_work(world: World) -> None:
    appended = 0
    with pytest.raises(LimitExceededError) as caught:
        for n in range(400):  # 400 * 3.2e16 would pass 2**63
            world.ledger.append(_big_transfer(world, n), [*world.quorum, *world.committee])
            appended += 1
    assert caught.value.code == "limit_exceeded"
    assert f"{BALANCE_ABS_MAX:,}" in str(caught.value)
    assert "'issuer'" in str(caught.value)
    size = world.ledger.size()
    balance = world.ledger.balance("m1").posted
    assert balance == appended * 32 * AMOUNT_MAX <= BALANCE_ABS_MAX
    assert balance + 32 * AMOUNT_MAX > BALANCE_ABS_MAX
    # Nothing was written for the refused entry; a small award still goes through.
    assert world.ledger.size() == size
    world.issue("m2", 5)
    assert world.ledger.balance("m2").posted == 5
    world.ledger.verify()
