"""Peers measured in the same run: other ledgers doing comparable work on this machine.

Beancount (the ``bench`` extra: ``pip install -e '.[bench]'``) loads and validates a text
ledger of as many transactions as the ledger verified: it parses every directive, books
the postings, checks that each transaction balances and that each account was opened.
It checks no signatures and keeps no hash chain, so it bounds what a replay of rules in
Python can cost. Where it is not installed its figure is skipped with the reason.
"""

from __future__ import annotations

import importlib
import random
import time
from typing import Any

BEANCOUNT_ACCOUNTS = 200
"""Member accounts in the generated Beancount ledger (the benchmark's community has 200)."""


def beancount_text(transactions: int, seed: int = 11) -> str:
    """A Beancount ledger of ``transactions`` two-posting transactions, awards and transfers.

    Like the benchmark's mix: about 70 % awards (points issued to a member) and the rest
    transfers between members, each with a payee and a narration.
    """
    rng = random.Random(seed)
    members = [f"Assets:Members:V{n:06d}" for n in range(BEANCOUNT_ACCOUNTS)]
    lines = ['option "operating_currency" "PTS"', "1970-01-01 commodity PTS", ""]
    lines.append("2026-01-01 open Income:Issuer PTS")
    lines.extend(f"2026-01-01 open {m} PTS" for m in members)
    lines.append("")
    for n in range(transactions):
        member = rng.choice(members)
        points = rng.choice((10, 20))
        if n % 10 < 7:
            lines.append(f'2026-11-02 * "grid worker" "award-{n}"')
            lines.append(f"  {member}  {points} PTS")
            lines.append(f"  Income:Issuer  -{points} PTS")
        else:
            other = rng.choice(members)
            lines.append(f'2026-11-02 * "member" "transfer-{n}"')
            lines.append(f"  {other}  {points} PTS")
            lines.append(f"  {member}  -{points} PTS")
        lines.append("")
    return "\n".join(lines)


def beancount(transactions: int) -> dict[str, Any]:
    """Load and validate ``transactions`` Beancount transactions, or say why it was skipped.

    Returns ``{"per_s": …, "cpu_us_per_entry": …, "entries": …}`` (``per_s`` counts the
    transactions, timed from the text in memory to the validated list of entries), or
    ``{"skipped": reason}``.
    """
    try:
        loader: Any = importlib.import_module("beancount.loader")
        version = str(getattr(importlib.import_module("beancount"), "__version__", "?"))
    except ImportError as e:
        return {"skipped": f"beancount is not installed ({e}); pip install -e '.[bench]'"}
    text = beancount_text(transactions)
    cpu, start = time.process_time(), time.perf_counter()
    entries, errors, _options = loader.load_string(text)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    if errors:
        return {"skipped": f"beancount {version} refused the generated ledger: {errors[0]}"}
    return {
        "version": version,
        "entries": transactions,
        "directives": len(entries),
        "per_s": transactions / wall,
        "cpu_us_per_entry": cpu * 1e6 / transactions,
    }
