"""The tables the command line and the REPL both print, built in one place.

``points-ledger balance`` and ``.balance``, ``statement`` and ``.statement``, ``entries``
and ``.entries``, ``report`` and ``.report`` without a name show the same columns; each
is a :class:`Table` made here, which either face prints with :meth:`Table.text`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from points_ledger.cli.render import amount_text, postings_text
from points_ledger.cli.report_views import REPORTS
from points_ledger.demo import format_table
from points_ledger.i18n import gettext, label_rows
from points_ledger.models import Asset, Balance, Entry, StatementLine

__all__ = ["Table", "balances_table", "entries_table", "reports_table", "statement_table"]


@dataclass(frozen=True)
class Table:
    """Headers (English, translated when printed), rows, and which columns align right."""

    headers: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    right: tuple[bool, ...] | None = None

    def text(self) -> str:
        """The aligned table (CJK-aware widths), its headers in the current language."""
        right: Sequence[bool] | None = self.right
        rows = label_rows(self.headers, self.rows)
        return format_table([gettext(h) for h in self.headers], rows, right=right)


def balances_table(balances: Iterable[Balance]) -> Table:
    """Posted, pending and available balance, one row per account and asset."""
    return Table(
        headers=("account", "asset", "posted", "pending", "available"),
        rows=tuple(
            (
                b.account,
                b.asset.value,
                amount_text(b.asset, b.posted),
                amount_text(b.asset, b.pending),
                amount_text(b.asset, b.available),
            )
            for b in balances
        ),
        right=(False, False, True, True, True),
    )


def statement_table(lines: Iterable[StatementLine], asset: Asset) -> Table:
    """An account's postings of one asset with the running balance."""
    return Table(
        headers=("seq", "date", "kind", "event id", "amount", "balance", "memo"),
        rows=tuple(
            (
                line.seq,
                line.effective_at.isoformat(),
                line.kind,
                line.event_id,
                amount_text(asset, line.amount),
                amount_text(asset, line.balance),
                line.memo,
            )
            for line in lines
        ),
        right=(True, False, False, False, True, True, False),
    )


def entries_table(entries: Iterable[Entry]) -> Table:
    """Entries with their business date, kind, event id and postings in one line."""
    return Table(
        headers=("seq", "date", "kind", "event id", "postings"),
        rows=tuple(
            (e.seq, e.event.effective_at.isoformat(), e.kind, e.event_id, postings_text(e))
            for e in entries
        ),
    )


def reports_table() -> Table:
    """Every report view: its name, its arguments and what it shows (translated)."""
    return Table(
        headers=("report", "arguments", "what it shows"),
        rows=tuple((spec.name, spec.usage, gettext(spec.summary)) for spec in REPORTS.values()),
    )
