"""The demo: a small community ledger played offline, printed as readable tables.

``points-ledger demo`` (or ``python -m points_ledger demo``) writes ``./demo-ledger.db``,
replacing an earlier demo ledger but never any other file, and leaves it for you to
inspect with ``sqlite-utils`` or Datasette.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from points_ledger.errors import StorageError
from points_ledger.keys import Signer
from points_ledger.ledger import Ledger
from points_ledger.models import (
    AccountKind,
    Asset,
    KeySpec,
    OpenAccount,
    Posting,
    RegisterKey,
    Reverse,
    Role,
    Transfer,
)
from points_ledger.store.sqlite import SqliteStore

__all__ = ["DEMO_FILE", "format_table", "run_demo"]

DEMO_FILE = "demo-ledger.db"
ORIGIN = "chengdu.example/chenghua/zhiqiang"


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    right: Sequence[bool] | None = None,
) -> str:
    """Render rows as an aligned plain-text table.

    Columns are padded by display width, so Chinese text (two terminal columns per
    character) lines up. Columns whose cells are all ``int`` are right-aligned; pass
    ``right`` (one flag per column) to choose alignment yourself, e.g. for amounts
    already formatted as text.
    """
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [
        all(isinstance(row[i], int) for row in rows) and bool(rows) for i in range(len(headers))
    ]
    if right is not None:
        numeric = list(right)
    lines = []
    for n, row in enumerate(cells):
        parts = [_pad(cell, widths[i], right=numeric[i] and n > 0) for i, cell in enumerate(row)]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    # Wide and full-width characters (CJK) take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def _remove_previous_demo(path: Path) -> None:
    if not path.exists():
        return
    if not SqliteStore.is_ledger_file(path):
        raise StorageError(
            f"{path} exists and is not a points ledger; the demo will not overwrite it",
            hint="Move that file away or run the demo in another folder.",
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def run_demo(directory: str | Path = ".", *, echo: Callable[[str], None] = print) -> Path:
    """Play the demo story into ``directory/demo-ledger.db`` and print each step.

    Returns:
        The path of the demo ledger file.

    Raises:
        StorageError: if ``demo-ledger.db`` exists there and is not a points ledger.
    """
    path = Path(directory) / DEMO_FILE
    _remove_previous_demo(path)
    day = dt.date(2026, 11, 2)
    clock_start = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
    ticks = iter(range(10**6))

    def clock() -> dt.datetime:
        return clock_start + dt.timedelta(minutes=next(ticks))

    log_key, admin_wang, admin_li = Signer.generate(), Signer.generate(), Signer.generate()
    echo(f"1. Create the ledger {ORIGIN} in {path} (2 admins, both must sign).")
    ledger = Ledger.create(
        path,
        origin=ORIGIN,
        log_key=log_key,
        admins=[admin_wang, admin_li],
        threshold=2,
        clock=clock,
    )
    admins = [admin_wang, admin_li]
    with ledger:
        echo("2. Open accounts in the grid hierarchy and register the volunteers' keys.")
        grid = ("成华区", "府青路街道", "致强社区", "第一总网格")
        members = {"vol:0001": Signer.generate(), "vol:0002": Signer.generate()}
        opens = [
            OpenAccount(
                id=f"open-{name}",
                effective_at=day,
                account=name,
                account_kind=AccountKind.MEMBER,
                grid=(*grid, f"微网格{i + 1}"),
            )
            for i, name in enumerate(members)
        ]
        opens.append(
            OpenAccount(
                id="open-pool",
                effective_at=day,
                account="pool:charity",
                account_kind=AccountKind.POOL,
            )
        )
        ledger.append_many((event, admins) for event in opens)
        ledger.append_many(
            (
                RegisterKey(
                    id=f"key-{name}",
                    effective_at=day,
                    key=KeySpec(public_key=signer.public_key_b64, roles=(Role.MEMBER,), owner=name),
                ),
                admins,
            )
            for name, signer in members.items()
        )
        echo("3. Award points for service (gas-safety checks, elderly visits).")
        for n, (name, points, memo) in enumerate(
            [("vol:0001", 30, "gas-safety check, building 3"), ("vol:0002", 20, "elderly visit")]
        ):
            ledger.append(
                Transfer(
                    id=f"award-{n}",
                    effective_at=day,
                    memo=memo,
                    postings=(
                        Posting(account="issuer", asset=Asset.PTS, amount=-points),
                        Posting(account=name, asset=Asset.PTS, amount=points),
                    ),
                ),
                admins,
            )
        echo("4. A volunteer donates 10 points to the charity pool, signing on their phone.")
        donation = Transfer(
            id="donate-1",
            effective_at=day,
            memo="donation to the community charity pool",
            postings=(
                Posting(account="vol:0001", asset=Asset.PTS, amount=-10),
                Posting(account="pool:charity", asset=Asset.PTS, amount=10),
            ),
        )
        signature = ledger.sign(donation, members["vol:0001"])
        donated = ledger.append(donation, [signature])
        echo("5. A mistaken award is corrected by a reversal entry (nothing is edited).")
        ledger.append(
            Transfer(
                id="award-mistake",
                effective_at=day,
                memo="entered twice by mistake",
                postings=(
                    Posting(account="issuer", asset=Asset.PTS, amount=-20),
                    Posting(account="vol:0002", asset=Asset.PTS, amount=20),
                ),
            ),
            admins,
        )
        mistake = ledger.size() - 1
        ledger.append(
            Reverse(id="reverse-1", effective_at=day, target_seq=mistake, reason="duplicate"),
            admins,
        )
        echo("6. Retrying the donation with the same id changes nothing:")
        retry = ledger.append(donation, [signature])
        echo(
            f"   status={retry.status}, seq={retry.entry.seq} (first stored at {donated.entry.seq})"
        )
        echo("")
        echo("Entries:")
        echo(
            format_table(
                ["seq", "kind", "event id", "postings"],
                [
                    (
                        e.seq,
                        e.kind,
                        e.event_id,
                        ", ".join(f"{p.account} {p.amount:+}" for p in e.postings),
                    )
                    for e in ledger.entries()
                ],
            )
        )
        echo("")
        echo("Balances (PTS):")
        rows = [
            (name, ledger.balance(name, Asset.PTS).posted)
            for name in ("issuer", *members, "pool:charity")
        ]
        echo(format_table(["account", "posted"], rows))
        echo("")
        report = ledger.audit()
        echo(f"7. Audit: {report.to_text()}")
    echo("")
    echo(f"The ledger file is {path}. Browse it with:")
    echo(f"  .venv/bin/python -m sqlite_utils tables {path} --counts")
    echo(f"  pip install datasette && datasette {path}")
    return path
