"""The log key holder's own record of what it signed, kept outside the ledger file.

Whoever runs the server can write the ledger file; the log key's holder must still
never sign a history that contradicts what it signed before, and an auditor must be able
to say exactly which entry an operator removed, moved or changed. Both need facts the
file cannot rewrite, so the holder keeps them in a folder of its own (the command line
keeps it beside the log key file: ``keys/log.record/``):

``ledger.json``
    The ledger this record belongs to: origin, ledger id and log verifier key. Written
    once, when the record signs its first checkpoint; a record refuses every other ledger.
``checkpoints.jsonl``
    One JSON line per signed checkpoint: size, root (hex), the signed note, time.
``entries.bin``
    The 32-byte hash of every entry the holder checked before signing, in seq order.
    Only the first ``size`` hashes of the latest checkpoint count: hashes written before
    a crash that stopped the checkpoint line from being written are overwritten by the
    next checkpoint.

The files are plain and small (32 bytes an entry), so they can be copied to a USB stick
or a second machine, and read by any program. Write order (entry hashes, then the
checkpoint line, each flushed to disk) means a crash never leaves a checkpoint whose
entry hashes are missing; ``ledger.json`` appears whole or not at all.

Two programs may share one record (a cron job and an application): :meth:`LogRecord.locked`
takes an exclusive lock on the folder (``.lock``, POSIX ``flock``) and reloads it, so each
checkpoint extends what is on disk, never a stale copy in memory. The record checks
itself too: :meth:`LogRecord.check` recomputes every recorded root from the entry hashes,
so a damaged or doctored ``entries.bin`` is named as the record's fault, not the file's.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from points_ledger.errors import InvalidEventError, LogRecordError, StorageError
from points_ledger.merkle import RootBuilder

try:  # POSIX: one checkpointer at a time per record folder
    import fcntl
except ImportError:  # pragma: no cover - Windows: run one checkpointer per record
    fcntl = None  # type: ignore[assignment]

__all__ = ["LogRecord", "RecordedCheckpoint"]

_LEDGER_FILE: Final = "ledger.json"
_CHECKPOINTS_FILE: Final = "checkpoints.jsonl"
_ENTRIES_FILE: Final = "entries.bin"
_HASH_BYTES: Final = 32
_FORMAT: Final = "points-ledger-log-record/v1"
_READ_CHUNK_HASHES: Final = 4096
_LOCK_FILE: Final = ".lock"


@dataclass(frozen=True)
class RecordedCheckpoint:
    """One checkpoint the log key signed, as its holder recorded it.

    Attributes:
        size: How many entries it covers.
        root: The Merkle root of those entries (32 bytes).
        note: The signed checkpoint note, as published.
        recorded_at_us: When it was signed (UTC microseconds since the epoch).
    """

    size: int
    root: bytes
    note: str
    recorded_at_us: int


class LogRecord:
    """A log key holder's record in ``folder``: what it signed and the entries it checked.

    Open one with :meth:`open`; pass it to :meth:`Ledger.checkpoint
    <points_ledger.Ledger.checkpoint>` (which extends it) and to :meth:`Ledger.audit
    <points_ledger.Ledger.audit>` (which compares the file with it).
    """

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._binding: dict[str, str] | None = None
        self._checkpoints: list[RecordedCheckpoint] = []
        self._lines_length = 0  # bytes of complete lines in checkpoints.jsonl

    @classmethod
    def open(cls, folder: str | Path) -> LogRecord:
        """Open the record in ``folder``, creating the folder (mode 0700) if it is missing.

        Raises:
            InvalidEventError: if ``folder`` is not a path.
            StorageError: if the folder cannot be made or read.
            LogRecordError: if the record's files are damaged (a record is never edited,
                so a damaged one needs its backup).
        """
        if not isinstance(folder, str | Path) or not str(folder):
            raise InvalidEventError(
                f"a log record is a folder path, not {type(folder).__name__}",
                hint="Name the folder the log key holder keeps, e.g. keys/log.record.",
            )
        path = Path(folder)
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"could not make the log record folder {path}: {e}") from e
        record = cls(path)
        record._load()
        return record

    # -- reading ---------------------------------------------------------------------

    @property
    def folder(self) -> Path:
        """Where the record lives."""
        return self._folder

    @property
    def origin(self) -> str | None:
        """The origin of the ledger this record belongs to (None before its first use)."""
        return None if self._binding is None else self._binding["origin"]

    @property
    def ledger_id(self) -> str | None:
        """The id (hex) of the ledger this record belongs to (None before its first use)."""
        return None if self._binding is None else self._binding["ledger_id"]

    @property
    def log_vkey(self) -> str | None:
        """The log verifier key this record's checkpoints verify with."""
        return None if self._binding is None else self._binding["log_vkey"]

    @property
    def size(self) -> int:
        """How many entries the latest recorded checkpoint covers (0 before the first)."""
        return self._checkpoints[-1].size if self._checkpoints else 0

    def latest(self) -> RecordedCheckpoint | None:
        """The latest signed checkpoint, or None."""
        return self._checkpoints[-1] if self._checkpoints else None

    def checkpoints(self) -> tuple[RecordedCheckpoint, ...]:
        """Every recorded checkpoint, smallest first."""
        return tuple(self._checkpoints)

    @contextlib.contextmanager
    def locked(self) -> Iterator[LogRecord]:
        """Hold the folder's lock and reload the record from disk for the whole block.

        Whoever else checkpoints into the same folder (another process, another
        ``LogRecord`` object) waits, so nothing recorded meanwhile is overwritten.

        Raises:
            StorageError: if the lock file cannot be made.
            LogRecordError: if the reloaded record is damaged.
        """
        try:
            fd = os.open(self._folder / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise StorageError(f"could not lock the log record {self._folder}: {e}") from e
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            self._load()
            yield self
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def check(self) -> RootBuilder:
        """Recompute every recorded root from the recorded entry hashes.

        Streams ``entries.bin`` once (two SHA-256 per entry), so a record of a million
        entries is checked in a few seconds.

        Returns:
            The tree of the recorded entries, ready to be extended by the next checkpoint.

        Raises:
            LogRecordError: if the hashes are missing or do not lead to a recorded root
                (the record was damaged or doctored).
        """
        builder = RootBuilder()
        pending = iter(self._checkpoints)
        due = next(pending, None)
        while due is not None and due.size == 0:
            due = next(pending, None)
        for digest in self.entry_hashes():
            builder.add(digest)
            while due is not None and due.size == builder.size:
                if builder.root() != due.root:
                    raise LogRecordError(
                        f"the log record {self._folder} is damaged: its entry hashes do not "
                        f"lead to the root it signed for {due.size} entries"
                    )
                due = next(pending, None)
        return builder

    def entry_hashes(self, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """The recorded entry hashes for seq ``start`` up to ``stop`` (default: ``size``).

        Streams in chunks, so memory stays bounded for any ledger size.

        Raises:
            LogRecordError: if the entries file is shorter than the checkpoints say.
        """
        end = self.size if stop is None else min(stop, self.size)
        if start >= end:
            return
        path = self._folder / _ENTRIES_FILE
        try:
            with path.open("rb") as handle:
                handle.seek(start * _HASH_BYTES)
                seq = start
                while seq < end:
                    count = min(_READ_CHUNK_HASHES, end - seq)
                    chunk = handle.read(count * _HASH_BYTES)
                    if len(chunk) != count * _HASH_BYTES:
                        stops = seq + len(chunk) // _HASH_BYTES
                        raise LogRecordError(
                            f"the log record {self._folder} holds fewer entry hashes than "
                            f"its checkpoints cover (it stops before entry {stops})"
                        )
                    for offset in range(0, len(chunk), _HASH_BYTES):
                        yield chunk[offset : offset + _HASH_BYTES]
                    seq += count
        except OSError as e:
            raise StorageError(f"could not read the log record {path}: {e}") from e

    # -- writing ---------------------------------------------------------------------

    def bind(self, *, origin: str, ledger_id: str, log_vkey: str) -> None:
        """Tie an unused record to one ledger, or check that it is already tied to it.

        Raises:
            LogRecordError: if the record belongs to another ledger or log key.
            StorageError: if the record cannot be written.
        """
        wanted = {"origin": origin, "ledger_id": ledger_id, "log_vkey": log_vkey}
        if self._binding is not None:
            if self._binding != wanted:
                raise LogRecordError(
                    f"the log record {self._folder} belongs to ledger {self._binding['origin']} "
                    f"(id {self._binding['ledger_id'][:16]}…), not to this one "
                    f"({origin}, id {ledger_id[:16]}…)",
                    hint="Each ledger needs its own log record folder; a record is never "
                    "shared or reset (that is what lets it catch a replaced file).",
                )
            return
        document = {"format": _FORMAT, **wanted}
        _write_new(self._folder / _LEDGER_FILE, json.dumps(document, indent=2).encode() + b"\n")
        self._binding = wanted

    def append(self, checkpoint: RecordedCheckpoint, new_hashes: Sequence[bytes]) -> None:
        """Record a newly signed checkpoint and the entry hashes it adds.

        ``new_hashes`` are the hashes of entries ``size`` up to ``checkpoint.size``.

        Raises:
            LogRecordError: if the checkpoint does not extend the record.
            StorageError: if the record cannot be written.
        """
        if self._binding is None:
            raise LogRecordError("bind the log record to its ledger before recording")
        if checkpoint.size < self.size or len(new_hashes) != checkpoint.size - self.size:
            raise LogRecordError(
                f"a checkpoint of {checkpoint.size} entries does not extend the record's "
                f"{self.size} with {len(new_hashes)} new entries"
            )
        entries = self._folder / _ENTRIES_FILE
        line = {
            "size": checkpoint.size,
            "root": checkpoint.root.hex(),
            "note": checkpoint.note,
            "recorded_at_us": checkpoint.recorded_at_us,
        }
        try:
            with _open_private(entries) as handle:
                handle.seek(self.size * _HASH_BYTES)
                handle.write(b"".join(new_hashes))
                handle.truncate()
                handle.flush()
                os.fsync(handle.fileno())
            data = json.dumps(line, sort_keys=True).encode() + b"\n"
            lines = self._folder / _CHECKPOINTS_FILE
            with _open_private(lines) as handle:
                # Overwrite a line a crash left unfinished, rather than append after it.
                handle.seek(self._lines_length)
                handle.write(data)
                handle.truncate()
                handle.flush()
                os.fsync(handle.fileno())
            self._lines_length += len(data)
        except OSError as e:
            raise StorageError(f"could not write the log record {self._folder}: {e}") from e
        self._checkpoints.append(checkpoint)

    # -- loading ---------------------------------------------------------------------

    def _load(self) -> None:
        self._binding = None
        self._checkpoints = []
        ledger_file = self._folder / _LEDGER_FILE
        try:
            if ledger_file.exists():
                self._binding = _read_binding(ledger_file)
            lines_file = self._folder / _CHECKPOINTS_FILE
            raw = lines_file.read_bytes() if lines_file.exists() else b""
        except OSError as e:
            raise StorageError(f"could not read the log record {self._folder}: {e}") from e
        lines = raw.split(b"\n")
        # A last line without its newline was cut short by a crash while it was being
        # written: its entry hashes were flushed, but it was never completed. Ignore it.
        complete = lines[:-1]
        self._lines_length = sum(len(line) + 1 for line in complete)
        for number, line in enumerate(complete, start=1):
            self._checkpoints.append(_read_checkpoint(line, lines_file, number, self.size))
        if self._checkpoints and self._binding is None:
            raise LogRecordError(
                f"the log record {self._folder} has checkpoints but no ledger.json"
            )


def _read_binding(path: Path) -> dict[str, str]:
    try:
        document: Any = json.loads(path.read_bytes())
        if document["format"] != _FORMAT:
            raise LogRecordError(f"{path} is not a points-ledger log record")
        binding = {key: document[key] for key in ("origin", "ledger_id", "log_vkey")}
    except (ValueError, KeyError, TypeError) as e:
        raise LogRecordError(f"the log record file {path} is not readable JSON") from e
    if not all(isinstance(value, str) for value in binding.values()):
        raise LogRecordError(f"the log record file {path} is damaged")
    return binding


def _read_checkpoint(line: bytes, path: Path, number: int, previous: int) -> RecordedCheckpoint:
    try:
        document: Any = json.loads(line)
        checkpoint = RecordedCheckpoint(
            size=document["size"],
            root=bytes.fromhex(document["root"]),
            note=document["note"],
            recorded_at_us=document["recorded_at_us"],
        )
    except (ValueError, KeyError, TypeError) as e:
        raise LogRecordError(f"line {number} of {path} is damaged: {e}") from e
    if (
        type(checkpoint.size) is not int
        or checkpoint.size < previous
        or len(checkpoint.root) != _HASH_BYTES
        or not isinstance(checkpoint.note, str)
        or type(checkpoint.recorded_at_us) is not int
    ):
        raise LogRecordError(f"line {number} of {path} is damaged")
    return checkpoint


def _open_private(path: Path) -> Any:
    """Open ``path`` for reading and writing, creating it readable by the owner only."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    return os.fdopen(fd, "r+b")


def _write_new(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all, and never over an existing file."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(temporary, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)  # fails if the file exists: a binding is never replaced
    except OSError as e:
        raise StorageError(f"could not write {path}: {e}") from e
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()
