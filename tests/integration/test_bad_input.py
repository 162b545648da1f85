"""Bad input is refused with a specific LedgerError, and the file is left unchanged.

Also covers what good input must do: detached signatures, all-or-nothing batches,
historical balances, statements, and opening files that are not (current) ledgers.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from conftest import DAY, ORIGIN, World, dump_file, seeded_signer
from points_ledger import (
    AccountExistsError,
    AlreadyReversedError,
    Asset,
    AuthorizationError,
    EntryConflictError,
    Genesis,
    InvalidEventError,
    KeyRevokedError,
    KeySpec,
    Ledger,
    LedgerError,
    LimitExceededError,
    NotFoundError,
    OverdraftError,
    Posting,
    RegisterKey,
    RevokeKey,
    Role,
    SchemaVersionError,
    Signature,
    SignatureError,
    Signer,
    StorageError,
    Transfer,
    UnknownAccountError,
    UnknownKeyError,
)
from points_ledger.canonical import event_to_bytes, signing_input


@pytest.fixture
def funded(world: World) -> World:
    """The default world with m1 holding 100 PTS and 5,000 fen."""
    world.issue("m1", 100)
    world.issue("m1", 5000, asset=Asset.CNY)
    return world


def assert_refused(
    world: World, error: type[LedgerError], code: str, action: Callable[[], Any]
) -> LedgerError:
    """Run ``action``; it must raise ``error`` with ``code`` and leave the file as it was."""
    before = dump_file(world.path)
    size = world.ledger.size()
    with pytest.raises(error) as info:
        action()
    assert info.value.code == code
    assert type(info.value).code == code
    assert info.value.message
    assert dump_file(world.path) == before
    assert world.ledger.size() == size
    assert world.ledger.audit().ok
    return info.value


def revoke_event(world: World, key_id: str) -> RevokeKey:
    return RevokeKey(id=world.new_id("revoke"), effective_at=DAY, key_id=key_id, reason="lost")


# -- refusals ---------------------------------------------------------------------------


def test_unknown_account(funded: World) -> None:
    error = assert_refused(
        funded, UnknownAccountError, "unknown_account", lambda: funded.pay("m1", "ghost", 1)
    )
    assert "ghost" in str(error)
    assert_refused(funded, UnknownAccountError, "unknown_account", lambda: funded.issue("ghost", 1))


def test_unknown_asset(funded: World) -> None:
    assert_refused(
        funded,
        InvalidEventError,
        "invalid_event",
        lambda: funded.pay("m1", "m2", 1, asset="USD"),  # type: ignore[arg-type]
    )
    with pytest.raises(InvalidEventError):
        funded.ledger.balance("m1", "USD")
    with pytest.raises(InvalidEventError):
        funded.ledger.statement("m1", "usd")


def test_oversized_memo(funded: World) -> None:
    assert_refused(
        funded,
        InvalidEventError,
        "invalid_event",
        lambda: funded.issue("m1", 1, memo="x" * 281),
    )


def test_events_that_skipped_validation_are_refused(funded: World) -> None:
    """``model_construct`` skips pydantic; append must still refuse what audit would."""
    postings = funded.transfer_event("issuer", "m1", 5).postings
    bad_memo = Transfer.model_construct(
        id="raw-1", effective_at=DAY, memo="x" * 400, type="transfer", postings=postings
    )
    floats = Transfer.model_construct(
        id="raw-2",
        effective_at=DAY,
        memo="",
        type="transfer",
        postings=tuple(
            Posting.model_construct(account=p.account, asset=p.asset, amount=float(p.amount))  # type: ignore[arg-type]
            for p in postings
        ),
    )
    unbalanced = Transfer.model_construct(
        id="raw-3", effective_at=DAY, memo="", type="transfer", postings=postings[:1] * 2
    )
    for event in (bad_memo, floats, unbalanced):
        assert_refused(
            funded,
            InvalidEventError,
            "invalid_event",
            lambda event=event: funded.ledger.append(event, funded.quorum),  # type: ignore[misc]
        )


def test_not_an_event(funded: World) -> None:
    for thing in ({"type": "transfer"}, b"{}", None):
        assert_refused(
            funded,
            InvalidEventError,
            "invalid_event",
            lambda thing=thing: funded.ledger.append(thing, funded.quorum),  # type: ignore[misc]
        )
    event = funded.transfer_event("issuer", "m1", 1)
    assert_refused(
        funded,
        InvalidEventError,
        "invalid_event",
        lambda: funded.ledger.append(event, ["not a signer"]),  # type: ignore[list-item]
    )
    assert_refused(
        funded,
        InvalidEventError,
        "invalid_event",
        lambda: funded.ledger.append(event, [funded.admins[0], funded.admins[0]]),
    )


def test_unsigned_event(funded: World) -> None:
    event = funded.transfer_event("issuer", "m1", 1)
    error = assert_refused(
        funded, AuthorizationError, "not_authorized", lambda: funded.ledger.append(event)
    )
    assert "admin" in str(error)
    spend = funded.transfer_event("m1", "m2", 1)
    assert_refused(
        funded, AuthorizationError, "not_authorized", lambda: funded.ledger.append(spend, [])
    )


def test_admin_threshold_not_met(funded: World) -> None:
    event = funded.transfer_event("issuer", "m1", 1)
    error = assert_refused(
        funded,
        AuthorizationError,
        "not_authorized",
        lambda: funded.ledger.append(event, [funded.admins[0], *funded.committee]),
    )
    assert error.details["needed"] == 2 and error.details["got"] == 1
    # A member key is not an admin, however many of them sign.
    assert_refused(
        funded,
        AuthorizationError,
        "not_authorized",
        lambda: funded.ledger.append(
            event, [funded.admins[0], funded.members["m1"], *funded.committee]
        ),
    )
    opening = funded.open_account_event("m9")
    assert_refused(
        funded,
        AuthorizationError,
        "not_authorized",
        lambda: funded.ledger.append(opening, funded.admins[1:]),
    )


def test_wrongly_signed_event(funded: World) -> None:
    event = funded.transfer_event("issuer", "m1", 1)
    other = funded.transfer_event("issuer", "m1", 2)
    forged = [funded.ledger.sign(other, a) for a in funded.admins]
    error = assert_refused(
        funded, SignatureError, "bad_signature", lambda: funded.ledger.append(event, forged)
    )
    assert error.details["key_id"] in {a.key_id for a in funded.admins}
    # A signature attributed to the wrong registered key.
    swapped = [
        Signature(key_id=funded.admins[1].key_id, signature=funded.ledger.sign(event, a).signature)
        for a in funded.admins[:1]
    ] + [funded.ledger.sign(event, funded.admins[0])]
    assert_refused(
        funded, SignatureError, "bad_signature", lambda: funded.ledger.append(event, swapped)
    )
    # Garbage bytes of the right length.
    garbage = [Signature(key_id=a.key_id, signature=bytes(64)) for a in funded.admins]
    assert_refused(
        funded, SignatureError, "bad_signature", lambda: funded.ledger.append(event, garbage)
    )


def test_signature_by_unregistered_key(funded: World) -> None:
    stranger = Signer.generate()
    event = funded.transfer_event("issuer", "m1", 1)
    error = assert_refused(
        funded,
        UnknownKeyError,
        "unknown_key",
        lambda: funded.ledger.append(event, [*funded.quorum, stranger]),
    )
    assert stranger.key_id in str(error)
    # The log key is known to the ledger but may not sign events.
    assert_refused(
        funded,
        UnknownKeyError,
        "unknown_key",
        lambda: funded.ledger.append(event, [*funded.quorum, funded.log_key]),
    )


def test_signature_made_for_another_origin(funded: World) -> None:
    event = funded.transfer_event("issuer", "m1", 1)
    message = signing_input(
        "other.example/ledger", bytes.fromhex(funded.ledger.ledger_id), event_to_bytes(event)
    )
    replayed = [Signature(key_id=a.key_id, signature=a.sign(message)) for a in funded.admins]
    assert_refused(
        funded, SignatureError, "bad_signature", lambda: funded.ledger.append(event, replayed)
    )
    # Without the domain prefix it is not a valid signature either.
    bare = [
        Signature(key_id=a.key_id, signature=a.sign(event_to_bytes(event))) for a in funded.admins
    ]
    assert_refused(
        funded, SignatureError, "bad_signature", lambda: funded.ledger.append(event, bare)
    )


def test_revoked_member_key(funded: World) -> None:
    funded.pay("m1", "m2", 1)
    funded.ledger.append(revoke_event(funded, funded.members["m1"].key_id), funded.quorum)
    assert funded.ledger.key(funded.members["m1"].key_id).revoked_at_seq == funded.ledger.size() - 1
    error = assert_refused(
        funded, KeyRevokedError, "key_revoked", lambda: funded.pay("m1", "m2", 1)
    )
    assert error.details["key_id"] == funded.members["m1"].key_id
    assert_refused(
        funded,
        InvalidEventError,
        "invalid_event",
        lambda: funded.ledger.append(
            revoke_event(funded, funded.members["m1"].key_id), funded.quorum
        ),
    )
    assert_refused(
        funded,
        NotFoundError,
        "not_found",
        lambda: funded.ledger.append(revoke_event(funded, "0" * 16), funded.quorum),
    )


def test_revoked_admin_key_cannot_sign(make_world: Callable[..., World]) -> None:
    world = make_world(admins=3, threshold=2, members=("m1",))
    committee = world.committee
    world.ledger.append(revoke_event(world, world.admins[2].key_id), world.quorum)
    event = world.transfer_event("issuer", "m1", 1)
    assert_refused(
        world,
        KeyRevokedError,
        "key_revoked",
        lambda: world.ledger.append(event, [world.admins[0], world.admins[2], *committee]),
    )
    world.ledger.append(event, [*world.admins[:2], *committee])
    assert world.ledger.balance("m1").posted == 1


def test_overdraft(funded: World) -> None:
    error = assert_refused(
        funded, OverdraftError, "insufficient_balance", lambda: funded.pay("m1", "m2", 101)
    )
    assert error.details == {"account": "m1", "asset": "PTS", "available": 100, "needed": 101}
    assert_refused(
        funded, OverdraftError, "insufficient_balance", lambda: funded.pay("m2", "m1", 1)
    )
    assert_refused(
        funded,
        OverdraftError,
        "insufficient_balance",
        lambda: funded.pay("m1", "m2", 5001, asset=Asset.CNY),
    )
    funded.pay("m1", "m2", 100)
    assert funded.ledger.balance("m1").posted == 0


def test_member_key_cannot_spend_another_members_account(funded: World) -> None:
    event = funded.transfer_event("m1", "m2", 1)
    error = assert_refused(
        funded,
        AuthorizationError,
        "not_authorized",
        lambda: funded.ledger.append(event, [funded.members["m2"]]),
    )
    assert "m1" in str(error)
    # Admins cannot spend a member's points either.
    assert_refused(
        funded,
        AuthorizationError,
        "not_authorized",
        lambda: funded.ledger.append(event, funded.admins),
    )


def test_multi_account_transfer_needs_every_debited_owner(funded: World) -> None:
    funded.pay("m1", "m2", 10)
    event = Transfer(
        id="split",
        effective_at=DAY,
        postings=(
            Posting(account="m1", asset=Asset.PTS, amount=-3),
            Posting(account="m2", asset=Asset.PTS, amount=-3),
            Posting(account="issuer", asset=Asset.PTS, amount=6),
        ),
    )
    assert_refused(
        funded,
        AuthorizationError,
        "not_authorized",
        lambda: funded.ledger.append(event, [funded.members["m1"]]),
    )
    funded.ledger.append(event, [funded.members["m1"], funded.members["m2"]])


def test_transfer_that_debits_nobody_is_refused(funded: World) -> None:
    event = Transfer(
        id="self",
        effective_at=DAY,
        postings=(
            Posting(account="m1", asset=Asset.PTS, amount=-3),
            Posting(account="m1", asset=Asset.PTS, amount=3),
        ),
    )
    error = assert_refused(
        funded,
        InvalidEventError,
        "invalid_event",
        lambda: funded.ledger.append(event, [funded.members["m1"]]),
    )
    assert "moves nothing" in str(error)


def test_reversals(funded: World) -> None:
    seq = funded.pay("m1", "m2", 10).entry.seq
    reversal = funded.reverse(seq).entry
    assert [(p.account, p.amount) for p in reversal.postings] == [("m1", 10), ("m2", -10)]
    error = assert_refused(
        funded, AlreadyReversedError, "already_reversed", lambda: funded.reverse(seq)
    )
    assert error.details["reversed_by"] == reversal.seq
    # A reversal, a genesis, an account opening and a key registration are not reversible.
    for target in (reversal.seq, 0, 1, 2):
        assert_refused(funded, InvalidEventError, "invalid_event", partial(funded.reverse, target))
    assert_refused(funded, NotFoundError, "not_found", lambda: funded.reverse(funded.ledger.size()))
    # Reversals are admin business; a member cannot reverse their own payment.
    seq2 = funded.pay("m1", "m2", 1).entry.seq
    assert_refused(
        funded,
        AuthorizationError,
        "not_authorized",
        lambda: funded.ledger.append(funded.reverse_event(seq2), [funded.members["m2"]]),
    )


def test_reversal_that_would_overdraft_is_refused(funded: World) -> None:
    seq = funded.pay("m1", "m2", 10).entry.seq
    funded.pay("m2", "m1", 10)
    assert_refused(funded, OverdraftError, "insufficient_balance", lambda: funded.reverse(seq))


def test_revoking_the_last_admin(make_world: Callable[..., World]) -> None:
    world = make_world(admins=1, threshold=1, members=())
    error = assert_refused(
        world,
        LimitExceededError,
        "limit_exceeded",
        lambda: world.ledger.append(revoke_event(world, world.admins[0].key_id), world.quorum),
    )
    assert "threshold" in str(error)


def test_revoking_below_the_admin_threshold(world: World) -> None:
    assert_refused(
        world,
        LimitExceededError,
        "limit_exceeded",
        lambda: world.ledger.append(revoke_event(world, world.admins[1].key_id), world.quorum),
    )


def test_revocation_that_leaves_too_few_admin_people(make_world: Callable[..., World]) -> None:
    """Quorums count people; two admin keys of one person must not hold up a threshold."""
    world = make_world(admins=2, threshold=2, members=("alice",))
    spare = seeded_signer("alice/admin-2")
    spec = KeySpec(public_key=spare.public_key_b64, roles=(Role.ADMIN,), owner="alice")
    alice = world.members["alice"]
    world.ledger.append(
        RegisterKey(id="k-alice", effective_at=DAY, key=spec), [*world.quorum, alice]
    )
    # Admin people now: admin/0, admin/1, alice (3 people, 3 admin keys). Give alice a
    # second admin key; revoking admin/1 then leaves 3 keys but only 2 people.
    spare2 = seeded_signer("alice/admin-3")
    spec2 = KeySpec(public_key=spare2.public_key_b64, roles=(Role.ADMIN,), owner="alice")
    world.ledger.append(
        RegisterKey(id="k-alice-2", effective_at=DAY, key=spec2), [*world.quorum, alice]
    )
    world.ledger.append(revoke_event(world, world.admins[1].key_id), world.quorum)
    # Two people left (admin/0 and alice): revoking admin/0 would leave one person.
    assert_refused(
        world,
        LimitExceededError,
        "limit_exceeded",
        lambda: world.ledger.append(
            revoke_event(world, world.admins[0].key_id), [world.admins[0], spare]
        ),
    )


def test_duplicate_account_and_key(funded: World) -> None:
    assert_refused(
        funded,
        AccountExistsError,
        "account_exists",
        lambda: funded.ledger.append(funded.open_account_event("m1"), funded.quorum),
    )
    assert_refused(
        funded,
        AccountExistsError,
        "account_exists",
        lambda: funded.ledger.append(funded.open_account_event("issuer"), funded.quorum),
    )
    spec = KeySpec(public_key=funded.members["m1"].public_key_b64, roles=(Role.MEMBER,), owner="m2")
    assert_refused(
        funded,
        InvalidEventError,
        "invalid_event",
        lambda: funded.ledger.append(
            RegisterKey(id="dup", effective_at=DAY, key=spec), funded.quorum
        ),
    )


def test_key_registration_rules(funded: World) -> None:
    fresh = Signer.generate()
    ownerless_member = KeySpec(public_key=fresh.public_key_b64, roles=(Role.MEMBER,))
    assert_refused(
        funded,
        InvalidEventError,
        "invalid_event",
        lambda: funded.ledger.append(
            RegisterKey(id="k-x", effective_at=DAY, key=ownerless_member), funded.quorum
        ),
    )
    unknown_owner = KeySpec(public_key=fresh.public_key_b64, roles=(Role.MEMBER,), owner="zz")
    assert_refused(
        funded,
        UnknownAccountError,
        "unknown_account",
        lambda: funded.ledger.append(
            RegisterKey(id="k-y", effective_at=DAY, key=unknown_owner), funded.quorum
        ),
    )
    log_key = KeySpec(public_key=funded.log_key.public_key_b64, roles=(Role.ISSUER,))
    assert_refused(
        funded,
        InvalidEventError,
        "invalid_event",
        lambda: funded.ledger.append(
            RegisterKey(id="k-z", effective_at=DAY, key=log_key), funded.quorum
        ),
    )


def test_second_genesis_is_refused(funded: World) -> None:
    genesis = Genesis(
        id="genesis-2",
        effective_at=DAY,
        origin=ORIGIN,
        nonce="00" * 16,
        log_key=Signer.generate().public_key_b64,
        admins=(KeySpec(public_key=funded.admins[0].public_key_b64, roles=(Role.ADMIN,)),),
    )
    assert_refused(
        funded,
        InvalidEventError,
        "invalid_event",
        lambda: funded.ledger.append(genesis, funded.quorum),
    )


def test_same_id_other_content_conflicts(funded: World) -> None:
    first = funded.issue("m1", 5, event_id="award-1").entry
    error = assert_refused(
        funded,
        EntryConflictError,
        "entry_conflict",
        lambda: funded.issue("m1", 6, event_id="award-1"),
    )
    assert error.seq == first.seq
    # Other content is a conflict even when the other content is invalid in other ways.
    assert_refused(
        funded,
        EntryConflictError,
        "entry_conflict",
        lambda: funded.pay("m1", "m2", 10**6, event_id="award-1"),
    )
    again = funded.issue("m1", 5, event_id="award-1")
    assert again.status == "exists" and not again.created
    assert again.entry == first


# -- all or nothing ---------------------------------------------------------------------


def test_append_many_is_all_or_nothing(funded: World) -> None:
    minters = [*funded.quorum, *funded.committee]
    good = [
        (funded.transfer_event("issuer", "m2", 7), minters),
        (funded.transfer_event("m1", "m2", 3), [funded.members["m1"]]),
    ]
    bad_items: list[tuple[Transfer, list[Signer], type[LedgerError], str]] = [
        # m2 only has the 10 PTS the good items give it.
        (
            funded.transfer_event("m2", "m1", 11),
            [funded.members["m2"]],
            OverdraftError,
            "insufficient_balance",
        ),
        (
            funded.transfer_event("m2", "ghost", 1),
            [funded.members["m2"]],
            UnknownAccountError,
            "unknown_account",
        ),
        (
            funded.transfer_event("issuer", "m1", 1),
            [funded.admins[0], *funded.committee],
            AuthorizationError,
            "not_authorized",
        ),
        (
            funded.transfer_event("issuer", "m1", 1, event_id=good[0][0].id),
            minters,
            EntryConflictError,
            "entry_conflict",
        ),
    ]
    for event, signers, error, code in bad_items:
        batch = [*good, (event, signers)]
        assert_refused(
            funded,
            error,
            code,
            lambda batch=batch: funded.ledger.append_many(batch),  # type: ignore[misc]
        )
    results = funded.ledger.append_many(good)
    assert [r.status for r in results] == ["created", "created"]
    assert results[1].entry.seq == results[0].entry.seq + 1
    assert funded.ledger.balance("m2").posted == 10
    # Retrying a committed batch with one more item stores only the new item.
    spend = funded.transfer_event("m2", "m1", 10)
    again = funded.ledger.append_many([*good, (spend, [funded.members["m2"]])])
    assert [r.status for r in again] == ["exists", "exists", "created"]
    assert [r.entry for r in again[:2]] == [r.entry for r in results]
    assert funded.ledger.balance("m2").posted == 0


def test_append_many_sees_earlier_items_of_the_batch(world: World) -> None:
    results = world.ledger.append_many(
        [
            (world.transfer_event("issuer", "m1", 5), [*world.quorum, *world.committee]),
            (world.transfer_event("m1", "m2", 5), [world.members["m1"]]),
        ]
    )
    assert [r.created for r in results] == [True, True]
    assert world.ledger.balance("m1").posted == 0
    assert world.ledger.balance("m2").posted == 5
    assert world.ledger.audit().ok


def test_append_many_of_nothing_writes_nothing(world: World) -> None:
    before = dump_file(world.path)
    assert world.ledger.append_many([]) == []
    assert dump_file(world.path) == before


# -- good input ---------------------------------------------------------------------------


def test_detached_signatures_are_accepted(funded: World) -> None:
    event = funded.transfer_event("issuer", "m2", 4)
    minters = [*funded.admins, *funded.committee]
    via_ledger = [funded.ledger.sign(event, a) for a in minters]
    result = funded.ledger.append(event, via_ledger)
    assert result.created
    assert sorted(s.key_id for s in result.entry.signatures) == sorted(a.key_id for a in minters)
    spend = funded.transfer_event("m2", "m1", 1)
    message = funded.ledger.signing_input(spend)
    assert message == signing_input(
        ORIGIN, bytes.fromhex(funded.ledger.ledger_id), event_to_bytes(spend)
    )
    elsewhere = funded.members["m2"]
    detached = Signature(key_id=elsewhere.key_id, signature=elsewhere.sign(message))
    assert funded.ledger.append(spend, [detached]).created
    # Mixed: one admin signs here, the other sent a detached signature.
    mixed = funded.transfer_event("issuer", "m2", 1)
    assert funded.ledger.append(
        mixed,
        [funded.admins[0], funded.ledger.sign(mixed, funded.admins[1]), *funded.committee],
    ).created
    assert funded.ledger.balance("m2").posted == 4
    assert funded.ledger.audit().ok


def test_entries_are_signed_sorted_and_chained(funded: World) -> None:
    entries = list(funded.ledger.entries())
    assert [e.seq for e in entries] == list(range(funded.ledger.size()))
    for previous, entry in itertools.pairwise(entries):
        assert entry.prev_hash == previous.hash
        assert entry.recorded_at >= previous.recorded_at
        keys = [s.key_id for s in entry.signatures]
        assert keys == sorted(keys)
    assert entries[0].prev_hash == bytes(32)
    assert funded.ledger.entry(3) == entries[3]
    with pytest.raises(NotFoundError):
        funded.ledger.entry(len(entries))
    with pytest.raises(InvalidEventError):
        funded.ledger.entry(-1)


def test_balances_at_seq_and_at_date(world: World) -> None:
    day1, day2, day3 = DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)
    s1 = world.issue("m1", 50, effective_at=day1).entry.seq
    world.clock.advance(days=1)
    s2 = world.pay("m1", "m2", 20, effective_at=day2).entry.seq
    world.clock.advance(days=1)
    s3 = world.issue("m1", 5, effective_at=day3).entry.seq
    ledger = world.ledger
    assert ledger.balance("m1", at_seq=s1 - 1).posted == 0
    assert ledger.balance("m1", at_seq=s1).posted == 50
    assert ledger.balance("m1", at_seq=s2).posted == 30
    assert ledger.balance("m1", Asset.PTS, at_seq=s3).posted == 35
    assert ledger.balance("m2", at_seq=s2 - 1).posted == 0
    assert ledger.balance("m1", at_date=day1 - dt.timedelta(days=1)).posted == 0
    assert ledger.balance("m1", at_date=day1).posted == 50
    assert ledger.balance("m1", at_date=day2).posted == 30
    assert ledger.balance("m1", at_date=day3).posted == 35
    assert ledger.balance("m1", at_seq=s3, at_date=day2).posted == 30
    assert ledger.balance("m1", at_seq=s1, at_date=day3).posted == 50
    assert ledger.balance("issuer", at_date=day3).posted == -55
    current = ledger.balance("m1")
    assert (current.posted, current.pending, current.available) == (35, 0, 35)
    assert ledger.balance("m2", Asset.CNY).posted == 0
    with pytest.raises(NotFoundError):
        ledger.balance("ghost")
    with pytest.raises(InvalidEventError):
        ledger.balance("m1", at_seq=-1)
    with pytest.raises(InvalidEventError):
        ledger.balance("m1", at_date="2024-05-01")  # type: ignore[arg-type]
    size = ledger.size()
    assert ledger.balance("m1", at_seq=size - 1).posted == 35
    with pytest.raises(NotFoundError, match=f"there is no entry {size} yet"):
        ledger.balance("m1", at_seq=size)  # not the current balance in disguise


def test_statement_running_balance(world: World) -> None:
    world.issue("m1", 50, memo="cleaned the park")
    world.pay("m1", "m2", 20)
    world.issue("m1", 5, asset=Asset.CNY)
    world.pay("m1", "m2", 7)
    reversed_seq = world.pay("m1", "m2", 3).entry.seq
    world.reverse(reversed_seq)
    lines = world.ledger.statement("m1")
    assert [line.amount for line in lines] == [50, -20, -7, -3, 3]
    assert [line.balance for line in lines] == [50, 30, 23, 20, 23]
    assert lines[0].memo == "cleaned the park"
    assert lines[-1].kind == "reverse"
    assert [line.seq for line in lines] == sorted(line.seq for line in lines)
    assert lines[-1].balance == world.ledger.balance("m1").posted
    # Starting mid-way carries the balance before start_seq.
    tail = world.ledger.statement("m1", start_seq=lines[2].seq, limit=2)
    assert [(line.amount, line.balance) for line in tail] == [(-7, 23), (-3, 20)]
    assert world.ledger.statement("m1", Asset.CNY)[0].balance == 5
    assert world.ledger.statement("m2", start_seq=10**6) == []
    for limit in (0, 10_001):
        with pytest.raises(InvalidEventError):
            world.ledger.statement("m1", limit=limit)


# -- opening files ------------------------------------------------------------------------


def test_open_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as info:
        Ledger.open(tmp_path / "missing.db")
    assert info.value.code == "storage_error"
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(StorageError):
        Ledger.open(tmp_path)


@pytest.mark.parametrize("content", [b"", b"hello, this is not a database" * 100, bytes(4096)])
def test_open_non_sqlite_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(StorageError):
        Ledger.open(path)
    assert path.read_bytes() == content


def test_open_other_sqlite_database_leaves_it_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('hi')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StorageError, match="not a points ledger"):
        Ledger.open(path)
    assert path.read_bytes() == before


def test_create_refuses_existing_file(world: World) -> None:
    before = dump_file(world.path)
    with pytest.raises(StorageError):
        Ledger.create(
            world.path, origin=ORIGIN, log_key=world.log_key, admins=world.admins, threshold=1
        )
    assert dump_file(world.path) == before


def test_create_with_bad_genesis_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.db"
    admin = seeded_signer("a")
    with pytest.raises(InvalidEventError):
        Ledger.create(
            path, origin="Bad Origin", log_key=seeded_signer("l"), admins=[admin], threshold=1
        )
    with pytest.raises(InvalidEventError):
        Ledger.create(path, origin=ORIGIN, log_key=admin, admins=[admin], threshold=1)
    with pytest.raises(InvalidEventError):
        Ledger.create(path, origin=ORIGIN, log_key=seeded_signer("l"), admins=[admin], threshold=2)
    assert list(tmp_path.iterdir()) == []


def test_unknown_newer_migration_is_refused(world: World) -> None:
    world.ledger.close()
    conn = sqlite3.connect(str(world.path))
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('points_ledger', 'm999_from_the_future', '2030-01-01')"
    )
    conn.commit()
    conn.close()
    before = dump_file(world.path)
    with pytest.raises(SchemaVersionError) as info:
        Ledger.open(world.path)
    assert info.value.code == "schema_version"
    assert "m999_from_the_future" in str(info.value)
    assert dump_file(world.path) == before


def test_reopen_keeps_everything(funded: World) -> None:
    before = list(funded.ledger.entries())
    ledger = funded.reopen()
    assert list(ledger.entries()) == before
    assert ledger.balance("m1").posted == 100
    assert ledger.origin == ORIGIN
    ledger.verify()


def test_copy_of_a_ledger_verifies(funded: World, tmp_path: Path) -> None:
    size = funded.ledger.size()
    funded.ledger.close()
    copy = tmp_path / "copy.db"
    shutil.copy(funded.path, copy)
    with Ledger.open(copy) as ledger:
        ledger.verify()
        assert ledger.size() == size


def test_ledger_time_never_decreases_and_needs_a_time_zone(funded: World) -> None:
    first = funded.issue("m1", 1).entry
    funded.clock.advance(days=-3)
    second = funded.issue("m1", 1).entry
    assert second.recorded_at == first.recorded_at
    funded.clock.advance(days=4, microseconds=7)
    third = funded.issue("m1", 1).entry
    assert third.recorded_at == funded.clock.now
    funded.ledger.verify()
    funded.clock.now = funded.clock.now.replace(tzinfo=None)
    assert_refused(funded, InvalidEventError, "invalid_event", lambda: funded.issue("m1", 1))
