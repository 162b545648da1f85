"""The demo: the whole seed story played offline on one ledger, printed as readable tables.

``points-ledger demo`` (or ``python -m points_ledger demo``) writes ``./demo-ledger.db``,
replacing an earlier demo ledger but never any other file, and leaves it for you to
inspect with ``sqlite-utils`` or Datasette. Every key lives in memory only and the
witness keeps its state in memory, so nothing else is written.

The numbered steps are :data:`STEPS`; the last one is always the audit.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

from points_ledger import reports
from points_ledger.errors import AuthorizationError, LedgerError, StorageError
from points_ledger.i18n import N_, format_number, gettext, label_rows
from points_ledger.keys import Signer
from points_ledger.ledger import Ledger
from points_ledger.models import (
    AccountKind,
    AdoptSplitPolicy,
    Asset,
    AwardPoints,
    ConfirmRedemption,
    DefineService,
    Distribute,
    Donate,
    Event,
    Grant,
    Holding,
    HoldRedemption,
    InvestorTerms,
    JoinAlliance,
    KeySpec,
    ListOffer,
    OpenAccount,
    Posting,
    RecordRevenue,
    RecordRoster,
    RegisterKey,
    Role,
    ServiceUnit,
    SetSettlementRate,
    SettlePartner,
    Transfer,
)
from points_ledger.receipts import verify_receipt
from points_ledger.split import THREE_THREE_THREE_ONE, InvestorSchedule, format_fen
from points_ledger.witness import Witness

__all__ = ["DEMO_FILE", "ORIGIN", "STEPS", "format_table", "run_demo"]

DEMO_FILE: Final = "demo-ledger.db"
"""The file the demo writes in the folder it runs in."""

ORIGIN: Final = "chengdu.example/chenghua/zhiqiang"
"""The demo ledger's origin."""

STEPS: Final = (
    N_("Create the ledger (a log key, 2 admins who must both sign, committee quorum 2)"),
    N_("Open accounts in the grid hierarchy and register keys (grid workers issue points)"),
    N_("Define the service catalogue: gas-safety checks and elderly visits"),
    N_("Grid workers award points for the work volunteers did"),
    N_("A barber joins the alliance and lists a haircut in the points mall"),
    N_("A volunteer redeems a haircut: hold on their phone, the barber confirms the voucher"),
    N_("A volunteer donates points to the charity pool"),
    N_("The committee grants a household in difficulty points (2 signatures)"),
    N_("The treasurer settles with the barber in CNY"),
    N_("Village income split 3:3:3:1 after the investor's share (year 1 of 70% to 10%)"),
    N_("Sign a checkpoint with the log key"),
    N_("A receipt is checked offline with nothing but the verifier key"),
    N_("A witness (the street office) cosigns the checkpoint"),
    N_("Audit"),
)
"""The demo's numbered steps, in order (the test checks each one is printed).

In English here; the demo prints them in the current language (:mod:`points_ledger.i18n`).
"""

DAY: Final = dt.date(2026, 11, 2)
GRID: Final = ("成华区", "府青路街道", "致强社区")


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
    try:
        # Opening read-only writes nothing, and refuses a file that is not a ledger.
        Ledger.open(path, read_only=True).close()
    except LedgerError as e:
        raise StorageError(
            f"{path} already exists and is not a points ledger; a file is never overwritten",
            hint="Move that file away or run the demo in another folder.",
        ) from e
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class _Story:
    """The ledger, the people's keys, a ticking clock and numbered output."""

    def __init__(self, path: Path, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.step_number = 0
        self.count = 0
        self.ticks = 0
        self.keys: dict[str, Signer] = {
            name: Signer.generate()
            for name in (
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
        }
        self.admins = [self.keys["admin.wang"], self.keys["admin.li"]]
        self.record = Path()  # the log key holder's record folder, set by run_demo
        self.step()
        self.ledger = Ledger.create(
            path,
            origin=ORIGIN,
            log_key=self.keys["log"],
            admins=self.admins,
            threshold=2,
            committee_threshold=2,
            effective_at=DAY,
            clock=self.clock,
        )

    def clock(self) -> dt.datetime:
        # Ledger time: 09:00 Beijing time on the demo day, one minute per entry.
        self.ticks += 1
        return dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=self.ticks)

    def step(self) -> None:
        self.step_number += 1
        self.echo("")
        self.echo(f"{self.step_number}. {gettext(STEPS[self.step_number - 1])}")

    def say(self, text: str) -> None:
        self.echo(f"   {text}".rstrip())

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]], **kw: object) -> None:
        translated = [gettext(h) for h in headers]
        text = format_table(translated, label_rows(headers, rows), **kw)  # type: ignore[arg-type]
        for line in text.splitlines():
            self.echo(f"   {line}")

    def next_id(self) -> str:
        self.count += 1
        return f"demo-{self.count:03d}"

    def event(self, cls: type[Event], **fields: Any) -> Event:
        return cls(id=self.next_id(), effective_at=DAY, **fields)

    def add(self, cls: type[Event], *signers: str, **fields: Any) -> int:
        event = self.event(cls, **fields)
        keys = [
            k for name in signers for k in (self.admins if name == "admins" else [self.keys[name]])
        ]
        return self.ledger.append(event, keys).entry.seq

    def register(self, name: str, role: Role, owner: str | None, *also: str) -> None:
        spec = KeySpec(public_key=self.keys[name].public_key_b64, roles=(role,), owner=owner)
        self.add(RegisterKey, "admins", *also, key=spec)


def run_demo(directory: str | Path = ".", *, echo: Callable[[str], None] = print) -> Path:
    """Play the demo story into ``directory/demo-ledger.db`` and print each step.

    Returns:
        The path of the demo ledger file.

    Raises:
        StorageError: if ``demo-ledger.db`` exists there and is not a points ledger.
    """
    path = Path(directory) / DEMO_FILE
    _remove_previous_demo(path)
    echo(gettext("points-ledger demo: the Zhiqiang community's ledger in {path}").format(path=path))
    story = _Story(path, echo)
    # The log key holder's record lives outside the ledger file; the demo keeps it in a
    # temporary folder that is gone when the demo ends.
    with story.ledger, tempfile.TemporaryDirectory(prefix="demo-log-record-") as folder:
        story.record = Path(folder) / "log.record"
        _community(story)
        _village(story)
        _balances(story)
        _transparency(story)
        report = story.ledger.audit(record=story.record)
        echo("")
        echo(
            gettext(
                "The ledger file is {path}. Browse it (tables and report views such as v_holds):"
            ).format(path=path)
        )
        echo(f"  pip install datasette && datasette {path}")
        echo(f"  python -m sqlite_utils tables {path} --counts")
        echo(f"  python -m sqlite_utils rows {path} v_points_issued_by_service_month")
        echo(gettext("Or open the console: points-ledger repl {path}").format(path=path))
        echo("")
        # The audit compares the file with the log key holder's record too, so every
        # entry is anchored; the verdict is the last line, as scripts that run the demo
        # expect.
        verdict = (
            gettext("audit passed: {count} entries checked, no problems").format(
                count=format_number(report.entries_checked)
            )
            if report.ok
            else report.to_text().splitlines()[0]
        )
        echo(f"{story.step_number + 1}. {gettext(STEPS[-1])}: {verdict}")
    return path


def _community(s: _Story) -> None:
    s.say(
        gettext("origin {origin}; log verifier key {vkey}").format(
            origin=ORIGIN, vkey=s.ledger.log_vkey()
        )
    )

    s.step()
    accounts: list[tuple[str, AccountKind, tuple[str, ...]]] = [
        ("gw:g1", AccountKind.MEMBER, (*GRID, "第一总网格")),
        ("gw:g2", AccountKind.MEMBER, (*GRID, "第二总网格")),
        ("vol:0001", AccountKind.MEMBER, (*GRID, "第一总网格", "3栋微网格")),
        ("vol:0002", AccountKind.MEMBER, (*GRID, "第一总网格", "5栋微网格")),
        ("vol:0003", AccountKind.MEMBER, (*GRID, "第二总网格", "8栋微网格")),
        ("hh:0042", AccountKind.BENEFICIARY, (*GRID, "第二总网格", "8栋微网格")),
        ("partner:barber", AccountKind.PARTNER, (*GRID, "第一总网格")),
        ("pool:charity", AccountKind.POOL, GRID),
        ("fund:community", AccountKind.FUND, GRID),
        # Office-holders' own accounts: their keys name them, so a quorum counts people.
        ("cm:chen", AccountKind.MEMBER, GRID),
        ("cm:liu", AccountKind.MEMBER, GRID),
        ("cm:zhou", AccountKind.MEMBER, GRID),
        ("staff:treasurer", AccountKind.MEMBER, GRID),
    ]
    s.ledger.append_many(
        (s.event(OpenAccount, account=a, account_kind=k, grid=g), s.admins) for a, k, g in accounts
    )
    s.register("gw.g1", Role.ISSUER, "gw:g1")
    s.register("gw.g2", Role.ISSUER, "gw:g2")
    for volunteer in ("vol:0001", "vol:0002", "vol:0003"):
        s.register(volunteer, Role.MEMBER, volunteer)
    # The first two seat the committee (its quorum is two); from then on the committee
    # agrees to each new member, so the admins alone cannot pack it.
    s.register("cm.chen", Role.COMMITTEE, "cm:chen")
    s.register("cm.liu", Role.COMMITTEE, "cm:liu")
    s.register("cm.zhou", Role.COMMITTEE, "cm:zhou", "cm.chen", "cm.liu")
    s.register("treasurer", Role.TREASURER, "staff:treasurer", "cm.chen", "cm.liu")
    s.table(
        ["account", "kind", "grid"],
        [(a, k.value, " / ".join(g)) for a, k, g in accounts],
    )
    s.say(gettext("keys: 2 grid workers (issuer), 3 volunteers (member), 3 committee, 1 treasurer"))

    s.step()
    s.add(
        DefineService,
        "admins",
        "cm.chen",
        "cm.liu",
        code="gas-check",
        name="燃气安全检查 gas-safety check",
        points_per_unit=10,
        unit=ServiceUnit.HOUSEHOLD,
        points_per_day_max=50,
        active_from=dt.date(2026, 1, 1),
    )
    s.add(
        DefineService,
        "admins",
        "cm.chen",
        "cm.liu",
        code="elder-visit",
        name="探访老人 visit to an elderly resident",
        points_per_unit=20,
        unit=ServiceUnit.VISIT,
        points_per_day_max=60,
        active_from=dt.date(2026, 1, 1),
    )
    s.table(
        ["code", "service", "points", "per", "cap per day"],
        [
            ("gas-check", "燃气安全检查", 10, "household", 50),
            ("elder-visit", "探访老人", 20, "visit", 60),
        ],
    )

    s.step()
    awards = [
        ("gw.g1", "vol:0001", "gas-check", 3, "3栋", "gas-2026-11-001"),
        ("gw.g1", "vol:0001", "elder-visit", 1, "3栋", "elder-2026-11-001"),
        ("gw.g1", "vol:0002", "elder-visit", 2, "5栋", "elder-2026-11-002"),
        ("gw.g2", "vol:0003", "gas-check", 4, "8栋", "gas-2026-11-002"),
    ]
    for worker, volunteer, service, quantity, cell, task in awards:
        s.add(
            AwardPoints,
            worker,
            volunteer=volunteer,
            service=service,
            quantity=quantity,
            grid_cell=cell,
            task_ref=task,
        )
    s.table(
        ["service", "month", "awards", "quantity", "points"],
        [
            (r.service, r.month, r.awards, r.quantity, r.points)
            for r in reports.points_issued_by_service_month(s.ledger)
        ],
    )

    s.step()
    s.add(
        JoinAlliance,
        "admins",
        partner="partner:barber",
        name=gettext("Zhiqiang barber"),
        public_key=s.keys["barber"].public_key_b64,
    )
    s.add(
        ListOffer,
        "barber",
        offer="barber.haircut",
        partner="partner:barber",
        item=gettext("one haircut"),
        price_points=40,
        stock=5,
    )
    s.say(gettext("offer barber.haircut: one haircut for 40 points, 5 in stock"))

    s.step()
    hold = s.event(HoldRedemption, member="vol:0001", offer="barber.haircut", quantity=1, points=40)
    # The volunteer's phone signs the event bytes; only the signature travels.
    detached = s.ledger.sign(hold, s.keys["vol:0001"])
    hold_seq = s.ledger.append(hold, [detached]).entry.seq
    voucher = f"V{hold_seq:08d}"
    s.say(
        gettext("hold placed: voucher {voucher}; 40 points pending for vol:0001").format(
            voucher=voucher
        )
    )
    s.add(ConfirmRedemption, "barber", voucher=voucher)
    s.say(
        gettext("the barber confirmed {voucher}: the points moved to partner:barber").format(
            voucher=voucher
        )
    )

    s.step()
    donation = s.event(Donate, donor="vol:0002", pool="pool:charity", points=30)
    s.ledger.append(donation, [s.ledger.sign(donation, s.keys["vol:0002"])])
    s.say(gettext("vol:0002 gave 30 points to pool:charity"))

    s.step()
    grant = s.event(
        Grant,
        pool="pool:charity",
        beneficiary="hh:0042",
        points=20,
        # The purpose is the office's own words, written in the language the demo speaks.
        purpose=gettext("haircut for an elderly resident living alone"),
    )
    try:
        s.ledger.append(grant, [s.keys["cm.chen"]])
    except AuthorizationError as e:
        s.say(gettext("one committee signature is refused: [{code}]").format(code=e.code))
    s.ledger.append(grant, [s.keys["cm.chen"], s.keys["cm.liu"]])
    s.say(gettext("two committee members signed: 20 points granted to hh:0042"))
    pool = reports.pool_report(s.ledger, "pool:charity")
    s.table(
        ["seq", "kind", "counterparty", "points", "purpose"],
        [(r.seq, r.kind, r.counterparty, r.amount, r.purpose) for r in pool.lines],
    )

    s.step()
    # Money from outside the ledger is new money on it: the admins record it and the
    # committee agrees.
    s.add(
        Transfer,
        "admins",
        "cm.chen",
        "cm.liu",
        memo=gettext("street office grant to the community fund"),
        postings=(
            Posting(account="external", asset=Asset.CNY, amount=-200_000),
            Posting(account="fund:community", asset=Asset.CNY, amount=200_000),
        ),
    )
    s.add(SetSettlementRate, "admins", "cm.chen", "cm.liu", fen_per_point=5)
    settle_seq = s.add(
        SettlePartner,
        "treasurer",
        partner="partner:barber",
        fund="fund:community",
        period_from=dt.date(2026, 11, 1),
        period_to=dt.date(2026, 11, 30),
    )
    statement = reports.settlement_statement(s.ledger, settle_seq)
    s.say(
        gettext(
            "settlement entry {seq}: {points} points x {fen_per_point} fen = {cny} CNY to "
            "the barber"
        ).format(
            seq=settle_seq,
            points=statement.points,
            fen_per_point=statement.fen_per_point,
            cny=format_fen(statement.fen),
        )
    )
    s.table(
        ["voucher", "member", "item", "points", "fen"],
        [(x.voucher, x.member, x.item, x.points, x.fen) for x in statement.lines],
    )


def _village(s: _Story) -> None:
    s.step()
    shares = {"sh:01": 1, "sh:02": 2, "sh:03": 3, "sh:04": 4}
    villagers = [*shares, "vil:05", "vil:06", "vil:07", "vil:08"]
    kinds = {
        "fund:revenue": AccountKind.FUND,
        "fund:welfare": AccountKind.FUND,
        "fund:reserve": AccountKind.FUND,
        "inv:agri-partner": AccountKind.INVESTOR,
        **dict.fromkeys(shares, AccountKind.SHAREHOLDER),
        **dict.fromkeys(villagers[len(shares) :], AccountKind.MEMBER),
    }
    s.ledger.append_many(
        (s.event(OpenAccount, account=a, account_kind=k), s.admins) for a, k in kinds.items()
    )
    schedule = InvestorSchedule.linear(start=Fraction(7, 10), end=Fraction(1, 10), years=20)
    s.add(
        AdoptSplitPolicy,
        "cm.chen",
        "cm.liu",
        policy_id="village-3331",
        version=1,
        effective_from=dt.date(2026, 1, 1),
        policy=THREE_THREE_THREE_ONE,
        accounts={"public_welfare_fund": "fund:welfare", "project_reserve_fund": "fund:reserve"},
        investor=InvestorTerms(
            account="inv:agri-partner", schedule=schedule, contract_start_year=2026
        ),
    )
    s.add(
        RecordRoster,
        "cm.chen",
        "cm.zhou",
        roster_id="roster-2026",
        as_of=dt.date(2026, 10, 31),
        shareholders=tuple(Holding(account=a, shares=n) for a, n in shares.items()),
        villagers=tuple(villagers),
    )
    s.add(
        RecordRevenue,
        "cm.liu",
        "cm.zhou",
        account="fund:revenue",
        period="2026",
        fiscal_year=2026,
        amount=12_000_001,
    )
    payout = Distribute(
        id=s.next_id(),
        effective_at=DAY,
        period="2026",
        policy_id="village-3331",
        roster_id="roster-2026",
        amount=12_000_001,
    )
    preview = s.ledger.preview_distribution(payout)
    s.say(gettext("the committee reads the working before signing (trace summary):"))
    s.table(
        ["part", "CNY"],
        [
            *((_part_label(label), format_fen(units)) for label, units in preview.trace.summary),
            (gettext("total (investor and buckets)"), format_fen(preview.amount)),
        ],
        right=[False, True],
    )
    entry = s.ledger.append(payout, [s.keys["cm.chen"], s.keys["cm.liu"]]).entry
    paid = [(p.account, p.amount) for p in entry.postings if p.amount > 0]
    source = ", ".join(p.account for p in entry.postings if p.amount < 0)
    s.say(
        gettext(
            "distribution stored as entry {seq}: {cny} CNY out of {source}, paid to these "
            "{count} accounts:"
        ).format(seq=entry.seq, cny=format_fen(payout.amount), source=source, count=len(paid))
    )
    s.table(
        ["account", "CNY"],
        [
            *((account, format_fen(amount)) for account, amount in paid),
            (
                gettext("total paid to {count} accounts").format(count=len(paid)),
                format_fen(sum(a for _, a in paid)),
            ),
        ],
        right=[False, True],
    )


def _part_label(label: str) -> str:
    """A trace summary label (``investor ACCOUNT``, ``bucket NAME``) in the language."""
    kind, _space, name = label.partition(" ")
    if kind == "investor":
        return gettext("investor {account}").format(account=name)
    if kind == "bucket":
        return gettext("bucket {name}").format(name=name)
    return label


def _balances(s: _Story) -> None:
    s.echo("")
    s.echo(gettext("Balances after the story:"))
    rows = []
    for account in (
        "issuer",
        "vol:0001",
        "vol:0002",
        "vol:0003",
        "hh:0042",
        "pool:charity",
        "partner:barber",
        "fund:community",
        "fund:revenue",
    ):
        pts = s.ledger.balance(account, Asset.PTS)
        cny = s.ledger.balance(account, Asset.CNY)
        rows.append((account, pts.posted, pts.pending, pts.available, format_fen(cny.posted)))
    s.table(
        ["account", "PTS posted", "PTS pending", "PTS available", "CNY"],
        rows,
        right=[False, True, True, True, True],
    )


def _transparency(s: _Story) -> None:
    ledger = s.ledger
    s.step()
    # The log key's holder keeps its record of what it signed outside the ledger file.
    signed = ledger.checkpoint(s.keys["log"], s.record)
    vkey = ledger.log_vkey()
    s.say(
        gettext("checkpoint of {size} entries (every entry checked first), signed note:").format(
            size=signed.size
        )
    )
    for line in signed.note.rstrip("\n").splitlines():
        s.say(f"  {line}")

    s.step()
    first_award = next(e.seq for e in ledger.entries() if e.kind == "award_points")
    receipt_json = ledger.receipt(first_award).to_json()
    checked = verify_receipt(receipt_json, vkey)  # offline: the JSON and the vkey only
    points = next(p.amount for p in checked.postings if p.account == "vol:0001")
    s.say(
        gettext("receipt for entry {seq} verifies: vol:0001 was awarded {points} points").format(
            seq=checked.seq, points=points
        )
    )
    doctored = json.loads(receipt_json)
    for posting in doctored["postings"]:
        posting["amount"] *= 10
    try:
        verify_receipt(json.dumps(doctored), vkey)
    except LedgerError as e:
        s.say(gettext("a copy with the points changed is refused: [{code}]").format(code=e.code))

    s.step()
    with Witness(
        ":memory:",
        name="street.example/fuqinglu/witness",
        key=s.keys["witness"],
        logs={ORIGIN: vkey},
    ) as witness:
        line = witness.cosign(signed.note, [])
    s.say(gettext("cosignature line (append it to the note and publish both):"))
    s.say(f"  {line.rstrip()}")
