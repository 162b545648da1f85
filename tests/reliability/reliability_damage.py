"""Damage a copy of a ledger file and classify what ``open``/``audit`` make of it.

Used by the byte-flip and logical-tampering scenarios, in worker processes of a process
pool (the functions are module-level so a forked pool can run them).

Whether a flip *changed stored content* is decided by comparing the logical content of
the flipped copy with the original's: every ``sqlite_master`` row and every table row as
``iterdump`` renders them, except the ``applied_at`` timestamp sqlite-utils keeps in its
migrations bookkeeping table (not ledger content). A file SQLite cannot read counts as
changed. Flips in free space, unused cell bytes or page headers that change nothing
logical are allowed to pass unreported (audit may still flag them).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from points_ledger import Ledger, LedgerError, Signer
from points_ledger.canonical import entry_hash
from points_ledger.merkle import leaf_hash, node_hash
from points_ledger.models.entries import Signature
from points_ledger.models.events import Posting

_MIGRATION_ROW = re.compile(r"""^(INSERT INTO "_sqlite_migrations" VALUES\(.*?),'[^']*'\);$""")


def logical_digest(path: Path) -> str:
    """SHA-256 of the file's logical content (see the module docstring).

    Raises:
        sqlite3.DatabaseError: if SQLite cannot read the file.
    """
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        digest = hashlib.sha256()
        for line in conn.iterdump():
            digest.update(_MIGRATION_ROW.sub(r"\1);", line).encode("utf-8", "surrogatepass"))
            digest.update(b"\n")
        return digest.hexdigest()
    finally:
        conn.close()


@dataclass(frozen=True)
class Outcome:
    """What one damaged copy came to."""

    changed: bool
    detected: bool
    how: str
    unexpected: str = ""
    seqs: tuple[int, ...] = ()


def examine(path: Path, original_digest: str | None) -> Outcome:
    """Classify a damaged copy: was content changed, was it detected, and how."""
    if original_digest is None:
        changed = True
    else:
        try:
            changed = logical_digest(path) != original_digest
        except sqlite3.DatabaseError:
            changed = True
        except UnicodeError:
            changed = True
    try:
        ledger = Ledger.open(path)
    except LedgerError as e:
        return Outcome(changed, True, f"open:{e.code}")
    except Exception as e:
        return Outcome(changed, False, "open", unexpected=f"{type(e).__name__}: {e}")
    try:
        report = ledger.audit()
    except LedgerError as e:
        return Outcome(changed, True, f"audit-raised:{e.code}")
    except Exception as e:
        return Outcome(changed, False, "audit", unexpected=f"{type(e).__name__}: {e}")
    finally:
        with contextlib.suppress(LedgerError):
            ledger.close()
    if report.ok:
        return Outcome(changed, False, "audit-ok")
    codes = sorted({p.code for p in report.problems})
    return Outcome(changed, True, "audit:" + ",".join(codes[:3]), seqs=tuple(report.seqs()))


def flip_and_examine(
    source: Path, target: Path, original_digest: str, offset: int, mask: int, wal: bool
) -> tuple[int, int, Outcome]:
    """Copy ``source`` (and its WAL) to ``target``, XOR one byte with ``mask``, examine."""
    shutil.copyfile(source, target)
    source_wal = Path(f"{source}-wal")
    if source_wal.exists():
        shutil.copyfile(source_wal, f"{target}-wal")
    victim = Path(f"{target}-wal") if wal else target
    with victim.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)[0]
        handle.seek(offset)
        handle.write(bytes([byte ^ mask]))
    try:
        return offset, mask, examine(target, original_digest)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)


def random_flips(size: int, count: int, seed: int) -> list[tuple[int, int]]:
    """``count`` (offset, xor mask) pairs spread over a file of ``size`` bytes."""
    rng = random.Random(seed)
    return [(rng.randrange(size), rng.randrange(1, 256)) for _ in range(count)]


# -- logical tampering (triggers dropped, as someone with the file and a shell would) ----

TAMPER_KINDS = ("modify", "delete", "insert", "reorder", "splice", "relink")


def _unprotect(conn: sqlite3.Connection) -> None:
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        conn.execute(f'DROP TRIGGER "{name}"')


def _move_seq(conn: sqlite3.Connection, old: int, new: int) -> None:
    for table in ("entries", "signatures", "postings"):
        conn.execute(f"UPDATE {table} SET seq = ? WHERE seq = ?", (new, old))


def tamper(
    path: Path, kind: str, seq: int, *, donor: Path, minter_seeds: tuple[bytes, ...], origin: str
) -> str:
    """Apply one logical tampering at entry ``seq`` of the file at ``path``.

    Returns a short description of what was done (for failure messages).
    """
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("BEGIN")
        _unprotect(conn)
        done = _tamper(conn, kind, seq, donor, minter_seeds, origin)
        conn.execute("COMMIT")
        return done
    finally:
        conn.close()


def _tamper(
    conn: sqlite3.Connection,
    kind: str,
    seq: int,
    donor: Path,
    minter_seeds: tuple[bytes, ...],
    origin: str,
) -> str:
    if kind == "modify":
        variant = seq % 4
        has_postings = conn.execute("SELECT count(*) FROM postings WHERE seq = ?", (seq,))
        if variant == 0 and has_postings.fetchone()[0]:
            conn.execute(
                "UPDATE postings SET amount = amount + 1 WHERE seq = ? AND idx = 0", (seq,)
            )
            return "posting amount + 1"
        if variant == 2:
            (signature,) = conn.execute(
                "SELECT signature FROM signatures WHERE seq = ? AND idx = 0", (seq,)
            ).fetchone()
            forged = bytes([signature[0] ^ 1]) + signature[1:]
            conn.execute(
                "UPDATE signatures SET signature = ? WHERE seq = ? AND idx = 0", (forged, seq)
            )
            return "signature bit flipped"
        if variant == 3:
            conn.execute(
                "UPDATE entries SET recorded_at_us = recorded_at_us + 1 WHERE seq = ?", (seq,)
            )
            return "recorded_at + 1 us"
        (event,) = conn.execute("SELECT event FROM entries WHERE seq = ?", (seq,)).fetchone()
        document: dict[str, Any] = json.loads(event)
        document["memo"] = (document.get("memo", "") + " edited")[:280]
        new = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        conn.execute("UPDATE entries SET event = ? WHERE seq = ?", (new.encode(), seq))
        return "event memo edited"
    if kind == "delete":
        for table in ("signatures", "postings", "entries"):
            conn.execute(f"DELETE FROM {table} WHERE seq = ?", (seq,))
        return "entry deleted"
    if kind == "reorder":
        (last,) = conn.execute("SELECT max(seq) FROM entries").fetchone()
        other = seq + 1 if seq < last else seq - 1
        _move_seq(conn, seq, -1)
        _move_seq(conn, other, seq)
        _move_seq(conn, -1, other)
        return f"entries {seq} and {other} swapped"
    if kind == "insert":
        rows = conn.execute(
            "SELECT seq FROM entries WHERE seq >= ? ORDER BY seq DESC", (seq,)
        ).fetchall()
        for (old,) in rows:
            _move_seq(conn, old, old + 1)
        prev_hash, recorded = conn.execute(
            "SELECT hash, recorded_at_us FROM entries WHERE seq = ?", (seq - 1,)
        ).fetchone()
        _insert_forged(conn, seq, prev_hash, recorded, minter_seeds, origin)
        return "forged, well-chained award inserted"
    if kind == "splice":
        donor_conn = sqlite3.connect(f"{donor.resolve().as_uri()}?mode=ro", uri=True)
        try:
            entry = donor_conn.execute("SELECT * FROM entries WHERE seq = ?", (seq,)).fetchone()
            sigs = donor_conn.execute("SELECT * FROM signatures WHERE seq = ?", (seq,)).fetchall()
            posts = donor_conn.execute("SELECT * FROM postings WHERE seq = ?", (seq,)).fetchall()
        finally:
            donor_conn.close()
        mine = conn.execute("SELECT * FROM entries WHERE seq = ?", (seq,)).fetchone()
        assert entry is not None and entry != mine, f"donor entry {seq} is not different"
        for table in ("signatures", "postings", "entries"):
            conn.execute(f"DELETE FROM {table} WHERE seq = ?", (seq,))
        conn.execute(f"INSERT INTO entries VALUES ({','.join('?' * len(entry))})", entry)
        conn.executemany("INSERT INTO signatures VALUES (?, ?, ?, ?)", sigs)
        conn.executemany("INSERT INTO postings VALUES (?, ?, ?, ?, ?)", posts)
        return "entry replaced by the same seq of a sibling ledger"
    if kind == "relink":
        # One link of the chain re-pointed, with the entry's own hash and the whole Merkle
        # tree recomputed: only the prev_hash check can see it (no secret is needed).
        row = conn.execute(
            "SELECT recorded_at_us, event FROM entries WHERE seq = ?", (seq,)
        ).fetchone()
        sigs = conn.execute(
            "SELECT key_id, signature FROM signatures WHERE seq = ? ORDER BY idx", (seq,)
        ).fetchall()
        posts = conn.execute(
            "SELECT account, asset, amount FROM postings WHERE seq = ? ORDER BY idx", (seq,)
        ).fetchall()
        fake_prev = hashlib.sha256(b"another history").digest()
        digest = entry_hash(
            seq=seq,
            recorded_at_us=row[0],
            prev_hash=fake_prev,
            event_bytes=row[1],
            signatures=[Signature.model_construct(key_id=k, signature=v) for k, v in sigs],
            postings=[Posting.model_construct(account=a, asset=s, amount=n) for a, s, n in posts],
        )
        conn.execute(
            "UPDATE entries SET prev_hash = ?, hash = ? WHERE seq = ?", (fake_prev, digest, seq)
        )
        _rebuild_merkle(conn)
        return "prev_hash re-pointed, entry hash and Merkle tree recomputed"
    raise ValueError(kind)


def _rebuild_merkle(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM merkle_nodes")
    nodes: dict[tuple[int, int], bytes] = {}
    for index, (digest,) in enumerate(conn.execute("SELECT hash FROM entries ORDER BY seq")):
        node, level = leaf_hash(digest), 0
        nodes[0, index] = node
        while index % 2 == 1:
            node = node_hash(nodes[level, index - 1], node)
            level, index = level + 1, index // 2
            nodes[level, index] = node
    conn.executemany(
        "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)",
        [(level, index, node) for (level, index), node in nodes.items()],
    )


def _insert_forged(
    conn: sqlite3.Connection,
    seq: int,
    prev_hash: bytes,
    recorded: int,
    minter_seeds: tuple[bytes, ...],
    origin: str,
) -> None:
    from reliability_harness import award_event

    from points_ledger.canonical import event_to_bytes, ledger_id_of, signing_input

    minters = [Signer.from_seed(seed) for seed in minter_seeds]
    (genesis_bytes,) = conn.execute("SELECT event FROM entries WHERE seq = 0").fetchone()
    ledger_id = ledger_id_of(genesis_bytes)
    member = conn.execute(
        "SELECT account FROM accounts WHERE kind = 'member' ORDER BY account LIMIT 1"
    ).fetchone()[0]
    event = award_event(f"forged-{seq}", member, 1000)
    data = event_to_bytes(event)
    message = signing_input(origin, ledger_id, data)
    signatures = sorted(
        (Signature(key_id=m.key_id, signature=m.sign(message)) for m in minters),
        key=lambda sig: sig.key_id,
    )
    postings = event.postings
    digest = entry_hash(
        seq=seq,
        recorded_at_us=recorded,
        prev_hash=prev_hash,
        event_bytes=data,
        signatures=tuple(signatures),
        postings=postings,
    )
    conn.execute(
        "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            seq,
            event.id,
            event.type,
            event.effective_at.isoformat(),
            recorded,
            data,
            prev_hash,
            digest,
        ),
    )
    conn.executemany(
        "INSERT INTO signatures VALUES (?, ?, ?, ?)",
        [(seq, i, sig.key_id, sig.signature) for i, sig in enumerate(signatures)],
    )
    conn.executemany(
        "INSERT INTO postings VALUES (?, ?, ?, ?, ?)",
        [(seq, i, p.account, p.asset.value, p.amount) for i, p in enumerate(postings)],
    )


def tamper_and_examine(
    source: Path,
    target: Path,
    kind: str,
    seq: int,
    donor: Path,
    minter_seeds: tuple[bytes, ...],
    origin: str,
) -> tuple[str, int, str, Outcome]:
    """Copy, tamper at ``seq``, audit; return (kind, seq, what was done, outcome)."""
    shutil.copyfile(source, target)
    try:
        done = tamper(target, kind, seq, donor=donor, minter_seeds=minter_seeds, origin=origin)
        return kind, seq, done, examine(target, None)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)


# -- WAL damage against a checkpoint held outside the file --------------------------------


@dataclass(frozen=True)
class WalOutcome:
    """What one damaged WAL came to, judged against a trusted checkpoint of ``covered``."""

    offset: int
    covered: int
    survived: int
    how: str
    seqs: tuple[int, ...] = ()
    unexpected: str = ""

    @property
    def lost(self) -> bool:
        return self.survived < self.covered

    @property
    def detected(self) -> bool:
        """Refused with a ``LedgerError``, or truncation reported naming the first loss."""
        return (
            self.how.startswith("open:")
            or self.how.startswith("audit-raised:")
            or (self.how == "audit:truncated" and self.survived in self.seqs)
        )


def wal_flip_against_checkpoint(
    source: Path,
    target: Path,
    note: str,
    covered: int,
    offset: int,
    mask: int,
    record: Path | None = None,
) -> WalOutcome:
    """Copy ``source`` and its WAL, XOR one WAL byte, open and audit against ``note``.

    With ``record`` (the log key holder's record), the audit also compares every entry
    with it, which names the first missing seq; a note alone only says how many.
    """
    shutil.copyfile(source, target)
    shutil.copyfile(f"{source}-wal", f"{target}-wal")
    with Path(f"{target}-wal").open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)[0]
        handle.seek(offset)
        handle.write(bytes([byte ^ mask]))
    try:
        try:
            ledger = Ledger.open(target)
        except LedgerError as e:
            return WalOutcome(offset, covered, -1, f"open:{e.code}")
        except Exception as e:
            return WalOutcome(offset, covered, -1, "open", unexpected=f"{type(e).__name__}: {e}")
        try:
            survived = ledger.size()
            report = ledger.audit(trusted_checkpoint=note, record=record)
        except LedgerError as e:
            return WalOutcome(offset, covered, -1, f"audit-raised:{e.code}")
        except Exception as e:
            return WalOutcome(offset, covered, -1, "audit", unexpected=f"{type(e).__name__}: {e}")
        finally:
            with contextlib.suppress(LedgerError):
                ledger.close()
        if report.ok:
            return WalOutcome(offset, covered, survived, "audit-ok")
        codes = sorted({p.code for p in report.problems})
        return WalOutcome(
            offset, covered, survived, "audit:" + ",".join(codes), seqs=tuple(report.seqs())
        )
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
