"""Community points, told as a story: awards, the alliance mall, the charity pool, settlement.

Runs offline in a temporary directory and prints the reports as tables (or, given a
``postgresql://…?schema=NAME`` URL as its argument, in that new ledger schema: the same
story, unchanged, on PostgreSQL). Accounts carry
opaque ids (``vol:0001``, ``cm:0002``), never people's names: the log is permanent and is
shown to auditors and residents, so personal data stays off it.

Contents:
    1. Create the ledger: admin, log key, accounts in two general grids, keys.
    2. Define the service catalogue: gas-safety checks and elderly visits, with caps.
    3. Grid workers award points for the work volunteers did.
    4. A barber joins the alliance and lists a haircut in the points mall.
    5. Volunteer vol:0001 redeems a haircut: hold, then the barber confirms the voucher.
    6. vol:0002 holds a haircut and voids it; vol:0003's hold expires and cannot be
       confirmed.
    7. vol:0003 and vol:0001 donate to the charity pool (vol:0003's expired hold is
       released first).
    8. Two committee members grant a household in difficulty a haircut, which it redeems.
    9. The admins fix the settlement rate; the treasurer pays the barber in CNY.
   10. Print the reports and the settlement statement, and audit the ledger.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any

from points_ledger import (
    AccountKind,
    Asset,
    AwardPoints,
    ConfirmRedemption,
    DefineService,
    Donate,
    Event,
    Grant,
    HoldExpiredError,
    HoldRedemption,
    JoinAlliance,
    KeySpec,
    Ledger,
    ListOffer,
    OpenAccount,
    Posting,
    RegisterKey,
    Role,
    ServiceUnit,
    SetSettlementRate,
    SettlePartner,
    Signer,
    Transfer,
    VoidRedemption,
    reports,
)


class Story:
    """A ledger, its keys, a clock we can move, and a counter for event ids."""

    def __init__(self, path: Path | str) -> None:
        self.now = dt.datetime(2023, 6, 1, 9, 0, tzinfo=dt.UTC)
        self.keys: dict[str, Signer] = {"admin": Signer.generate()}
        self.count = 0
        self.ledger = Ledger.create(
            path,
            origin="chengdu.example/chenghua/zhiqiang",
            log_key=Signer.generate(),
            admins=[self.keys["admin"]],
            threshold=1,
            effective_at=self.now.date(),
            clock=lambda: self.now,
        )

    def add(self, cls: type[Event], *signers: str, **fields: Any) -> int:
        """Append an event signed by the named keys; return its seq."""
        self.count += 1
        event = cls(id=f"story-{self.count:04d}", effective_at=self.now.date(), **fields)
        return self.ledger.append(event, [self.keys[s] for s in signers]).entry.seq

    def key(self, name: str, roles: tuple[Role, ...], owner: str | None, *also: str) -> None:
        """Generate and register a key."""
        self.keys[name] = Signer.generate()
        spec = KeySpec(public_key=self.keys[name].public_key_b64, roles=roles, owner=owner)
        self.add(RegisterKey, "admin", *also, key=spec)


def table(title: str, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Print a plain text table."""
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(cells):
        print(("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))).rstrip())
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


def main(where: str | None = None) -> None:
    """Play the story in a temporary directory, or in the ledger the URL ``where`` names."""
    with tempfile.TemporaryDirectory() as tmp:
        s = Story(Path(tmp) / "community.db" if where is None else where)

        # 1. Accounts in two general grids, and keys.
        accounts = {
            "worker:g1": (AccountKind.MEMBER, ("chenghua", "zhiqiang", "g1")),
            "worker:g2": (AccountKind.MEMBER, ("chenghua", "zhiqiang", "g2")),
            "vol:0001": (AccountKind.MEMBER, ("chenghua", "zhiqiang", "g1")),
            "vol:0002": (AccountKind.MEMBER, ("chenghua", "zhiqiang", "g1")),
            "vol:0003": (AccountKind.MEMBER, ("chenghua", "zhiqiang", "g2")),
            "hh:0042": (AccountKind.BENEFICIARY, ("chenghua", "zhiqiang", "g2")),
            "barber": (AccountKind.PARTNER, ("chenghua", "zhiqiang", "g1")),
            "pool:charity": (AccountKind.POOL, ()),
            "fund:community": (AccountKind.FUND, ()),
            # Office-holders' own accounts: their keys name them, so that a quorum
            # counts people and nobody signs for their own account.
            "cm:0001": (AccountKind.MEMBER, ()),
            "cm:0002": (AccountKind.MEMBER, ()),
            "staff:0001": (AccountKind.MEMBER, ()),
        }
        for account, (kind, grid) in accounts.items():
            s.add(OpenAccount, "admin", account=account, account_kind=kind, grid=grid)
        for worker in ("worker:g1", "worker:g2"):
            s.key(worker, (Role.ISSUER,), worker)
        for member in ("vol:0001", "vol:0002", "vol:0003", "hh:0042"):
            s.key(member, (Role.MEMBER,), member)
        s.key("cm:0001", (Role.COMMITTEE,), "cm:0001")
        s.key("cm:0002", (Role.COMMITTEE,), "cm:0002")
        # Two committee members seat the committee; from then on it agrees to who pays
        # out of the funds, to the catalogue and to the settlement rate.
        s.key("treasurer", (Role.TREASURER,), "staff:0001", "cm:0001", "cm:0002")
        # Money from outside is new money on the ledger: the committee agrees to it.
        s.add(
            Transfer,
            "admin",
            "cm:0001",
            "cm:0002",
            postings=(
                Posting(account="external", asset=Asset.CNY, amount=-100_000),
                Posting(account="fund:community", asset=Asset.CNY, amount=100_000),
            ),
            memo="street office grant: 1,000.00 CNY",
        )

        # 2. The catalogue.
        s.add(
            DefineService,
            "admin",
            "cm:0001",
            "cm:0002",
            code="gas-check",
            name="Gas safety check",
            points_per_unit=10,
            unit=ServiceUnit.HOUSEHOLD,
            points_per_day_max=50,
            points_per_month_max=300,
            active_from=dt.date(2023, 1, 1),
        )
        s.add(
            DefineService,
            "admin",
            "cm:0001",
            "cm:0002",
            code="elder-visit",
            name="Visit to an elderly resident",
            points_per_unit=20,
            unit=ServiceUnit.VISIT,
            points_per_day_max=60,
            active_from=dt.date(2023, 1, 1),
        )

        # 3. Awards: the points come from the catalogue, never from the caller.
        for worker, volunteer, service, quantity, cell, task in (
            ("worker:g1", "vol:0001", "gas-check", 3, "g1", "gas-001"),
            ("worker:g1", "vol:0002", "elder-visit", 2, "g1", "elder-001"),
            ("worker:g2", "vol:0003", "gas-check", 5, "g2", "gas-002"),
            ("worker:g2", "vol:0003", "elder-visit", 1, "g2", "elder-002"),
            ("worker:g1", "vol:0001", "elder-visit", 3, "g1", "elder-003"),
        ):
            s.add(
                AwardPoints,
                worker,
                volunteer=volunteer,
                service=service,
                quantity=quantity,
                grid_cell=cell,
                task_ref=task,
            )

        # 4. The alliance.
        s.keys["barber"] = Signer.generate()
        s.add(
            JoinAlliance,
            "admin",
            partner="barber",
            name="Zhiqiang barber",
            public_key=s.keys["barber"].public_key_b64,
        )
        s.add(
            ListOffer,
            "barber",
            offer="barber.haircut",
            partner="barber",
            item="Haircut",
            price_points=40,
            stock=3,
        )

        # 5. vol:0001: hold, then confirm.
        hold = s.add(
            HoldRedemption, "vol:0001", member="vol:0001", offer="barber.haircut", points=40
        )
        s.now += dt.timedelta(hours=2)
        s.add(ConfirmRedemption, "barber", voucher=f"V{hold:08d}")

        # 6. vol:0002 voids; vol:0003's one-day hold expires.
        hold = s.add(
            HoldRedemption, "vol:0002", member="vol:0002", offer="barber.haircut", points=40
        )
        s.add(VoidRedemption, "vol:0002", voucher=f"V{hold:08d}", reason="changed my mind")
        hold = s.add(
            HoldRedemption,
            "vol:0003",
            member="vol:0003",
            offer="barber.haircut",
            points=40,
            expires_in_hours=24,
        )
        s.now += dt.timedelta(days=2)
        try:
            s.add(ConfirmRedemption, "barber", voucher=f"V{hold:08d}")
        except HoldExpiredError as e:
            print(f"Confirming vol:0003's voucher is refused: [{e.code}] {e}")

        # 7. Donations.
        s.add(Donate, "vol:0003", donor="vol:0003", pool="pool:charity", points=50)
        s.add(Donate, "vol:0001", donor="vol:0001", pool="pool:charity", points=10)

        # 8. A committee grant, redeemed by the household.
        s.add(
            Grant,
            "cm:0001",
            "cm:0002",
            pool="pool:charity",
            beneficiary="hh:0042",
            points=40,
            purpose="haircut for an elderly resident living alone",
        )
        hold = s.add(HoldRedemption, "hh:0042", member="hh:0042", offer="barber.haircut", points=40)
        s.add(ConfirmRedemption, "barber", voucher=f"V{hold:08d}")

        # 9. Settlement.
        s.add(SetSettlementRate, "admin", "cm:0001", "cm:0002", fen_per_point=5)
        s.now = dt.datetime(2023, 6, 30, 17, 0, tzinfo=dt.UTC)
        settle_seq = s.add(
            SettlePartner,
            "treasurer",
            partner="barber",
            fund="fund:community",
            period_from=dt.date(2023, 6, 1),
            period_to=dt.date(2023, 6, 30),
        )

        # 10. Reports.
        ledger = s.ledger
        table(
            "Balances (PTS)",
            ("account", "posted", "pending", "available"),
            [
                (a, b.posted, b.pending, b.available)
                for a in ("vol:0001", "vol:0002", "vol:0003", "hh:0042", "pool:charity", "issuer")
                for b in [ledger.balance(a)]
            ],
        )
        table(
            "Points issued per service per month",
            ("service", "month", "awards", "quantity", "points"),
            [
                (r.service, r.month, r.awards, r.quantity, r.points)
                for r in reports.points_issued_by_service_month(ledger)
            ],
        )
        table(
            "Top volunteers per grid cell, June 2023",
            ("cell", "rank", "volunteer", "points"),
            [
                (r.grid_cell, r.rank, r.volunteer, r.points)
                for r in reports.top_volunteers_by_grid_cell(
                    ledger, period_from=dt.date(2023, 6, 1), period_to=dt.date(2023, 6, 30)
                )
            ],
        )
        pool = reports.pool_report(ledger, "pool:charity")
        table(
            f"Charity pool: in {pool.inflows}, out {pool.outflows}, balance {pool.balance}",
            ("seq", "kind", "counterparty", "amount", "purpose"),
            [(r.seq, r.kind, r.counterparty, r.amount, r.purpose) for r in pool.lines],
        )
        table(
            "Redemptions at the barber",
            ("voucher", "member", "points", "status", "settled by"),
            [
                (r.voucher, r.member, r.points, r.status, r.settled_seq or "")
                for r in reports.partner_redemptions(ledger, "barber")
            ],
        )
        statement = reports.settlement_statement(ledger, settle_seq)
        table(
            f"Settlement {settle_seq}: {statement.points} points x {statement.fen_per_point} fen"
            f" = {Asset.CNY.format_amount(statement.fen)} CNY",
            ("voucher", "member", "item", "points", "fen"),
            [(x.voucher, x.member, x.item, x.points, x.fen) for x in statement.lines],
        )
        report = ledger.audit()
        print(f"\nAudit: {report.entries_checked} entries checked, ok={report.ok}")
        ledger.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
