"""The public notice board (公示): a static site residents can read and check themselves.

:func:`publish` writes a folder that any plain web server or object store can serve and
that also works opened from a disk (``file://``):

* ``checkpoint`` and ``tile/...``: the log as C2SP tlog-tiles (see :mod:`points_ledger.tiles`),
  so an auditor can fetch every entry hash and rebuild the root without the database;
* ``entries/<N>[.p/<W>].json``: beside each entry bundle, the full entries it holds (event
  bytes, signatures, postings), from which each entry hash can be recomputed;
* ``index.html`` and ``notice/YYYY-MM.html``: monthly notices in Chinese with English beside,
  every number taken from :mod:`points_ledger.reports` (and ``Ledger.explain_distribution``),
  charts as plain inline SVG;
* ``receipt.html``, ``assets/receipt.js`` and ``assets/log-data.js``: a page that checks a
  resident's receipt file in the browser, offline, against the published log key and
  witness keys (Ed25519 through WebCrypto, SHA-256 Merkle inclusion).

Publishing again appends: full tiles and the pages of months before the newest one are
never rewritten, and the new checkpoint must be proven consistent with the one already in
the folder, or nothing is written. The site carries account ids only.
"""

from __future__ import annotations

import html
import json
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from points_ledger import reports
from points_ledger._base64 import encode_b64
from points_ledger.errors import (
    IntegrityError,
    InvalidEventError,
    LedgerError,
    NoteError,
    NotFoundError,
    ProofError,
)
from points_ledger.log_notes import log_verifier, verify_checkpoint_note
from points_ledger.merkle import verify_consistency
from points_ledger.models.common import to_microseconds
from points_ledger.notes import ALG_COSIGNATURE_V1, CheckpointBody, NoteVerifier, open_note
from points_ledger.notice_text import both
from points_ledger.receipts import Receipt, verify_receipt
from points_ledger.split.text import format_fen
from points_ledger.tiles import TILE_WIDTH, tile_path, write_once, write_tiles

if TYPE_CHECKING:
    from points_ledger.ledger import Ledger
    from points_ledger.models.entries import Entry

__all__ = [
    "MonthNotice",
    "PublishResult",
    "bar_chart",
    "entry_data_path",
    "entry_record",
    "month_notices",
    "printable_receipt",
    "publish",
    "receipt_page_url",
    "receipt_qr_text",
    "render_index",
    "render_month",
    "render_receipt_page",
]

_ASSETS: Final = Path(__file__).with_name("site")
_CHECKPOINT: Final = "checkpoint"
_SITE_URL_MAX: Final = 300


@dataclass(frozen=True)
class PublishResult:
    """What :func:`publish` did.

    Attributes:
        directory: The site folder.
        size: Entries in the published log (the checkpoint's size).
        root_hash: The published checkpoint's root.
        previous_size: Size of the checkpoint that was there before (None for a new site).
        witnessed_by: Names of the given witnesses whose cosignature the checkpoint carries.
        months: Every month with a notice page, oldest first.
        written: Paths written this time, relative to the folder (tiles, pages, assets).
        late_months: Closed months whose published page no longer says what the reports
            say, because an entry dated in that month was recorded after the page was
            published. The page is left as it was; announce the late entries.
    """

    directory: Path
    size: int
    root_hash: bytes
    previous_size: int | None
    witnessed_by: tuple[str, ...]
    months: tuple[str, ...]
    written: tuple[str, ...]
    late_months: tuple[str, ...] = ()


@dataclass(frozen=True)
class MonthNotice:
    """The numbers one month's notice page shows, all read from :mod:`points_ledger.reports`.

    Attributes:
        month: ``YYYY-MM``.
        pool_lines: ``(pool, row)`` for every charity pool movement dated in the month.
        pool_totals: ``pool -> (inflow, outflow, balance to the month's end)``, in points
            (charity pools hold points).
        signers: Entry seq to the key ids that signed it (pool movements and distributions),
            each with the roles the key was registered for, as ``key_id (role/role)``.
        distributions: ``(seq, period, distribution)`` of every distribution in the month.
        services: Points issued per service in the month.
        grids: Points issued per grid cell in the month.
        settlements: Partner settlements dated in the month.
    """

    month: str
    pool_lines: tuple[tuple[str, reports.PoolFlowRow], ...]
    pool_totals: dict[str, tuple[int, int, int]]
    signers: dict[int, tuple[str, ...]]
    distributions: tuple[tuple[int, str, object], ...]
    services: tuple[reports.ServiceMonthRow, ...]
    grids: tuple[reports.GridMonthRow, ...]
    settlements: tuple[reports.SettlementRow, ...]


# --------------------------------------------------------------------------- numbers


def month_notices(ledger: Ledger) -> list[MonthNotice]:
    """The numbers of every month's notice, oldest month first.

    Every figure comes from :mod:`points_ledger.reports` or
    :meth:`~points_ledger.ledger.Ledger.explain_distribution`, so a notice says exactly what
    the reports say.
    """
    pools = [row.account for row in reports.accounts(ledger, kind="pool")]
    roles = {row.key_id: row.roles for row in reports.registered_keys(ledger)}
    pool_reports = {pool: reports.pool_report(ledger, pool) for pool in pools}
    services = reports.points_issued_by_service_month(ledger)
    grids = reports.points_issued_by_grid_month(ledger)
    settlements = reports.partner_settlements(ledger)
    distributions: list[tuple[str, int, str, object]] = []
    for entry in ledger.entries():
        if entry.kind == "distribute":
            month = entry.event.effective_at.isoformat()[:7]
            period = str(getattr(entry.event, "period", ""))
            distributions.append((month, entry.seq, period, ledger.explain_distribution(entry.seq)))
    months = sorted(
        {line.effective_at.isoformat()[:7] for r in pool_reports.values() for line in r.lines}
        | {row.month for row in services}
        | {row.month for row in grids}
        | {row.effective_at.isoformat()[:7] for row in settlements}
        | {d[0] for d in distributions}
    )
    notices: list[MonthNotice] = []
    for month in months:
        pool_lines = tuple(
            (pool, line)
            for pool, report in pool_reports.items()
            for line in report.lines
            if line.effective_at.isoformat()[:7] == month
        )
        totals: dict[str, tuple[int, int, int]] = {}
        for pool, report in pool_reports.items():
            mine = [ln.amount for ln in report.lines if ln.effective_at.isoformat()[:7] == month]
            upto = [ln.amount for ln in report.lines if ln.effective_at.isoformat()[:7] <= month]
            if mine:
                totals[pool] = (
                    sum(a for a in mine if a > 0),
                    -sum(a for a in mine if a < 0),
                    sum(upto),
                )
        mine_distributions = tuple((d[1], d[2], d[3]) for d in distributions if d[0] == month)
        seqs = {line.seq for _pool, line in pool_lines} | {d[0] for d in mine_distributions}
        signers = {
            seq: tuple(_with_roles(s.key_id, roles) for s in ledger.entry(seq).signatures)
            for seq in seqs
        }
        notices.append(
            MonthNotice(
                month=month,
                pool_lines=pool_lines,
                pool_totals=totals,
                signers=signers,
                distributions=mine_distributions,
                services=tuple(r for r in services if r.month == month),
                grids=tuple(r for r in grids if r.month == month),
                settlements=tuple(
                    r for r in settlements if r.effective_at.isoformat()[:7] == month
                ),
            )
        )
    return notices


def _with_roles(key_id: str, roles: dict[str, tuple[str, ...]]) -> str:
    held = roles.get(key_id, ())
    return f"{key_id} ({'/'.join(held)})" if held else key_id


# --------------------------------------------------------------------------- publishing


def _b64(data: bytes) -> str:
    return encode_b64(data)


def _witness_verifiers(witnesses: Iterable[str]) -> list[NoteVerifier]:
    verifiers: list[NoteVerifier] = []
    for vkey in witnesses:
        if not isinstance(vkey, str):
            raise NoteError("a witness key is a verifier key string (name+hex8+base64)")
        verifier = NoteVerifier.from_vkey(vkey)
        if verifier.algorithm != ALG_COSIGNATURE_V1:
            raise NoteError(
                f"{verifier.name} is not a witness cosignature key",
                hint="Give the witness's verifier key, as 'points-ledger witness vkey' prints it.",
            )
        verifiers.append(verifier)
    return verifiers


def _witnessed_by(note: str, witnesses: Sequence[NoteVerifier]) -> tuple[str, ...]:
    names: list[str] = []
    for verifier in witnesses:
        try:
            open_note(note, [verifier])
        except NoteError:
            continue
        names.append(verifier.name)
    return tuple(names)


def _previous_checkpoint(folder: Path, verifier: NoteVerifier) -> CheckpointBody | None:
    path = folder / _CHECKPOINT
    if not path.exists():
        return None
    try:
        return verify_checkpoint_note(path.read_bytes(), verifier)
    except LedgerError as e:
        raise IntegrityError(
            f"the folder already holds a checkpoint that is not this ledger's: {e}",
            hint="Publish each ledger into its own folder.",
        ) from e


def _check_consistent(ledger: Ledger, old: CheckpointBody, new: CheckpointBody) -> None:
    if old.size > new.size:
        raise IntegrityError(
            f"the folder already shows {old.size} entries; this checkpoint has only "
            f"{new.size}: publishing it would take entries back",
            hint="Publish a checkpoint at least as large as the one already published.",
            details={"published_size": old.size},
        )
    try:
        proof = ledger.prove_consistency(old.size, new.size)
        verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash)
    except (ProofError, NotFoundError) as e:
        raise IntegrityError(
            f"refusing to publish: the log is not consistent with the checkpoint of "
            f"{old.size} entries already published ({e})",
            hint="The ledger's history differs from what residents were shown. Stop and "
            "have the auditor compare the published folder with the ledger file.",
            details={"published_size": old.size},
        ) from e


def entry_data_path(index: int, width: int = TILE_WIDTH) -> str:
    """Where the full entries of bundle ``index`` are published: ``entries/<N>[.p/<W>].json``.

    ``N`` and ``W`` are written as in the bundle's tlog-tiles path.
    """
    return "entries/" + tile_path("entries", index, width).removeprefix("tile/entries/") + ".json"


def entry_record(entry: Entry) -> dict[str, object]:
    """One entry as the site publishes it beside the tiles: every field its hash covers.

    ``seq``, ``recorded_at_us``, ``event`` (the exact signed bytes, base64), ``signatures``
    (``key_id``, ``signature`` base64), ``postings`` (``account``, ``asset``, ``amount``),
    ``prev_hash`` and ``entry_hash`` (base64): the same fields and encodings as a receipt, so
    :func:`points_ledger.canonical.entry_hash` of them gives back the bundle's entry.
    """
    return {
        "seq": entry.seq,
        "recorded_at_us": to_microseconds(entry.recorded_at),
        "event": _b64(entry.event_bytes),
        "signatures": [
            {"key_id": s.key_id, "signature": _b64(s.signature)} for s in entry.signatures
        ],
        "postings": [
            {"account": p.account, "asset": p.asset.value, "amount": p.amount}
            for p in entry.postings
        ],
        "prev_hash": _b64(entry.prev_hash),
        "entry_hash": _b64(entry.hash),
    }


def _write_entry_data(folder: Path, entries: Sequence[Entry]) -> list[str]:
    written: list[str] = []
    for n in range(0, (len(entries) + TILE_WIDTH - 1) // TILE_WIDTH):
        chunk = entries[n * TILE_WIDTH : (n + 1) * TILE_WIDTH]
        relative = entry_data_path(n, len(chunk))
        text = json.dumps(
            [entry_record(e) for e in chunk], ensure_ascii=False, separators=(",", ":")
        )
        if write_once(folder, relative, (text + "\n").encode("utf-8")):
            written.append(relative)
    return written


def _write_text(root: Path, relative: str, text: str, written: list[str]) -> None:
    path = root / relative
    data = text.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
    written.append(relative)


def publish(
    ledger: Ledger,
    directory: str | Path,
    *,
    checkpoint: str | None = None,
    witnesses: Sequence[str] = (),
    quorum: int | None = None,
) -> PublishResult:
    """Write (or extend) the public notice board of ``ledger`` in ``directory``.

    Args:
        ledger: The ledger to publish.
        directory: The site folder; created if missing.
        checkpoint: The signed checkpoint note to publish, with any witness cosignatures
            appended; default: the ledger's latest stored checkpoint. It must cover the
            whole ledger, so the notices and the log say the same.
        witnesses: Witness verifier keys residents should check; the receipt page names
            each witness whose cosignature it finds.
        quorum: How many of ``witnesses`` must have cosigned (default: none required).
            The receipt page applies the same rule.

    Returns:
        What was published.

    Raises:
        NotFoundError: if the ledger has signed no checkpoint yet.
        NoteError: if the checkpoint is not signed by the log key, a witness key is not a
            cosignature key, or fewer than ``quorum`` witnesses cosigned.
        IntegrityError: if the checkpoint does not cover the whole ledger or does not match
            it, or is not consistent with the checkpoint already in the folder (then
            nothing is written).
        InvalidEventError: for a bad ``quorum``.
    """
    folder = Path(directory)
    config = ledger.config
    verifier = log_verifier(config.origin, config.log_key)
    if checkpoint is None:
        stored = ledger.checkpoints()
        if not stored:
            raise NotFoundError(
                "the ledger has signed no checkpoint yet: there is nothing to publish",
                hint="Sign one first (points-ledger checkpoint), then publish.",
            )
        note = stored[-1].note
    elif isinstance(checkpoint, str):
        note = checkpoint
    else:
        raise InvalidEventError("checkpoint must be a signed note (text)")
    body = verify_checkpoint_note(note, verifier)
    witness_verifiers = _witness_verifiers(witnesses)
    if quorum is not None and (
        type(quorum) is not int or not 0 <= quorum <= len(witness_verifiers)
    ):
        raise InvalidEventError(
            f"quorum must be a whole number from 0 to {len(witness_verifiers)}, "
            "the number of witnesses given"
        )
    witnessed_by = _witnessed_by(note, witness_verifiers)
    if quorum is not None and len(witnessed_by) < quorum:
        raise NoteError(
            f"the checkpoint is cosigned by {len(witnessed_by)} of the witnesses given, "
            f"but {quorum} are required",
            hint="Have the witnesses cosign the checkpoint and publish the cosigned note.",
        )
    size = ledger.size()
    if body.size != size:
        raise IntegrityError(
            f"the checkpoint covers {body.size} entries but the ledger has {size}: the "
            "notices would show entries the log does not",
            hint="Sign a checkpoint of the whole ledger (points-ledger checkpoint) and "
            "publish that.",
        )
    if ledger.root(size) != body.root_hash:
        raise IntegrityError("the checkpoint's root is not this ledger's root")
    previous = _previous_checkpoint(folder, verifier)
    if previous is not None:
        _check_consistent(ledger, previous, body)

    entries = list(ledger.entries(0, size))
    leaf_data = [entry.hash for entry in entries]
    folder.mkdir(parents=True, exist_ok=True)
    written = write_tiles(folder, leaf_data)
    written += _write_entry_data(folder, entries)
    notices = month_notices(ledger)
    months = tuple(n.month for n in notices)
    late: list[str] = []
    for notice in notices:
        relative = f"notice/{notice.month}.html"
        page = render_month(notice, config.origin)
        # A month before the newest one is closed: its page stays byte for byte, even when
        # an entry dated in it was recorded since (that is reported, not hidden).
        if notice.month != months[-1] and (folder / relative).exists():
            if (folder / relative).read_bytes() != page.encode("utf-8"):
                late.append(notice.month)
            continue
        _write_text(folder, relative, page, written)
    known = [(c.size, _b64(c.root_hash)) for c in ledger.checkpoints() if c.size <= size]
    if (body.size, _b64(body.root_hash)) not in known:
        known.append((body.size, _b64(body.root_hash)))
    log_data = {
        "origin": config.origin,
        "logKey": ledger.log_vkey(),
        "witnesses": list(witnesses),
        "quorum": quorum or 0,
        "size": body.size,
        "root": _b64(body.root_hash),
        "checkpoints": [list(k) for k in known],
    }
    _write_text(
        folder,
        "assets/log-data.js",
        "window.POINTS_LEDGER_LOG = "
        + json.dumps(log_data, ensure_ascii=False, indent=1, sort_keys=True)
        + ";\n",
        written,
    )
    for asset in sorted(_ASSETS.iterdir()):
        if asset.is_file():
            _write_text(folder, f"assets/{asset.name}", asset.read_text("utf-8"), written)
    _write_text(folder, "receipt.html", render_receipt_page(), written)
    _write_text(
        folder,
        "index.html",
        render_index(config.origin, ledger.log_vkey(), witnesses, note, body, months),
        written,
    )
    _write_text(folder, _CHECKPOINT, note, written)
    return PublishResult(
        directory=folder,
        size=body.size,
        root_hash=body.root_hash,
        previous_size=None if previous is None else previous.size,
        witnessed_by=witnessed_by,
        months=months,
        written=tuple(written),
        late_months=tuple(late),
    )


# --------------------------------------------------------------------------- pages


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _label(key: str, **values: object) -> str:
    zh, en = both(key, **values)
    return (
        f'<span class="bi"><span lang="zh-CN">{_e(zh)}</span> '
        f'<span lang="en">{_e(en)}</span></span>'
    )


def _page(title_key: str, body: str, *, prefix: str = "", **values: object) -> str:
    zh, en = both(title_key, **values)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(zh)} · {_e(en)}</title>\n"
        f'<link rel="stylesheet" href="{prefix}assets/notice.css">\n'
        "</head>\n<body>\n"
        f"<h1>{_label(title_key, **values)}</h1>\n"
        f"{body}"
        f'<p class="privacy">{_label("privacy")}</p>\n'
        "</body>\n</html>\n"
    )


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: set[int]) -> str:
    head = "".join(f"<th>{_label(h)}</th>" for h in headers)
    lines = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{_e(v)}</td>' if i in numeric else f"<td>{_e(v)}</td>"
            for i, v in enumerate(row)
        )
        lines.append(f"<tr>{cells}</tr>")
    return (
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(lines)
        + ("\n</tbody>\n</table>\n")
    )


def bar_chart(items: Sequence[tuple[str, int]], *, money: bool = False) -> str:
    """A horizontal bar chart as plain inline SVG (no script), one bar per ``(label, value)``.

    Negative values are drawn as zero-length bars; the numbers are printed beside the bars,
    as yuan (元) when ``money`` is true (values in fen), else as whole numbers.
    """
    width, bar_area, row = 560, 300, 26
    peak = max([v for _l, v in items if v > 0], default=1)
    height = row * len(items) + 8
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">'
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        length = round(bar_area * max(value, 0) / peak)
        shown = f"{format_fen(value)} yuan" if money else f"{value:,}"
        parts.append(
            f'<text x="0" y="{y + 17}" font-size="13">{_e(label)}</text>'
            f'<rect x="160" y="{y + 4}" width="{length}" height="{row - 8}" fill="#c0392b"/>'
            f'<text x="{166 + length}" y="{y + 17}" font-size="13">{_e(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts) + "\n"


def render_month(notice: MonthNotice, origin: str) -> str:
    """The HTML notice page of one month (Chinese with English beside)."""
    out: list[str] = [f'<p class="origin">{_e(origin)}</p>\n', '<p><a href="../index.html">']
    out.append(f"{_label('months')}</a></p>\n")

    out.append(f"<h2>{_label('charity')}</h2>\n")
    if notice.pool_lines:
        for pool, (inflow, outflow, balance) in notice.pool_totals.items():
            out.append(
                f'<p class="pool-total" data-pool="{_e(pool)}" data-inflow="{inflow}" '
                f'data-outflow="{outflow}" data-balance="{balance}">{_label("pool")} '
                f"{_e(pool)} · {_label('inflow')} {inflow:,} · "
                f"{_label('outflow')} {outflow:,} · {_label('balance')} "
                f"{balance:,}</p>\n"
            )
            out.append(bar_chart([("流入 inflow", inflow), ("流出 outflow", outflow)]))
        rows = [
            (
                line.effective_at.isoformat(),
                line.seq,
                pool,
                line.kind,
                line.amount,
                line.counterparty,
                line.purpose,
                " ".join(notice.signers.get(line.seq, ())),
            )
            for pool, line in notice.pool_lines
        ]
        out.append(
            _table(
                (
                    "date",
                    "entry",
                    "pool",
                    "kind",
                    "amount_points",
                    "counterparty",
                    "purpose",
                    "signed_by",
                ),
                rows,
                {1, 4},
            )
        )
    else:
        out.append(f"<p>{_label('nothing')}</p>\n")

    out.append(f"<h2>{_label('distributions')}</h2>\n")
    if not notice.distributions:
        out.append(f"<p>{_label('nothing')}</p>\n")
    for seq, period, distribution in notice.distributions:
        amount = getattr(distribution, "amount", 0)
        investor = getattr(distribution, "investor_amount", 0)
        out.append(
            f'<section class="distribution" data-seq="{seq}" data-amount="{amount}" '
            f'data-investor="{investor}">\n<h3>{_label("entry")} {seq} · {_label("period")} '
            f"{_e(period)}</h3>\n<p>{_label('distributed')} {format_fen(amount)} · "
            f"{_label('investor_share')} {format_fen(investor)}</p>\n"
        )
        buckets: dict[str, int] = dict(getattr(distribution, "bucket_totals", {}))
        by_bucket: dict[str, dict[str, int]] = {
            k: dict(v) for k, v in getattr(distribution, "by_bucket", {}).items()
        }
        out.append(bar_chart(list(buckets.items()), money=True))
        rows2 = [
            (name, account, format_fen(part))
            for name in buckets
            for account, part in by_bucket.get(name, {}).items()
        ]
        out.append(_table(("bucket", "account", "share"), rows2, {2}))
        trace = distribution.to_text() if hasattr(distribution, "to_text") else ""
        out.append(f"<h4>{_label('working')}</h4>\n<pre>{_e(trace)}</pre>\n")
        signed = " ".join(notice.signers.get(seq, ()))
        out.append(f"<p>{_label('signed_by')} {_e(signed)}</p>\n</section>\n")

    out.append(f"<h2>{_label('points_by_service')}</h2>\n")
    if notice.services:
        out.append(bar_chart([(r.service, r.points) for r in notice.services]))
        out.append(
            _table(
                ("service", "awards", "quantity", "amount_points"),
                [(r.service, r.awards, r.quantity, r.points) for r in notice.services],
                {1, 2, 3},
            )
        )
    else:
        out.append(f"<p>{_label('nothing')}</p>\n")

    out.append(f"<h2>{_label('points_by_grid')}</h2>\n")
    if notice.grids:
        out.append(bar_chart([(r.grid_cell or "-", r.points) for r in notice.grids]))
        out.append(
            _table(
                ("grid", "awards", "volunteers", "amount_points"),
                [(r.grid_cell or "-", r.awards, r.volunteers, r.points) for r in notice.grids],
                {1, 2, 3},
            )
        )
    else:
        out.append(f"<p>{_label('nothing')}</p>\n")

    out.append(f"<h2>{_label('settlements')}</h2>\n")
    if notice.settlements:
        out.append(
            _table(
                (
                    "date",
                    "entry",
                    "partner",
                    "fund",
                    "period",
                    "redemptions",
                    "amount_points",
                    "paid_yuan",
                ),
                [
                    (
                        r.effective_at.isoformat(),
                        r.seq,
                        r.partner,
                        r.fund,
                        f"{r.period_from.isoformat()} to {r.period_to.isoformat()}",
                        r.redemptions,
                        r.points,
                        format_fen(r.fen),
                    )
                    for r in notice.settlements
                ],
                {1, 5, 6, 7},
            )
        )
    else:
        out.append(f"<p>{_label('nothing')}</p>\n")
    return _page("month_title", "".join(out), prefix="../", month=notice.month)


def render_index(
    origin: str,
    log_vkey: str,
    witnesses: Sequence[str],
    note: str,
    body: CheckpointBody,
    months: Sequence[str],
) -> str:
    """The site's front page: the months, the log's checkpoint and keys, the receipt check."""
    out = [f'<p class="origin">{_e(origin)}</p>\n', f"<h2>{_label('months')}</h2>\n<ul>\n"]
    for month in reversed(months):
        out.append(
            f'<li><a href="notice/{_e(month)}.html">{_label("month_title", month=month)}</a></li>\n'
        )
    out.append("</ul>\n")
    out.append(f'<p><a href="receipt.html">{_label("check_receipt")}</a></p>\n')
    out.append(f"<h2>{_label('log')}</h2>\n<p>{_label('log_intro')}</p>\n<dl>\n")
    out.append(f'<dt>{_label("entries")}</dt><dd id="size">{body.size}</dd>\n')
    out.append(f'<dt>{_label("root")}</dt><dd id="root"><code>{_b64(body.root_hash)}</code></dd>\n')
    out.append(f"<dt>{_label('log_key')}</dt><dd><code>{_e(log_vkey)}</code></dd>\n")
    keys = "".join(f"<code>{_e(w)}</code><br>" for w in witnesses) or _label("none")
    out.append(f"<dt>{_label('witness_keys')}</dt><dd>{keys}</dd>\n</dl>\n")
    out.append(f'<h3>{_label("checkpoint")}</h3>\n<pre id="checkpoint">{_e(note)}</pre>\n')
    return _page("site_title", "".join(out))


def render_receipt_page() -> str:
    """The receipt check page; its script is ``assets/receipt.js``.

    Three ways in: a receipt file (checked against the published keys alone, also opened
    from a folder), the text of a printed receipt's QR code pasted in or read from the page
    address's ``#`` part (a printed QR code links here), and a photo or camera picture of
    the QR code where the browser can read QR codes. QR text is checked against the
    published log (checkpoint, tiles and entry data), so it needs the site served over
    http(s).
    """
    body = (
        f"<p>{_label('receipt_intro')}</p>\n"
        f'<p><label for="file">{_label("choose_file")}</label> '
        '<input type="file" id="file" accept=".json,application/json"></p>\n'
        f"<h2>{_label('qr_heading')}</h2>\n<p>{_label('qr_intro')}</p>\n"
        f'<p><label for="qr-text">{_label("paste_qr")}</label><br>\n'
        '<textarea id="qr-text" rows="4" cols="60" spellcheck="false"></textarea><br>\n'
        f'<button type="button" id="qr-check">{_label("check_qr")}</button></p>\n'
        f'<p><label for="qr-photo">{_label("scan_qr")}</label> '
        '<input type="file" id="qr-photo" accept="image/*" capture="environment"></p>\n'
        '<p id="scan-note" class="note"></p>\n'
        f'<div id="result" class="result waiting">{_label("waiting")}</div>\n'
        '<p><a href="index.html">'
        f"{_label('months')}</a></p>\n"
        '<script src="assets/log-data.js"></script>\n'
        '<script src="assets/receipt.js"></script>\n'
    )
    return _page("receipt_title", body)


# --------------------------------------------------------------------------- printable receipt


def receipt_qr_text(receipt: Receipt, *, site_url: str | None = None) -> str:
    """What the printed receipt's QR code holds: ledger, entry, entry hash, checkpoint.

    Four lines: the origin, ``entry <seq>``, the entry hash (as the receipt writes it, base64) and
    ``checkpoint <size> <root base64>``, taken from the receipt's own checkpoint.

    With ``site_url`` (the address where the office publishes its notice board), the QR code
    holds a link instead: ``<site_url>/receipt.html#<the four lines, percent-encoded>``. A
    phone camera opens the published receipt page, which reads the four lines from the
    fragment (a fragment is never sent to the server) and checks them against the published
    log.

    Args:
        receipt: The receipt.
        site_url: The notice board's address, ``http://`` or ``https://``, without ``?`` or
            ``#`` parts.

    Raises:
        InvalidEventError: if ``site_url`` is not such an address.
    """
    text = receipt.checkpoint[: receipt.checkpoint.index("\n\n") + 1]
    body = CheckpointBody.from_text(text)
    lines = (
        f"{receipt.origin}\nentry {receipt.seq}\n{receipt.entry_hash}\n"
        f"checkpoint {body.size} {_b64(body.root_hash)}"
    )
    if site_url is None:
        return lines
    return receipt_page_url(site_url) + "#" + urllib.parse.quote(lines, safe="/+=:")


def receipt_page_url(site_url: str) -> str:
    """The receipt page of the notice board published at ``site_url``.

    Raises:
        InvalidEventError: if ``site_url`` is not an ``http://`` or ``https://`` address
            without query or fragment, or is longer than 300 characters.
    """
    parts = urllib.parse.urlsplit(site_url) if isinstance(site_url, str) else None
    if (
        parts is None
        or len(site_url) > _SITE_URL_MAX
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
        or "?" in site_url
        or "#" in site_url
        or any(c.isspace() for c in site_url)
    ):
        raise InvalidEventError(
            f"the notice board address {site_url!r} is not a web address such as "
            "https://example.org/notice/",
            hint="Give the address where the published folder is served, starting with "
            "https:// (or http://), without ? or # parts.",
        )
    base = site_url.removesuffix("receipt.html")
    return base.rstrip("/") + "/receipt.html"


def _qr_svg(text: str) -> str | None:
    try:
        import segno
    except ImportError:
        return None
    svg: str = segno.make(text, error="m").svg_inline(scale=3)
    return svg


def printable_receipt(
    receipt: Receipt,
    vkey: str,
    *,
    witnesses: Sequence[str] = (),
    site_url: str | None = None,
) -> str:
    """A printable HTML page of a receipt (Chinese with English beside) with a QR code.

    The receipt is checked first with :func:`~points_ledger.receipts.verify_receipt`, so
    only a receipt that verifies is ever printed. The QR code (see
    :func:`receipt_qr_text`) needs the ``qr`` extra (``segno``); without it the page says
    so and carries everything else.

    Args:
        receipt: The receipt (``Ledger.receipt(seq)``).
        vkey: The ledger's log verifier key.
        witnesses: Witness verifier keys; the page names those that cosigned.
        site_url: The notice board's address: the QR code then holds a link to its
            receipt page that checks this entry (see :func:`receipt_qr_text`).

    Raises:
        InvalidEventError: if ``site_url`` is not a web address.
        ProofError: if the receipt does not verify (and its subclasses' errors, as
            :func:`~points_ledger.receipts.verify_receipt` raises them).
    """
    qr_text = receipt_qr_text(receipt, site_url=site_url)
    checked = verify_receipt(receipt, vkey, witnesses=tuple(witnesses), quorum=0)
    postings = "<br>".join(
        _e(f"{p.account} {p.amount:+,} {p.asset.value}") for p in checked.postings
    )
    rows = [
        ("ledger", _e(checked.origin)),
        ("entry", str(checked.seq)),
        ("event", _e(f"{checked.event.type} {checked.event.id}")),
        ("business_date", checked.event.effective_at.isoformat()),
        ("recorded_at", checked.recorded_at.isoformat(timespec="seconds")),
        ("postings", postings),
        ("signed_by", _e(" ".join(s.key_id for s in checked.signatures))),
        ("entry_hash", f"<code>{_b64(checked.entry_hash)}</code>"),
        (
            "checkpoint",
            f"{checked.checkpoint_body.size} · "
            f"<code>{_b64(checked.checkpoint_body.root_hash)}</code>",
        ),
        ("witnessed", _e(", ".join(checked.witnessed_by)) or _label("none")),
    ]
    table = "".join(f"<tr><th>{_label(key)}</th><td>{value}</td></tr>\n" for key, value in rows)
    qr = _qr_svg(qr_text)
    caption = _label("qr") if site_url is None else _label("qr_link", url=site_url)
    qr_part = (
        f'<figure class="qr">{qr}<figcaption>{caption}</figcaption></figure>\n'
        if qr is not None
        else f'<p class="no-qr">{_label("no_qr")}</p>\n'
    )
    body = f'<p>{_label("printed_intro")}</p>\n<table class="receipt">\n{table}</table>\n{qr_part}'
    return _inline_style_page("printed_title", body)


def _inline_style_page(title_key: str, body: str) -> str:
    # A printed receipt travels alone: its style sheet is inside it.
    css = (_ASSETS / "notice.css").read_text("utf-8")
    page = _page(title_key, body)
    return page.replace(
        '<link rel="stylesheet" href="assets/notice.css">', f"<style>\n{css}</style>"
    )
