"""Shared fixtures: a fixed-clock ledger factory with admins, members and an issuer flow.

Keys are derived from fixed seeds so failures reproduce; ledger time comes from a
:class:`FixedClock` so no test depends on the wall clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest
from hypothesis import settings

import points_ledger.keys
from points_ledger import (
    AccountKind,
    AppendResult,
    Asset,
    KeySpec,
    Ledger,
    OpenAccount,
    Posting,
    RegisterKey,
    Reverse,
    Role,
    Signer,
    Transfer,
)

ORIGIN = "test.example/core"
DAY = dt.date(2024, 5, 1)
START = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)


def seeded_signer(name: str) -> Signer:
    """A deterministic signer: the same name always gives the same key."""
    return Signer.from_seed(hashlib.sha256(b"points-ledger-tests/" + name.encode()).digest())


COMMITTEE_PEOPLE = ("cm:0001", "cm:0002")
"""The committee fixtures seat: two people, the default committee threshold."""


def committee_signer(person: str) -> Signer:
    """The committee key :func:`seat_committee` registers for ``person``."""
    return seeded_signer(f"committee/{person}")


def seat_committee(
    ledger: Ledger,
    admins: Sequence[Signer],
    people: Sequence[str] = COMMITTEE_PEOPLE,
    *,
    effective_at: dt.date = DAY,
) -> list[Signer]:
    """Open an account per person and register their committee key (admin-signed).

    Until the committee has its quorum of people the admins seat it alone; points or money
    out of ``issuer``/``external`` then need these signatures as well as the admins'.
    """
    signers = []
    for person in people:
        signer = committee_signer(person)
        spec = KeySpec(public_key=signer.public_key_b64, roles=(Role.COMMITTEE,), owner=person)
        ledger.append_many(
            [
                (
                    OpenAccount(
                        id=f"open-{person}",
                        effective_at=effective_at,
                        account=person,
                        account_kind=AccountKind.MEMBER,
                    ),
                    admins,
                ),
                (RegisterKey(id=f"key-{person}", effective_at=effective_at, key=spec), admins),
            ]
        )
        signers.append(signer)
    return signers


class FixedClock:
    """A clock that stands still unless a test moves it."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class World:
    """A ledger with admins and members, plus helpers that build signed events."""

    ledger: Ledger
    path: Path
    clock: FixedClock
    admins: list[Signer]
    log_key: Signer
    threshold: int
    members: dict[str, Signer] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=itertools.count)
    _committee: list[Signer] = field(default_factory=list)

    # -- ids and signers ----------------------------------------------------------------

    def new_id(self, prefix: str = "ev") -> str:
        return f"{prefix}-{next(self._ids)}"

    @property
    def quorum(self) -> list[Signer]:
        return self.admins[: self.threshold]

    @property
    def committee(self) -> list[Signer]:
        """The committee quorum, seated (``cm:0001``, ``cm:0002``) when first asked for."""
        if not self._committee:
            self._committee = seat_committee(self.ledger, self.quorum)
        return self._committee

    @property
    def committee_seated(self) -> bool:
        return bool(self._committee)

    # -- events -------------------------------------------------------------------------

    def open_account_event(
        self, account: str, kind: AccountKind = AccountKind.MEMBER, *, event_id: str | None = None
    ) -> OpenAccount:
        return OpenAccount(
            id=event_id or self.new_id("open"), effective_at=DAY, account=account, account_kind=kind
        )

    def transfer_event(
        self,
        source: str,
        target: str,
        amount: int,
        *,
        asset: Asset = Asset.PTS,
        event_id: str | None = None,
        effective_at: dt.date = DAY,
        memo: str = "",
    ) -> Transfer:
        return Transfer(
            id=event_id or self.new_id("tr"),
            effective_at=effective_at,
            memo=memo,
            postings=(
                Posting(account=source, asset=asset, amount=-amount),
                Posting(account=target, asset=asset, amount=amount),
            ),
        )

    def reverse_event(self, target_seq: int, *, event_id: str | None = None) -> Reverse:
        return Reverse(
            id=event_id or self.new_id("rev"),
            effective_at=DAY,
            target_seq=target_seq,
            reason="entered by mistake",
        )

    # -- flows --------------------------------------------------------------------------

    def add_member(self, account: str, kind: AccountKind = AccountKind.MEMBER) -> Signer:
        """Open an account and register a member key owned by it (admin-signed)."""
        signer = seeded_signer(f"member/{account}")
        self.ledger.append(self.open_account_event(account, kind), self.quorum)
        spec = KeySpec(public_key=signer.public_key_b64, roles=(Role.MEMBER,), owner=account)
        self.ledger.append(
            RegisterKey(id=self.new_id("key"), effective_at=DAY, key=spec), self.quorum
        )
        self.members[account] = signer
        return signer

    def issue(
        self,
        account: str,
        amount: int,
        *,
        asset: Asset = Asset.PTS,
        event_id: str | None = None,
        effective_at: dt.date = DAY,
        memo: str = "",
    ) -> AppendResult:
        """New points (or money): the ``issuer`` system account pays; admins and committee sign."""
        event = self.transfer_event(
            "issuer",
            account,
            amount,
            asset=asset,
            event_id=event_id,
            effective_at=effective_at,
            memo=memo,
        )
        return self.ledger.append(event, [*self.quorum, *self.committee])

    def pay(
        self,
        source: str,
        target: str,
        amount: int,
        *,
        asset: Asset = Asset.PTS,
        event_id: str | None = None,
        effective_at: dt.date = DAY,
    ) -> AppendResult:
        """A member spends from their own account with their own key."""
        event = self.transfer_event(
            source, target, amount, asset=asset, event_id=event_id, effective_at=effective_at
        )
        return self.ledger.append(event, [self.members[source]])

    def reverse(self, target_seq: int, *, event_id: str | None = None) -> AppendResult:
        return self.ledger.append(self.reverse_event(target_seq, event_id=event_id), self.quorum)

    def reopen(self) -> Ledger:
        self.ledger.close()
        self.ledger = Ledger.open(self.path, clock=self.clock)
        return self.ledger


def build_world(
    path: Path,
    *,
    admins: int = 2,
    threshold: int = 2,
    members: Sequence[str] = ("m1", "m2"),
    clock: FixedClock | None = None,
) -> World:
    """Create a ledger file at ``path`` with admins and members (keys registered)."""
    clock = clock or FixedClock()
    admin_signers = [seeded_signer(f"admin/{i}") for i in range(admins)]
    log_key = seeded_signer("log")
    ledger = Ledger.create(
        path,
        origin=ORIGIN,
        log_key=log_key,
        admins=admin_signers,
        threshold=threshold,
        effective_at=DAY,
        clock=clock,
    )
    world = World(
        ledger=ledger,
        path=path,
        clock=clock,
        admins=admin_signers,
        log_key=log_key,
        threshold=threshold,
    )
    for name in members:
        world.add_member(name)
    return world


def dump_file(path: Path) -> list[str]:
    """Every schema statement and row of a ledger file, read through a fresh connection."""
    conn = sqlite3.connect(str(path))
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def make_world(tmp_path: Path) -> Iterable[Callable[..., World]]:
    """Factory fixture: ``make_world(admins=3, threshold=2, members=("a",))``."""
    worlds: list[World] = []

    def make(name: str = "ledger.db", **kwargs: object) -> World:
        world = build_world(tmp_path / name, **kwargs)  # type: ignore[arg-type]
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        world.ledger.close()


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    """A ledger with two admins (threshold 2) and members ``m1`` and ``m2``."""
    return make_world()


CONSOLE_BLOCK = re.compile(r"^```console\n(.*?)^```", re.S | re.M)


def console_commands(markdown: str) -> list[tuple[str, list[str]]]:
    """Each ``$`` command of the ``console`` blocks in ``markdown``, with its output lines.

    A command continued with a trailing backslash is joined into one line.
    """
    result: list[tuple[str, list[str]]] = []
    for block in CONSOLE_BLOCK.findall(markdown):
        lines = block.splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            index += 1
            if not line.startswith("$ "):
                if result:
                    result[-1][1].append(line)
                continue
            command = line[2:]
            while command.endswith("\\"):
                command = command[:-1] + " " + lines[index].strip()
                index += 1
            result.append((command, []))
    return result


@pytest.fixture(autouse=True)
def _english_unless_a_test_chooses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts in English whatever the machine's locale; a test may choose zh.

    The faces pick their language from LC_ALL, LC_MESSAGES and LANG; subprocesses
    started from a test inherit this environment too.
    """
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


# Property tests that name no example count run 50 examples (hypothesis' default is 100)
# so that the default suite stays under three minutes; tests that need more say so.
settings.register_profile("points_ledger", max_examples=50)
settings.load_profile("points_ledger")


CHEAP_SCRYPT_N: Final = 2**10
"""The scrypt cost of key files where a test is not about key files (the library's is 2^17)."""


@pytest.fixture(scope="module")
def cheap_scrypt() -> Iterator[None]:
    """Key files written and read at :data:`CHEAP_SCRYPT_N` for the rest of the module.

    At the library's cost each key file written or read takes half a second of CPU and the
    command-line tests read hundreds; at 2^10 it takes a few milliseconds. Only the floor
    moves (``points_ledger.keys.SCRYPT_N_MIN``): files are still encrypted and checked the
    same way. The key-file tests (tests/unit/test_keys.py, test_key_files.py and
    test_weak_keys.py) and every process a test starts keep the real cost. Module-scoped so
    that module-scoped key fixtures are made cheaply too.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(points_ledger.keys, "SCRYPT_N_MIN", CHEAP_SCRYPT_N)
        yield


# -- PostgreSQL ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The test PostgreSQL server's URL (see ``tests/postgres_server.py``)."""
    from postgres_server import server_url

    yield from server_url()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A URL naming a fresh, unused ledger schema on the test server; dropped afterwards."""
    from postgres_server import drop_schema, new_schema_url

    url = new_schema_url(postgres_server)
    yield url
    drop_schema(url)
