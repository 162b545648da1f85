"""Errors met at the counter read whole in Chinese, particulars and all.

The library raises its English messages; the faces match them against the wordings in
``points_ledger.i18n.ERROR_MESSAGES`` and show the Chinese wording with the same account
ids, amounts and dates. Each error here is raised by a real ledger, not written by hand, so
a change of wording in the library that the table does not follow fails here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import DAY, World
from points_ledger import LedgerError, Signer
from points_ledger.errors import AuthorizationError, LimitExceededError
from points_ledger.i18n import (
    ERROR_MESSAGES,
    gettext,
    translate_error,
    translate_problem,
    translate_working,
    use_language,
)
from points_ledger.keys import save_signer
from points_ledger.split import THREE_THREE_THREE_ONE, InvestorSchedule, explain

ENGLISH = re.compile(
    r"\b(?:account|available|needs|opened|already|dated|signature|signatures|got|entry|"
    r"different|content|ahead|role|people)\b"
)
"""Words of the English wordings; none may remain once a message is translated."""


def _raised(action: Callable[[], object]) -> LedgerError:
    with pytest.raises(LedgerError) as caught:
        action()
    return caught.value


def _in_chinese(error: LedgerError) -> tuple[str, str]:
    with use_language("zh"):
        return translate_error(error)


def test_an_unopened_account_reads_in_chinese(world: World) -> None:
    world.add_member("m:0001")
    error = _raised(lambda: world.pay("m:0001", "m:9999", 1))
    message, _hint = _in_chinese(error)
    assert error.code == "unknown_account"
    assert message == "没有这个账户：账户 m:9999 尚未开设"


def test_an_overdraft_reads_in_chinese_with_its_amounts(world: World) -> None:
    world.add_member("m:0001")
    world.add_member("m:0002")
    world.issue("m:0001", 30)
    error = _raised(lambda: world.pay("m:0001", "m:0002", 1000))
    message, hint = _in_chinese(error)
    assert error.code == "insufficient_balance"
    assert message == "余额不足：账户 m:0001 可用余额为 30 PTS，这笔需要 1,000"
    assert hint == "请查看账户的可用余额（冻结中的预留会占用余额）。"
    assert not ENGLISH.search(message)


def test_an_event_id_used_for_other_content_reads_in_chinese(world: World) -> None:
    world.add_member("m:0001")
    world.add_member("m:0002")
    world.issue("m:0001", 30)
    world.pay("m:0001", "m:0002", 5, event_id="pay-1")
    error = _raised(lambda: world.pay("m:0001", "m:0002", 6, event_id="pay-1"))
    message, _hint = _in_chinese(error)
    assert error.code == "entry_conflict"
    assert "事件编号 pay-1 已被第" in message and "条记录用于不同的内容" in message
    assert not ENGLISH.search(message)


def test_a_date_too_far_ahead_reads_in_chinese_hint_included(world: World) -> None:
    world.add_member("m:0001")
    world.add_member("m:0002")
    world.issue("m:0001", 30)
    later = DAY + dt.timedelta(days=400)
    error = _raised(lambda: world.pay("m:0001", "m:0002", 1, effective_at=later))
    message, hint = _in_chinese(error)
    assert error.code == "effective_date_out_of_range"
    assert f"的日期是 {later.isoformat()}" in message and "最多只能提前一天" in message
    assert hint == "请核对日期（年份输错了吗？）。将来的服务请到当天再记。"
    assert not ENGLISH.search(message)


def test_missing_signatures_read_in_chinese_requirement_included(world: World) -> None:
    world.add_member("m:0001")
    world.committee  # noqa: B018 - seats the committee, so issuing needs it
    event = world.transfer_event("issuer", "m:0001", 10)
    error = _raised(lambda: world.ledger.append(event, world.quorum))
    message, _hint = _in_chinese(error)
    assert isinstance(error, AuthorizationError)
    assert "需要 2 位不同的委员会成员签名" in message
    assert "实际只有" in message
    assert not ENGLISH.search(message)


def test_wordings_made_of_wordings_are_translated_part_by_part() -> None:
    error = AuthorizationError(
        "needs a signature from a key with the admin role; and needs signatures from 2 "
        "different people with the committee role; got 1"
    )
    message, _hint = _in_chinese(error)
    assert message.endswith(
        "需要一把管理员密钥的签名；并且需要 2 位不同的委员会成员签名；实际只有 1 位"
    )


def test_a_message_in_no_known_wording_keeps_its_english_after_the_summary() -> None:
    error = LimitExceededError("a wording no table knows, for vol:0001")
    message, _hint = _in_chinese(error)
    assert message == "会超出限额：a wording no table knows, for vol:0001"


def test_every_wording_has_fields_or_is_a_hint() -> None:
    # A wording without fields would be translated word for word by the catalogue anyway,
    # unless it is a hint given at one raise site (not an error class's default).
    for wording in ERROR_MESSAGES:
        assert "{" in wording or wording.endswith("."), wording
    with use_language("zh"):
        assert all(gettext(w) != w for w in ERROR_MESSAGES)


def test_a_wording_made_of_wordings_never_translates_half_a_message() -> None:
    with use_language("zh"):
        message, hint = translate_problem(
            "invalid_event", "pick one thing, or another thing", "Try this, or try that."
        )
    assert message == "有一项填写的值不正确：pick one thing, or another thing"
    assert hint == "Try this, or try that."


def test_hints_written_where_counter_errors_are_raised_are_translated(tmp_path: Path) -> None:
    taken = tmp_path / "taken.key"
    taken.write_text("x", "utf-8")
    error = _raised(lambda: save_signer(Signer.generate(), taken, "a long passphrase 2026"))
    message, hint = _in_chinese(error)
    assert message.endswith(f"密钥文件 {taken} 已经存在")
    assert hint == "请换一个路径；密钥文件绝不会被覆盖。"


def test_a_distributions_working_reads_in_chinese_figures_unchanged() -> None:
    trace = explain(
        100_001,
        THREE_THREE_THREE_ONE,
        investor_schedule=InvestorSchedule.linear(
            start=Fraction(7, 10), end=Fraction(1, 10), years=20
        ),
        contract_year=1,
        investor_account="inv:agri",
        shares={"shareholders": {"sh:01": 1, "sh:02": 3}},
        members={"villagers": ["sh:01", "sh:02", "vil:03"]},
    )
    english = trace.to_text()
    assert translate_working(english) == english  # English: unchanged
    with use_language("zh"):
        chinese = translate_working(english)
    lines = chinese.splitlines()
    assert lines[0] == "# 按分配方案 3331 分配，合同第 1 年"
    assert lines[1] == "分配总额：1,000.01 元（100,001 分）"
    assert "第 1 步（共 4 步）" in lines and "汇总" in lines
    assert "== 合同第 1 年的投资方份额 ==" in lines
    assert "  第 1 个单位：investor —— 余数 7/10（0.7）" in lines
    assert any(line.startswith("  投资方 inv:agri") for line in lines)
    assert lines[-1].startswith("  合计") and lines[-1].endswith("1,000.01 元（100,001 分）")
    # Every line reads in Chinese; table rows keep every figure, realigned under
    # translated headers.
    words = re.compile(
        r"\b(?:Amount|Step|Summary|Total|Sum|Check|Leftover|unit|yuan|fen|recipient|weight|"
        r"quota|floor|remainder|extra|amount)\b"
    )
    headers = [line for line in lines if line.startswith("  领取人")]
    assert len(headers) == 4
    assert headers[0].split() == [
        "领取人", "权重", "应得（分数）", "应得（小数）", "向下取整", "余数", "补一", "金额"
    ]  # fmt: skip
    for before, after in zip(english.splitlines(), lines, strict=True):
        table_row = re.match(r"  \S+\s+\d", before) and ":" not in before
        if table_row and "yuan" not in before:
            assert after.split() == before.split()
            assert len(after) == len(headers[0]) or after.endswith(before.split()[-1])
        else:
            assert not words.search(after), after
    assert "  village   3/10     300003/10      30,000.3    30,000  3/10        30,000" in lines
