"""Scenario 10: a model-based state machine over the public API.

Hypothesis drives opening accounts, awards, member spends, reversals, key revocation and
rotation, idempotent retries and close-and-reopen against a plain-Python model, and after
every step checks: conservation per asset, no negative constrained balance,
``available == posted - pending``, model balances equal ledger balances; every tenth step
it runs ``verify()``.

Sizes (measured on the 2-core CI machine, see docs/explanation/reliability.md): the
default suite leaves it out (``tests/stateful/`` covers the rules on the memory store);
CI runs ``QUICK`` and ``CI`` once (``pytest -m ci_size``); both are derandomized, so a
failure replays identically on every run. ``pytest -m soak`` runs ``SOAK`` with random
seeds. To replay a soak failure, hypothesis prints the falsifying steps and a
``@reproduce_failure(...)`` decorator; add that (or ``@seed(N)`` with the printed seed)
to ``SoakMachineTest``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from reliability_harness import DAY, award_event, seeded_signer, spend_event

from points_ledger import (
    AccountKind,
    Asset,
    Event,
    KeyRevokedError,
    KeySpec,
    Ledger,
    LedgerError,
    OpenAccount,
    OverdraftError,
    RecoverKey,
    RegisterKey,
    Reverse,
    RevokeKey,
    Role,
    Signer,
    UnknownKeyError,
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
    max_examples=500,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
ADMIN = seeded_signer(9, "admin")
LOG = seeded_signer(9, "log")
COMMITTEE = [seeded_signer(9, f"committee/{n}") for n in range(2)]


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="ledger-machine-"))
        self.path = self.dir / "m.db"
        self.ledger = Ledger.create(
            self.path, origin="model.example/x", log_key=LOG, admins=[ADMIN], threshold=1
        )
        self.ledger.append(
            OpenAccount(id="pool", effective_at=DAY, account="pool", account_kind=AccountKind.POOL),
            [ADMIN],
        )
        # A committee of two: with the admin, the quorum that replaces a lost key.
        for n, signer in enumerate(COMMITTEE):
            self.ledger.append(
                OpenAccount(
                    id=f"open-cm{n}",
                    effective_at=DAY,
                    account=f"cm{n}",
                    account_kind=AccountKind.MEMBER,
                ),
                [ADMIN],
            )
            spec = KeySpec(
                public_key=signer.public_key_b64, roles=(Role.COMMITTEE,), owner=f"cm{n}"
            )
            self.ledger.append(RegisterKey(id=f"key-cm{n}", effective_at=DAY, key=spec), [ADMIN])
        self.balances: dict[str, int] = {"issuer": 0, "pool": 0}
        self.members: list[str] = []
        self.keys: dict[str, Signer] = {}  # current key per member
        self.revoked: dict[str, Signer] = {}  # last revoked key per member
        self.generation: dict[str, int] = {}
        self.transfers: list[tuple[int, dict[str, int]]] = []  # reversible, not yet reversed
        self.last: tuple[Event, list[Signer]] | None = None
        self.counter = 0
        self.steps = 0

    def teardown(self) -> None:
        self.ledger.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def _append(self, event: Event, signers: list[Signer]) -> int:
        result = self.ledger.append(event, signers)
        assert result.created
        self.last = (event, signers)
        return result.entry.seq

    def _key(self, member: str) -> Signer:
        self.generation[member] = self.generation.get(member, 0) + 1
        return seeded_signer(9, f"{member}/{self.generation[member]}")

    @rule()
    def open_member(self) -> None:
        name = f"m{len(self.members)}"
        key = self._key(name)
        self.ledger.append_many(
            [
                (
                    OpenAccount(
                        id=self._id("open"),
                        effective_at=DAY,
                        account=name,
                        account_kind=AccountKind.MEMBER,
                    ),
                    [ADMIN],
                ),
                (
                    RegisterKey(
                        id=self._id("key"),
                        effective_at=DAY,
                        key=KeySpec(
                            public_key=key.public_key_b64, roles=(Role.MEMBER,), owner=name
                        ),
                    ),
                    [ADMIN],
                ),
            ]
        )
        self.members.append(name)
        self.keys[name] = key
        self.balances[name] = 0

    @precondition(lambda self: self.members)
    @rule(data=st.data(), points=st.integers(1, 50))
    def award(self, data: st.DataObject, points: int) -> None:
        member = data.draw(st.sampled_from(self.members))
        # New points: the admin records them and the committee agrees.
        seq = self._append(award_event(self._id("award"), member, points), [ADMIN, *COMMITTEE])
        self.balances[member] += points
        self.balances["issuer"] -= points
        self.transfers.append((seq, {"issuer": -points, member: points}))

    @precondition(lambda self: self.members)
    @rule(data=st.data(), points=st.integers(1, 80), use_revoked=st.booleans())
    def spend(self, data: st.DataObject, points: int, use_revoked: bool) -> None:
        member = data.draw(st.sampled_from(self.members))
        event = spend_event(self._id("spend"), member, points)
        if use_revoked and member in self.revoked:
            with pytest.raises(KeyRevokedError):
                self.ledger.append(event, [self.revoked[member]])
            return
        key = self.keys.get(member)
        if key is None:
            with pytest.raises(UnknownKeyError):
                self.ledger.append(event, [seeded_signer(9, "nobody")])
            return
        if points > self.balances[member]:
            with pytest.raises(OverdraftError):
                self.ledger.append(event, [key])
            return
        seq = self._append(event, [key])
        self.balances[member] -= points
        self.balances["pool"] += points
        self.transfers.append((seq, {member: -points, "pool": points}))

    @precondition(lambda self: self.transfers)
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.transfers) - 1))
        seq, moved = self.transfers[index]
        event = Reverse(id=self._id("rev"), effective_at=DAY, target_seq=seq, reason="mistake")
        after = {a: self.balances[a] - n for a, n in moved.items()}
        # Taking points back out of the pool is the committee's decision too.
        signers = [ADMIN, *COMMITTEE] if moved.get("pool", 0) > 0 else [ADMIN]
        if any(v < 0 for a, v in after.items() if a != "issuer"):
            with pytest.raises(OverdraftError):
                self.ledger.append(event, signers)
            return
        self._append(event, signers)
        self.balances.update(after)
        del self.transfers[index]

    @precondition(lambda self: any(m in self.keys for m in self.members))
    @rule(data=st.data())
    def revoke_key(self, data: st.DataObject) -> None:
        member = data.draw(st.sampled_from([m for m in self.members if m in self.keys]))
        key = self.keys.pop(member)
        self._append(
            RevokeKey(id=self._id("revoke"), effective_at=DAY, key_id=key.key_id, reason="lost"),
            [ADMIN],
        )
        self.revoked[member] = key

    @precondition(lambda self: any(m not in self.keys for m in self.members))
    @rule(data=st.data())
    def rotate_key(self, data: st.DataObject) -> None:
        member = data.draw(st.sampled_from([m for m in self.members if m not in self.keys]))
        key = self._key(member)
        self._append(
            RecoverKey(
                id=self._id("recover"),
                effective_at=DAY,
                key=KeySpec(public_key=key.public_key_b64, roles=(Role.MEMBER,), owner=member),
                reason="new phone",
            ),
            [ADMIN, *COMMITTEE],
        )
        self.keys[member] = key

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

    @rule()
    def reopen(self) -> None:
        self.ledger.close()
        self.ledger = Ledger.open(self.path)

    @invariant()
    def balances_match_the_model(self) -> None:
        total = 0
        for account, expected in self.balances.items():
            balance = self.ledger.balance(account, Asset.PTS)
            assert balance.posted == expected, account
            assert balance.available == balance.posted - balance.pending
            if account != "issuer":
                assert balance.available >= 0
            total += balance.posted
        assert total == 0  # conservation: every point came from the issuer

    @invariant()
    def verifies_every_tenth_step(self) -> None:
        self.steps += 1
        if self.steps % 10 == 0:
            self.ledger.verify()


@pytest.mark.ci_size
class QuickMachineTest(LedgerMachine.TestCase):  # type: ignore[misc, valid-type]
    settings = QUICK


@pytest.mark.ci_size
class CIMachineTest(LedgerMachine.TestCase):  # type: ignore[misc, valid-type]
    settings = CI


@pytest.mark.soak
class SoakMachineTest(LedgerMachine.TestCase):  # type: ignore[misc, valid-type]
    settings = SOAK


def test_refusals_are_ledger_errors() -> None:
    # The machine expects these refusals; they must all be LedgerErrors.
    for error in (KeyRevokedError, OverdraftError, UnknownKeyError):
        assert issubclass(error, LedgerError)
