"""One writer per process: many threads append, each entry durable before its call returns.

A :class:`SharedWriter` owns one :class:`~points_ledger.Ledger` and one thread that does all
of its writing. Any number of threads call :meth:`SharedWriter.append` at once; the writer
thread gathers the events waiting when it becomes free into one transaction with one
durable commit (group commit), so sixteen callers cost about one commit, not sixteen.

Guarantees:

* A call returns only after the commit holding its entry is durable (``synchronous=FULL``
  on SQLite, a committed transaction on PostgreSQL).
* Events are checked in the order the writer took them, each against the state the events
  before it left, exactly as :meth:`Ledger.append` called one after another would.
* A refused event fails only its own caller, with its own ``LedgerError``; nothing of it
  is written and the other events of its group commit. If the group's transaction itself
  fails, each of its events is tried again alone, so one event's failure is never another's.
* Retries stay idempotent (``"exists"``), also inside one group; another event under a
  used id is ``entry_conflict``.
* With ``auto_checkpoint``, a checkpoint refused after a group's commit is raised to each
  caller whose entry was committed, with ``details["committed_seq"]`` (and ``event_id``,
  ``status``) saying that the entry is stored and where: the client must not resend it.
* Every caller raises an exception object of its own, also when one failure (a write that
  cannot begin) stops the whole group: same class, code, message and hint.
* The store's connection is only ever used by the writer thread, so SQLite's
  one-thread-per-connection rule holds and nothing is shared between threads but queues.

Signing and the Ed25519 checks happen in the caller's thread, outside the writer
(``cryptography`` releases the GIL there): of the caller's own ``Signer`` signatures, and
of detached signatures by keys the writer has already seen registered. So the writer
thread runs the rules and the storage only; signatures by keys it has not seen yet are
checked there in full.

Across processes nothing is shared: each process's writer groups its own callers, and
the processes take turns on the file's write lock like any other writers.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Final

from points_ledger.anchoring import AutoCheckpoint
from points_ledger.canonical import signing_input
from points_ledger.engine import verified_keys
from points_ledger.errors import InvalidEventError, LedgerError, StorageError
from points_ledger.keys import Signer
from points_ledger.ledger import Clock, Ledger, SignerLike, _Prepared, system_clock
from points_ledger.models.entries import AppendResult
from points_ledger.models.events import Event, Genesis
from points_ledger.store import Store

__all__ = ["GROUP_MAX_DEFAULT", "SharedWriter"]

GROUP_MAX_DEFAULT: Final = 256
"""The most events one group commit takes by default."""

GROUP_MAX_MAX: Final = 10_000
"""The largest ``group_max`` a writer accepts."""

_OPEN_TIMEOUT_S: Final = 300.0
_PUBLIC_KEYS_CACHED: Final = 100_000


def _held_lock() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass(slots=True)
class _Request:
    """One caller's event on its way through the writer, and its outcome."""

    item: _Prepared
    preverified: dict[str, bytes]
    # Held from the start; the writer thread releases it once ``outcome`` is set, and the
    # caller's acquire() returns then (a plain lock costs less than a threading.Event).
    done: threading.Lock = field(default_factory=_held_lock)
    outcome: AppendResult | BaseException | None = None


def _own_copy(error: BaseException) -> BaseException:
    """A copy of ``error`` for one caller: same class, code, message, hint and details.

    An exception object is changed when it is raised (its traceback and context), so one
    object raised in several threads at once would mix their tracebacks. The copy keeps
    the writer thread's traceback and cause to show where the error arose. An exception
    that cannot be copied (none of the library's) is returned as it is.
    """
    try:
        twin = copy.copy(error)
    except Exception:
        return error
    if twin is error:
        return error
    if isinstance(error, LedgerError) and isinstance(twin, LedgerError):
        twin.details = dict(error.details)
    twin.__cause__ = error.__cause__
    twin.__context__ = error.__context__
    twin.__suppress_context__ = error.__suppress_context__
    return twin.with_traceback(error.__traceback__)


def _committed_anyway(error: BaseException, result: AppendResult) -> BaseException:
    """``error`` (a due checkpoint's refusal) for a caller whose entry was committed before it.

    A :class:`LedgerError` gets ``details["committed_seq"]`` (the entry's seq),
    ``details["event_id"]`` and ``details["status"]`` (``"created"`` or ``"exists"``), so
    the caller can tell that its entry is stored and must not be sent under a new id.
    """
    twin = _own_copy(error)
    if isinstance(twin, LedgerError):
        entry = result.entry
        twin.details.update(committed_seq=entry.seq, event_id=entry.event_id, status=result.status)
    return twin


class SharedWriter:
    """A ledger that many threads of one process append to at once, by group commit.

    Open it once when the application starts (:meth:`open`), share it between all request
    threads, and close it at shutdown (or use it as a context manager). Only appends go
    through it; read with a :class:`~points_ledger.Ledger` of the thread's own, as before.

    See the module documentation for the guarantees.
    """

    def __init__(self) -> None:
        # Built by open(); the attributes are filled there.
        self._cond = threading.Condition()
        self._queue: deque[_Request] = deque()
        self._closing = False
        self._ident: tuple[str, bytes] = ("", b"")
        self._path = Path()
        self._location = ""
        self._group_max = GROUP_MAX_DEFAULT
        self._thread: threading.Thread | None = None
        self._groups = 0
        self._entries = 0
        # Key id -> public key of registered keys; written by the writer thread only.
        self._public_keys: dict[str, bytes] = {}

    @classmethod
    def open(
        cls,
        path: str | Path | Store,
        *,
        clock: Clock = system_clock,
        auto_checkpoint: AutoCheckpoint | None = None,
        group_max: int = GROUP_MAX_DEFAULT,
    ) -> SharedWriter:
        """Open an existing ledger for shared appending and start its writer thread.

        Args:
            path: The ledger file, a PostgreSQL URL, or a store object, as for
                :meth:`Ledger.open <points_ledger.Ledger.open>`.
            clock: Where ``recorded_at`` times come from.
            auto_checkpoint: Routine anchoring, as for ``Ledger.open``: checked after
                each group commit.
            group_max: The most events one commit takes (1 to 10,000); callers beyond it
                wait for the next commit.

        Raises:
            StorageError: if the ledger cannot be opened for writing.
            SchemaVersionError: if a newer version of the library wrote it.
            SignatureError: if ``auto_checkpoint`` holds a key that is not the log key.
            InvalidEventError: for a ``group_max`` out of range.
        """
        if type(group_max) is not int or not 1 <= group_max <= GROUP_MAX_MAX:
            raise InvalidEventError(f"group_max must be a whole number from 1 to {GROUP_MAX_MAX:,}")
        writer = cls()
        writer._group_max = group_max
        opened = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            # The ledger is opened here, so its connection belongs to this thread only.
            try:
                ledger = Ledger.open(path, clock=clock, auto_checkpoint=auto_checkpoint)
            except BaseException as e:
                failure.append(e)
                opened.set()
                return
            try:
                config = ledger.config
                writer._path = ledger.path
                writer._location = ledger.location
                writer._ident = (config.origin, config.ledger_id)
            except BaseException as e:
                failure.append(e)
                try:
                    ledger.close()
                except BaseException:  # noqa: S110 - the first failure is the one to report
                    pass
                finally:
                    opened.set()
                return
            opened.set()
            writer._serve(ledger)

        thread = threading.Thread(target=run, name="points-ledger-writer", daemon=True)
        writer._thread = thread
        thread.start()
        if not opened.wait(_OPEN_TIMEOUT_S):
            raise StorageError("the ledger's writer thread did not start in time")
        if failure:
            thread.join()
            error = failure[0]
            if isinstance(error, LedgerError):
                raise error
            raise StorageError(
                f"could not open the ledger for shared writing: {error!r}"
            ) from error
        # A writer left open at interpreter exit still finishes what waits and closes
        # the ledger cleanly; close() undoes this.
        atexit.register(writer.close)
        return writer

    @property
    def path(self) -> Path:
        """The ledger file (SQLite); :attr:`location` says where any ledger is."""
        return self._path

    @property
    def location(self) -> str:
        """Where the ledger is, as messages show it (a path, a URL or ``:memory:``)."""
        return self._location

    @property
    def groups_committed(self) -> int:
        """How many group transactions the writer has run so far."""
        return self._groups

    @property
    def entries_appended(self) -> int:
        """How many appends (created or ``exists``) the writer has answered successfully."""
        return self._entries

    def append(self, event: Event, signers: Iterable[SignerLike] = ()) -> AppendResult:
        """Append one signed event; return once the entry is durable.

        Safe to call from any number of threads at once. The event is signed (for
        ``Signer`` items) and its signatures checked in the calling thread; the writer
        thread then checks it against the rules in the state the events before it left,
        and commits it together with the others waiting.

        Returns:
            The stored entry: ``"created"``, or ``"exists"`` when the same event (same id,
            same content) was already appended.

        Raises:
            EntryConflictError: if the id was used for an event with other content.
            LedgerError: the specific subclass for any rule the event breaks; nothing of
                it is written, and the other callers' events are not affected.
            StorageError: if the writer is closed, or the store failed.
            IntegrityError: if a due automatic checkpoint was refused after the commit;
                the entry is stored all the same, and ``details["committed_seq"]`` is its
                seq (with ``details["event_id"]`` and ``details["status"]``).
        """
        given = tuple(signers)
        item = Ledger._prepare(event, given, ident=self._ident)
        request = _Request(item=item, preverified=self._check_early(item, given))
        with self._cond:
            if self._closing:
                raise StorageError(
                    "this shared writer is closed: nothing more can be appended through it",
                    hint="Open a new SharedWriter (one per process, at start-up).",
                )
            self._queue.append(request)
            self._cond.notify()
        request.done.acquire()
        outcome = request.outcome
        if isinstance(outcome, AppendResult):
            return outcome
        if outcome is None:  # the writer thread itself stopped while holding this event
            raise StorageError("the ledger's writer stopped before this append")
        raise outcome

    def _check_early(self, item: _Prepared, given: tuple[SignerLike, ...]) -> dict[str, bytes]:
        # The Ed25519 arithmetic, in the caller's thread, for each signature whose public
        # key is known without the store: a Signer's own, or one the writer has already
        # seen registered (a key id is the hash of its public key, so that never goes
        # stale). Whether the key may sign is decided by the rules, which use this result
        # only for a registered key with exactly that public key; any other signature is
        # checked there in full.
        if isinstance(item.event, Genesis):
            return {}
        own = {s.key_id: s.public_key for s in given if isinstance(s, Signer)}
        seen = self._public_keys

        def public_key_of(key_id: str) -> bytes | None:
            return own.get(key_id) or seen.get(key_id)

        if not any(public_key_of(s.key_id) for s in item.signatures):
            return {}
        message = signing_input(*self._ident, item.event_bytes)
        return verified_keys(message, item.signatures, public_key_of)

    def _remember_keys(self, ledger: Ledger, group: list[_Request]) -> None:
        # In the writer thread, after a commit: the public keys of registered keys that
        # made detached signatures, so later callers can check those in their own thread.
        seen = self._public_keys
        for request in group:
            if not isinstance(request.outcome, AppendResult):
                continue
            for signature in request.item.signatures:
                key_id = signature.key_id
                if key_id in seen or key_id in request.preverified:
                    continue
                if len(seen) >= _PUBLIC_KEYS_CACHED:
                    return
                try:
                    public_key = ledger._public_key(key_id)
                except LedgerError:
                    continue
                if public_key is not None:
                    seen[key_id] = public_key

    def _commit_group(self, ledger: Ledger, group: list[_Request]) -> None:
        """Append ``group`` in one transaction and set each request's outcome."""
        outcomes: list[AppendResult | BaseException]
        try:
            outcomes = ledger._append_group(
                [(r.item, r.preverified) for r in group], checkpoint=False
            )
        except BaseException as e:  # a failure outside any one event's work
            outcomes = [e] * len(group)
        self._groups += 1
        if any(isinstance(o, AppendResult) and o.status == "created" for o in outcomes):
            try:
                ledger._checkpoint_if_due()
            except Exception as e:
                # The entries are committed and stay so; each of their callers learns
                # that the due checkpoint was refused, and at which seq its entry is.
                outcomes = [
                    _committed_anyway(e, o) if isinstance(o, AppendResult) else o for o in outcomes
                ]
        answered: set[int] = set()
        for request, outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, AppendResult):
                self._entries += 1
            elif id(outcome) in answered:
                outcome = _own_copy(outcome)  # each caller raises an object of its own
            else:
                answered.add(id(outcome))
            request.outcome = outcome
        # Before answering, so a caller's next append already finds its key (a new key
        # costs one read, once). Only a shortcut, never fatal: the rules check every
        # signature anyway.
        with contextlib.suppress(Exception):
            self._remember_keys(ledger, group)

    def _serve(self, ledger: Ledger) -> None:
        """The writer thread: take what waits, commit it as one group, answer, repeat."""
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._closing:
                        self._cond.wait()
                    if not self._queue:
                        return
                    count = min(len(self._queue), self._group_max)
                    group = [self._queue.popleft() for _ in range(count)]
                try:
                    self._commit_group(ledger, group)
                finally:
                    for request in group:
                        request.done.release()
        finally:
            with self._cond:
                self._closing = True
                left = list(self._queue)
                self._queue.clear()
            for request in left:
                request.outcome = StorageError("the ledger's writer stopped before this append")
                request.done.release()
            ledger.close()

    def close(self) -> None:
        """Finish the appends already waiting, then stop the writer and close the ledger.

        Calls to :meth:`append` after this are refused with ``StorageError``.
        """
        atexit.unregister(self.close)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def __enter__(self) -> SharedWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SharedWriter(location={self._location!r})"
