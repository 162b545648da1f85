"""The ``Ledger`` facade: create or open a ledger file, append, query, verify.

Typical use::

    with Ledger.open("community.db") as ledger:
        result = ledger.append(event, [issuer_signer])
        print(result.entry.seq, ledger.balance("vol:0001", Asset.PTS))
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import re
import secrets
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from points_ledger import domain as _domain  # noqa: F401 - registers the event handlers
from points_ledger import transparency as _tlog
from points_ledger._base64 import encode_b64
from points_ledger._sigcheck import SignatureChecker
from points_ledger.anchoring import AutoCheckpoint, checkpoint_checked, require_log_key
from points_ledger.audit import PROBLEMS_MAX, AuditReport, Problem, Progress, run_audit
from points_ledger.backup import Backup, back_up
from points_ledger.canonical import (
    GENESIS_PREV_HASH,
    entry_hash,
    event_from_bytes,
    event_to_bytes,
    genesis_signing_input,
    ledger_id_of,
    signing_input,
)
from points_ledger.domain.revenue import explain_distribution, preview_distribution
from points_ledger.domain.state import ConfiguredState, DeriveContext, LedgerConfig
from points_ledger.engine import (
    SIGNATURES_MAX,
    authorize_and_plan,
    keys_checked_ahead,
    verified_keys,
)
from points_ledger.errors import (
    EntryConflictError,
    IntegrityError,
    InvalidEventError,
    LedgerError,
    LogRecordError,
    NotFoundError,
    StorageError,
)
from points_ledger.genesis import genesis_config
from points_ledger.keys import Signer
from points_ledger.log_notes import log_vkey
from points_ledger.logrecord import LogRecord
from points_ledger.models.common import (
    POSITION_MAX,
    AccountId,
    Asset,
    Role,
    from_microseconds,
    to_microseconds,
)
from points_ledger.models.entries import (
    AccountRecord,
    AppendResult,
    Balance,
    Entry,
    KeyRecord,
    Signature,
    StatementLine,
)
from points_ledger.models.events import BACKDATE_DAYS_DEFAULT, Event, Genesis, KeySpec, Posting
from points_ledger.models.revenue import Distribute
from points_ledger.models.signed_checkpoint import SignedCheckpoint
from points_ledger.models.state import Change
from points_ledger.receipts import Receipt
from points_ledger.split import Distribution
from points_ledger.store import EntryRow, Store
from points_ledger.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from points_ledger.publish import PublishResult
    from points_ledger.store.postgres import PostgresStore

__all__ = ["Clock", "Ledger", "SignerLike", "read_only_names", "system_clock"]

_log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
"""A function returning the current time as an aware ``datetime``."""

SignerLike = Signer | Signature
"""What ``append`` accepts as authorisation: a signer (signs here) or a detached signature."""

STATEMENT_LIMIT_MAX: Final = 10_000
DEFAULT_ADMIN_THRESHOLD: Final = 2
"""The admin threshold of a ledger created without one: no admin acts alone."""


def system_clock() -> dt.datetime:
    """The machine's current UTC time."""
    return dt.datetime.now(dt.UTC)


_F = TypeVar("_F", bound=Callable[..., Any])


def _reads(func: _F) -> _F:
    """Mark a ``Ledger`` method (or property getter) as one that never writes."""
    func.ledger_access = "read"  # type: ignore[attr-defined]
    return func


def _writes(func: _F) -> _F:
    """Mark a ``Ledger`` method as one that writes (or creates, opens or closes) a file."""
    func.ledger_access = "write"  # type: ignore[attr-defined]
    return func


def _access_of(member: object) -> object:
    target = member.fget if isinstance(member, property) else member
    target = getattr(target, "__func__", target)  # classmethod, staticmethod
    return getattr(target, "ledger_access", None)


def read_only_names(cls: type[Ledger] | None = None) -> frozenset[str]:
    """The public attributes of ``Ledger`` (or a subclass) that only read.

    Every public method and property of the class is marked, where it is defined, as
    reading or writing; the REPL lets a session without signing keys use exactly the
    reading ones.

    Raises:
        TypeError: if a public attribute is marked neither way (a programming error:
            mark it with ``_reads`` or ``_writes``).
    """
    klass = Ledger if cls is None else cls
    access: dict[str, object] = {}
    for base in reversed(klass.__mro__):
        if base is object:
            continue
        for name, member in vars(base).items():
            if not name.startswith("_"):
                access[name] = _access_of(member)
    unmarked = sorted(name for name, mark in access.items() if mark not in ("read", "write"))
    if unmarked:
        raise TypeError(
            f"{klass.__name__} attributes not marked as reading or writing: {', '.join(unmarked)}"
        )
    return frozenset(name for name, mark in access.items() if mark == "read")


@dataclass(frozen=True)
class _Prepared:
    event: Event
    event_bytes: bytes
    signatures: tuple[Signature, ...]


@dataclass(slots=True)
class _Planned:
    """An event the rules accepted, with its place in the log, not yet written."""

    item: _Prepared
    seq: int
    prev_hash: bytes
    recorded_at_us: int
    postings: tuple[Posting, ...]
    changes: tuple[Change, ...]


class Ledger:
    """An append-only, signed, verifiable ledger kept in one SQLite file.

    Create one with :meth:`create`, open an existing one with :meth:`open`; both return
    an object usable as a context manager. All writes go through :meth:`append` and
    :meth:`append_many`; nothing is ever updated or deleted.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = system_clock,
        auto_checkpoint: AutoCheckpoint | None = None,
    ) -> None:
        if auto_checkpoint is not None and not isinstance(auto_checkpoint, AutoCheckpoint):
            raise InvalidEventError("auto_checkpoint must be an AutoCheckpoint")
        self._store = store
        self._clock = clock
        self._auto = auto_checkpoint
        self._checker = SignatureChecker()
        self._public_keys: dict[str, bytes] = {}  # key id -> public key, for early checks
        # What the rules read: the store's state with the configuration from entry 0.
        self._state = ConfiguredState(store.state, self._genesis_config)

    # -- lifecycle -------------------------------------------------------------------

    @classmethod
    @_writes
    def create(
        cls,
        path: str | Path | Store,
        *,
        origin: str,
        log_key: Signer | bytes,
        admins: Sequence[Signer],
        threshold: int | None = None,
        committee_threshold: int = 2,
        effective_at: dt.date | None = None,
        clock: Clock = system_clock,
        nonce: str | None = None,
        backdate_days_max: int = BACKDATE_DAYS_DEFAULT,
        admin_may_also_hold: Sequence[Role] = (),
    ) -> Ledger:
        """Create a new ledger file and append its genesis entry, signed by the admins.

        Args:
            path: Where to create the file; it must not exist. Or an empty store object
                (e.g. a :class:`~points_ledger.store.memory.MemoryStore`).
            origin: The ledger's name, e.g. ``"chengdu.example/chenghua/zhiqiang"``.
            log_key: The checkpoint-signing key (or its 32-byte public key); keep it apart
                from admin and issuer keys.
            admins: The first admin signers; all of them sign the genesis entry.
            threshold: How many different admins must sign administrative events. When
                omitted it is 2, which needs at least two admins: a ledger where one admin
                acts alone must be asked for with ``threshold=1`` (``audit()`` lists it).
            committee_threshold: How many committee members must sign grants and
                distributions.
            effective_at: Business date of the genesis entry (default: the clock's date
                in Asia/Shanghai).
            clock: Source of ledger time, for tests and simulations.
            nonce: The genesis nonce (32 hex digits). Leave it unset: a fresh random one
                gives the ledger an id no other ledger has. A fixed one is for tests and
                simulations that must rebuild the very same ledger.
            backdate_days_max: How many days before the day it is recorded
                (Asia/Shanghai) an entry may be dated (default 366).
            admin_may_also_hold: Roles (committee, treasurer) a person holding an admin
                key may also hold; none by default.

        Raises:
            StorageError: if the file exists or cannot be created, or the store given is
                not empty.
            InvalidEventError: if the genesis values are invalid, or one admin would act
                alone without ``threshold=1`` being stated.
        """
        if threshold is None:
            if len(admins) < DEFAULT_ADMIN_THRESHOLD:
                raise InvalidEventError(
                    f"a ledger with {len(admins)} admin would let that admin act alone",
                    hint="List at least two admins, or state threshold=1 (points-ledger init "
                    "--single-admin) to choose a one-admin ledger knowingly.",
                )
            threshold = DEFAULT_ADMIN_THRESHOLD
        log_public = log_key.public_key if isinstance(log_key, Signer) else log_key
        genesis = Genesis(
            id="genesis",
            effective_at=effective_at or DeriveContext(0, to_microseconds(clock())).recorded_date,
            origin=origin,
            nonce=secrets.token_hex(16) if nonce is None else nonce,
            log_key=encode_b64(log_public),
            admins=tuple(KeySpec(public_key=a.public_key_b64, roles=(Role.ADMIN,)) for a in admins),
            admin_threshold=threshold,
            committee_threshold=committee_threshold,
            backdate_days_max=backdate_days_max,
            admin_may_also_hold=tuple(admin_may_also_hold),
        )
        if not isinstance(path, str | Path):
            store = _require_store(path)
            with store.guard("read the store"):
                if store.head() is not None:
                    raise StorageError(
                        "the store given already holds a ledger; a new ledger starts empty",
                        hint="Open it with Ledger.open, or pass a new, empty store.",
                    )
            ledger = cls(store, clock=clock)
            with store.guard("write the genesis entry"):
                ledger._append_prepared([ledger._prepare(genesis, admins, ident=None)], named=False)
            return ledger
        if _is_postgres_url(path):
            pg_store = _postgres().create(str(path))
            ledger = cls(pg_store, clock=clock)
            try:
                with pg_store.guard(f"write the genesis entry of {pg_store.location}"):
                    ledger._append_prepared(
                        [ledger._prepare(genesis, admins, ident=None)], named=False
                    )
            except BaseException:
                pg_store.discard_if_empty()
                pg_store.close()
                raise
            return ledger
        store = SqliteStore.create(path)
        ledger = cls(store, clock=clock)
        try:
            with store.guard(f"write the genesis entry of {path}"):
                ledger._append_prepared([ledger._prepare(genesis, admins, ident=None)], named=False)
        except BaseException:
            store.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            raise
        return ledger

    @classmethod
    @_writes
    def open(
        cls,
        path: str | Path | Store,
        *,
        clock: Clock = system_clock,
        read_only: bool = False,
        auto_checkpoint: AutoCheckpoint | None = None,
    ) -> Ledger:
        """Open an existing ledger file.

        Args:
            path: The ledger file, or a store object holding a ledger.
            clock: Where ``recorded_at`` times come from (injectable for tests).
            read_only: Open for reading and checking only: nothing is written to the
                file or beside it, and every append is refused. A file that cannot be
                written where it lies (read-only media or folder) is opened so anyway.
            auto_checkpoint: Routine anchoring for a long-running application: after an
                append, a checkpoint is signed into its record when one is due (see
                :class:`AutoCheckpoint`).

        Raises:
            StorageError: if the file is missing or not a ledger, or ``read_only`` is asked
                of a store object that is not read-only.
            SchemaVersionError: if a newer version of the library wrote it.
            InvalidEventError: if ``path`` is neither a path nor a store object.
            SignatureError: if ``auto_checkpoint`` holds a key that is not the ledger's
                log key.
        """
        if _is_postgres_url(path):
            store: Store = _postgres().open(str(path), read_only=read_only)
        elif isinstance(path, str | Path):
            store = SqliteStore.open(path, read_only=read_only)
        else:
            store = _require_store(path)
            if read_only and not store.read_only:
                raise StorageError(
                    "read_only=True applies to a ledger file; a store object keeps its own setting",
                    hint="Make the store read-only when you create it.",
                )
        ledger = cls(store, clock=clock, auto_checkpoint=auto_checkpoint)
        if auto_checkpoint is not None:
            # Now, not at the first due checkpoint: found then, the wrong key would fail
            # each append after its entry was committed.
            try:
                config = ledger._state.config()
                if config is not None:
                    require_log_key(auto_checkpoint.log_key, config)
            except BaseException:
                ledger.close()
                raise
        return ledger

    @_writes
    def close(self) -> None:
        """Close the underlying file (and the signature helper, if one was started)."""
        self._checker.close()
        self._store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger(location={self._store.location!r})"

    # -- facts about the ledger ----------------------------------------------------------

    @property
    @_reads
    def path(self) -> Path:
        """The ledger file (SQLite); for any store, :attr:`location` says where it is."""
        return self._store.path

    @property
    @_reads
    def location(self) -> str:
        """Where the ledger is, as messages show it.

        A file path, a PostgreSQL URL (any password shown as ``***``) or ``:memory:``.
        """
        return self._store.location

    def _now_us(self) -> int:
        """The clock's time in microseconds; a clock that fails is a LedgerError."""
        try:
            moment = self._clock()
        except Exception as e:
            raise LedgerError(
                f"the clock given to the ledger failed: {e!r}",
                hint="Pass a clock that returns an aware datetime, e.g. datetime.now(UTC).",
            ) from e
        now_us = to_microseconds(moment)
        if now_us < 0:
            # Entry times are counted from 1970; an earlier reading is a clock gone wrong,
            # and an entry stamped with it would stay in the signed log for good.
            raise InvalidEventError(
                f"the clock reads {moment.isoformat()}, before 1970: nothing is recorded at "
                "such a time",
                hint="Set the computer's clock right, then try again.",
            )
        return now_us

    @property
    @_reads
    def clock(self) -> Clock:
        """Where this ledger takes the current time from (given to :meth:`open`/:meth:`create`).

        Faces built on the ledger (the CLI, the REPL, reports that need "now") read the time
        from here, so one injected clock governs ``recorded_at`` and default business dates.
        """
        return self._clock

    @property
    @_reads
    def config(self) -> LedgerConfig:
        """Origin, log public key and signing thresholds fixed at genesis.

        Read from entry 0's signed bytes after checking its hash and its admins'
        signatures, never from a cache in the file.

        Raises:
            IntegrityError: if the file has no genesis entry, or entry 0 does not verify.
        """
        with self._store.guard("read the ledger configuration"):
            config = self._state.config()
        if config is None:
            raise IntegrityError("the ledger file has no genesis entry")
        return config

    def _genesis_config(self) -> LedgerConfig | None:
        # Origin, log key and thresholds come from entry 0's signed bytes, checked,
        # never from the cached ``state`` row that anyone able to write the file can edit.
        for row in self._store.entry_rows(0, 1):
            if row.seq != 0:
                break
            return genesis_config(
                event_bytes=row.event,
                signatures=row.signatures,
                postings=row.postings,
                recorded_at_us=row.recorded_at_us,
                prev_hash=row.prev_hash,
                stored_hash=row.hash,
            )
        return None

    @property
    @_reads
    def origin(self) -> str:
        """The ledger's origin name."""
        return self.config.origin

    @property
    @_reads
    def ledger_id(self) -> str:
        """The ledger's id in hex: the SHA-256 of its genesis event's bytes.

        Every event signature binds it (see :func:`points_ledger.canonical.signing_input`),
        so a signature made for this ledger is refused by every other one, even one with
        the same origin and keys. Give it to anyone who signs events away from the ledger.
        """
        return self.config.ledger_id.hex()

    @_reads
    def size(self) -> int:
        """Number of entries in the ledger."""
        head = self._store.head()
        return 0 if head is None else head.size

    @_reads
    def signing_input(self, event: Event) -> bytes:
        """The exact bytes a key must sign to authorise ``event`` on this ledger.

        Use this to have a key held elsewhere (a phone, an offline laptop) sign, then pass
        the resulting :class:`Signature` to :meth:`append`.
        """
        config = self.config
        return signing_input(config.origin, config.ledger_id, event_to_bytes(_require_event(event)))

    @_reads
    def sign(self, event: Event, signer: Signer) -> Signature:
        """Make a detached signature of ``event`` by ``signer`` for this ledger.

        Raises:
            InvalidEventError: if ``signer`` is not a :class:`Signer`.
        """
        if not isinstance(signer, Signer):
            raise InvalidEventError(
                f"sign takes one Signer, not {type(signer).__name__}",
                hint="Call ledger.sign(event, signer) once per signer.",
            )
        return Signature(key_id=signer.key_id, signature=signer.sign(self.signing_input(event)))

    # -- writing ---------------------------------------------------------------------

    @_writes
    def append(self, event: Event, signers: Iterable[SignerLike] = ()) -> AppendResult:
        """Append one signed event, or return the stored entry if it is already there.

        Sending the same event (same id, same content) again returns the stored entry with
        status ``"exists"`` and writes nothing, so a client may safely retry.

        Raises:
            EntryConflictError: if the id was used for an event with other content.
            LedgerError: the specific subclass for any rule the event breaks; nothing is
                written.
        """
        return self.append_many([(event, signers)])[0]

    @_writes
    def append_many(
        self, items: Iterable[tuple[Event, Iterable[SignerLike]]]
    ) -> list[AppendResult]:
        """Append several signed events in one transaction: all of them or none.

        With ``auto_checkpoint`` set, a checkpoint is signed afterwards when one is due;
        the entries are committed before that, so an error from the checkpoint (which
        refuses to sign a tampered file) does not undo them: sending them again returns
        them as ``"exists"``.

        Raises:
            LedgerError: for the first event that breaks a rule; nothing is written. Its
                ``details`` name that event when the batch has more than one:
                ``batch_index`` (its position in ``items``, from 0) and ``event_id``.
            IntegrityError: if a due automatic checkpoint refuses to sign the file.
        """
        # The append boundary: whatever the storage or the file system raises on the way
        # surfaces as StorageError, so callers only ever handle LedgerError.
        with self._store.guard("append to the ledger"):
            config = self._state.config()  # None only before the genesis entry
            ident = None if config is None else (config.origin, config.ledger_id)
            batch = list(items)
            named = len(batch) > 1  # a lone event (append) needs no position
            prepared = []
            for index, (event, signers) in enumerate(batch):
                with _naming_batch_item(index, event, named=named):
                    item = self._prepare(event, signers, ident=ident)
                if isinstance(item.event, Genesis):
                    # Events after a genesis in the same batch bind the new ledger's id.
                    ident = (item.event.origin, ledger_id_of(item.event_bytes))
                prepared.append(item)
            try:
                results = self._append_prepared(prepared, named=named)
            except LedgerError as e:
                _log.debug("append refused [%s]: %s", e.code, e.message)
                raise
        _log_appended(self._store.location, results)
        self._checkpoint_if_due()
        return results

    def _checkpoint_if_due(self) -> None:
        auto = self._auto
        if auto is not None and auto.due(self.size(), self._now_us()):
            self.checkpoint(auto.log_key, auto.record)

    @staticmethod
    def _prepare(
        event: Event,
        signers: Iterable[SignerLike],
        *,
        ident: tuple[str, bytes] | None,
    ) -> _Prepared:
        event_bytes = event_to_bytes(_require_event(event))
        if isinstance(event, Genesis):
            message = genesis_signing_input(event.origin, event_bytes)
        elif ident is None:
            raise InvalidEventError("the first entry of a ledger must be its genesis event")
        else:
            message = signing_input(*ident, event_bytes)
        signatures: dict[str, Signature] = {}
        for item in signers:
            if isinstance(item, Signer):
                signature = Signature(key_id=item.key_id, signature=item.sign(message))
            elif isinstance(item, Signature):
                signature = item
            else:
                raise InvalidEventError(
                    f"signers must be Signer or Signature objects, not {type(item).__name__}"
                )
            if signature.key_id in signatures:
                raise InvalidEventError(f"key {signature.key_id} signed this event twice")
            signatures[signature.key_id] = signature
        ordered = tuple(signatures[k] for k in sorted(signatures))
        return _Prepared(event=event, event_bytes=event_bytes, signatures=ordered)

    def _append_prepared(self, batch: Sequence[_Prepared], *, named: bool) -> list[AppendResult]:
        results: list[AppendResult] = []
        if len(batch) >= _HELPER_MIN_EVENTS:
            # Large batches: a helper process checks the signatures a little ahead of
            # the loop below, on the other core, while this one runs the rules. It is
            # started (once per ledger) before the write lock is taken.
            self._checker.start()
            with self._store.write(), contextlib.closing(self._checked_ahead(batch)) as stream:
                for index, (item, preverified) in enumerate(stream):
                    with _naming_batch_item(index, item.event, named=named):
                        results.append(self._append_one(item, preverified))
            return results
        checked = self._check_signatures_early(batch)
        with self._store.write():
            for index, (item, preverified) in enumerate(zip(batch, checked, strict=True)):
                with _naming_batch_item(index, item.event, named=named):
                    results.append(self._append_one(item, preverified))
        return results

    def _check_signatures_early(self, batch: Sequence[_Prepared]) -> list[dict[str, bytes]]:
        # The Ed25519 arithmetic is done before the write lock is taken, so that other
        # writers wait less. Which key may sign is still decided inside the transaction;
        # keys unknown here (a genesis, a key registered earlier in the same batch) are
        # checked there in full.
        with self._store.guard("read the ledger configuration"):
            config = self._state.config()
        if config is None:
            return [{} for _ in batch]
        return [
            verified_keys(
                signing_input(config.origin, config.ledger_id, item.event_bytes),
                item.signatures,
                self._public_key,
            )
            for item in batch
        ]

    def _checked_ahead(
        self, batch: Sequence[_Prepared]
    ) -> Generator[tuple[_Prepared, dict[str, bytes]], None, None]:
        # Like _check_signatures_early, but streamed through the signature helper. Keys
        # are looked up when an event is sent, inside the transaction; as there, a result
        # only lets the rules skip the arithmetic for a key with that exact public key.
        config = self._state.config()
        if config is None:
            for item in batch:
                yield item, {}
            return
        origin, ledger_id = config.origin, config.ledger_id

        def items_of(item: _Prepared) -> list[tuple[bytes, bytes, bytes]]:
            if len(item.signatures) > SIGNATURES_MAX:
                return []  # refused by the rules before any arithmetic
            message = signing_input(origin, ledger_id, item.event_bytes)
            return [
                (self._public_key(s.key_id) or b"", message, s.signature) for s in item.signatures
            ]

        with contextlib.closing(self._checker.check_each(batch, items_of)) as stream:
            for item, flags in stream:
                keys = {s.key_id: self._public_key(s.key_id) or b"" for s in item.signatures}
                yield item, keys_checked_ahead(item.signatures, flags, keys)

    def _public_key(self, key_id: str) -> bytes | None:
        """The public key registered under ``key_id`` (possibly not yet committed), or None.

        Only used to choose which signatures to check early: a key id is the hash of its
        public key, so a found one can be cached for good.
        """
        known = self._public_keys
        if key_id in known:
            return known[key_id]
        with self._store.guard("read a key"):
            record = self._store.state.key(key_id)
        if record is None:
            return None
        if len(known) < _PUBLIC_KEYS_CACHED:
            known[key_id] = record.public_key
        return record.public_key

    def _append_one(self, item: _Prepared, preverified: dict[str, bytes]) -> AppendResult:
        planned = self._plan_one(item, preverified)
        if isinstance(planned, AppendResult):
            return planned
        return self._write_planned(planned)

    def _append_group(
        self, batch: Sequence[tuple[_Prepared, dict[str, bytes]]], *, checkpoint: bool = True
    ) -> list[AppendResult | BaseException]:
        """Append each event of ``batch`` in one transaction; each succeeds or fails alone.

        Every event is checked against the state the events before it in the group left.
        An event the rules refuse is left out of the group (the rules raise before
        anything of it is written) and its error is its outcome; the others commit
        together. Should anything fail once an event's rows are being written, or at the
        commit, the whole transaction is rolled back and each event is appended again in
        its own transaction, so one event's failure is never another's. A write that
        cannot begin at all fails every event of the group with the same error. With
        ``checkpoint=False`` a due automatic checkpoint is left to the caller.

        Returns:
            One outcome per item, in order: the ``AppendResult``, or the exception that
            refused (or failed) that event.
        """
        outcomes: list[AppendResult | BaseException] = []
        started = False
        try:
            with self._store.guard("append to the ledger"), self._store.write():
                started = True
                for item, preverified in batch:
                    try:
                        planned = self._plan_one(item, preverified)
                    except LedgerError as e:
                        _log.debug("append refused [%s]: %s", e.code, e.message)
                        outcomes.append(e)
                        continue
                    if isinstance(planned, AppendResult):
                        outcomes.append(planned)
                    else:
                        outcomes.append(self._write_planned(planned))
        except Exception as e:
            if len(batch) == 1 or not started:
                # Nothing to single out: the write could not even begin (a read-only
                # store, a lock held too long), which would fail each event alike.
                outcomes = [e] * len(batch)
            else:
                outcomes = [self._append_group([one], checkpoint=checkpoint)[0] for one in batch]
                return outcomes
        results = [o for o in outcomes if isinstance(o, AppendResult)]
        _log_appended(self._store.location, results)
        if checkpoint and any(r.status == "created" for r in results):
            try:
                self._checkpoint_if_due()
            except LedgerError as e:
                # As with append_many: the entries are committed; the caller learns that
                # the due checkpoint was refused.
                outcomes = [e if isinstance(o, AppendResult) else o for o in outcomes]
        return outcomes

    def _plan_one(self, item: _Prepared, preverified: dict[str, bytes]) -> AppendResult | _Planned:
        # Reads only: a refusal raised here leaves nothing of the event written.
        store = self._store
        found = store.find_event(item.event.id)
        if found is not None:
            seq, stored = found
            if stored != item.event_bytes:
                raise EntryConflictError(
                    f"event id {item.event.id!r} was already used by entry {seq} "
                    "for different content",
                    seq=seq,
                )
            return AppendResult(entry=self.entry(seq), status="exists")
        head = store.head()
        seq = 0 if head is None else head.size
        prev_hash = GENESIS_PREV_HASH if head is None else head.hash
        recorded_at_us = self._now_us()
        if head is not None:
            recorded_at_us = max(recorded_at_us, head.recorded_at_us)
        ctx = DeriveContext(seq=seq, recorded_at_us=recorded_at_us)
        plan = authorize_and_plan(
            item.event, item.event_bytes, item.signatures, self._state, ctx, preverified
        )
        return _Planned(item, seq, prev_hash, recorded_at_us, plan.postings, plan.changes)

    def _write_planned(self, planned: _Planned) -> AppendResult:
        store = self._store
        item, seq, prev_hash = planned.item, planned.seq, planned.prev_hash
        recorded_at_us, postings = planned.recorded_at_us, planned.postings
        digest = entry_hash(
            seq=seq,
            recorded_at_us=recorded_at_us,
            prev_hash=prev_hash,
            event_bytes=item.event_bytes,
            signatures=item.signatures,
            postings=postings,
        )
        store.insert_entry(
            EntryRow(
                seq=seq,
                event_id=item.event.id,
                kind=item.event.type,
                effective_at=item.event.effective_at.isoformat(),
                recorded_at_us=recorded_at_us,
                event=item.event_bytes,
                prev_hash=prev_hash,
                hash=digest,
                signatures=item.signatures,
                postings=postings,
            )
        )
        store.state.apply(planned.changes, postings)
        entry = Entry(
            seq=seq,
            recorded_at=from_microseconds(recorded_at_us),
            event=item.event,
            event_bytes=item.event_bytes,
            signatures=item.signatures,
            postings=postings,
            prev_hash=prev_hash,
            hash=digest,
        )
        return AppendResult(entry=entry, status="created")

    # -- reading ---------------------------------------------------------------------

    @_reads
    def entry(self, seq: int) -> Entry:
        """The entry at ``seq``.

        Raises:
            NotFoundError: if there is no such entry.
            IntegrityError: if the stored entry cannot be decoded.
        """
        _require_int("seq", seq)
        for row in self._store.entry_rows(seq, seq + 1):
            return _to_entry(row)
        raise NotFoundError(f"there is no entry {seq}", seq=seq)

    @_reads
    def entries(self, start: int = 0, stop: int | None = None) -> Iterator[Entry]:
        """Entries with ``start <= seq < stop`` in order, streamed with bounded memory."""
        _require_int("start", start)
        if stop is not None:
            _require_int("stop", stop)
        for row in self._store.entry_rows(start, stop):
            yield _to_entry(row)

    @_reads
    def account(self, account: str) -> AccountRecord:
        """An opened account.

        Raises:
            NotFoundError: if it has not been opened.
        """
        with self._store.guard("read an account"):
            record = self._store.state.account(_require_account_id(account))
        if record is None:
            raise NotFoundError(f"account {account!r} has not been opened")
        return record

    @_reads
    def key(self, key_id: str) -> KeyRecord:
        """A registered key (revoked or not).

        Raises:
            NotFoundError: if no such key was registered.
        """
        if not isinstance(key_id, str):
            raise InvalidEventError("a key id is a string of 16 hex digits")
        with self._store.guard("read a key"):
            record = self._store.state.key(key_id)
        if record is None:
            raise NotFoundError(f"key {key_id!r} is not registered")
        return record

    @_reads
    def balance(
        self,
        account: str,
        asset: Asset | str = Asset.PTS,
        *,
        at_seq: int | None = None,
        at_date: dt.date | None = None,
    ) -> Balance:
        """An account's balance: current (posted, pending, available) or as of a point.

        With ``at_seq`` (entries up to and including that seq) or ``at_date`` (business
        dates up to and including it) the posted balance is summed from the postings;
        with both, only postings that meet both count (entries up to ``at_seq`` dated up
        to ``at_date``). Pending holds are only known for the current balance and are
        reported as 0 there. An account that never moved has a zero balance.

        Raises:
            NotFoundError: if the account has not been opened, or there is no entry
                ``at_seq`` yet.
            InvalidEventError: for a malformed account id, asset, seq or date.
        """
        asset = _require_asset(asset)
        self.account(account)
        if at_seq is None and at_date is None:
            with self._store.guard("read a balance"):
                return self._store.state.balance(account, asset)
        if at_seq is not None:
            _require_int("at_seq", at_seq)
            size = self.size()
            if at_seq >= size:
                raise NotFoundError(
                    f"there is no entry {at_seq} yet: the ledger has {size:,} entries "
                    f"(0 to {size - 1:,})"
                )
        if at_date is not None and not isinstance(at_date, dt.date):
            raise InvalidEventError("at_date must be a datetime.date")
        posted = self._store.balance_at(account, asset, at_seq=at_seq, at_date=at_date)
        return Balance(account=account, asset=asset, posted=posted, pending=0)

    @_reads
    def statement(
        self,
        account: str,
        asset: Asset | str = Asset.PTS,
        *,
        start_seq: int = 0,
        limit: int = 100,
    ) -> list[StatementLine]:
        """Postings to an account, oldest first, with the running posted balance.

        Raises:
            NotFoundError: if the account has not been opened.
            InvalidEventError: if ``limit`` is not between 1 and 10,000.
        """
        asset = _require_asset(asset)
        self.account(account)
        _require_int("start_seq", start_seq)
        if type(limit) is not int or not 1 <= limit <= STATEMENT_LIMIT_MAX:
            raise InvalidEventError(
                f"limit must be a whole number from 1 to {STATEMENT_LIMIT_MAX:,}"
            )
        running = 0
        if start_seq > 0:
            running = self._store.balance_at(account, asset, at_seq=start_seq - 1, at_date=None)
        lines = []
        for (
            seq,
            event_id,
            kind,
            effective_at,
            recorded_us,
            amount,
            event_bytes,
        ) in self._store.statement_rows(account, asset, start_seq=start_seq, limit=limit):
            running += amount
            try:
                line = StatementLine(
                    seq=seq,
                    event_id=event_id,
                    kind=kind,
                    effective_at=dt.date.fromisoformat(effective_at),
                    recorded_at=from_microseconds(recorded_us),
                    amount=amount,
                    balance=running,
                    memo=event_from_bytes(event_bytes).memo,
                )
            except (LedgerError, ValueError, TypeError, OverflowError) as e:
                # Damaged rows (a date that is not a date, a time out of range) must
                # surface as IntegrityError, as they do when reading entries.
                raise IntegrityError(f"entry {seq} cannot be decoded: {e}", seq=seq) from e
            lines.append(line)
        return lines

    @_reads
    def preview_distribution(self, event: Distribute) -> Distribution:
        """What appending a :class:`Distribute` event now would pay, without writing.

        Runs the same derivation as the event's handler against the current state, so the
        result equals what :meth:`append` would post (signatures are not checked).
        ``result.amounts`` are the credits; ``result.trace`` is the step-by-step working.

        Raises:
            LedgerError: The refusal :meth:`append` would raise for the same event state
                (no policy in force, no roster, no revenue, overdraft, split error).
        """
        with self._store.guard("preview a distribution"):
            return preview_distribution(event, self._state)

    @_reads
    def explain_distribution(self, seq: int) -> Distribution:
        """Re-derive what distribution entry ``seq`` paid, with the step-by-step working.

        Takes the policy version and roster that were in force when the entry was
        appended, recomputes the split and checks it against the entry's own postings, so
        every fen of a past distribution can be explained from the log.

        Raises:
            NotFoundError: if there is no entry ``seq`` or it is not a distribution.
            IntegrityError: if the re-derived postings differ from the stored ones.
        """
        entry = self.entry(seq)
        if not isinstance(entry.event, Distribute):
            raise NotFoundError(f"entry {seq} is a {entry.kind!r} entry, not a distribution")
        with self._store.guard("explain a distribution"):
            derived = explain_distribution(entry.event, seq, self._state)

        def order(p: Posting) -> tuple[str, str, int]:
            return (p.account, p.asset.value, p.amount)

        if sorted(derived.postings, key=order) != sorted(entry.postings, key=order):
            raise IntegrityError(
                f"entry {seq}: re-deriving the distribution gives other postings than the "
                "stored ones",
                seq=seq,
            )
        return derived.distribution

    @_reads
    def read_only_query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        """Run one read-only SQL query on the ledger file and return its rows.

        For an SQLite ledger file only (other stores answer :meth:`report_rows`); keep
        the query text fixed and pass every value through ``params``. Anything that would
        write, attach another file or change a setting is refused.

        Raises:
            StorageError: if the query is refused or fails, or the store runs no SQL.
        """
        read_query = getattr(self._store, "read_query", None)
        if read_query is None:
            raise StorageError(
                f"{type(self._store).__name__} does not run SQL; use the named report "
                "queries of points_ledger.reports instead"
            )
        rows: list[tuple[object, ...]] = read_query(sql, params)
        return rows

    @_reads
    def report_rows(self, name: str, *params: object) -> list[tuple[Any, ...]]:
        """The rows of one named report query, as the store answers it.

        This is the seam :mod:`points_ledger.reports` reads through; every store answers
        the same names (``points_ledger.store.REPORT_QUERIES``) with the same rows.

        Raises:
            StorageError: for an unknown name or parameters the store cannot use.
        """
        return self._store.report(name, params)

    # -- verification ------------------------------------------------------------------

    @_reads
    def audit(
        self,
        *,
        progress: Progress | None = None,
        trusted_checkpoint: str | None = None,
        record: LogRecord | str | Path | None = None,
    ) -> AuditReport:
        """Check the whole file and return a report of every problem found.

        The whole check reads one snapshot of the file, taken when it begins: entries
        other processes append meanwhile are not seen, and cannot make a healthy file
        look damaged.

        Streams the log with bounded memory and checks canonical bytes, signatures and key
        validity, the signing policy, the hash chain, re-derived postings and zero sums,
        Merkle nodes, stored checkpoints (signature, root, mutual consistency), cached
        state and balances, and SQLite's own integrity check.
        Never raises for problems in the data; they are listed in the report, which also
        says how many entries no checkpoint held outside the file covers yet
        (:attr:`AuditReport.unanchored`).

        Args:
            progress: Called as ``progress(checked, total)`` while entries are replayed.
            trusted_checkpoint: A signed checkpoint note kept outside the file (by you, a
                witness or a receipt). It is checked first, with the genesis log key:
                a file with fewer entries is reported as ``truncated``, a file whose
                first entries no longer match as ``rewritten`` (a note alone cannot say
                which entry; see :mod:`points_ledger.transparency`).
            record: The log key holder's :class:`LogRecord` (or its folder). Every entry
                it covers is compared with the hash recorded when it was signed: the first
                entry removed, inserted, moved or changed is named (``rewritten``), and
                entries missing at the end as ``truncated`` from the first missing seq.
        """
        try:
            opened = self._open_record(record)
        except LogRecordError as e:
            # A damaged record is one more finding, not a reason to check nothing.
            report = run_audit(
                self._store,
                progress=progress,
                trusted_checkpoint=trusted_checkpoint,
                checker=self._checker,
            )
            problem = Problem("record_invalid", f"the log record cannot be used: {e.message}")
            report = dataclasses.replace(
                report,
                problems=(problem, *report.problems)[:PROBLEMS_MAX],
                problems_total=report.problems_total + 1,
            )
            _log_audit(self._store.location, report)
            return report
        report = run_audit(
            self._store,
            progress=progress,
            trusted_checkpoint=trusted_checkpoint,
            checker=self._checker,
            record=opened,
        )
        _log_audit(self._store.location, report)
        return report

    @_reads
    def verify(
        self,
        *,
        progress: Progress | None = None,
        trusted_checkpoint: str | None = None,
        record: LogRecord | str | Path | None = None,
    ) -> AuditReport:
        """Check the whole file like :meth:`audit`, raising at the first problem.

        Args:
            progress: Called as ``progress(checked, total)`` while entries are replayed.
            trusted_checkpoint: A signed checkpoint note kept outside the file; see
                :meth:`audit`.
            record: The log key holder's :class:`LogRecord`; see :meth:`audit`.

        Returns:
            The (clean) report: how many entries were checked and how many of them no
            checkpoint held outside the file covers yet.

        Raises:
            IntegrityError: naming the first problem and the entry concerned.
        """
        report = run_audit(
            self._store,
            progress=progress,
            stop_at_first=True,
            trusted_checkpoint=trusted_checkpoint,
            checker=self._checker,
            record=self._open_record(record),
        )
        try:
            report.raise_for_problems()
        except IntegrityError as e:
            _log.warning(
                "verify of %s failed at entry %s: %s", self._store.location, e.seq, e.message
            )
            raise
        _log.info(
            "verify of %s passed: %d entries checked, %d not under a checkpoint held outside",
            self._store.location,
            report.entries_checked,
            report.unanchored,
        )
        return report

    @staticmethod
    def _open_record(record: LogRecord | str | Path | None) -> LogRecord | None:
        if record is None or isinstance(record, LogRecord):
            return record
        if not isinstance(record, str | Path):
            raise InvalidEventError(
                f"record must be a LogRecord or a folder path, not {type(record).__name__}"
            )
        if not Path(record).is_dir():
            raise NotFoundError(
                f"there is no log record at {record}",
                hint="Name the folder the log key holder keeps (init makes keys/log.record).",
            )
        return LogRecord.open(record)

    @_reads  # reads this ledger; the only file it writes is the new copy at ``dest``
    def backup(self, dest: str | Path) -> Backup:
        """Write a verified copy of the ledger to ``dest``, safe while others append.

        Copies one read snapshot with SQLite's online backup API (a plain file copy of
        a ledger in use can miss entries or be torn), then opens the copy read-only,
        verifies it like :meth:`verify`, and checks it holds exactly the entries and
        Merkle root the ledger held when the backup began.

        Args:
            dest: The new file; it must not exist (a backup never overwrites).

        Returns:
            Where the copy is, how many entries it holds and their Merkle root.

        Raises:
            StorageError: if ``dest`` exists or cannot be written.
            IntegrityError: if the copy does not verify or differs; it is removed.
        """

        def check_copy(path: Path) -> tuple[int, bytes]:
            with Ledger.open(path, read_only=True, clock=self._clock) as copy:
                size = copy.verify().entries_checked
                if copy.log_vkey() != self.log_vkey():
                    raise IntegrityError("the copy names another log key than the ledger")
                return size, copy.root(size)

        return back_up(self._store, dest, check_copy)

    # -- transparency: roots, proofs, checkpoints, receipts ---------------------------

    @_reads
    def log_vkey(self) -> str:
        """The verifier key string of the log key: ``origin+hex8+base64(0x01||pubkey)``.

        Publish it: witnesses and receipt holders need nothing else to check checkpoints.
        """
        config = self.config
        return log_vkey(config.origin, config.log_key)

    @_reads
    def root(self, size: int | None = None) -> bytes:
        """The RFC 9162 Merkle root of the first ``size`` entries (default: all), O(log n).

        Raises:
            InvalidEventError: if ``size`` is not a whole number.
            NotFoundError: if ``size`` is larger than the ledger.
        """
        return _tlog.tree_root(self._store, size)

    @_reads
    def prove_inclusion(self, seq: int, size: int | None = None) -> list[bytes]:
        """The RFC 9162 inclusion proof of entry ``seq`` in the tree of ``size`` entries.

        Raises:
            InvalidEventError: if ``seq`` or ``size`` is not a whole number.
            NotFoundError: if ``size`` exceeds the ledger or ``seq`` is not below it.
        """
        return _tlog.prove_inclusion(self._store, seq, size)

    @_reads
    def prove_consistency(self, size1: int, size2: int) -> list[bytes]:
        """The RFC 9162 consistency proof from the tree of ``size1`` to that of ``size2``.

        Raises:
            InvalidEventError: if a size is not a whole number or ``size1 > size2``.
            NotFoundError: if ``size2`` exceeds the ledger.
        """
        return _tlog.prove_consistency(self._store, size1, size2)

    @_writes
    def checkpoint(self, log_key: Signer, record: LogRecord | str | Path) -> SignedCheckpoint:
        """Check the whole file, then sign, record and store a checkpoint of it.

        The note is a C2SP tlog-checkpoint (``origin``, size, base64 root) signed by the
        log key under the key name ``origin``. The log key's holder keeps ``record`` (a
        :class:`LogRecord` folder) outside the ledger file; before signing, every entry is
        replayed and checked (signatures and key validity, rules, chain, Merkle nodes) and
        compared with the entries the record says were signed before. So the log key never
        signs a file that breaks a rule, nor a tree that is not an extension of the last
        one it signed, nor two roots for one size: asking again at a size already signed
        returns the recorded checkpoint. The cost is one :meth:`verify` of the file.

        Args:
            log_key: The private log key; its public key must be the one in the genesis
                entry. It is used for this call only and never stored.
            record: The log key holder's record (a folder, created on first use; the
                command line keeps it beside the log key file as ``log.record``).

        Raises:
            SignatureError: if ``log_key`` is not the ledger's log key.
            IntegrityError: if the file has a problem, or is not an extension of what the
                record says was signed (naming the first entry that differs).
            LogRecordError: if the record is damaged or belongs to another ledger.
            StorageError: if the record or the file cannot be written.
        """
        config = self.config
        require_log_key(log_key, config)  # before anything is made on disk
        if not isinstance(record, LogRecord | str | Path):
            raise InvalidEventError(
                f"record must be a LogRecord or a folder path, not {type(record).__name__}",
                hint="Name the log key holder's record folder, e.g. keys/log.record.",
            )
        with self._store.guard("sign a checkpoint"):
            opened = record if isinstance(record, LogRecord) else LogRecord.open(record)
            now_us = self._now_us()
            signed = checkpoint_checked(self._store, config, log_key, opened, now_us, self._checker)
        _log.info(
            "checkpoint of %s signed at size %d, root %s",
            config.origin,
            signed.size,
            encode_b64(signed.root_hash),
        )
        return signed

    @_reads
    def checkpoints(self) -> list[SignedCheckpoint]:
        """Every stored checkpoint, smallest size first, each signature checked.

        Raises:
            IntegrityError: if a stored checkpoint does not verify.
        """
        config = self.config
        return _tlog.list_checkpoints(self._store, config.origin, config.log_key)

    @_reads
    def receipt(self, seq: int, checkpoint: SignedCheckpoint | str | None = None) -> Receipt:
        """A self-contained, offline-checkable receipt for entry ``seq``.

        Args:
            seq: The entry.
            checkpoint: The checkpoint to prove against: a :class:`SignedCheckpoint` or a
                signed note (possibly with witness cosignatures). Default: the latest
                stored checkpoint.

        Returns:
            The receipt, already checked with :func:`points_ledger.verify_receipt`.

        Raises:
            NotFoundError: if there is no such entry or the checkpoint does not cover it.
            NoteError: if a given checkpoint is not signed by this ledger's log key.
            IntegrityError: if the file does not agree with the checkpoint.
        """
        config = self.config
        return _tlog.make_receipt(self._store, config.origin, config.log_key, seq, checkpoint)

    @_reads
    def publish(
        self,
        directory: str | Path,
        *,
        checkpoint: str | None = None,
        witnesses: Sequence[str] = (),
        quorum: int | None = None,
    ) -> PublishResult:
        """Write or extend the public notice board (公示) in ``directory``.

        The same as :func:`points_ledger.publish.publish` on this ledger: the log as C2SP
        tlog-tiles, monthly notices in Chinese with English beside and a receipt check
        page, as static files. Publishing again appends, after checking that the new
        checkpoint is consistent with the one already in the folder.

        Raises:
            NotFoundError: if the ledger has signed no checkpoint yet.
            NoteError: if the checkpoint or a witness key is not right, or too few
                witnesses cosigned.
            IntegrityError: if the checkpoint does not cover this ledger or is not
                consistent with the one already published (nothing is written then).
        """
        from points_ledger.publish import publish

        return publish(self, directory, checkpoint=checkpoint, witnesses=witnesses, quorum=quorum)


def _is_postgres_url(value: object) -> bool:
    """True for a ``postgresql://`` or ``postgres://`` URL (also one a ``Path`` mangled)."""
    if not isinstance(value, str | Path):
        return False
    text = str(value)
    if isinstance(value, Path):
        # Path("postgresql://h/db") reads back as "postgresql:/h/db".
        return text.startswith(("postgresql:/", "postgres:/"))
    return text.lower().startswith(("postgresql://", "postgres://"))


def _postgres() -> type[PostgresStore]:
    """The PostgreSQL store class, or a ``StorageError`` saying which extra to install."""
    try:
        from points_ledger.store.postgres import PostgresStore
    except ImportError as e:
        raise StorageError(
            f"a ledger on PostgreSQL needs psycopg, which is not installed ({e})",
            hint="Install the postgres extra: pip install 'points_ledger[postgres]'.",
        ) from e
    return PostgresStore


def _require_store(store: object) -> Store:
    """``store`` if it offers the store protocol's members, else an ``InvalidEventError``."""
    needed = ("state", "write", "guard", "head", "entry_rows", "merkle_node", "read_snapshot")
    missing = [name for name in needed if not hasattr(store, name)]
    if missing:
        raise InvalidEventError(
            f"a ledger is a file path or a store object, not {type(store).__name__}",
            hint="Pass a path (str or pathlib.Path) to an SQLite ledger file, or a store "
            "such as points_ledger.store.memory.MemoryStore().",
        )
    return cast("Store", store)


def _log_appended(location: str, results: Sequence[AppendResult]) -> None:
    created = [r.entry for r in results if r.status == "created"]
    if created:
        _log.info(
            "appended %d entries to %s (seq %d to %d)",
            len(created),
            location,
            created[0].seq,
            created[-1].seq,
        )
    if _log.isEnabledFor(logging.DEBUG):
        for r in results:
            _log.debug(
                "entry %d %s id=%s: %s", r.entry.seq, r.entry.kind, r.entry.event_id, r.status
            )


def _log_audit(location: str, report: AuditReport) -> None:
    if report.ok:
        _log.info("audit of %s: no problems in %d entries", location, report.entries_checked)
        return
    _log.warning("audit of %s found %d problems", location, report.problems_total)
    for problem in report.problems:
        _log.warning("audit problem %s at entry %s: %s", problem.code, problem.seq, problem.message)


def _naming_batch_item(
    index: int, event: object, *, named: bool
) -> contextlib.AbstractContextManager[None]:
    """Add the failing event's position (and id) in a batch to a LedgerError's details."""
    return _BatchItemNaming(index, event) if named else _NOT_NAMING


class _BatchItemNaming(contextlib.AbstractContextManager[None]):
    # A plain object rather than a generator: one is entered twice per appended event.
    __slots__ = ("event", "index")

    def __init__(self, index: int, event: object) -> None:
        self.index = index
        self.event = event

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(exc, LedgerError):
            exc.details.setdefault("batch_index", self.index)
            event_id = getattr(self.event, "id", None)
            if isinstance(event_id, str):
                exc.details.setdefault("event_id", event_id)


_NOT_NAMING: Final = contextlib.nullcontext()


def _to_entry(row: EntryRow) -> Entry:
    try:
        event = event_from_bytes(row.event)
        return Entry(
            seq=row.seq,
            recorded_at=from_microseconds(row.recorded_at_us),
            event=event,
            event_bytes=row.event,
            signatures=row.signatures,
            postings=row.postings,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )
    except (LedgerError, ValueError, TypeError, OverflowError) as e:
        raise IntegrityError(f"entry {row.seq} cannot be decoded: {e}", seq=row.seq) from e


def _require_event(event: object) -> Event:
    if not isinstance(event, Event):
        raise InvalidEventError(f"expected an event object, got {type(event).__name__}")
    return event


_PUBLIC_KEYS_CACHED: Final = 100_000
_HELPER_MIN_EVENTS: Final = 256
"""Batches of this many events have their signatures checked in a helper process."""


def _require_int(name: str, value: object) -> int:
    if type(value) is not int or not 0 <= value <= POSITION_MAX:
        raise InvalidEventError(f"{name} must be a whole number from 0 to {POSITION_MAX:,}")
    return value


def _require_asset(asset: object) -> Asset:
    if isinstance(asset, Asset):
        return asset
    try:
        return Asset(asset if isinstance(asset, str) else "")
    except ValueError as e:
        names = ", ".join(a.value for a in Asset)
        raise InvalidEventError(f"unknown asset {asset!r}; use one of {names}") from e


def _require_account_id(account: object) -> AccountId:
    if not isinstance(account, str) or not re.fullmatch(r"[a-z0-9._:-]{1,64}", account):
        raise InvalidEventError(f"{account!r} is not a valid account id")
    return account
