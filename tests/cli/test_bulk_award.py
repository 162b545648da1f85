"""``award --from-file``: CSV and XLSX award files, all or nothing, or row by row."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from points_ledger import Asset, AwardPoints, Ledger, save_signer
from points_ledger.bulk import read_award_file
from points_ledger.cli import cli
from points_ledger.cli.app import AppState
from points_ledger.errors import InvalidEventError

# Key files at a cheap scrypt cost: these tests are about commands, not key strength.
pytestmark = pytest.mark.usefixtures("cheap_scrypt")

PASS = "correct horse battery staple"
CLI_STATE = AppState(clock=lambda: dt.datetime(2023, 6, 2, 2, 0, tzinfo=dt.UTC))
"""10:00 in Chengdu on 2023-06-02, the day after the community world was built."""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The community world's ledger file and the grid worker g1's key file."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
    from community_world import build_world

    folder = tmp_path_factory.mktemp("bulk")
    world = build_world(folder)
    key_file = folder / "worker-g1.key"
    save_signer(world.keys["worker.g1"], key_file, PASS)
    path = world.ledger.path
    world.ledger.close()
    return path, key_file


@pytest.fixture
def db(built: tuple[Path, Path], tmp_path: Path) -> Path:
    copy = tmp_path / "ledger.db"
    shutil.copyfile(built[0], copy)
    return copy


@pytest.fixture
def key(built: tuple[Path, Path]) -> Path:
    return built[1]


def run(db: Path, *args: str) -> Result:
    env = {"POINTS_LEDGER_DB": str(db), "POINTS_LEDGER_PASSPHRASE": PASS}
    result = CliRunner().invoke(cli, list(args), env=env, obj=CLI_STATE)
    assert "Traceback" not in result.output
    return result


def points(db: Path, account: str) -> int:
    with Ledger.open(db, read_only=True) as ledger:
        return ledger.balance(account, Asset.PTS).posted


def size(db: Path) -> int:
    with Ledger.open(db, read_only=True) as ledger:
        return ledger.size()


CHINESE_CSV = (
    "账户,服务,数量,网格,任务,日期,备注\n"
    "vol.li,gas-check,3,g1,gas-101,2023-06-02,燃气安全检查\n"
    "vol.wang,elder-visit,1,g1,elder-101,2023-06-02,\n"
    "\n"
    "vol.zhao,gas-check,2,g2,gas-102,,\n"
)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_chinese_csv_awards_every_row_once(
    db: Path, key: Path, tmp_path: Path, encoding: str
) -> None:
    sheet = tmp_path / "六月活动.csv"
    sheet.write_bytes(CHINESE_CSV.encode(encoding))
    before = size(db)
    result = run(db, "award", "--from-file", str(sheet), "--key", str(key))
    assert result.exit_code == 0, result.output
    assert (points(db, "vol.li"), points(db, "vol.wang"), points(db, "vol.zhao")) == (30, 20, 20)
    assert size(db) == before + 3
    assert "3 awarded, 0 already in the ledger, 0 refused" in result.stderr
    # The same file again pays nobody twice: every row is already there.
    again = run(db, "award", "--from-file", str(sheet), "--key", str(key), "--json")
    assert again.exit_code == 0, again.output
    lines = [json.loads(line) for line in again.stdout.splitlines()]
    assert [(x["row"], x["status"]) for x in lines] == [(2, "exists"), (3, "exists"), (5, "exists")]
    assert size(db) == before + 3


def test_xlsx_file_with_typed_cells(db: Path, key: Path, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Volunteer", "Service", "Quantity", "Cell", "Task", "Date", "Points"])
    sheet.append(["vol.li", "gas-check", 2, "g1", 5001, dt.datetime(2023, 6, 2), 20])
    sheet.append(["vol.zhao", "gas-check", 1.0, "g2", "5002", dt.date(2023, 6, 1), None])
    file = tmp_path / "awards.xlsx"
    book.save(file)
    result = run(db, "award", "--from-file", str(file), "--key", str(key), "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(x["status"], x["points"]) for x in lines] == [("created", 20), ("created", 10)]
    with Ledger.open(db, read_only=True) as ledger:
        first = ledger.entry(lines[0]["seq"]).event
        second = ledger.entry(lines[1]["seq"]).event
    assert isinstance(first, AwardPoints)
    assert (first.task_ref, first.effective_at) == ("5001", dt.date(2023, 6, 2))
    assert second.effective_at == dt.date(2023, 6, 1)


def test_a_row_the_ledger_refuses_writes_nothing_and_is_named(
    db: Path, key: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "volunteer,service,quantity,cell,task\n"
        "vol.li,gas-check,1,g1,t-1\n"
        "vol.wang,gas-check,1,g1,t-2\n"
        "vol.nobody,gas-check,1,g1,t-3\n",
        encoding="utf-8",
    )
    before = size(db)
    result = run(db, "award", "--from-file", str(sheet), "--key", str(key))
    assert result.exit_code == 1
    assert "row 4 (id award-" in result.stderr and "nothing was written" in result.stderr
    assert size(db) == before and points(db, "vol.li") == 0


def test_malformed_rows_are_all_named_before_anything_is_written(
    db: Path, key: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "volunteer,service,quantity,cell,task\n"
        "vol.li,gas-check,abc,g1,t-1\n"
        "vol.wang,gas-check,1,g1,t-2\n"
        "vol.zhao,gas-check,1,g1,\n"
        "vol.wang,gas-check,1,g1,t-2\n",
        encoding="utf-8",
    )
    before = size(db)
    result = run(db, "award", "--from-file", str(sheet), "--key", str(key))
    assert result.exit_code == 1
    line = next(x for x in result.stderr.splitlines() if x.startswith("error ["))
    assert line.startswith("error [invalid_event]: 3 row(s) of awards.csv cannot be used")
    assert "row 2: quantity" in line and "row 4: task is empty" in line
    assert "row 5: the same award as row 3" in line
    assert size(db) == before
    with pytest.raises(InvalidEventError) as caught:
        read_award_file(sheet, default_date=dt.date(2023, 6, 2))
    assert caught.value.details["rows"] == [2, 4, 5]


def test_unknown_column_is_named(tmp_path: Path) -> None:
    sheet = tmp_path / "awards.csv"
    sheet.write_text("账户,服务,网格,任务,股份\nvol.li,gas-check,g1,t-1,3\n", encoding="utf-8")
    with pytest.raises(InvalidEventError, match="row 1: unknown column '股份'"):
        read_award_file(sheet, default_date=dt.date(2023, 6, 2))


def test_per_row_keeps_the_good_rows_and_reports_each(db: Path, key: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "volunteer,service,quantity,cell,task,points\n"
        "vol.li,gas-check,1,g1,t-1,10\n"
        "vol.nobody,gas-check,1,g1,t-2,\n"
        "vol.wang,gas-check,1,g1,t-3,99\n"
        "vol.zhao,gas-check,2,g2,t-4,20\n",
        encoding="utf-8",
    )
    result = run(db, "award", "--from-file", str(sheet), "--key", str(key), "--per-row", "--json")
    assert result.exit_code == 1
    lines = {x["row"]: x for x in map(json.loads, result.stdout.splitlines())}
    assert lines[2]["status"] == "created" and lines[5]["status"] == "created"
    assert lines[3]["status"] == "refused" and lines[3]["code"] == "unknown_account"
    assert lines[4]["status"] == "refused" and "catalogue pays 10" in lines[4]["message"]
    assert (points(db, "vol.li"), points(db, "vol.wang"), points(db, "vol.zhao")) == (10, 0, 20)


def test_points_column_disagreeing_refuses_the_whole_file(
    db: Path, key: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "账户,服务,数量,网格,任务,积分\nvol.li,gas-check,1,g1,t-1,10\nvol.wang,gas-check,2,g1,t-2,30\n",
        encoding="utf-8",
    )
    before = size(db)
    result = run(db, "award", "--from-file", str(sheet), "--key", str(key))
    assert result.exit_code == 1
    assert "row 3: the sheet says 30 points, but the catalogue pays 20" in result.stderr
    assert size(db) == before


def test_keys_are_loaded_once(
    db: Path, key: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import points_ledger.cli.app as app
    from points_ledger.keys import load_signer as real

    calls = []

    def counting(path: Path, passphrase: str) -> object:
        calls.append(path)
        return real(path, passphrase)

    monkeypatch.setattr(app, "load_signer", counting)
    sheet = tmp_path / "awards.csv"
    rows = "".join(f"vol.li,gas-check,1,g1,t-{n}\n" for n in range(5))
    sheet.write_text("volunteer,service,quantity,cell,task\n" + rows, encoding="utf-8")
    result = run(db, "award", "--from-file", str(sheet), "--key", str(key))
    assert result.exit_code == 0, result.output
    assert calls == [key] and points(db, "vol.li") == 50


def test_from_file_with_single_award_arguments_is_a_usage_error(db: Path, key: Path) -> None:
    result = run(db, "award", "vol.li", "--from-file", "x.csv", "--key", str(key))
    assert result.exit_code == 2
    assert "leave out VOLUNTEER" in result.stderr
    quantity = run(db, "award", "--from-file", "x.csv", "--quantity", "2", "--key", str(key))
    assert quantity.exit_code == 2 and "leave out --quantity" in quantity.stderr
    missing = run(db, "award", "vol.li", "gas-check", "--key", str(key))
    assert missing.exit_code == 2 and "missing --cell, --task" in missing.stderr


def test_zero_quantity_and_broken_csv_are_refused(tmp_path: Path) -> None:
    sheet = tmp_path / "awards.csv"
    sheet.write_text(
        "volunteer,service,quantity,cell,task\nvol.li,gas-check,0,g1,t-1\n"
        "vol.li,gas-check,,g1,t-2\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidEventError) as caught:
        read_award_file(sheet, default_date=dt.date(2023, 6, 2))
    assert caught.value.details["rows"] == [2]  # an empty quantity is 1, zero is refused
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"volunteer,service,cell,task\nvol.li,gas\x00check,g1,t-1\n")
    with pytest.raises(InvalidEventError):
        read_award_file(broken, default_date=dt.date(2023, 6, 2))
