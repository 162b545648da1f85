"""``award --from-file``: many awards from one CSV or XLSX file, keys loaded once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from points_ledger import reports
from points_ledger.bulk import AwardRow, read_award_file
from points_ledger.cli.app import (
    EXIT_OK,
    EXIT_REFUSED,
    echo_jsonl,
    echo_table,
    load_keys,
    open_ledger,
)
from points_ledger.errors import InvalidEventError, LedgerError
from points_ledger.keys import Signer
from points_ledger.ledger import Ledger
from points_ledger.models import AppendResult

__all__ = ["award_file"]


def _points_of(result: AppendResult) -> int:
    """The points the award paid: what its postings credit the volunteer."""
    return sum(p.amount for p in result.entry.postings if p.amount > 0)


def _check_points(ledger: Ledger, rows: Sequence[AwardRow]) -> dict[int, InvalidEventError]:
    """Rows whose ``points`` column disagrees with the catalogue, by row number."""
    if all(r.points is None for r in rows):
        return {}
    per_unit = {s.code: s.points_per_unit for s in reports.services(ledger)}
    wrong: dict[int, InvalidEventError] = {}
    for r in rows:
        unit = per_unit.get(r.event.service)
        if r.points is None or unit is None:
            continue  # an unknown service is refused by the ledger with its own reason
        expected = r.event.quantity * unit
        if r.points != expected:
            wrong[r.row] = InvalidEventError(
                f"row {r.row}: the sheet says {r.points} points, but the catalogue pays "
                f"{expected} for {r.event.quantity} x {r.event.service}",
                hint="Correct the points or the quantity in the file (the catalogue decides "
                "what is paid), or leave the points column empty.",
                details={"row": r.row},
            )
    return wrong


def _named(error: LedgerError, rows: Sequence[AwardRow]) -> LedgerError:
    """``error`` from a batch, re-raised naming the file row it came from."""
    index = error.details.get("batch_index")
    if not isinstance(index, int) or not 0 <= index < len(rows):
        return error
    row = rows[index]
    try:
        named = type(error)(
            f"row {row.row} (id {row.event.id}): {error.message}; nothing was written",
            hint=error.hint,
            seq=error.seq,
            details={**error.details, "row": row.row},
        )
    except TypeError:  # a subclass with another constructor: keep the original
        return error
    return named


def _all_or_nothing(ledger: Ledger, rows: Sequence[AwardRow], signers: list[Signer]) -> list[Any]:
    wrong = _check_points(ledger, rows)
    if wrong:
        first = wrong[min(wrong)]
        raise InvalidEventError(
            f"{first.message}; nothing was written"
            + (f" ({len(wrong) - 1} more rows disagree)" if len(wrong) > 1 else ""),
            hint=first.hint,
            details={"rows": sorted(wrong)},
        )
    try:
        results = ledger.append_many([(r.event, signers) for r in rows])
    except LedgerError as e:
        raise _named(e, rows) from e
    return [_report(r, result, None) for r, result in zip(rows, results, strict=True)]


def _one_by_one(ledger: Ledger, rows: Sequence[AwardRow], signers: list[Signer]) -> list[Any]:
    wrong = _check_points(ledger, rows)
    report = []
    for r in rows:
        if r.row in wrong:
            report.append(_report(r, None, wrong[r.row]))
            continue
        try:
            result = ledger.append(r.event, signers)
        except LedgerError as e:
            report.append(_report(r, None, e))
        else:
            report.append(_report(r, result, None))
    return report


def _report(row: AwardRow, result: AppendResult | None, error: LedgerError | None) -> Any:
    line: dict[str, Any] = {
        "row": row.row,
        "event_id": row.event.id,
        "volunteer": row.event.volunteer,
        "service": row.event.service,
    }
    if result is not None:
        line.update(status=result.status, seq=result.entry.seq, points=_points_of(result))
    elif error is not None:
        line.update(status="refused", code=error.code, message=error.message)
    return line


def award_file(
    path: Path, key_paths: tuple[Path, ...], default_date: dt.date, *, per_row: bool, as_json: bool
) -> int:
    """Award every row of ``path``; print a line per row; return the exit code.

    Raises:
        LedgerError: the file cannot be read or a row is malformed (nothing written);
            without ``per_row``, also the first row the ledger refuses (nothing written).
    """
    rows = read_award_file(path, default_date=default_date)
    if not rows:
        raise InvalidEventError(
            f"{path} has no award rows", hint="Add one row per award below the header row."
        )
    with open_ledger() as ledger:
        signers = load_keys(key_paths)
        lines = (_one_by_one if per_row else _all_or_nothing)(ledger, rows, signers)
    refused = [line for line in lines if line["status"] == "refused"]
    if as_json:
        echo_jsonl(lines)
    else:
        echo_table(
            ["row", "id", "volunteer", "service", "points", "status"],
            [
                (
                    line["row"],
                    line["event_id"],
                    line["volunteer"],
                    line["service"],
                    line.get("points", ""),
                    line["status"]
                    if line["status"] != "refused"
                    else f"refused [{line['code']}]: {line['message']}",
                )
                for line in lines
            ],
            right=[True, False, False, False, True, False],
        )
        created = sum(1 for line in lines if line["status"] == "created")
        exists = sum(1 for line in lines if line["status"] == "exists")
        click.echo(
            f"{created} awarded, {exists} already in the ledger, {len(refused)} refused "
            f"(of {len(lines)} rows in {path.name})",
            err=True,
        )
    return EXIT_REFUSED if refused else EXIT_OK
