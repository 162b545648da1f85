"""The Chinese catalogue ships in the wheel and works there, not only in the source tree.

The ``.po`` source is package data compiled in memory on first use, so a wheel needs no
build step for it; this test builds the wheel as a user would (``pip wheel``), unpacks it
away from the repository and runs the command line from it in Chinese.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.whole_program
def test_wheel_carries_the_catalogue_and_speaks_chinese(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", "dist"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if built.returncode != 0 and "hatchling" in built.stderr.lower():
        pytest.skip(f"the build backend cannot be installed here: {built.stderr[-300:]}")
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("points_ledger-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "points_ledger/locale/zh_CN/LC_MESSAGES/points_ledger.po" in names
        archive.extractall(tmp_path / "site")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTS_LEDGER")}
    env.update(PYTHONPATH=str(tmp_path / "site"), LANG="zh_CN.UTF-8")
    elsewhere = tmp_path / "office"
    elsewhere.mkdir()
    where = subprocess.run(
        [sys.executable, "-c", "import points_ledger; print(points_ledger.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "site")
    helped = subprocess.run(
        [sys.executable, "-m", "points_ledger", "--help"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("用法：")
    assert "显示本帮助并退出。" in helped.stdout
