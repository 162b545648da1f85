"""The checks every entry passes, shared by ``append`` and by ``verify``'s replay.

Given an event, its signatures and the state just before it, :func:`authorize_and_plan`
verifies each signature against a key valid at that seq, derives the plan with the
event's handler, checks the signing policy, and checks that no constrained balance
would go negative. The append path and the audit replay call the same function, so a
ledger can only contain what its own rules accept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from points_ledger.canonical import genesis_signing_input, signing_input
from points_ledger.domain.admin import genesis_keys
from points_ledger.domain.state import (
    DeriveContext,
    PendingDelta,
    Plan,
    StateView,
    handler_for,
)
from points_ledger.errors import (
    EffectiveDateError,
    EventExpiredError,
    IntegrityError,
    InvalidEventError,
    KeyRevokedError,
    LimitExceededError,
    OverdraftError,
    SignatureError,
    UnknownAccountError,
    UnknownKeyError,
)
from points_ledger.keys import verify_signature
from points_ledger.models.common import BALANCE_ABS_MAX, Asset
from points_ledger.models.entries import KeyRecord, Signature
from points_ledger.models.events import BACKDATE_DAYS_DEFAULT, Event, Genesis, Posting

__all__ = [
    "POSTINGS_MAX",
    "SIGNATURES_MAX",
    "Preverified",
    "authorize_and_plan",
    "check_effective_at",
    "check_zero_sum",
    "keys_checked_ahead",
    "message_for",
    "verified_keys",
]

Preverified = Mapping[str, bytes]
"""For one entry: key id -> the public key whose signature over the entry's signing input
was already checked (so the check inside the write transaction can be skipped)."""

SIGNATURES_MAX: Final = 16
POSTINGS_MAX: Final = 10_000


def verified_keys(
    message: bytes,
    signatures: Sequence[Signature],
    public_key_of: Callable[[str], bytes | None],
) -> dict[str, bytes]:
    """Check the Ed25519 arithmetic of signatures ahead of the rules.

    Returns key id -> public key for each signature that verifies over ``message`` with
    the public key ``public_key_of`` gives for its key id. Nothing is decided here about
    which key may sign: :func:`authorize_and_plan` uses a result only when the key it
    finds in the state has exactly that public key, and checks anything else itself.
    """
    result: dict[str, bytes] = {}
    for signature in signatures:
        public_key = public_key_of(signature.key_id)
        if public_key is not None and verify_signature(public_key, message, signature.signature):
            result[signature.key_id] = public_key
    return result


def keys_checked_ahead(
    signatures: Sequence[Signature], valid: Sequence[bool], public_keys: Mapping[str, bytes]
) -> dict[str, bytes]:
    """``preverified`` for :func:`authorize_and_plan` from checks done elsewhere.

    ``valid[i]`` says whether ``signatures[i]`` verified with ``public_keys[key_id]``. A
    key id counts only if every signature under it was valid; results that do not line
    up with the signatures count for nothing (everything is then checked in line).
    """
    if len(valid) != len(signatures):
        return {}
    all_valid: dict[str, bool] = {}
    for signature, ok in zip(signatures, valid, strict=True):
        all_valid[signature.key_id] = all_valid.get(signature.key_id, True) and ok
    return {key_id: public_keys[key_id] for key_id, ok in all_valid.items() if ok}


def message_for(event: Event, event_bytes: bytes, state: StateView) -> bytes:
    """The signing input of ``event`` on the ledger whose state is ``state``.

    A genesis event binds its own origin; every other event binds the origin and the
    ledger id fixed by the genesis entry.

    Raises:
        InvalidEventError: if the ledger has no genesis entry yet and ``event`` is not one.
    """
    if isinstance(event, Genesis):
        return genesis_signing_input(event.origin, event_bytes)
    config = state.config()
    if config is None:
        raise InvalidEventError("the first entry of a ledger must be its genesis event")
    return signing_input(config.origin, config.ledger_id, event_bytes)


def authorize_and_plan(
    event: Event,
    event_bytes: bytes,
    signatures: Sequence[Signature],
    state: StateView,
    ctx: DeriveContext,
    preverified: Preverified | None = None,
) -> Plan:
    """Check signatures, derive the plan, check policy and balances; return the plan.

    ``preverified`` (from :func:`verified_keys`) lets signatures whose
    cryptography was already checked skip that step; key validity and policy are always
    checked here.

    Raises:
        LedgerError: the specific subclass for the first rule the entry breaks.
    """
    if len(signatures) > SIGNATURES_MAX:
        raise LimitExceededError(f"an event may carry at most {SIGNATURES_MAX} signatures")
    if len({s.key_id for s in signatures}) != len(signatures):
        # One result per key id is kept below (and in ``preverified``): a key id may
        # appear once, as ``Ledger.append`` already ensures.
        raise InvalidEventError("a key signed this event more than once")
    if event.not_after is not None and ctx.recorded_date > event.not_after:
        raise EventExpiredError(
            f"event {event.id!r} may only be recorded until {event.not_after.isoformat()}; "
            f"it is now {ctx.recorded_date.isoformat()} (Asia/Shanghai)",
            details={"not_after": event.not_after.isoformat()},
        )
    if isinstance(event, Genesis):
        backdate_days_max = event.backdate_days_max
    else:
        config = state.config()
        backdate_days_max = (
            BACKDATE_DAYS_DEFAULT if config is None else config.policy.backdate_days_max
        )
    check_effective_at(event, ctx.recorded_date, backdate_days_max)
    known = {k.key_id: k for k in genesis_keys(event)} if isinstance(event, Genesis) else {}
    message = message_for(event, event_bytes, state)
    checked = preverified or {}
    signers = [_check_signature(s, message, known, state, ctx.seq, checked) for s in signatures]
    plan = handler_for(event)(event, state, ctx)
    plan.requirement.check(signers)
    if len(plan.postings) > POSTINGS_MAX:
        raise LimitExceededError(f"an entry may have at most {POSTINGS_MAX:,} postings")
    check_zero_sum(plan.postings, ctx.seq)
    _check_balances(plan, state)
    return plan


def check_effective_at(event: Event, recorded_date: dt.date, backdate_days_max: int) -> None:
    """Refuse a business date too far from the day the entry is recorded.

    ``recorded_date`` is the entry's ``recorded_at`` as a calendar day in Asia/Shanghai
    (:attr:`DeriveContext.recorded_date`). ``effective_at`` may be at most one day after it
    (a late-evening entry for tomorrow's duty) and at most ``backdate_days_max`` days
    before it (late paperwork). A pure function of the entry, so ``verify()`` replays it
    with the stored time.

    Raises:
        EffectiveDateError: if the date lies outside that window.
    """
    latest = recorded_date + dt.timedelta(days=1)
    earliest = recorded_date - dt.timedelta(days=backdate_days_max)
    if event.effective_at > latest:
        raise EffectiveDateError(
            f"event {event.id!r} is dated {event.effective_at}, after {latest}; an entry "
            f"recorded on {recorded_date} (Asia/Shanghai) may be dated at most one day ahead",
            hint="Check the date (a mistyped year?). Record future duties on their day.",
            details={"effective_at": event.effective_at.isoformat(), "latest": str(latest)},
        )
    if event.effective_at < earliest:
        raise EffectiveDateError(
            f"event {event.id!r} is dated {event.effective_at}, before {earliest}; this "
            f"ledger accepts dates at most {backdate_days_max} days before the day an "
            f"entry is recorded ({recorded_date}, Asia/Shanghai)",
            hint="Check the date. Facts older than that window need a ledger whose genesis "
            "allows a longer backdate_days_max.",
            details={"effective_at": event.effective_at.isoformat(), "earliest": str(earliest)},
        )


def _check_signature(
    signature: Signature,
    message: bytes,
    known: dict[str, KeyRecord],
    state: StateView,
    seq: int,
    preverified: Preverified,
) -> KeyRecord:
    key = known.get(signature.key_id) or state.key(signature.key_id)
    if key is None:
        raise UnknownKeyError(f"key {signature.key_id} is not registered in this ledger")
    if not key.valid_at(seq):
        raise KeyRevokedError(
            f"key {signature.key_id} was revoked at entry {key.revoked_at_seq}",
            details={"key_id": signature.key_id, "revoked_at_seq": key.revoked_at_seq},
        )
    if preverified.get(signature.key_id) == key.public_key:
        return key
    if not verify_signature(key.public_key, message, signature.signature):
        raise SignatureError(
            f"the signature by key {signature.key_id} does not match this event on this "
            "ledger (wrong key, changed event, or signed for another ledger)",
            details={"key_id": signature.key_id},
        )
    return key


def check_zero_sum(postings: Sequence[Posting], seq: int | None = None) -> None:
    """Raise ``IntegrityError`` unless the postings sum to zero for every asset."""
    totals: dict[Asset, int] = {}
    for posting in postings:
        amount = posting.amount
        # Postings read from a damaged file are not validated: any amount that is not a
        # whole number (a NULL, text, a float) must be reported, not crash the sum.
        if type(amount) is not int:
            raise IntegrityError(
                f"a posting amount is not a whole number: {posting.amount!r}", seq=seq
            )
        asset = posting.asset
        totals[asset] = totals.get(asset, 0) + amount
    if any(totals.values()):
        # str(), not .value: postings read from a damaged file may carry an unknown asset
        # name as a plain string, which must be reported, not crash the check.
        bad = sorted(str(asset) for asset, total in totals.items() if total)
        raise IntegrityError(f"postings do not sum to zero for {', '.join(bad)}", seq=seq)


def _check_balances(plan: Plan, state: StateView) -> None:
    # (account, asset) -> [posted delta, pending delta], in first-seen order; checked in
    # sorted order below, so the first failure reported does not depend on that order.
    deltas: dict[tuple[str, Asset], list[int]] = {}
    for posting in plan.postings:
        slot = (posting.account, posting.asset)
        found = deltas.get(slot)
        if found is None:
            deltas[slot] = [posting.amount, 0]
        else:
            found[0] += posting.amount
    for change in plan.changes:
        if isinstance(change, PendingDelta):
            slot = (change.account, change.asset)
            found = deltas.get(slot)
            if found is None:
                deltas[slot] = [0, change.delta]
            else:
                found[1] += change.delta
    for (account, asset), (posted_delta, pending_delta) in sorted(deltas.items()):
        record = state.account(account)
        if record is None:
            raise UnknownAccountError(f"account {account!r} has not been opened")
        balance = state.balance(account, asset)
        posted = balance.posted + posted_delta
        pending = balance.pending + pending_delta
        if abs(posted) > BALANCE_ABS_MAX or abs(pending) > BALANCE_ABS_MAX:
            raise LimitExceededError(
                f"this entry would take the {asset.value} balance of account {account!r} "
                f"past the limit of {BALANCE_ABS_MAX:,} (2**62) either way",
                hint="No account may hold more than that; split the amount differently "
                "or move value out of the account first.",
                details={"account": account, "asset": asset.value, "limit": BALANCE_ABS_MAX},
            )
        if not record.constrained:
            continue
        if posted - pending < 0 or pending < 0:
            needed = -(posted_delta - pending_delta)
            raise OverdraftError(
                f"account {account!r} has {asset.format_amount(balance.available)} {asset.value} "
                f"available; this needs {asset.format_amount(needed)}",
                details={
                    "account": account,
                    "asset": asset.value,
                    "available": balance.available,
                    "needed": needed,
                },
            )
