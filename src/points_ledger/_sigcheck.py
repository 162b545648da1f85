"""Ed25519 checks on a second core: a helper process fed through a pipe.

Signature arithmetic is the one part of appending and verifying that needs no ledger
state, so it can run beside the Python work that does. Threads cannot help (the GIL),
and :mod:`multiprocessing` re-imports the embedding application's ``__main__``; so this
module starts *this file* as a small script (``python -P _sigcheck.py``) that imports
only the standard library and ``cryptography``, and talks to it over its stdin/stdout.

Protocol, all integers big-endian. A request is ``count:u32 size:u32`` followed by
``size`` bytes holding ``count`` items, each ``len:u32 public_key[32] signature[64]
message[len]``. The helper reads a whole request, checks each item, and answers with
``count`` bytes, ``1`` for a valid signature and ``0`` otherwise. On start it writes the
line ``ready``. It exits at end of input.

A helper's answer is only ever used to *skip* a check: the callers treat ``1`` as "this
key's signature over this message was checked" (see :func:`points_ledger.engine.verified_keys`)
and check every ``0`` again themselves, so a missing or failing helper can slow things down
but never change a verdict. When no helper can run (one core, no usable interpreter,
``POINTS_LEDGER_SIGNATURE_HELPER=0``, a broken pipe), the checks run in this process.
"""

from __future__ import annotations

import contextlib
import os
import select
import struct
import subprocess
import sys
import weakref
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import IO, Final, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

_T = TypeVar("_T")
_END: Final = object()
_weak_point: Callable[[bytes], str | None] | None = None

Item = tuple[bytes, bytes, bytes]
"""``(public_key, message, signature)``."""

ENV_SWITCH: Final = "POINTS_LEDGER_SIGNATURE_HELPER"

_HEADER: Final = struct.Struct(">III")  # request id, item count, body size
_ANSWER: Final = struct.Struct(">II")  # request id, item count
_ITEM: Final = struct.Struct(">I")
_READY: Final = b"ready\n"
_START_TIMEOUT_S: Final = 30.0
_REQUEST_ITEMS: Final = 64
_IN_FLIGHT_BYTES: Final = 48 * 1024  # below the pipe's 64 KiB, so writes do not block


def _weak(item: Item) -> bool:
    """True if the item's key or its signature's ``R`` is a weak point (never valid)."""
    # Imported on first use, not at the top: the helper process runs this file as a
    # script that imports only the standard library and cryptography. The parent applies
    # this check to every item, whatever the helper answered.
    global _weak_point
    if _weak_point is None:
        from points_ledger._ed25519_points import point_problem

        _weak_point = point_problem
    public_key, _message, signature = item
    return (
        not isinstance(signature, bytes)
        or _weak_point(public_key) is not None
        or _weak_point(signature[:32]) is not None
    )


def check_one(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True if ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``.

    A weak key (small order or non-canonical) or a signature whose ``R`` is such a point
    is never valid: with those, one signature can verify many messages.
    """
    if _weak((public_key, message, signature)):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


class SignatureChecker:
    """Checks streams of signatures, in a helper process when that can help.

    One checker belongs to one process: after a ``fork`` the child starts its own helper
    (or checks in-process) and never touches its parent's pipes. Not thread-safe: like
    the :class:`~points_ledger.Ledger` that owns it, use it from one thread at a time.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner_pid = 0
        self._broken = not _helper_allowed()
        self._streaming = False
        self._next_id = 0
        _CHECKERS.add(self)

    def check_each(
        self, objects: Iterable[_T], items_of: Callable[[_T], Sequence[Item]]
    ) -> Generator[tuple[_T, list[bool]], None, None]:
        """Yield each object with, in order, whether each of its items' signatures is valid.

        ``objects`` is read a little ahead (about 48 KiB of requests), so the helper
        checks later objects while the caller works on earlier ones; ``items_of`` is
        called once per object, in order, when it is read. A call made while another
        stream of this checker is still open (say, from a progress callback) checks in
        process. Weak keys and signatures whose ``R`` is a weak point are never valid.
        """
        asked: deque[Sequence[Item]] = deque()

        def recorded(obj: _T) -> Sequence[Item]:
            items = items_of(obj)
            asked.append(items)
            return items

        with contextlib.closing(self._check_each(objects, recorded)) as stream:
            for obj, answers in stream:
                items = asked.popleft()
                yield obj, [ok and not _weak(i) for ok, i in zip(answers, items, strict=True)]

    def _check_each(
        self, objects: Iterable[_T], items_of: Callable[[_T], Sequence[Item]]
    ) -> Generator[tuple[_T, list[bool]], None, None]:
        proc = None if self._streaming else self._helper()
        if proc is None:
            for obj in objects:
                yield obj, [check_one(*item) for item in items_of(obj)]
            return
        self._streaming = True
        try:
            yield from self._stream(proc, iter(objects), items_of)
        finally:
            self._streaming = False

    def start(self) -> bool:
        """Start the helper now, if one may run (say, before taking a lock).

        Returns:
            True if a helper is running for this process.
        """
        return self._helper() is not None

    def close(self) -> None:
        """Stop the helper, if this process started one."""
        proc, self._proc = self._proc, None
        if proc is None or self._owner_pid != os.getpid():
            return
        _close_helper(proc, self._owner_pid)

    def _discard(self) -> None:
        # The pipe may hold answers nobody will read: never use this helper again.
        proc, self._proc = self._proc, None
        if proc is not None and self._owner_pid == os.getpid():
            with contextlib.suppress(OSError):
                proc.kill()
            _close_helper(proc, self._owner_pid)

    def _forget_after_fork(self) -> None:
        # In a forked child: close the inherited ends of the parent's pipes, so that the
        # parent's helper sees end of input when the parent closes it (or dies).
        # Each descriptor is pointed at /dev/null rather than closed, so that the file
        # objects still own a valid descriptor when they are collected.
        proc, self._proc = self._proc, None
        self._streaming = False  # a stream open in the parent is not the child's
        if proc is None:
            return
        with contextlib.suppress(OSError, ValueError):
            null = os.open(os.devnull, os.O_RDWR)
            try:
                for stream in (proc.stdin, proc.stdout):
                    if stream is not None:
                        os.dup2(null, stream.fileno())
            finally:
                os.close(null)

    # -- internals ---------------------------------------------------------------------

    def _helper(self) -> subprocess.Popen[bytes] | None:
        if self._broken:
            return None
        if self._proc is not None and self._owner_pid == os.getpid():
            if self._proc.poll() is None:
                return self._proc
            self._proc = None
        if self._owner_pid != os.getpid():
            self._proc = None  # a parent's helper, inherited through fork: not ours
        self._proc = _start_helper()
        self._owner_pid = os.getpid()
        if self._proc is None:
            self._broken = True
        else:  # stopped with the checker, or at exit if nobody closed it
            weakref.finalize(self, _close_helper, self._proc, self._owner_pid)
        return self._proc

    def _stream(
        self,
        proc: subprocess.Popen[bytes],
        objects: Iterator[_T],
        items_of: Callable[[_T], Sequence[Item]],
    ) -> Generator[tuple[_T, list[bool]], None, None]:
        assert proc.stdin is not None and proc.stdout is not None
        stdin, stdout = proc.stdin, proc.stdout
        waiting: deque[tuple[_T, Sequence[Item]]] = deque()  # read, not yet handed out
        requests: deque[tuple[int, int, int]] = deque()  # (id, items, bytes) unanswered
        answers: deque[bool] = deque()  # answered, not yet handed out
        unsent: list[Item] = []
        in_flight = 0
        exhausted = False
        in_step = False  # True only at a yield or the end: every answer read is accounted for
        try:
            while True:
                while not exhausted and (not requests or in_flight < _IN_FLIGHT_BYTES):
                    obj = next(objects, _END)
                    if obj is _END:
                        exhausted = True
                    else:
                        items = items_of(obj)  # type: ignore[arg-type]
                        waiting.append((obj, items))  # type: ignore[arg-type]
                        unsent.extend(item for item in items if _well_formed(item))
                    if unsent and (exhausted or len(unsent) >= _REQUEST_ITEMS):
                        request_id = self._next_id = (self._next_id + 1) % 2**32
                        request = _encode(request_id, unsent)
                        _send(stdin, request)
                        requests.append((request_id, len(unsent), len(request)))
                        in_flight += len(request)
                        unsent = []
                if not waiting:
                    in_step = True
                    return
                obj, items = waiting[0]
                well_formed = [_well_formed(item) for item in items]
                while len(answers) < sum(well_formed):
                    request_id, count, size = requests[0]
                    answers.extend(flag == 1 for flag in _receive(stdout, request_id, count))
                    requests.popleft()
                    in_flight -= size
                waiting.popleft()
                in_step = True
                yield obj, [ok and answers.popleft() for ok in well_formed]
                in_step = False
        except _HelperFailed:
            # The helper died or the pipe broke: finish in this process, stop using it.
            self._broken = True
            self._discard()
            requests.clear()  # nothing left to drain
            in_step = True
            for obj, items in waiting:
                yield obj, [check_one(*item) for item in items]
            for obj in objects:
                yield obj, [check_one(*item) for item in items_of(obj)]
        finally:
            if not in_step:
                # Left in the middle of talking to the helper (an exception from
                # items_of, an interrupt inside a read or write): which answers are in
                # the pipe is unknown, so the helper is dropped; the next call starts
                # a fresh one.
                self._discard()
            elif requests:
                self._drain(stdout, requests)

    def _drain(self, stdout: IO[bytes], requests: deque[tuple[int, int, int]]) -> None:
        # The caller stopped early at a yield: read the answers still owed, so the next
        # call starts from a clean pipe; on any failure, drop the helper.
        drained = False
        try:
            for request_id, count, _size in requests:
                _receive(stdout, request_id, count)
            drained = True
        except _HelperFailed:
            pass
        finally:
            if not drained:
                self._discard()


_CHECKERS: Final[weakref.WeakSet[SignatureChecker]] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for checker in list(_CHECKERS):
        checker._forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _helper_allowed() -> bool:
    if os.environ.get(ENV_SWITCH, "1").strip().lower() in {"0", "no", "off", "false"}:
        return False
    return (os.cpu_count() or 1) >= 2 and bool(sys.executable)


# What the helper needs to find its interpreter and libraries; nothing else is passed on,
# so no passphrase variable (or any other secret of the parent) reaches the helper.
_HELPER_ENV_KEEP: Final = (
    "PATH",
    "PYTHONPATH",
    "PYTHONHOME",
    "LD_LIBRARY_PATH",
    "DYLD_LIBRARY_PATH",
    "SYSTEMROOT",
    "TMPDIR",
)


def _helper_environment() -> dict[str, str]:
    return {name: os.environ[name] for name in _HELPER_ENV_KEEP if name in os.environ}


def _start_helper() -> subprocess.Popen[bytes] | None:
    try:
        # Fixed arguments: this interpreter and this file; nothing comes from input.
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-P", os.path.abspath(__file__)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            env=_helper_environment(),
        )
    except OSError:
        return None
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], _START_TIMEOUT_S)
    try:
        greeting = proc.stdout.readline() if ready else b""
    except OSError:
        greeting = b""
    if greeting != _READY:
        _close_helper(proc, os.getpid())
        return None
    return proc


def _close_helper(proc: subprocess.Popen[bytes], owner_pid: int) -> None:
    if owner_pid != os.getpid() or proc.returncode is not None:
        return  # another process's helper (inherited through fork), or already stopped
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _well_formed(item: Item) -> bool:
    # Anything else cannot be a valid signature and is never sent: it is answered False
    # here (padding it to the fixed sizes could make a valid small-order signature).
    public_key, _message, signature = item
    return (
        type(public_key) is bytes
        and type(signature) is bytes
        and len(public_key) == 32
        and len(signature) == 64
    )


def _encode(request_id: int, items: Sequence[Item]) -> bytes:
    parts = []
    for public_key, message, signature in items:
        parts.append(_ITEM.pack(len(message)) + public_key + signature + message)
    body = b"".join(parts)
    return _HEADER.pack(request_id, len(items), len(body)) + body


class _HelperFailed(Exception):
    """The pipe to the helper broke (the helper exited, or was killed)."""


# Only a broken pipe or a closed stream means the helper is gone; anything else (say,
# a TimeoutError from the caller's signal handler) is the caller's and propagates.
_PIPE_ERRORS: Final = (BrokenPipeError, ConnectionResetError, ValueError)


def _send(stream: IO[bytes], request: bytes) -> None:
    try:
        stream.write(request)
        stream.flush()
    except _PIPE_ERRORS as e:
        raise _HelperFailed from e


def _receive(stream: IO[bytes], request_id: int, count: int) -> bytes:
    """The answer to request ``request_id`` of ``count`` items; anything else fails."""
    try:
        header = stream.read(_ANSWER.size)
        if header is None or len(header) != _ANSWER.size:
            raise _HelperFailed
        if _ANSWER.unpack(header) != (request_id, count):
            raise _HelperFailed  # out of step: never guess which answer is whose
        data = stream.read(count)
    except _PIPE_ERRORS as e:
        raise _HelperFailed from e
    if data is None or len(data) != count:
        raise _HelperFailed
    return data


def _serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The helper's loop: answer requests until end of input."""
    keys: dict[bytes, Ed25519PublicKey | None] = {}
    stdout.write(_READY)
    stdout.flush()
    while True:
        header = stdin.read(_HEADER.size)
        if not header or len(header) != _HEADER.size:
            return
        request_id, count, size = _HEADER.unpack(header)
        body = stdin.read(size)
        if body is None or len(body) != size:
            return
        answer = bytearray(count)
        pos = 0
        for i in range(count):
            (length,) = _ITEM.unpack_from(body, pos)
            public_key = body[pos + 4 : pos + 36]
            signature = body[pos + 36 : pos + 100]
            message = body[pos + 100 : pos + 100 + length]
            pos += 100 + length
            if public_key not in keys:
                if len(keys) > 4096:
                    keys.clear()
                try:
                    keys[public_key] = Ed25519PublicKey.from_public_bytes(public_key)
                except ValueError:
                    keys[public_key] = None
            key = keys[public_key]
            if key is None:
                continue
            try:
                key.verify(signature, message)
            except InvalidSignature:
                continue
            answer[i] = 1
        stdout.write(_ANSWER.pack(request_id, count) + bytes(answer))
        stdout.flush()


if __name__ == "__main__":  # pragma: no cover - runs in the helper process
    _serve(sys.stdin.buffer, sys.stdout.buffer)
