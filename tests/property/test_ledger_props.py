"""Properties of canonical bytes and of ledgers under random sequences of operations.

The ledger properties run on the memory store: they test the rules (handlers are pure
functions over a state view), and the conformance suite holds the SQLite store to the
same behaviour.
"""

from __future__ import annotations

import datetime as dt
import json
import string
from collections import defaultdict

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import World
from memory_world import memory_world, reopen
from points_ledger import (
    AccountKind,
    AlreadyReversedError,
    Asset,
    EntryConflictError,
    Event,
    InvalidEventError,
    KeySpec,
    LedgerError,
    OpenAccount,
    OverdraftError,
    Posting,
    RegisterKey,
    Reverse,
    RevokeKey,
    Role,
    Signer,
    Transfer,
)
from points_ledger.canonical import event_from_bytes, event_to_bytes

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LEDGER_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
MEMBERS = ("m1", "m2", "m3")

# -- strategies for events ---------------------------------------------------------------

event_ids = st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)
account_ids = st.from_regex(r"[a-z0-9._:-]{1,64}", fullmatch=True)
memos = st.text(st.characters(codec="utf-8").filter(str.isprintable), max_size=280)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31))
amounts = st.integers(min_value=-(10**12), max_value=10**12).filter(bool)


@st.composite
def balanced_postings(draw: st.DrawFn) -> tuple[Posting, ...]:
    postings: list[Posting] = []
    for asset in draw(st.lists(st.sampled_from(Asset), min_size=1, max_size=2, unique=True)):
        legs = draw(st.lists(st.tuples(account_ids, amounts), min_size=1, max_size=8))
        postings += [Posting(account=a, asset=asset, amount=n) for a, n in legs]
        total = sum(n for _, n in legs)
        if total == 0 or len(legs) == 1:
            # A single leg needs a partner; a zero total needs a non-zero pair.
            extra = draw(amounts)
            postings.append(Posting(account=draw(account_ids), asset=asset, amount=extra))
            total += extra
        if total != 0:
            postings.append(Posting(account=draw(account_ids), asset=asset, amount=-total))
    return tuple(draw(st.permutations(postings)))


transfers = st.builds(
    Transfer, id=event_ids, effective_at=dates, memo=memos, postings=balanced_postings()
)
key_specs = st.builds(
    KeySpec,
    public_key=st.binary(min_size=32, max_size=32).map(
        lambda seed: Signer.from_seed(seed).public_key_b64
    ),
    roles=st.lists(st.sampled_from(Role), min_size=1, max_size=6, unique=True).map(tuple),
    owner=st.none() | account_ids,
)
events: st.SearchStrategy[Event] = st.one_of(
    transfers,
    st.builds(
        OpenAccount,
        id=event_ids,
        effective_at=dates,
        memo=memos,
        account=account_ids,
        account_kind=st.sampled_from(AccountKind),
        grid=st.lists(
            st.text(string.ascii_letters + "街道社区 ", min_size=1, max_size=64), max_size=5
        ).map(tuple),
    ),
    st.builds(RegisterKey, id=event_ids, effective_at=dates, memo=memos, key=key_specs),
    st.builds(
        RevokeKey,
        id=event_ids,
        effective_at=dates,
        key_id=st.from_regex(r"[0-9a-f]{16}", fullmatch=True),
        reason=memos.filter(bool),
    ),
    st.builds(
        Reverse,
        id=event_ids,
        effective_at=dates,
        target_seq=st.integers(0, 2**40),
        reason=memos.filter(bool),
    ),
)


@SETTINGS
@given(events)
def test_canonical_round_trip(event: Event) -> None:
    data = event_to_bytes(event)
    back = event_from_bytes(data)
    assert back == event
    assert type(back) is type(event)
    assert event_to_bytes(back) == data
    # An independent oracle: for ASCII keys, integers and printable strings, RFC 8785 is
    # sorted keys, no whitespace, UTF-8 without escapes.
    oracle = json.dumps(
        json.loads(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert data == oracle


@SETTINGS
@given(transfers)
def test_transfer_postings_sum_to_zero_per_asset(event: Transfer) -> None:
    totals: defaultdict[Asset, int] = defaultdict(int)
    for posting in event.postings:
        totals[posting.asset] += posting.amount
        assert posting.amount != 0
    assert set(totals.values()) == {0}


# -- ledgers under random operations ----------------------------------------------------

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("issue"), st.sampled_from(MEMBERS), st.sampled_from(Asset), st.integers(1, 50)
        ),
        st.tuples(
            st.just("pay"),
            st.sampled_from(MEMBERS),
            st.sampled_from(MEMBERS),
            st.sampled_from(Asset),
            st.integers(1, 60),
        ),
        st.tuples(st.just("reverse"), st.integers(0, 10**6)),
        st.tuples(st.just("redeem"), st.sampled_from(MEMBERS), st.integers(1, 60)),
    ),
    min_size=1,
    max_size=25,
)


class Model:
    """Plain-Python balances: what the ledger must agree with."""

    def __init__(self) -> None:
        self.balances: defaultdict[tuple[str, Asset], int] = defaultdict(int)
        self.movements: dict[int, list[tuple[str, Asset, int]]] = {}
        self.reversed: set[int] = set()

    def fits(self, legs: list[tuple[str, Asset, int]]) -> bool:
        after = dict(self.balances)
        for account, asset, amount in legs:
            after[account, asset] = after.get((account, asset), 0) + amount
        return all(v >= 0 for (a, _), v in after.items() if a in MEMBERS)

    def apply(self, seq: int, legs: list[tuple[str, Asset, int]]) -> None:
        for account, asset, amount in legs:
            self.balances[account, asset] += amount
        self.movements[seq] = legs


def run_operation(world: World, model: Model, op: tuple[object, ...]) -> None:
    """Apply one operation to the ledger and the model; refusals must match the model."""
    ledger = world.ledger
    kind = op[0]
    if kind == "reverse":
        assert isinstance(op[1], int)
        if not model.movements:
            return
        seqs = sorted(model.movements)
        target = seqs[op[1] % len(seqs)]
        legs = [(a, s, -n) for a, s, n in model.movements[target]]
        event: Reverse | Transfer = world.reverse_event(target)
        if target in model.reversed:
            expected: type[LedgerError] | None = AlreadyReversedError
        elif not model.fits(legs):
            expected = OverdraftError
        else:
            expected = None
        signers = world.quorum
    else:
        source: object
        target_account: object
        if kind == "issue":
            _, member, asset, amount = op
            source, target_account = "issuer", member
            signers = [*world.quorum, *world.committee]
        elif kind == "pay":
            _, source, target_account, asset, amount = op
            signers = [world.members[str(source)]]
        else:  # redeem: a member gives points back to the issuer
            _, source, amount = op
            target_account, asset = "issuer", Asset.PTS
            signers = [world.members[str(source)]]
        assert isinstance(amount, int) and isinstance(asset, Asset)
        event = world.transfer_event(str(source), str(target_account), amount, asset=asset)
        legs = [(str(source), asset, -amount), (str(target_account), asset, amount)]
        if source == target_account:
            expected = InvalidEventError  # moves nothing, so nobody would have to sign
        else:
            expected = None if model.fits(legs) else OverdraftError
        target = None
    size = ledger.size()
    if expected is not None:
        try:
            ledger.append(event, signers)
        except expected:
            assert ledger.size() == size
            return
        raise AssertionError(f"{op} should have been refused with {expected.__name__}")
    entry = ledger.append(event, signers).entry
    assert entry.seq == size
    if isinstance(event, Reverse):
        assert target is not None
        model.reversed.add(target)
        model.balances.update({(a, s): model.balances[a, s] + n for a, s, n in legs})
    else:
        model.apply(entry.seq, legs)


def check_invariants(world: World, model: Model) -> None:
    ledger = world.ledger
    totals: defaultdict[Asset, int] = defaultdict(int)
    for entry in ledger.entries():
        per_entry: defaultdict[Asset, int] = defaultdict(int)
        for posting in entry.postings:
            per_entry[posting.asset] += posting.amount
        assert all(v == 0 for v in per_entry.values()), entry.seq
    for account in (*MEMBERS, "issuer", "external"):
        for asset in Asset:
            balance = ledger.balance(account, asset)
            totals[asset] += balance.posted
            if ledger.account(account).constrained:
                assert balance.available >= 0
                assert balance.posted == model.balances[account, asset]
            assert balance.posted == ledger.balance(account, asset, at_seq=ledger.size() - 1).posted
    assert all(v == 0 for v in totals.values())
    report = ledger.audit()
    assert report.ok, report.to_text()


def fresh_world() -> World:
    world = memory_world(MEMBERS)
    assert world.committee  # seated: it co-signs every issue
    return world


@LEDGER_SETTINGS
@given(operations)
def test_random_operations_keep_the_ledger_sound(ops: list[tuple[object, ...]]) -> None:
    world = fresh_world()
    try:
        model = Model()
        for op in ops:
            run_operation(world, model, op)
        check_invariants(world, model)
        reopen(world)
        check_invariants(world, model)
    finally:
        world.ledger.close()


@LEDGER_SETTINGS
@given(
    st.lists(st.tuples(st.sampled_from(MEMBERS), st.integers(1, 20)), min_size=1, max_size=6),
    st.data(),
)
def test_retries_are_idempotent_and_conflicts_refused(
    awards: list[tuple[str, int]], data: st.DataObject
) -> None:
    world = fresh_world()
    try:
        ledger = world.ledger
        minters = [*world.quorum, *world.committee]
        sent = []
        for i, (member, amount) in enumerate(awards):
            event = world.transfer_event("issuer", member, amount, event_id=f"award-{i}")
            sent.append((event, ledger.append(event, minters).entry))
        size = ledger.size()
        for event, entry in data.draw(st.permutations(sent)):
            # The same event, even with other (or no valid) signers, returns the entry.
            again = ledger.append(event, data.draw(st.sampled_from([world.quorum, []])))
            assert again.status == "exists"
            assert again.entry == entry
            changed = world.transfer_event(
                "issuer",
                data.draw(st.sampled_from(MEMBERS)),
                data.draw(st.integers(1, 20)),
                event_id=event.id,
                memo=data.draw(st.sampled_from(["", "retry"])),
            )
            if event_to_bytes(changed) == event_to_bytes(event):
                continue
            try:
                ledger.append(changed, minters)
            except EntryConflictError as e:
                assert e.seq == entry.seq
            else:
                raise AssertionError("same id with other content was accepted")
        assert ledger.size() == size
        assert ledger.audit().ok
    finally:
        ledger.close()
