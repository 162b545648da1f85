"""Every error message and hint written where the library raises an error reads in Chinese.

``scripts/update_catalogue.py`` walks the syntax tree of every module in
``src/points_ledger``, finds each call of a ``LedgerError`` class and takes its message
and hint as a wording (an f-string's fields become ``{name}`` fields). The catalogue
holds each wording, and the faces match an error's English message against the wordings
the catalogue marks. So a message reworded at its raise site is a new msgid: the
catalogue test fails until it is translated, instead of the message silently staying
English. These tests check the walk itself and that every wording found reads whole.
"""

from __future__ import annotations

import ast
import re

import pytest
from catalogue_files import update_catalogue_script, zh_catalogue

from points_ledger.errors import InvalidEventError, UnknownAccountError
from points_ledger.i18n import (
    ERROR_WORDING_COMMENT,
    error_wordings,
    gettext,
    label,
    label_rows,
    translate_error,
    translate_message,
    use_language,
)

FIELD = re.compile(r"(?<!\{)\{([a-z_][a-z0-9_]*)\}")
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}")
"""Three English words in a row: a sentence left untranslated."""


SCRIPT = update_catalogue_script()
WORDINGS = SCRIPT.raise_site_wordings()


def _catalogue() -> dict[str, tuple[str, list[str]]]:
    return {m.msgid: (m.text, m.comments) for m in zh_catalogue()}


def _wording_of(source: str) -> str | None:
    call = ast.parse(source, mode="eval").body
    assert isinstance(call, ast.Call)
    result: str | None = SCRIPT.wording(call.args[0])
    return result


def test_the_walk_finds_messages_and_hints_in_every_part_of_the_library() -> None:
    places = {path for path, _line in WORDINGS.values()}
    for module in ("ledger.py", "engine.py", "keys.py", "notes.py", "store/sqlite/store.py"):
        assert f"src/points_ledger/{module}" in places, module
    assert len(WORDINGS) > 500
    assert "Check the date; a mistyped year is the usual cause." not in WORDINGS  # a default
    assert "Choose another path; keys are never overwritten." in WORDINGS  # a hint= text


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('E("plain words")', "plain words"),
        ('E(f"account {account_id!r} has {n} left")', "account '{account_id}' has {n} left"),
        ('E(f"entry {event.seq} of {self._size:,}")', "entry {seq} of {size}"),
        ("E(f\"{len(rows)} rows: {', '.join(sorted(names))}\")", "{count} rows: {names}"),
        ('E(f"cannot read {path}: {e}")', "cannot read {path}: {error}"),
        ('E(f"{a.x} and {b.x}")', "{x} and {x_2}"),
        ('E(f"{x} twice {x}")', "{x} twice {x}"),
        ('E(f"a set {{of}} {x}")', "a set {{of}} {x}"),
        ("E(message)", None),
    ],
)
def test_a_raise_site_message_becomes_a_wording(source: str, expected: str | None) -> None:
    assert _wording_of(source) == expected


def test_every_wording_raised_in_the_library_is_translated() -> None:
    catalogue = _catalogue()
    missing = sorted(w for w in WORDINGS if not catalogue.get(w, ("", []))[0].strip())
    assert missing == [], "run scripts/update_catalogue.py and translate these"


def test_every_wording_with_particulars_is_marked_for_matching() -> None:
    catalogue = _catalogue()
    marked = set(error_wordings("zh_CN"))
    for wording in WORDINGS:
        if SCRIPT.is_matchable(wording):
            assert ERROR_WORDING_COMMENT in catalogue[wording][1], wording
            assert wording in marked, wording
    assert error_wordings("en") == ()


def _filled(wording: str) -> tuple[str, list[str]]:
    """The wording with a distinct made-up particular in each field, and those values."""
    values: dict[str, str] = {}
    for name in FIELD.findall(wording):
        values.setdefault(name, f"Q{len(values) + 1}q")
    return wording.format(**values), list(values.values())


@pytest.mark.parametrize(
    "wording", sorted(w for w in WORDINGS if SCRIPT.is_matchable(w)), ids=lambda w: w[:40]
)
def test_each_raised_wording_reads_whole_in_chinese_with_its_particulars(wording: str) -> None:
    english, particulars = _filled(wording)
    with use_language("zh"):
        chinese = translate_message(english)
    assert chinese != english
    if "}{" in wording:  # fields side by side: their particulars stay side by side
        assert "".join(particulars) in chinese
    else:
        for value in particulars:
            assert value in chinese
    words = [w for w in ENGLISH_RUN.findall(chinese) if w not in english.split(": ")[-1:]]
    # Only English the wording itself keeps on purpose may remain (Python names, commands).
    for run in words:
        assert run in _catalogue()[wording][0], (wording, run)


def test_english_messages_are_unchanged_and_codes_stay() -> None:
    error = UnknownAccountError("account 'm:9' has not been opened", hint="Open it first.")
    assert translate_error(error) == (error.message, error.hint)
    with use_language("zh"):
        message, _hint = translate_error(error)
    assert error.code == "unknown_account"
    assert error.message == "account 'm:9' has not been opened"
    assert "m:9" in message and "account" not in message


def test_a_wrapped_message_is_translated_inside_its_wrapper() -> None:
    inner = "there is no entry 7: the ledger has 3 entries"
    error = InvalidEventError(f"entry 2: {inner}")
    with use_language("zh"):
        message, _hint = translate_error(error)
    assert message == "有一项填写的值不正确：第 2 条记录：没有第 7 条记录：账本共有 3 条记录"


def test_codes_shown_to_people_get_labels_in_chinese_only() -> None:
    assert label("award_points") == "award_points"
    with use_language("zh"):
        assert label("award_points") == "发放积分"
        assert label("admin, committee") == "管理员、委员会成员"
        assert label("vol:0001") == "vol:0001"
        rows = label_rows(("seq", "kind", "memo"), [(3, "grant", "donate")])
    assert rows == [[3, "公益资助", "donate"]]


def test_a_voucher_state_and_a_balance_header_read_differently() -> None:
    # "pending" is a voucher's state (waiting to be confirmed or voided) and the header of
    # a balance's points on hold: one English word, two Chinese ones.
    assert label("pending") == "pending"
    with use_language("zh"):
        assert label("pending") == "待确认"
        assert gettext("pending") == "冻结中"
        rows = label_rows(("voucher", "status"), [("v12", "pending")])
    assert rows == [["v12", "待确认"]]


def test_a_named_kind_of_file_reads_in_chinese() -> None:
    from points_ledger.cli.app import CommandError

    error = CommandError("checkpoint note notes/7.txt is not UTF-8 text")
    with use_language("zh"):
        message, _hint = translate_error(error)
    assert message.endswith("检查点签名文本 notes/7.txt 不是 UTF-8 文本")
