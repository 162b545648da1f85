"""Spreadsheet exports: one row per posting, as CSV (UTF-8 with BOM) or a real XLSX workbook.

:func:`export_rows` reads a ledger through its public API and yields one
:class:`ExportRow` per posting, joined with its entry: Beijing time, the business date,
the kind of entry in words, the service (code and name) an award was for, a grant's
purpose (or a reversal's reason), and the memo. :func:`write_csv` and :func:`write_xlsx`
write such rows with English or Chinese column headers (:data:`HEADER_LANGUAGES`).

The words used for headers and kinds live in two plain tables, :data:`HEADERS` and
:data:`KIND_NAMES`, so that they are easy to translate. ``write_xlsx`` needs the optional
``openpyxl`` package (``pip install 'points_ledger[excel]'``).

Typical use::

    with Ledger.open("community.db", read_only=True) as ledger:
        rows = export_rows(ledger, date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30))
        write_xlsx(rows, "ledger-2026-11.xlsx", headers="zh")
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from points_ledger.errors import ExtraNotInstalledError, InvalidEventError, StorageError
from points_ledger.ledger import Ledger
from points_ledger.models.common import Asset
from points_ledger.models.community import AwardPoints, DefineService, Grant, VoidRedemption
from points_ledger.models.events import RecoverKey, Reverse, RevokeKey
from points_ledger.reports import services

__all__ = [
    "EXPORT_COLUMNS",
    "EXPORT_TIMEZONE",
    "HEADERS",
    "HEADER_LANGUAGES",
    "KIND_NAMES",
    "ExportRow",
    "HeaderLanguage",
    "export_rows",
    "header_row",
    "seq_window",
    "spreadsheet_text",
    "write_csv",
    "write_xlsx",
]

HeaderLanguage = Literal["en", "zh"]
"""The languages column headers and kind names are available in."""

HEADER_LANGUAGES: Final[tuple[HeaderLanguage, ...]] = ("en", "zh")
"""Every :data:`HeaderLanguage`, the default first."""

EXPORT_TIMEZONE: Final = "Asia/Shanghai"
"""The time zone ``recorded_at`` is shown in (Beijing time, UTC+8, no daylight saving)."""

EXPORT_COLUMNS: Final = (
    "seq",
    "recorded_at",
    "effective_at",
    "kind",
    "kind_name",
    "event_id",
    "account",
    "asset",
    "amount",
    "amount_minor",
    "service",
    "service_name",
    "purpose",
    "memo",
)
"""The columns of every export, in order: one row per posting, joined with its entry."""

HEADERS: Final[Mapping[HeaderLanguage, Mapping[str, str]]] = {
    "en": {
        "seq": "seq",
        "recorded_at": "recorded_at",
        "effective_at": "effective_at",
        "kind": "kind",
        "kind_name": "kind_name",
        "event_id": "event_id",
        "account": "account",
        "asset": "asset",
        "amount": "amount",
        "amount_minor": "amount_minor",
        "service": "service",
        "service_name": "service_name",
        "purpose": "purpose",
        "memo": "memo",
    },
    "zh": {
        "seq": "序号",
        "recorded_at": "记账时间(北京时间)",
        "effective_at": "业务日期",
        "kind": "类型代码",
        "kind_name": "类型",
        "event_id": "事件编号",
        "account": "账户",
        "asset": "资产",
        "amount": "数额",
        "amount_minor": "最小单位数额",
        "service": "服务代码",
        "service_name": "服务",
        "purpose": "用途",
        "memo": "备注",
    },
}
"""Column headers per language. English headers are the column names themselves."""

KIND_NAMES: Final[Mapping[HeaderLanguage, Mapping[str, str]]] = {
    "en": {
        "genesis": "ledger created",
        "open_account": "account opened",
        "register_key": "key registered",
        "recover_key": "key recovered",
        "revoke_key": "key revoked",
        "transfer": "transfer",
        "reverse": "reversal",
        "define_service": "service defined",
        "award_points": "points awarded",
        "join_alliance": "partner joined",
        "list_offer": "offer listed",
        "update_offer": "offer updated",
        "delist_offer": "offer delisted",
        "hold_redemption": "redemption held",
        "confirm_redemption": "redemption confirmed",
        "void_redemption": "redemption voided",
        "set_settlement_rate": "settlement rate set",
        "settle_partner": "partner settled",
        "donate": "donation",
        "grant": "grant",
        "adopt_split_policy": "split policy adopted",
        "record_roster": "roster recorded",
        "record_revenue": "revenue recorded",
        "distribute": "revenue distributed",
    },
    "zh": {
        "genesis": "创建账本",
        "open_account": "开设账户",
        "register_key": "登记密钥",
        "recover_key": "恢复密钥",
        "revoke_key": "吊销密钥",
        "transfer": "转账",
        "reverse": "冲正",
        "define_service": "定义服务",
        "award_points": "发放积分",
        "join_alliance": "商家加盟",
        "list_offer": "上架商品",
        "update_offer": "更新商品",
        "delist_offer": "下架商品",
        "hold_redemption": "兑换冻结",
        "confirm_redemption": "兑换确认",
        "void_redemption": "兑换作废",
        "set_settlement_rate": "设定结算比例",
        "settle_partner": "商家结算",
        "donate": "捐赠",
        "grant": "公益资助",
        "adopt_split_policy": "通过分配方案",
        "record_roster": "登记名册",
        "record_revenue": "登记收入",
        "distribute": "收益分配",
    },
}
"""The kind of each entry in words, per language; an unknown kind is shown as its code."""

_DATETIME_FORMAT: Final = "yyyy-mm-dd hh:mm:ss"
_DATE_FORMAT: Final = "yyyy-mm-dd"
_AMOUNT_FORMATS: Final = {Asset.PTS: "0", Asset.CNY: "0.00"}
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One posting joined with its entry, as a spreadsheet shows it.

    Attributes:
        seq: The entry's position in the log.
        recorded_at: When the ledger recorded the entry, in Beijing time (a naive
            ``datetime`` to the second: spreadsheets know no time zones).
        effective_at: The entry's business date.
        kind: The event's type code, e.g. ``award_points``.
        kind_name: The kind in words, in the language asked for.
        event_id: The event's id (idempotency key).
        account: The account posted to.
        asset: ``PTS`` or ``CNY``.
        amount_minor: The exact integer amount (points, or fen for CNY).
        service: The service code of an award (empty otherwise).
        service_name: That service's name from the catalogue (empty otherwise).
        purpose: A grant's purpose, or the reason of a reversal, voided hold or key
            change (empty otherwise).
        memo: The event's memo.
    """

    seq: int
    recorded_at: dt.datetime
    effective_at: dt.date
    kind: str
    kind_name: str
    event_id: str
    account: str
    asset: Asset
    amount_minor: int
    service: str
    service_name: str
    purpose: str
    memo: str

    @property
    def amount(self) -> Decimal:
        """The amount as people read it: points, or yuan with two decimals (exact)."""
        return Decimal(self.amount_minor).scaleb(-self.asset.scale)

    def amount_text(self) -> str:
        """The amount as text without thousands separators: ``30``, ``1234.50``."""
        return self.asset.format_amount(self.amount_minor).replace(",", "")


def _beijing() -> dt.tzinfo:
    try:
        return ZoneInfo(EXPORT_TIMEZONE)
    except ZoneInfoNotFoundError:
        return dt.timezone(dt.timedelta(hours=8))  # China keeps no daylight saving time


def _check_language(headers: str) -> HeaderLanguage:
    for language in HEADER_LANGUAGES:
        if headers == language:
            return language
    raise InvalidEventError(
        f"headers must be one of {', '.join(HEADER_LANGUAGES)}, not {headers!r}",
        hint="Use 'en' for English column headers or 'zh' for Chinese ones.",
    )


def _purpose(event: object) -> str:
    if isinstance(event, Grant):
        return event.purpose
    if isinstance(event, Reverse | VoidRedemption | RevokeKey | RecoverKey):
        return event.reason
    return ""


def export_rows(
    ledger: Ledger,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    headers: HeaderLanguage = "en",
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[ExportRow]:
    """Yield one row per posting of ``ledger``, in log order, streaming.

    Args:
        ledger: An open ledger (read-only is enough).
        date_from: First business date (``effective_at``) to include; default: the first.
        date_to: Last business date to include; default: the last.
        headers: The language of :attr:`ExportRow.kind_name`.
        progress: Called as ``progress(entries_read, entries_total)`` while reading.

    Raises:
        InvalidEventError: ``date_from`` is after ``date_to``, or ``headers`` is unknown.
        LedgerError: the ledger cannot be read.
    """
    language = _check_language(headers)
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidEventError(
            f"the date range starts on {date_from} but ends earlier, on {date_to}",
            hint="Give the earlier date as the start (--from) and the later one as the end (--to).",
        )
    return _rows(ledger, date_from, date_to, KIND_NAMES[language], progress)


def seq_window(
    ledger: Ledger, date_from: dt.date | None, date_to: dt.date | None
) -> tuple[int, int]:
    """The entries ``[start, stop)`` that hold every entry dated ``date_from`` to ``date_to``.

    Asked of the store (the ``entry_span`` report query, over the entries' indexed
    business dates), so an export of one month reads that month's entries and the few
    recorded among them, not the whole log. Entries in the window may still be dated
    outside the range (late paperwork is recorded among later entries); the caller
    filters them. ``(0, 0)`` when no entry is dated in the range.

    Args:
        ledger: An open ledger.
        date_from: First business date wanted (None: no lower bound).
        date_to: Last business date wanted (None: no upper bound).

    Raises:
        LedgerError: the ledger cannot be read.
    """
    if date_from is None and date_to is None:
        return 0, ledger.size()
    first = (date_from or dt.date.min).isoformat()
    last = (date_to or dt.date.max).isoformat()
    rows = ledger.report_rows("entry_span", first, last)
    low, high, count = rows[0] if rows else (None, None, 0)
    if not count or not isinstance(low, int) or not isinstance(high, int):
        return 0, 0
    return low, high + 1


def _rows(
    ledger: Ledger,
    date_from: dt.date | None,
    date_to: dt.date | None,
    kind_names: Mapping[str, str],
    progress: Callable[[int, int], None] | None,
) -> Iterator[ExportRow]:
    zone = _beijing()
    start, stop = seq_window(ledger, date_from, date_to)
    service_names = _ServiceNames(ledger, start)
    total = stop - start
    for n, entry in enumerate(ledger.entries(start, stop), start=1):
        event = entry.event
        if isinstance(event, DefineService):
            service_names.define(event.code, event.name)
        if progress is not None:
            progress(n, total)
        if (date_from is not None and event.effective_at < date_from) or (
            date_to is not None and event.effective_at > date_to
        ):
            continue
        service = event.service if isinstance(event, AwardPoints) else ""
        recorded = entry.recorded_at.astimezone(zone).replace(tzinfo=None, microsecond=0)
        for posting in entry.postings:
            yield ExportRow(
                seq=entry.seq,
                recorded_at=recorded,
                effective_at=event.effective_at,
                kind=entry.kind,
                kind_name=kind_names.get(entry.kind, entry.kind),
                event_id=entry.event_id,
                account=posting.account,
                asset=posting.asset,
                amount_minor=posting.amount,
                service=service,
                service_name=service_names.name(service) if service else "",
                purpose=_purpose(event),
                memo=event.memo,
            )


class _ServiceNames:
    """Each service's name as defined before the entry being exported (log order).

    Definitions met inside the window are applied as they come. A service whose latest
    definition (the catalogue) lies before the window is named from the catalogue; one
    redefined at or after the window's start is named from the entries before the window,
    read only then (a service renamed later is rare).
    """

    def __init__(self, ledger: Ledger, start: int) -> None:
        self._ledger = ledger
        self._start = start
        self._names: dict[str, str] = {}
        self._catalogue: dict[str, tuple[str, int]] | None = None
        self._before: dict[str, str] | None = None

    def define(self, code: str, name: str) -> None:
        self._names[code] = name

    def name(self, code: str) -> str:
        if code in self._names:
            return self._names[code]
        if self._catalogue is None:
            self._catalogue = {
                row.code: (row.name, row.defined_seq) for row in services(self._ledger)
            }
        name, defined_seq = self._catalogue.get(code, ("", -1))
        if 0 <= defined_seq < self._start:
            return name
        if self._before is None:
            self._before = {}
            for entry in self._ledger.entries(0, self._start):
                if isinstance(entry.event, DefineService):
                    self._before[entry.event.code] = entry.event.name
        return self._before.get(code, "")


def spreadsheet_text(text: str) -> str:
    """``text`` made safe for a CSV file opened in a spreadsheet: never read as a formula.

    Excel and WPS run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or
    carriage return before one) as a formula, so a memo like ``=HYPERLINK(...)`` would
    become a live link. Such text gets a leading ``'``, which spreadsheets show as text
    and hide; every other text is returned unchanged.
    """
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def header_row(headers: HeaderLanguage = "en") -> tuple[str, ...]:
    """The header row of an export in ``headers``' language."""
    names = HEADERS[_check_language(headers)]
    return tuple(names[column] for column in EXPORT_COLUMNS)


def write_csv(rows: Iterable[ExportRow], handle: IO[str], *, headers: HeaderLanguage = "en") -> int:
    """Write ``rows`` as CSV to a text ``handle``; return how many rows were written.

    The caller opens the handle (``encoding="utf-8-sig"``, ``newline=""`` for Excel).
    Times are written as ``2026-11-02 09:00:00`` (Beijing time) and dates as
    ``2026-11-02``, which Excel and WPS read as dates; amounts have no thousands
    separators. Text that a spreadsheet would run as a formula is made safe with
    :func:`spreadsheet_text`.

    Raises:
        InvalidEventError: ``headers`` is not a known language.
    """
    writer = csv.writer(handle)
    writer.writerow(header_row(headers))
    count = 0
    for row in rows:
        writer.writerow(
            (
                row.seq,
                row.recorded_at.isoformat(sep=" "),
                row.effective_at.isoformat(),
                row.kind,
                row.kind_name,
                spreadsheet_text(row.event_id),
                spreadsheet_text(row.account),
                row.asset.value,
                row.amount_text(),
                row.amount_minor,
                row.service,
                spreadsheet_text(row.service_name),
                spreadsheet_text(row.purpose),
                spreadsheet_text(row.memo),
            )
        )
        count += 1
    return count


def _openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError as e:
        raise ExtraNotInstalledError(
            "writing an Excel (.xlsx) file needs the openpyxl package, which is not installed",
            hint="Install the Excel extra: pip install 'points_ledger[excel]' (or "
            "pipx inject points_ledger openpyxl), or export --format csv instead.",
        ) from e
    return openpyxl


def write_xlsx(
    rows: Iterable[ExportRow], path: str | Path, *, headers: HeaderLanguage = "en"
) -> int:
    """Write ``rows`` to a new Excel workbook at ``path``; return how many rows were written.

    The sheet ``ledger`` has a header row, then one row per posting: ``seq`` and
    ``amount_minor`` are whole numbers, ``recorded_at`` a date-time cell (Beijing time),
    ``effective_at`` a date cell, ``amount`` a number shown with 0 (points) or 2 (yuan)
    decimals, and every text is a text cell (a memo such as ``=1+1`` stays text, never a
    formula). Rows are streamed, so memory stays small for large ledgers. An existing
    file is never overwritten; on any failure no file is left behind.

    Raises:
        ExtraNotInstalledError: openpyxl is not installed.
        StorageError: ``path`` exists or cannot be written.
        InvalidEventError: ``headers`` is not a known language.
    """
    openpyxl = _openpyxl()
    from openpyxl.cell import WriteOnlyCell

    names = header_row(headers)
    target = Path(path)
    try:
        handle = open(target, "xb")  # noqa: SIM115 - closed below, removed on failure
    except FileExistsError as e:
        raise StorageError(
            f"{target} already exists; a file is never overwritten",
            hint="Choose another file name or move the old file away.",
        ) from e
    except OSError as e:
        raise StorageError(f"cannot create {target}: {e.strerror}") from e
    finished = False
    try:
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("ledger")
        sheet.freeze_panes = "A2"
        widths = (8, 20, 12, 20, 14, 28, 20, 6, 12, 14, 16, 20, 24, 30)
        for letter, width in zip("ABCDEFGHIJKLMN", widths, strict=True):
            sheet.column_dimensions[letter].width = width
        sheet.append(names)

        def text(value: str) -> Any:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
            if value.startswith(_FORMULA_STARTS):
                cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
            return cell

        def formatted(value: Any, number_format: str) -> Any:
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = number_format
            return cell

        count = 0
        for row in rows:
            sheet.append(
                (
                    row.seq,
                    formatted(row.recorded_at, _DATETIME_FORMAT),
                    formatted(row.effective_at, _DATE_FORMAT),
                    text(row.kind),
                    text(row.kind_name),
                    text(row.event_id),
                    text(row.account),
                    text(row.asset.value),
                    formatted(row.amount, _AMOUNT_FORMATS[row.asset]),
                    row.amount_minor,
                    text(row.service),
                    text(row.service_name),
                    text(row.purpose),
                    text(row.memo),
                )
            )
            count += 1
        book.save(handle)
        finished = True
        return count
    except OSError as e:
        raise StorageError(f"cannot write {target}: {e.strerror or e}") from e
    finally:
        handle.close()
        if not finished:
            os.unlink(target)
