"""The zh_CN catalogue is complete and consistent; languages are chosen as documented."""

from __future__ import annotations

import datetime as dt
import errno
import os
import re

import pytest
from catalogue_files import update_catalogue_script, zh_catalogue

from points_ledger.cli.columns import canonical_column, canonical_columns
from points_ledger.errors import InvalidEventError, OverdraftError
from points_ledger.i18n import (
    ERROR_SUMMARIES,
    current_language,
    format_date,
    format_number,
    gettext,
    language_from_environment,
    normalize_language,
    translate_error,
    translate_message,
    translate_problem,
    use_language,
)

PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}|%(?:\([a-z_]+\))?[sd]")


def _zh_catalogue() -> list[tuple[str, str, bool]]:
    return [(m.msgid, m.text, m.fuzzy) for m in zh_catalogue()]


def test_every_message_has_a_chinese_translation() -> None:
    entries = _zh_catalogue()
    assert len(entries) > 200
    untranslated = [msgid for msgid, text, _fuzzy in entries if not text.strip()]
    fuzzy = [msgid for msgid, _text, is_fuzzy in entries if is_fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_translations_keep_every_placeholder() -> None:
    wrong = [
        (msgid, text)
        for msgid, text, _fuzzy in _zh_catalogue()
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text))
    ]
    assert wrong == []


def test_translations_are_chinese() -> None:
    # A msgstr copied from the msgid would pass the two tests above; each translation
    # must contain Chinese text or punctuation.
    han = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
    copied = [msgid for msgid, text, _fuzzy in _zh_catalogue() if not han.search(text)]
    assert copied == []


def test_catalogue_holds_exactly_the_messages_the_faces_show() -> None:
    # Run scripts/update_catalogue.py when this fails, then translate what it added.
    wanted = set(update_catalogue_script().collected_messages())
    held = {msgid for msgid, _text, _fuzzy in _zh_catalogue()}
    assert sorted(wanted - held) == [], "messages missing from the catalogue"
    assert sorted(held - wanted) == [], "messages in the catalogue that nothing shows"


def test_every_error_code_has_a_summary() -> None:
    import points_ledger.errors as errors
    from points_ledger.cli.app import CommandError

    codes = {CommandError.code} | {
        c.code
        for c in vars(errors).values()
        if isinstance(c, type) and issubclass(c, errors.LedgerError)
    }
    assert sorted(codes - set(ERROR_SUMMARIES)) == []


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": ""}, "zh_CN"),
        ({"LC_ALL": "zh_TW.UTF-8"}, "zh_CN"),
    ],
)
def test_language_from_the_locale_variables(environ: dict[str, str], language: str) -> None:
    assert language_from_environment(environ) == language


@pytest.mark.parametrize(
    ("value", "language"),
    [("zh", "zh_CN"), ("zh_CN", "zh_CN"), ("zh-Hans", "zh_CN"), ("en", "en"), ("", "en")],
)
def test_normalize_language(value: str, language: str) -> None:
    assert normalize_language(value) == language


def test_use_language_restores_the_language_before() -> None:
    assert current_language() == "en"
    with use_language("zh") as chosen:
        assert chosen == "zh_CN"
        assert gettext("Not enough balance") == "余额不足"
    assert current_language() == "en"
    assert gettext("Not enough balance") == "Not enough balance"


def test_errors_keep_english_and_their_code_in_the_library() -> None:
    error = OverdraftError("vol:0001 has 10 PTS available, 30 needed")
    with use_language("zh"):
        message, hint = translate_error(error)
    assert error.message == "vol:0001 has 10 PTS available, 30 needed"
    assert error.code == "insufficient_balance"
    assert message == "余额不足：vol:0001 has 10 PTS available, 30 needed"
    assert hint == "请查看账户的可用余额（冻结中的预留会占用余额）。"
    assert translate_error(error) == (error.message, error.hint)


def test_a_hint_the_catalogue_lacks_stays_as_written() -> None:
    error = InvalidEventError("bad", hint="A hint written for this one case.")
    with use_language("zh"):
        message, hint = translate_error(error)
    assert message == "有一项填写的值不正确：bad"
    assert hint == "A hint written for this one case."


def test_numbers_and_dates_follow_cldr() -> None:
    day = dt.date(2026, 11, 2)
    assert format_number(1234567) == "1,234,567"
    assert format_number("1234.5", decimals=2) == "1,234.50"
    assert format_date(day) == "Nov 2, 2026"
    with use_language("zh"):
        assert format_number(1234567) == "1,234,567"
        assert format_date(day) == "2026年11月2日"


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("账户", "account"),
        (" 股份 ", "shares"),
        ("村民", "villager"),
        ("\ufeff账户", "account"),
        ("Account", "account"),
        ("SHARES ", "shares"),
        ("其他", "其他"),
    ],
)
def test_chinese_headers_are_aliases(header: str, column: str) -> None:
    assert canonical_column(header) == column


def test_canonical_columns_of_no_header_row() -> None:
    assert canonical_columns(None) == []
    assert canonical_columns(["账户", "股份", "村民"]) == ["account", "shares", "villager"]


@pytest.mark.parametrize(
    ("code", "summary"),
    [
        (errno.ENOENT, "没有这个文件或文件夹"),
        (errno.EACCES, "没有权限"),
        (errno.ENOSPC, "磁盘已满"),
        (errno.EROFS, "磁盘是只读的"),
        (errno.EISDIR, "这是一个文件夹，不是文件"),
    ],
)
def test_common_system_refusals_read_in_chinese_with_the_system_text_kept(
    code: int, summary: str
) -> None:
    detail = os.strerror(code)
    message = f"cannot read key file k.key: {detail}"
    with use_language("zh"):
        shown, _hint = translate_problem("key_file_unsafe", message, "")
        quoted = translate_message(f"cannot create the folder keys: [Errno {code}] {detail}: 'k'")
    assert shown.startswith(f"密钥文件无法使用：无法读取密钥文件 k.key：{summary}")
    assert shown.endswith(f"（{detail}）") and summary in shown
    assert quoted.startswith("无法创建文件夹 keys：") and summary in quoted
    assert f"[Errno {code}] {detail}: 'k'" in quoted
    with use_language("en"):
        assert translate_problem("key_file_unsafe", message, "")[0] == message


def test_other_system_refusals_keep_their_own_text() -> None:
    detail = os.strerror(errno.EBUSY)
    with use_language("zh"):
        assert translate_message(f"cannot read key file k.key: {detail}").endswith(f"：{detail}")
