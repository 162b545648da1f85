"""Awards from a spreadsheet: read a CSV or XLSX file into signed-ready award events.

After an event, a grid worker lists the volunteers in a spreadsheet, one row per award,
and :func:`read_award_file` turns every row into an :class:`AwardRow` holding an
:class:`~points_ledger.AwardPoints` event. Every row is checked before anything is
appended, and a bad row is named by its row number as the spreadsheet shows it (the
header is row 1). The caller appends the events: all at once with
:meth:`Ledger.append_many` (nothing is written if any row is refused), or one at a time.

Each row's event id is its ``id`` column, or else ``award-`` followed by a digest of the
row's content: running the same file again returns the stored entries (``exists``)
instead of paying twice, and a corrected row gets a new id.

Columns (English or Chinese headers, any order, case and spaces ignored; see
:data:`AWARD_COLUMNS`): ``volunteer``, ``service``, ``cell``, ``task`` are required;
``quantity`` (default 1), ``date`` (default: the date given), ``memo``, ``id`` and
``points`` are optional. ``points``, when given, must equal what the catalogue pays
(quantity x points per unit): a check that the sheet and the catalogue agree, never the
amount paid. CSV files may be UTF-8 (with or without BOM) or GB18030/GBK, as Excel and
WPS save them on Chinese Windows.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from points_ledger.errors import ExtraNotInstalledError, InvalidEventError, LedgerError
from points_ledger.models.community import AwardPoints

__all__ = [
    "AWARD_COLUMNS",
    "BULK_FILE_BYTES_MAX",
    "BULK_ROWS_MAX",
    "AwardRow",
    "read_award_file",
]

BULK_ROWS_MAX: Final = 10_000
"""The most award rows one file may hold."""

BULK_FILE_BYTES_MAX: Final = 16 * 1024 * 1024
"""The largest file :func:`read_award_file` reads, in bytes."""

AWARD_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "volunteer": ("volunteer", "account", "账户", "志愿者", "志愿者账户"),
    "service": ("service", "服务", "服务代码"),
    "quantity": ("quantity", "数量"),
    "cell": ("cell", "grid_cell", "网格", "网格单元"),
    "task": ("task", "task_ref", "任务", "任务编号"),
    "date": ("date", "effective_at", "日期", "业务日期"),
    "memo": ("memo", "备注"),
    "id": ("id", "event_id", "编号", "事件编号"),
    "points": ("points", "积分"),
}
"""Each column's name and the headers accepted for it (English and Chinese)."""

_REQUIRED: Final = ("volunteer", "service", "cell", "task")
_PROBLEMS_SHOWN: Final = 10


@dataclass(frozen=True, slots=True)
class AwardRow:
    """One row of an award file, checked and turned into an event.

    Attributes:
        row: The row number as the spreadsheet shows it (the header is row 1).
        event: The award, ready to sign and append.
        points: The ``points`` column if the file has one: what the sheet expects the
            catalogue to pay, to be compared before appending (None if not given).
    """

    row: int
    event: AwardPoints
    points: int | None = None


def _header_key(text: object) -> str:
    return "".join(str(text or "").split()).lower().lstrip("\ufeff")


def _columns(header: Sequence[object]) -> dict[str, int]:
    aliases = {_header_key(alias): name for name, names in AWARD_COLUMNS.items() for alias in names}
    found: dict[str, int] = {}
    for index, text in enumerate(header):
        key = _header_key(text)
        if not key:
            continue
        name = aliases.get(key)
        if name is None:
            known = ", ".join(AWARD_COLUMNS)
            raise InvalidEventError(
                f"row 1: unknown column {str(text)!r}; the columns are {known}",
                hint="Rename the column to one of those names (or its Chinese name, e.g. "
                "账户, 服务, 数量, 网格, 任务, 日期, 备注), or delete it.",
                details={"row": 1},
            )
        if name in found:
            raise InvalidEventError(
                f"row 1: the column {name!r} appears twice",
                hint="Keep one column for each name.",
                details={"row": 1},
            )
        found[name] = index
    missing = [name for name in _REQUIRED if name not in found]
    if missing:
        raise InvalidEventError(
            f"row 1: the file has no {', '.join(repr(m) for m in missing)} column",
            hint="The first row must name the columns; volunteer (账户), service (服务), "
            "cell (网格) and task (任务) are required.",
            details={"row": 1},
        )
    return found


def _text(value: object, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be text, not {value!r}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a spreadsheet turns the task 1001 into 1001.0
    if isinstance(value, dt.datetime | dt.date):
        raise ValueError(f"{name} must be text, not a date")
    return str(value).strip()


def _whole(value: object, name: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if text.isascii() and text.lstrip("-").isdigit():
        return int(text)
    raise ValueError(f"{name} must be a whole number, not {str(value)!r}")


def _date(value: object, default: dt.date) -> dt.date:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("/", "-")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"date {str(value)!r} is not a date such as 2026-11-02") from None


def _default_id(fields: Mapping[str, object]) -> str:
    content = "\x1f".join(
        str(fields[k])
        for k in ("volunteer", "service", "quantity", "grid_cell", "task_ref", "effective_at")
    )
    return "award-" + hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def _award_row(
    number: int, cells: Sequence[object], columns: Mapping[str, int], default_date: dt.date
) -> AwardRow:
    def cell(name: str) -> object:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    quantity = _whole(cell("quantity"), "quantity")  # empty: 1; zero is refused below
    fields: dict[str, Any] = {
        "volunteer": _text(cell("volunteer"), "volunteer"),
        "service": _text(cell("service"), "service"),
        "quantity": 1 if quantity is None else quantity,
        "grid_cell": _text(cell("cell"), "cell"),
        "task_ref": _text(cell("task"), "task"),
        "effective_at": _date(cell("date"), default_date),
    }
    for name in _REQUIRED:
        key = {"cell": "grid_cell", "task": "task_ref"}.get(name, name)
        if not fields[key]:
            raise ValueError(f"{name} is empty")
    event_id = _text(cell("id"), "id") or _default_id(fields)
    event = AwardPoints(id=event_id, memo=_text(cell("memo"), "memo"), **fields)
    return AwardRow(row=number, event=event, points=_whole(cell("points"), "points"))


def _rows_of_csv(data: bytes) -> Iterator[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        try:
            return iter(list(csv.reader(io.StringIO(text, newline=""))))
        except csv.Error as e:
            raise InvalidEventError(
                f"the file cannot be read as CSV: {e}",
                hint="Save it from Excel or WPS again as 'CSV UTF-8', or as an .xlsx workbook.",
            ) from e
    raise InvalidEventError(
        "the file is neither UTF-8 nor GBK text",
        hint="Save it from Excel or WPS as 'CSV UTF-8', or as an .xlsx workbook.",
    )


def _rows_of_xlsx(path: Path) -> Iterator[Sequence[object]]:
    try:
        import openpyxl
    except ImportError as e:
        raise ExtraNotInstalledError(
            "reading an Excel (.xlsx) file needs the openpyxl package, which is not installed",
            hint="Install the Excel extra: pip install 'points_ledger[excel]', or save the "
            "sheet as CSV UTF-8 and give that file.",
        ) from e
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises zipfile, KeyError and XML errors alike
        raise InvalidEventError(
            f"{path} is not an Excel workbook openpyxl can read: {e}",
            hint="Open it in Excel or WPS and save it again as .xlsx, or save it as CSV UTF-8.",
        ) from e
    try:
        sheet = book.worksheets[0]
        return iter([tuple(row) for row in sheet.iter_rows(values_only=True)])
    finally:
        book.close()


def read_award_file(path: str | Path, *, default_date: dt.date) -> tuple[AwardRow, ...]:
    """Read and check every row of a CSV or XLSX award file.

    Blank rows are skipped. Every row is checked before anything is returned, and all
    bad rows (up to ten) are named in one error, so the file can be corrected at once.

    Args:
        path: A ``.csv`` or ``.xlsx`` file (the first sheet is read).
        default_date: The business date of rows with an empty ``date``.

    Raises:
        InvalidEventError: the file cannot be read as CSV or XLSX, a column is unknown
            or missing, or rows are malformed (``details["rows"]`` lists their numbers),
            two rows share an id, or the file has more than :data:`BULK_ROWS_MAX` rows.
        ExtraNotInstalledError: an ``.xlsx`` file and openpyxl is not installed.
    """
    source = Path(path)
    try:
        size = source.stat().st_size
        if size > BULK_FILE_BYTES_MAX:
            raise InvalidEventError(
                f"{source} has {size:,} bytes; an award file may have at most "
                f"{BULK_FILE_BYTES_MAX:,}",
                hint="Split the file into several smaller ones.",
            )
        if source.suffix.lower() == ".xlsx":
            rows = _rows_of_xlsx(source)
        else:
            rows = _rows_of_csv(source.read_bytes())
    except OSError as e:
        raise InvalidEventError(f"cannot read {source}: {e.strerror or e}") from e
    header = next(rows, None)
    if header is None:
        raise InvalidEventError(f"{source} is empty", hint="The first row must name the columns.")
    columns = _columns(header)
    awards: list[AwardRow] = []
    problems: list[tuple[int, str]] = []
    first_row_of: dict[str, int] = {}
    for number, cells in enumerate(rows, start=2):
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        if len(awards) + len(problems) >= BULK_ROWS_MAX:
            raise InvalidEventError(
                f"{source} has more than {BULK_ROWS_MAX:,} rows",
                hint="Split the file into several smaller ones.",
            )
        try:
            award = _award_row(number, cells, columns, default_date)
        except (ValueError, LedgerError) as e:
            problems.append((number, _reason(e)))
            continue
        earlier = first_row_of.setdefault(award.event.id, number)
        if earlier != number:
            problems.append((number, f"the same award as row {earlier} (id {award.event.id})"))
            continue
        awards.append(award)
    if problems:
        shown = "; ".join(f"row {n}: {reason}" for n, reason in problems[:_PROBLEMS_SHOWN])
        more = len(problems) - _PROBLEMS_SHOWN
        raise InvalidEventError(
            f"{len(problems)} row(s) of {source.name} cannot be used: {shown}"
            + (f"; and {more} more" if more > 0 else ""),
            hint="Correct the rows named and give the file again; nothing was written.",
            details={"rows": [n for n, _ in problems]},
        )
    return tuple(awards)


def _reason(error: Exception) -> str:
    if isinstance(error, LedgerError):
        return error.message
    return str(error)
