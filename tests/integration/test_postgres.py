"""The PostgreSQL store beyond the conformance suite: URLs, the database's own guards.

A ledger is made and opened by URL (``Ledger``, the command line, ``POINTS_LEDGER_DB``);
the log tables refuse edits from anyone, superuser included, unless the triggers are
bypassed; the role the how-to sets up cannot edit them at all; and what a superuser who
bypasses the triggers changes is found by the audit.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from community_world import World, build_world
from postgres_server import with_schema

from points_ledger import Asset, Ledger, OpenAccount, StorageError
from points_ledger.cli import main
from points_ledger.models.common import AccountKind
from points_ledger.store.postgres import LedgerUrl, PostgresStore

HOWTO = Path(__file__).resolve().parents[2] / "docs" / "howto" / "run-on-postgresql.md"
NONCE = "00112233445566778899aabbccddeeff"
MOMENT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def superuser(url: str) -> psycopg.Connection[tuple[object, ...]]:
    """A connection as the test server's superuser, in the ledger's schema."""
    where = LedgerUrl.parse(url)
    conn = psycopg.connect(where.conninfo, autocommit=True)
    conn.execute(f"SET search_path TO {where.schema}")
    return conn


@pytest.fixture
def w(postgres_url: str, tmp_path: Path) -> Iterator[World]:
    world = build_world(tmp_path, store=PostgresStore.create(postgres_url), nonce=NONCE)
    yield world
    world.ledger.close()


def test_a_ledger_is_made_and_opened_by_url(postgres_url: str) -> None:
    from conftest import seeded_signer

    admin = seeded_signer("pg/admin")
    with Ledger.create(
        postgres_url,
        origin="chengdu.example/pg",
        log_key=seeded_signer("pg/log"),
        admins=[admin],
        threshold=1,
        effective_at=MOMENT.date(),
        clock=lambda: MOMENT,
    ) as ledger:
        ledger.append(
            OpenAccount(
                id="open-1",
                effective_at=MOMENT.date(),
                account="vol:0001",
                account_kind=AccountKind.MEMBER,
            ),
            [admin],
        )
        root = ledger.root()
        assert "schema=" in str(ledger.path)
    with Ledger.open(postgres_url, clock=lambda: MOMENT) as again:
        assert again.size() == 2
        assert again.root() == root
        assert again.account("vol:0001") is not None
        assert again.verify().entries_checked == 2
    with pytest.raises(StorageError, match="already exists"):
        Ledger.create(
            postgres_url,
            origin="chengdu.example/pg",
            log_key=seeded_signer("pg/log"),
            admins=[admin],
            threshold=1,
        )


def test_a_ledger_on_postgresql_shows_its_url_not_a_folded_path(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from conftest import seeded_signer

    admin = seeded_signer("pg/admin")
    # libpq ignores the password on the test server (local trust); shown, it is hidden.
    url = f"{postgres_url}&password=s3cret"
    shown = LedgerUrl.parse(url).display()
    assert shown.startswith("postgresql://") and "s3cret" not in shown
    with (
        caplog.at_level("INFO", logger="points_ledger"),
        Ledger.create(
            url,
            origin="chengdu.example/pg",
            log_key=seeded_signer("pg/log"),
            admins=[admin],
            threshold=1,
            effective_at=MOMENT.date(),
            clock=lambda: MOMENT,
        ) as ledger,
    ):
        assert ledger.location == shown
        assert "password=***" in ledger.location
        assert repr(ledger) == f"Ledger(location={shown!r})"
        ledger.append(
            OpenAccount(
                id="open-1",
                effective_at=MOMENT.date(),
                account="vol:0001",
                account_kind=AccountKind.MEMBER,
            ),
            [admin],
        )
        ledger.verify()
        ledger.audit()
    messages = [r.getMessage() for r in caplog.records]
    for start in ("appended 1 entries to ", "verify of ", "audit of "):
        said = [m for m in messages if m.startswith(start)]
        assert said and all(shown in m for m in said), (start, messages)
    assert not any("postgresql:/p" in m or "s3cret" in m for m in messages)


def test_no_ledger_and_bad_schema_names_are_refused(postgres_server: str) -> None:
    with pytest.raises(StorageError, match="no ledger"):
        Ledger.open(with_schema(postgres_server, "nothing_here"))
    with pytest.raises(StorageError, match="cannot name"):
        Ledger.open(with_schema(postgres_server, "Robert'); DROP"))
    with pytest.raises(StorageError, match="no ledger"):
        # An ordinary schema that holds no ledger.
        Ledger.open(with_schema(postgres_server, "public"))


def test_a_failed_genesis_leaves_no_schema_behind(postgres_url: str) -> None:
    from conftest import seeded_signer

    with pytest.raises(Exception, match="nonce"):
        Ledger.create(
            postgres_url,
            origin="chengdu.example/pg",
            log_key=seeded_signer("pg/log"),
            admins=[seeded_signer("pg/admin")],
            threshold=1,
            nonce="not hex",
        )
    where = LedgerUrl.parse(postgres_url)
    with psycopg.connect(where.conninfo) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (where.schema,)
        ).fetchone()
    assert found is None


def test_a_read_only_ledger_refuses_writes(w: World, postgres_url: str) -> None:
    with Ledger.open(postgres_url, read_only=True) as reader:
        assert reader.size() == w.ledger.size()
        with pytest.raises(StorageError, match="read-only"):
            reader.append(
                w.event(OpenAccount, account="x:1", account_kind=AccountKind.MEMBER),
                [w.keys["admin"]],
            )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE entries SET kind = 'award' WHERE seq = 1",
        "DELETE FROM postings",
        "UPDATE signatures SET key_id = 'x'",
        "DELETE FROM merkle_nodes",
        "TRUNCATE entries CASCADE",
        "TRUNCATE checkpoints",
    ],
)
def test_the_log_refuses_edits_even_from_a_superuser(
    w: World, postgres_url: str, statement: str
) -> None:
    with superuser(postgres_url) as conn, pytest.raises(psycopg.errors.RestrictViolation) as caught:
        conn.execute(statement)
    assert "append-only" in str(caught.value)
    assert w.ledger.audit().ok


def test_the_store_wraps_a_refused_edit(w: World) -> None:
    store = w.ledger._store
    assert isinstance(store, PostgresStore)
    with pytest.raises(StorageError, match="append-only"), store.write():
        store.conn.execute("DELETE FROM entries WHERE seq = 0")
    assert w.ledger.verify().entries_checked == w.ledger.size()


def howto_sql(name: str) -> str:
    """The ```sql block of the how-to that follows the line naming ``name``."""
    text = HOWTO.read_text("utf-8")
    match = re.search(rf"<!-- {name} -->\n```sql\n(.*?)```", text, re.S)
    assert match, f"the how-to has no sql block marked {name}"
    return match.group(1)


def test_the_howto_writer_role_cannot_edit_the_log(w: World, postgres_url: str) -> None:
    where = LedgerUrl.parse(postgres_url)
    role = f"w_{where.schema}"
    script = howto_sql("roles").replace("office_zhiqiang", where.schema)
    script = script.replace("ledger_writer", role).replace("ledger_reader", f"r_{where.schema}")
    with superuser(postgres_url) as conn:
        for statement in script.split(";"):
            if statement.strip():
                conn.execute(statement)
    as_writer = re.sub(r"user=[^&]+", f"user={role}", postgres_url)
    try:
        with Ledger.open(as_writer, clock=w.clock) as ledger:
            w.ledger.close()
            w.ledger = ledger
            w.add(OpenAccount, "admin", account="vol:9999", account_kind=AccountKind.MEMBER)
            assert ledger.audit().ok
        with psycopg.connect(LedgerUrl.parse(as_writer).conninfo, autocommit=True) as conn:
            conn.execute(f"SET search_path TO {where.schema}")
            for statement in (
                "UPDATE postings SET amount = 0",
                "DELETE FROM entries",
                "TRUNCATE merkle_nodes",
                "ALTER TABLE entries DISABLE TRIGGER ALL",
                "SET session_replication_role = replica",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
    finally:
        with superuser(postgres_url) as conn:
            conn.execute(f"DROP OWNED BY {role}, r_{where.schema}")
            conn.execute(f"DROP ROLE {role}, r_{where.schema}")


def test_a_superuser_who_bypasses_the_triggers_is_found(w: World, postgres_url: str) -> None:
    w.add(OpenAccount, "admin", account="vol:0100", account_kind=AccountKind.MEMBER)
    assert w.ledger.audit().ok
    with superuser(postgres_url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "UPDATE entries SET event = convert_to(replace(convert_from(event, 'UTF8'), "
            "'vol:0100', 'vol:0101'), 'UTF8') WHERE event_id = %s",
            (w.ledger.entry(w.ledger.size() - 1).event_id,),
        )
    report = w.ledger.audit()
    assert not report.ok
    assert w.ledger.size() - 1 in {p.seq for p in report.problems}


def test_a_disabled_or_replaced_trigger_is_reported(w: World, postgres_url: str) -> None:
    with superuser(postgres_url) as conn:
        conn.execute("ALTER TABLE postings DISABLE TRIGGER postings_append_only")
        conn.execute("DROP TRIGGER checkpoints_no_truncate ON checkpoints")
    report = w.ledger.audit()
    messages = [p.message for p in report.problems if p.code == "schema_mismatch"]
    assert any("postings_append_only" in m and "disabled" in m for m in messages), messages
    assert any("checkpoints_no_truncate" in m and "missing" in m for m in messages), messages
    with superuser(postgres_url) as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RETURN OLD; END $$"
        )
    report = w.ledger.audit()
    assert any("refuse_change" in p.message for p in report.problems)


def test_a_removed_last_entry_is_named(w: World, postgres_url: str) -> None:
    last = w.ledger.size() - 1
    with superuser(postgres_url) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM signatures WHERE seq = %s", (last,))
        conn.execute("DELETE FROM postings WHERE seq = %s", (last,))
        conn.execute("DELETE FROM entries WHERE seq = %s", (last,))
    report = w.ledger.audit()
    assert any(p.code == "missing_entry" and p.seq == last for p in report.problems)


def test_the_command_line_takes_a_url_and_the_environment(
    w: World,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    size = w.ledger.size()
    assert main(["--ledger", postgres_url, "verify", "--json"], clock=w.clock) == 0
    assert json.loads(capsys.readouterr().out)["entries_checked"] == size
    monkeypatch.setenv("POINTS_LEDGER_DB", postgres_url)
    assert main(["balance", "fund.community", "--json"], clock=w.clock) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    fen = w.ledger.balance("fund.community", Asset.CNY).posted
    assert fen > 0
    assert [(line["account"], line["posted"]) for line in lines if line["asset"] == "CNY"] == [
        ("fund.community", fen)
    ]
    monkeypatch.setenv("POINTS_LEDGER_DB", with_schema(postgres_url.split("&schema=")[0], "absent"))
    assert main(["verify"], clock=w.clock) != 0
    assert "no ledger" in capsys.readouterr().err


def test_the_same_events_from_many_writers_are_stored_once(w: World, postgres_url: str) -> None:
    """Four connections append the same 30 events at once: 30 created, the rest exist."""
    base = w.ledger.size()
    events = [
        (
            w.event(OpenAccount, account=f"vol:{n:04d}", account_kind=AccountKind.MEMBER),
            [w.keys["admin"]],
        )
        for n in range(30)
    ]
    start = threading.Barrier(4)
    statuses: list[str] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with Ledger.open(postgres_url, clock=w.clock) as ledger:
                start.wait()
                for event, signers in events:
                    statuses.append(ledger.append(event, signers).status)
        except BaseException as e:  # reported below, not lost in the thread
            errors.append(e)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(statuses).count("created") == 30
    assert statuses.count("exists") == 90
    assert w.ledger.size() == base + 30
    assert [e.seq for e in w.ledger.entries()] == list(range(base + 30))
    assert w.ledger.audit().ok


def test_a_writer_waits_for_the_lock_then_gives_up(
    w: World, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import points_ledger.store.postgres.store as pg

    monkeypatch.setattr(pg, "_LOCK_WAIT_S", 1)
    holder = w.ledger._store
    assert isinstance(holder, PostgresStore)
    size = w.ledger.size()
    with holder.write(), Ledger.open(postgres_url, clock=w.clock) as other:
        with pytest.raises(StorageError, match="locked by another writer"):
            other.append(
                w.event(OpenAccount, account="vol:0500", account_kind=AccountKind.MEMBER),
                [w.keys["admin"]],
            )
        assert other.size() == size
    w.add(OpenAccount, "admin", account="vol:0501", account_kind=AccountKind.MEMBER)
    assert w.ledger.size() == size + 1


def test_the_server_script_cleans_up_whatever_the_command_did() -> None:
    from postgres_server import SCRIPT, unavailable

    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) and not os.environ.get("PG_BIN"):
        unavailable("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    done = subprocess.run(
        ["bash", str(SCRIPT), "run", "sh", "-c", 'echo "$POINTS_LEDGER_TEST_PG"; exit 3'],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    url = done.stdout.strip()
    folder = Path(re.search(r"host=([^&]+)/socket", url).group(1))  # type: ignore[union-attr]
    assert folder.name.startswith("points-ledger-pg.")
    assert not folder.exists()
