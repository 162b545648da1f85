"""The ``points-ledger`` click group, shared options, passphrases and output helpers.

Command modules (``ledger_cmds``, ``keys_cmds``, ``read_cmds``, ...) attach their commands
to :data:`cli` and use the helpers here, so every command behaves the same way:

* ``--ledger PATH`` (env ``POINTS_LEDGER_DB``, default ``ledger.db``) names the file;
* ``--key PATH`` (repeatable) loads signing keys with :func:`~points_ledger.load_signer`;
  passphrases come only from the environment or a hidden prompt, never from arguments;
* human output is aligned tables, ``--json`` prints one JSON document (JSON Lines for
  lists);
* errors print ``error [code]: message`` and a ``hint:`` line on stderr, no traceback,
  and exit with a documented code (see :data:`EXIT_CODES`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import io
import json
import os
import re
import secrets
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from points_ledger.cli.dates import date_option
from points_ledger.cli.render import show_append
from points_ledger.cli.translated import TranslatedGroup
from points_ledger.demo import format_table
from points_ledger.errors import (
    IntegrityError,
    InvalidEventError,
    LedgerError,
    WrongPassphraseError,
)
from points_ledger.i18n import (
    N_,
    label_rows,
    language_from_environment,
    normalize_language,
    translate_problem,
    use_language,
)
from points_ledger.i18n import gettext as _
from points_ledger.keys import Signer, check_key_file, load_signer
from points_ledger.ledger import Clock, Ledger, system_clock
from points_ledger.models import AppendResult, Event

__all__ = [
    "EXIT_CODES",
    "EXIT_INTEGRITY",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "GROUP_OPTIONS",
    "LEDGER_ENV",
    "NOW_ENV",
    "PASSPHRASE_ENV",
    "AppState",
    "CommandError",
    "LedgerGroup",
    "append_signed",
    "business_date",
    "cli",
    "echo_json",
    "echo_jsonl",
    "echo_table",
    "event_options",
    "json_option",
    "keys_option",
    "load_keys",
    "main",
    "new_event_id",
    "open_ledger",
    "passphrase_env_name",
    "progress_callback",
    "prompt_passphrase",
    "read_passphrase",
    "resolve_event_id",
    "signing_keys_option",
    "state",
    "stdin_is_terminal",
    "today",
]

EXIT_OK: Final = 0
"""The command did what was asked."""
EXIT_REFUSED: Final = 1
"""The ledger (or a key file, or the file system) refused the request; nothing was written."""
EXIT_USAGE: Final = 2
"""The command line itself was wrong: unknown option, missing or malformed argument."""
EXIT_INTEGRITY: Final = 3
"""``verify`` or ``audit`` (or any read) found the file damaged or tampered with."""
EXIT_INTERRUPTED: Final = 130
"""Interrupted with Ctrl-C, or input ended while a prompt was waiting."""

EXIT_CODES: Final[Mapping[int, str]] = {
    EXIT_OK: "success",
    EXIT_REFUSED: "refused by the ledger's rules, a key file or the file system",
    EXIT_USAGE: "usage error on the command line",
    EXIT_INTEGRITY: "integrity problem found (verify, audit, or a damaged entry)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C) or input ended at a prompt",
}
"""Every exit code the command line uses, with its meaning."""

LEDGER_ENV: Final = "POINTS_LEDGER_DB"
"""Environment variable naming the ledger file (default ``ledger.db``)."""

PASSPHRASE_ENV: Final = "POINTS_LEDGER_PASSPHRASE"  # noqa: S105 - a variable name, not a secret
"""Environment variable holding the key-file passphrase.

A per-file variable takes precedence: ``POINTS_LEDGER_PASSPHRASE_<STEM>`` where ``<STEM>``
is the key file's name without its extension, upper-cased, with every character other
than ``A-Z 0-9`` replaced by ``_`` (``keys/admin-1.key`` → ``POINTS_LEDGER_PASSPHRASE_ADMIN_1``).
"""

TIMEZONE: Final = "Asia/Shanghai"
"""Business dates default to today in this time zone."""

NOW_ENV: Final = "POINTS_LEDGER_NOW"
"""Environment variable for ``--now``: the time the command acts at (training, tests)."""

DEFAULT_LEDGER: Final = "ledger.db"
"""The ledger file used when neither ``--ledger`` nor ``POINTS_LEDGER_DB`` names one."""

_F = TypeVar("_F", bound=Callable[..., Any])


class CommandError(LedgerError):
    """A command-line request that cannot be carried out (e.g. an output file exists)."""

    code = "command_failed"
    default_hint = "Correct the command as the message says and run it again."


@dataclass(frozen=True)
class AppState:
    """Options given to the group, shared by every command.

    A program (or a test) that runs the command line in-process can pass its own state as
    click's ``obj`` (``CliRunner().invoke(cli, args, obj=AppState(clock=fixed))``, or
    ``main(argv, clock=fixed)``): every command then takes the time from that clock, both
    for the entries' ``recorded_at`` and for the default business date.

    Attributes:
        ledger_path: The ledger file named by ``--ledger`` / ``POINTS_LEDGER_DB``, or a
            ``postgresql://`` URL (kept as text: a path would fold its ``//``).
        clock: Where the current time comes from (default: the system clock). Business
            dates are this time's date in Asia/Shanghai.
    """

    ledger_path: Path | str = Path(DEFAULT_LEDGER)
    clock: Clock = system_clock


def _ledger_location(value: str | Path) -> Path | str:
    """A ``--ledger`` value: a ``postgresql://`` URL stays text, anything else is a path."""
    text = str(value)
    if text.lower().startswith(("postgresql://", "postgres://")):
        return text
    return Path(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


GROUP_OPTIONS: Final = ("--ledger", "--now", "--lang", "--version")
"""Options of ``points-ledger`` itself: they go before the command's name."""


def _report(code: str, message: str, hint: str = "") -> None:
    message, hint = translate_problem(code, message, hint)
    click.echo(
        _("error [{code}]: {message}").format(code=code, message=_one_line(message)),
        err=True,
    )
    if hint:
        click.echo(_("hint: {hint}").format(hint=_one_line(hint)), err=True)


def _language_of(args: Sequence[str] | None) -> str:
    """The language ``--lang`` chooses in ``args``, else the locale's.

    Read before click parses the line, so that click's own usage errors are reported
    in the chosen language too.
    """
    words = list(sys.argv[1:] if args is None else args)
    for at, word in enumerate(words):
        if word == "--":
            break
        if word == "--lang" and at + 1 < len(words):
            return normalize_language(words[at + 1])
        if word.startswith("--lang="):
            return normalize_language(word.partition("=")[2])
    return language_from_environment()


def _usage_hint(error: click.UsageError) -> str:
    where = error.ctx.command_path if error.ctx is not None else "points-ledger"
    if (
        isinstance(error, click.NoSuchOption)
        and error.option_name in GROUP_OPTIONS
        and error.ctx is not None
        and error.ctx.parent is not None
    ):
        command = where.removeprefix("points-ledger ").strip()
        return _(
            "{option} belongs to points-ledger itself and goes before the command: "
            "points-ledger {option} VALUE {command} ..."
        ).format(option=error.option_name, command=command)
    return _("Run '{where} --help' for usage.").format(where=where)


def _output_failed(error: OSError) -> int:
    """Report output that could not be written, and keep Python quiet about it at exit."""
    if error.errno != errno.EPIPE:
        reason = error.strerror or str(error)
        _report(
            "output_failed",
            f"the output could not be written: {reason}",
            "Free some disk space, or send the output somewhere else (another file or "
            "disk, or --output PATH where the command has it).",
        )
    # A reader that stopped early (``| head -1``) is not an error worth a message.
    # Either way, whatever is still buffered for standard output would fail again when
    # the interpreter flushes it at exit ("Exception ignored ..."): point it at nothing.
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return EXIT_REFUSED


class LedgerGroup(TranslatedGroup):
    """A click group whose ``main`` turns errors into one-line reasons and exit codes.

    The handling lives here rather than in :func:`main` so that click's ``CliRunner``
    (which calls ``cli.main``) sees exactly what a user at a terminal sees.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; exit (or, with ``standalone_mode=False``, return) a code."""
        with use_language(_language_of(args)):
            code = self._run(args, prog_name, complete_var, windows_expand_args, **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(
        self,
        args: Sequence[str] | None,
        prog_name: str | None,
        complete_var: str | None,
        windows_expand_args: bool,
        **extra: Any,
    ) -> int:
        code = EXIT_OK
        try:
            result = super().main(
                args,
                prog_name,
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
            code = result if isinstance(result, int) else EXIT_OK
            sys.stdout.flush()  # a write that fails now is reported here, not at exit
        except OSError as e:
            # What reaches here is output that could not be written: a full disk
            # (``> /dev/full``), a closed pipe, a file size limit. Errors of the ledger
            # file and key files are already LedgerErrors.
            code = _output_failed(e)
        except IntegrityError as e:
            _report(e.code, e.message, e.hint)
            code = EXIT_INTEGRITY
        except LedgerError as e:
            _report(e.code, e.message, e.hint)
            code = EXIT_REFUSED
        except click.UsageError as e:
            _report("usage", e.format_message(), _usage_hint(e))
            code = EXIT_USAGE
        except click.ClickException as e:
            _report("command_failed", e.format_message())
            code = e.exit_code
        except click.Abort:
            _report("interrupted", N_("stopped before finishing; no entry was half-written"))
            code = EXIT_INTERRUPTED
        return code


@click.group(cls=LedgerGroup, name="points-ledger")
@click.version_option(package_name="points_ledger")
@click.option(
    "--ledger",
    "ledger_path",
    envvar=LEDGER_ENV,
    default=DEFAULT_LEDGER,
    show_default=True,
    show_envvar=True,
    metavar="PATH|URL",
    callback=lambda _ctx, _param, value: _ledger_location(value),
    help="The ledger file, or a PostgreSQL ledger: postgresql://…/DB?schema=NAME.",
)
@click.option(
    "--now",
    "now_text",
    envvar=NOW_ENV,
    show_envvar=True,
    metavar="TIME",
    help="Act as if it were this time (ISO 8601 with a zone, e.g. 2026-11-02T10:00+08:00): "
    "for training, for entering a day's paper register, and for tests. It sets the "
    "default business date and recorded_at; recorded_at never goes backwards.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    help="Language of messages and help: zh (简体中文) or en (English); default: the "
    "locale (LC_ALL, LC_MESSAGES, LANG).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    ledger_path: Path | str,
    now_text: str | None,
    lang: str | None,
) -> None:
    """Keep and check an append-only, signed ledger of volunteer points and income.

    Passphrases for key files are read from POINTS_LEDGER_PASSPHRASE (or a per-file
    POINTS_LEDGER_PASSPHRASE_<STEM>) or asked for without echo; never pass them as
    arguments. Exit codes: 0 success, 1 refused, 2 usage error, 3 integrity problem,
    130 interrupted.
    """
    given = ctx.obj if isinstance(ctx.obj, AppState) else AppState()
    ctx.obj = replace(given, ledger_path=ledger_path)
    if now_text is not None:
        ctx.obj = replace(ctx.obj, clock=_fixed_clock(now_text))


def _fixed_clock(text: str) -> Clock:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as e:
        raise click.BadParameter(
            f"{text!r} is not a time such as 2026-11-02T10:00+08:00", param_hint="--now"
        ) from e
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise click.BadParameter(
            f"{text!r} has no time zone; add one, e.g. +08:00 for Chengdu", param_hint="--now"
        )

    def clock() -> dt.datetime:
        return moment

    return clock


def main(argv: Sequence[str] | None = None, *, clock: Clock = system_clock) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Args:
        argv: The arguments after the program name.
        clock: Where the current time comes from (default: the system clock); tests and
            simulations pass a fixed one.
    """
    code: int = cli.main(
        args=list(argv) if argv is not None else None,
        prog_name="points-ledger",
        standalone_mode=False,
        obj=AppState(clock=clock),
    )
    return code


# -- shared state and options ----------------------------------------------------------


def state() -> AppState:
    """The group's options for the command being run."""
    return click.get_current_context().ensure_object(AppState)


def open_ledger() -> Ledger:
    """Open the ledger file named by ``--ledger``.

    Raises:
        StorageError: if the file is missing or not a ledger.
    """
    current = state()
    return Ledger.open(current.ledger_path, clock=current.clock)


def json_option(func: _F) -> _F:
    """Add ``--json``: print one JSON document (JSON Lines for lists) instead of tables."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON (JSON Lines for lists)."
    )(func)


def signing_keys_option(help_text: str) -> Callable[[_F], _F]:
    """An option ``--key PATH`` (repeatable, at least one) of key files that sign the event."""
    return click.option(
        "--key",
        "key_paths",
        multiple=True,
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help=help_text,
    )


keys_option = signing_keys_option("Signing key file (repeat for several signers).")
"""``--key PATH`` (repeatable, at least one): key files that sign the event."""


def _check_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date:
    return date_option(_ctx, _param, value) or today()


def event_options(func: _F) -> _F:
    """Add ``--id`` (idempotency key, default generated), ``--date`` and ``--memo``."""
    func = click.option("--memo", default="", help="Free text (no personal data).")(func)
    func = click.option(
        "--date",
        "effective_at",
        callback=_check_date,
        metavar="YYYY-MM-DD",
        help=f"Business date (default: today in {TIMEZONE}).",
    )(func)
    return click.option(
        "--id",
        "event_id",
        default=None,
        help="Event id (idempotency key); default: a new unique id, printed for retries.",
    )(func)


def business_date(moment: dt.datetime) -> dt.date:
    """The date in Asia/Shanghai of an aware ``moment`` (UTC+8 without a zone database).

    Raises:
        InvalidEventError: if ``moment`` carries no time zone.
    """
    if not isinstance(moment, dt.datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidEventError(
            f"the clock gave {moment!r}, not a time with a time zone",
            hint="Give the command line a clock that returns an aware datetime.",
        )
    try:
        zone: dt.tzinfo = ZoneInfo(TIMEZONE)
    except ZoneInfoNotFoundError:
        zone = dt.timezone(dt.timedelta(hours=8))  # China keeps no daylight saving time
    return moment.astimezone(zone).date()


def today(clock: Clock | None = None) -> dt.date:
    """Today's date in Asia/Shanghai by ``clock``.

    Args:
        clock: The clock to read; default: the running command's clock (see
            :class:`AppState`), or the system clock outside a command.
    """
    if clock is None:
        context = click.get_current_context(silent=True)
        given = context.find_object(AppState) if context is not None else None
        clock = given.clock if given is not None else system_clock
    return business_date(clock())


def new_event_id(kind: str) -> str:
    """A fresh event id such as ``transfer-1f3a9c0b5e2d4f60``."""
    return f"{kind}-{secrets.token_hex(8)}"


# -- passphrases and keys --------------------------------------------------------------


def passphrase_env_name(path: Path) -> str:
    """The per-file passphrase variable for a key file (see :data:`PASSPHRASE_ENV`)."""
    stem = re.sub(r"[^A-Z0-9]", "_", Path(path).stem.upper())
    return f"{PASSPHRASE_ENV}_{stem}"


def stdin_is_terminal() -> bool:
    """True when standard input is a terminal, so a passphrase can be asked for there."""
    return sys.stdin.isatty()


def prompt_passphrase(
    prompt: str, *, needed_for: str, variables: Sequence[str], new: bool = False
) -> str:
    """Ask for a passphrase without echo, or refuse at once if there is no terminal.

    Without a terminal a hidden prompt cannot work (Python would warn and read the
    passphrase in the clear from a pipe), so the refusal names the variables to set.

    Args:
        prompt: The question shown.
        needed_for: What the passphrase opens, for the refusal (``key file keys/a.key``).
        variables: The environment variables that would have given it, most specific first.
        new: True when creating key files: the prompt asks twice.

    Raises:
        CommandError: if standard input is not a terminal.
    """
    if not stdin_is_terminal():
        raise CommandError(
            f"no passphrase for {needed_for} in {' or '.join(variables)}, and no terminal "
            "to ask for it on",
            hint=f"Set {variables[0]} in the environment, or run the command in a terminal "
            "to be asked.",
        )
    value = click.prompt(prompt, hide_input=True, confirmation_prompt=new, err=True)
    return str(value)


def read_passphrase(path: Path, *, new: bool = False) -> str:
    """The passphrase for key file ``path``: per-file env, then shared env, then a prompt.

    Args:
        path: The key file.
        new: True when creating the file: the prompt asks twice.

    Raises:
        CommandError: if neither variable is set and standard input is not a terminal.
    """
    variables = (passphrase_env_name(path), PASSPHRASE_ENV)
    for name in variables:
        value = os.environ.get(name)
        if value:
            return value
    if not new:
        check_key_file(path)  # a wrong path is named before anyone types a passphrase
    prompt = (_("New passphrase for {path}") if new else _("Passphrase for {path}")).format(
        path=path
    )
    return prompt_passphrase(prompt, needed_for=f"key file {path}", variables=variables, new=new)


def load_keys(paths: Iterable[Path]) -> list[Signer]:
    """Load and decrypt signing key files.

    Raises:
        KeyFileError: if a file is missing, unsafe or malformed.
        WrongPassphraseError: if a passphrase does not open its file.
    """
    signers = []
    for path in paths:
        passphrase = read_passphrase(path)
        try:
            signers.append(load_signer(path, passphrase))
        except WrongPassphraseError as e:
            source = _passphrase_variable(path)
            if source is None:
                raise
            specific = passphrase_env_name(path)
            advice = (
                f"Set {specific} to the passphrase of {path}"
                if source == PASSPHRASE_ENV
                else f"Correct {specific}"
            )
            raise WrongPassphraseError(
                f"{e.message} (the passphrase was read from {source})",
                hint=f"{advice}; each key file may have its own passphrase.",
            ) from None
    return signers


def _passphrase_variable(path: Path) -> str | None:
    """The environment variable a key file's passphrase was read from, if any."""
    return next(
        (name for name in (passphrase_env_name(path), PASSPHRASE_ENV) if os.environ.get(name)),
        None,
    )


# -- writing -----------------------------------------------------------------------------


def resolve_event_id(event_id: str | None, kind: str) -> str:
    """Return ``event_id``, or generate one and announce it on stderr.

    A generated id is printed *before* anything is written, so that if the command is
    interrupted the user can run it again with ``--id`` and get the stored entry back
    instead of a duplicate.
    """
    if event_id is not None:
        return event_id
    event_id = new_event_id(kind)
    click.echo(
        _("event id: {event_id} (to retry safely, pass --id {event_id})").format(event_id=event_id),
        err=True,
    )
    return event_id


def append_signed(event: Event, key_paths: Iterable[Path], *, as_json: bool) -> AppendResult:
    """Open the ledger, load the key files, append ``event`` signed by them and show it.

    The ledger is opened before any passphrase is asked for, so a wrong ``--ledger``
    fails at once.

    Raises:
        LedgerError: whatever the ledger, a key file or the file system refuses; nothing
            is written then.
    """
    with open_ledger() as ledger:
        result = ledger.append(event, load_keys(key_paths))
        show_append(result, as_json=as_json)
    return result


# -- output ------------------------------------------------------------------------------


def echo_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, right: Sequence[bool] | None = None
) -> None:
    """Print an aligned table (CJK-aware widths) in the current language.

    The headers are translated, and so are the codes in a ``kind``, ``role`` or ``roles``
    column (entry kinds, account kinds, key roles: :func:`points_ledger.i18n.label_rows`).
    """
    click.echo(format_table([_(h) for h in headers], label_rows(headers, rows), right=right))


def echo_json(document: object) -> None:
    """Print one JSON document (UTF-8, Chinese kept readable)."""
    click.echo(json.dumps(document, ensure_ascii=False))


def echo_jsonl(documents: Iterable[object]) -> None:
    """Print one JSON document per line (JSON Lines)."""
    for document in documents:
        click.echo(json.dumps(document, ensure_ascii=False))


@contextmanager
def progress_callback(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A ``progress(done, total)`` callback drawing a bar on stderr, if stderr is a terminal.

    Yields None when stderr is not a terminal, so pipes and logs stay clean.
    """
    stream = sys.stderr
    if not stream.isatty():
        yield None
        return
    bar: Any = None
    shown = 0

    def update(done: int, total: int) -> None:
        nonlocal bar, shown
        if bar is None:
            bar = click.progressbar(length=max(total, 1), label=label, file=stream)
            bar.__enter__()
        if done > shown:
            bar.update(done - shown)
            shown = done

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
