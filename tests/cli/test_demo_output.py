"""The demo's printed tables say what they show, and their totals add up."""

from __future__ import annotations

from pathlib import Path

from points_ledger import Asset, Ledger
from points_ledger.demo import STEPS, run_demo


def _step(lines: list[str], number: int) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{number}. "))
    end = next(
        (i for i, line in enumerate(lines) if i > start and not line.startswith("   ")),
        len(lines),
    )
    return [line.strip() for line in lines[start + 1 : end]]


def _fen(text: str) -> int:
    whole, _, cents = text.replace(",", "").partition(".")
    return int(whole) * 100 + int(cents or "0")


def test_distribution_step_lists_every_recipient_and_a_total_that_adds_up(tmp_path: Path) -> None:
    lines: list[str] = []
    run_demo(tmp_path, echo=lines.append)
    number = next(n for n, title in enumerate(STEPS, start=1) if title.startswith("Village"))
    step = _step(lines, number)
    with Ledger.open(tmp_path / "demo-ledger.db") as ledger:
        entry = next(e for e in ledger.entries() if e.kind == "distribute")
        paid = {p.account: p.amount for p in entry.postings if p.amount > 0}
        assert all(p.asset is Asset.CNY for p in entry.postings)
    header = next(i for i, line in enumerate(step) if line.startswith("account"))
    rows = [line.rsplit(maxsplit=1) for line in step[header + 2 :] if line]
    *recipients, total = rows
    assert {account: _fen(amount) for account, amount in recipients} == paid
    assert total[0] == f"total paid to {len(paid)} accounts"
    assert _fen(total[1]) == sum(paid.values()) == sum(_fen(a) for _, a in recipients)
