"""The transparency docs' Python blocks run top to bottom as one script."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["docs/howto/check-your-receipt.md", "docs/explanation/threat-model.md"]


@pytest.mark.parametrize("page", PAGES)
def test_python_blocks_run(page: str, tmp_path: Path) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    script = tmp_path / "page.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    if "check-your-receipt" in page:
        assert "event award-1: elderly visit" in result.stdout
        assert "refused: [integrity_failure]" in result.stdout
        assert "witnessed by: street.example/fuqinglu/witness" in result.stdout
        assert "asks for the proof first: [proof_invalid]" in result.stdout
        assert "extends the checkpoint of 6 entries I trusted" in result.stdout
