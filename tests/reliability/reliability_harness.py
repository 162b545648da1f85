"""Shared scenario infrastructure for the reliability suite.

It also holds the ``report`` fixture: each scenario prints its figures with
``report(scenario, **figures)``, past pytest's output capture, and appends them as JSON
lines to the file named by ``POINTS_LEDGER_FIGURES`` when that is set.

Everything here is generic over an *event factory*: a deterministic function
``factory(community, worker, n) -> (event, signers)`` that returns the n-th event a given
worker appends. Determinism matters: a worker that restarts after being killed must be
able to rebuild the exact event (same id, same bytes) it may or may not have written, so
that retrying it is a true idempotent retry. New event kinds (awards, redemption holds,
donations, ... on other branches) plug in by adding a factory to :data:`FACTORIES`.

Keys are derived from a seed, so a worker process rebuilds the same signers from
``(seed, members)`` on its command line without any key material crossing processes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

import points_ledger
from points_ledger import (
    AccountKind,
    Asset,
    AwardPoints,
    DefineService,
    Donate,
    Event,
    HoldRedemption,
    JoinAlliance,
    KeySpec,
    Ledger,
    ListOffer,
    OpenAccount,
    Posting,
    RegisterKey,
    Role,
    ServiceUnit,
    Signer,
    Transfer,
)

ORIGIN = "reliability.example/district/community"
DAY = dt.date(2026, 11, 2)
HERE = Path(__file__).resolve().parent
WORKERS = HERE / "workers.py"
SRC = Path(points_ledger.__file__).resolve().parents[1]
"""Where the library under test was imported from; workers import the same copy."""


def signer_seed(seed: int, label: str) -> bytes:
    """The 32-byte private seed of the signer for ``(seed, label)``."""
    return hashlib.sha256(f"reliability/{seed}/{label}".encode()).digest()


def seeded_signer(seed: int, label: str) -> Signer:
    """A signer derived from ``(seed, label)``: the same in every process."""
    return Signer.from_seed(signer_seed(seed, label))


@dataclass(frozen=True)
class Community:
    """The accounts and keys of a scenario ledger, rebuildable from ``(seed, members)``."""

    seed: int
    members: tuple[str, ...]
    origin: str = ORIGIN

    @property
    def admin(self) -> Signer:
        return seeded_signer(self.seed, "admin")

    @property
    def log_key(self) -> Signer:
        return seeded_signer(self.seed, "log")

    @property
    def issuer(self) -> Signer:
        """The key with the ``issuer`` role that signs ``AwardPoints`` (owned by no one)."""
        return seeded_signer(self.seed, "issuer")

    @property
    def committee(self) -> list[Signer]:
        """The committee quorum (one key per person of :data:`COMMITTEE`)."""
        return [seeded_signer(self.seed, f"committee/{person}") for person in COMMITTEE]

    @property
    def minter_seeds(self) -> tuple[bytes, ...]:
        """The private seeds of :attr:`minters` (for a forger who holds all of them)."""
        labels = ("admin", *(f"committee/{person}" for person in COMMITTEE))
        return tuple(signer_seed(self.seed, label) for label in labels)

    @property
    def minters(self) -> list[Signer]:
        """Who signs points out of ``issuer``: the admin and the committee quorum."""
        return [Signer.from_seed(seed) for seed in self.minter_seeds]

    def member_key(self, member: str) -> Signer:
        return seeded_signer(self.seed, f"member/{member}")

    @classmethod
    def of(cls, seed: int, members: int, origin: str = ORIGIN) -> Community:
        return cls(seed=seed, members=tuple(f"m{i:05d}" for i in range(members)), origin=origin)


COMMITTEE = ("cm:0001", "cm:0002")
"""The committee every scenario ledger seats right after genesis (the default threshold)."""

ISSUER_STAFF = "staff.issuer"
"""The account of the person holding the issuer key (issuer keys name their holder)."""

SERVICE = "rel-service"
"""Catalogue service the ``award_points`` factory pays for (2 points a unit, no caps)."""


def build_community(
    path: Path | str, community: Community, *, award: int = 0, catalogue: bool = False
) -> Ledger:
    """Create a ledger with the committee, a pool, the members, their keys and an opening
    award each.

    With ``catalogue``, also an issuer key and the :data:`SERVICE` catalogue entry, so
    the ``award_points`` factory can append real ``AwardPoints``.
    """
    admin = community.admin
    ledger = Ledger.create(
        path, origin=community.origin, log_key=community.log_key, admins=[admin], threshold=1
    )
    setup = committee_setup(admin, community.committee)
    setup.append(
        (
            OpenAccount(
                id="open-pool", effective_at=DAY, account="pool", account_kind=AccountKind.POOL
            ),
            [admin],
        )
    )
    if catalogue:
        setup.append(
            (
                OpenAccount(
                    id="open-issuer-staff",
                    effective_at=DAY,
                    account=ISSUER_STAFF,
                    account_kind=AccountKind.MEMBER,
                ),
                [admin],
            )
        )
        setup.append(
            (
                RegisterKey(
                    id="key-issuer",
                    effective_at=DAY,
                    key=KeySpec(
                        public_key=community.issuer.public_key_b64,
                        roles=(Role.ISSUER,),
                        owner=ISSUER_STAFF,
                    ),
                ),
                [admin],
            )
        )
        setup.append(
            (
                DefineService(
                    id="define-service",
                    effective_at=DAY,
                    code=SERVICE,
                    name="Reliability service",
                    points_per_unit=2,
                    unit=ServiceUnit.VISIT,
                    active_from=DAY,
                ),
                # The committee is seated above: it agrees to the catalogue with the admin.
                [admin, *community.committee],
            )
        )
    for name in community.members:
        setup.append(
            (
                OpenAccount(
                    id=f"open-{name}",
                    effective_at=DAY,
                    account=name,
                    account_kind=AccountKind.MEMBER,
                ),
                [admin],
            )
        )
        setup.append(
            (
                RegisterKey(
                    id=f"key-{name}",
                    effective_at=DAY,
                    key=KeySpec(
                        public_key=community.member_key(name).public_key_b64,
                        roles=(Role.MEMBER,),
                        owner=name,
                    ),
                ),
                [admin],
            )
        )
        if award:
            setup.append((award_event(f"seed-award-{name}", name, award), community.minters))
    for start in range(0, len(setup), 500):
        ledger.append_many(setup[start : start + 500])
    return ledger


def committee_setup(admin: Signer, committee: Sequence[Signer]) -> list[tuple[Event, list[Signer]]]:
    """The admin-signed entries that seat ``committee``: an account and a key for each
    person of :data:`COMMITTEE`.

    Until the committee has its quorum of people the admin seats it alone; from then on
    points out of ``issuer``, the service catalogue, the settlement rate and treasurer keys
    need the committee's signatures as well as the admin's.
    """
    setup: list[tuple[Event, list[Signer]]] = []
    for person, signer in zip(COMMITTEE, committee, strict=True):
        spec = KeySpec(public_key=signer.public_key_b64, roles=(Role.COMMITTEE,), owner=person)
        setup.append(
            (
                OpenAccount(
                    id=f"open-{person}",
                    effective_at=DAY,
                    account=person,
                    account_kind=AccountKind.MEMBER,
                ),
                [admin],
            )
        )
        setup.append((RegisterKey(id=f"key-{person}", effective_at=DAY, key=spec), [admin]))
    return setup


def grow(ledger: Ledger, community: Community, count: int, batch: int = 500) -> None:
    """Append ``count`` everyday events: awards and member-signed spends, alternating.

    Needs opening awards (``build_community(..., award=...)``) to cover the spends.
    """
    items: list[tuple[Event, list[Signer]]] = []
    for n in range(count):
        factory = award_factory if n % 2 == 0 else small_spend_factory
        items.append(factory(community, 90 + n % 2, n // 2))
        if len(items) == batch:
            ledger.append_many(items)
            items = []
    if items:
        ledger.append_many(items)


PARTNER = "shop"
HOLD_PRICE = 5
"""Points per item of each round's main offer (amounts must be multiples of it)."""


def partner_key(community: Community) -> Signer:
    return seeded_signer(community.seed, "partner")


def add_offers(ledger: Ledger, community: Community, rounds: int) -> None:
    """A partner, and for each round a single-item offer (``stock-r``, 1 point) and a
    plentiful one (``main-r``, :data:`HOLD_PRICE` points per item, 100 items)."""
    admin, shop = community.admin, partner_key(community)
    ledger.append_many(
        [
            (
                OpenAccount(
                    id="open-shop",
                    effective_at=DAY,
                    account=PARTNER,
                    account_kind=AccountKind.PARTNER,
                ),
                [admin],
            ),
            (
                JoinAlliance(
                    id="join-shop",
                    effective_at=DAY,
                    partner=PARTNER,
                    name="Shop",
                    public_key=shop.public_key_b64,
                ),
                [admin],
            ),
        ]
    )
    items: list[tuple[Event, list[Signer]]] = []
    for r in range(rounds):
        for offer, price, stock in ((f"stock-{r}", 1, 1), (f"main-{r}", HOLD_PRICE, 100)):
            items.append(
                (
                    ListOffer(
                        id=f"list-{offer}",
                        effective_at=DAY,
                        offer=offer,
                        partner=PARTNER,
                        item=offer,
                        price_points=price,
                        stock=stock,
                    ),
                    [shop],
                )
            )
    for start in range(0, len(items), 500):
        ledger.append_many(items[start : start + 500])


def community_event(
    community: Community, kind: str, r: int, worker: int, amount: int
) -> tuple[Event, list[Signer]]:
    """Round ``r``'s event of ``worker`` in the holds-and-donations double spend.

    ``stock``: a one-item hold on ``stock-r`` (1 point). ``main``: ``amount`` points,
    held on ``main-r`` by even workers, donated to the pool by odd ones.
    """
    member = community.members[r]
    signers = [community.member_key(member)]
    if kind == "stock":
        event: Event = HoldRedemption(
            id=f"stock-{r}-w{worker}",
            effective_at=DAY,
            member=member,
            offer=f"stock-{r}",
            quantity=1,
            points=1,
        )
    elif worker % 2 == 0:
        event = HoldRedemption(
            id=f"hold-{r}-w{worker}",
            effective_at=DAY,
            member=member,
            offer=f"main-{r}",
            quantity=amount // HOLD_PRICE,
            points=amount,
        )
    else:
        event = Donate(
            id=f"give-{r}-w{worker}", effective_at=DAY, donor=member, pool="pool", points=amount
        )
    return event, signers


def award_event(event_id: str, member: str, points: int, memo: str = "") -> Transfer:
    """Points minted by ``issuer`` for ``member`` (signed by ``Community.minters``)."""
    return Transfer(
        id=event_id,
        effective_at=DAY,
        memo=memo,
        postings=(
            Posting(account="issuer", asset=Asset.PTS, amount=-points),
            Posting(account=member, asset=Asset.PTS, amount=points),
        ),
    )


def spend_event(event_id: str, member: str, points: int) -> Transfer:
    """Points a member gives to the pool (must be signed by the member's key)."""
    return Transfer(
        id=event_id,
        effective_at=DAY,
        postings=(
            Posting(account=member, asset=Asset.PTS, amount=-points),
            Posting(account="pool", asset=Asset.PTS, amount=points),
        ),
    )


class EventFactory(Protocol):
    """Deterministic source of the n-th event a worker appends."""

    def __call__(self, community: Community, worker: int, n: int) -> tuple[Event, list[Signer]]:
        """Return the event and the signers that authorise it."""


def award_factory(community: Community, worker: int, n: int) -> tuple[Event, list[Signer]]:
    """Awards issuer -> member, signed by admin and committee; 1-20 points, spread over
    members."""
    member = community.members[(worker * 7919 + n) % len(community.members)]
    points = 1 + (worker * 31 + n) % 20
    event = award_event(f"w{worker}-{n}", member, points, memo=f"worker {worker} #{n}")
    return event, community.minters


def small_spend_factory(community: Community, worker: int, n: int) -> tuple[Event, list[Signer]]:
    """One point from a member to the pool, signed by the member (needs opening awards)."""
    member = community.members[(worker * 7919 + n) % len(community.members)]
    return spend_event(f"w{worker}-{n}", member, 1), [community.member_key(member)]


def award_points_factory(community: Community, worker: int, n: int) -> tuple[Event, list[Signer]]:
    """Real ``AwardPoints`` (1-5 units of :data:`SERVICE`), signed by the issuer key.

    Needs ``build_community(..., catalogue=True)``. The task ref is the event id, so a
    retried event is the same task and is never paid twice.
    """
    member = community.members[(worker * 7919 + n) % len(community.members)]
    event = AwardPoints(
        id=f"w{worker}-{n}",
        effective_at=DAY,
        volunteer=member,
        service=SERVICE,
        quantity=1 + (worker + n) % 5,
        grid_cell=f"cell-{worker}",
        task_ref=f"w{worker}-{n}",
    )
    return event, [community.issuer]


FACTORIES: dict[str, EventFactory] = {
    "award": award_factory,
    "award_points": award_points_factory,
    "small_spend": small_spend_factory,
}
"""Event factories workers can be told to use by name (extend as event kinds land)."""


# -- files ---------------------------------------------------------------------------


def copy_ledger(source: Path, target: Path) -> Path:
    """Copy a closed ledger file (and its WAL, if one is left) to ``target``."""
    shutil.copyfile(source, target)
    for suffix in ("-wal",):
        extra = Path(f"{source}{suffix}")
        if extra.exists():
            shutil.copyfile(extra, f"{target}{suffix}")
    return target


def dump(path: Path) -> list[str]:
    """The logical content of a file (``iterdump`` through a fresh connection)."""
    conn = sqlite3.connect(str(path))
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def schema(path: Path) -> list[tuple[str, str, str | None]]:
    """``sqlite_master`` rows (type, name, sql) of a file."""
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute(
            "SELECT type, name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
    finally:
        conn.close()


def worker_env() -> dict[str, str]:
    """Environment for worker processes: the source tree under test on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    return env


def spawn_worker(args: Sequence[str]) -> subprocess.Popen[str]:
    """Start ``workers.py`` with ``args``; stdin and stdout are pipes of text lines."""
    return subprocess.Popen(
        [sys.executable, str(WORKERS), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=worker_env(),
    )


# -- figures -----------------------------------------------------------------------

FIGURES_FILE_ENV = "POINTS_LEDGER_FIGURES"
"""If set, figures are also appended as JSON lines to this file."""


# Imported by each scenario module: a conftest.py here would shadow tests/conftest.py.
@pytest.fixture(name="report")
def report_fixture(
    request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> Callable[..., None]:
    def emit(scenario: str, **figures: Any) -> None:
        text = ", ".join(f"{k}={v}" for k, v in figures.items())
        with capsys.disabled():
            print(f"\n[figures] {scenario} ({request.node.name}): {text}", flush=True)
        target = os.environ.get(FIGURES_FILE_ENV)
        if target:
            line = {
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "test": request.node.nodeid,
                "scenario": scenario,
                **figures,
            }
            with Path(target).open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, default=str) + "\n")

    return emit


def run_together(args_per_worker: Sequence[Sequence[str]]) -> list[dict[str, object]]:
    """Start workers, wait until each has opened the ledger, release them at once.

    Returns the JSON summary each worker prints last.
    """
    procs = [spawn_worker(args) for args in args_per_worker]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line == "ready\n", proc.stderr.read() if proc.stderr else line
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=7200)
            assert proc.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
