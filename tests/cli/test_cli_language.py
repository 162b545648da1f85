"""The command line speaks the language the locale or --lang chooses; codes never change."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import points_ledger
import points_ledger.keys
from conftest import CHEAP_SCRYPT_N, FixedClock
from points_ledger.cli import cli, main
from points_ledger.cli.app import AppState
from points_ledger.i18n import current_language, gettext, use_language

SRC = Path(points_ledger.__file__).resolve().parents[1]
CLOCK = FixedClock(dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC))


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("POINTS_LEDGER")}
    environ.update(env, PYTHONPATH=str(SRC))
    return subprocess.run(
        [sys.executable, "-m", "points_ledger", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_lang_zh_cn_locale_gives_chinese_help_and_errors(tmp_path: Path) -> None:
    helped = _run(["--help"], tmp_path, LANG="zh_CN.UTF-8")
    assert helped.returncode == 0
    assert helped.stdout.startswith("用法： points-ledger")
    assert "记录并核验志愿积分" in helped.stdout
    assert "显示本帮助并退出。" in helped.stdout

    failed = _run(["balance", "vol:0001"], tmp_path, LANG="zh_CN.UTF-8")
    assert failed.returncode == 1
    first, second = failed.stderr.splitlines()[:2]
    assert first.startswith("错误 [storage_error]：账本文件无法使用：")
    assert second == "提示：请检查文件路径、磁盘剩余空间和权限，然后再试。"


def test_lang_en_option_wins_over_a_chinese_locale(tmp_path: Path) -> None:
    helped = _run(["--lang", "en", "--help"], tmp_path, LANG="zh_CN.UTF-8")
    assert helped.returncode == 0
    assert helped.stdout.startswith("Usage: points-ledger")
    assert "Show this message and exit." in helped.stdout

    failed = _run(["--lang=en", "balance", "vol:0001"], tmp_path, LANG="zh_CN.UTF-8")
    assert failed.returncode == 1
    assert failed.stderr.startswith("error [storage_error]: there is no ledger file at ledger.db")
    assert "hint: Check the file path" in failed.stderr


def test_lc_all_overrides_lang(tmp_path: Path) -> None:
    proc = _run(["--help"], tmp_path, LANG="zh_CN.UTF-8", LC_ALL="C.UTF-8")
    assert proc.stdout.startswith("Usage: points-ledger")
    proc = _run(["--help"], tmp_path, LANG="en_US.UTF-8", LC_MESSAGES="zh_CN.UTF-8")
    assert proc.stdout.startswith("用法：")


def test_lang_zh_option_in_english_locale() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--lang", "zh", "award", "--help"], obj=AppState(clock=CLOCK))
    assert result.exit_code == 0, result.output
    assert "为志愿者 VOLUNTEER 完成的 QUANTITY 个单位发放积分" in result.output
    assert "完成服务的网格。" in result.output
    assert "签名用的密钥文件（多人签名时重复填写）。" in result.output
    assert current_language() == "en"


def _commands(command: click.Command, path: list[str]) -> list[list[str]]:
    found = [path]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found += _commands(sub, [*path, name])
    return found


@pytest.mark.parametrize("path", _commands(cli, []), ids=lambda p: " ".join(p) or "points-ledger")
def test_every_help_screen_is_translated(path: list[str]) -> None:
    english = CliRunner().invoke(cli, ["--lang", "en", *path, "--help"])
    chinese = CliRunner().invoke(cli, ["--lang", "zh", *path, "--help"])
    assert english.exit_code == chinese.exit_code == 0
    assert "Show this message and exit." in english.output
    assert "显示本帮助并退出。" in chinese.output
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    shown = "".join(chinese.output.split())  # wrapping only adds whitespace
    with use_language("zh"):
        wanted = [gettext(h) for p in command.params if (h := getattr(p, "help", None))]
    for text in wanted:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text
        assert "".join(text.split()) in shown
    # click's bracketed facts about an option speak the language too.
    if isinstance(command, click.Group):
        for name in command.commands:
            assert f"  {name} " in chinese.output, name
    english_shown = "".join(english.output.split())
    # click's names for what an option takes, and its usage words, are translated too.
    type_names = re.compile(r"--[a-z-]+ (?:TEXT|INTEGER|FLOAT|FILENAME|DIRECTORY|PATH|BOOLEAN)\b")
    assert not type_names.search(chinese.output), chinese.output
    assert "[OPTIONS]" not in chinese.output and "[选项]" in chinese.output
    assert "[OPTIONS]" in english.output
    assert "[default:" not in shown and "required]" not in shown
    assert "[default:" not in english_shown or "[默认：" in shown
    assert "required]" not in english_shown or "必填]" in shown


def test_error_codes_stay_the_same_in_both_languages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no ledger.db here
    assert main(["--lang", "en", "entry", "5"], clock=CLOCK) == 1
    english = capsys.readouterr().err
    assert main(["--lang", "zh", "entry", "5"], clock=CLOCK) == 1
    chinese = capsys.readouterr().err
    assert english.startswith("error [storage_error]: "), english
    assert chinese.startswith("错误 [storage_error]："), chinese


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_group_option_after_the_command_is_explained(
    lang: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--lang", lang, "audit", "--ledger", "x.db"], clock=CLOCK)
    assert code == 2
    stderr = capsys.readouterr().err
    if lang == "en":
        assert "hint: --ledger belongs to points-ledger itself and goes before the command: " in (
            stderr
        )
        assert "points-ledger --ledger VALUE audit ..." in stderr
    else:
        assert "提示：--ledger 是 points-ledger 本身的选项，要写在命令名前面" in stderr
        assert "points-ledger --ledger 值 audit ..." in stderr


def test_an_unknown_option_of_the_command_itself_keeps_the_usual_hint(tmp_path: Path) -> None:
    proc = _run(["audit", "--nonsense"], tmp_path)
    assert proc.returncode == 2
    assert "hint: Run 'points-ledger audit --help' for usage." in proc.stderr


def test_demo_in_chinese(tmp_path: Path) -> None:
    from points_ledger.demo import STEPS

    proc = _run(["demo"], tmp_path, LANG="zh_CN.UTF-8")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.rstrip().splitlines()
    assert lines[0].startswith("points-ledger 示例：致强社区的账本")
    with use_language("zh"):
        titles = [gettext(step) for step in STEPS]
    for number, title in enumerate(titles, start=1):
        assert any(line.startswith(f"{number}. {title}") for line in lines), title
    assert lines[-1].startswith(f"{len(STEPS)}. 审计: 审计通过：共检查 ")
    assert "故事结束后的余额：" in lines
    # The figure lines speak Chinese too, their numbers and ids as they are.
    text = proc.stdout
    for english in ("log verifier key", "settlement entry", "distribution stored", "total paid"):
        assert english not in text, english
    for english in ("signed note:", "verifies:", "is refused:", "investor inv:", "bucket "):
        assert english not in text, english
    assert "结算记录第 " in text and " 分 = 2.00 元，付给理发店" in text
    assert "投资方 inv:agri-partner" in text and "分配项 shareholders" in text
    assert "付给 11 个账户的合计" in text and "改过积分的副本被拒绝：[integrity_failure]" in text
    # The grant's purpose is written in the demo's language; kinds show their labels.
    assert "34  公益资助  hh:0042    -20  为独居老人理发" in text
    assert "haircut for an elderly" not in text and "  donate " not in text


def test_init_names_its_keys_in_chinese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In this process, at a cheap scrypt cost: the test is about the words, not key files.
    monkeypatch.setattr(points_ledger.keys, "SCRYPT_N_MIN", CHEAP_SCRYPT_N)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.setenv("POINTS_LEDGER_PASSPHRASE", "a long passphrase 2026")
    monkeypatch.setenv("POINTS_LEDGER_PASSPHRASE_LOG", "another long passphrase 2026")
    argv = ["--now", "2026-11-02T10:00:00+08:00", "init", "--origin", "chengdu.example/t"]
    argv += ["--single-admin", "--date", "2026-11-02"]
    code = main(argv, clock=CLOCK)
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = [line.split()[0] for line in out.splitlines()[4:6]]
    assert rows == ["日志密钥", "管理员"], out
    assert "管理员 1" in out


def test_repl_help_and_errors_in_chinese(tmp_path: Path) -> None:
    from points_ledger import Ledger, Signer
    from points_ledger.errors import OverdraftError
    from points_ledger.repl import DOT_COMMANDS, LedgerConsole, format_error

    admin = Signer.generate()
    path = tmp_path / "ledger.db"
    with Ledger.create(
        path,
        origin="chengdu.example/t",
        log_key=Signer.generate(),
        admins=[admin],
        threshold=1,
        effective_at=CLOCK().date(),
        clock=CLOCK,
    ) as ledger:
        console = LedgerConsole(ledger)
        with use_language("zh"):
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                console.run_dot(".help")
                console.run_dot(".balance nobody:1 PTS")
            text = out.getvalue()
            error = format_error(OverdraftError("vol:0001 has 0 PTS available, 5 needed"))
    assert "命令" in text.splitlines()[0] and "作用" in text.splitlines()[0]
    assert err.getvalue().startswith("错误 [not_found]：没有找到：账户 nobody:1 尚未开设")
    with use_language("zh"):
        for command in DOT_COMMANDS.values():
            assert gettext(command.summary) in text
    assert error.startswith("错误 [insufficient_balance]：余额不足：vol:0001 has 0 PTS")
    assert "提示：" in error


def _genesis_only_ledger(tmp_path: Path) -> Path:
    """A ledger file holding only its genesis entry, made at :data:`CLOCK`'s time."""
    from points_ledger import Ledger, Signer

    path = tmp_path / "ledger.db"
    with Ledger.create(
        path,
        origin="chengdu.example/t",
        log_key=Signer.generate(),
        admins=[Signer.generate()],
        threshold=1,
        effective_at=CLOCK().date(),
        clock=CLOCK,
    ):
        pass
    return path


def test_usage_errors_entries_and_audit_findings_read_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _genesis_only_ledger(tmp_path)
    ledger = ["--lang", "zh", "--ledger", str(path)]
    assert main([*ledger, "accounts"], clock=CLOCK) == 2
    assert "没有 accounts 这个命令。" in capsys.readouterr().err
    assert main([*ledger, "checkpoint"], clock=CLOCK) == 2
    assert "缺少选项 --log-key。" in capsys.readouterr().err
    assert main([*ledger, "balance", "a", "b", "c"], clock=CLOCK) == 2
    assert "多出了几个参数（b c）" in capsys.readouterr().err
    assert main([*ledger, "entry", "0"], clock=CLOCK) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[0].startswith("序号:") and any(line.startswith("哈希:") for line in shown)
    assert any(line.startswith("前一条哈希: ") for line in shown)
    assert main([*ledger, "audit"], clock=CLOCK) == 0
    audit = capsys.readouterr().out
    assert (
        "提示事项：[single_admin] 第 0 条记录：本账本允许一位管理员单独办理（管理员门槛 1）"
        in audit
    )
    assert "one admin may act alone" not in audit
    assert main(["--lang", "en", "--ledger", str(path), "audit"], clock=CLOCK) == 0
    assert "finding: [single_admin] entry 0: one admin may act alone" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "english"),
    [
        (["balance", "vol:0001", "--asset", "XYZ"], "is not one of"),
        (
            ["account", "open", "vol:0001", "--key", "k.key", "--id", "a", "--date", "2026-13-02"],
            "is not a date in the form",
        ),
        (["report", "nosuch"], "there is no report"),
        (["report", "member-statement"], "expected ACCOUNT"),
        (["report", "points-by-service-month", "x"], "expected no arguments"),
        (["report", "top-volunteers", "2026-13-01", "2026-12-01"], "is not a date"),
        (["report", "member-statement", "vol:0001", "XYZ"], "unknown asset"),
        (["report", "outstanding-holds", "soon"], "is not a date or time"),
        (["report", "distribution", "x"], "is not a whole number"),
        (["report", "accounts", "extra"], "there is no account kind"),
        (["consistency-proof", "5", "3"], "is larger than NEW_SIZE"),
    ],
)
def test_wrong_values_and_report_arguments_read_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], english: str
) -> None:
    path = _genesis_only_ledger(tmp_path)
    assert main(["--lang", "zh", "--ledger", str(path), *args], clock=CLOCK) == 2
    error = capsys.readouterr().err
    assert error.startswith("错误 [usage]：命令行有误：")
    assert english not in error
    assert main(["--lang", "en", "--ledger", str(path), *args], clock=CLOCK) == 2
    assert english in capsys.readouterr().err


def test_sizes_and_account_kinds_are_named_as_the_command_line_names_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _genesis_only_ledger(tmp_path)
    zh = ["--lang", "zh", "--ledger", str(path)]
    assert main([*zh, "consistency-proof", "5", "3"], clock=CLOCK) == 2
    error = capsys.readouterr().err
    assert "size1" not in error and "size2" not in error
    assert "OLD_SIZE 5 大于 NEW_SIZE 3" in error
    assert "提示：运行 'points-ledger consistency-proof --help' 查看用法。" in error
    for args in (["consistency-proof", "3"], ["consistency-proof", "0", "3"]):
        assert main([*zh, *args], clock=CLOCK) == 1
        error = capsys.readouterr().err
        assert error.startswith("错误 [not_found]：")
        assert "size1" not in error and "size2" not in error
        assert "账本只有 1 条记录" in error
    assert main([*zh, "report", "accounts", "extra"], clock=CLOCK) == 2
    error = capsys.readouterr().err
    assert "invalid_event" not in error
    assert "没有“extra”这种账户类型；请使用以下之一：居民、商家" in error
    assert "提示：运行 'points-ledger report --help' 查看用法。" in error
    # The kinds the message lists are what the command takes, in either language.
    assert main([*zh, "report", "--json", "accounts", "积分发放方"], clock=CLOCK) == 0
    by_label = capsys.readouterr().out
    assert main([*zh, "report", "--json", "accounts", "issuer"], clock=CLOCK) == 0
    assert capsys.readouterr().out == by_label
    assert main([*zh, "report", "--json", "accounts", "member"], clock=CLOCK) == 0
    assert capsys.readouterr().out != by_label
    assert main(["--ledger", str(path), "report", "accounts", "居民"], clock=CLOCK) == 2
    assert "use one of member, partner" in capsys.readouterr().err
