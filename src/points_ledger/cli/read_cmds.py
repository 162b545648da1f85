"""Read-only commands: balance, statement, entries, entry."""

from __future__ import annotations

import datetime as dt
import unicodedata

import click

from points_ledger.cli.app import cli, echo_json, echo_jsonl, echo_table, json_option, open_ledger
from points_ledger.cli.dates import date_option
from points_ledger.cli.render import (
    amount_text,
    b64,
    balance_to_json,
    entry_to_json,
    statement_line_to_json,
)
from points_ledger.cli.tables import balances_table, entries_table, statement_table
from points_ledger.errors import NotFoundError
from points_ledger.i18n import gettext as _
from points_ledger.i18n import label
from points_ledger.models import Asset

__all__ = ["balance", "entries", "entry", "statement"]

ASSET_CHOICE = click.Choice([a.value for a in Asset], case_sensitive=False)


@cli.command()
@click.argument("account")
@click.option("--asset", type=ASSET_CHOICE, default=None, help="Only this asset (default: all).")
@click.option("--at-seq", type=click.IntRange(min=0), default=None, help="As of after entry N.")
@click.option(
    "--at-date",
    callback=date_option,
    metavar="YYYY-MM-DD",
    help="As of the end of this business date.",
)
@json_option
def balance(
    account: str,
    asset: str | None,
    at_seq: int | None,
    at_date: dt.date | None,
    as_json: bool,
) -> None:
    """Show ACCOUNT's balance: posted, pending (open holds) and available.

    With --at-seq and/or --at-date, the posted balance as of that entry and/or the end
    of that business date (with both, only entries meeting both count).
    """
    assets = [Asset(asset.upper())] if asset else list(Asset)
    with open_ledger() as ledger:
        balances = [ledger.balance(account, a, at_seq=at_seq, at_date=at_date) for a in assets]
    if as_json:
        docs = [balance_to_json(b) for b in balances]
        if len(docs) == 1:
            echo_json(docs[0])
        else:
            echo_jsonl(docs)
        return
    click.echo(balances_table(balances).text())


@cli.command()
@click.argument("account")
@click.option("--asset", type=ASSET_CHOICE, default="PTS", show_default=True)
@click.option("--start-seq", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@json_option
def statement(account: str, asset: str, start_seq: int, limit: int, as_json: bool) -> None:
    """List ACCOUNT's postings of one asset, oldest first, with the running balance."""
    chosen = Asset(asset.upper())
    with open_ledger() as ledger:
        lines = ledger.statement(account, chosen, start_seq=start_seq, limit=limit)
    if as_json:
        echo_jsonl(statement_line_to_json(line, chosen) for line in lines)
        return
    click.echo(statement_table(lines, chosen).text())


@cli.command()
@click.option("--start", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@json_option
def entries(start: int, limit: int, as_json: bool) -> None:
    """List entries from seq START on (JSON Lines with --json, bytes in base64)."""
    with open_ledger() as ledger:
        items = list(ledger.entries(start, start + limit))
    if as_json:
        echo_jsonl(entry_to_json(e) for e in items)
        return
    click.echo(entries_table(items).text())


@cli.command()
@click.argument("seq", type=click.IntRange(min=0))
@json_option
def entry(seq: int, as_json: bool) -> None:
    """Show entry SEQ with its event, postings and signatures."""
    with open_ledger() as ledger:
        item = ledger.entry(seq)
        signers = []
        for s in item.signatures:
            try:
                record = ledger.key(s.key_id)
                roles = ",".join(r.value for r in record.roles)
                owner = record.owner or ""
            except NotFoundError:
                roles, owner = "(unknown key)", ""
            signers.append((s.key_id, roles, owner, b64(s.signature)))
    if as_json:
        echo_json(entry_to_json(item))
        return
    click.echo(
        format_fields(
            [
                (_("seq"), str(item.seq)),
                (_("kind"), label(item.kind)),
                (_("event id"), item.event_id),
                (_("effective at"), item.event.effective_at.isoformat()),
                (_("recorded at"), item.recorded_at.isoformat()),
                (_("memo"), item.event.memo),
                (_("event"), item.event_bytes.decode("utf-8", "replace")),
                (_("prev hash"), b64(item.prev_hash)),
                (_("hash"), b64(item.hash)),
            ]
        )
    )
    if item.postings:
        click.echo("")
        echo_table(
            ["account", "asset", "amount"],
            [(p.account, p.asset.value, amount_text(p.asset, p.amount)) for p in item.postings],
            right=[False, False, True],
        )
    click.echo("")
    echo_table(["signed by key", "roles", "owner", "signature"], signers)


def format_fields(fields: list[tuple[str, str]]) -> str:
    """Render ``name: value`` lines with the values aligned."""

    # Chinese labels take two columns per character on a terminal.
    def columns(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    width = max(columns(name) for name, _value in fields) + 1
    return "\n".join(
        f"{name}:{' ' * (width - columns(name))}{value}".rstrip() for name, value in fields
    )
