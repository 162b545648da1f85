"""The community office worker's walkthrough, in Chinese, exactly as docs/zh-CN/quickstart.md.

Every ``$`` command of the page's console blocks runs as a real ``python -m points_ledger``
process in one empty folder, with the locale the page sets (``export LANG=zh_CN.UTF-8``)
and nothing else: no ``--lang``. Each must succeed and print every output line the page
shows in full (lines with ``…`` are abbreviated and skipped). The run then checks what
an office worker would: the words on screen are Chinese, the money and points add up,
the audit passes and the export opens as UTF-8 with a BOM. A few more readings and the
usual slips (an unopened account, a reused event id, a future date, a missing key file, too
few signatures, an existing file, a mistyped option) are refused in Chinese, and no output
holds an English sentence: only ids, codes, paths and JSON stay as written.
"""

from __future__ import annotations

import csv
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

import points_ledger
from conftest import console_commands

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(points_ledger.__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "zh-CN" / "quickstart.md"
PAGES_DAY: Final = "2026-11-02T10:00:00+08:00"
"""The page's business day: its commands act on it, whatever the machine's date."""

# About two minutes of processes: run by .ci/run as its own step, and by the shifted clocks.
pytestmark = pytest.mark.whole_program


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTS_LEDGER")}
    env.update(PYTHONPATH=str(SRC), POINTS_LEDGER_NOW=PAGES_DAY, LANG="C.UTF-8")
    return env


def _attempt(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    words = shlex.split(command)
    assert words[0] == "points-ledger", f"the page runs only points-ledger: {command}"
    proc = subprocess.run(
        [sys.executable, "-m", "points_ledger", *words[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in proc.stderr
    return proc


def _run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = _attempt(command, cwd, env)
    assert proc.returncode == 0, f"{command}\n{proc.stderr}"
    return proc


_PUNCTUATION = re.compile(r"[(),;?!\"]|\.(?=\s|$)|[^\x00-\x7f]")
"""Marks between words (a sentence's own punctuation, Chinese text), read as spaces."""
_CODE_LIKE = re.compile(r"\S*[0-9:/._=+\-\[\]{}'@|]\S*")
"""A token holding digits or code punctuation: an id, amount, path, option, date or code."""
_CODE_LIST = re.compile(r"[A-Za-z_]+(?:、[A-Za-z_]+)+")
"""Codes listed the Chinese way (``volunteer、service、quantity``): column names."""
_ENGLISH_SENTENCE = re.compile(r"\b[A-Za-z]+(?: [A-Za-z]+){2,}\b")
"""Three or more English words in a row, once ids and codes are taken out."""


def english_sentences(text: str) -> list[str]:
    """The runs of English words in ``text`` outside ids, codes, paths and JSON."""
    found = []
    for line in text.splitlines():
        if line.lstrip().startswith("{") or '{"' in line:
            continue  # a JSON document: machine-readable, keeps its English keys
        line = _CODE_LIST.sub("·", line)
        prose = _CODE_LIKE.sub("·", _PUNCTUATION.sub(" ", line))
        prose = re.sub(r" {2,}", "  ", prose)  # table columns stay apart
        found += _ENGLISH_SENTENCE.findall(prose)
    return found


REFUSALS: Final = (
    # (command, error code): the office worker's usual slips, each refused in Chinese.
    (
        "points-ledger award vol:9999 gas-check --cell 3栋 --task t-1 --key keys/worker-g1.key "
        "--id award-x --date 2026-11-02",
        "unknown_account",
    ),
    (
        "points-ledger award vol:0001 gas-check --cell 3栋 --task gas-2026-11-002 "
        "--key keys/worker-g1.key --id award-0001 --date 2026-11-02",
        "entry_conflict",
    ),
    (
        "points-ledger award vol:0001 gas-check --cell 3栋 --task t-2 --key keys/worker-g1.key "
        "--id award-y --date 2027-01-01",
        "effective_date_out_of_range",
    ),
    (
        "points-ledger award vol:0001 gas-check --cell 3栋 --task t-3 --key keys/none.key "
        "--id award-z --date 2026-11-02",
        "key_file_unsafe",
    ),
    (
        "points-ledger donate vol:0001 100 --pool pool:charity --key keys/vol-0001.key "
        "--id donate-x --date 2026-11-02",
        "insufficient_balance",
    ),
    (
        "points-ledger redeem hold vol:0001 barber.haircut --points 10 --key keys/vol-0001.key "
        "--id hold-x --date 2026-11-02",
        "price_changed",
    ),
    (
        "points-ledger grant hh:0042 5 --pool pool:charity --purpose 助老 --key keys/cm-chen.key "
        "--id grant-x --date 2026-11-02",
        "not_authorized",
    ),
    (
        "points-ledger account open 'Chen Wei' --key keys/admin-1.key --id open-x "
        "--date 2026-11-02",
        "invalid_event",
    ),
    ("points-ledger export --output 2026-11.csv", "command_failed"),
    ("points-ledger keygen keys/vol-0001.key", "key_file_unsafe"),
    ("points-ledger award vol:0001 gas-check --task t-4 --key keys/worker-g1.key", "usage"),
    ("points-ledger balance vol:0001 --assets PTS", "usage"),
    (
        "points-ledger transfer external:CNY:-5x fund:community:CNY:5 --key keys/admin-1.key",
        "usage",
    ),
)
READINGS: Final = (
    "points-ledger entries",
    "points-ledger entry 16",
    "points-ledger report accounts",
    "points-ledger report keys",
    "points-ledger report redemptions",
    "points-ledger offers",
    "points-ledger award --help",
)


def test_office_worker_walkthrough_in_chinese(tmp_path: Path) -> None:
    env = _env()
    outputs: dict[str, str] = {}
    for command, expected in console_commands(PAGE.read_text("utf-8")):
        if command.startswith("export "):
            name, _, value = shlex.split(command)[1].partition("=")
            env[name] = value
            continue
        proc = _run(command, tmp_path, env)
        printed = [line.rstrip() for line in proc.stdout.splitlines()]
        for line in expected:
            if "…" not in line and line.strip():
                assert line.rstrip() in printed, f"{command}: expected {line!r} in\n{proc.stdout}"
        outputs[command] = proc.stdout + proc.stderr

    assert env["LANG"] == "zh_CN.UTF-8", "the page itself chooses Chinese"
    for command in READINGS:
        proc = _run(command, tmp_path, env)
        outputs[command] = proc.stdout + proc.stderr
    for command, code in REFUSALS:
        refused = _attempt(command, tmp_path, env)
        assert refused.returncode == (2 if code == "usage" else 1), refused.stderr
        assert refused.stderr.startswith(f"错误 [{code}]："), refused.stderr
        assert "提示：" in refused.stderr
        outputs[command] = refused.stdout + refused.stderr
    chinese = [c for c in outputs if "--lang en" not in c]
    for command in chinese:
        text = outputs[command]
        for english in ("created entry", "already recorded", "postings:", "event id:", "audit"):
            assert english not in text, f"{command} printed English {english!r}:\n{text}"
        # No English sentence leaks: only ids, codes, paths and JSON stay as written.
        assert english_sentences(text) == [], f"{command} printed English:\n{text}"
    statement = outputs["points-ledger statement vol:0001"]
    assert "发放积分" in statement and "award_points" not in statement

    verdict = _run("points-ledger audit", tmp_path, env).stdout.splitlines()
    assert verdict[0] == "审计通过：共检查 26 条记录，没有发现问题"

    with (tmp_path / "2026-11.csv").open(encoding="utf-8") as handle:
        assert handle.read(1) == "\ufeff"
        rows = list(csv.DictReader(handle))
    points = [int(r["amount_minor"]) for r in rows if r["asset"] == "PTS"]
    fen = [int(r["amount_minor"]) for r in rows if r["asset"] == "CNY"]
    assert sum(points) == 0 and sum(fen) == 0  # double entry: every asset sums to zero
    received = sum(
        int(r["amount_minor"]) for r in rows if r["account"] == "barber" and r["asset"] == "CNY"
    )
    assert received == 100  # 20 points at 0.05 yuan = 1.00 yuan

    english = _run("points-ledger --lang en audit", tmp_path, env).stdout
    assert english.startswith("audit passed: 26 entries checked, no problems")


def test_the_page_refuses_a_grant_with_one_signature_as_it_says(tmp_path: Path) -> None:
    # The page shows the refusal in a text block (it is not run as a step); check it here.
    page = PAGE.read_text("utf-8")
    env = _env()
    env["LANG"] = "zh_CN.UTF-8"
    env["POINTS_LEDGER_PASSPHRASE"] = "a long enough passphrase"
    env["POINTS_LEDGER_PASSPHRASE_LOG"] = "another long passphrase"
    steps = [
        "points-ledger init --origin chengdu.example/t --single-admin --date 2026-11-02",
        "points-ledger keygen keys/cm-chen.key",
        "points-ledger account open cm:chen --key keys/admin-1.key --date 2026-11-02",
        "points-ledger account open pool:charity --kind pool --key keys/admin-1.key "
        "--date 2026-11-02",
        "points-ledger account open hh:0042 --kind beneficiary --key keys/admin-1.key "
        "--date 2026-11-02",
        "points-ledger key register --from-file keys/cm-chen.key --role committee "
        "--owner cm:chen --key keys/admin-1.key --date 2026-11-02",
    ]
    for step in steps:
        _run(step, tmp_path, env)
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "points_ledger",
            *shlex.split(
                "grant hh:0042 10 --pool pool:charity --purpose 重阳节理发 "
                "--key keys/cm-chen.key --id grant-0001 --date 2026-11-02"
            ),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 1
    for line in refused.stderr.splitlines():
        assert line in page, line
    assert refused.stderr.startswith("错误 [not_authorized]：")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("错误 [unknown_account]：没有这个账户：账户 vol:9999 尚未开设", []),
        ("记账：issuer -50 PTS, vol:0001 +50 PTS", []),
        (
            "错误 [usage]：missing the cell (or give a file), see --help.",
            ["missing the cell", "or give a file"],
        ),
        ("账户    类型    网格路径\nvol:0001  居民  成华区 / 3栋", []),
        ("Check the date. Then retry", ["Check the date"]),
        ("文件（列为 volunteer、service、quantity、cel", []),
        ("已创建第 3 条记录（open account entry）", ["open account entry"]),
        ('事件:  {"type":"award points to someone"}', []),
        ("余额不足：account has too little", ["account has too little"]),
    ],
)
def test_english_sentences_are_found_outside_ids_and_codes(text: str, found: list[str]) -> None:
    assert english_sentences(text) == found
