"""Scenario 6 on PostgreSQL: a database superuser edits the log; the audit names it.

The superuser sets ``session_replication_role = replica`` (so the append-only triggers do
not fire) and changes one thing of one entry: its event bytes, a posting's amount, a
signature, its ``recorded_at``, its ``prev_hash``, or removes the entry (with its
signatures and postings). Each edit is committed, the ledger is audited through its own
connection, and the edit is undone the same way before the next case. Every case must be
reported at the edited seq; the ledger audits clean before and after.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import psycopg
import pytest
from reliability_harness import (
    Community,
    build_community,
    grow,
    report_fixture,  # noqa: F401 - the report fixture
)

from points_ledger import Ledger
from points_ledger.store.postgres import LedgerUrl

KINDS = ("event", "amount", "signature", "recorded_at", "prev_hash", "delete")


EDITS = {
    "event": (
        "UPDATE entries SET event = event || '\\x20'::bytea WHERE seq = %s",
        "UPDATE entries SET event = substr(event, 1, length(event) - 1) WHERE seq = %s",
    ),
    "amount": (
        "UPDATE postings SET amount = amount + 1 WHERE seq = %s AND idx = 0",
        "UPDATE postings SET amount = amount - 1 WHERE seq = %s AND idx = 0",
    ),
    "signature": (
        "UPDATE signatures SET signature = set_byte(signature, 0, "
        "(get_byte(signature, 0) + 1) %% 256) WHERE seq = %s AND idx = 0",
        "UPDATE signatures SET signature = set_byte(signature, 0, "
        "(get_byte(signature, 0) + 255) %% 256) WHERE seq = %s AND idx = 0",
    ),
    "recorded_at": (
        "UPDATE entries SET recorded_at_us = recorded_at_us + 1 WHERE seq = %s",
        "UPDATE entries SET recorded_at_us = recorded_at_us - 1 WHERE seq = %s",
    ),
    "prev_hash": (
        "UPDATE entries SET prev_hash = set_byte(prev_hash, 31, "
        "(get_byte(prev_hash, 31) + 1) %% 256) WHERE seq = %s",
        "UPDATE entries SET prev_hash = set_byte(prev_hash, 31, "
        "(get_byte(prev_hash, 31) + 255) %% 256) WHERE seq = %s",
    ),
}
"""Edit kind -> (statement that makes it, statement that undoes it)."""


def edit(
    conn: psycopg.Connection[tuple[object, ...]], kind: str, seq: int
) -> Callable[[], None] | None:
    """Make one edit of entry ``seq``; return what undoes it (None: nothing to edit)."""
    if kind in EDITS:
        make, unmake = EDITS[kind]
        if conn.execute(make, (seq,)).rowcount == 0:
            return None  # e.g. an entry without postings has no amount to change

        def undo_edit() -> None:
            conn.execute(unmake, (seq,))

        return undo_edit
    assert kind == "delete"
    entry = conn.execute("SELECT * FROM entries WHERE seq = %s", (seq,)).fetchall()
    signatures = conn.execute("SELECT * FROM signatures WHERE seq = %s", (seq,)).fetchall()
    postings = conn.execute("SELECT * FROM postings WHERE seq = %s", (seq,)).fetchall()
    for table in ("signatures", "postings", "entries"):
        conn.execute(f"DELETE FROM {table} WHERE seq = %s", (seq,))

    def undo() -> None:
        for table, rows in (("entries", entry), ("signatures", signatures), ("postings", postings)):
            for row in rows:
                marks = ", ".join(["%s"] * len(row))
                conn.execute(f"INSERT INTO {table} VALUES ({marks})", row)

    return undo


@pytest.fixture
def tampered_ledger(postgres_url: str) -> Iterator[str]:
    community = Community.of(1601, 12)
    with build_community(postgres_url, community, award=1_000) as ledger:
        grow(ledger, community, 40)
    yield postgres_url


@pytest.mark.ci_size
def test_superuser_edits_are_found_by_the_audit(
    tampered_ledger: str, report: Callable[..., None]
) -> None:
    url = tampered_ledger
    where = LedgerUrl.parse(url)
    rng = random.Random(1601)
    missed: list[tuple[str, int]] = []
    cases = 0
    with Ledger.open(url) as ledger, psycopg.connect(where.conninfo, autocommit=True) as conn:
        conn.execute(f"SET search_path TO {where.schema}")
        conn.execute("SET session_replication_role = replica")
        size = ledger.size()
        assert ledger.audit().ok
        seqs = sorted({1, size // 2, size - 1, *rng.sample(range(1, size), 5)})
        for seq in seqs:
            for kind in KINDS:
                undo = edit(conn, kind, seq)
                if undo is None:
                    continue
                cases += 1
                try:
                    found = {p.seq for p in ledger.audit().problems}
                finally:
                    undo()
                # A changed prev_hash is a broken chain at that seq; a removed entry is
                # missing at that seq; every other edit fails that entry's hash.
                if seq not in found:
                    missed.append((kind, seq))
        assert ledger.audit().ok
    report("logical tampering by a superuser (PostgreSQL)", cases=cases, missed=len(missed))
    assert missed == []
    assert cases >= 30
