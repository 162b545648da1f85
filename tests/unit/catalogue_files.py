"""The catalogue tests' shared set-up: the update script as a module, the zh_CN messages."""

from __future__ import annotations

import functools
import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

from babel.messages.pofile import read_po

from points_ledger.i18n import catalogue_source

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def update_catalogue_script() -> ModuleType:
    """``scripts/update_catalogue.py``, imported once as the module ``update_catalogue``."""
    path = ROOT / "scripts" / "update_catalogue.py"
    spec = importlib.util.spec_from_file_location("update_catalogue", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("update_catalogue", module)
    spec.loader.exec_module(module)
    return module


class CatalogueMessage(NamedTuple):
    """One message of the zh_CN catalogue as the tests read it."""

    msgid: str
    text: str
    fuzzy: bool
    comments: list[str]


def zh_catalogue() -> list[CatalogueMessage]:
    """Every message of the zh_CN catalogue with a msgid (the header has none)."""
    catalog = read_po(io.StringIO(catalogue_source("zh_CN")), locale="zh_CN")
    return [
        CatalogueMessage(m.id, m.string, m.fuzzy, list(m.auto_comments))
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str)
    ]
