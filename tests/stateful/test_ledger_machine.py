"""A rule-based state machine: the ledger against a plain-Python model of balances.

It tests the rules, on the memory store; the reliability model machine drives the same
operations on SQLite files (``tests/reliability/test_rel_model.py``).
"""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from conftest import World
from memory_world import memory_world, reopen
from points_ledger import (
    AlreadyReversedError,
    Asset,
    AuthorizationError,
    EntryConflictError,
    InvalidEventError,
    OverdraftError,
    Transfer,
)

MEMBERS = ("m1", "m2", "m3")
members = st.sampled_from(MEMBERS)
assets = st.sampled_from(Asset)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world: World = memory_world(MEMBERS)
        self.minters = [*self.world.quorum, *self.world.committee]
        self.balances: defaultdict[tuple[str, Asset], int] = defaultdict(int)
        self.movable: dict[int, list[tuple[str, Asset, int]]] = {}
        self.reversed: set[int] = set()
        self.last: tuple[Transfer, int] | None = None
        self.size = self.world.ledger.size()
        self.steps = 0

    # -- helpers ---------------------------------------------------------------------

    def _fits(self, legs: list[tuple[str, Asset, int]]) -> bool:
        after = dict(self.balances)
        for account, asset, amount in legs:
            after[account, asset] = after.get((account, asset), 0) + amount
        return all(v >= 0 for (account, _), v in after.items() if account in MEMBERS)

    def _commit(self, seq: int, legs: list[tuple[str, Asset, int]]) -> None:
        assert seq == self.size
        self.size += 1
        for account, asset, amount in legs:
            self.balances[account, asset] += amount

    # -- rules -----------------------------------------------------------------------

    @rule(member=members, asset=assets, amount=st.integers(1, 100))
    def issue(self, member: str, asset: Asset, amount: int) -> None:
        event = self.world.transfer_event("issuer", member, amount, asset=asset)
        entry = self.world.ledger.append(event, self.minters).entry
        legs = [("issuer", asset, -amount), (member, asset, amount)]
        self._commit(entry.seq, legs)
        self.movable[entry.seq] = legs
        self.last = (event, entry.seq)

    @rule(member=members, amount=st.integers(1, 100))
    def issue_without_the_committee(self, member: str, amount: int) -> None:
        event = self.world.transfer_event("issuer", member, amount)
        try:
            self.world.ledger.append(event, self.world.quorum)
        except AuthorizationError:
            return
        raise AssertionError("the admins alone minted points")

    @rule(source=members, recipient=members, asset=assets, amount=st.integers(1, 120))
    def pay(self, source: str, recipient: str, asset: Asset, amount: int) -> None:
        event = self.world.transfer_event(source, recipient, amount, asset=asset)
        legs = [(source, asset, -amount), (recipient, asset, amount)]
        signers = [self.world.members[source]]
        if source == recipient:
            try:
                self.world.ledger.append(event, signers)
            except InvalidEventError:
                return
            raise AssertionError("a transfer to the same account was accepted")
        if not self._fits(legs):
            try:
                self.world.ledger.append(event, signers)
            except OverdraftError as e:
                assert e.details["available"] == self.balances[source, asset]
                return
            raise AssertionError("an overdraft was accepted")
        entry = self.world.ledger.append(event, signers).entry
        self._commit(entry.seq, legs)
        self.movable[entry.seq] = legs
        self.last = (event, entry.seq)

    @rule(source=members, recipient=members, amount=st.integers(1, 50))
    def pay_with_someone_elses_key(self, source: str, recipient: str, amount: int) -> None:
        thief = next(m for m in MEMBERS if m != source)
        event = self.world.transfer_event(source, recipient, amount)
        try:
            self.world.ledger.append(event, [self.world.members[thief]])
        except (AuthorizationError, InvalidEventError):
            return
        raise AssertionError("a member spent another member's account")

    @precondition(lambda self: bool(self.movable))
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(sorted(self.movable)))
        legs = [(a, s, -n) for a, s, n in self.movable[target]]
        event = self.world.reverse_event(target)
        if target in self.reversed:
            try:
                self.world.ledger.append(event, self.world.quorum)
            except AlreadyReversedError:
                return
            raise AssertionError("an entry was reversed twice")
        if not self._fits(legs):
            try:
                self.world.ledger.append(event, self.world.quorum)
            except OverdraftError:
                return
            raise AssertionError("a reversal overdrew an account")
        entry = self.world.ledger.append(event, self.world.quorum).entry
        self._commit(entry.seq, legs)
        self.reversed.add(target)

    @precondition(lambda self: self.last is not None)
    @rule(amount=st.integers(1, 5))
    def retry_last(self, amount: int) -> None:
        assert self.last is not None
        event, seq = self.last
        again = self.world.ledger.append(event, self.world.quorum)
        assert again.status == "exists" and again.entry.seq == seq
        other = event.model_copy(update={"memo": f"retry {amount}"})
        try:
            self.world.ledger.append(other, self.world.quorum)
        except EntryConflictError as e:
            assert e.seq == seq
        else:
            raise AssertionError("same id with other content was accepted")

    @rule()
    def close_and_reopen(self) -> None:
        reopen(self.world)

    # -- invariants ------------------------------------------------------------------

    @invariant()
    def balances_match_the_model(self) -> None:
        self.steps += 1
        ledger = self.world.ledger
        assert ledger.size() == self.size
        totals: defaultdict[Asset, int] = defaultdict(int)
        for account in (*MEMBERS, "issuer"):
            for asset in Asset:
                balance = ledger.balance(account, asset)
                assert balance.posted == self.balances[account, asset]
                totals[asset] += balance.posted
                if account in MEMBERS:
                    assert balance.available >= 0
        assert set(totals.values()) <= {0}

    @invariant()
    def audit_passes_every_few_steps(self) -> None:
        if self.steps % 4 == 0:
            report = self.world.ledger.audit()
            assert report.ok, report.to_text()

    def teardown(self) -> None:
        try:
            self.world.ledger.verify()
        finally:
            self.world.ledger.close()


LedgerMachine.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerMachine = LedgerMachine.TestCase
