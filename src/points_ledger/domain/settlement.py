"""Handlers for paying alliance partners in money for the points they redeemed.

:class:`SetSettlementRate` is signed by the admin quorum (and the committee quorum once the
committee is seated) and :class:`SettlePartner` by a
treasurer: the people who fix the price are not the person who pays (four eyes).

A settlement covers every confirmed, unsettled redemption of the partner whose
confirmation business date lies in the period. It posts ``points x fen_per_point`` fen
from the fund to the partner and retires the redeemed points (partner to ``issuer``), so
points that have been paid for in money leave circulation exactly once.

State records: ``settlement_rate``: ``current`` -> rate; ``settlement``: seq -> summary
(the covered vouchers in order, points, fen, rate); each covered hold gets ``settled_seq``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Final

from points_ledger.domain.admin import require_account, require_config, seated_committee
from points_ledger.domain.alliance import HOLD_NS, UNSETTLED_NS, require_partner
from points_ledger.domain.state import (
    DeriveContext,
    Plan,
    StatePut,
    StateView,
    register_handler,
)
from points_ledger.domain.working import WorkingState
from points_ledger.errors import InvalidEventError, LimitExceededError, NotFoundError
from points_ledger.models.common import AMOUNT_MAX, AccountKind, Asset, Role
from points_ledger.models.community import SetSettlementRate, SettlePartner
from points_ledger.models.events import Posting
from points_ledger.models.records import HoldRecord, SettlementRateRecord, SettlementRecord
from points_ledger.policy import AllOf, NotOwnedBy, RoleQuorum, all_of

__all__ = ["RATE_NS", "SETTLEMENT_NS", "current_rate", "settlement_covers", "settlement_fen"]

RATE_NS: Final = "settlement_rate"
SETTLEMENT_NS: Final = "settlement"


def settlement_covers(confirmed_on: str | None, period_from: dt.date, period_to: dt.date) -> bool:
    """Whether a settlement for the period covers a redemption confirmed on ``confirmed_on``.

    The settlement rule, in one place: a not yet settled redemption is covered when its
    confirmation's business date (``YYYY-MM-DD``) lies in the period, both ends included.
    The handler applies it to the partner's unsettled holds; the settlement statement in
    :mod:`points_ledger.reports` applies it again to the log to re-derive what was paid.
    """
    if confirmed_on is None:
        return False
    return period_from.isoformat() <= confirmed_on <= period_to.isoformat()


def settlement_fen(points: int, fen_per_point: int) -> int:
    """What a settlement pays in fen for ``points`` redeemed points at the rate."""
    return points * fen_per_point


def current_rate(state: StateView) -> int:
    """The settlement rate in fen per point.

    Raises:
        NotFoundError: if no rate has been set.
        IntegrityError: if the stored rate cannot be read.
    """
    record = SettlementRateRecord.read(state.get(RATE_NS, "current"), "current")
    if record is None:
        raise NotFoundError(
            "no settlement rate has been set",
            hint="The admins set one first (points-ledger settlement-rate set, or a "
            "SetSettlementRate event).",
        )
    return record.fen_per_point


@register_handler(SetSettlementRate)
def _set_rate(event: SetSettlementRate, state: StateView, ctx: DeriveContext) -> Plan:
    config = require_config(state)
    value = SettlementRateRecord(fen_per_point=event.fen_per_point, set_seq=ctx.seq)
    # The price of a point in money is the committee's decision too, once it is seated.
    return Plan(
        requirement=all_of([config.policy.admins(), *seated_committee(state, config)]),
        changes=(StatePut(RATE_NS, "current", value.to_json()),),
    )


@register_handler(SettlePartner)
def _settle(event: SettlePartner, state: StateView, ctx: DeriveContext) -> Plan:
    require_config(state)
    require_partner(state, event.partner)
    fund = require_account(state, event.fund)
    if fund.kind is not AccountKind.FUND:
        raise InvalidEventError(
            f"settlements are paid from a fund account; {event.fund!r} is a "
            f"{fund.kind.value} account"
        )
    rate = current_rate(state)
    work = WorkingState(state)
    remaining: list[str] = []
    covered: list[str] = []
    points = 0
    for voucher in work.get(UNSETTLED_NS, event.partner) or []:
        hold = HoldRecord.from_json(work.get(HOLD_NS, voucher), voucher)
        if settlement_covers(hold.confirmed_on, event.period_from, event.period_to):
            covered.append(voucher)
            points += hold.points
            work.put(HOLD_NS, voucher, dataclasses.replace(hold, settled_seq=ctx.seq).to_json())
        else:
            remaining.append(voucher)
    if not covered:
        raise InvalidEventError(
            f"partner {event.partner!r} has no unsettled redemptions confirmed from "
            f"{event.period_from.isoformat()} to {event.period_to.isoformat()}"
        )
    fen = settlement_fen(points, rate)
    if fen > AMOUNT_MAX:
        raise LimitExceededError("the settlement is too large for one entry; split the period")
    work.put(UNSETTLED_NS, event.partner, remaining)
    summary = SettlementRecord(
        partner=event.partner,
        fund=event.fund,
        vouchers=tuple(covered),
        points=points,
        fen=fen,
        fen_per_point=rate,
    )
    work.put(SETTLEMENT_NS, str(ctx.seq), summary.to_json())
    postings = (
        Posting(account=event.fund, asset=Asset.CNY, amount=-fen),
        Posting(account=event.partner, asset=Asset.CNY, amount=fen),
        Posting(account=event.partner, asset=Asset.PTS, amount=-points),
        Posting(account="issuer", asset=Asset.PTS, amount=points),
    )
    return Plan(
        requirement=AllOf(RoleQuorum(Role.TREASURER), NotOwnedBy(event.partner)),
        postings=postings,
        changes=work.changes(),
    )
