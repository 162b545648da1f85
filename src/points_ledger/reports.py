"""Read-only community reports, returned as typed, frozen rows.

Each function reads a ledger through :meth:`Ledger.report_rows`, the named report queries
every store answers (the SQLite store runs them over the views that migration
``m002_community_views`` creates, so Datasette shows the same figures):

* :func:`member_statement`: an account's postings with running balance, and its
  posted, pending and available balance;
* :func:`points_issued_by_service_month`: points awarded per service per month (reversed
  awards left out);
* :func:`top_volunteers_by_grid_cell`: the volunteers who earned most in each grid cell;
* :func:`pool_report`: a charity pool's inflows, outflows and balance;
* :func:`partner_redemptions`, :func:`partner_settlements`: what partners redeemed and
  were paid;
* :func:`offers`: the points mall: every offer listed, its price, unreserved stock and
  whether it is still listed;
* :func:`outstanding_holds`: holds not confirmed or voided yet, flagged when expired;
* :func:`settlement_statement`: every redemption one settlement covers, re-derived from
  the log alone and checked against the settlement's postings;
* :func:`services`, :func:`accounts`, :func:`registered_keys`: the service catalogue
  (what each award is priced from), the open accounts and every key ever registered, so
  that each number and each signature can be traced to its source.

Months are the year-month of the business date (``effective_at``), which is already a
date in the community's time zone (Asia/Shanghai).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from points_ledger.domain.settlement import settlement_covers, settlement_fen
from points_ledger.errors import IntegrityError, InvalidEventError, NotFoundError
from points_ledger.ledger import Ledger
from points_ledger.models.common import (
    POSITION_MAX,
    AccountKind,
    Asset,
    from_microseconds,
    to_microseconds,
)
from points_ledger.models.entries import StatementLine

__all__ = [
    "COMMUNITY_TIMEZONE",
    "AccountRow",
    "GridMonthRow",
    "HoldRow",
    "KeyRow",
    "MemberStatement",
    "OfferRow",
    "PoolFlowRow",
    "PoolReport",
    "RedemptionRow",
    "ServiceMonthRow",
    "ServiceRow",
    "SettlementLine",
    "SettlementRow",
    "SettlementStatement",
    "TopVolunteerRow",
    "accounts",
    "member_statement",
    "offers",
    "outstanding_holds",
    "partner_redemptions",
    "partner_settlements",
    "points_issued_by_grid_month",
    "points_issued_by_service_month",
    "pool_report",
    "registered_keys",
    "services",
    "settlement_statement",
    "top_volunteers_by_grid_cell",
]

TOP_LIMIT_MAX: Final = 100
COMMUNITY_TIMEZONE: Final = "Asia/Shanghai"
"""The time zone in which a plain date given as a report's time (``as_of``) ends."""


@dataclass(frozen=True, slots=True)
class MemberStatement:
    """An account's statement for one asset.

    Attributes:
        account: The account.
        asset: The asset.
        posted: Sum of every posting.
        pending: Points reserved by open holds.
        available: ``posted - pending``.
        lines: Postings oldest first, with the running posted balance.
    """

    account: str
    asset: Asset
    posted: int
    pending: int
    available: int
    lines: tuple[StatementLine, ...]


@dataclass(frozen=True, slots=True)
class ServiceMonthRow:
    """Points issued for one service in one month.

    Attributes:
        service: Catalogue code.
        month: ``YYYY-MM`` of the awards' business dates.
        awards: Number of awards.
        quantity: Units of service paid.
        points: Points paid.
    """

    service: str
    month: str
    awards: int
    quantity: int
    points: int


@dataclass(frozen=True, slots=True)
class GridMonthRow:
    """Points issued in one grid cell in one month.

    Attributes:
        grid_cell: Where the work was done (empty when the awards named no cell).
        month: ``YYYY-MM`` of the awards' business dates.
        awards: Number of awards.
        volunteers: Number of different volunteers awarded.
        points: Points paid.
    """

    grid_cell: str
    month: str
    awards: int
    volunteers: int
    points: int


@dataclass(frozen=True, slots=True)
class TopVolunteerRow:
    """A volunteer's rank in a grid cell over a period.

    Attributes:
        grid_cell: Where the work was done.
        rank: 1 for the volunteer who earned most (ties broken by account id).
        volunteer: The member account.
        points: Points earned in the cell over the period.
        awards: Number of awards.
    """

    grid_cell: str
    rank: int
    volunteer: str
    points: int
    awards: int


@dataclass(frozen=True, slots=True)
class PoolFlowRow:
    """One movement in or out of a pool.

    Attributes:
        seq: The entry.
        event_id: Its event id.
        effective_at: Business date.
        kind: Event kind (``donate``, ``grant``, ...).
        amount: Positive for an inflow, negative for an outflow.
        counterparty: The donor or beneficiary.
        purpose: A grant's stated purpose (empty otherwise).
    """

    seq: int
    event_id: str
    effective_at: dt.date
    kind: str
    amount: int
    counterparty: str
    purpose: str


@dataclass(frozen=True, slots=True)
class PoolReport:
    """A pool's flows and totals.

    Attributes:
        pool: The pool account.
        inflows: Sum of inflows.
        outflows: Sum of outflows (a positive number).
        balance: ``inflows - outflows``.
        lines: Every flow, oldest first.
    """

    pool: str
    inflows: int
    outflows: int
    balance: int
    lines: tuple[PoolFlowRow, ...]


@dataclass(frozen=True, slots=True)
class RedemptionRow:
    """One redemption hold and what became of it.

    Attributes:
        voucher: Voucher code.
        partner: The offer's partner.
        member: The member or beneficiary redeeming.
        offer: Offer id.
        quantity: Items.
        points: Points held (and paid, once confirmed).
        status: ``pending``, ``confirmed``, ``voided`` or ``expired``.
        hold_seq: Entry of the hold.
        closed_seq: Entry that confirmed, voided or released it.
        confirmed_on: Business date of the confirmation.
        settled_seq: Entry of the settlement that paid the partner for it.
    """

    voucher: str
    partner: str
    member: str
    offer: str
    quantity: int
    points: int
    status: str
    hold_seq: int
    closed_seq: int | None
    confirmed_on: dt.date | None
    settled_seq: int | None


@dataclass(frozen=True, slots=True)
class OfferRow:
    """One offer in the points mall, as it stands now.

    Attributes:
        offer: The offer id.
        partner: The alliance partner supplying it.
        item: What the member gets.
        price_points: Current price per item.
        stock: Items not reserved by a pending hold nor handed over.
        active: False once the partner delisted the offer.
        listed_seq: The entry that listed it.
    """

    offer: str
    partner: str
    item: str
    price_points: int
    stock: int
    active: bool
    listed_seq: int


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """One partner settlement.

    Attributes:
        seq: The settlement entry.
        effective_at: Its business date.
        partner: The partner paid.
        fund: The fund paying.
        period_from: First confirmation date covered.
        period_to: Last confirmation date covered.
        redemptions: Number of redemptions covered.
        points: Points retired.
        fen: Money paid, in fen.
    """

    seq: int
    effective_at: dt.date
    partner: str
    fund: str
    period_from: dt.date
    period_to: dt.date
    redemptions: int
    points: int
    fen: int


@dataclass(frozen=True, slots=True)
class HoldRow:
    """An outstanding (pending) hold.

    Attributes:
        voucher: Voucher code.
        member: The member redeeming.
        offer: Offer id.
        partner: The offer's partner.
        quantity: Items reserved.
        points: Points reserved.
        hold_seq: Entry of the hold.
        expires_at: When it expires (UTC).
        expired: True when it had expired at the report's ``as_of`` time; its
            reservation is released by the member's next hold or donation, the offer's
            next hold, or a ``VoidRedemption``.
    """

    voucher: str
    member: str
    offer: str
    partner: str
    quantity: int
    points: int
    hold_seq: int
    expires_at: dt.datetime
    expired: bool


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """One redemption a settlement covers.

    Attributes:
        voucher: Voucher code.
        hold_seq: Entry of the hold.
        confirm_seq: Entry of the confirmation.
        confirmed_on: Business date of the confirmation.
        member: Who redeemed.
        offer: Offer id.
        item: What the member got.
        quantity: Items.
        points: Points retired.
        fen: Money paid for it, in fen.
    """

    voucher: str
    hold_seq: int
    confirm_seq: int
    confirmed_on: dt.date
    member: str
    offer: str
    item: str
    quantity: int
    points: int
    fen: int


@dataclass(frozen=True, slots=True)
class SettlementStatement:
    """Everything one settlement paid for, re-derived from the log.

    Attributes:
        seq: The settlement entry.
        effective_at: Its business date.
        partner: The partner paid.
        fund: The fund paying.
        period_from: First confirmation date covered.
        period_to: Last confirmation date covered.
        fen_per_point: The rate in force.
        points: Points retired (sum of the lines).
        fen: Money paid (sum of the lines).
        lines: The redemptions covered, in voucher order.
    """

    seq: int
    effective_at: dt.date
    partner: str
    fund: str
    period_from: dt.date
    period_to: dt.date
    fen_per_point: int
    points: int
    fen: int
    lines: tuple[SettlementLine, ...]


def member_statement(
    ledger: Ledger, account: str, asset: Asset | str = Asset.PTS, *, limit: int = 10_000
) -> MemberStatement:
    """An account's balance and its postings with running balance.

    Raises:
        NotFoundError: if the account has not been opened.
        InvalidEventError: for a bad asset or limit.
    """
    balance = ledger.balance(account, asset)
    lines = ledger.statement(account, balance.asset, limit=limit)
    return MemberStatement(
        account=account,
        asset=balance.asset,
        posted=balance.posted,
        pending=balance.pending,
        available=balance.available,
        lines=tuple(lines),
    )


def points_issued_by_service_month(ledger: Ledger) -> tuple[ServiceMonthRow, ...]:
    """Points awarded per service per month, net of reversed awards, by month then service."""
    return _typed_rows(ServiceMonthRow, ledger.report_rows("points_by_service_month"))


def points_issued_by_grid_month(ledger: Ledger) -> tuple[GridMonthRow, ...]:
    """Points awarded per grid cell per month, net of reversed awards, by month then cell."""
    return _typed_rows(GridMonthRow, ledger.report_rows("points_by_grid_month"))


def top_volunteers_by_grid_cell(
    ledger: Ledger, *, period_from: dt.date, period_to: dt.date, limit: int = 3
) -> tuple[TopVolunteerRow, ...]:
    """The ``limit`` volunteers who earned most in each grid cell over a period.

    Args:
        ledger: The ledger to read.
        period_from: First business date counted.
        period_to: Last business date counted.
        limit: How many volunteers per cell, 1 to 100.

    Raises:
        InvalidEventError: for a bad period or limit.
    """
    _check_period(period_from, period_to)
    if type(limit) is not int or not 1 <= limit <= TOP_LIMIT_MAX:
        raise InvalidEventError(f"limit must be a whole number from 1 to {TOP_LIMIT_MAX}")
    rows = ledger.report_rows(
        "top_volunteers", period_from.isoformat(), period_to.isoformat(), limit
    )
    return _typed_rows(TopVolunteerRow, rows)


def pool_report(ledger: Ledger, pool: str) -> PoolReport:
    """A pool's inflows, outflows and balance, with every flow.

    Raises:
        NotFoundError: if the account has not been opened.
    """
    ledger.account(pool)
    lines = _typed_rows(PoolFlowRow, ledger.report_rows("pool_flows", pool))
    inflows = sum(line.amount for line in lines if line.amount > 0)
    outflows = -sum(line.amount for line in lines if line.amount < 0)
    return PoolReport(
        pool=pool, inflows=inflows, outflows=outflows, balance=inflows - outflows, lines=lines
    )


def partner_redemptions(ledger: Ledger, partner: str | None = None) -> tuple[RedemptionRow, ...]:
    """Every redemption hold (of one partner, or all), oldest first.

    Raises:
        InvalidEventError: if ``partner`` is neither a string nor None.
    """
    partner = _optional_filter("partner", partner)
    return _typed_rows(RedemptionRow, ledger.report_rows("redemptions", partner))


def offers(ledger: Ledger, partner: str | None = None) -> tuple[OfferRow, ...]:
    """Every offer listed (of one partner, or all), in the order they were listed.

    Raises:
        InvalidEventError: if ``partner`` is neither a string nor None.
    """
    partner = _optional_filter("partner", partner)
    return _typed_rows(OfferRow, ledger.report_rows("offers", partner))


def partner_settlements(ledger: Ledger, partner: str | None = None) -> tuple[SettlementRow, ...]:
    """Every partner settlement (of one partner, or all), oldest first.

    Raises:
        InvalidEventError: if ``partner`` is neither a string nor None.
    """
    partner = _optional_filter("partner", partner)
    return _typed_rows(SettlementRow, ledger.report_rows("settlements", partner))


def outstanding_holds(
    ledger: Ledger, *, as_of: dt.datetime | dt.date | None = None
) -> tuple[HoldRow, ...]:
    """Holds neither confirmed, voided nor released, flagged when expired at ``as_of``.

    Args:
        ledger: The ledger to read.
        as_of: When to judge expiry: an aware ``datetime``; a ``date``, meaning the end of
            that day in Asia/Shanghai (a hold expiring at any moment of that day counts as
            expired); or None for now as the ledger's clock tells it
            (:attr:`~points_ledger.Ledger.clock`), never the machine's clock.

    Raises:
        InvalidEventError: if ``as_of`` is anything else, or a ``datetime`` without a
            time zone.
    """
    now_us = to_microseconds(_moment("as_of", ledger.clock() if as_of is None else as_of))
    result = []
    for r in ledger.report_rows("outstanding_holds"):
        expires_us = _int(r[7])
        result.append(
            HoldRow(
                voucher=_str(r[0]),
                member=_str(r[1]),
                offer=_str(r[2]),
                partner=_str(r[3]),
                quantity=_int(r[4]),
                points=_int(r[5]),
                hold_seq=_int(r[6]),
                expires_at=from_microseconds(expires_us),
                expired=now_us >= expires_us,
            )
        )
    return tuple(result)


def settlement_statement(ledger: Ledger, seq: int) -> SettlementStatement:
    """Re-derive from the log which redemptions settlement entry ``seq`` paid for.

    Replays the partner's confirmations and earlier settlements (each settlement covers the
    confirmations before it, not yet settled, whose business date lies in its period),
    takes the rate from the last ``SetSettlementRate`` before it, and checks the result
    against the settlement's own postings.

    Raises:
        NotFoundError: if entry ``seq`` does not exist or is not a settlement.
        IntegrityError: if the re-derived figures differ from the entry's postings.
        InvalidEventError: if ``seq`` is not a whole number from 0 to ``POSITION_MAX``.
    """
    if type(seq) is not int or not 0 <= seq <= POSITION_MAX:
        raise InvalidEventError(f"seq must be a whole number from 0 to {POSITION_MAX:,}")
    rows = ledger.report_rows("entry_event", seq)
    if not rows or rows[0][0] != "settle_partner":
        raise NotFoundError(f"entry {seq} is not a partner settlement", seq=seq)
    event = json.loads(_str(rows[0][2]))
    partner, fund = _str(event["partner"]), _str(event["fund"])
    period_from, period_to = _date(event["period_from"]), _date(event["period_to"])
    rate_rows = ledger.report_rows("rate_before", seq)
    if not rate_rows:
        raise IntegrityError(f"settlement {seq} has no settlement rate before it", seq=seq)
    rate = _int(rate_rows[0][0])
    confirms = ledger.report_rows("confirms_for_partner", partner, seq)
    unsettled: dict[str, tuple[int, str, int]] = {
        _str(r[2]): (_int(r[0]), _str(r[1]), _int(r[3])) for r in confirms
    }
    for earlier_seq, start, end in ledger.report_rows("settles_for_partner", partner, seq):
        _take(unsettled, _int(earlier_seq), _date(start), _date(end))
    covered = _take(unsettled, seq, period_from, period_to)
    lines = []
    for voucher, (confirm_seq, confirmed_on, points) in sorted(covered.items()):
        hold_seq = int(voucher[1:])
        hold = ledger.report_rows("hold_entry", hold_seq)
        if not hold:
            raise IntegrityError(f"voucher {voucher} has no hold entry", seq=seq)
        member, offer, quantity, item = hold[0]
        lines.append(
            SettlementLine(
                voucher=voucher,
                hold_seq=hold_seq,
                confirm_seq=confirm_seq,
                confirmed_on=_date(confirmed_on),
                member=_str(member),
                offer=_str(offer),
                item=_str(item),
                quantity=_int(quantity),
                points=points,
                fen=settlement_fen(points, rate),
            )
        )
    points_total = sum(line.points for line in lines)
    entry = ledger.entry(seq)
    posted_points = sum(p.amount for p in entry.postings if p.asset is Asset.PTS and p.amount > 0)
    posted_fen = sum(p.amount for p in entry.postings if p.asset is Asset.CNY and p.amount > 0)
    fen_total = settlement_fen(points_total, rate)
    if (points_total, fen_total) != (posted_points, posted_fen):
        raise IntegrityError(
            f"settlement {seq} posted {posted_points} points and {posted_fen} fen, but its "
            f"redemptions add up to {points_total} points and {fen_total} fen",
            seq=seq,
        )
    return SettlementStatement(
        seq=seq,
        effective_at=entry.event.effective_at,
        partner=partner,
        fund=fund,
        period_from=period_from,
        period_to=period_to,
        fen_per_point=rate,
        points=points_total,
        fen=fen_total,
        lines=tuple(lines),
    )


def _take(
    unsettled: dict[str, tuple[int, str, int]],
    settle_seq: int,
    period_from: dt.date,
    period_to: dt.date,
) -> dict[str, tuple[int, str, int]]:
    """Remove and return the confirmations a settlement at ``settle_seq`` covers.

    Only confirmations before the settlement count; which of them it covers is the
    domain's rule (:func:`~points_ledger.domain.settlement.settlement_covers`).
    """
    covered = {
        voucher: info
        for voucher, info in unsettled.items()
        if info[0] < settle_seq and settlement_covers(info[1], period_from, period_to)
    }
    for voucher in covered:
        del unsettled[voucher]
    return covered


def _community_zone() -> dt.tzinfo:
    try:
        return ZoneInfo(COMMUNITY_TIMEZONE)
    except ZoneInfoNotFoundError:
        return dt.timezone(dt.timedelta(hours=8))  # China keeps no daylight saving time


def _moment(name: str, value: object) -> dt.datetime:
    """An aware ``datetime`` for a time argument given as a datetime or a date."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidEventError(
                f"{name} must carry a time zone (e.g. datetime.now(UTC)), or be a date"
            )
        return value
    if isinstance(value, dt.date):
        next_day = dt.datetime.combine(value + dt.timedelta(days=1), dt.time(), _community_zone())
        return next_day - dt.timedelta(microseconds=1)
    raise InvalidEventError(
        f"{name} must be a datetime with a time zone or a date, not {type(value).__name__}"
    )


def _optional_filter(name: str, value: object) -> str | None:
    """A report filter (a partner or account kind): None for all, else a string."""
    if value is not None and not isinstance(value, str):
        raise InvalidEventError(f"{name} must be a string or None, not {type(value).__name__}")
    return value


def _check_period(period_from: object, period_to: object) -> None:
    # A datetime is a date too, but its isoformat() carries a time and would compare
    # wrongly with the stored dates; only plain dates are accepted.
    if type(period_from) is not dt.date or type(period_to) is not dt.date:
        raise InvalidEventError("period_from and period_to must be datetime.date values")
    if period_to < period_from:
        raise InvalidEventError("period_to must not be before period_from")


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """One service in the catalogue, as currently defined.

    Attributes:
        code: Catalogue code awards refer to.
        name: What the service is.
        points_per_unit: Points an award pays per unit.
        unit: What a unit is (visit, household, hour, ...).
        points_per_day_max: Cap per volunteer per business date, if any.
        points_per_month_max: Cap per volunteer per month, if any.
        active_from: First business date awards may carry.
        active_to: Last business date awards may carry (None: open-ended).
        defined_seq: The entry of the definition in force (a later one replaces it).
    """

    code: str
    name: str
    points_per_unit: int
    unit: str
    points_per_day_max: int | None
    points_per_month_max: int | None
    active_from: dt.date
    active_to: dt.date | None
    defined_seq: int


@dataclass(frozen=True, slots=True)
class AccountRow:
    """One open account.

    Attributes:
        account: The account id.
        kind: Its kind (member, partner, pool, fund, ...), which fixes its balance rule.
        grid: Where it belongs, outermost first (district ... micro-grid); may be empty.
        opened_seq: The entry that opened it.
    """

    account: str
    kind: str
    grid: tuple[str, ...]
    opened_seq: int


@dataclass(frozen=True, slots=True)
class KeyRow:
    """One signing key ever registered (revoked keys included: old entries name them).

    Attributes:
        key_id: The id entries' signatures name.
        roles: What it may sign for (admin, issuer, partner, member, committee, treasurer).
        owner: The account it belongs to, if any.
        valid_from_seq: First entry it may sign.
        revoked_at_seq: The entry that revoked it (None while valid).
    """

    key_id: str
    roles: tuple[str, ...]
    owner: str | None
    valid_from_seq: int
    revoked_at_seq: int | None


def services(ledger: Ledger) -> tuple[ServiceRow, ...]:
    """The service catalogue: every service defined, by code, as currently defined."""
    return _typed_rows(ServiceRow, ledger.report_rows("services"))


def accounts(ledger: Ledger, kind: str | None = None) -> tuple[AccountRow, ...]:
    """Every open account (of one kind, or all), in the order they were opened.

    Raises:
        InvalidEventError: if ``kind`` is not None or an account kind (``"member"``, ...).
    """
    kind = _optional_filter("kind", kind)
    if kind is not None and kind not in set(AccountKind):
        names = ", ".join(k.value for k in AccountKind)
        raise InvalidEventError(f"there is no account kind {kind!r}; use one of {names}")
    return _typed_rows(AccountRow, ledger.report_rows("accounts", kind))


def registered_keys(ledger: Ledger) -> tuple[KeyRow, ...]:
    """Every key ever registered, in the order they became valid (revoked ones too)."""
    return _typed_rows(KeyRow, ledger.report_rows("keys"))


_Row = TypeVar("_Row")


def _typed_rows(row_type: type[_Row], rows: Sequence[Sequence[object]]) -> tuple[_Row, ...]:
    """Rows of a named report query as ``row_type`` (a dataclass), column by field.

    The query's columns come in the order of the dataclass's fields; each value is checked
    against its field's type, so a report never shows what a store could not have meant.

    Raises:
        IntegrityError: if a row has another number of columns, or a value of another type.
    """
    decoders = _decoders(row_type)
    build = cast("Callable[..., _Row]", row_type)
    typed = []
    for row in rows:
        if len(row) != len(decoders):
            raise IntegrityError(
                f"a {row_type.__name__} report row should have {len(decoders)} values, "
                f"found {len(row)}"
            )
        typed.append(build(*(decode(value) for decode, value in zip(decoders, row, strict=True))))
    return tuple(typed)


def _decoders(row_type: type) -> tuple[Callable[[object], object], ...]:
    """One decoder per field of the dataclass ``row_type``, in field order."""
    decoders = _ROW_DECODERS.get(row_type)
    if decoders is None:
        hints = typing.get_type_hints(row_type)
        decoders = tuple(_DECODERS[hints[f.name]] for f in dataclasses.fields(row_type))
        _ROW_DECODERS[row_type] = decoders
    return decoders


def _str_tuple(value: object) -> tuple[str, ...]:
    try:
        items = json.loads(_str(value))
    except json.JSONDecodeError as e:
        raise IntegrityError(f"a report value should be a JSON list, found {value!r}") from e
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise IntegrityError(f"a report value should be a list of text, found {value!r}")
    return tuple(items)


def _int(value: object) -> int:
    if type(value) is not int:
        raise IntegrityError(f"a report value should be a whole number, found {value!r}")
    return value


def _opt_int(value: object) -> int | None:
    return None if value is None else _int(value)


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise IntegrityError(f"a report value should be text, found {value!r}")
    return value


def _date(value: object) -> dt.date:
    try:
        return dt.date.fromisoformat(_str(value))
    except ValueError as e:
        raise IntegrityError(f"a report value should be a date, found {value!r}") from e


def _opt_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _opt_date(value: object) -> dt.date | None:
    return None if value is None else _date(value)


def _bool(value: object) -> bool:
    return bool(_int(value))


_DECODERS: Final[dict[object, Callable[[object], object]]] = {
    str: _str,
    int: _int,
    bool: _bool,
    dt.date: _date,
    str | None: _opt_str,
    int | None: _opt_int,
    dt.date | None: _opt_date,
    tuple[str, ...]: _str_tuple,
}
"""How a report value of each field type is read from a query's row."""

_ROW_DECODERS: dict[type, tuple[Callable[[object], object], ...]] = {}
