"""Handlers for the partner alliance: members, offers and two-phase redemptions.

A redemption works like a pending transfer: :class:`HoldRedemption` reserves the points
(a pending amount against the member's available balance) and the stock, and issues the
voucher ``V<seq>``; :class:`ConfirmRedemption` posts the points to the partner and
releases the reservation; :class:`VoidRedemption` only releases it.

Expiry. A hold expires at ``recorded_at + expires_in_hours`` (ledger time, never the wall
clock, so the replay in ``verify()`` decides exactly as ``append`` did). From that moment
it cannot be confirmed (:class:`~points_ledger.errors.HoldExpiredError`). Its reservation
is released deterministically by the first of:

* any later ``HoldRedemption`` by the same member or on the same offer, any later
  ``Donate`` by the same member, and any ``Transfer`` or ``Reverse`` that takes value
  out of the member's account (through the debit hook): these release that member's
  (and that offer's) expired holds first, in voucher order, in the same entry;
* a ``VoidRedemption`` of the voucher, which after expiry any registered key may sign.

Until then the expired hold is reported as ``expired`` (see
:func:`points_ledger.reports.outstanding_holds`) but still counts as pending.

State records (namespace: key -> value): ``alliance``: partner -> membership;
``offer``: offer id -> offer; ``hold``: voucher -> hold; ``holds_by_member`` and
``holds_by_offer``: account or offer -> sorted list of open vouchers; ``unsettled``:
partner -> sorted list of confirmed, unsettled vouchers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

from points_ledger.domain.admin import (
    further_key_requirements,
    index_owner,
    key_record,
    require_account,
    require_config,
)
from points_ledger.domain.state import (
    Change,
    DeriveContext,
    KeyAdded,
    Plan,
    StatePut,
    StateView,
    register_debit_hook,
    register_handler,
)
from points_ledger.domain.working import WorkingState
from points_ledger.errors import (
    AccountExistsError,
    HoldClosedError,
    HoldExpiredError,
    InvalidEventError,
    LimitExceededError,
    NotFoundError,
    OutOfStockError,
    PriceChangedError,
)
from points_ledger.models.common import AccountKind, Asset, Role
from points_ledger.models.community import (
    ConfirmRedemption,
    DelistOffer,
    HoldRedemption,
    JoinAlliance,
    ListOffer,
    UpdateOffer,
    VoidRedemption,
)
from points_ledger.models.events import KeySpec, Posting
from points_ledger.models.records import HoldRecord, OfferRecord, PartnerRecord
from points_ledger.policy import AnyOf, OwnerSignature, Requirement, RoleQuorum, all_of

__all__ = [
    "HOLDS_PER_MEMBER_MAX",
    "HOLDS_PER_OFFER_MAX",
    "UNSETTLED_PER_PARTNER_MAX",
    "release_expired_holds",
    "require_partner",
    "voucher_code",
]

ALLIANCE_NS: Final = "alliance"
OFFER_NS: Final = "offer"
HOLD_NS: Final = "hold"
BY_MEMBER_NS: Final = "holds_by_member"
BY_OFFER_NS: Final = "holds_by_offer"
UNSETTLED_NS: Final = "unsettled"

HOLDS_PER_MEMBER_MAX: Final = 20
"""Open holds one member may have at a time."""

HOLDS_PER_OFFER_MAX: Final = 500
"""Open holds one offer may have at a time."""

UNSETTLED_PER_PARTNER_MAX: Final = 2000
"""Confirmed redemptions a partner may accumulate before it must be settled."""

_HOUR_US: Final = 3_600_000_000
_SPENDER_KINDS: Final = frozenset({AccountKind.MEMBER, AccountKind.BENEFICIARY})


def voucher_code(hold_seq: int) -> str:
    """The voucher a hold at entry ``hold_seq`` issues: ``V`` and at least 8 digits."""
    return f"V{hold_seq:08d}"


def require_partner(state: StateView, partner: str) -> PartnerRecord:
    """Return an alliance membership.

    Raises:
        UnknownAccountError: if the account has not been opened.
        NotFoundError: if the account has not joined the alliance.
        IntegrityError: if the stored membership cannot be read.
    """
    require_account(state, partner)
    record = PartnerRecord.read(state.get(ALLIANCE_NS, partner), partner)
    if record is None:
        raise NotFoundError(
            f"account {partner!r} is not an alliance partner",
            hint="Admit it first (points-ledger alliance join, or a JoinAlliance event).",
        )
    return record


def _require_offer(work: WorkingState, offer: str) -> OfferRecord:
    value = work.get(OFFER_NS, offer)
    if value is None:
        raise NotFoundError(f"there is no offer {offer!r}", details={"offer": offer})
    return OfferRecord.from_json(value, offer)


def _put_offer(work: WorkingState, offer: str, record: OfferRecord) -> None:
    work.put(OFFER_NS, offer, record.to_json())


def _require_hold(work: WorkingState, voucher: str) -> HoldRecord:
    value = work.get(HOLD_NS, voucher)
    if value is None:
        raise NotFoundError(f"there is no voucher {voucher!r}", details={"voucher": voucher})
    return HoldRecord.from_json(value, voucher)


def _put_hold(work: WorkingState, voucher: str, record: HoldRecord) -> None:
    work.put(HOLD_NS, voucher, record.to_json())


def _require_pending(hold: HoldRecord, voucher: str) -> None:
    if hold.status != "pending":
        raise HoldClosedError(
            f"voucher {voucher} is already {hold.status} (entry {hold.closed_seq})",
            details={"voucher": voucher, "status": hold.status, "seq": hold.closed_seq},
        )


def _remove(work: WorkingState, namespace: str, key: str, voucher: str) -> None:
    vouchers = [v for v in work.get(namespace, key) or [] if v != voucher]
    work.put(namespace, key, vouchers)


def _close_hold(
    work: WorkingState, voucher: str, hold: HoldRecord, status: str, seq: int
) -> HoldRecord:
    """Mark a pending hold closed and drop it from the open-hold indexes.

    A hold closed as ``voided`` or ``expired`` gives back its stock and reservation; a
    ``confirmed`` one gives back only the reservation (the points are then posted).
    """
    closed = dataclasses.replace(hold, status=status, closed_seq=seq)
    _put_hold(work, voucher, closed)
    work.add_pending(hold.member, Asset.PTS, -hold.points)
    _remove(work, BY_MEMBER_NS, hold.member, voucher)
    _remove(work, BY_OFFER_NS, hold.offer, voucher)
    if status != "confirmed":
        offer = _require_offer(work, hold.offer)
        _put_offer(work, hold.offer, dataclasses.replace(offer, stock=offer.stock + hold.quantity))
    return closed


def release_expired_holds(
    work: WorkingState,
    ctx: DeriveContext,
    *,
    member: str | None = None,
    offer: str | None = None,
) -> None:
    """Release every open hold of ``member`` and of ``offer`` that has expired by now.

    Released holds get status ``expired``; their points and stock are freed in the entry
    being derived. Holds are visited in voucher order, so the result is deterministic.
    """
    vouchers: set[str] = set()
    if member is not None:
        vouchers.update(work.get(BY_MEMBER_NS, member) or [])
    if offer is not None:
        vouchers.update(work.get(BY_OFFER_NS, offer) or [])
    for voucher in sorted(vouchers):
        hold = HoldRecord.from_json(work.get(HOLD_NS, voucher), voucher)
        if hold.status == "pending" and ctx.recorded_at_us >= hold.expires_at_us:
            _close_hold(work, voucher, hold, "expired", ctx.seq)


@register_debit_hook
def _release_before_debit(
    accounts: Sequence[str], state: StateView, ctx: DeriveContext
) -> tuple[Change, ...]:
    """Release the expired holds of accounts a generic event is about to debit."""
    work = WorkingState(state)
    for account in accounts:
        release_expired_holds(work, ctx, member=account)
    return work.changes()


@register_handler(JoinAlliance)
def _join_alliance(event: JoinAlliance, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    account = require_account(state, event.partner)
    if account.kind is not AccountKind.PARTNER:
        raise InvalidEventError(
            f"only partner accounts join the alliance; {event.partner!r} is a "
            f"{account.kind.value} account"
        )
    if state.get(ALLIANCE_NS, event.partner) is not None:
        raise AccountExistsError(f"{event.partner!r} is already an alliance partner")
    spec = KeySpec(public_key=event.public_key, roles=(Role.PARTNER,), owner=event.partner)
    record = key_record(spec, ctx.seq)
    if state.key(record.key_id) is not None:
        raise InvalidEventError(f"key {record.key_id} is already registered")
    if record.public_key == config.log_key:
        raise InvalidEventError("the log key cannot also sign events; generate another key")
    membership = PartnerRecord(name=event.name, key_id=record.key_id, joined_seq=ctx.seq)
    # The partner key speaks for the account like any other key it owns (and is listed
    # among its keys below): the admins alone may not add it to an account with a key.
    requirements = [
        config.policy.admins(),
        *further_key_requirements(event.partner, state, config),
    ]
    return Plan(
        requirement=all_of(requirements),
        changes=(
            KeyAdded(record),
            *index_owner(record, state),
            StatePut(ALLIANCE_NS, event.partner, membership.to_json()),
        ),
    )


@register_handler(ListOffer)
def _list_offer(event: ListOffer, state: StateView, ctx: DeriveContext) -> Plan:
    require_config(state)
    require_partner(state, event.partner)
    if state.get(OFFER_NS, event.offer) is not None:
        raise InvalidEventError(
            f"offer id {event.offer!r} is already used; choose a new id",
            hint="Change an existing offer with UpdateOffer.",
        )
    offer = OfferRecord(
        partner=event.partner,
        item=event.item,
        price_points=event.price_points,
        stock=event.stock,
        active=True,
        listed_seq=ctx.seq,
    )
    return Plan(
        requirement=OwnerSignature(event.partner, frozenset({Role.PARTNER})),
        changes=(StatePut(OFFER_NS, event.offer, offer.to_json()),),
    )


@register_handler(UpdateOffer)
def _update_offer(event: UpdateOffer, state: StateView, ctx: DeriveContext) -> Plan:
    require_config(state)
    work = WorkingState(state)
    offer = _require_offer(work, event.offer)
    if not offer.active:
        raise InvalidEventError(f"offer {event.offer!r} was delisted; list a new offer")
    if event.price_points is not None:
        offer = dataclasses.replace(offer, price_points=event.price_points)
    if event.stock is not None:
        offer = dataclasses.replace(offer, stock=event.stock)
    _put_offer(work, event.offer, offer)
    return Plan(
        requirement=OwnerSignature(offer.partner, frozenset({Role.PARTNER})),
        changes=work.changes(),
    )


@register_handler(DelistOffer)
def _delist_offer(event: DelistOffer, state: StateView, ctx: DeriveContext) -> Plan:
    require_config(state)
    work = WorkingState(state)
    offer = _require_offer(work, event.offer)
    if not offer.active:
        raise InvalidEventError(f"offer {event.offer!r} is already delisted")
    _put_offer(work, event.offer, dataclasses.replace(offer, active=False))
    return Plan(
        requirement=OwnerSignature(offer.partner, frozenset({Role.PARTNER})),
        changes=work.changes(),
    )


@register_handler(HoldRedemption)
def _hold(event: HoldRedemption, state: StateView, ctx: DeriveContext) -> Plan:
    require_config(state)
    member = require_account(state, event.member)
    if member.kind not in _SPENDER_KINDS:
        raise InvalidEventError(
            f"only member and beneficiary accounts redeem; {event.member!r} is a "
            f"{member.kind.value} account"
        )
    work = WorkingState(state)
    offer = _require_offer(work, event.offer)
    if not offer.active:
        raise InvalidEventError(f"offer {event.offer!r} has been delisted")
    release_expired_holds(work, ctx, member=event.member, offer=event.offer)
    offer = _require_offer(work, event.offer)
    expected = event.quantity * offer.price_points
    if event.points != expected:
        raise PriceChangedError(
            f"{event.quantity} x {offer.item!r} costs {expected:,} points now; the "
            f"member agreed to {event.points:,}",
            details={"offer": event.offer, "expected": expected, "agreed": event.points},
        )
    if event.quantity > offer.stock:
        raise OutOfStockError(
            f"offer {event.offer!r} has {offer.stock} item(s) left unreserved; this "
            f"hold asks for {event.quantity}",
            details={"offer": event.offer, "stock": offer.stock, "asked": event.quantity},
        )
    by_member = work.get(BY_MEMBER_NS, event.member) or []
    by_offer = work.get(BY_OFFER_NS, event.offer) or []
    if len(by_member) >= HOLDS_PER_MEMBER_MAX:
        raise LimitExceededError(
            f"{event.member!r} already has {len(by_member)} open holds "
            f"(at most {HOLDS_PER_MEMBER_MAX})",
            hint="Confirm or void an open voucher first.",
        )
    if len(by_offer) >= HOLDS_PER_OFFER_MAX:
        raise LimitExceededError(
            f"offer {event.offer!r} has {len(by_offer)} open holds (at most {HOLDS_PER_OFFER_MAX})"
        )
    voucher = voucher_code(ctx.seq)
    _put_offer(work, event.offer, dataclasses.replace(offer, stock=offer.stock - event.quantity))
    work.put(BY_MEMBER_NS, event.member, sorted([*by_member, voucher]))
    work.put(BY_OFFER_NS, event.offer, sorted([*by_offer, voucher]))
    _put_hold(
        work,
        voucher,
        HoldRecord(
            member=event.member,
            offer=event.offer,
            partner=offer.partner,
            quantity=event.quantity,
            points=event.points,
            hold_seq=ctx.seq,
            held_on=event.effective_at.isoformat(),
            expires_at_us=ctx.recorded_at_us + event.expires_in_hours * _HOUR_US,
            status="pending",
            closed_seq=None,
            confirmed_on=None,
            settled_seq=None,
        ),
    )
    work.add_pending(event.member, Asset.PTS, event.points)
    return Plan(
        requirement=OwnerSignature(event.member, frozenset({Role.MEMBER})),
        changes=work.changes(),
    )


@register_handler(ConfirmRedemption)
def _confirm(event: ConfirmRedemption, state: StateView, ctx: DeriveContext) -> Plan:
    require_config(state)
    work = WorkingState(state)
    hold = _require_hold(work, event.voucher)
    # An expired hold is refused as expired whether or not a later entry has already
    # released its reservation.
    if hold.status in ("pending", "expired") and ctx.recorded_at_us >= hold.expires_at_us:
        raise HoldExpiredError(
            f"voucher {event.voucher} expired before it was confirmed",
            details={"voucher": event.voucher, "expires_at_us": hold.expires_at_us},
        )
    _require_pending(hold, event.voucher)
    partner = hold.partner
    unsettled = work.get(UNSETTLED_NS, partner) or []
    if len(unsettled) >= UNSETTLED_PER_PARTNER_MAX:
        raise LimitExceededError(
            f"partner {partner!r} has {len(unsettled)} unsettled redemptions "
            f"(at most {UNSETTLED_PER_PARTNER_MAX})",
            hint="Settle the partner first (points-ledger settle, or a SettlePartner event).",
        )
    closed = _close_hold(work, event.voucher, hold, "confirmed", ctx.seq)
    confirmed_on = event.effective_at.isoformat()
    _put_hold(work, event.voucher, dataclasses.replace(closed, confirmed_on=confirmed_on))
    work.put(UNSETTLED_NS, partner, sorted([*unsettled, event.voucher]))
    points = hold.points
    postings = (
        Posting(account=hold.member, asset=Asset.PTS, amount=-points),
        Posting(account=partner, asset=Asset.PTS, amount=points),
    )
    return Plan(
        requirement=OwnerSignature(partner, frozenset({Role.PARTNER})),
        postings=postings,
        changes=work.changes(),
    )


@register_handler(VoidRedemption)
def _void(event: VoidRedemption, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    work = WorkingState(state)
    hold = _require_hold(work, event.voucher)
    _require_pending(hold, event.voucher)
    expired = ctx.recorded_at_us >= hold.expires_at_us
    requirement: Requirement
    if expired:
        requirement = AnyOf(*(RoleQuorum(role) for role in Role))
    else:
        requirement = AnyOf(
            OwnerSignature(hold.member),
            OwnerSignature(hold.partner, frozenset({Role.PARTNER})),
            config.policy.admins(),
        )
    _close_hold(work, event.voucher, hold, "expired" if expired else "voided", ctx.seq)
    return Plan(requirement=requirement, changes=work.changes())
