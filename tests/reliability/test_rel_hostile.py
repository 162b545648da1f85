"""Scenarios 7, 8 and 9: hostile input, signature replay, and secrets.

* Hostile input: hypothesis feeds quotes, ``;``, ``--``, NUL, newlines, confusable
  Unicode, huge integers and wrong types to the public functions. Only ``LedgerError``
  may come out, the file's logical content never changes, ``sqlite_master`` never
  changes. An AST scan of ``src/`` finds no ``eval``/``exec``/``pickle``/``marshal`` and
  no SQL built from strings except a fixed allow-list of constant-name builders.
* Replay: a valid signature made for one event kind, for another ledger, or as a note
  (checkpoint) signature or cosignature is never accepted as an event signature.
* Secrets: a canary seed and passphrase never appear in logs, exception texts, reprs,
  the database or its WAL; key files are 0600 and unsafe ones are refused.
"""

from __future__ import annotations

import ast
import base64
import logging
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_harness import (
    DAY,
    Community,
    award_event,
    build_community,
    committee_setup,
    dump,
    schema,
)

from points_ledger import (
    AccountKind,
    Asset,
    Ledger,
    LedgerError,
    OpenAccount,
    Posting,
    Signature,
    SignatureError,
    Signer,
    Transfer,
    load_signer,
    save_signer,
)
from points_ledger.canonical import event_from_bytes, event_to_bytes, signing_input
from points_ledger.notes import CheckpointBody, NoteVerifier, cosign, open_note, sign_note, vkey_for
from points_ledger.split import allocate

SRC = Path(__file__).resolve().parents[2] / "src" / "points_ledger"
COMMUNITY = Community.of(701, 3)

NASTY_TEXT = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "m00000' OR '1'='1",
            "m00000; DROP TABLE entries; --",
            "m00000\x00",
            "m00000\n",
            "\uff4d00000",  # fullwidth m
            "m0000\uff10",  # fullwidth zero
            "\u202em00000",
            "",
            "x" * 10_000,
            "DELETE FROM entries",
            "PRAGMA writable_schema = 1",
            "ATTACH DATABASE ':memory:' AS x",
            "SELECT * FROM entries; DELETE FROM entries",
            "issuer",
            "PTS",
        ]
    ),
)
HOSTILE = st.one_of(
    NASTY_TEXT,
    st.integers(min_value=-(2**80), max_value=2**80),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.binary(max_size=64),
    st.lists(st.integers(), max_size=3),
    st.dates(),
    st.just(object()),
)


@pytest.fixture(scope="module")
def hostile_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "h.db"
    build_community(path, COMMUNITY, award=10).close()
    return path


def only_ledger_errors(call: Callable[[], object]) -> None:
    try:
        result = call()
        if hasattr(result, "__next__"):
            list(result)  # type: ignore[call-overload]
    except LedgerError:
        pass


HYPO = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@HYPO
@given(a=HOSTILE, b=HOSTILE, c=HOSTILE, d=HOSTILE)
def test_hostile_values_to_ledger_reads(
    hostile_ledger: Path, a: Any, b: Any, c: Any, d: Any
) -> None:
    before, master = dump(hostile_ledger), schema(hostile_ledger)
    with Ledger.open(hostile_ledger) as ledger:
        only_ledger_errors(lambda: ledger.balance(a, b))
        only_ledger_errors(lambda: ledger.balance("m00000", Asset.PTS, at_seq=c, at_date=d))
        only_ledger_errors(lambda: ledger.statement(a, b, start_seq=c, limit=d))
        only_ledger_errors(lambda: ledger.entry(a))
        only_ledger_errors(lambda: ledger.entries(a, b))
        only_ledger_errors(lambda: ledger.account(a))
        only_ledger_errors(lambda: ledger.key(a))
        only_ledger_errors(lambda: ledger.read_only_query(a, ()))
        only_ledger_errors(lambda: ledger.read_only_query("SELECT ?", (b,)))
        only_ledger_errors(lambda: ledger.append(a, [b]))
    assert schema(hostile_ledger) == master
    assert dump(hostile_ledger) == before


@HYPO
@given(a=HOSTILE, b=HOSTILE, c=HOSTILE, d=HOSTILE)
def test_hostile_values_to_models_and_parsers(a: Any, b: Any, c: Any, d: Any) -> None:
    only_ledger_errors(lambda: Posting(account=a, asset=b, amount=c))
    only_ledger_errors(lambda: OpenAccount(id=a, effective_at=b, account=c, account_kind=d))
    only_ledger_errors(lambda: Transfer(id=a, effective_at=DAY, memo=b, postings=(c, d)))
    only_ledger_errors(lambda: Signature(key_id=a, signature=b))
    only_ledger_errors(lambda: event_from_bytes(a))
    only_ledger_errors(lambda: event_from_bytes(str(a).encode("utf-8", "surrogatepass")))
    only_ledger_errors(lambda: allocate(a, {"x": b, "y": c}))
    only_ledger_errors(lambda: allocate(100, a))
    only_ledger_errors(lambda: open_note(a, []))
    only_ledger_errors(lambda: CheckpointBody.from_text(a))
    only_ledger_errors(lambda: Signer.from_seed(a))


@settings(max_examples=60, deadline=None)
@given(path=NASTY_TEXT, passphrase=HOSTILE)
def test_hostile_key_paths(path: str, passphrase: Any) -> None:
    only_ledger_errors(lambda: load_signer(path, passphrase))


def test_huge_and_wrong_type_amounts_are_refused() -> None:
    for amount in (2**63, -(2**63), 10**16, 1.0, True, "5", None):
        with pytest.raises(LedgerError):
            Posting(account="m00000", asset=Asset.PTS, amount=amount)  # type: ignore[arg-type]


# -- static scan of src/ ----------------------------------------------------------------

FORBIDDEN_CALLS = {"eval", "exec"}
FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "code"}
MODULE_ALLOW = {("repl.py", "code")}
"""The REPL may use ``code.InteractiveConsole``; nothing else may."""
DYNAMIC_SQL_ALLOW = {
    ("store/sqlite/schema.py", "protect_log_table"),  # constant table names from LOG_TABLES
    ("store/sqlite/schema.py", "m002_community_views"),  # constant view names and SELECTs
    # CREATE TABLE text sqlite-utils writes from the constant names and columns of m001.
    ("store/sqlite/schema.py", "_create"),
    ("store/sqlite/store.py", "table_rows"),  # table name checked against a fixed dict
    ("store/sqlite/store.py", "log_problems"),  # loops over two constant table names
    # The schema name matches [a-z_][a-z0-9_]* (LedgerUrl.parse) and is quoted by
    # psycopg's sql.Identifier.
    ("store/postgres/store.py", "discard_if_empty"),
}
SQL_METHODS = {"execute", "executemany", "executescript", "query", "read_query"}


def _scan(path: Path) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    rel = str(path.relative_to(SRC))
    tree = ast.parse(path.read_text("utf-8"))
    calls: set[str] = set()
    modules: set[str] = set()
    dynamic: set[tuple[str, str]] = set()

    class Visitor(ast.NodeVisitor):
        def __init__(self) -> None:
            self.function = "<module>"

        def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
            outer, self.function = self.function, node.name
            self.generic_visit(node)
            self.function = outer

        def visit_Import(self, node: ast.Import) -> None:
            modules.update(a.name.split(".")[0] for a in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            modules.add((node.module or "").split(".")[0])

        def visit_Call(self, node: ast.Call) -> None:
            if isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
                calls.add(node.func.id)
            if (
                isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_METHODS
                and node.args
                and _is_built_string(node.args[0])
            ):
                dynamic.add((rel, self.function))
            self.generic_visit(node)

    Visitor().visit(tree)
    return (
        calls,
        {m for m in modules if m in FORBIDDEN_MODULES and (rel, m) not in MODULE_ALLOW},
        dynamic,
    )


def _is_built_string(node: ast.expr) -> bool:
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return not (_is_constant(node.left) and _is_constant(node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "format"
    return False


def _is_constant(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.BinOp):
        return _is_constant(node.left) and _is_constant(node.right)
    return False


def test_source_has_no_eval_pickle_or_built_sql() -> None:
    calls: set[str] = set()
    modules: set[str] = set()
    dynamic: set[tuple[str, str]] = set()
    for path in sorted(SRC.rglob("*.py")):
        c, m, d = _scan(path)
        calls |= c
        modules |= m
        dynamic |= d
    assert calls == set()
    assert modules == set()
    assert dynamic <= DYNAMIC_SQL_ALLOW, f"SQL built from strings: {dynamic - DYNAMIC_SQL_ALLOW}"


def test_scanner_flags_what_it_should() -> None:
    bad = ast.parse('conn.execute(f"SELECT * FROM t WHERE a = {x}")').body[0]
    assert isinstance(bad, ast.Expr) and isinstance(bad.value, ast.Call)
    assert _is_built_string(bad.value.args[0])
    good = ast.parse('conn.execute("SELECT * FROM t WHERE a = ?" " AND b = ?")').body[0]
    assert isinstance(good, ast.Expr) and isinstance(good.value, ast.Call)
    assert not _is_built_string(good.value.args[0])


# -- replay across kinds, ledgers and signature types ----------------------------------


def test_signatures_are_not_replayable(tmp_path: Path) -> None:
    admin = COMMUNITY.admin
    a = build_community(tmp_path / "a.db", COMMUNITY, award=10)
    other = Community(seed=COMMUNITY.seed, members=COMMUNITY.members, origin="other.example/x")
    b = build_community(tmp_path / "b.db", other, award=10)
    award = award_event("replay-award", "m00000", 5)
    opening = OpenAccount(
        id="replay-award", effective_at=DAY, account="m-x", account_kind=AccountKind.MEMBER
    )
    note_text = CheckpointBody(origin=a.origin, size=3, root_hash=bytes(32)).to_text()
    note = sign_note(note_text, "admin-key", admin.private_key)
    note_sig = base64.b64decode(note.rsplit(" ", 1)[1])[4:]
    cosig = base64.b64decode(
        cosign(note_text, "admin-key", admin.private_key, 1_700_000_000).rsplit(" ", 1)[1]
    )[4 + 8 :]
    candidates = {
        "other kind, same id": a.sign(opening, admin).signature,
        "other ledger origin": b.sign(award, admin).signature,
        "checkpoint note signature": note_sig,
        "checkpoint cosignature": cosig,
        "raw event bytes, no domain prefix": admin.sign(event_to_bytes(award)),
        "signing input of another ledger": admin.sign(
            signing_input(b.origin, bytes.fromhex(b.ledger_id), event_to_bytes(award))
        ),
    }
    accepted = []
    before = dump(a.path)
    for name, raw in candidates.items():
        assert len(raw) == 64, name
        try:
            # Signed by the committee too: only the admin's signature can be wrong.
            signers: list[Signer | Signature] = [
                Signature(key_id=admin.key_id, signature=raw),
                *COMMUNITY.committee,
            ]
            a.append(award, signers)
        except SignatureError:
            continue
        accepted.append(name)
    assert accepted == []
    assert dump(a.path) == before
    # The other way round: an event signature is no note signature.
    event_sig = a.sign(award, admin).signature
    verifier = NoteVerifier.from_vkey(vkey_for("admin-key", admin.private_key.public_key()))
    forged = (
        note_text
        + "\n\u2014 admin-key "
        + base64.b64encode(verifier.key_id + event_sig).decode()
        + "\n"
    )
    with pytest.raises(LedgerError):
        open_note(forged, [verifier])
    a.close()
    b.close()


# -- secrets ------------------------------------------------------------------------------


def test_canary_secrets_never_leak(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seed = b"CANARY-SEED-" + bytes(range(20))
    passphrase = "CANARY-PASSPHRASE-" + os.urandom(6).hex()
    canaries = {
        "seed": seed,
        "seed hex": seed.hex().encode(),
        "seed HEX": seed.hex().upper().encode(),
        "seed b64": base64.b64encode(seed),
        "seed b64url": base64.urlsafe_b64encode(seed),
        "passphrase": passphrase.encode(),
        "passphrase utf16": passphrase.encode("utf-16-le"),
    }
    signer = Signer.from_seed(seed)
    key_file = save_signer(signer, tmp_path / "admin.key", passphrase)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    texts: list[str] = [repr(signer), str(signer)]
    for wrong in ("wrong", passphrase + "x", passphrase[:-1]):
        with pytest.raises(LedgerError) as info:
            load_signer(key_file, wrong)
        texts += [str(info.value), repr(info.value), info.value.diagnostics()]
        texts += [repr(info.value.__cause__), str(info.value.details)]
    assert load_signer(key_file, passphrase).public_key == signer.public_key

    os.chmod(key_file, 0o644)
    with pytest.raises(LedgerError) as info:
        load_signer(key_file, passphrase)
    texts.append(info.value.diagnostics())
    os.chmod(key_file, 0o600)
    link = tmp_path / "link.key"
    link.symlink_to(key_file)
    with pytest.raises(LedgerError) as info:
        load_signer(link, passphrase)
    texts.append(info.value.diagnostics())

    log_key = Signer.from_seed(b"L" * 32)
    path = tmp_path / "canary.db"
    ledger = Ledger.create(
        path, origin="canary.example/x", log_key=log_key, admins=[signer], threshold=1
    )
    ledger.append(
        OpenAccount(id="o1", effective_at=DAY, account="m1", account_kind=AccountKind.MEMBER),
        [signer],
    )
    committee = [Signer.from_seed(b"C" * 32), Signer.from_seed(b"D" * 32)]
    ledger.append_many(committee_setup(signer, committee))
    ledger.append(award_event("a1", "m1", 5), [signer, *committee])
    with pytest.raises(LedgerError) as info:
        ledger.append(award_event("a1", "m1", 6), [signer, *committee])
    texts += [repr(ledger), str(info.value), info.value.diagnostics()]
    shutil.copyfile(f"{path}-wal", tmp_path / "wal-copy")
    ledger.verify()
    texts.append(ledger.audit().to_text())
    ledger.close()
    texts += [r.getMessage() for r in caplog.records]
    blobs = {
        "texts": "\n".join(texts).encode("utf-8", "surrogatepass"),
        "database": path.read_bytes(),
        "wal": (tmp_path / "wal-copy").read_bytes(),
        "key file": key_file.read_bytes(),
    }
    found = [(c, where) for where, blob in blobs.items() for c, v in canaries.items() if v in blob]
    assert found == []
