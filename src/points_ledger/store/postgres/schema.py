"""The PostgreSQL schema of one ledger: tables, append-only triggers, report views.

One ledger lives in one PostgreSQL schema (a namespace inside a database), so that many
offices can share one database server. Log tables (``entries``, ``signatures``,
``postings``, ``merkle_nodes``, ``checkpoints``) refuse ``UPDATE``, ``DELETE`` and
``TRUNCATE`` through triggers; state tables (``accounts``, ``keys``, ``balances``,
``state``) are caches that ``verify()`` rebuilds from the log and compares. The steps
applied are recorded in ``schema_steps``, as ``_sqlite_migrations`` does for a file.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "APPEND_ONLY_TABLES",
    "SCHEMA_STEPS",
    "STATE_TABLE_DDL",
    "TRIGGER_FUNCTION",
    "create_statements",
    "expected_triggers",
    "refuse_body",
]

APPEND_ONLY_TABLES: Final = ("entries", "signatures", "postings", "merkle_nodes", "checkpoints")
"""Every table whose rows may never be updated or deleted (guarded by triggers)."""

TRIGGER_FUNCTION: Final = "refuse_change"
"""The trigger function every append-only table's triggers call."""

_REFUSE_BODY: Final = (
    "\nBEGIN\n"
    "    RAISE EXCEPTION 'points_ledger: % is append-only; corrections are new entries',\n"
    "        TG_TABLE_NAME USING ERRCODE = 'restrict_violation';\n"
    "END\n"
)

SCHEMA_STEPS: Final = ("p001_initial",)
"""Names of every schema step this version of the library knows, in order."""

STATE_TABLE_DDL: Final = (
    "CREATE TABLE accounts (account text PRIMARY KEY, kind text NOT NULL, "
    "grid text NOT NULL, opened_seq bigint NOT NULL, "
    "opened_order bigint GENERATED ALWAYS AS IDENTITY)",
    "CREATE TABLE keys (key_id text PRIMARY KEY, public_key bytea NOT NULL, "
    "roles text NOT NULL, owner text, valid_from_seq bigint NOT NULL, revoked_at_seq bigint)",
    "CREATE TABLE balances (account text NOT NULL, asset text NOT NULL, "
    "posted bigint NOT NULL, pending bigint NOT NULL, PRIMARY KEY (account, asset))",
    'CREATE TABLE state (namespace text NOT NULL, "key" text NOT NULL, value text NOT NULL, '
    'PRIMARY KEY (namespace, "key"))',
)
"""The state cache tables."""

_LOG_TABLE_DDL: Final = (
    "CREATE TABLE entries (seq bigint PRIMARY KEY CHECK (seq >= 0), "
    "event_id text NOT NULL UNIQUE, kind text NOT NULL, effective_at text NOT NULL, "
    "recorded_at_us bigint NOT NULL, event bytea NOT NULL, prev_hash bytea NOT NULL, "
    "hash bytea NOT NULL)",
    "CREATE INDEX entries_effective_at ON entries (effective_at)",
    "CREATE INDEX entries_kind ON entries (kind, seq)",
    "CREATE TABLE signatures (seq bigint NOT NULL REFERENCES entries (seq), idx integer NOT NULL, "
    "key_id text NOT NULL, signature bytea NOT NULL, PRIMARY KEY (seq, idx))",
    "CREATE TABLE postings (seq bigint NOT NULL REFERENCES entries (seq), idx integer NOT NULL, "
    "account text NOT NULL, asset text NOT NULL, amount bigint NOT NULL, "
    "PRIMARY KEY (seq, idx))",
    "CREATE INDEX postings_account ON postings (account, asset, seq)",
    "CREATE TABLE merkle_nodes (level integer NOT NULL, idx bigint NOT NULL, "
    "hash bytea NOT NULL, PRIMARY KEY (level, idx))",
    "CREATE TABLE checkpoints (size bigint PRIMARY KEY, root bytea NOT NULL, "
    "note text NOT NULL, recorded_at_us bigint NOT NULL)",
    "CREATE TABLE schema_steps (name text PRIMARY KEY, "
    "applied_at timestamptz NOT NULL DEFAULT now())",
)

_VIEWS: Final = {
    "v_events": (
        "SELECT seq, event_id, kind, effective_at, recorded_at_us, "
        "convert_from(event, 'UTF8')::jsonb AS event FROM entries"
    ),
    "v_account_postings": (
        "SELECT p.seq, p.idx, e.event_id, e.kind, e.effective_at, e.recorded_at_us, "
        "p.account, p.asset, p.amount FROM postings p JOIN entries e ON e.seq = p.seq"
    ),
    "v_award_lines": (
        "SELECT e.seq, e.event_id, e.effective_at, substr(e.effective_at, 1, 7) AS month, "
        "e.event ->> 'volunteer' AS volunteer, e.event ->> 'service' AS service, "
        "(e.event ->> 'quantity')::bigint AS quantity, e.event ->> 'grid_cell' AS grid_cell, "
        "e.event ->> 'task_ref' AS task_ref, p.amount AS points, "
        "(SELECT r.seq FROM v_events r WHERE r.kind = 'reverse' "
        "AND r.event -> 'target_seq' = to_jsonb(e.seq) ORDER BY r.seq LIMIT 1) "
        "AS reversed_by_seq "
        "FROM v_events e JOIN postings p ON p.seq = e.seq AND p.asset = 'PTS' "
        "AND p.account = e.event ->> 'volunteer' WHERE e.kind = 'award_points'"
    ),
    "v_holds": (
        'SELECT s."key" AS voucher, s.value::jsonb AS hold FROM state s '
        "WHERE s.namespace = 'hold'"
    ),
    "v_hold_rows": (
        "SELECT voucher, hold ->> 'member' AS member, hold ->> 'offer' AS offer, "
        "hold ->> 'partner' AS partner, (hold ->> 'quantity')::bigint AS quantity, "
        "(hold ->> 'points')::bigint AS points, (hold ->> 'hold_seq')::bigint AS hold_seq, "
        "hold ->> 'held_on' AS held_on, (hold ->> 'expires_at_us')::bigint AS expires_at_us, "
        "hold ->> 'status' AS status, (hold ->> 'closed_seq')::bigint AS closed_seq, "
        "hold ->> 'confirmed_on' AS confirmed_on, "
        "(hold ->> 'settled_seq')::bigint AS settled_seq FROM v_holds"
    ),
}
"""Views for reading a ledger with ``psql`` and for the report queries; view -> SELECT."""


def create_statements(schema: str) -> list[str]:
    """Every statement that makes a new ledger in the (new, empty) ``schema``.

    ``schema`` must already be checked as a plain lower-case identifier.
    """
    statements = [f"CREATE SCHEMA {schema}", f"SET LOCAL search_path TO {schema}"]
    statements += _LOG_TABLE_DDL
    statements += STATE_TABLE_DDL
    statements.append(
        f"CREATE FUNCTION {TRIGGER_FUNCTION}() RETURNS trigger LANGUAGE plpgsql "
        f"AS $body${_REFUSE_BODY}$body$"
    )
    for table in APPEND_ONLY_TABLES:
        statements.append(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {TRIGGER_FUNCTION}()"
        )
        statements.append(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER_FUNCTION}()"
        )
    for name, select in _VIEWS.items():
        statements.append(f"CREATE VIEW {name} AS {select}")
    statements += [
        f"INSERT INTO schema_steps (name) VALUES ('{step}')"  # noqa: S608 - constants only
        for step in SCHEMA_STEPS
    ]
    return statements


def expected_triggers() -> frozenset[tuple[str, str]]:
    """``(table, trigger)`` for every trigger that must exist and be enabled."""
    return frozenset(
        (table, f"{table}_{suffix}")
        for table in APPEND_ONLY_TABLES
        for suffix in ("append_only", "no_truncate")
    )


def refuse_body() -> str:
    """The source text of the trigger function, to compare with the stored one."""
    return _REFUSE_BODY
