"""A throwaway PostgreSQL server for the tests, and a fresh ledger schema per test.

The server is the one ``POINTS_LEDGER_TEST_PG`` names (``scripts/postgres-server.sh run``
sets it, as CI does); without it, one is started here from the PostgreSQL binaries for
the session and stopped at its end. Where there are no server binaries (or no psycopg)
the tests that need one are skipped and say why, unless ``POINTS_LEDGER_REQUIRE_PG`` is
set (CI sets it): then they fail.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

URL_ENV = "POINTS_LEDGER_TEST_PG"
REQUIRED_ENV = "POINTS_LEDGER_REQUIRE_PG"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "postgres-server.sh"


def unavailable(reason: str) -> None:
    """Skip (or, where CI requires PostgreSQL, fail) for want of a server."""
    if os.environ.get(REQUIRED_ENV):
        pytest.fail(f"PostgreSQL is required here ({REQUIRED_ENV} is set) but {reason}")
    pytest.skip(f"no PostgreSQL for these tests: {reason}")


def server_url() -> Iterator[str]:
    """Yield the test server's URL (starting and stopping one if none is named)."""
    named = os.environ.get(URL_ENV)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[dev]')")
    if named:
        yield named
        return
    started = subprocess.run(
        ["bash", str(SCRIPT), "start"], capture_output=True, text=True, check=False
    )
    if started.returncode == 2:
        unavailable(started.stderr.strip() or "no server binaries were found")
    if started.returncode != 0:
        pytest.fail(f"the test PostgreSQL server did not start: {started.stderr}")
    folder = started.stdout.strip().splitlines()[-1]
    try:
        yield f"postgresql:///postgres?host={folder}/socket&user=ledger"
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", folder], check=False)


def with_schema(url: str, schema: str) -> str:
    """``url`` naming ``schema`` as the ledger's schema."""
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def new_schema_url(server: str) -> str:
    """A URL naming a schema no other test uses."""
    return with_schema(server, f"t_{uuid.uuid4().hex[:24]}")


def drop_schema(url: str) -> None:
    """Drop the schema ``url`` names (its triggers do not stop a DROP)."""
    import psycopg

    from points_ledger.store.postgres import LedgerUrl

    where = LedgerUrl.parse(url)
    with psycopg.connect(where.conninfo, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {where.schema} CASCADE")
