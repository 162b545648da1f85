"""Every report of :mod:`points_ledger.reports` as a table and as JSON, by name.

Shared by ``points-ledger report NAME [ARGS]...`` and the REPL's ``.report NAME [ARGS]``,
so both take the same positional arguments and print the same thing. Add a report by
writing a function ``(ledger, args) -> ReportView`` and registering it with
:func:`report_view`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel

from points_ledger import reports
from points_ledger.cli.dates import parse_date
from points_ledger.demo import format_table
from points_ledger.i18n import N_, format_number, label
from points_ledger.i18n import gettext as _
from points_ledger.ledger import Ledger
from points_ledger.models import AccountKind, Asset
from points_ledger.split import format_fen

__all__ = [
    "REPORTS",
    "ReportArgsError",
    "ReportSpec",
    "ReportView",
    "report_view",
    "row_to_json",
    "run_report",
]


class ReportArgsError(ValueError):
    """A report was asked for with missing or malformed arguments (a usage error)."""


@dataclass(frozen=True)
class ReportView:
    """A report ready to print.

    Attributes:
        title: One line saying what the table shows (with totals where there are any).
        headers: Column names.
        rows: Table cells, already formatted for people.
        right: Per column, True to right-align (amounts).
        lines: The typed rows as JSON-ready dicts (smallest units, ISO dates).
        summary: For reports about one thing (an account, a pool, a settlement), the
            figures about it as JSON; None for plain lists.
    """

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    right: tuple[bool, ...]
    lines: tuple[dict[str, Any], ...]
    summary: dict[str, Any] | None = field(default=None)

    def to_text(self) -> str:
        """The title and the aligned table."""
        return f"{self.title}\n{format_table(self.headers, self.rows, right=self.right)}"

    def to_json(self) -> list[dict[str, Any]]:
        """JSON documents: one per row, or one document with ``lines`` when summarised."""
        if self.summary is None:
            return list(self.lines)
        return [{**self.summary, "lines": list(self.lines)}]


@dataclass(frozen=True)
class ReportSpec:
    """A named report.

    Attributes:
        name: The name typed after ``report``.
        usage: Its positional arguments, e.g. ``"ACCOUNT [ASSET]"``.
        summary: One line saying what it shows.
        run: Builds the view from a ledger and the arguments.
    """

    name: str
    usage: str
    summary: str
    run: Callable[[Ledger, Sequence[str]], ReportView]


REPORTS: dict[str, ReportSpec] = {}
"""Every report by name, in the order they are listed."""


def report_view(
    name: str, usage: str, summary: str
) -> Callable[[Callable[[Ledger, Sequence[str]], ReportView]], Callable[..., ReportView]]:
    """Decorator registering ``run(ledger, args)`` as report ``name``."""

    def register(
        run: Callable[[Ledger, Sequence[str]], ReportView],
    ) -> Callable[[Ledger, Sequence[str]], ReportView]:
        REPORTS[name] = ReportSpec(name=name, usage=usage, summary=summary, run=run)
        return run

    return register


def run_report(ledger: Ledger, name: str, args: Sequence[str]) -> ReportView:
    """Run report ``name`` with positional ``args``.

    Raises:
        ReportArgsError: if there is no such report or its arguments are wrong.
        LedgerError: whatever the report itself raises (unknown account, bad period).
    """
    spec = REPORTS.get(name)
    if spec is None:
        raise ReportArgsError(f"there is no report {name!r}; reports: {', '.join(REPORTS)}")
    return spec.run(ledger, list(args))


def row_to_json(row: object) -> dict[str, Any]:
    """A report row (a dataclass or model) as a JSON-ready dict: ISO dates, enums as text."""
    if isinstance(row, BaseModel):
        return {k: v for k, v in row.model_dump(mode="json").items() if not isinstance(v, list)}
    result: dict[str, Any] = {}
    for item in dataclasses.fields(row):  # type: ignore[arg-type]
        value = getattr(row, item.name)
        if isinstance(value, dt.date | dt.datetime):
            value = value.isoformat()
        elif isinstance(value, Asset):
            value = value.value
        elif isinstance(value, tuple):
            if not all(isinstance(v, str) for v in value):
                continue  # nested lines are reported separately
            value = list(value)  # a grid path, a key's roles
        result[item.name] = value
    return result


def _args(args: Sequence[str], usage: str, low: int, high: int) -> list[str]:
    if not low <= len(args) <= high:
        raise ReportArgsError(f"expected {usage}")
    return list(args)


def _date(text: str) -> dt.date:
    try:
        return parse_date(text)
    except ValueError as e:
        raise ReportArgsError(str(e)) from e


_DIGITS_MAX = 18
"""Longest whole number a report argument may be (every seq and limit fits)."""


def _whole(text: str, what: str) -> int:
    # isdigit() alone accepts digits int() refuses ("²") and numbers too long to read.
    if not (text.isascii() and text.isdigit()) or len(text) > _DIGITS_MAX:
        raise ReportArgsError(
            f"{what} {text[:20]!r} is not a whole number of at most {_DIGITS_MAX} digits"
        )
    return int(text)


def _shanghai() -> dt.tzinfo:
    try:
        return ZoneInfo("Asia/Shanghai")
    except ZoneInfoNotFoundError:
        return dt.timezone(dt.timedelta(hours=8))


# -- the reports ---------------------------------------------------------------------------


@report_view("member-statement", "ACCOUNT [ASSET]", "an account's balance and postings")
def _member_statement(ledger: Ledger, args: Sequence[str]) -> ReportView:
    account, *rest = _args(args, "ACCOUNT [ASSET]", 1, 2)
    try:
        asset = Asset(rest[0].upper()) if rest else Asset.PTS
    except ValueError as e:
        raise ReportArgsError(f"unknown asset {rest[0]!r}; use PTS or CNY") from e
    report = reports.member_statement(ledger, account, asset)

    def text(amount: int) -> str:
        return asset.format_amount(amount)

    return ReportView(
        title=_(
            "{account} {asset}: posted {posted}, pending {pending}, available {available}"
        ).format(
            account=account,
            asset=asset.value,
            posted=text(report.posted),
            pending=text(report.pending),
            available=text(report.available),
        ),
        headers=("seq", "date", "kind", "amount", "balance", "memo"),
        rows=tuple(
            (
                line.seq,
                line.effective_at.isoformat(),
                line.kind,
                text(line.amount),
                text(line.balance),
                line.memo,
            )
            for line in report.lines
        ),
        right=(True, False, False, True, True, False),
        lines=tuple(row_to_json(line) for line in report.lines),
        summary=row_to_json(report),
    )


@report_view("points-by-service-month", "", "points awarded per service per month")
def _points_by_service(ledger: Ledger, args: Sequence[str]) -> ReportView:
    _args(args, N_("no arguments"), 0, 0)
    rows = reports.points_issued_by_service_month(ledger)
    return ReportView(
        title=_("Points issued per service per month: {total} in all").format(
            total=f"{sum(r.points for r in rows):,}"
        ),
        headers=("month", "service", "awards", "quantity", "points"),
        rows=tuple((r.month, r.service, r.awards, r.quantity, r.points) for r in rows),
        right=(False, False, True, True, True),
        lines=tuple(row_to_json(r) for r in rows),
    )


@report_view("top-volunteers", "FROM TO [LIMIT]", "who earned most in each grid cell")
def _top_volunteers(ledger: Ledger, args: Sequence[str]) -> ReportView:
    start, end, *rest = _args(args, N_("FROM TO [LIMIT] (dates YYYY-MM-DD)"), 2, 3)
    limit = _whole(rest[0], "limit") if rest else 3
    rows = reports.top_volunteers_by_grid_cell(
        ledger, period_from=_date(start), period_to=_date(end), limit=limit
    )
    return ReportView(
        title=_("Top {limit} volunteers per grid cell, {start} to {end}").format(
            limit=limit, start=start, end=end
        ),
        headers=("cell", "rank", "volunteer", "points", "awards"),
        rows=tuple((r.grid_cell, r.rank, r.volunteer, r.points, r.awards) for r in rows),
        right=(False, True, False, True, True),
        lines=tuple(row_to_json(r) for r in rows),
    )


@report_view("pool", "POOL", "a charity pool's inflows, outflows and balance")
def _pool(ledger: Ledger, args: Sequence[str]) -> ReportView:
    (pool,) = _args(args, "POOL", 1, 1)
    report = reports.pool_report(ledger, pool)
    return ReportView(
        title=_("Pool {pool}: in {inflows}, out {outflows}, balance {balance} PTS").format(
            pool=pool,
            inflows=format_number(report.inflows),
            outflows=format_number(report.outflows),
            balance=format_number(report.balance),
        ),
        headers=("seq", "date", "kind", "counterparty", "points", "purpose"),
        rows=tuple(
            (r.seq, r.effective_at.isoformat(), r.kind, r.counterparty, r.amount, r.purpose)
            for r in report.lines
        ),
        right=(True, False, False, False, True, False),
        lines=tuple(row_to_json(r) for r in report.lines),
        summary=row_to_json(report),
    )


@report_view("offers", "[PARTNER]", "the points mall: price, unreserved stock")
def _offers(ledger: Ledger, args: Sequence[str]) -> ReportView:
    rest = _args(args, "[PARTNER]", 0, 1)
    rows = reports.offers(ledger, rest[0] if rest else None)
    return ReportView(
        title=_("Offers: {count} listed").format(count=sum(r.active for r in rows)),
        headers=("offer", "partner", "item", "price", "stock", "listed"),
        rows=tuple(
            (r.offer, r.partner, r.item, r.price_points, r.stock, "yes" if r.active else "no")
            for r in rows
        ),
        right=(False, False, False, True, True, False),
        lines=tuple(row_to_json(r) for r in rows),
    )


@report_view("redemptions", "[PARTNER]", "every redemption hold and its status")
def _redemptions(ledger: Ledger, args: Sequence[str]) -> ReportView:
    rest = _args(args, "[PARTNER]", 0, 1)
    rows = reports.partner_redemptions(ledger, rest[0] if rest else None)
    return ReportView(
        title=_("Redemptions: {count}").format(count=len(rows)),
        headers=("voucher", "partner", "member", "offer", "points", "status", "settled by"),
        rows=tuple(
            (
                r.voucher,
                r.partner,
                r.member,
                r.offer,
                r.points,
                r.status,
                "" if r.settled_seq is None else r.settled_seq,
            )
            for r in rows
        ),
        right=(False, False, False, False, True, False, True),
        lines=tuple(row_to_json(r) for r in rows),
    )


@report_view("settlements", "[PARTNER]", "every partner settlement paid in CNY")
def _settlements(ledger: Ledger, args: Sequence[str]) -> ReportView:
    rest = _args(args, "[PARTNER]", 0, 1)
    rows = reports.partner_settlements(ledger, rest[0] if rest else None)
    return ReportView(
        title=_("Settlements: {cny} CNY paid").format(cny=format_fen(sum(r.fen for r in rows))),
        headers=("seq", "date", "partner", "fund", "period", "redemptions", "points", "CNY"),
        rows=tuple(
            (
                r.seq,
                r.effective_at.isoformat(),
                r.partner,
                r.fund,
                f"{r.period_from} to {r.period_to}",
                r.redemptions,
                r.points,
                format_fen(r.fen),
            )
            for r in rows
        ),
        right=(True, False, False, False, False, True, True, True),
        lines=tuple(row_to_json(r) for r in rows),
    )


@report_view(
    "outstanding-holds", "[AS_OF]", "holds not confirmed or voided (AS_OF: ISO time, default now)"
)
def _outstanding_holds(ledger: Ledger, args: Sequence[str]) -> ReportView:
    rest = _args(args, N_("[AS_OF] (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"), 0, 1)
    if rest:
        try:
            as_of = dt.datetime.fromisoformat(rest[0])
        except ValueError as e:
            raise ReportArgsError(f"{rest[0]!r} is not a date or time (ISO 8601)") from e
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=_shanghai())
    else:
        as_of = ledger.clock()
    rows = reports.outstanding_holds(ledger, as_of=as_of)
    return ReportView(
        title=f"Outstanding holds at {as_of.isoformat(timespec='minutes')}: {len(rows)}",
        headers=("voucher", "member", "offer", "points", "expires at (UTC)", "expired"),
        rows=tuple(
            (
                r.voucher,
                r.member,
                r.offer,
                r.points,
                r.expires_at.astimezone(dt.UTC).isoformat(timespec="minutes"),
                "yes" if r.expired else "no",
            )
            for r in rows
        ),
        right=(False, False, False, True, False, False),
        lines=tuple(row_to_json(r) for r in rows),
    )


@report_view("settlement-statement", "SEQ", "what one settlement paid for, re-derived")
def _settlement_statement(ledger: Ledger, args: Sequence[str]) -> ReportView:
    (seq_text,) = _args(args, "SEQ", 1, 1)
    report = reports.settlement_statement(ledger, _whole(seq_text, "seq"))
    return ReportView(
        title=_(
            "Settlement {seq} to {partner}: {points} points x {fen_per_point} fen = {cny} CNY"
        ).format(
            seq=report.seq,
            partner=report.partner,
            points=format_number(report.points),
            fen_per_point=report.fen_per_point,
            cny=format_fen(report.fen),
        ),
        headers=("voucher", "confirmed", "member", "item", "points", "fen"),
        rows=tuple(
            (x.voucher, x.confirmed_on.isoformat(), x.member, x.item, x.points, x.fen)
            for x in report.lines
        ),
        right=(False, False, False, False, True, True),
        lines=tuple(row_to_json(x) for x in report.lines),
        summary=row_to_json(report),
    )


@report_view("services", "", "the service catalogue awards are priced from")
def _services(ledger: Ledger, args: Sequence[str]) -> ReportView:
    _args(args, N_("no arguments"), 0, 0)
    rows = reports.services(ledger)
    return ReportView(
        title=_("Service catalogue: {count} services").format(count=len(rows)),
        headers=("code", "name", "points/unit", "unit", "day max", "month max", "active", "seq"),
        rows=tuple(
            (
                r.code,
                r.name,
                r.points_per_unit,
                r.unit,
                "" if r.points_per_day_max is None else r.points_per_day_max,
                "" if r.points_per_month_max is None else r.points_per_month_max,
                _("{start} to {end}").format(
                    start=r.active_from.isoformat(),
                    end=r.active_to.isoformat() if r.active_to else _("open end"),
                ),
                r.defined_seq,
            )
            for r in rows
        ),
        right=(False, False, True, False, True, True, False, True),
        lines=tuple(row_to_json(r) for r in rows),
    )


@report_view("accounts", "[KIND]", "every open account, its kind and grid")
def _accounts(ledger: Ledger, args: Sequence[str]) -> ReportView:
    rest = _args(args, "[KIND]", 0, 1)
    rows = reports.accounts(ledger, _account_kind(rest[0]) if rest else None)
    return ReportView(
        title=_("Accounts: {count}").format(count=len(rows)),
        headers=("account", "kind", "grid", "opened"),
        rows=tuple((r.account, r.kind, " / ".join(r.grid), r.opened_seq) for r in rows),
        right=(False, False, False, True),
        lines=tuple(row_to_json(r) for r in rows),
    )


def _account_kind(kind: str) -> str:
    """The account kind ``kind`` names: its code, or its label in the current language."""
    for known in AccountKind:
        if kind in (known.value, label(known.value)):
            return known.value
    names = ", ".join(k.value for k in AccountKind)
    raise ReportArgsError(f"there is no account kind {kind!r}; use one of {names}")


@report_view("keys", "", "every key ever registered: roles, owner, validity")
def _keys(ledger: Ledger, args: Sequence[str]) -> ReportView:
    _args(args, N_("no arguments"), 0, 0)
    rows = reports.registered_keys(ledger)
    return ReportView(
        title=_("Keys: {valid} valid, {count} registered").format(
            valid=sum(r.revoked_at_seq is None for r in rows), count=len(rows)
        ),
        headers=("key id", "roles", "owner", "from", "revoked at"),
        rows=tuple(
            (
                r.key_id,
                ", ".join(r.roles),
                r.owner or "",
                r.valid_from_seq,
                "" if r.revoked_at_seq is None else r.revoked_at_seq,
            )
            for r in rows
        ),
        right=(False, False, False, True, True),
        lines=tuple(row_to_json(r) for r in rows),
    )


@report_view("distribution", "SEQ", "what one distribution paid and why, re-derived")
def _distribution(ledger: Ledger, args: Sequence[str]) -> ReportView:
    (seq_text,) = _args(args, "SEQ", 1, 1)
    seq = _whole(seq_text, "seq")
    result = ledger.explain_distribution(seq)
    return ReportView(
        title=f"Distribution, entry {seq}, re-derived from the log:\n{result.trace.to_text()}\n",
        headers=("account", "CNY"),
        rows=tuple((account, format_fen(fen)) for account, fen in result.amounts.items()),
        right=(False, True),
        lines=tuple({"account": account, "fen": fen} for account, fen in result.amounts.items()),
        summary={
            "seq": seq,
            "amount": result.amount,
            "investor_amount": result.investor_amount,
            "bucket_totals": dict(result.bucket_totals),
            "trace": result.trace.to_text(),
        },
    )
