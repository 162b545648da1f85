"""Scenario 2: a fault at any step of any write leaves the file exactly as it was.

For every write operation kind and every step of the append path, a realistic fault is
injected at that step, and:

* a storage fault (``sqlite3.OperationalError("disk I/O error")``, ``OSError(EIO)``)
  surfaces as :class:`StorageError`; ``MemoryError`` propagates unchanged (the process
  failed, not the file, and masking it would hide the real problem);
* the file's logical content (``iterdump`` through a fresh connection) equals its
  before-state, and a failed ``Ledger.create`` leaves no file behind;
* the same ledger object then passes ``verify()`` and the same write succeeds when
  retried (no stale cache survives the rollback).

Steps above SQL are injected by monkeypatching the function the append path calls;
steps in SQL by a connection proxy that raises at the first statement of that step
(the statements before it did run, inside the transaction that must be rolled back).

Disk full is a separate test: a child process lowers ``RLIMIT_FSIZE`` just above the file
sizes (SIGXFSZ ignored, so writes fail with EFBIG) and appends until a write fails.
"""

from __future__ import annotations

import errno
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reliability_harness import (
    DAY,
    Community,
    award_event,
    build_community,
    copy_ledger,
    dump,
    spawn_worker,
    spend_event,
)

import points_ledger.engine as engine_module
import points_ledger.ledger as ledger_module
from points_ledger import (
    AccountKind,
    KeySpec,
    Ledger,
    LedgerError,
    OpenAccount,
    RegisterKey,
    Reverse,
    RevokeKey,
    Role,
    StorageError,
)
from points_ledger.store.sqlite import SqliteStore

SEED = 202
COMMUNITY = Community.of(SEED, 3)


class Injected(Exception):
    """Marker so a test can tell its own fault from anything else."""


FAULTS: dict[str, Callable[[], BaseException]] = {
    "sqlite_io": lambda: sqlite3.OperationalError("disk I/O error"),
    "os_eio": lambda: OSError(errno.EIO, "Input/output error"),
    "memory": MemoryError,
}

PYTHON_STEPS = ("canonicalise", "sign_check", "handler", "balance_check", "entry_hash")
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
        step, mp = self.step, self.monkeypatch
        if step == "canonicalise":
            real_to_bytes = ledger_module.event_to_bytes

            def to_bytes(event: Any) -> bytes:
                self._raise()
                return real_to_bytes(event)

            mp.setattr(ledger_module, "event_to_bytes", to_bytes)
        elif step == "sign_check":
            real_verify = engine_module.verify_signature

            def verify(*args: Any) -> bool:
                self._raise()
                return real_verify(*args)

            mp.setattr(engine_module, "verify_signature", verify)
        elif step == "handler":
            real_handler_for = engine_module.handler_for

            def handler_for(event: Any) -> Any:
                self._raise()
                return real_handler_for(event)

            mp.setattr(engine_module, "handler_for", handler_for)
        elif step == "balance_check":
            real_check = engine_module._check_balances

            def check(*args: Any) -> None:
                self._raise()
                real_check(*args)

            mp.setattr(engine_module, "_check_balances", check)
        elif step == "entry_hash":
            real_hash = ledger_module.entry_hash

            def digest(**kwargs: Any) -> bytes:
                self._raise()
                return real_hash(**kwargs)

            mp.setattr(ledger_module, "entry_hash", digest)

    def arm_store(self, store: SqliteStore) -> None:
        if self.step in SQL_STEPS:
            proxy = FaultyConnection(store.conn, SQL_STEPS[self.step], self.fault)
            self.proxies.append(proxy)
            _install(store, proxy)

    def disarm(self, store: SqliteStore) -> None:
        self.monkeypatch.undo()
        for proxy in self.proxies:
            if store.conn is proxy:
                _install(store, proxy._real)


# -- write operation kinds -------------------------------------------------------------

Write = Callable[[Ledger], object]


def _seq_of(ledger: Ledger, event_id: str) -> int:
    rows = ledger.read_only_query("SELECT seq FROM entries WHERE event_id = ?", (event_id,))
    return int(str(rows[0][0]))


def _ops() -> dict[str, Write]:
    admin = COMMUNITY.admin
    m0, m1 = COMMUNITY.members[:2]
    fresh = Community.of(SEED + 1, 1).member_key("x")
    return {
        "open_account": lambda led: led.append(
            OpenAccount(
                id="op-open", effective_at=DAY, account="m-new", account_kind=AccountKind.MEMBER
            ),
            [admin],
        ),
        "register_key": lambda led: led.append(
            RegisterKey(
                id="op-key",
                effective_at=DAY,
                key=KeySpec(public_key=fresh.public_key_b64, roles=(Role.MEMBER,), owner=m1),
            ),
            [admin],
        ),
        "revoke_key": lambda led: led.append(
            RevokeKey(
                id="op-revoke",
                effective_at=DAY,
                key_id=COMMUNITY.member_key(m1).key_id,
                reason="phone lost",
            ),
            [admin],
        ),
        "award": lambda led: led.append(award_event("op-award", m0, 7), [admin]),
        "spend": lambda led: led.append(spend_event("op-spend", m0, 5), [COMMUNITY.member_key(m0)]),
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
                (award_event("op-b1", m0, 3), [admin]),
                (spend_event("op-b2", m0, 2), [COMMUNITY.member_key(m0)]),
                (award_event("op-b3", m1, 4), [admin]),
            ]
        ),
    }


OPS = _ops()


@pytest.fixture(scope="module")
def base_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "base.db"
    build_community(path, COMMUNITY, award=50).close()
    return path


def expected_error(fault: BaseException) -> type[BaseException]:
    return MemoryError if isinstance(fault, MemoryError) else StorageError


FIRED: dict[str, set[str]] = {}


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("op", sorted(OPS))
def test_fault_at_each_step_of_each_write(
    op: str, step: str, base_ledger: Path, tmp_path: Path
) -> None:
    write = OPS[op]
    for name, make_fault in FAULTS.items():
        path = copy_ledger(base_ledger, tmp_path / f"{name}.db")
        with Ledger.open(path) as ledger, pytest.MonkeyPatch.context() as mp:
            before = dump(path)
            fault = make_fault()
            injector = Injector(mp, step, fault)
            injector.arm_python()
            injector.arm_store(ledger._store)
            try:
                write(ledger)
            except BaseException as e:
                injector.disarm(ledger._store)
                assert injector.fired, f"{op}/{step}/{name}: failed without the fault: {e!r}"
                assert isinstance(e, expected_error(fault)), f"{op}/{step}/{name}: {e!r}"
                if isinstance(e, LedgerError):
                    assert e.__cause__ is fault or e.__cause__ is not None
            else:
                injector.disarm(ledger._store)
                assert not injector.fired, f"{op}/{step}/{name}: fault fired but write succeeded"
                continue
            FIRED.setdefault(step, set()).add(op)
            assert not ledger._store.conn.in_transaction
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
            path, origin=COMMUNITY.origin, log_key=COMMUNITY.log_key, admins=[COMMUNITY.admin]
        ).close()
        path.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def test_every_step_was_reached_by_some_write() -> None:
    # Runs after the parametrised cases in file order; proves each injection point bites.
    if not FIRED:
        pytest.skip("run together with test_fault_at_each_step_of_each_write")
    assert set(FIRED) == set(STEPS)


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
