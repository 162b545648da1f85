"""Ledgers for the notice board tests: the demo story, with keys the tests can sign with.

The demo draws its people's keys at random; here they are drawn from a seeded generator,
so the tests hold the log key and can sign checkpoints and further entries. All of it
runs on the demo's own clock (2 November 2026) and a fixed December clock after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from points_ledger import AwardPoints, Ledger, Signer
from points_ledger.demo import ORIGIN, run_demo
from points_ledger.notes import ALG_COSIGNATURE_V1, vkey_for

DECEMBER = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)
DECEMBER_DAY = DECEMBER.date()


def _seeded_keys() -> Iterator[Signer]:
    for n in itertools.count():
        yield Signer.from_seed(hashlib.sha256(b"notice-board-demo/%d" % n).digest())


def build_demo(folder: Path) -> tuple[Path, dict[str, Signer]]:
    """Play the demo into ``folder`` with seeded keys; return the file and the keys by name."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = _seeded_keys()
    drawn: list[Signer] = []

    def generate() -> Signer:
        signer = next(keys)
        drawn.append(signer)
        return signer

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Signer, "generate", staticmethod(generate))
        path = run_demo(folder, echo=lambda _line: None)
    names = (
        "log",
        "admin.wang",
        "admin.li",
        "gw.g1",
        "gw.g2",
        "vol:0001",
        "vol:0002",
        "vol:0003",
        "barber",
        "cm.chen",
        "cm.liu",
        "cm.zhou",
        "treasurer",
        "witness",
    )
    return path, dict(zip(names, drawn, strict=True))


class Clock:
    """A clock that ticks one minute per reading from a fixed start."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now


def award(
    ledger: Ledger,
    keys: dict[str, Signer],
    task: str,
    quantity: int = 1,
    effective_at: dt.date = DECEMBER_DAY,
) -> int:
    """Append an award (in December by default) to vol:0001 signed by grid worker g1."""
    event = AwardPoints(
        id=f"dec-{task}",
        effective_at=effective_at,
        volunteer="vol:0001",
        service="gas-check",
        quantity=quantity,
        grid_cell="3栋",
        task_ref=task,
    )
    return ledger.append(event, [keys["gw.g1"]]).entry.seq


def witness_with_plus(name: str) -> tuple[Signer, str]:
    """A seeded witness key whose verifier key has a ``+`` inside its base64 part."""
    for n in itertools.count():
        signer = Signer.from_seed(hashlib.sha256(b"notice-board-witness/%d" % n).digest())
        vkey = vkey_for(name, signer.private_key.public_key(), ALG_COSIGNATURE_V1)
        if "+" in vkey.split("+", 2)[2]:
            return signer, vkey
    raise AssertionError("unreachable")  # pragma: no cover


def copy_ledger(source: Path, dest: Path) -> Path:
    """Copy a closed ledger file (it is one file when closed)."""
    shutil.copyfile(source, dest)
    return dest


__all__ = [
    "DECEMBER",
    "ORIGIN",
    "Clock",
    "award",
    "build_demo",
    "copy_ledger",
    "witness_with_plus",
]
