"""Scenario 2: a fault at any step of any write leaves the file exactly as it was.

For every write operation and every step of its path, a realistic fault is injected at
that step. The writes (:data:`OPS`; an append of one event is named by the event's
``type`` tag, and every event kind but ``genesis`` and ``transfer`` has its own) are:

* core: ``open_account``, ``register_key``, ``revoke_key``, a ``Transfer`` award, a
  member-signed ``Transfer`` spend, ``reverse``, and a three-event ``append_many``;
* community: ``define_service``, ``award_points`` (issuer key), the alliance
  (``join_alliance``, ``list_offer``, ``update_offer``, ``delist_offer``) and its
  two-phase redemption (``hold_redemption``, ``confirm_redemption``,
  ``void_redemption``), partner settlement (``set_settlement_rate``,
  ``settle_partner``), the charity pool (``donate``, a 2-of-n committee ``grant``);
* revenue (committee-signed): ``adopt_split_policy`` (a second version),
  ``record_roster``, ``record_revenue``, ``distribute`` (a 3:3:3:1 split with an
  investor);
* ``checkpoint``: ``Ledger.checkpoint(log_key, record)``, extending a checkpoint signed earlier.

The base file holding everything these need (catalogue, partner and offers, a pending
and a confirmed-but-unsettled redemption, a funded pool and settlement fund, committee
and treasurer keys, an adopted policy, a roster and recorded revenue) is built once per
module; each case works on a copy.

The core writes and the checkpoint meet every fault kind at every step. The community
and revenue appends go through the same append path and error boundary as the core ones,
so to keep the suite's time each of their steps meets one fault kind, rotating: each of
these writes, and each append step across them, still meets all three. For every fault:

* a storage fault (``sqlite3.OperationalError("disk I/O error")``, ``OSError(EIO)``)
  surfaces as :class:`StorageError`; ``MemoryError`` propagates unchanged (the process
  failed, not the file, and masking it would hide the real problem);
* the file's logical content (``iterdump`` through a fresh connection) equals its
  before-state, and a failed ``Ledger.create`` leaves no file behind;
* the same ledger object then passes ``verify()`` and the same write succeeds when
  retried (no stale cache survives the rollback).

Steps above SQL are injected by monkeypatching the function the write calls; steps in
SQL by a connection proxy that raises at the first statement of that step (the
statements before it did run, inside the transaction that must be rolled back). A step a
write does not take (postings for an event that moves nothing, the append steps for a
checkpoint, the checkpoint steps for an append) does not fire: the write must then
succeed. :func:`test_each_write_reached_every_step_it_takes` checks that each write was
hit at exactly the steps it takes.

Disk full is a separate test: a child process lowers ``RLIMIT_FSIZE`` just above the file
sizes (SIGXFSZ ignored, so writes fail with EFBIG) and appends until a write fails.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import sqlite3
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import pytest
from reliability_harness import (
    DAY,
    Community,
    add_offers,
    award_event,
    award_points_factory,
    build_community,
    community_event,
    copy_ledger,
    dump,
    partner_key,
    seeded_signer,
    spawn_worker,
    spend_event,
)

import points_ledger.anchoring as anchoring_module
import points_ledger.canonical as canonical
import points_ledger.domain.state as domain_state
import points_ledger.engine as engine_module
import points_ledger.keys as keys
import points_ledger.ledger as ledger_module
import points_ledger.notes as notes
from points_ledger import (
    AccountKind,
    AdoptSplitPolicy,
    Asset,
    ConfirmRedemption,
    DefineService,
    DelistOffer,
    Distribute,
    Event,
    Grant,
    Holding,
    InvestorTerms,
    JoinAlliance,
    KeySpec,
    Ledger,
    LedgerError,
    ListOffer,
    OpenAccount,
    Posting,
    RecordRevenue,
    RecordRoster,
    RecoverKey,
    RegisterKey,
    Reverse,
    RevokeKey,
    Role,
    ServiceUnit,
    SetSettlementRate,
    SettlePartner,
    Signer,
    StorageError,
    Transfer,
    UpdateOffer,
    VoidRedemption,
)
from points_ledger.domain.alliance import voucher_code
from points_ledger.models.events import event_types
from points_ledger.split import THREE_THREE_THREE_ONE, InvestorSchedule
from points_ledger.store.sqlite import SqliteStore

SEED = 202
COMMUNITY = Community.of(SEED, 3)
SHOP = partner_key(COMMUNITY)
COMMITTEE = COMMUNITY.committee
"""The two committee members ``build_community`` seats: the default committee threshold."""
TREASURER = seeded_signer(SEED, "treasurer")
SPENDER = COMMUNITY.members[2]
"""The member whose holds and donations are in the base file and in the writes (its
opening award stays untouched by the core writes, which use the first two members)."""
POLICY_ID = "village-3331"


def _sqlite(ledger: Ledger) -> SqliteStore:
    """The SQLite store under ``ledger`` (these checks look at the file itself)."""
    store = ledger._store
    assert isinstance(store, SqliteStore)
    return store


class Injected(Exception):
    """Marker so a test can tell its own fault from anything else."""


FAULTS: dict[str, Callable[[], BaseException]] = {
    "sqlite_io": lambda: sqlite3.OperationalError("disk I/O error"),
    "os_eio": lambda: OSError(errno.EIO, "Input/output error"),
    "memory": MemoryError,
}

APPEND_PYTHON_STEPS = ("canonicalise", "sign_check", "handler", "balance_check", "entry_hash")
PYTHON_STEPS = (*APPEND_PYTHON_STEPS, "sign_note")
"""``sign_note``: the log key signs the checkpoint note (inside the write transaction)."""
SQL_STEPS: dict[str, tuple[str, ...]] = {
    "insert_entry": ("INSERT INTO entries",),
    "insert_signatures": ("INSERT INTO signatures",),
    "insert_postings": ("INSERT INTO postings",),
    "merkle_nodes": ("INSERT INTO merkle_nodes",),
    "state_update": (
        "INSERT INTO balances",
        "INSERT INTO accounts",
        "INSERT INTO keys",
        "UPDATE keys",
        "INSERT INTO state",
    ),
    "insert_checkpoint": ("INSERT INTO checkpoints",),
    "commit": ("COMMIT",),
}
STEPS = (*PYTHON_STEPS, *SQL_STEPS)


class FaultyConnection:
    """A ``sqlite3.Connection`` stand-in that raises once at the first matching statement."""

    def __init__(self, real: sqlite3.Connection, prefixes: tuple[str, ...], fault: BaseException):
        self._real = real
        self._prefixes = prefixes
        self._fault: BaseException | None = fault
        self.fired = False

    def _check(self, sql: str, has_rows: bool) -> None:
        if (
            self._fault is not None
            and has_rows
            and sql.lstrip().upper().startswith(tuple(p.upper() for p in self._prefixes))
        ):
            fault, self._fault = self._fault, None
            self.fired = True
            raise fault

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        self._check(sql, True)
        return self._real.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        rows = list(rows)
        self._check(sql, bool(rows))  # an empty executemany does no I/O
        return self._real.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _install(store: SqliteStore, conn: Any) -> None:
    store.conn = conn
    store.state.conn = conn
    store.state.log_conn = conn


# step -> ((module the append path looks the name up in, name), the real function)
PYTHON_TARGETS: dict[str, tuple[tuple[Any, str], Callable[..., Any]]] = {
    "canonicalise": ((ledger_module, "event_to_bytes"), canonical.event_to_bytes),
    "sign_check": ((engine_module, "verify_signature"), keys.verify_signature),
    "handler": ((engine_module, "handler_for"), domain_state.handler_for),
    "balance_check": ((engine_module, "_check_balances"), engine_module._check_balances),
    "entry_hash": ((ledger_module, "entry_hash"), canonical.entry_hash),
    "sign_note": ((anchoring_module, "sign_note"), notes.sign_note),
}


class Injector:
    """Arms one fault at one step; reports whether it fired."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, step: str, fault: BaseException):
        self.monkeypatch = monkeypatch
        self.step = step
        self.fault = fault
        self.proxies: list[FaultyConnection] = []
        self.python_fired = False

    @property
    def fired(self) -> bool:
        return self.python_fired or any(p.fired for p in self.proxies)

    def _raise(self) -> None:
        if not self.python_fired:
            self.python_fired = True
            raise self.fault

    def arm_python(self) -> None:
        """Wrap the function the append path calls at this step so it raises first."""
        if self.step not in PYTHON_TARGETS:
            return
        (where, name), real = PYTHON_TARGETS[self.step]

        def faulty(*args: Any, **kwargs: Any) -> Any:
            self._raise()
            return real(*args, **kwargs)

        self.monkeypatch.setattr(where, name, faulty)

    def arm_store(self, store: SqliteStore) -> None:
        if self.step in SQL_STEPS:
            proxy = FaultyConnection(store.conn, SQL_STEPS[self.step], self.fault)
            self.proxies.append(proxy)
            _install(store, proxy)

    def disarm(self, store: SqliteStore) -> None:
        self.monkeypatch.undo()
        for proxy in self.proxies:
            if cast(object, store.conn) is proxy:
                _install(store, proxy._real)


# -- the base file ---------------------------------------------------------------------


def _open(account: str, kind: AccountKind) -> tuple[Event, list[Signer]]:
    event = OpenAccount(id=f"open-{account}", effective_at=DAY, account=account, account_kind=kind)
    return event, [COMMUNITY.admin]


def _treasurer_key() -> tuple[Event, list[Signer]]:
    """Register the treasurer key, owned by ``staff.treasurer``; the seated committee agrees."""
    spec = KeySpec(
        public_key=TREASURER.public_key_b64, roles=(Role.TREASURER,), owner="staff.treasurer"
    )
    signers = [COMMUNITY.admin, *COMMITTEE]
    return RegisterKey(id="key-treasurer", effective_at=DAY, key=spec), signers


def build_base(path: Path) -> None:
    """The core community plus everything the community and revenue writes build on.

    A checkpoint is signed part-way, so the ``checkpoint`` write proves consistency with
    it. ``SPENDER`` has a confirmed, unsettled redemption (for ``settle_partner``), a
    pending one (``hold-2-w2``, for the confirm and void writes) and a donation that funds
    the pool (for ``grant``).
    """
    admin = COMMUNITY.admin
    with build_community(path, COMMUNITY, award=50, catalogue=True) as ledger:
        ledger.checkpoint(COMMUNITY.log_key, path.with_suffix(".record"))
        add_offers(ledger, COMMUNITY, rounds=3)
        setup = [
            _open("hh.1", AccountKind.BENEFICIARY),
            _open("shop.2", AccountKind.PARTNER),  # not in the alliance yet: join_alliance
            *(
                _open(f"fund.{n}", AccountKind.FUND)
                for n in ("settle", "revenue", "welfare", "reserve")
            ),
            _open("investor.1", AccountKind.INVESTOR),
            _open("sh.1", AccountKind.SHAREHOLDER),
            _open("sh.2", AccountKind.SHAREHOLDER),
            _open("staff.treasurer", AccountKind.MEMBER),
            _treasurer_key(),
            (  # the price of a point: the admin and the seated committee agree
                SetSettlementRate(id="rate", effective_at=DAY, fen_per_point=5),
                [admin, *COMMITTEE],
            ),
            (
                Transfer(
                    id="fund-settle",
                    effective_at=DAY,
                    postings=(
                        Posting(account="external", asset=Asset.CNY, amount=-1_000_000),
                        Posting(account="fund.settle", asset=Asset.CNY, amount=1_000_000),
                    ),
                ),
                [admin, *COMMITTEE],  # money brought in: the committee agrees
            ),
            community_event(COMMUNITY, "main", 2, 0, 10),  # hold-2-w0, confirmed below
            community_event(COMMUNITY, "main", 2, 2, 10),  # hold-2-w2, stays pending
            community_event(COMMUNITY, "main", 2, 1, 10),  # give-2-w1: the pool has 10
            (
                AdoptSplitPolicy(
                    id="adopt-1",
                    effective_at=DAY,
                    policy_id=POLICY_ID,
                    version=1,
                    effective_from=dt.date(2026, 1, 1),
                    policy=THREE_THREE_THREE_ONE,
                    accounts={
                        "public_welfare_fund": "fund.welfare",
                        "project_reserve_fund": "fund.reserve",
                    },
                    investor=InvestorTerms(
                        account="investor.1",
                        schedule=InvestorSchedule.linear(
                            start=Fraction(7, 10), end=Fraction(1, 10), years=20
                        ),
                        contract_start_year=2026,
                    ),
                ),
                COMMITTEE,
            ),
            (
                RecordRoster(
                    id="roster-1",
                    effective_at=DAY,
                    roster_id="roster-1",
                    as_of=DAY,
                    shareholders=(
                        Holding(account="sh.1", shares=1),
                        Holding(account="sh.2", shares=2),
                    ),
                    villagers=("sh.1", "sh.2", *COMMUNITY.members),
                ),
                COMMITTEE,
            ),
            (
                RecordRevenue(
                    id="revenue-1",
                    effective_at=DAY,
                    account="fund.revenue",
                    period="2026",
                    fiscal_year=2026,
                    amount=1_000_000,
                ),
                COMMITTEE,
            ),
        ]
        ledger.append_many(setup)
        held = _seq_of(ledger, "hold-2-w0")
        confirm = ConfirmRedemption(id="confirm-1", effective_at=DAY, voucher=voucher_code(held))
        ledger.append(confirm, [SHOP])


# -- write operation kinds -------------------------------------------------------------

Write = Callable[[Ledger], object]


def _seq_of(ledger: Ledger, event_id: str) -> int:
    rows = ledger.read_only_query("SELECT seq FROM entries WHERE event_id = ?", (event_id,))
    return int(str(rows[0][0]))


def _pending_voucher(ledger: Ledger) -> str:
    return voucher_code(_seq_of(ledger, "hold-2-w2"))


def _append(event: Event, signers: list[Signer]) -> Write:
    return lambda led: led.append(event, signers)


def _core_ops() -> dict[str, Write]:
    admin = COMMUNITY.admin
    m0, m1 = COMMUNITY.members[:2]
    fresh = Community.of(SEED + 1, 1).member_key("x")
    return {
        "open_account": _append(
            OpenAccount(
                id="op-open", effective_at=DAY, account="m-new", account_kind=AccountKind.MEMBER
            ),
            [admin],
        ),
        "register_key": _append(
            RegisterKey(
                id="op-key",
                effective_at=DAY,
                key=KeySpec(public_key=fresh.public_key_b64, roles=(Role.MEMBER,), owner=m1),
            ),
            [admin, COMMUNITY.member_key(m1)],  # a second key for m1, with m1's consent
        ),
        "revoke_key": _append(
            RevokeKey(
                id="op-revoke",
                effective_at=DAY,
                key_id=COMMUNITY.member_key(m1).key_id,
                reason="phone lost",
            ),
            [admin],
        ),
        "recover_key": _append(
            RecoverKey(
                id="op-recover",
                effective_at=DAY,
                key=KeySpec(public_key=fresh.public_key_b64, roles=(Role.MEMBER,), owner=m0),
                reason="phone lost",
            ),
            [admin, *COMMITTEE],
        ),
        "award": _append(award_event("op-award", m0, 7), COMMUNITY.minters),
        "spend": _append(spend_event("op-spend", m0, 5), [COMMUNITY.member_key(m0)]),
        "reverse": lambda led: led.append(
            Reverse(
                id="op-reverse",
                effective_at=DAY,
                target_seq=_seq_of(led, f"seed-award-{m0}"),
                reason="entered twice",
            ),
            [admin],
        ),
        "append_many": lambda led: led.append_many(
            [
                (award_event("op-b1", m0, 3), COMMUNITY.minters),
                (spend_event("op-b2", m0, 2), [COMMUNITY.member_key(m0)]),
                (award_event("op-b3", m1, 4), COMMUNITY.minters),
            ]
        ),
    }


def _community_ops() -> dict[str, Write]:
    admin, spender = COMMUNITY.admin, COMMUNITY.member_key(SPENDER)
    return {
        "define_service": _append(
            DefineService(
                id="op-service",
                effective_at=DAY,
                code="op-service",
                name="Reading to neighbours",
                points_per_unit=3,
                unit=ServiceUnit.HOUR,
                points_per_day_max=30,
                active_from=DAY,
            ),
            [admin, *COMMITTEE],
        ),
        "award_points": _append(*award_points_factory(COMMUNITY, 9, 0)),
        "join_alliance": _append(
            JoinAlliance(
                id="op-join",
                effective_at=DAY,
                partner="shop.2",
                name="Second shop",
                public_key=seeded_signer(SEED, "partner/2").public_key_b64,
            ),
            [admin],
        ),
        "list_offer": _append(
            ListOffer(
                id="op-list",
                effective_at=DAY,
                offer="op-offer",
                partner="shop",
                item="Tea",
                price_points=3,
                stock=4,
            ),
            [SHOP],
        ),
        "update_offer": _append(
            UpdateOffer(id="op-update", effective_at=DAY, offer="main-2", stock=50), [SHOP]
        ),
        "delist_offer": _append(
            DelistOffer(id="op-delist", effective_at=DAY, offer="stock-0"), [SHOP]
        ),
        "hold_redemption": _append(*community_event(COMMUNITY, "main", 2, 4, 10)),
        "confirm_redemption": lambda led: led.append(
            ConfirmRedemption(id="op-confirm", effective_at=DAY, voucher=_pending_voucher(led)),
            [SHOP],
        ),
        "void_redemption": lambda led: led.append(
            VoidRedemption(
                id="op-void", effective_at=DAY, voucher=_pending_voucher(led), reason="not needed"
            ),
            [spender],
        ),
        "set_settlement_rate": _append(
            SetSettlementRate(id="op-rate", effective_at=DAY, fen_per_point=7),
            [admin, *COMMITTEE],
        ),
        "settle_partner": _append(
            SettlePartner(
                id="op-settle",
                effective_at=DAY,
                partner="shop",
                fund="fund.settle",
                period_from=DAY,
                period_to=DAY,
            ),
            [TREASURER],
        ),
        "donate": _append(*community_event(COMMUNITY, "main", 2, 3, 10)),
        "grant": _append(
            Grant(
                id="op-grant",
                effective_at=DAY,
                pool="pool",
                beneficiary="hh.1",
                points=6,
                purpose="care visit",
            ),
            COMMITTEE,
        ),
    }


def _revenue_ops() -> dict[str, Write]:
    return {
        "adopt_split_policy": _append(
            AdoptSplitPolicy(
                id="op-adopt",
                effective_at=DAY,
                policy_id=POLICY_ID,
                version=2,
                effective_from=dt.date(2027, 1, 1),
                policy=THREE_THREE_THREE_ONE,
                accounts={
                    "public_welfare_fund": "fund.welfare",
                    "project_reserve_fund": "fund.reserve",
                },
            ),
            COMMITTEE,
        ),
        "record_roster": _append(
            RecordRoster(
                id="op-roster",
                effective_at=DAY,
                roster_id="roster-2",
                as_of=DAY,
                shareholders=(Holding(account="sh.2", shares=5),),
                villagers=("sh.2", *COMMUNITY.members),
            ),
            COMMITTEE,
        ),
        "record_revenue": _append(
            RecordRevenue(
                id="op-revenue",
                effective_at=DAY,
                account="fund.revenue",
                period="2026",
                fiscal_year=2026,
                amount=250_000,
            ),
            COMMITTEE,
        ),
        "distribute": _append(
            Distribute(
                id="op-distribute",
                effective_at=DAY,
                period="2026",
                policy_id=POLICY_ID,
                roster_id="roster-1",
                amount=100_001,
            ),
            COMMITTEE,
        ),
    }


OPS: dict[str, Write] = {
    **_core_ops(),
    **_community_ops(),
    **_revenue_ops(),
    "checkpoint": lambda led: led.checkpoint(COMMUNITY.log_key, led.path.with_suffix(".record")),
}

CHECKPOINT_STEPS = frozenset(
    {"sign_check", "handler", "balance_check", "sign_note", "insert_checkpoint", "commit"}
)
"""The steps of ``Ledger.checkpoint`` (it replays and checks every entry before it signs);
every other write is an append."""
APPEND_STEPS = frozenset(STEPS) - {"sign_note", "insert_checkpoint"}
"""The steps of an append (``insert_postings`` only when the entry has postings)."""
WITHOUT_POSTINGS = frozenset(
    {
        "open_account",
        "register_key",
        "recover_key",
        "revoke_key",
        "define_service",
        "join_alliance",
        "list_offer",
        "update_offer",
        "delist_offer",
        "hold_redemption",
        "void_redemption",
        "set_settlement_rate",
        "adopt_split_policy",
        "record_roster",
    }
)
"""Appends whose entry has no postings (a hold or a void only moves pending amounts)."""


def steps_taken(op: str) -> set[str]:
    """The steps at which a fault must fire for ``op``."""
    if op == "checkpoint":
        return set(CHECKPOINT_STEPS)
    if op in WITHOUT_POSTINGS:
        return set(APPEND_STEPS - {"insert_postings"})
    return set(APPEND_STEPS)


@pytest.fixture(scope="module")
def base_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "base.db"
    build_base(path)
    return path


def expected_error(fault: BaseException) -> type[BaseException]:
    return MemoryError if isinstance(fault, MemoryError) else StorageError


FULL_OPS = frozenset({*_core_ops(), "checkpoint"})
"""Writes that meet every fault kind at every step: the core appends, and the checkpoint
(which converts its own insert's errors). The community and revenue appends share the
core's append path and its error boundary, so each of their steps meets one fault kind,
rotating (:func:`faults_for`); this keeps the suite within its time budget."""
ROTATED_OPS = tuple(sorted(set(OPS) - FULL_OPS))


def faults_for(op: str, step: str) -> dict[str, Callable[[], BaseException]]:
    """The faults injected at ``step`` of ``op``.

    For a rotated write, consecutive steps take consecutive fault kinds, so every
    rotated write meets every kind (its first three steps already do) and every step
    meets every kind across the rotated writes.
    """
    if op in FULL_OPS:
        return FAULTS
    names = tuple(FAULTS)
    name = names[(ROTATED_OPS.index(op) + STEPS.index(step)) % len(names)]
    return {name: FAULTS[name]}


FIRED: set[tuple[str, str, str]] = set()
"""(write, step, fault kind) of every fault that was raised in a write."""


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("op", sorted(OPS))
def test_fault_at_each_step_of_each_write(
    op: str, step: str, base_ledger: Path, tmp_path: Path
) -> None:
    write = OPS[op]
    for name, make_fault in faults_for(op, step).items():
        path = copy_ledger(base_ledger, tmp_path / f"{name}.db")
        with Ledger.open(path) as ledger, pytest.MonkeyPatch.context() as mp:
            before = dump(path)
            fault = make_fault()
            injector = Injector(mp, step, fault)
            injector.arm_python()
            injector.arm_store(_sqlite(ledger))
            try:
                write(ledger)
            except BaseException as e:
                injector.disarm(_sqlite(ledger))
                assert injector.fired, f"{op}/{step}/{name}: failed without the fault: {e!r}"
                assert isinstance(e, expected_error(fault)), f"{op}/{step}/{name}: {e!r}"
                if isinstance(e, LedgerError):
                    assert e.__cause__ is fault or e.__cause__ is not None
            else:
                injector.disarm(_sqlite(ledger))
                assert not injector.fired, f"{op}/{step}/{name}: fault fired but write succeeded"
                continue
            FIRED.add((op, step, name))
            assert not _sqlite(ledger).conn.in_transaction
            assert dump(path) == before, f"{op}/{step}/{name}: the file changed"
            ledger.verify()
            write(ledger)  # the same write now succeeds: no stale state after rollback
            ledger.verify()


@pytest.mark.parametrize("step", STEPS)
def test_fault_while_creating_a_ledger_leaves_no_file(step: str, tmp_path: Path) -> None:
    for name, make_fault in FAULTS.items():
        path = tmp_path / f"{name}.db"
        fault = make_fault()
        with pytest.MonkeyPatch.context() as mp:
            injector = Injector(mp, step, fault)
            injector.arm_python()
            real_create = SqliteStore.create.__func__  # type: ignore[attr-defined]

            def create(
                cls: type[SqliteStore],
                target: Path,
                real_create: Any = real_create,
                injector: Injector = injector,
            ) -> SqliteStore:
                store: SqliteStore = real_create(cls, target)
                injector.arm_store(store)
                return store

            mp.setattr(SqliteStore, "create", classmethod(create))
            raised: BaseException | None = None
            try:
                ledger = Ledger.create(
                    path,
                    origin=COMMUNITY.origin,
                    log_key=COMMUNITY.log_key,
                    admins=[COMMUNITY.admin],
                    threshold=1,
                )
            except BaseException as e:
                raised = e
            else:
                ledger.close()
        if not injector.fired:
            assert raised is None
            continue
        assert isinstance(raised, expected_error(fault)), f"{step}/{name}: {raised!r}"
        for suffix in ("", "-wal", "-shm"):
            assert not Path(f"{path}{suffix}").exists(), f"{step}/{name}: {suffix} left behind"
        Ledger.create(
            path,
            origin=COMMUNITY.origin,
            log_key=COMMUNITY.log_key,
            admins=[COMMUNITY.admin],
            threshold=1,
        ).close()
        path.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def test_every_step_was_reached_by_some_write() -> None:
    # Runs after the parametrised cases in file order; proves each injection point bites.
    if not FIRED:
        pytest.skip("run together with test_fault_at_each_step_of_each_write")
    assert {step for _, step, _ in FIRED} == set(STEPS)


def test_each_write_reached_every_step_it_takes() -> None:
    # Each write was hit at exactly the steps it takes, with every fault kind: a step
    # that silently stopped applying to a write (or started to) shows up here.
    if not FIRED:
        pytest.skip("run together with test_fault_at_each_step_of_each_write")
    for op in OPS:
        assert {step for o, step, _ in FIRED if o == op} == steps_taken(op), op
        assert {kind for o, _, kind in FIRED if o == op} == set(FAULTS), op
    # The rotation still brings every fault kind to every append step.
    for step in APPEND_STEPS:
        kinds = {kind for o, s, kind in FIRED if s == step and o in ROTATED_OPS}
        assert kinds == set(FAULTS), step


def test_every_event_kind_has_a_write() -> None:
    # A new event kind must be added to OPS (genesis is covered by the create test,
    # transfer by award and spend).
    assert set(event_types()) - {"genesis", "transfer"} <= set(OPS)


def test_disk_full_surfaces_as_storage_error(base_ledger: Path, tmp_path: Path) -> None:
    path = copy_ledger(base_ledger, tmp_path / "full.db")
    proc = spawn_worker(
        [
            "diskfull",
            f"--ledger={path}",
            f"--seed={SEED}",
            f"--members={len(COMMUNITY.members)}",
            "--count=100000",
            "--headroom=32768",
        ]
    )
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["error_type"] == "StorageError", result
    assert result["is_storage_error"] is True
    assert result["acked"], "the limit left no room for a single append"
    with Ledger.open(path) as ledger:
        ledger.verify()
        stored = {e.event_id: e.seq for e in ledger.entries()}
        for event_id, seq in result["acked"]:
            assert stored.get(event_id) == seq
        assert ledger.size() == len(stored)
