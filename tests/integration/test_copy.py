"""``points-ledger copy`` and ``copy_ledger``: SQLite → PostgreSQL → SQLite, every byte kept.

The copy is made over the store protocol, so it works for any pair of stores; each copy
has the source's Merkle root, its entries byte for byte, its checkpoints as signed, and
the same state rows derived again from the entries.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from community_world import World, build_world, seeded

from points_ledger import AwardPoints, IntegrityError, Ledger, StorageError
from points_ledger.cli import main
from points_ledger.copying import copy_ledger
from points_ledger.store import STATE_TABLES, Store
from points_ledger.store.memory import MemoryStore

NONCE = "ffeeddccbbaa99887766554433221100"


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = build_world(tmp_path, nonce=NONCE)
    for n, volunteer in enumerate(("vol.li", "vol.wang", "vol.li")):
        world.add(
            AwardPoints,
            "worker.g1",
            volunteer=volunteer,
            service="gas-check",
            quantity=1 + n,
            task_ref=f"gas-{n:03d}",
            grid_cell="g1",
        )
    world.ledger.checkpoint(seeded("log"), tmp_path / "log.record")
    world.today = dt.date(2023, 6, 2)
    world.add(
        AwardPoints,
        "worker.g2",
        volunteer="vol.zhao",
        service="gas-check",
        quantity=2,
        task_ref="gas-100",
        grid_cell="g2",
    )
    yield world
    world.ledger.close()


def contents(ledger: Ledger) -> dict[str, list[Any]]:
    """Every stored byte of the log, the checkpoints and the state rows."""
    store: Store = ledger._store
    found: dict[str, list[Any]] = {
        table: list(store.state.table_rows(table)) for table in STATE_TABLES
    }
    found["entries"] = list(store.entry_rows())
    found["checkpoints"] = [
        (c.size, c.root, c.note, c.recorded_at_us) for c in store.checkpoint_rows()
    ]
    return found


def test_sqlite_to_postgres_and_back_keeps_every_byte(
    w: World, tmp_path: Path, postgres_url: str
) -> None:
    source = tmp_path / "community.db"
    w.ledger.close()
    there = copy_ledger(source, postgres_url)
    back = copy_ledger(postgres_url, tmp_path / "back.db")
    with Ledger.open(source, read_only=True) as original:
        assert there.entries == back.entries == original.size()
        assert there.root == back.root == original.root()
        assert there.checkpoints == back.checkpoints == 1
        expected = contents(original)
    for place in (postgres_url, tmp_path / "back.db"):
        with Ledger.open(place) as copy:
            assert contents(copy) == expected
            assert copy.audit().ok
            assert [c.size for c in copy.checkpoints()] == [expected["checkpoints"][0][0]]


def test_the_command_copies_and_says_so(
    w: World, tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    w.ledger.close()
    source = str(tmp_path / "community.db")
    assert main(["copy", source, postgres_url, "--json"], clock=w.clock) == 0
    result = json.loads(capsys.readouterr().out)
    with Ledger.open(source, read_only=True) as original:
        assert result["entries"] == original.size()
        root = original.root()
    assert "schema=" in result["dest"]
    assert main(["copy", postgres_url, str(tmp_path / "datasette.db")], clock=w.clock) == 0
    assert "copy verifies" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "datasette.db") as conn:
        assert conn.execute("SELECT count(*) FROM entries").fetchone() == (result["entries"],)
    with Ledger.open(tmp_path / "datasette.db") as copy:
        assert copy.root() == root
    # A destination that exists is never touched.
    assert main(["copy", source, str(tmp_path / "datasette.db")], clock=w.clock) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["copy", source, postgres_url], clock=w.clock) == 1
    assert "already exists" in capsys.readouterr().err


def test_a_store_object_is_copied_too(tmp_path: Path) -> None:
    world = build_world(tmp_path, store=MemoryStore(), nonce=NONCE)
    result = copy_ledger(world.ledger._store, tmp_path / "from-memory.db")
    with Ledger.open(tmp_path / "from-memory.db") as copy:
        assert copy.root() == world.ledger.root() == result.root
        assert contents(copy) == contents(world.ledger)


def test_a_damaged_source_is_refused_and_leaves_nothing(w: World, tmp_path: Path) -> None:
    last = w.ledger.size() - 1
    assert w.ledger.entry(last).postings
    w.ledger.close()
    source = tmp_path / "community.db"
    conn = sqlite3.connect(source)
    with conn:
        conn.execute("DROP TRIGGER postings_no_update")
        conn.execute("UPDATE postings SET amount = amount * 2 WHERE seq = ?", (last,))
    conn.close()
    with pytest.raises(IntegrityError, match=f"entry {last}"):
        copy_ledger(source, tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()
    with pytest.raises(StorageError):
        copy_ledger(tmp_path / "missing.db", tmp_path / "copy.db")
    assert not (tmp_path / "copy.db").exists()
