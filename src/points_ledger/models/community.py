"""Community events: the service catalogue and awards, the partner alliance, the charity pool.

* Catalogue and awards: :class:`DefineService`, :class:`AwardPoints`.
* Partner alliance: :class:`JoinAlliance`, :class:`ListOffer`, :class:`UpdateOffer`,
  :class:`DelistOffer`; two-phase redemption :class:`HoldRedemption`,
  :class:`ConfirmRedemption`, :class:`VoidRedemption`; money for partners
  :class:`SetSettlementRate`, :class:`SettlePartner`.
* Charity pool: :class:`Donate`, :class:`Grant`.

Every amount the ledger moves is computed by the handlers in :mod:`points_ledger.domain`
from the catalogue, the offers and the rate; the only amounts taken from callers are the
ones a signer consents to (a donation, a grant, the price a member agrees to pay).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from points_ledger.models.common import AMOUNT_MAX, AccountId, Memo, PublicKeyB64
from points_ledger.models.events import Event

__all__ = [
    "HOLD_HOURS_DEFAULT",
    "HOLD_HOURS_MAX",
    "AwardPoints",
    "ConfirmRedemption",
    "DefineService",
    "DelistOffer",
    "Donate",
    "Grant",
    "HoldRedemption",
    "JoinAlliance",
    "ListOffer",
    "OfferId",
    "Points",
    "ServiceCode",
    "ServiceUnit",
    "SetSettlementRate",
    "SettlePartner",
    "TaskRef",
    "UpdateOffer",
    "VoidRedemption",
    "VoucherCode",
]

HOLD_HOURS_DEFAULT: Final = 7 * 24
"""How long a redemption hold lasts unless the member asks otherwise (7 days)."""

HOLD_HOURS_MAX: Final = 30 * 24
"""The longest a redemption hold may last (30 days)."""

ServiceCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,32}$")]
"""A catalogue code such as ``gas-check``: 1-32 of ``a-z 0-9 _ -``."""

OfferId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9._:-]{1,64}$")]
"""An offer id chosen by the partner, unique in the ledger."""

TaskRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
"""The reference of one piece of work (a visit, a check), unique per service."""

VoucherCode = Annotated[str, StringConstraints(pattern=r"^V[0-9]{8,12}$")]
"""A redemption voucher: ``V`` and the seq of the hold entry, at least 8 digits."""

Points = Annotated[int, Field(ge=1, le=AMOUNT_MAX)]
"""A positive whole number of points."""


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Label = Annotated[Memo, Field(min_length=1, max_length=120), AfterValidator(_nonblank)]


class ServiceUnit(StrEnum):
    """What one unit of a service is."""

    VISIT = "visit"
    HOUSEHOLD = "household"
    HOUR = "hour"


class DefineService(Event):
    """Add a service to the catalogue, or replace its definition from this entry on.

    Signed by the admin quorum. Awards are priced from the definition current when they
    are appended; earlier awards keep the points they were given.

    Attributes:
        code: Catalogue code awards refer to.
        name: What the service is, for people (no personal data).
        points_per_unit: Points paid per unit of service, 1 to 10,000.
        unit: What a unit is: a visit, a household, an hour.
        points_per_day_max: Optional cap on points one volunteer earns from this service
            on one business date.
        points_per_month_max: Optional cap per volunteer per calendar month of business
            dates.
        active_from: First business date awards may carry.
        active_to: Last business date awards may carry (open-ended when omitted).
    """

    type: Literal["define_service"] = "define_service"
    code: ServiceCode
    name: Label
    points_per_unit: Annotated[int, Field(ge=1, le=10_000)]
    unit: ServiceUnit
    points_per_day_max: Points | None = None
    points_per_month_max: Points | None = None
    active_from: dt.date
    active_to: dt.date | None = None

    @model_validator(mode="after")
    def _check(self) -> DefineService:
        if self.active_to is not None and self.active_to < self.active_from:
            raise ValueError("active_to must not be before active_from")
        day, month = self.points_per_day_max, self.points_per_month_max
        if day is not None and month is not None and day > month:
            raise ValueError("points_per_day_max must not exceed points_per_month_max")
        return self


class AwardPoints(Event):
    """Pay a volunteer for service done: ``quantity`` units of catalogue service ``service``.

    Signed by a key with the ``issuer`` role that the volunteer does not own. The points
    are ``quantity x points_per_unit`` from the catalogue, posted from ``issuer`` to the
    volunteer. Reversible by an admin ``Reverse``.

    Attributes:
        volunteer: The member account that did the work.
        service: Catalogue code of the service.
        quantity: Units of service, 1 to 1,000.
        grid_cell: The grid cell where the work was done (for reports).
        task_ref: Reference of the task; a (service, task_ref) pair is paid once.
    """

    type: Literal["award_points"] = "award_points"
    volunteer: AccountId
    service: ServiceCode
    quantity: Annotated[int, Field(ge=1, le=1000)]
    grid_cell: Annotated[Memo, Field(min_length=1, max_length=64)]
    task_ref: TaskRef


class JoinAlliance(Event):
    """Admit a partner account to the alliance and register its partner key.

    Signed by the admin quorum. The account must be open with kind ``partner``. The key
    is registered with the ``partner`` role, owned by the partner account.

    Attributes:
        partner: The partner account.
        name: The business or organisation name shown in the mall.
        public_key: The partner's Ed25519 public key (standard base64).
    """

    type: Literal["join_alliance"] = "join_alliance"
    partner: AccountId
    name: Label
    public_key: PublicKeyB64


class ListOffer(Event):
    """A partner puts an item in the points mall.

    Signed by a partner key owned by ``partner``.

    Attributes:
        offer: New offer id, unique in the ledger.
        partner: The alliance partner supplying the item.
        item: What the member gets.
        price_points: Points per item, 1 to 1,000,000.
        stock: Items available, 0 to 100,000.
    """

    type: Literal["list_offer"] = "list_offer"
    offer: OfferId
    partner: AccountId
    item: Label
    price_points: Annotated[int, Field(ge=1, le=1_000_000)]
    stock: Annotated[int, Field(ge=0, le=100_000)]


class UpdateOffer(Event):
    """Change an offer's price and/or unreserved stock. Signed by the offer's partner.

    Items already held keep the price they were held at and stay reserved.

    Attributes:
        offer: The offer to change.
        price_points: New price per item (unchanged when omitted).
        stock: New count of unreserved items (unchanged when omitted).
    """

    type: Literal["update_offer"] = "update_offer"
    offer: OfferId
    price_points: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    stock: Annotated[int, Field(ge=0, le=100_000)] | None = None

    @model_validator(mode="after")
    def _something(self) -> UpdateOffer:
        if self.price_points is None and self.stock is None:
            raise ValueError("give a new price_points, a new stock, or both")
        return self


class DelistOffer(Event):
    """Take an offer out of the mall. Signed by the offer's partner.

    No new holds are accepted; holds already placed may still be confirmed or voided.

    Attributes:
        offer: The offer to delist.
    """

    type: Literal["delist_offer"] = "delist_offer"
    offer: OfferId


class HoldRedemption(Event):
    """Reserve points and stock for a redemption and issue a voucher (phase one).

    Signed by a ``member`` key owned by ``member`` (a member or beneficiary account).
    The voucher code is ``V`` followed by this entry's seq (8 digits at least). The hold
    reserves ``points`` against the member's available balance and ``quantity`` items of
    the offer's stock until it is confirmed, voided, or expires ``expires_in_hours`` after
    the entry's ledger time.

    Attributes:
        member: The member or beneficiary account redeeming.
        offer: The offer redeemed.
        quantity: Items, 1 to 100.
        points: The total the member agrees to pay; must equal quantity x price.
        expires_in_hours: Lifetime of the hold, 1 to 720 hours (default 168).
    """

    type: Literal["hold_redemption"] = "hold_redemption"
    member: AccountId
    offer: OfferId
    quantity: Annotated[int, Field(ge=1, le=100)] = 1
    points: Points
    expires_in_hours: Annotated[int, Field(ge=1, le=HOLD_HOURS_MAX)] = HOLD_HOURS_DEFAULT


class ConfirmRedemption(Event):
    """The partner hands over the item: post the held points to the partner (phase two).

    Signed by a partner key owned by the offer's partner, before the hold expires.

    Attributes:
        voucher: The voucher code the hold issued.
    """

    type: Literal["confirm_redemption"] = "confirm_redemption"
    voucher: VoucherCode


class VoidRedemption(Event):
    """Cancel a pending hold, releasing the member's points and the offer's stock.

    Signed by the member, the offer's partner or the admin quorum; once the hold has
    expired, by any registered key.

    Attributes:
        voucher: The voucher code the hold issued.
        reason: Why the hold is cancelled.
    """

    type: Literal["void_redemption"] = "void_redemption"
    voucher: VoucherCode
    reason: Label


class SetSettlementRate(Event):
    """Fix how many fen a partner is paid per redeemed point, from this entry on.

    Signed by the admin quorum (not the treasurer, who pays settlements: four eyes).

    Attributes:
        fen_per_point: Fen per point, 1 to 100,000.
    """

    type: Literal["set_settlement_rate"] = "set_settlement_rate"
    fen_per_point: Annotated[int, Field(ge=1, le=100_000)]


class SettlePartner(Event):
    """Pay a partner in CNY for its confirmed, unsettled redemptions over a period.

    Signed by a ``treasurer`` key. Covers every redemption of ``partner`` confirmed with a
    business date from ``period_from`` to ``period_to`` (inclusive) and not settled yet.
    Posts ``points x fen_per_point`` fen from ``fund`` to the partner and retires the
    redeemed points (partner to ``issuer``).

    Attributes:
        partner: The alliance partner paid.
        fund: The fund account (kind ``fund``) the money comes from.
        period_from: First confirmation business date covered.
        period_to: Last confirmation business date covered.
    """

    type: Literal["settle_partner"] = "settle_partner"
    partner: AccountId
    fund: AccountId
    period_from: dt.date
    period_to: dt.date

    @model_validator(mode="after")
    def _period(self) -> SettlePartner:
        if self.period_to < self.period_from:
            raise ValueError("period_to must not be before period_from")
        return self


class Donate(Event):
    """A member gives points to the charity pool. Signed by a member key owned by the donor.

    Attributes:
        donor: The member account giving.
        pool: The pool account (kind ``pool``) receiving.
        points: Points given.
    """

    type: Literal["donate"] = "donate"
    donor: AccountId
    pool: AccountId
    points: Points


class Grant(Event):
    """The committee grants points from the charity pool to a beneficiary.

    Signed by k different committee members (k is the ledger's committee threshold,
    2 by default). The pool can never go below zero.

    Attributes:
        pool: The pool account paying.
        beneficiary: The beneficiary (or member) account receiving.
        points: Points granted.
        purpose: What the grant is for (no personal data).
    """

    type: Literal["grant"] = "grant"
    pool: AccountId
    beneficiary: AccountId
    points: Points
    purpose: Label
