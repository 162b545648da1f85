"""Spreadsheet exports: a real XLSX workbook opened with openpyxl, and the CSV's columns."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result
from community_world import COMMITTEE, World, build_world

from points_ledger import (
    Asset,
    AwardPoints,
    Donate,
    ExtraNotInstalledError,
    Grant,
    Ledger,
    Posting,
    Transfer,
)
from points_ledger.cli import cli
from points_ledger.cli.app import AppState
from points_ledger.export import EXPORT_COLUMNS, HEADERS, export_rows, write_xlsx

CLI_STATE = AppState(clock=lambda: dt.datetime(2023, 7, 1, 2, 0, tzinfo=dt.UTC))


@pytest.fixture(scope="module")
def ledger_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The community world, then June and July activity: awards, a donation, a grant."""
    w: World = build_world(tmp_path_factory.mktemp("export"))
    w.today = dt.date(2023, 6, 3)
    w.clock.now = dt.datetime(2023, 6, 3, 1, 30, 15, 123456, tzinfo=dt.UTC)  # 09:30:15 Beijing
    w.add(
        AwardPoints,
        "worker.g1",
        volunteer="vol.li",
        service="gas-check",
        quantity=3,
        grid_cell="g1",
        task_ref="gas-001",
        memo="燃气安全检查",
    )
    w.add(Donate, "vol.li", donor="vol.li", pool="pool.charity", points=10)
    w.add(
        Grant,
        "cm.chen",
        "cm.liu",
        pool="pool.charity",
        beneficiary="hh.0042",
        points=10,
        purpose="独居老人理发",
    )
    w.add(
        Transfer,
        "admin",
        *COMMITTEE,
        memo='=HYPERLINK("http://x","click")',
        postings=(
            Posting(account="external", asset=Asset.CNY, amount=-123_450),
            Posting(account="fund.community", asset=Asset.CNY, amount=123_450),
        ),
    )
    w.today = dt.date(2023, 7, 1)
    w.add(
        AwardPoints,
        "worker.g2",
        volunteer="vol.zhao",
        service="elder-visit",
        quantity=1,
        grid_cell="g2",
        task_ref="elder-001",
    )
    path = w.ledger.path
    w.ledger.close()
    return path


def run(db: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), env={"POINTS_LEDGER_DB": str(db)}, obj=CLI_STATE)
    assert "Traceback" not in result.output
    return result


def test_xlsx_is_a_workbook_with_typed_cells(ledger_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "ledger-2023-06.xlsx"
    result = run(
        ledger_file, "export", "--output", str(out), "--from", "2023-06-01", "--to", "2023-06-30"
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:2] == b"PK"  # a zip container, not CSV text
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == EXPORT_COLUMNS
    data = [dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in rows[1:]]
    # June only: the July award is left out, every June posting is in.
    assert {r["effective_at"] for r in data} == {dt.datetime(2023, 6, 1), dt.datetime(2023, 6, 3)}
    assert [r["kind"] for r in data].count("award_points") == 2
    award = next(r for r in data if r["kind"] == "award_points" and r["account"] == "vol.li")
    assert award["recorded_at"] == dt.datetime(2023, 6, 3, 9, 30, 15)  # Beijing time
    assert isinstance(award["seq"], int) and isinstance(award["amount_minor"], int)
    assert (award["amount"], award["amount_minor"]) == (30, 30)
    assert (award["service"], award["service_name"]) == ("gas-check", "Gas safety check")
    assert (award["kind_name"], award["memo"]) == ("points awarded", "燃气安全检查")
    grant = next(r for r in data if r["kind"] == "grant" and r["account"] == "hh.0042")
    assert (grant["purpose"], grant["amount"]) == ("独居老人理发", 10)
    money = next(
        r for r in data if r["account"] == "fund.community" and r["amount_minor"] == 123450
    )
    assert (money["asset"], money["amount"], money["amount_minor"]) == ("CNY", 1234.5, 123450)

    # Cell types as Excel sees them, read from the cells themselves.
    letters = "ABCDEFGHIJKLMN"
    cells = dict(zip(EXPORT_COLUMNS, letters, strict=True))
    row_no = 2 + data.index(money)
    assert sheet[f"{cells['recorded_at']}{row_no}"].is_date
    assert sheet[f"{cells['recorded_at']}{row_no}"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet[f"{cells['effective_at']}{row_no}"].is_date
    amount = sheet[f"{cells['amount']}{row_no}"]
    assert (amount.data_type, amount.number_format) == ("n", "0.00")
    memo = sheet[f"{cells['memo']}{row_no}"]
    assert memo.data_type == "s"  # text, never a formula
    assert memo.value == '=HYPERLINK("http://x","click")'


def test_xlsx_chinese_headers_and_kind_names(ledger_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "ledger.xlsx"
    assert run(ledger_file, "export", "--output", str(out), "--headers", "zh").exit_code == 0
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(HEADERS["zh"][c] for c in EXPORT_COLUMNS)
    assert "账户" in rows[0] and "用途" in rows[0]
    kinds = {row[EXPORT_COLUMNS.index("kind_name")] for row in rows[1:]}
    assert kinds == {"发放积分", "捐赠", "公益资助", "转账"}


def test_xlsx_never_overwrites(ledger_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "kept.xlsx"
    out.write_bytes(b"keep me")
    result = run(ledger_file, "export", "--output", str(out))
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert out.read_bytes() == b"keep me"


def test_xlsx_needs_an_output_file(ledger_file: Path) -> None:
    result = run(ledger_file, "export", "--format", "xlsx")
    assert result.exit_code == 1
    assert "--output" in result.stderr


def test_missing_openpyxl_is_a_clear_error(
    ledger_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import now raises ImportError
    out = tmp_path / "x.xlsx"
    with (
        Ledger.open(ledger_file, read_only=True) as ledger,
        pytest.raises(ExtraNotInstalledError) as caught,
    ):
        write_xlsx(export_rows(ledger), out)
    assert caught.value.code == "extra_not_installed"
    assert "points_ledger[excel]" in caught.value.hint
    assert not out.exists()
    result = run(ledger_file, "export", "--output", str(out))
    assert result.exit_code == 1
    assert "error [extra_not_installed]" in result.stderr and not out.exists()


def test_csv_has_the_same_columns_with_bom(ledger_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "june.csv"
    result = run(
        ledger_file, "export", "--output", str(out), "--from", "2023-06-01", "--to", "2023-06-30"
    )
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    award = next(r for r in rows if r["kind"] == "award_points" and r["account"] == "vol.li")
    assert award["recorded_at"] == "2023-06-03 09:30:15"
    assert (award["service_name"], award["kind_name"]) == ("Gas safety check", "points awarded")
    grant = next(r for r in rows if r["kind"] == "grant" and r["account"] == "hh.0042")
    assert grant["purpose"] == "独居老人理发"
    money = next(r for r in rows if r["amount_minor"] == "123450")
    assert (money["amount"], money["memo"][0]) == ("1234.50", "'")
    assert {r["effective_at"] for r in rows} == {"2023-06-01", "2023-06-03"}


def test_date_range_backwards_is_refused(ledger_file: Path) -> None:
    result = run(ledger_file, "export", "--from", "2023-07-01", "--to", "2023-06-01")
    assert result.exit_code == 1
    assert "error [invalid_event]" in result.stderr


def test_export_rows_amount_is_exact(ledger_file: Path) -> None:
    with Ledger.open(ledger_file, read_only=True) as ledger:
        rows = list(export_rows(ledger, date_from=dt.date(2023, 6, 3), date_to=dt.date(2023, 6, 3)))
    money = next(r for r in rows if r.amount_minor == 123450)
    assert money.amount == Decimal("1234.50") and money.amount_text() == "1234.50"
