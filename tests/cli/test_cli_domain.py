"""CLI commands for the community, revenue, reports and transparency, through CliRunner.

The ledger of each test is built with the Python API (fast, keys in memory); only the
command under test goes through the command line. Key files are written once per module
(scrypt makes each save and load cost about half a second).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import FixedClock
from points_ledger import (
    AccountKind,
    Asset,
    AwardPoints,
    DefineService,
    Donate,
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
    Signer,
    Transfer,
    save_signer,
)
from points_ledger.cli import cli
from points_ledger.cli.app import AppState
from points_ledger.cli.report_views import REPORTS
from points_ledger.notes import vkey_for
from points_ledger.reports import offers

# Key files at a cheap scrypt cost: these tests are about commands, not key strength.
pytestmark = pytest.mark.usefixtures("cheap_scrypt")

PASS = "domain commands passphrase"
ORIGIN = "chengdu.example/chenghua/zhiqiang"
DAY = dt.date(2026, 11, 2)
CLI_STATE = AppState(clock=FixedClock(dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)))
"""The command line's clock: 2026-11-20 10:00 in Chengdu, inside the month of DAY."""
NAMES = ("admin", "issuer", "member", "partner", "cm1", "cm2", "treasurer", "log", "witness")


@dataclass(frozen=True)
class Keys:
    folder: Path
    signers: dict[str, Signer]

    def file(self, name: str) -> str:
        return str(self.folder / f"{name}.key")

    def admin_and_committee(self) -> list[str]:
        """``--key`` options for the admin and the seated committee (cm1, cm2)."""
        return [f"--key={self.file(name)}" for name in ("admin", "cm1", "cm2")]

    def __getitem__(self, name: str) -> Signer:
        return self.signers[name]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("keys")
    made = Keys(folder, {name: Signer.generate() for name in NAMES})
    for name in NAMES:
        save_signer(made[name], folder / f"{name}.key", PASS)
    return made


def _clock() -> Iterator[dt.datetime]:
    start = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
    n = 0
    while True:
        n += 1
        yield start + dt.timedelta(seconds=n)


@pytest.fixture
def db(tmp_path: Path, keys: Keys) -> Path:
    """Accounts, keys, a catalogue, an award, a partner with an offer, money in the fund."""
    path = tmp_path / "ledger.db"
    ticks = _clock()
    admin = [keys["admin"]]
    with Ledger.create(
        path,
        origin=ORIGIN,
        log_key=keys["log"],
        admins=admin,
        threshold=1,
        effective_at=DAY,
        clock=lambda: next(ticks),
    ) as ledger:
        count = iter(range(1000))

        def ev(cls: type, **fields: object) -> object:
            return cls(id=f"setup-{next(count)}", effective_at=DAY, **fields)

        kinds = {
            "gw:1": AccountKind.MEMBER,
            "vol:0001": AccountKind.MEMBER,
            "hh:0042": AccountKind.BENEFICIARY,
            "barber": AccountKind.PARTNER,
            "pool:charity": AccountKind.POOL,
            "fund:community": AccountKind.FUND,
            "fund:revenue": AccountKind.FUND,
            "fund:welfare": AccountKind.FUND,
            "fund:reserve": AccountKind.FUND,
            "inv:agri": AccountKind.INVESTOR,
            "sh:01": AccountKind.SHAREHOLDER,
            "sh:02": AccountKind.SHAREHOLDER,
            "vil:03": AccountKind.MEMBER,
            "cm:1": AccountKind.MEMBER,
            "cm:2": AccountKind.MEMBER,
            "staff:1": AccountKind.MEMBER,
        }
        items: list[tuple[object, list[Signer]]] = [
            (ev(OpenAccount, account=a, account_kind=k, grid=("成华区", "致强社区")), admin)
            for a, k in kinds.items()
        ]
        for name, role, owner in (
            ("issuer", Role.ISSUER, "gw:1"),
            ("member", Role.MEMBER, "vol:0001"),
            ("cm1", Role.COMMITTEE, "cm:1"),
            ("cm2", Role.COMMITTEE, "cm:2"),
            ("treasurer", Role.TREASURER, "staff:1"),
        ):
            spec = KeySpec(public_key=keys[name].public_key_b64, roles=(role,), owner=owner)
            # Once cm1 and cm2 seat the committee, it agrees to the treasurer too.
            signers = [*admin, keys["cm1"], keys["cm2"]] if role is Role.TREASURER else admin
            items.append((ev(RegisterKey, key=spec), signers))
        items.append(
            (
                ev(
                    DefineService,
                    code="gas-check",
                    name="燃气安全检查",
                    points_per_unit=10,
                    unit=ServiceUnit.HOUSEHOLD,
                    active_from=dt.date(2026, 1, 1),
                ),
                [*admin, keys["cm1"], keys["cm2"]],
            )
        )
        items.append(
            (
                ev(
                    JoinAlliance,
                    partner="barber",
                    name="致强理发店",
                    public_key=keys["partner"].public_key_b64,
                ),
                admin,
            )
        )
        items.append(
            (
                ev(
                    Transfer,
                    postings=(
                        Posting(account="external", asset=Asset.CNY, amount=-100_000),
                        Posting(account="fund:community", asset=Asset.CNY, amount=100_000),
                    ),
                ),
                [*admin, keys["cm1"], keys["cm2"]],
            )
        )
        ledger.append_many(items)  # type: ignore[arg-type]
        ledger.append(
            ev(
                AwardPoints,
                volunteer="vol:0001",
                service="gas-check",
                quantity=5,
                grid_cell="g1",
                task_ref="gas-0",
            ),  # type: ignore[arg-type]
            [keys["issuer"]],
        )
        ledger.append(
            ev(
                ListOffer,
                offer="barber.haircut",
                partner="barber",
                item="理发一次",
                price_points=20,
                stock=3,
            ),  # type: ignore[arg-type]
            [keys["partner"]],
        )
    return path


def run(db: Path | None, *args: str, input: str | None = None) -> Result:
    env = {"POINTS_LEDGER_PASSPHRASE": PASS}
    if db is not None:
        env["POINTS_LEDGER_DB"] = str(db)
    result = CliRunner().invoke(cli, list(args), env=env, input=input, obj=CLI_STATE)
    assert "Traceback" not in result.output
    return result


def ok(db: Path | None, *args: str) -> Result:
    result = run(db, *args)
    assert result.exit_code == 0, result.output
    return result


def error_code(result: Result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error [")]
    assert len(lines) == 1, result.stderr
    return lines[0].split("]")[0].removeprefix("error [")


def size(db: Path) -> int:
    with Ledger.open(db, clock=CLI_STATE.clock) as ledger:
        return ledger.size()


# -- catalogue and awards ---------------------------------------------------------------


def test_service_define_and_award_priced_from_catalogue(db: Path, keys: Keys) -> None:
    ok(
        db,
        "service",
        "define",
        "elder-visit",
        "--name",
        "探访老人",
        "--points",
        "20",
        "--unit",
        "visit",
        "--per-day-max",
        "60",
        *keys.admin_and_committee(),
        "--id",
        "svc-1",
    )
    result = ok(
        db,
        "award",
        "vol:0001",
        "elder-visit",
        "--quantity",
        "2",
        "--cell",
        "g1",
        "--task",
        "visit-1",
        "--key",
        keys.file("issuer"),
        "--json",
    )
    document = json.loads(result.stdout)
    assert document["status"] == "created"
    assert {p["account"]: p["amount"] for p in document["postings"]}["vol:0001"] == 40
    again = run(
        db,
        "award",
        "vol:0001",
        "elder-visit",
        "--cell",
        "g1",
        "--task",
        "visit-1",
        "--key",
        keys.file("issuer"),
    )
    assert again.exit_code == 1
    assert error_code(again) == "duplicate_task"


def test_award_signed_by_the_volunteer_is_refused(db: Path, keys: Keys) -> None:
    result = run(
        db,
        "award",
        "vol:0001",
        "gas-check",
        "--cell",
        "g1",
        "--task",
        "t-9",
        "--key",
        keys.file("member"),
    )
    assert result.exit_code == 1
    assert error_code(result) == "not_authorized"


# -- the mall ------------------------------------------------------------------------------


def test_offer_list_update_delist_and_show(db: Path, keys: Keys) -> None:
    ok(
        db,
        "offer",
        "list",
        "barber.shave",
        "--partner",
        "barber",
        "--item",
        "剃须",
        "--price",
        "10",
        "--stock",
        "2",
        "--key",
        keys.file("partner"),
    )
    ok(db, "offer", "update", "barber.shave", "--price", "12", "--key", keys.file("partner"))
    table = ok(db, "offers").stdout
    assert "barber.shave" in table and "剃须" in table and "12" in table
    ok(db, "offer", "delist", "barber.shave", "--key", keys.file("partner"))
    assert "barber.shave" not in ok(db, "offers").stdout
    rows = [json.loads(line) for line in ok(db, "offers", "--all", "--json").stdout.splitlines()]
    assert {r["offer"]: r["active"] for r in rows} == {
        "barber.haircut": True,
        "barber.shave": False,
    }
    nothing = run(db, "offer", "update", "barber.haircut", "--key", keys.file("partner"))
    assert nothing.exit_code == 2


def test_alliance_join_needs_one_key_source(db: Path, keys: Keys) -> None:
    result = run(db, "alliance", "join", "barber", "--name", "x", "--key", keys.file("admin"))
    assert result.exit_code == 2


def test_redeem_hold_confirm_and_void(db: Path, keys: Keys) -> None:
    hold = ok(
        db,
        "redeem",
        "hold",
        "vol:0001",
        "barber.haircut",
        "--points",
        "20",
        "--key",
        keys.file("member"),
    )
    voucher = hold.stdout.strip().splitlines()[-1].removeprefix("voucher: ")
    assert voucher.startswith("V000000")
    ok(db, "redeem", "confirm", voucher, "--key", keys.file("partner"))
    twice = run(db, "redeem", "confirm", voucher, "--key", keys.file("partner"))
    assert error_code(twice) == "hold_not_pending"
    second = ok(
        db,
        "redeem",
        "hold",
        "vol:0001",
        "barber.haircut",
        "--points",
        "20",
        "--key",
        keys.file("member"),
        "--json",
    )
    seq = json.loads(second.stdout)["seq"]
    ok(
        db,
        "redeem",
        "void",
        f"V{seq:08d}",
        "--reason",
        "changed my mind",
        "--key",
        keys.file("member"),
    )
    with Ledger.open(db, clock=CLI_STATE.clock) as ledger:
        assert ledger.balance("vol:0001", Asset.PTS).available == 30
        assert {o.offer: o.stock for o in offers(ledger)}["barber.haircut"] == 2


def test_hold_at_the_wrong_price_is_refused(db: Path, keys: Keys) -> None:
    result = run(
        db,
        "redeem",
        "hold",
        "vol:0001",
        "barber.haircut",
        "--points",
        "15",
        "--key",
        keys.file("member"),
    )
    assert result.exit_code == 1
    assert error_code(result) == "price_changed"


# -- charity pool ----------------------------------------------------------------------------


def test_donate_and_grant_needs_two_committee_people(db: Path, keys: Keys) -> None:
    ok(db, "donate", "vol:0001", "30", "--pool", "pool:charity", "--key", keys.file("member"))
    grant = ("grant", "hh:0042", "20", "--pool", "pool:charity", "--purpose", "理发")
    one = run(db, *grant, "--key", keys.file("cm1"))
    assert one.exit_code == 1
    assert error_code(one) == "not_authorized"
    ok(db, *grant, "--key", keys.file("cm1"), "--key", keys.file("cm2"))
    with Ledger.open(db, clock=CLI_STATE.clock) as ledger:
        assert ledger.balance("hh:0042", Asset.PTS).posted == 20
        assert ledger.balance("pool:charity", Asset.PTS).posted == 10


def test_points_must_be_whole_and_positive(db: Path, keys: Keys) -> None:
    for bad in ("1.5", "0", "-3", "ten"):
        result = run(
            db, "donate", "vol:0001", bad, "--pool", "pool:charity", "--key", keys.file("member")
        )
        assert result.exit_code == 2, bad


# -- settlement ------------------------------------------------------------------------------


def test_settlement_rate_in_yuan_and_settle(db: Path, keys: Keys) -> None:
    with Ledger.open(db, clock=CLI_STATE.clock) as ledger:
        hold = HoldRedemption(
            id="h", effective_at=DAY, member="vol:0001", offer="barber.haircut", points=20
        )
        seq = ledger.append(hold, [keys["member"]]).entry.seq
    ok(
        db,
        "redeem",
        "confirm",
        f"V{seq:08d}",
        "--date",
        DAY.isoformat(),
        "--key",
        keys.file("partner"),
    )
    three_decimals = run(db, "settlement-rate", "set", "0.051", "--key", keys.file("admin"))
    assert three_decimals.exit_code == 2
    decimal_comma = run(db, "settlement-rate", "set", "0,05", "--key", keys.file("admin"))
    assert decimal_comma.exit_code == 2
    assert "commas may only separate thousands" in decimal_comma.output
    rate = ok(db, "settlement-rate", "set", "0.05", *keys.admin_and_committee(), "--json")
    assert json.loads(rate.stdout)["event"]["fen_per_point"] == 5
    said = ok(db, "settlement-rate", "set", "0.06", *keys.admin_and_committee()).stdout
    assert "partners are paid 0.06 yuan (6 fen) per redeemed point" in said
    ok(db, "settlement-rate", "set", "0.05", *keys.admin_and_committee())
    out = ok(
        db,
        "settle",
        "barber",
        "--fund",
        "fund:community",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--key",
        keys.file("treasurer"),
    ).stdout
    assert "barber +1.00 CNY" in out


# -- revenue ---------------------------------------------------------------------------------


def _adopt_3331(db: Path, *extra: str) -> None:
    """Adopt policy v-3331 from the 3331 preset, its funds named, from 2026-01-01."""
    ok(
        db,
        "policy",
        "adopt",
        "v-3331",
        "--preset",
        "3331",
        "--effective-from",
        "2026-01-01",
        "--account",
        "public_welfare_fund=fund:welfare",
        "--account",
        "project_reserve_fund=fund:reserve",
        *extra,
    )


def _revenue_setup(db: Path, keys: Keys, tmp_path: Path) -> tuple[str, ...]:
    committee = ("--key", keys.file("cm1"), "--key", keys.file("cm2"))
    _adopt_3331(
        db,
        "--investor",
        "inv:agri",
        "--investor-start",
        "70%",
        "--investor-end",
        "10%",
        "--investor-years",
        "20",
        "--contract-start-year",
        "2026",
        *committee,
    )
    roster = tmp_path / "roster.csv"
    roster.write_text("\ufeffaccount,shares,villager\nsh:01,1,yes\nsh:02,3,是\nvil:03,,yes\n")
    out = ok(db, "roster", "record", "r-2026", "--file", str(roster), *committee).stdout
    assert "2 shareholders, 3 villagers" in out
    ok(
        db,
        "revenue",
        "record",
        "fund:revenue",
        "1,000.01",
        "--period",
        "2026",
        "--fiscal-year",
        "2026",
        *committee,
    )
    return committee


def test_policy_roster_revenue_and_distribute(db: Path, keys: Keys, tmp_path: Path) -> None:
    committee = _revenue_setup(db, keys, tmp_path)
    before = size(db)
    dry = ok(
        db, "distribute", "2026", "1000.01", "--policy", "v-3331", "--roster", "r-2026", "--dry-run"
    )
    assert "investor inv:agri" in dry.stdout and "700.01" in dry.stdout
    assert "dry run: nothing was written" in dry.stdout
    assert size(db) == before
    dry_json = json.loads(
        ok(
            db,
            "distribute",
            "2026",
            "1000.01",
            "--policy",
            "v-3331",
            "--roster",
            "r-2026",
            "--dry-run",
            "--json",
        ).stdout
    )
    assert dry_json["investor_amount"] == 70_001 and sum(dry_json["amounts"].values()) == 100_001
    assert size(db) == before
    args = (
        "distribute",
        "2026",
        "1000.01",
        "--policy",
        "v-3331",
        "--roster",
        "r-2026",
        "--id",
        "dist-2026",
        *committee,
    )
    assert "created entry" in ok(db, *args).stdout
    again = ok(db, *args).stdout
    assert "already recorded" in again and "nothing written" in again
    assert "report distribution" in again
    with Ledger.open(db, clock=CLI_STATE.clock) as ledger:
        assert ledger.balance("inv:agri", Asset.CNY).posted == 70_001
        assert ledger.balance("fund:revenue", Asset.CNY).posted == 0
        ledger.verify()


def test_a_preset_bucket_without_its_account_says_to_give_account(db: Path, keys: Keys) -> None:
    before = size(db)
    committee = ("--key", keys.file("cm1"), "--key", keys.file("cm2"))
    refused = run(db, "policy", "adopt", "v-3331", "--preset", "3331", *committee)
    assert refused.exit_code == 1 and error_code(refused) == "unknown_account"
    assert "bucket 'public_welfare_fund' pays account 'public_welfare_fund'" in refused.stderr
    assert "--account public_welfare_fund=ACCOUNT" in refused.stderr
    assert size(db) == before


def test_a_past_distribution_is_explained_with_what_was_in_force_then(
    db: Path, keys: Keys, tmp_path: Path
) -> None:
    committee = _revenue_setup(db, keys, tmp_path)
    plan = ("2026", "1000.01", "--policy", "v-3331", "--roster", "r-2026")
    dry = json.loads(ok(db, "distribute", *plan, "--dry-run", "--json").stdout)
    ok(db, "distribute", *plan, "--id", "dist-2026", *committee)
    with Ledger.open(db, clock=CLI_STATE.clock) as ledger:
        seq = ledger.size() - 1
    # A later version of the policy (no investor) must not change the explanation.
    _adopt_3331(db, "--version", "2", *committee)
    explained = json.loads(ok(db, "report", "distribution", str(seq), "--json").stdout)
    assert explained["trace"] == dry["trace"]
    assert {line["account"]: line["fen"] for line in explained["lines"]} == dry["amounts"]
    assert explained["investor_amount"] == 70_001
    text = ok(db, "report", "distribution", str(seq)).stdout
    assert f"Distribution, entry {seq}, re-derived from the log:" in text
    assert "inv:agri" in text and "700.01" in text
    not_one = run(db, "report", "distribution", "1")
    assert not_one.exit_code == 1 and error_code(not_one) == "not_found"
    assert "not a distribution" in not_one.stderr


def test_distribute_needs_keys_unless_dry_run(db: Path) -> None:
    result = run(db, "distribute", "2026", "10", "--policy", "p")
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"account,shares,villager\n", "lists nobody"),
        (b"\xef\xbb\xbfaccount,shares\n\n", "lists nobody"),
        (b'{"shareholders": [], "villagers": []}', "lists nobody"),
        ("account,shares,villager\nsh:01,1,是\n".encode("gbk"), "CSV UTF-8 (逗号分隔)"),
        ("account,shares\nsh:01,²\n".encode(), "line 2"),
        (b"account,shares\nsh:01," + b"9" * 5000 + b"\n", "line 2"),
        (b'{"shareholders": [{"account": "sh:01", "shares": "two"}]}', "Holding: shares"),
    ],
    ids=[
        "header-only",
        "blank-rows",
        "empty-json",
        "gbk",
        "superscript",
        "5000-digits",
        "json-str",
    ],
)
def test_a_roster_file_that_lists_nobody_or_is_gbk_is_refused_plainly(
    db: Path, keys: Keys, tmp_path: Path, content: bytes, said: str
) -> None:
    roster = tmp_path / ("roster.json" if content.startswith(b"{") else "roster.csv")
    roster.write_bytes(content)
    before = size(db)
    committee = ("--key", keys.file("cm1"), "--key", keys.file("cm2"))
    refused = run(db, "roster", "record", "r-bad", "--file", str(roster), *committee)
    assert refused.exit_code == 1 and error_code(refused) == "invalid_event"
    assert said in refused.stderr
    assert size(db) == before


def test_policy_from_json_file_and_roster_from_json(db: Path, keys: Keys, tmp_path: Path) -> None:
    committee = ("--key", keys.file("cm1"), "--key", keys.file("cm2"))
    policy = tmp_path / "policy.json"
    policy.write_text(
        json.dumps(
            {
                "policy": {
                    "name": "half and half",
                    "buckets": [
                        {"name": "welfare", "weight": 1, "mode": "account", "account": "x"},
                        {"name": "holders", "weight": 1, "mode": "pro_rata"},
                    ],
                },
                "accounts": {"welfare": "fund:welfare"},
            }
        )
    )
    ok(db, "policy", "adopt", "half", "--file", str(policy), *committee)
    roster = tmp_path / "roster.json"
    roster.write_text(json.dumps({"shareholders": {"sh:01": 1, "sh:02": 1}, "villagers": []}))
    ok(db, "roster", "record", "r-json", "--file", str(roster), *committee)
    bad = tmp_path / "bad.csv"
    bad.write_text("account,shares\nsh:01,two\n")
    result = run(db, "roster", "record", "r-bad", "--file", str(bad), *committee)
    assert result.exit_code == 1 and "line 2" in result.stderr


@pytest.mark.parametrize(
    "extra",
    [
        ("--preset", "3331", "--file", "x.json"),
        ("--preset", "3331", "--investor", "inv:agri"),
        ("--preset", "3331", "--investor-start", "70%"),
        (
            "--preset",
            "3331",
            "--investor",
            "inv:agri",
            "--investor-start",
            "0.7.1",
            "--investor-end",
            "10%",
            "--investor-years",
            "20",
            "--contract-start-year",
            "2026",
        ),
    ],
)
def test_policy_adopt_usage_errors(db: Path, keys: Keys, extra: tuple[str, ...]) -> None:
    result = run(db, "policy", "adopt", "p", *extra, "--key", keys.file("cm1"))
    assert result.exit_code == 2


# -- reports ---------------------------------------------------------------------------------


def test_every_report_runs_as_table_and_json(db: Path) -> None:
    args = {
        "member-statement": ("vol:0001",),
        "top-volunteers": ("2026-11-01", "2026-11-30"),
        "pool": ("pool:charity",),
    }
    listing = ok(db, "report").stdout
    for name in REPORTS:
        assert name in listing
        if name in ("settlement-statement", "distribution"):
            continue  # about one entry of a kind this ledger lacks: tested on their own
        ok(db, "report", name, *args.get(name, ()))
        ok(db, "report", name, *args.get(name, ()), "--json")
    statement = json.loads(ok(db, "report", "member-statement", "vol:0001", "--json").stdout)
    assert statement["posted"] == 50 and statement["lines"][0]["amount"] == 50
    assert (
        "g1       1  vol:0001"
        in ok(db, "report", "top-volunteers", "2026-11-01", "2026-11-30").stdout
    )


def test_the_catalogue_accounts_and_keys_explain_where_numbers_come_from(
    db: Path, keys: Keys
) -> None:
    catalogue = ok(db, "report", "services").stdout
    assert "gas-check  燃气安全检查" in catalogue and "2026-01-01 to open end" in catalogue
    (service,) = (
        json.loads(line) for line in ok(db, "report", "services", "--json").stdout.splitlines()
    )
    assert (service["code"], service["points_per_unit"], service["unit"]) == (
        "gas-check",
        10,
        "household",
    )
    assert service["points_per_day_max"] is None and service["active_to"] is None

    pools = [
        json.loads(line)
        for line in ok(db, "report", "accounts", "pool", "--json").stdout.splitlines()
    ]
    assert [(a["account"], a["kind"], a["grid"]) for a in pools] == [
        ("pool:charity", "pool", ["成华区", "致强社区"])
    ]
    everyone = ok(db, "report", "accounts").stdout
    assert "vol:0001" in everyone and "barber" in everyone and "成华区 / 致强社区" in everyone

    listed = [json.loads(line) for line in ok(db, "report", "keys", "--json").stdout.splitlines()]
    member = next(k for k in listed if k["key_id"] == keys["member"].key_id)
    assert (member["roles"], member["owner"], member["revoked_at_seq"]) == (
        ["member"],
        "vol:0001",
        None,
    )
    assert ok(db, "report", "keys").stdout.startswith(f"Keys: {len(listed)} valid, {len(listed)}")
    assert run(db, "report", "services", "extra").exit_code == 2


def test_report_errors(db: Path) -> None:
    assert run(db, "report", "nosuch").exit_code == 2
    assert run(db, "report", "pool").exit_code == 2
    assert run(db, "report", "top-volunteers", "2026-13-01", "2026-11-30").exit_code == 2
    missing = run(db, "report", "settlement-statement", "3")
    assert missing.exit_code == 1 and error_code(missing) == "not_found"


# -- checkpoints, receipts, witness ------------------------------------------------------------


def test_checkpoint_receipt_verify_and_witness(db: Path, keys: Keys, tmp_path: Path) -> None:
    note1 = tmp_path / "cp1.txt"
    first = json.loads(
        ok(
            db,
            "checkpoint",
            "--log-key",
            keys.file("log"),
            "--record",
            str(db.with_suffix(".record")),
            "--output",
            str(note1),
            "--json",
        ).stdout
    )
    vkey = first["vkey"]
    assert note1.read_text() == first["note"]
    receipt = ok(db, "receipt", str(first["size"] - 2)).stdout
    receipt_file = tmp_path / "r.json"
    receipt_file.write_text(receipt)
    # verify-receipt needs no ledger at all
    checked = run(tmp_path / "no-such.db", "verify-receipt", str(receipt_file), "--vkey", vkey)
    assert checked.exit_code == 0, checked.output
    assert "receipt verified" in checked.stdout and "vol:0001" in checked.stdout
    vkey_file = tmp_path / "log.vkey"
    vkey_file.write_text(vkey + "\n")
    as_json = ok(None, "verify-receipt", str(receipt_file), "--vkey", str(vkey_file), "--json")
    assert json.loads(as_json.stdout)["ok"] is True
    doctored = json.loads(receipt)
    doctored["postings"][0]["amount"] -= 1
    doctored["postings"][1]["amount"] += 1
    receipt_file.write_text(json.dumps(doctored))
    bad = run(None, "verify-receipt", str(receipt_file), "--vkey", vkey)
    assert bad.exit_code == 3 and error_code(bad) == "integrity_failure"
    bad_json = run(None, "verify-receipt", str(receipt_file), "--vkey", vkey, "--json")
    assert bad_json.exit_code == 3 and error_code(bad_json) == "integrity_failure"
    verdict = json.loads(bad_json.stdout)
    assert (verdict["ok"], verdict["code"]) == (False, "integrity_failure")
    wrong_key = run(None, "verify-receipt", str(receipt_file), "--vkey", "nobody+00000000+AA==")
    assert wrong_key.exit_code == 1

    witness = (
        "witness",
        "cosign",
        "--state",
        str(tmp_path / "w.db"),
        "--key",
        keys.file("witness"),
        "--name",
        "street.example/witness",
        "--log-vkey",
        vkey,
    )
    line = ok(None, *witness, str(note1)).stdout
    assert line.startswith("— street.example/witness ") and line.endswith("\n")

    with Ledger.open(db, clock=CLI_STATE.clock) as ledger:
        ledger.append(
            Donate(id="d", effective_at=DAY, donor="vol:0001", pool="pool:charity", points=1),
            [keys["member"]],
        )
    note2 = tmp_path / "cp2.txt"
    ok(
        db,
        "checkpoint",
        "--log-key",
        keys.file("log"),
        "--record",
        str(db.with_suffix(".record")),
        "--output",
        str(note2),
    )
    without_proof = run(None, *witness, str(note2))
    assert without_proof.exit_code == 1 and error_code(without_proof) == "proof_invalid"
    proof = tmp_path / "proof.txt"
    ok(db, "consistency-proof", str(first["size"]), "--output", str(proof))
    cosigned = ok(None, *witness, str(note2), "--proof", str(proof), "--json")
    assert json.loads(cosigned.stdout)["witness_vkey"].startswith("street.example/witness+")
    with_cosignature = tmp_path / "cp2-cosigned.txt"
    with_cosignature.write_text(note2.read_text() + json.loads(cosigned.stdout)["cosignature"])
    receipt2 = ok(db, "receipt", "1", "--checkpoint", str(with_cosignature)).stdout
    assert "street.example/witness" in json.loads(receipt2)["checkpoint"]
    exists = run(
        db,
        "checkpoint",
        "--log-key",
        keys.file("log"),
        "--record",
        str(db.with_suffix(".record")),
        "--output",
        str(note2),
    )
    assert exists.exit_code == 1 and error_code(exists) == "command_failed"
    listed = ok(db, "checkpoints").stdout
    assert str(first["size"]) in listed and str(first["size"] + 1) in listed


def test_checkpoint_with_the_wrong_key_is_refused(db: Path, keys: Keys) -> None:
    result = run(db, "checkpoint", "--log-key", keys.file("admin"))
    assert result.exit_code == 1
    assert error_code(result) == "bad_signature"


def _copy_ledger(source: Path, target: Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(source)) as a,
        contextlib.closing(sqlite3.connect(target)) as b,
    ):
        a.backup(b)


def test_audit_and_verify_compare_the_file_with_a_checkpoint_held_outside_it(
    db: Path, keys: Keys, tmp_path: Path
) -> None:
    old = tmp_path / "old.db"
    _copy_ledger(db, old)  # the copy someone might hand an auditor later: rolled back
    with Ledger.open(db, clock=CLI_STATE.clock) as ledger:
        ledger.append(
            Donate(id="d", effective_at=DAY, donor="vol:0001", pool="pool:charity", points=1),
            [keys["member"]],
        )
        size = ledger.size()
        vkey = ledger.log_vkey()
    note = tmp_path / "cp.txt"
    ok(
        db,
        "checkpoint",
        "--log-key",
        keys.file("log"),
        "--record",
        str(db.with_suffix(".record")),
        "--output",
        str(note),
    )
    vkey_file = tmp_path / "log.vkey"
    vkey_file.write_text(vkey + "\n")

    assert run(old, "audit").exit_code == 0  # on its own, the old copy looks fine
    trusted = ("--checkpoint", str(note), "--vkey", str(vkey_file))
    audited = run(old, "audit", *trusted, "--json")
    assert audited.exit_code == 3
    problems = json.loads(audited.stdout)["problems"]
    # A note alone says how many entries are missing, not which.
    assert [(p["code"], p["seq"]) for p in problems] == [("truncated", None)]
    verified = run(old, "verify", "--checkpoint", str(note))
    assert verified.exit_code == 3 and "1 entries were removed" in verified.stderr
    # The log key holder's record names the entry.
    named = run(old, "verify", "--record", str(db.with_suffix(".record")), "--json")
    assert named.exit_code == 3
    assert json.loads(named.stdout)["seq"] == size - 1
    assert ok(db, "audit", *trusted).stdout.startswith("audit passed")
    assert ok(db, "verify", *trusted).stdout.startswith("verify passed")

    other_vkey = vkey_for(ORIGIN, keys["admin"].private_key.public_key())
    other_file = run(db, "verify", "--vkey", other_vkey)
    assert other_file.exit_code == 3
    assert "not the ledger of the verifier key you gave" in other_file.stderr
    forged = tmp_path / "forged.txt"
    forged.write_text(note.read_text().replace(vkey.split("+")[0], "x", 1))
    unsigned = run(db, "audit", "--checkpoint", str(forged), "--vkey", vkey)
    assert unsigned.exit_code == 1 and error_code(unsigned) == "note_invalid"
    assert "is not signed by the verifier key you gave" in unsigned.stderr


def test_help_lists_the_new_commands() -> None:
    out = run(None, "--help").stdout
    for name in (
        "service",
        "award",
        "alliance",
        "offer",
        "offers",
        "redeem",
        "donate",
        "grant",
        "settle",
        "settlement-rate",
        "policy",
        "roster",
        "revenue",
        "distribute",
        "report",
        "checkpoint",
        "checkpoints",
        "consistency-proof",
        "receipt",
        "verify-receipt",
        "witness",
    ):
        assert f"  {name} " in out, name
