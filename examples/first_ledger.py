"""Your first community ledger: create, open accounts, award, spend, correct, audit.

Contents:
    1. Generate keys: a log key, two admins, a grid worker and a volunteer's phone key.
    2. Create the ledger file; its genesis entry is signed by both admins.
    3. Open a volunteer account and a charity pool; register the phone key and the grid
       worker's key; put the elderly-visit service in the catalogue.
    4. The grid worker awards 50 points for a visit (issuer -> volunteer).
    5. The volunteer donates 20 points, signing on the phone (a detached signature).
    6. Try to overspend: the ledger refuses with a clear error and writes nothing.
    7. Correct a mistaken award with a reversal entry.
    8. Read balances and a statement; audit the whole file.

Run it with ``python examples/first_ledger.py``; it works in a temporary folder.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from points_ledger import (
    AccountKind,
    Asset,
    AwardPoints,
    DefineService,
    KeySpec,
    Ledger,
    LedgerError,
    OpenAccount,
    Posting,
    RegisterKey,
    Reverse,
    Role,
    ServiceUnit,
    Signer,
    Transfer,
)

TODAY = dt.date(2026, 11, 25)


def story_clock() -> dt.datetime:
    """The ledger's clock: 10:00 in Chengdu on TODAY, so the story reads the same any day.

    A real ledger leaves ``clock`` out and takes the computer's time.
    """
    return dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)


def award(event_id: str, account: str, task: str) -> AwardPoints:
    """A grid worker's award for one elderly visit (50 points, from the catalogue)."""
    return AwardPoints(
        id=event_id,
        effective_at=TODAY,
        volunteer=account,
        service="elderly-visit",
        task_ref=task,
        quantity=1,
        grid_cell="微网格3",
    )


def main(folder: Path) -> None:
    """Play the steps listed in the module docstring inside ``folder``."""
    # 1. Keys. Private keys never enter the ledger; save_signer() writes encrypted files.
    log_key, admin_a, admin_b, phone, grid_worker = (Signer.generate() for _ in range(5))
    admins = [admin_a, admin_b]

    # 2. The ledger file and its genesis entry.
    ledger = Ledger.create(
        folder / "community.db",
        origin="chengdu.example/chenghua/zhiqiang",
        log_key=log_key,
        admins=admins,
        threshold=2,
        clock=story_clock,
    )
    with ledger:
        # 3. Accounts carry opaque ids (no real names) and a grid path for reports.
        ledger.append(
            OpenAccount(
                id="open-vol-0001",
                effective_at=TODAY,
                account="vol:0001",
                account_kind=AccountKind.MEMBER,
                grid=("成华区", "府青路街道", "致强社区", "第一总网格", "微网格3"),
            ),
            admins,
        )
        ledger.append(
            OpenAccount(
                id="open-pool", effective_at=TODAY, account="pool", account_kind=AccountKind.POOL
            ),
            admins,
        )
        ledger.append(
            RegisterKey(
                id="key-vol-0001",
                effective_at=TODAY,
                key=KeySpec(
                    public_key=phone.public_key_b64, roles=(Role.MEMBER,), owner="vol:0001"
                ),
            ),
            admins,
        )

        # The grid worker's key names the worker's own account: it can never award it.
        ledger.append(
            OpenAccount(
                id="open-gw-1", effective_at=TODAY, account="gw:1", account_kind=AccountKind.MEMBER
            ),
            admins,
        )
        ledger.append(
            RegisterKey(
                id="key-gw-1",
                effective_at=TODAY,
                key=KeySpec(
                    public_key=grid_worker.public_key_b64, roles=(Role.ISSUER,), owner="gw:1"
                ),
            ),
            admins,
        )
        ledger.append(
            DefineService(
                id="service-visit",
                effective_at=TODAY,
                code="elderly-visit",
                name="探访独居老人 elderly visit",
                points_per_unit=50,
                unit=ServiceUnit.VISIT,
                active_from=TODAY,
            ),
            admins,
        )

        # 4. An award, signed by the grid worker. (A plain transfer out of the issuer
        # account would need the admins and the committee: the admins cannot mint.)
        ledger.append(award("award-1", "vol:0001", "visit-1"), [grid_worker])

        # 5. The phone signs the exact bytes the ledger will check; the server appends.
        donation = Transfer(
            id="donate-1",
            effective_at=TODAY,
            postings=(
                Posting(account="vol:0001", asset=Asset.PTS, amount=-20),
                Posting(account="pool", asset=Asset.PTS, amount=20),
            ),
        )
        signature = ledger.sign(donation, phone)
        result = ledger.append(donation, [signature])
        print(f"donation stored as entry {result.entry.seq} ({result.status})")

        # 6. Overspending is refused; the error has a stable code and a plain message.
        too_much = Transfer(
            id="donate-2",
            effective_at=TODAY,
            postings=(
                Posting(account="vol:0001", asset=Asset.PTS, amount=-500),
                Posting(account="pool", asset=Asset.PTS, amount=500),
            ),
        )
        try:
            ledger.append(too_much, [phone])
        except LedgerError as error:
            print(f"refused: [{error.code}] {error}")

        # 7. Mistakes are corrected by new entries, never by editing old ones.
        mistake = ledger.append(award("award-2", "vol:0001", "visit-2"), [grid_worker]).entry
        ledger.append(
            Reverse(id="reverse-1", effective_at=TODAY, target_seq=mistake.seq, reason="twice"),
            admins,
        )

        # 8. Balances, a statement and an audit of every entry.
        balance = ledger.balance("vol:0001", Asset.PTS)
        print(f"vol:0001 has {balance.available} points available")
        for line in ledger.statement("vol:0001", Asset.PTS):
            print(f"  entry {line.seq:>2} {line.kind:<9} {line.amount:+4}  balance {line.balance}")
        print(ledger.audit().to_text())


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        main(Path(tmp))
