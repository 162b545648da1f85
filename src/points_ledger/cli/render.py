"""Turn ledger records into JSON documents and table cells for the command line.

JSON keeps amounts as integers in the asset's smallest unit (points, fen) and bytes as
standard base64; tables show amounts as people write them (``1,234.05`` yuan).
"""

from __future__ import annotations

import json
from typing import Any

import click

from points_ledger._base64 import encode_b64
from points_ledger.audit import AuditReport
from points_ledger.i18n import format_number, label, translate_message
from points_ledger.i18n import gettext as _
from points_ledger.models import AppendResult, Asset, Balance, Entry, KeyRecord, StatementLine
from points_ledger.models.audit import Problem

__all__ = [
    "already_recorded_text",
    "amount_text",
    "audit_text",
    "audit_to_json",
    "b64",
    "balance_to_json",
    "created_text",
    "entry_to_json",
    "key_to_json",
    "postings_text",
    "show_append",
    "statement_line_to_json",
]


def b64(data: bytes) -> str:
    """Standard base64 text of ``data`` (the library's one helper, ``encode_b64``)."""
    return encode_b64(data)


def amount_text(asset: Asset | str, amount: int) -> str:
    """An amount as people read it: ``30`` PTS, ``12.50`` CNY."""
    return Asset(asset).format_amount(amount)


def postings_text(entry: Entry) -> str:
    """A one-line summary of an entry's postings, e.g. ``issuer -30 PTS, vol:0001 +30 PTS``."""
    parts = []
    for p in entry.postings:
        sign = "+" if p.amount > 0 else ""
        parts.append(f"{p.account} {sign}{p.asset.format_amount(p.amount)} {p.asset.value}")
    return ", ".join(parts)


def entry_to_json(entry: Entry) -> dict[str, Any]:
    """One entry as a JSON-ready dict; bytes in base64, the event also parsed for reading."""
    try:
        event: Any = json.loads(entry.event_bytes)
    except ValueError:
        event = None
    return {
        "seq": entry.seq,
        "event_id": entry.event_id,
        "kind": entry.kind,
        "effective_at": entry.event.effective_at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
        "event": event,
        "event_bytes": b64(entry.event_bytes),
        "signatures": [
            {"key_id": s.key_id, "signature": b64(s.signature)} for s in entry.signatures
        ],
        "postings": [
            {"account": p.account, "asset": p.asset.value, "amount": p.amount}
            for p in entry.postings
        ],
        "prev_hash": b64(entry.prev_hash),
        "hash": b64(entry.hash),
    }


def balance_to_json(balance: Balance) -> dict[str, Any]:
    """A balance with posted, pending and available amounts (smallest unit)."""
    return {
        "account": balance.account,
        "asset": balance.asset.value,
        "posted": balance.posted,
        "pending": balance.pending,
        "available": balance.available,
    }


def statement_line_to_json(line: StatementLine, asset: Asset) -> dict[str, Any]:
    """One statement line, with the running posted balance after it."""
    return {
        "seq": line.seq,
        "event_id": line.event_id,
        "kind": line.kind,
        "effective_at": line.effective_at.isoformat(),
        "recorded_at": line.recorded_at.isoformat(),
        "asset": asset.value,
        "amount": line.amount,
        "balance": line.balance,
        "memo": line.memo,
    }


def key_to_json(record: KeyRecord) -> dict[str, Any]:
    """A registered key: id, public key, roles, owner, validity."""
    return {
        "key_id": record.key_id,
        "public_key": b64(record.public_key),
        "roles": [r.value for r in record.roles],
        "owner": record.owner,
        "valid_from_seq": record.valid_from_seq,
        "revoked_at_seq": record.revoked_at_seq,
    }


def audit_to_json(report: AuditReport) -> dict[str, Any]:
    """An audit report: ``ok``, counts and every problem listed."""
    return {
        "ok": report.ok,
        "entries_checked": report.entries_checked,
        "unanchored": report.unanchored,
        "problems_total": report.problems_total,
        "problems": [{"code": p.code, "message": p.message, "seq": p.seq} for p in report.problems],
    }


def show_append(result: AppendResult, *, as_json: bool) -> None:
    """Print what an append did: the entry created, or the one already stored."""
    entry = result.entry
    if as_json:
        click.echo(
            json.dumps({"status": result.status, **entry_to_json(entry)}, ensure_ascii=False)
        )
        return
    if result.created:
        click.echo(created_text(entry.seq, entry.kind, entry.event_id))
    else:
        click.echo(already_recorded_text(entry.seq, entry.kind, entry.event_id))
    if entry.postings:
        click.echo(_("postings: {postings}").format(postings=postings_text(entry)))


def created_text(seq: int, kind: str, event_id: str) -> str:
    """``created entry 7 (award_points, id award-0001)`` in the current language."""
    return _("created entry {seq} ({kind}, id {event_id})").format(
        seq=seq, kind=label(kind), event_id=event_id
    )


def already_recorded_text(seq: int, kind: str, event_id: str) -> str:
    """What a retry of a stored event prints: the entry it already is, nothing written."""
    return _("already recorded as entry {seq} ({kind}, id {event_id}); nothing written").format(
        seq=seq, kind=label(kind), event_id=event_id
    )


def _problem_text(problem: Problem) -> str:
    """``[code] entry N: message`` as ``str(problem)`` words it, in the current language."""
    where = "" if problem.seq is None else _("entry {seq}: ").format(seq=problem.seq)
    return f"[{problem.code}] {where}{translate_message(problem.message)}"


def audit_text(report: AuditReport) -> str:
    """An audit report's summary as :meth:`AuditReport.to_text` words it, translated."""
    if report.unanchored:
        anchoring = _(
            "{count} entries are not yet under a checkpoint held outside the file"
        ).format(count=format_number(report.unanchored))
    else:
        anchoring = _("every entry is under a checkpoint held outside the file")
    if report.ok:
        lines = [
            _("audit passed: {count} entries checked, no problems").format(
                count=format_number(report.entries_checked)
            ),
            anchoring,
        ]
    else:
        lines = [
            _("audit FAILED: {problems} problem(s) in {count} entries checked").format(
                problems=format_number(report.problems_total),
                count=format_number(report.entries_checked),
            )
        ]
        lines += [f"  {_problem_text(p)}" for p in report.problems]
    lines += [
        "  " + _("finding: {finding}").format(finding=_problem_text(f)) for f in report.findings
    ]
    return "\n".join(lines)
