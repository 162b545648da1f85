"""The replay's state (``ReplayState``): dictionaries that spill to the scratch store.

``verify()`` replays the log into a :class:`~points_ledger.store.replay.ReplayState`. Until
it grows past its bound it answers from memory alone; a flush writes everything to the
store's scratch state and empties memory, and later reads go there. Both ways must give
the same state, row for row, as the live store keeps.
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

import points_ledger.audit as audit_module
from benchmarks import workload
from points_ledger import Ledger
from points_ledger.domain.state import Change, ConfiguredState
from points_ledger.models.events import Posting
from points_ledger.store import STATE_TABLES, StateStore, Store
from points_ledger.store.replay import ReplayState


@pytest.fixture(scope="module")
def community_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ledger of the everyday mix: awards, holds, donations, grants, revenue."""
    path = tmp_path_factory.mktemp("replay") / "community.db"
    ledger, community = workload.create(path, members=30)
    workload.grow(ledger, community, 400, batch=100)
    ledger.close()
    return path


def _replay(store: Store, each_entry: Callable[[ReplayState], None]) -> tuple[ReplayState, Any]:
    state = ReplayState(store.scratch_state())
    found = audit_module._Collector(stop_at_first=False)
    total = store.entry_count()
    checked = audit_module._replay(
        store,
        state,
        ConfiguredState(state),
        found,
        None,
        total,
        None,
        [lambda seq, digest: each_entry(state)],
    )
    assert checked == total
    assert found.problems == [], found.problems[:3]
    return state, found


def _rows(state: ReplayState | StateStore) -> dict[str, list[tuple[Any, ...]]]:
    return {table: list(state.table_rows(table)) for table in STATE_TABLES}


def test_rows_from_memory_and_after_spills_equal_the_live_state(community_file: Path) -> None:
    with Ledger.open(community_file) as ledger:
        store = ledger._store
        in_memory, _ = _replay(store, lambda state: None)
        spilled, _ = _replay(store, ReplayState.flush)  # spill before every entry
        try:
            live = _rows(store.state)
            assert all(live[table] for table in STATE_TABLES)  # every table has rows
            assert _rows(in_memory) == live
            assert _rows(spilled) == live
        finally:
            in_memory.close()
            spilled.close()


def test_memory_stays_bounded_when_the_replay_spills(community_file: Path) -> None:
    held: list[int] = []

    def spill(state: ReplayState) -> None:
        held.append(state.batched)
        state.flush()
        assert state.batched == 0

    with Ledger.open(community_file) as ledger:
        state, _ = _replay(ledger._store, spill)
        state.close()
        whole = sum(len(rows) for rows in _rows(ledger._store.state).values())
    # Memory holds what one entry touched, never the state as a whole: a roster or a
    # distribution touches many accounts at once, an everyday entry a handful of slots.
    assert max(held) < whole / 3, (max(held), whole)
    assert statistics.median(held) < 20, statistics.median(held)
    assert sum(held) > len(held)  # the replay did hold state between spills


class _SpillingState(ReplayState):
    """Spills after every entry (as a replay of millions of entries does now and then)."""

    def apply(self, changes: Sequence[Change], postings: Sequence[Posting]) -> None:
        super().apply(changes, postings)
        self.flush()


@pytest.mark.parametrize("state_class", [ReplayState, _SpillingState])
def test_a_changed_balance_is_found_also_after_spills(
    community_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    state_class: type[ReplayState],
) -> None:
    monkeypatch.setattr(audit_module, "ReplayState", state_class)
    path = tmp_path / "changed.db"
    shutil.copy(community_file, path)
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        account = conn.execute("SELECT account FROM balances ORDER BY account LIMIT 1").fetchone()[
            0
        ]
        conn.execute("UPDATE balances SET pending = pending + 1 WHERE account = ?", (account,))
    finally:
        conn.close()
    with Ledger.open(path) as ledger:
        report = ledger.audit()
    assert {p.code for p in report.problems} == {"state_mismatch"}, report.to_text()
    assert account in report.problems[0].message
