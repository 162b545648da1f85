"""Scenario 10b: a model-based state machine over the community events and transparency.

Hypothesis drives ``AwardPoints`` (issuer key), two-phase redemption holds (hold, confirm,
void, expiry by an injectable clock), donations, member ``Transfer``s and admin ``Reverse``s
of awards (whose debit hook releases expired holds), committee grants, key rotation and
revocation, what the seated committee must agree to (the catalogue, the settlement rate,
treasurer keys, the first key of the beneficiary once it holds points), signed checkpoints
with receipts, idempotent retries and close-and-reopen against a plain-Python model. After
every step it checks: conservation per asset, no negative constrained balance,
``available == posted - pending``, model posted and pending balances and offer stock equal
the ledger's.
Every checkpoint step signs a checkpoint, checks ``verify(trusted_checkpoint=note)`` and
that a receipt of every earlier sampled entry verifies against the latest checkpoint. Every
tenth step runs ``verify()``.

The model mirrors the ledger's lazy expiry: an expired hold keeps its reservation until
an entry that touches its member or offer releases it (and a refused entry releases
nothing).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from reliability_harness import seeded_signer

from points_ledger import (
    AccountKind,
    Asset,
    AuthorizationError,
    AwardPoints,
    ConfirmRedemption,
    DefineService,
    Donate,
    Event,
    Grant,
    HoldClosedError,
    HoldExpiredError,
    HoldRedemption,
    JoinAlliance,
    KeyRevokedError,
    KeySpec,
    Ledger,
    LedgerError,
    ListOffer,
    OpenAccount,
    OutOfStockError,
    OverdraftError,
    Posting,
    RecoverKey,
    RegisterKey,
    Reverse,
    RevokeKey,
    Role,
    ServiceUnit,
    SetSettlementRate,
    Signer,
    Transfer,
    VoidRedemption,
    reports,
    verify_receipt,
)

QUICK = settings(
    max_examples=10,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
"""A short derandomized run, once in CI beside ``CI`` (``-m ci_size``).

The default suite leaves this file-backed machine out: ``tests/stateful/`` runs the same
rules on the memory store there, in a fraction of the time."""
CI = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
SOAK = settings(
    max_examples=300,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
SEED = 10
ADMIN = seeded_signer(SEED, "admin")
LOG = seeded_signer(SEED, "log")
ISSUER = seeded_signer(SEED, "issuer")
SHOP = seeded_signer(SEED, "shop")
COMMITTEE = [seeded_signer(SEED, "cm1"), seeded_signer(SEED, "cm2")]
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
POOL, BENEFICIARY, PARTNER, OFFER = "pool.charity", "hh.01", "shop", "shop.tea"
PRICE, STOCK, UNIT_POINTS, HOURS = 10, 6, 5, 24
US = 1_000_000


def note(what: str) -> None:
    """Count an outcome (shown by ``--hypothesis-show-statistics``)."""
    event(what)


@dataclass
class Clock:
    now: dt.datetime = START

    def __call__(self) -> dt.datetime:
        return self.now

    def us(self) -> int:
        return int(self.now.timestamp()) * US + self.now.microsecond


@dataclass
class Hold:
    member: str
    points: int
    quantity: int
    expires_us: int
    status: str = "pending"


class CommunityMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="community-machine-"))
        self.path = self.dir / "c.db"
        self.clock = Clock()
        self.ledger = Ledger.create(
            self.path,
            origin="model.example/community",
            log_key=LOG,
            admins=[ADMIN],
            threshold=1,
            effective_at=START.date(),
            clock=self.clock,
        )
        setup: list[tuple[Event, list[Signer]]] = []
        for account, kind in (
            (POOL, AccountKind.POOL),
            (BENEFICIARY, AccountKind.BENEFICIARY),
            (PARTNER, AccountKind.PARTNER),
            *((f"staff.{n}", AccountKind.MEMBER) for n in range(1 + len(COMMITTEE))),
        ):
            setup.append((self._event(OpenAccount, account=account, account_kind=kind), [ADMIN]))
        offices = ((ISSUER, Role.ISSUER), *((c, Role.COMMITTEE) for c in COMMITTEE))
        for n, (signer, role) in enumerate(offices):
            # Office keys name their holder's own account.
            spec = KeySpec(public_key=signer.public_key_b64, roles=(role,), owner=f"staff.{n}")
            setup.append((self._event(RegisterKey, key=spec), [ADMIN]))
        setup.append(
            (
                self._event(
                    DefineService,
                    code="visit",
                    name="Visit",
                    points_per_unit=UNIT_POINTS,
                    unit=ServiceUnit.VISIT,
                    active_from=START.date(),
                ),
                [ADMIN, *COMMITTEE],  # the committee is seated above: it agrees too
            )
        )
        setup.append(
            (
                self._event(
                    JoinAlliance, partner=PARTNER, name="Shop", public_key=SHOP.public_key_b64
                ),
                [ADMIN],
            )
        )
        setup.append(
            (
                self._event(
                    ListOffer,
                    offer=OFFER,
                    partner=PARTNER,
                    item="Tea",
                    price_points=PRICE,
                    stock=STOCK,
                ),
                [SHOP],
            )
        )
        self.ledger.append_many(setup)
        self.posted: dict[str, int] = {"issuer": 0, POOL: 0, BENEFICIARY: 0, PARTNER: 0}
        self.pending: dict[str, int] = {}
        self.stock = STOCK
        self.holds: dict[str, Hold] = {}
        self.members: list[str] = []
        self.keys: dict[str, Signer] = {}
        self.revoked: dict[str, Signer] = {}
        self.generation: dict[str, int] = {}
        self.last: tuple[Event, list[Signer]] | None = None
        self.awards: list[tuple[int, str, int]] = []  # (seq, member, points), not reversed
        self.sampled: list[int] = []  # entries whose receipts are re-checked
        self.steps = 0
        self.checkpoints = 0
        self.beneficiary_keyed = False
        for _ in range(2):  # two funded members from the start, so holds happen early
            self.open_member()
            member = self.members[-1]
            self.ledger.append(
                self._event(
                    AwardPoints,
                    volunteer=member,
                    service="visit",
                    quantity=10,
                    grid_cell="g1",
                    task_ref=f"opening-{member}",
                ),
                [ISSUER],
            )
            self.posted[member] += 10 * UNIT_POINTS
            self.posted["issuer"] -= 10 * UNIT_POINTS

    def teardown(self) -> None:
        self.ledger.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------

    def _event(self, cls: type[Event], **fields: object) -> Event:
        self.counter = getattr(self, "counter", 0) + 1
        return cls(id=f"e-{self.counter}", effective_at=self.clock.now.date(), **fields)  # type: ignore[arg-type]

    def _append(self, event: Event, signers: list[Signer]) -> int:
        result = self.ledger.append(event, signers)
        assert result.created
        note(f"accepted {type(event).__name__}")
        self.last = (event, signers)
        return result.entry.seq

    def _refused(self, error: type[Exception], event: Event, signers: list[Signer]) -> None:
        size = self.ledger.size()
        with pytest.raises(error):
            self.ledger.append(event, signers)
        assert self.ledger.size() == size
        note(f"refused {type(event).__name__}: {error.__name__}")

    def _key(self, member: str) -> Signer:
        self.generation[member] = self.generation.get(member, 0) + 1
        return seeded_signer(SEED, f"{member}/{self.generation[member]}")

    def _expired(self, member: str | None = None, offer: bool = False) -> list[str]:
        now = self.clock.us()
        return sorted(
            v
            for v, h in self.holds.items()
            if h.status == "pending" and now >= h.expires_us and (h.member == member or offer)
        )

    def _release(self, vouchers: list[str]) -> None:
        for voucher in vouchers:
            hold = self.holds[voucher]
            hold.status = "expired"
            self.pending[hold.member] -= hold.points
            self.stock += hold.quantity

    def _available(self, member: str, released: list[str]) -> int:
        freed = sum(self.holds[v].points for v in released if self.holds[v].member == member)
        return self.posted[member] - (self.pending.get(member, 0) - freed)

    def _member(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(self.members))

    # -- rules -------------------------------------------------------------------------

    @rule()
    def open_member(self) -> None:
        name = f"m{len(self.members)}"
        key = self._key(name)
        spec = KeySpec(public_key=key.public_key_b64, roles=(Role.MEMBER,), owner=name)
        self.ledger.append_many(
            [
                (
                    self._event(OpenAccount, account=name, account_kind=AccountKind.MEMBER),
                    [ADMIN],
                ),
                (self._event(RegisterKey, key=spec), [ADMIN]),
            ]
        )
        self.members.append(name)
        self.keys[name] = key
        self.posted[name] = 0
        self.pending[name] = 0

    @precondition(lambda self: self.members)
    @rule(data=st.data(), quantity=st.integers(1, 8))
    def award_points(self, data: st.DataObject, quantity: int) -> None:
        member = self._member(data)
        event = self._event(
            AwardPoints,
            volunteer=member,
            service="visit",
            quantity=quantity,
            grid_cell="g1",
            task_ref=f"task-{self.counter}",
        )
        seq = self._append(event, [ISSUER])
        self.posted[member] += quantity * UNIT_POINTS
        self.posted["issuer"] -= quantity * UNIT_POINTS
        self.awards.append((seq, member, quantity * UNIT_POINTS))

    @precondition(lambda self: self.awards)
    @rule(data=st.data())
    def reverse_award(self, data: st.DataObject) -> None:
        """An admin ``Reverse`` of an award (its debit hook releases expired holds)."""
        index = data.draw(st.integers(0, len(self.awards) - 1))
        seq, member, points = self.awards[index]
        event = self._event(Reverse, target_seq=seq, reason="paid twice")
        released = self._expired(member)
        if points > self._available(member, released):
            self._refused(OverdraftError, event, [ADMIN])
            return
        self._append(event, [ADMIN])
        self._release(released)
        self.posted[member] -= points
        self.posted["issuer"] += points
        del self.awards[index]

    @precondition(lambda self: any(m in self.keys for m in self.members))
    @rule(data=st.data(), quantity=st.integers(1, 4), hours=st.integers(1, 48))
    def hold(self, data: st.DataObject, quantity: int, hours: int) -> None:
        member = data.draw(st.sampled_from([m for m in self.members if m in self.keys]))
        points = quantity * PRICE
        event = self._event(
            HoldRedemption,
            member=member,
            offer=OFFER,
            quantity=quantity,
            points=points,
            expires_in_hours=hours,
        )
        released = self._expired(member, offer=True)
        stock = self.stock + sum(self.holds[v].quantity for v in released)
        if quantity > stock:
            self._refused(OutOfStockError, event, [self.keys[member]])
            return
        if points > self._available(member, released):
            self._refused(OverdraftError, event, [self.keys[member]])
            return
        seq = self._append(event, [self.keys[member]])
        self._release(released)
        self.stock -= quantity
        self.pending[member] += points
        voucher = f"V{seq:08d}"
        self.holds[voucher] = Hold(member, points, quantity, self.clock.us() + hours * 3600 * US)

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        voucher = data.draw(st.sampled_from(sorted(self.holds)))
        hold = self.holds[voucher]
        event = self._event(ConfirmRedemption, voucher=voucher)
        if hold.status in ("pending", "expired") and self.clock.us() >= hold.expires_us:
            self._refused(HoldExpiredError, event, [SHOP])
            return
        if hold.status != "pending":
            self._refused(HoldClosedError, event, [SHOP])
            return
        self._append(event, [SHOP])
        hold.status = "confirmed"
        self.pending[hold.member] -= hold.points
        self.posted[hold.member] -= hold.points
        self.posted[PARTNER] += hold.points

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), by_member=st.booleans())
    def void(self, data: st.DataObject, by_member: bool) -> None:
        voucher = data.draw(st.sampled_from(sorted(self.holds)))
        hold = self.holds[voucher]
        expired = self.clock.us() >= hold.expires_us
        key = self.keys.get(hold.member)
        signer = key if by_member and key is not None else ADMIN
        event = self._event(VoidRedemption, voucher=voucher, reason="changed mind")
        if hold.status != "pending":
            self._refused(HoldClosedError, event, [signer])
            return
        self._append(event, [signer])
        hold.status = "expired" if expired else "voided"
        self.pending[hold.member] -= hold.points
        self.stock += hold.quantity

    @rule(hours=st.sampled_from([1, 6, 23, 24, 25, 72]))
    def advance_clock(self, hours: int) -> None:
        self.clock.now += dt.timedelta(hours=hours)

    @precondition(lambda self: any(m in self.keys for m in self.members))
    @rule(data=st.data(), points=st.integers(1, 60))
    def donate(self, data: st.DataObject, points: int) -> None:
        member = data.draw(st.sampled_from([m for m in self.members if m in self.keys]))
        event = self._event(Donate, donor=member, pool=POOL, points=points)
        released = self._expired(member)
        if points > self._available(member, released):
            self._refused(OverdraftError, event, [self.keys[member]])
            return
        self._append(event, [self.keys[member]])
        self._release(released)
        self.posted[member] -= points
        self.posted[POOL] += points

    @precondition(lambda self: any(m in self.keys for m in self.members))
    @rule(data=st.data(), points=st.integers(1, 60))
    def spend(self, data: st.DataObject, points: int) -> None:
        """A plain member-signed ``Transfer`` (its debit hook releases expired holds)."""
        member = data.draw(st.sampled_from([m for m in self.members if m in self.keys]))
        event = self._event(
            Transfer,
            postings=(
                Posting(account=member, asset=Asset.PTS, amount=-points),
                Posting(account=POOL, asset=Asset.PTS, amount=points),
            ),
        )
        released = self._expired(member)
        if points > self._available(member, released):
            self._refused(OverdraftError, event, [self.keys[member]])
            return
        self._append(event, [self.keys[member]])
        self._release(released)
        self.posted[member] -= points
        self.posted[POOL] += points

    @rule(points=st.integers(1, 80), signers=st.integers(1, 2))
    def grant(self, points: int, signers: int) -> None:
        event = self._event(
            Grant, pool=POOL, beneficiary=BENEFICIARY, points=points, purpose="winter coal"
        )
        if signers < 2:
            size = self.ledger.size()
            with pytest.raises(LedgerError):
                self.ledger.append(event, COMMITTEE[:1])
            assert self.ledger.size() == size
            note("refused Grant: one committee signature")
            return
        if points > self.posted[POOL]:
            self._refused(OverdraftError, event, COMMITTEE)
            return
        self._append(event, COMMITTEE)
        self.posted[POOL] -= points
        self.posted[BENEFICIARY] += points

    @precondition(lambda self: any(m in self.keys for m in self.members))
    @rule(data=st.data())
    def revoke_key(self, data: st.DataObject) -> None:
        member = data.draw(st.sampled_from([m for m in self.members if m in self.keys]))
        key = self.keys.pop(member)
        self._append(self._event(RevokeKey, key_id=key.key_id, reason="lost"), [ADMIN])
        self.revoked[member] = key

    @precondition(lambda self: any(m in self.revoked for m in self.members))
    @rule(data=st.data())
    def use_revoked_key(self, data: st.DataObject) -> None:
        member = data.draw(st.sampled_from([m for m in self.members if m in self.revoked]))
        event = self._event(Donate, donor=member, pool=POOL, points=1)
        self._refused(KeyRevokedError, event, [self.revoked[member]])

    @precondition(lambda self: any(m not in self.keys for m in self.members))
    @rule(data=st.data())
    def rotate_key(self, data: st.DataObject) -> None:
        member = data.draw(st.sampled_from([m for m in self.members if m not in self.keys]))
        key = self._key(member)
        spec = KeySpec(public_key=key.public_key_b64, roles=(Role.MEMBER,), owner=member)
        # Every key of the member was revoked: the admin and the committee replace it.
        event = self._event(RecoverKey, key=spec, reason="new phone")
        self._append(event, [ADMIN, *COMMITTEE])
        self.keys[member] = key

    @rule(decision=st.sampled_from(["service", "rate", "treasurer"]), agreed=st.booleans())
    def committee_decision(self, decision: str, agreed: bool) -> None:
        """The catalogue, the settlement rate and treasurer keys: the admin alone is refused
        once the committee is seated (it is, from the start); with the committee, accepted.
        """
        signers = [ADMIN, *COMMITTEE] if agreed else [ADMIN]
        event: Event
        if decision == "service":
            event = self._event(
                DefineService,
                code=f"svc-{self.counter}",
                name="Reading to neighbours",
                points_per_unit=1_000,
                unit=ServiceUnit.HOUR,
                active_from=START.date(),
            )
        elif decision == "rate":
            event = self._event(SetSettlementRate, fen_per_point=1_000)
        else:
            holder = f"treasurer.{self.counter}"
            self._append(
                self._event(OpenAccount, account=holder, account_kind=AccountKind.MEMBER),
                [ADMIN],
            )
            key = seeded_signer(SEED, holder)
            spec = KeySpec(public_key=key.public_key_b64, roles=(Role.TREASURER,), owner=holder)
            event = self._event(RegisterKey, key=spec)
        if not agreed:
            self._refused(AuthorizationError, event, signers)
            return
        self._append(event, signers)

    @precondition(lambda self: not self.beneficiary_keyed)
    @rule(agreed=st.booleans())
    def key_the_beneficiary(self, agreed: bool) -> None:
        """The beneficiary's first key: once it holds points, the committee must agree."""
        card = seeded_signer(SEED, f"card/{BENEFICIARY}")
        spec = KeySpec(public_key=card.public_key_b64, roles=(Role.MEMBER,), owner=BENEFICIARY)
        event = self._event(RegisterKey, key=spec)
        signers = [ADMIN, *COMMITTEE] if agreed else [ADMIN]
        if self.posted[BENEFICIARY] != 0 and not agreed:
            self._refused(AuthorizationError, event, signers)
            return
        self._append(event, signers)
        self.beneficiary_keyed = True

    @precondition(lambda self: self.last is not None)
    @rule()
    def retry_last(self) -> None:
        assert self.last is not None
        event, signers = self.last
        size = self.ledger.size()
        try:
            result = self.ledger.append(event, signers)
        except KeyRevokedError:
            return  # the signer was revoked since; the entry is still stored once
        assert result.status == "exists"
        assert self.ledger.size() == size

    @rule(data=st.data())
    def checkpoint(self, data: st.DataObject) -> None:
        signed = self.ledger.checkpoint(LOG, self.ledger.path.with_suffix(".record"))
        assert signed.size == self.ledger.size()
        self.ledger.verify(trusted_checkpoint=signed.note)
        self.sampled.append(data.draw(st.integers(0, signed.size - 1)))
        vkey = self.ledger.log_vkey()
        for seq in self.sampled:
            receipt = self.ledger.receipt(seq)  # against the latest checkpoint
            assert receipt.checkpoint == signed.note
            verified = verify_receipt(receipt.to_json(), vkey)
            assert verified.seq == seq
        self.checkpoints += 1
        note("checkpoint signed, receipts verified")

    @rule()
    def reopen(self) -> None:
        self.ledger.close()
        self.ledger = Ledger.open(self.path, clock=self.clock)
        note("reopened")

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def balances_match_the_model(self) -> None:
        total = 0
        for account, expected in self.posted.items():
            balance = self.ledger.balance(account, Asset.PTS)
            assert balance.posted == expected, account
            assert balance.pending == self.pending.get(account, 0), account
            assert balance.available == balance.posted - balance.pending
            if account != "issuer":
                assert balance.available >= 0, account
            total += balance.posted
        assert total == 0  # conservation: every point came from the issuer
        cny = sum(self.ledger.balance(a, Asset.CNY).posted for a in self.posted)
        assert cny == 0
        (offer,) = [o for o in reports.offers(self.ledger) if o.offer == OFFER]
        assert offer.stock == self.stock >= 0

    @invariant()
    def verifies_every_tenth_step(self) -> None:
        self.steps += 1
        if self.steps % 10 == 0:
            self.ledger.verify()


@pytest.mark.ci_size
class QuickCommunityMachineTest(CommunityMachine.TestCase):  # type: ignore[misc, valid-type]
    settings = QUICK


@pytest.mark.ci_size
class CICommunityMachineTest(CommunityMachine.TestCase):  # type: ignore[misc, valid-type]
    settings = CI


@pytest.mark.soak
class SoakCommunityMachineTest(CommunityMachine.TestCase):  # type: ignore[misc, valid-type]
    settings = SOAK
