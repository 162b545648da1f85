"""The built wheel works on its own: installed in a fresh venv outside the repository.

Kept out of the shifted-clock suites (scripts/shifted-clock-tests.sh): pip and TLS need
the real date; nothing here reads "today".
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

import points_ledger

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
@pytest.mark.whole_program
def test_wheel_installs_and_runs_in_a_fresh_venv(tmp_path: Path) -> None:
    assert not tmp_path.resolve().is_relative_to(ROOT)
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], tmp_path)
    (wheel,) = dist.glob("points_ledger-*.whl")
    version = points_ledger.__version__
    assert wheel.name == f"points_ledger-{version}-py3-none-any.whl"  # one source of truth
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(f"points_ledger-{version}.dist-info/METADATA").decode()
    assert f"points_ledger-{version}.dist-info/licenses/LICENSE" in names
    assert "points_ledger/py.typed" in names
    assert (
        "License-Expression: Apache-2.0" in metadata and "Classifier: Typing :: Typed" in metadata
    )
    assert "Provides-Extra: excel" in metadata and "Project-URL: Changelog" in metadata

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", str(wheel)], tmp_path)
    help_text = run([str(venv / "bin" / "points-ledger"), "--help"], tmp_path)
    assert "Usage: points-ledger" in help_text and "award" in help_text
    assert version in run([str(venv / "bin" / "points-ledger"), "--version"], tmp_path)

    script = tmp_path / "round_trip.py"
    script.write_text(
        textwrap.dedent(
            """
            import datetime as dt
            import points_ledger
            from points_ledger import (
                AccountKind, Asset, AwardPoints, DefineService, KeySpec, Ledger, OpenAccount,
                RegisterKey, Role, ServiceUnit, Signer,
            )

            assert "site-packages" in points_ledger.__file__, points_ledger.__file__
            day = dt.date(2026, 11, 2)
            admin, worker = Signer.generate(), Signer.generate()
            with Ledger.create(
                "round-trip.db", origin="chengdu.example/wheel", log_key=Signer.generate(),
                admins=[admin], threshold=1, effective_at=day,
                clock=lambda: dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC),
            ) as ledger:
                ledger.append_many([(event, [admin]) for event in (
                    OpenAccount(id="open-1", effective_at=day, account="vol:0001",
                                account_kind=AccountKind.MEMBER),
                    OpenAccount(id="open-gw", effective_at=day, account="gw:1",
                                account_kind=AccountKind.MEMBER),
                    RegisterKey(id="key-gw", effective_at=day, key=KeySpec(
                        public_key=worker.public_key_b64, roles=(Role.ISSUER,), owner="gw:1")),
                    DefineService(id="service-visit", effective_at=day, code="visit",
                                  name="visit", points_per_unit=30, unit=ServiceUnit.VISIT,
                                  active_from=day),
                )])
                result = ledger.append(AwardPoints(
                    id="award-1", effective_at=day, volunteer="vol:0001", service="visit",
                    quantity=1, grid_cell="g1", task_ref="visit-1"), [worker])
            with Ledger.open("round-trip.db", read_only=True) as ledger:
                report = ledger.verify()
                print(result, ledger.balance("vol:0001", Asset.PTS).posted,
                      report.entries_checked)
            """
        )
    )
    out = run([str(python), str(script)], tmp_path)
    assert out.strip() == (
        "AppendResult(status='created', seq=5, kind='award_points', event_id='award-1') 30 6"
    )
