"""Random interleavings of awards, holds, confirms, voids, expiries, donations, grants and
settlements, checked step by step against a small model of the community rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

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
    KeySpec,
    Ledger,
    LedgerError,
    LimitExceededError,
    ListOffer,
    OpenAccount,
    OutOfStockError,
    OverdraftError,
    Posting,
    RegisterKey,
    Role,
    ServiceUnit,
    SetSettlementRate,
    SettlePartner,
    Signer,
    Transfer,
    VoidRedemption,
    reports,
)
from points_ledger.domain.alliance import HOLDS_PER_MEMBER_MAX
from points_ledger.store.memory import MemoryStore

SPENDERS = ("m0", "m1", "b0")
COMMITTEE = ("c0", "c1")
MEMBERS = ("m0", "m1")
OFFERS = {"o0": ("p0", 7, 3), "o1": ("p1", 11, 2)}  # offer: (partner, price, stock)
RATE = 3
FUND_FEN = 10**9
PPU = 5


def _signer(name: str) -> Signer:
    return Signer.from_seed(name.encode().ljust(32, b"#"))


@dataclass
class Hold:
    member: str
    offer: str
    quantity: int
    points: int
    expires_us: int
    status: str = "pending"  # pending | confirmed | voided | expired
    settled: bool = False


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2023, 6, 1, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def us(self) -> int:
        return (self.now - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


class CommunityMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.n = 0
        self.committee_people: set[str | None] = set()
        self.keys = {name: _signer(name) for name in ("admin", "issuer", "c0", "c1", "treasurer")}
        # The rules are what this machine tests: it runs on the memory store (the
        # reliability community machine drives the same flows on SQLite files).
        self.ledger = Ledger.create(
            MemoryStore(),
            origin="test.example/machine",
            log_key=_signer("log"),
            admins=[self.keys["admin"]],
            threshold=1,
            clock=self.clock,
        )
        kinds = {a: AccountKind.MEMBER for a in MEMBERS} | {
            "b0": AccountKind.BENEFICIARY,
            "p0": AccountKind.PARTNER,
            "p1": AccountKind.PARTNER,
            "pool": AccountKind.POOL,
            "fund": AccountKind.FUND,
        }
        # The office-holders' own accounts: issuer, committee and treasurer keys name them.
        kinds |= {f"own.{name}": AccountKind.MEMBER for name in ("issuer", "c0", "c1", "treasurer")}
        for account, kind in kinds.items():
            self.ok(OpenAccount, "admin", account=account, account_kind=kind)
        for member in SPENDERS:
            self.register(member, (Role.MEMBER,), member)
        self.register("issuer", (Role.ISSUER,), "own.issuer")
        self.register("c0", (Role.COMMITTEE,), "own.c0")
        self.register("c1", (Role.COMMITTEE,), "own.c1")
        # The committee is seated: it agrees to the treasurer key and the catalogue.
        self.register("treasurer", (Role.TREASURER,), "own.treasurer")
        self.ok(
            DefineService,
            "admin",
            *COMMITTEE,
            code="svc",
            name="Service",
            points_per_unit=PPU,
            unit=ServiceUnit.VISIT,
            active_from=dt.date(2020, 1, 1),
        )
        for partner in ("p0", "p1"):
            self.keys[partner] = _signer(partner)
            self.ok(
                JoinAlliance,
                "admin",
                partner=partner,
                name=partner,
                public_key=self.keys[partner].public_key_b64,
            )
        for offer, (partner, price, stock) in OFFERS.items():
            self.ok(
                ListOffer,
                partner,
                offer=offer,
                partner=partner,
                item=offer,
                price_points=price,
                stock=stock,
            )
        self.ok(SetSettlementRate, "admin", *COMMITTEE, fen_per_point=RATE)
        self.ok(
            Transfer,
            "admin",
            "c0",
            "c1",  # money brought in: the admin records it, the committee agrees
            postings=(
                Posting(account="external", asset=Asset.CNY, amount=-FUND_FEN),
                Posting(account="fund", asset=Asset.CNY, amount=FUND_FEN),
            ),
        )
        # The model.
        self.posted: dict[str, int] = {a: 0 for a in (*kinds, "issuer")}
        self.stock = {offer: stock for offer, (_, _, stock) in OFFERS.items()}
        self.holds: dict[str, Hold] = {}
        self.awarded = 0
        self.settled_points = 0
        self.fen_paid = 0
        self.rate = RATE

    def register(self, name: str, roles: tuple[Role, ...], owner: str | None) -> None:
        """Register a key (the first of its account): the admin signs, and once the
        committee is seated (both its people hold keys) it agrees to committee and
        treasurer keys."""
        seated = len(self.committee_people) >= len(COMMITTEE)
        agreed = seated and bool({Role.COMMITTEE, Role.TREASURER} & set(roles))
        self.keys[name] = _signer(name)
        spec = KeySpec(public_key=self.keys[name].public_key_b64, roles=roles, owner=owner)
        self.ok(RegisterKey, "admin", *(COMMITTEE if agreed else ()), key=spec)
        if Role.COMMITTEE in roles:
            self.committee_people.add(owner)

    def append(self, cls: type[Event], *signers: str, **fields: Any) -> Any:
        self.n += 1
        event = cls(id=f"e{self.n}", effective_at=self.clock.now.date(), **fields)
        return self.ledger.append(event, [self.keys[s] for s in signers])

    def ok(self, cls: type[Event], *signers: str, **fields: Any) -> Any:
        return self.append(cls, *signers, **fields)

    def refused(
        self, error: type[LedgerError], cls: type[Event], *signers: str, **fields: Any
    ) -> None:
        size = self.ledger.size()
        try:
            self.append(cls, *signers, **fields)
        except LedgerError as e:
            assert type(e) is error, (e, error)
        else:
            raise AssertionError(f"{cls.__name__} should have raised {error.__name__}")
        assert self.ledger.size() == size

    # -- model helpers -------------------------------------------------------------

    def pending(self, member: str) -> int:
        return sum(
            h.points for h in self.holds.values() if h.member == member and h.status == "pending"
        )

    def expired_open(self, member: str | None, offer: str | None) -> list[Hold]:
        now = self.clock.us()
        return [
            h
            for h in self.holds.values()
            if h.status == "pending"
            and now >= h.expires_us
            and (h.member == member or h.offer == offer)
        ]

    def release(self, holds: list[Hold]) -> None:
        for h in holds:
            h.status = "expired"
            self.stock[h.offer] += h.quantity

    # -- rules ----------------------------------------------------------------------

    @rule(member=st.sampled_from(MEMBERS), quantity=st.integers(1, 8))
    def award(self, member: str, quantity: int) -> None:
        self.ok(
            AwardPoints,
            "issuer",
            volunteer=member,
            service="svc",
            quantity=quantity,
            grid_cell="g1",
            task_ref=f"t{self.n}",
        )
        self.posted[member] += quantity * PPU
        self.posted["issuer"] -= quantity * PPU
        self.awarded += quantity * PPU

    @rule(
        member=st.sampled_from(SPENDERS),
        offer=st.sampled_from(sorted(OFFERS)),
        quantity=st.integers(1, 2),
        hours=st.integers(1, 48),
    )
    def hold(self, member: str, offer: str, quantity: int, hours: int) -> None:
        points = quantity * OFFERS[offer][1]
        released = self.expired_open(member, offer)
        stock = self.stock[offer] + sum(h.quantity for h in released if h.offer == offer)
        open_count = sum(
            1 for h in self.holds.values() if h.member == member and h.status == "pending"
        ) - sum(1 for h in released if h.member == member)
        available = self.posted[member] - self.pending(member)
        available += sum(h.points for h in released if h.member == member)
        fields = {"member": member, "offer": offer, "quantity": quantity, "points": points}
        fields["expires_in_hours"] = hours
        if quantity > stock:
            self.refused(OutOfStockError, HoldRedemption, member, **fields)
        elif open_count >= HOLDS_PER_MEMBER_MAX:
            self.refused(LimitExceededError, HoldRedemption, member, **fields)
        elif available < points:
            self.refused(OverdraftError, HoldRedemption, member, **fields)
        else:
            result = self.ok(HoldRedemption, member, **fields)
            self.release(released)
            self.stock[offer] -= quantity
            seq = result.entry.seq
            expires = self.clock.us() + hours * 3_600_000_000
            self.holds[f"V{seq:08d}"] = Hold(member, offer, quantity, points, expires)

    @precondition(lambda self: bool(self.holds))
    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        voucher = data.draw(st.sampled_from(sorted(self.holds)))
        h = self.holds[voucher]
        partner = OFFERS[h.offer][0]
        if h.status in ("pending", "expired") and self.clock.us() >= h.expires_us:
            self.refused(HoldExpiredError, ConfirmRedemption, partner, voucher=voucher)
        elif h.status != "pending":
            self.refused(HoldClosedError, ConfirmRedemption, partner, voucher=voucher)
        else:
            self.ok(ConfirmRedemption, partner, voucher=voucher)
            h.status = "confirmed"
            self.posted[h.member] -= h.points
            self.posted[partner] += h.points

    @precondition(lambda self: bool(self.holds))
    @rule(data=st.data(), by=st.sampled_from(["member", "partner", "admin"]))
    def void(self, data: st.DataObject, by: str) -> None:
        voucher = data.draw(st.sampled_from(sorted(self.holds)))
        h = self.holds[voucher]
        signer = {"member": h.member, "partner": OFFERS[h.offer][0], "admin": "admin"}[by]
        if h.status != "pending":
            self.refused(HoldClosedError, VoidRedemption, signer, voucher=voucher, reason="x")
        else:
            self.ok(VoidRedemption, signer, voucher=voucher, reason="x")
            h.status = "voided" if self.clock.us() < h.expires_us else "expired"
            self.stock[h.offer] += h.quantity

    @rule(hours=st.integers(1, 60))
    def advance_clock(self, hours: int) -> None:
        self.clock.now += dt.timedelta(hours=hours)

    @rule(member=st.sampled_from(MEMBERS), points=st.integers(1, 40))
    def donate(self, member: str, points: int) -> None:
        released = self.expired_open(member, None)
        available = self.posted[member] - self.pending(member) + sum(h.points for h in released)
        fields = {"donor": member, "pool": "pool", "points": points}
        if available < points:
            self.refused(OverdraftError, Donate, member, **fields)
        else:
            self.ok(Donate, member, **fields)
            self.release(released)
            self.posted[member] -= points
            self.posted["pool"] += points

    @rule(points=st.integers(1, 40))
    def grant(self, points: int) -> None:
        fields = {"pool": "pool", "beneficiary": "b0", "points": points, "purpose": "care"}
        if self.posted["pool"] < points:
            self.refused(OverdraftError, Grant, "c0", "c1", **fields)
        else:
            self.ok(Grant, "c0", "c1", **fields)
            self.posted["pool"] -= points
            self.posted["b0"] += points

    @rule(partner=st.sampled_from(["p0", "p1"]))
    def settle(self, partner: str) -> None:
        due = [
            h
            for h in self.holds.values()
            if h.status == "confirmed" and not h.settled and OFFERS[h.offer][0] == partner
        ]
        fields = {
            "partner": partner,
            "fund": "fund",
            "period_from": dt.date(2023, 1, 1),
            "period_to": dt.date(2030, 12, 31),
        }
        if not due:
            from points_ledger import InvalidEventError

            self.refused(InvalidEventError, SettlePartner, "treasurer", **fields)
            return
        result = self.ok(SettlePartner, "treasurer", **fields)
        points = sum(h.points for h in due)
        retired = [p for p in result.entry.postings if p.account == "issuer"]
        assert [p.amount for p in retired] == [points]
        for h in due:
            h.settled = True
        self.settled_points += points
        self.fen_paid += points * self.rate
        self.posted[partner] -= points
        self.posted["issuer"] += points

    @rule(rate=st.integers(1, 9), agreed=st.booleans())
    def set_rate(self, rate: int, agreed: bool) -> None:
        """The price of a point in money: the admin alone is refused once seated."""
        if not agreed:
            self.refused(AuthorizationError, SetSettlementRate, "admin", fen_per_point=rate)
            return
        self.ok(SetSettlementRate, "admin", *COMMITTEE, fen_per_point=rate)
        self.rate = rate

    @rule(points=st.integers(1, 500), agreed=st.booleans())
    def define_service(self, points: int, agreed: bool) -> None:
        """A new catalogue entry: the admin alone is refused once the committee is seated."""
        fields = {
            "code": f"svc{self.n}",
            "name": "Another service",
            "points_per_unit": points,
            "unit": ServiceUnit.HOUR,
            "active_from": dt.date(2020, 1, 1),
        }
        if not agreed:
            self.refused(AuthorizationError, DefineService, "admin", **fields)
            return
        self.ok(DefineService, "admin", *COMMITTEE, **fields)

    @rule(agreed=st.booleans())
    def appoint_treasurer(self, agreed: bool) -> None:
        """A further treasurer (own account, first key): the seated committee must agree."""
        name = f"treasurer{self.n}"
        self.ok(OpenAccount, "admin", account=f"own.{name}", account_kind=AccountKind.MEMBER)
        self.posted[f"own.{name}"] = 0
        spec = KeySpec(
            public_key=_signer(name).public_key_b64, roles=(Role.TREASURER,), owner=f"own.{name}"
        )
        if not agreed:
            self.refused(AuthorizationError, RegisterKey, "admin", key=spec)
            return
        self.ok(RegisterKey, "admin", *COMMITTEE, key=spec)

    # -- invariants -----------------------------------------------------------------

    @invariant()
    def balances_match_the_model(self) -> None:
        total = 0
        for account, posted in self.posted.items():
            balance = self.ledger.balance(account)
            assert balance.posted == posted, account
            assert balance.pending == self.pending(account), account
            assert balance.available == balance.posted - balance.pending
            if account != "issuer":
                assert balance.pending >= 0 and balance.available >= 0
            total += balance.posted
        assert total == 0  # points are conserved
        assert self.posted["issuer"] == -self.awarded + self.settled_points
        assert self.ledger.balance("fund", Asset.CNY).posted == FUND_FEN - self.fen_paid

    @invariant()
    def stock_matches_the_model(self) -> None:
        stock = {row.offer: row.stock for row in reports.offers(self.ledger)}
        assert stock == self.stock
        assert all(stock >= 0 for stock in self.stock.values())

    def teardown(self) -> None:
        try:
            assert self.ledger.audit().ok
        finally:
            self.ledger.close()


CommunityMachine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=40, deadline=None
)
TestCommunityMachine = CommunityMachine.TestCase
