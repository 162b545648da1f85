"""One suite every store passes: the guarantees the ledger needs from storage.

Each test runs once per store (``STORES``). A new store is added to ``STORES`` and is done
when this suite and the reliability scenarios that apply to it pass. The story appended
here is the same on every store, with the same clock, keys and genesis nonce, so the
logs must be byte for byte the same and so must every report.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from community_world import COMMITTEE, World, build_world, seeded

from points_ledger import (
    AwardPoints,
    ConfirmRedemption,
    Donate,
    EntryConflictError,
    HoldExpiredError,
    HoldRedemption,
    Ledger,
    LedgerError,
    ListOffer,
    OverdraftError,
    Posting,
    Reverse,
    SetSettlementRate,
    SettlePartner,
    StorageError,
    VoidRedemption,
    verify_receipt,
)
from points_ledger import reports as r
from points_ledger.export import export_rows
from points_ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from points_ledger.models.common import Asset
from points_ledger.store import STATE_TABLES, CheckpointRow, Store
from points_ledger.store.memory import MemoryStore
from points_ledger.store.sqlite import SqliteStore

NONCE = "0123456789abcdef0123456789abcdef"


def _postgres(tmp: Path, request: pytest.FixtureRequest) -> Store:
    from points_ledger.store.postgres import PostgresStore

    url: str = request.getfixturevalue("postgres_url")
    return PostgresStore.create(url)


STORES: dict[str, Callable[[Path, pytest.FixtureRequest], Store]] = {
    "sqlite": lambda tmp, _request: SqliteStore.create(tmp / "conformance.db"),
    "memory": lambda tmp, _request: MemoryStore(),
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(STORES))
def store_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def w(store_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[World]:
    world = build_world(tmp_path, store=STORES[store_name](tmp_path, request), nonce=NONCE)
    yield world
    world.ledger.close()


def store_of(w: World) -> Store:
    return w.ledger._store


def everything(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every state row, every entry and checkpoint, and the head: the whole store."""
    found = {table: list(store.state.table_rows(table)) for table in STATE_TABLES}
    found["entries"] = [(row.seq, row.hash) for row in store.entry_rows()]
    found["checkpoints"] = [(c.size, c.note) for c in store.checkpoint_rows()]
    found["head"] = [(store.head(),)]
    return found


def award(w: World, volunteer: str, quantity: int, task: str) -> int:
    return w.add(
        AwardPoints,
        "worker.g1",
        volunteer=volunteer,
        service="gas-check",
        quantity=quantity,
        grid_cell="g1",
        task_ref=task,
    ).entry.seq


def story(w: World) -> dict[str, int]:
    """Awards, a reversal, offers, holds confirmed, voided and expired, a settlement."""
    seqs = {"li": award(w, "vol.li", 5, "gas-001"), "wang": award(w, "vol.wang", 3, "gas-002")}
    w.today = dt.date(2023, 6, 2)
    seqs["twice"] = award(w, "vol.li", 1, "gas-003")
    seqs["reversal"] = w.add(
        Reverse, "admin", target_seq=seqs["twice"], reason="paid twice"
    ).entry.seq
    w.add(
        ListOffer,
        "barber",
        offer="barber.haircut",
        partner="barber",
        item="Haircut",
        price_points=20,
        stock=5,
    )
    held = w.add(HoldRedemption, "vol.li", member="vol.li", offer="barber.haircut", points=20)
    seqs["confirmed"] = w.add(
        ConfirmRedemption, "barber", voucher=f"V{held.entry.seq:08d}"
    ).entry.seq
    held = w.add(HoldRedemption, "vol.wang", member="vol.wang", offer="barber.haircut", points=20)
    w.add(VoidRedemption, "vol.wang", voucher=f"V{held.entry.seq:08d}", reason="changed my mind")
    seqs["expiring"] = w.add(
        HoldRedemption,
        "vol.wang",
        member="vol.wang",
        offer="barber.haircut",
        points=20,
        expires_in_hours=1,
    ).entry.seq
    w.add(Donate, "vol.li", donor="vol.li", pool="pool.charity", points=5)
    w.add(SetSettlementRate, "admin", *COMMITTEE, fen_per_point=5)  # the committee agrees
    w.today = dt.date(2023, 6, 30)
    seqs["settle"] = w.add(
        SettlePartner,
        "treasurer",
        partner="barber",
        fund="fund.community",
        period_from=dt.date(2023, 6, 1),
        period_to=dt.date(2023, 6, 30),
    ).entry.seq
    return seqs


# -- append, idempotency, conflicts -----------------------------------------------------


def test_append_twice_returns_the_stored_entry(w: World) -> None:
    event = w.event(
        AwardPoints,
        volunteer="vol.li",
        service="gas-check",
        quantity=1,
        grid_cell="g1",
        task_ref="gas-101",
    )
    first = w.ledger.append(event, [w.keys["worker.g1"]])
    size = w.ledger.size()
    again = w.ledger.append(event, [w.keys["worker.g1"]])
    assert (first.status, again.status) == ("created", "exists")
    assert again.entry == first.entry
    assert w.ledger.size() == size
    assert w.pts("vol.li") == 10


def test_same_id_other_content_is_a_conflict_and_changes_nothing(w: World) -> None:
    event = w.event(
        AwardPoints,
        volunteer="vol.li",
        service="gas-check",
        quantity=1,
        grid_cell="g1",
        task_ref="gas-102",
    )
    w.ledger.append(event, [w.keys["worker.g1"]])
    before = everything(store_of(w))
    other = event.model_copy(update={"quantity": 2})
    with pytest.raises(EntryConflictError) as raised:
        w.ledger.append(other, [w.keys["worker.g1"]])
    assert raised.value.seq == w.ledger.size() - 1
    assert everything(store_of(w)) == before


def test_a_refused_batch_leaves_nothing_behind(w: World) -> None:
    award(w, "vol.li", 2, "gas-201")
    before = everything(store_of(w))
    good = w.event(
        AwardPoints,
        volunteer="vol.wang",
        service="gas-check",
        quantity=1,
        grid_cell="g1",
        task_ref="gas-202",
    )
    too_much = w.event(Donate, donor="vol.li", pool="pool.charity", points=10_000)
    with pytest.raises(OverdraftError):
        w.ledger.append_many([(good, [w.keys["worker.g1"]]), (too_much, [w.keys["vol.li"]])])
    assert everything(store_of(w)) == before
    # The good event was not kept: sent alone now, it is created.
    assert w.ledger.append(good, [w.keys["worker.g1"]]).status == "created"


def test_an_exception_inside_a_write_undoes_it(w: World) -> None:
    store = store_of(w)
    before = everything(store)
    with pytest.raises(RuntimeError), store.write():
        store.insert_checkpoint(CheckpointRow(1, b"\0" * 32, "note", 0))
        raise RuntimeError("stopped half way")
    assert everything(store) == before


# -- snapshots --------------------------------------------------------------------------


def test_a_snapshot_sees_one_moment_and_nests(w: World) -> None:
    store = store_of(w)
    with store.read_snapshot() as size:
        assert size == w.ledger.size()
        with store.read_snapshot() as inner:
            assert inner == size
        assert [row.seq for row in store.entry_rows()] == list(range(size))
    with store.write(), pytest.raises(StorageError), store.read_snapshot():
        pass


# -- reversals, holds and expiry --------------------------------------------------------


def test_a_reversal_restores_the_balance_once(w: World) -> None:
    seqs = story(w)
    assert w.pts("vol.li") == 50 - 20 - 5
    assert w.ledger.entry(seqs["reversal"]).postings == tuple(
        p.model_copy(update={"amount": -p.amount}) for p in w.ledger.entry(seqs["twice"]).postings
    )
    size = w.ledger.size()
    with pytest.raises(LedgerError):
        w.add(Reverse, "admin", target_seq=seqs["twice"], reason="again")
    assert w.ledger.size() == size


def test_holds_reserve_and_expire(w: World) -> None:
    seqs = story(w)
    wang = w.ledger.balance("vol.wang", Asset.PTS)
    assert (wang.posted, wang.pending) == (30, 20)
    (hold,) = r.outstanding_holds(w.ledger, as_of=w.clock.now)
    assert (hold.hold_seq, hold.expired) == (seqs["expiring"], True)
    with pytest.raises(HoldExpiredError):
        w.add(ConfirmRedemption, "barber", voucher=f"V{seqs['expiring']:08d}")
    # Spending releases the expired hold first.
    w.add(Donate, "vol.wang", donor="vol.wang", pool="pool.charity", points=30)
    wang = w.ledger.balance("vol.wang", Asset.PTS)
    assert (wang.posted, wang.pending) == (0, 0)
    assert r.outstanding_holds(w.ledger) == ()
    assert w.ledger.audit().ok


# -- checkpoints and proofs -------------------------------------------------------------


def test_checkpoints_are_kept_once_per_size(w: World, tmp_path: Path) -> None:
    story(w)
    record = tmp_path / "log.record"
    log_key = seeded("log")
    first = w.ledger.checkpoint(log_key, record)
    assert first.size == w.ledger.size()
    again = w.ledger.checkpoint(log_key, record)
    assert again.note == first.note
    award(w, "vol.zhao", 1, "gas-301")
    second = w.ledger.checkpoint(log_key, record)
    assert [c.size for c in w.ledger.checkpoints()] == [first.size, second.size]
    receipt = w.ledger.receipt(first.size - 1)
    assert verify_receipt(receipt, w.ledger.log_vkey()).seq == first.size - 1
    store = store_of(w)
    with pytest.raises(StorageError), store.write():
        store.insert_checkpoint(CheckpointRow(first.size, w.ledger.root(first.size), first.note, 0))
    assert [c.size for c in w.ledger.checkpoints()] == [first.size, second.size]


def test_inclusion_and_consistency_proofs_verify(w: World) -> None:
    story(w)
    size = w.ledger.size()
    root = w.ledger.root()
    for seq in (0, 1, size // 2, size - 1):
        proof = w.ledger.prove_inclusion(seq)
        verify_inclusion(leaf_hash(w.ledger.entry(seq).hash), seq, size, proof, root)
    for old in (1, 2, size // 3, size - 1):
        proof = w.ledger.prove_consistency(old, size)
        verify_consistency(old, size, proof, w.ledger.root(old), root)


def test_merkle_nodes_are_read_a_run_at_a_time_as_one_by_one(w: World) -> None:
    story(w)
    store = store_of(w)
    size = w.ledger.size()
    for level in range(4):
        width = size >> level  # complete subtrees of this level
        one_by_one = {i: store.merkle_node(level, i) for i in range(width)}
        assert store.merkle_nodes(level, 0, width + 5) == one_by_one
        assert store.merkle_nodes(level, 1, 3) == {i: one_by_one[i] for i in (1, 2) if i < width}
    assert store.merkle_nodes(0, size, size + 10) == {}  # nothing past the end
    assert store.merkle_nodes(0, 0, size)[0] == leaf_hash(w.ledger.entry(0).hash)


# -- reports and the audit --------------------------------------------------------------


def report_values(ledger: Ledger, seqs: dict[str, int]) -> list[object]:
    return [
        r.member_statement(ledger, "vol.li"),
        r.points_issued_by_service_month(ledger),
        r.points_issued_by_grid_month(ledger),
        r.top_volunteers_by_grid_cell(
            ledger, period_from=dt.date(2023, 6, 1), period_to=dt.date(2023, 6, 30)
        ),
        r.pool_report(ledger, "pool.charity"),
        r.partner_redemptions(ledger),
        r.partner_redemptions(ledger, "barber"),
        r.partner_redemptions(ledger, "teahouse"),
        r.offers(ledger),
        r.offers(ledger, "barber"),
        r.partner_settlements(ledger),
        r.partner_settlements(ledger, "barber"),
        r.outstanding_holds(ledger),
        r.settlement_statement(ledger, seqs["settle"]),
        r.services(ledger),
        r.accounts(ledger),
        r.accounts(ledger, "partner"),
        r.registered_keys(ledger),
        ledger.report_rows("award_lines"),
        ledger.report_rows("entry_span", "2023-06-01", "2023-06-30"),
        ledger.report_rows("entry_span", "2023-06-02", "2023-06-02"),
        ledger.report_rows("entry_span", "2030-01-01", "2030-12-31"),
        list(export_rows(ledger, date_from=dt.date(2023, 6, 2), date_to=dt.date(2023, 6, 30))),
    ]


def test_every_store_gives_the_same_log_state_and_reports(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    results = {}
    for name, make in STORES.items():
        folder = tmp_path / name
        folder.mkdir()
        world = build_world(folder, store=make(folder, request), nonce=NONCE)
        try:
            seqs = story(world)
            store = store_of(world)
            results[name] = (
                everything(store),
                world.ledger.root(),
                report_values(world.ledger, seqs),
            )
            assert world.ledger.verify().entries_checked == world.ledger.size()
        finally:
            world.ledger.close()
    reference = results.pop("sqlite")
    june_span, one_day_span, empty_span, june_rows = reference[2][-4:]
    assert isinstance(june_span, list) and isinstance(one_day_span, list)
    assert june_span[0][2] > one_day_span[0][2] > 0 and empty_span == [(None, None, 0)]
    assert june_rows
    for name, found in results.items():
        assert found[0] == reference[0], name
        assert found[1] == reference[1], name
        for got, expected in zip(found[2], reference[2], strict=True):
            assert got == expected, name
    # The story is not trivial: reports have rows and the hold expired is still there.
    assert reference[2][1] and reference[2][11]


def test_an_unknown_report_query_is_refused(w: World) -> None:
    with pytest.raises(StorageError):
        w.ledger.report_rows("drop_everything")


def test_the_audit_replays_the_story_cleanly(w: World) -> None:
    story(w)
    report = w.ledger.audit()
    assert report.ok, report.to_text()
    assert report.entries_checked == w.ledger.size()
    assert [f.code for f in report.findings] == ["single_admin"]


def test_a_changed_cached_balance_is_found(w: World) -> None:
    story(w)
    store = store_of(w)
    with store.write():
        store.state.apply((), [_points("vol.li", 7), _points("vol.wang", -7)])
    report = w.ledger.audit()
    assert {p.code for p in report.problems} == {"state_mismatch"}
    assert report.problems_total == 2


def _points(account: str, amount: int) -> Posting:
    return Posting(account=account, asset=Asset.PTS, amount=amount)


def test_active_keys_match_the_keys_table_exactly(w: World) -> None:
    story(w)
    state = store_of(w).state
    rows = list(state.table_rows("keys"))
    for role in ("admin", "issuer", "partner", "member", "committee", "treasurer"):
        expected = sorted(
            key_id
            for key_id, _pub, roles, _owner, _from, revoked in rows
            if revoked is None and role in json.loads(roles)
        )
        found = [k.key_id for k in state.active_keys(role)]
        assert found == expected, role
        assert state.count_active_keys(role) == len(expected) > 0
    # Only whole role names count: no part of one, no pattern characters.
    for not_a_role in ("admi", "dmin", "%", "_dmin", "", "ADMIN"):
        assert state.active_keys(not_a_role) == ()
        assert state.count_active_keys(not_a_role) == 0


def test_the_store_says_where_it_is_as_text(w: World, store_name: str, tmp_path: Path) -> None:
    store = store_of(w)
    assert w.ledger.location == store.location
    assert repr(w.ledger) == f"Ledger(location={store.location!r})"
    expected = {
        "sqlite": str(tmp_path / "conformance.db"),
        "memory": ":memory:",
    }.get(store_name)
    if expected is None:
        assert store.location.startswith("postgresql://"), store.location
        assert "schema=" in store.location
    else:
        assert store.location == expected
