"""Column headers of the files offices fill in (rosters, bulk lists), English or Chinese.

Community offices keep their lists in Excel or WPS with Chinese headers. Every file the
command line reads by column accepts the Chinese header as an alias of the English one
(``账户`` for ``account``, ``股份`` for ``shares`` ...); :func:`canonical_columns` turns a
header row into the English names the reader works with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

__all__ = ["COLUMN_ALIASES", "canonical_column", "canonical_columns"]

COLUMN_ALIASES: Final[Mapping[str, str]] = {
    "账户": "account",
    "账号": "account",
    "账户编号": "account",
    "股份": "shares",
    "股数": "shares",
    "份额": "shares",
    "村民": "villager",
    "是否村民": "villager",
    "志愿者": "volunteer",
    "志愿者账户": "volunteer",
    "服务": "service",
    "服务代码": "service",
    "数量": "quantity",
    "网格": "cell",
    "任务": "task",
    "任务编号": "task",
    "编号": "id",
    "事件编号": "id",
    "日期": "date",
    "业务日期": "date",
    "备注": "memo",
    "积分": "points",
}
"""Chinese header → English column name, for every column a file may carry."""


def canonical_column(header: str) -> str:
    """The English column name ``header`` stands for: trimmed, lower-cased, aliases mapped.

    ``" 账户 "`` and ``"Account"`` both give ``account``; an unknown header comes back
    trimmed and lower-cased, so the reader can name it in its message.
    """
    name = header.strip().lstrip("\ufeff").strip()
    return COLUMN_ALIASES.get(name, name.lower())


def canonical_columns(headers: Sequence[str] | None) -> list[str]:
    """:func:`canonical_column` of each header in a header row (empty for no row)."""
    return [canonical_column(h) for h in headers or []]
