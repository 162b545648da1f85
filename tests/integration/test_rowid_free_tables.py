"""New files keep five tables WITHOUT ROWID; files made before keep working as they were.

``data/rowid-tables.db`` was made by the library as it was before this layout (the
benchmark workload's ``create(path, members=4)`` and ``grow(..., 40)``, at commit 1dc53c9
of the main branch): 154 entries, every table an ordinary rowid table. Its admin key is
the first 32 random bytes of ``random.Random(7)``, as the workload draws it.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from conftest import FixedClock
from points_ledger import AccountKind, Ledger, OpenAccount, Signer
from points_ledger.store.sqlite.schema import (
    ROWID_FREE_TABLES,
    SCHEMA_QUERY,
    expected_schemas,
    protect_log_table,
)

OLD_FILE = Path(__file__).parent / "data" / "rowid-tables.db"
LATER = dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC)  # after the file's last entry


def _table_sql(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        return {name: sql for name, sql in rows}
    finally:
        conn.close()


def _old_copy(tmp_path: Path) -> Path:
    path = tmp_path / "old.db"
    shutil.copyfile(OLD_FILE, path)
    return path


def _admin() -> Signer:
    return Signer.from_seed(random.Random(7).randbytes(32))


def _open_event(n: int) -> OpenAccount:
    return OpenAccount(
        id=f"open-later-{n}",
        effective_at=LATER.date(),
        account=f"vol:later{n}",
        account_kind=AccountKind.MEMBER,
    )


def test_the_old_file_has_rowid_tables_and_the_schema_of_older_files() -> None:
    sql = _table_sql(OLD_FILE)
    assert not any("WITHOUT ROWID" in sql[name] for name in ROWID_FREE_TABLES)
    conn = sqlite3.connect(OLD_FILE)
    try:
        actual = frozenset(conn.execute(SCHEMA_QUERY).fetchall())
    finally:
        conn.close()
    new, older = expected_schemas()
    assert actual == older
    assert actual != new


def test_an_old_file_opens_appends_and_verifies_and_keeps_its_layout(tmp_path: Path) -> None:
    path = _old_copy(tmp_path)
    with Ledger.open(path, clock=FixedClock(LATER)) as ledger:
        before = ledger.size()
        assert before == 154
        report = ledger.audit()
        assert report.ok, report.problems
        ledger.append(_open_event(0), [_admin()])
        ledger.append_many([(_open_event(n), [_admin()]) for n in range(1, 4)])
        assert ledger.size() == before + 4
        ledger.verify()
    with Ledger.open(path) as reopened:
        assert reopened.size() == before + 4
        reopened.verify()
    sql = _table_sql(path)
    assert not any("WITHOUT ROWID" in sql[name] for name in ROWID_FREE_TABLES)


def test_a_new_file_has_the_five_tables_without_rowid(tmp_path: Path) -> None:
    admin = _admin()
    path = tmp_path / "new.db"
    with Ledger.create(
        path,
        origin="test.example/new",
        log_key=Signer.generate(),
        admins=[admin],
        threshold=1,
        clock=FixedClock(LATER),
    ) as ledger:
        ledger.append(_open_event(0), [admin])
        ledger.verify()
    sql = _table_sql(path)
    for name in ROWID_FREE_TABLES:
        assert sql[name].endswith("STRICT, WITHOUT ROWID"), name
    for name in ("entries", "accounts", "keys", "checkpoints"):
        assert "WITHOUT ROWID" not in sql[name], name


@pytest.mark.parametrize("table", ["balances", "merkle_nodes"])
def test_a_file_mixing_the_two_layouts_is_reported(tmp_path: Path, table: str) -> None:
    # An operator rebuilds one table of an old file in the new layout, rows, triggers and
    # all: the file matches neither schema, and the audit says so.
    path = _old_copy(tmp_path)
    conn = sqlite3.connect(path)
    try:
        sql = _table_sql(path)[table]
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        conn.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
        conn.execute(sql + ", WITHOUT ROWID")
        conn.execute(f"INSERT INTO {table} SELECT * FROM old_{table}")
        conn.execute(f"DROP TABLE old_{table}")
        if table == "merkle_nodes":
            protect_log_table(Database(conn), table)
        conn.commit()
    finally:
        conn.close()
    with Ledger.open(path, clock=FixedClock(LATER)) as ledger:
        report = ledger.audit()
    codes = {p.code for p in report.problems}
    assert "schema_mismatch" in codes
