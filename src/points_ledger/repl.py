"""A small interactive console for staff and auditors: ``points-ledger repl ledger.db``.

It is a standard :class:`code.InteractiveConsole` (so it speaks Python) with

* ``ledger`` (a :class:`LedgerProxy` on the opened file) and the public API pre-imported;
* dot-commands in the style of the ``sqlite3`` shell: ``.help``, ``.balance``,
  ``.statement``, ``.entries``, ``.verify``, ``.audit``, ``.keys``, ``.checkpoint``,
  ``.receipt``, ``.report``, ``.quit`` — more can be added with :func:`dot_command`;
* read-only behaviour until signing keys are loaded with ``.keys``: ``ledger.append``
  and every other method not listed in :data:`READ_ONLY_NAMES` raise
  :class:`ReadOnlyError`. This guards against slips, it is not a security boundary
  (anyone at the prompt can open the file with :class:`~points_ledger.Ledger` directly);
* errors shown as ``error [code]: message`` plus a hint, never ending the session;
* tab completion of Python names and dot-commands where ``readline`` exists.
"""

from __future__ import annotations

import code
import datetime as dt
import os
import re
import rlcompleter
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import points_ledger
from points_ledger.cli.app import (
    PASSPHRASE_ENV,
    passphrase_env_name,
    prompt_passphrase,
    today,
)
from points_ledger.cli.render import audit_text
from points_ledger.cli.report_views import ReportArgsError, run_report
from points_ledger.cli.tables import balances_table, entries_table, reports_table, statement_table
from points_ledger.demo import format_table
from points_ledger.errors import LedgerError, NotFoundError
from points_ledger.i18n import gettext, label_rows, translate_error
from points_ledger.keys import Signer, check_key_file, load_signer
from points_ledger.ledger import Clock, Ledger, SignerLike, read_only_names, system_clock
from points_ledger.models import AppendResult, Asset, Event
from points_ledger.receipts import verify_receipt

__all__ = [
    "DOT_COMMANDS",
    "READ_ONLY_NAMES",
    "DotCommand",
    "LedgerConsole",
    "LedgerProxy",
    "ReadOnlyError",
    "dot_command",
    "format_error",
    "run_repl",
]

READ_ONLY_NAMES: Final = read_only_names()
"""Ledger attributes usable before keys are loaded. Anything else needs ``.keys`` first.

Derived from the marks on the methods of :class:`~points_ledger.Ledger` (see
:func:`points_ledger.ledger.read_only_names`), so a new reading method is usable at once.
"""

ENTRIES_DEFAULT: Final = 10
_COUNT_DIGITS_MAX: Final = 18


class ReadOnlyError(LedgerError):
    """A write was attempted in a REPL session that has no signing keys loaded."""

    code = "read_only"
    default_hint = "Load signing keys with .keys PATH first; the session is read-only until then."


def format_error(error: LedgerError) -> str:
    """``error [code]: message`` and, when there is one, a ``hint:`` line.

    In the current language (:mod:`points_ledger.i18n`); the code never changes.
    """
    message, hint = translate_error(error)
    lines = [
        gettext("error [{code}]: {message}").format(
            code=error.code, message=" ".join(message.split())
        )
    ]
    if hint:
        lines.append(gettext("hint: {hint}").format(hint=" ".join(hint.split())))
    return "\n".join(lines) + "\n"


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[bool] | None = None
) -> str:
    """``format_table`` with the headers (and the codes of a ``kind`` column) translated."""
    return format_table([gettext(h) for h in headers], label_rows(headers, rows), right=right)


class LedgerProxy:
    """The ``ledger`` object of a REPL session: reads always, writes once keys are loaded.

    Reading attributes listed in :data:`READ_ONLY_NAMES` pass straight to the
    :class:`~points_ledger.Ledger`. ``append`` and ``append_many`` (and any other
    attribute) raise :class:`ReadOnlyError` until :meth:`load_signers` has been called;
    then ``append(event)`` signs with the loaded keys unless signers are given.
    """

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._signers: list[Signer] = []

    @property
    def signers(self) -> tuple[Signer, ...]:
        """The signing keys loaded in this session."""
        return tuple(self._signers)

    @property
    def writable(self) -> bool:
        """True once at least one signing key is loaded."""
        return bool(self._signers)

    def load_signers(self, signers: Iterable[Signer]) -> None:
        """Add signing keys; from now on the session may write."""
        known = {s.key_id for s in self._signers}
        self._signers.extend(s for s in signers if s.key_id not in known)

    def _require_keys(self, what: str) -> None:
        if not self._signers:
            raise ReadOnlyError(f"ledger.{what} writes to the ledger; this session is read-only")

    def append(self, event: Event, signers: Iterable[SignerLike] | None = None) -> AppendResult:
        """Append ``event`` signed by ``signers`` (default: every loaded key).

        Raises:
            ReadOnlyError: if no keys are loaded.
            LedgerError: whatever the ledger refuses.
        """
        self._require_keys("append")
        return self._ledger.append(event, self._signers if signers is None else signers)

    def append_many(
        self, items: Iterable[tuple[Event, Iterable[SignerLike]]]
    ) -> list[AppendResult]:
        """Append ``(event, signers)`` pairs in one transaction.

        Raises:
            ReadOnlyError: if no keys are loaded.
            LedgerError: whatever the ledger refuses.
        """
        self._require_keys("append_many")
        return self._ledger.append_many(items)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in READ_ONLY_NAMES:
            self._require_keys(name)
        return getattr(self._ledger, name)

    def __dir__(self) -> list[str]:
        return sorted(READ_ONLY_NAMES | {"append", "append_many", "signers", "writable"})

    def __repr__(self) -> str:
        mode = "writable" if self.writable else "read-only"
        return f"<ledger {self._ledger.location!r} ({mode})>"


@dataclass(frozen=True)
class DotCommand:
    """A dot-command of the console.

    Attributes:
        name: The name without its dot, e.g. ``"balance"``.
        usage: Arguments as shown by ``.help``, e.g. ``"ACCOUNT [ASSET]"``.
        summary: One line saying what it does.
        run: Called with the console and the words after the name.
    """

    name: str
    usage: str
    summary: str
    run: Callable[[LedgerConsole, list[str]], None]


DOT_COMMANDS: dict[str, DotCommand] = {}
"""Every dot-command by name; add more with :func:`dot_command`."""


def dot_command(
    name: str, usage: str, summary: str
) -> Callable[
    [Callable[[LedgerConsole, list[str]], None]], Callable[[LedgerConsole, list[str]], None]
]:
    """Decorator registering a function ``run(console, args)`` as the dot-command ``.name``."""

    def register(
        run: Callable[[LedgerConsole, list[str]], None],
    ) -> Callable[[LedgerConsole, list[str]], None]:
        DOT_COMMANDS[name] = DotCommand(name=name, usage=usage, summary=summary, run=run)
        return run

    return register


class _UsageProblem(Exception):
    """A dot-command was called with the wrong arguments."""


def _asset(text: str) -> Asset:
    try:
        return Asset(text.upper())
    except ValueError as e:
        raise _UsageProblem(f"unknown asset {text!r}; use one of PTS, CNY") from e


def _count(args: Sequence[str], position: int, default: int) -> int:
    if len(args) <= position:
        return default
    text = args[position]
    # isdigit() alone accepts digits int() refuses ("²") and numbers too long to read.
    if not (text.isascii() and text.isdigit()) or len(text) > _COUNT_DIGITS_MAX:
        raise _UsageProblem(f"{text[:20]!r} is not a whole number")
    return int(text)


class LedgerConsole(code.InteractiveConsole):
    """An interactive Python console on one ledger, with dot-commands.

    Args:
        ledger: The opened ledger; the console does not close it.
        filename: Name shown in tracebacks.
    """

    def __init__(self, ledger: Ledger, *, filename: str = "<ledger>") -> None:
        self.ledger = ledger
        self.proxy = LedgerProxy(ledger)
        self.key_paths: dict[str, Path] = {}
        """Key id -> the file each loaded key came from."""

        def session_today() -> dt.date:
            """Today's date in Asia/Shanghai by the session's clock."""
            return today(ledger.clock)

        namespace: dict[str, Any] = {
            "__name__": "__console__",
            "__doc__": None,
            "dt": dt,
            "ledger": self.proxy,
            "today": session_today,
        }
        namespace.update({name: getattr(points_ledger, name) for name in points_ledger.__all__})
        super().__init__(namespace, filename)

    def push(self, line: str) -> bool:
        """Run a dot-command, or feed a line of Python to the interpreter.

        Returns:
            True when more input is needed to complete a Python statement.
        """
        stripped = line.strip()
        # ".5 + 1" is Python; a dot-command starts with a dot and a letter.
        if not self.buffer and re.match(r"\.[A-Za-z]", stripped):
            self.run_dot(stripped)
            return False
        if not self.buffer and stripped == ".":
            self.write("error [usage]: a dot-command needs a name\nhint: type .help\n")
            return False
        return super().push(line)

    def run_dot(self, line: str) -> None:
        """Run one dot-command line such as ``.balance vol:0001 PTS``; errors are printed."""
        name, *args = line[1:].split()
        command = DOT_COMMANDS.get(name)
        if command is None:
            self.write(f"error [usage]: unknown command .{name}\nhint: type .help\n")
            return
        try:
            command.run(self, args)
        except _UsageProblem as e:
            self.write(f"error [usage]: {e}\nhint: .{name} {command.usage}\n")
        except LedgerError as e:
            self.write(format_error(e))
        except (SystemExit, KeyboardInterrupt):
            raise
        except Exception:  # a bug in a dot-command must not end the session
            self.showtraceback()

    def showtraceback(self) -> None:
        """Show a ``LedgerError`` as ``error [code]: message``; anything else as a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, LedgerError):
            self.write(format_error(error))
            return
        super().showtraceback()

    def load_key_files(self, paths: Sequence[Path | str]) -> list[Signer]:
        """Load key files (passphrase from the environment or a hidden prompt).

        Raises:
            KeyFileError: if a file is missing, unsafe or malformed.
            WrongPassphraseError: if a passphrase does not open its file.
            CommandError: if no passphrase is set and standard input is not a terminal.
        """
        loaded = []
        for raw in paths:
            path = Path(raw)
            variables = (passphrase_env_name(path), PASSPHRASE_ENV)
            passphrase = next((os.environ[v] for v in variables if os.environ.get(v)), "")
            if not passphrase:
                check_key_file(path)  # a wrong path is named before a passphrase is typed
                passphrase = prompt_passphrase(
                    gettext("Passphrase for {path}").format(path=path),
                    needed_for=f"key file {path}",
                    variables=variables,
                )
            signer = load_signer(path, passphrase)
            self.key_paths[signer.key_id] = path
            loaded.append(signer)
        self.proxy.load_signers(loaded)
        return loaded


# -- the dot-commands ------------------------------------------------------------------


def _ledger(console: LedgerConsole) -> Ledger:
    # Dot-commands only read, so they use the ledger itself rather than the proxy.
    return console.ledger


@dot_command("help", "", "list the dot-commands")
def _help(console: LedgerConsole, args: list[str]) -> None:
    rows = [(f".{c.name} {c.usage}".rstrip(), gettext(c.summary)) for c in DOT_COMMANDS.values()]
    print(_table(["command", "what it does"], rows))
    print(
        gettext("Python works too: `ledger` and the public API (Transfer, Asset, ...) are ready.")
    )


@dot_command("balance", "ACCOUNT [ASSET]", "posted, pending and available balance")
def _balance(console: LedgerConsole, args: list[str]) -> None:
    if not 1 <= len(args) <= 2:
        raise _UsageProblem("give an account id and optionally an asset")
    assets = [_asset(args[1])] if len(args) == 2 else list(Asset)
    ledger = _ledger(console)
    print(balances_table(ledger.balance(args[0], asset) for asset in assets).text())


@dot_command("statement", "ACCOUNT [ASSET]", "postings with running balance (first 100)")
def _statement(console: LedgerConsole, args: list[str]) -> None:
    if not 1 <= len(args) <= 2:
        raise _UsageProblem("give an account id and optionally an asset")
    asset = _asset(args[1]) if len(args) == 2 else Asset.PTS
    lines = _ledger(console).statement(args[0], asset)
    print(statement_table(lines, asset).text())


@dot_command("entries", "[N]", f"the last N entries (default {ENTRIES_DEFAULT})")
def _entries(console: LedgerConsole, args: list[str]) -> None:
    count = _count(args, 0, ENTRIES_DEFAULT)
    ledger = _ledger(console)
    size = ledger.size()
    items = ledger.entries(max(0, size - count), size)
    print(entries_table(items).text())


@dot_command("verify", "", "check the whole file; stop at the first problem")
def _verify(console: LedgerConsole, args: list[str]) -> None:
    ledger = _ledger(console)
    ledger.verify()
    print(
        gettext("verify passed: {count} entries checked, no problems").format(
            count=f"{ledger.size():,}"
        )
    )


@dot_command("audit", "", "check the whole file and list every problem")
def _audit(console: LedgerConsole, args: list[str]) -> None:
    print(audit_text(_ledger(console).audit()))


@dot_command("keys", "PATH...", "load signing key files; the session may then write")
def _keys(console: LedgerConsole, args: list[str]) -> None:
    if not args:
        raise _UsageProblem("give one or more key files")
    ledger = _ledger(console)
    for signer in console.load_key_files(args):
        try:
            record = ledger.key(signer.key_id)
            about = f"roles {', '.join(r.value for r in record.roles)}"
            if record.revoked_at_seq is not None:
                about += f", revoked at entry {record.revoked_at_seq}"
        except NotFoundError:
            about = "not registered in this ledger"
        print(gettext("loaded key {key_id} ({about})").format(key_id=signer.key_id, about=about))
    print(gettext("ledger.append(event) now signs with the loaded keys."))


@dot_command("quit", "", "leave the console (also .exit or Ctrl-D)")
def _quit(console: LedgerConsole, args: list[str]) -> None:
    raise SystemExit(0)


DOT_COMMANDS["exit"] = DotCommand("exit", "", "leave the console", _quit)


def _log_key(console: LedgerConsole) -> Signer | None:
    log_public_key = _ledger(console).config.log_key
    return next((s for s in console.proxy.signers if s.public_key == log_public_key), None)


@dot_command(
    "checkpoint",
    "[LOG_KEY_FILE [RECORD_DIR]]",
    "check the file, then sign a checkpoint with the loaded log key",
)
def _checkpoint(console: LedgerConsole, args: list[str]) -> None:
    if len(args) > 2:
        raise _UsageProblem("give at most the log key file and the record folder")
    if args:
        console.load_key_files(args[:1])
    log_key = _log_key(console)
    if log_key is None:
        print(
            "A checkpoint is signed with the ledger's log key, which is not loaded in this\n"
            "session. Load it with .keys keys/log.key (or .checkpoint keys/log.key), then\n"
            "run .checkpoint again. The log key is kept apart from admin and issuer keys."
        )
        return
    key_path = console.key_paths.get(log_key.key_id)
    if len(args) == 2:
        record = Path(args[1])
    elif key_path is not None:
        record = key_path.with_name(f"{key_path.stem}.record")
    else:
        raise _UsageProblem("name the log key holder's record folder: .checkpoint KEY RECORD")
    signed = _ledger(console).checkpoint(log_key, record)
    print(f"checkpoint of {signed.size:,} entries; verifier key {_ledger(console).log_vkey()}")
    print(signed.note, end="")
    print(f"(every entry checked first; recorded in {record})")


@dot_command("receipt", "SEQ", "receipt JSON for an entry, and whether it verifies")
def _receipt(console: LedgerConsole, args: list[str]) -> None:
    if len(args) != 1:
        raise _UsageProblem("give the entry's seq")
    seq = _count(args, 0, 0)
    ledger = _ledger(console)
    receipt = ledger.receipt(seq)
    print(receipt.to_json())
    try:
        checked = verify_receipt(receipt.to_json(), ledger.log_vkey())
    except LedgerError as e:
        print(f"receipt does NOT verify: [{e.code}] {e.message}")
        return
    print(
        f"receipt verifies with the log's verifier key alone: entry {checked.seq} is in the "
        f"checkpoint of {checked.checkpoint_body.size:,} entries"
    )


@dot_command("report", "NAME [ARGS]", "a report (.report alone lists them)")
def _report(console: LedgerConsole, args: list[str]) -> None:
    if not args:
        print(reports_table().text())
        return
    try:
        view = run_report(_ledger(console), args[0], args[1:])
    except ReportArgsError as e:
        raise _UsageProblem(str(e)) from e
    print(view.title)
    print(_table(view.headers, view.rows, right=view.right))


# -- running -----------------------------------------------------------------------------


def install_completion(console: LedgerConsole) -> bool:
    """Enable tab completion of Python names and dot-commands, if ``readline`` exists.

    Returns:
        True if completion was installed.
    """
    try:
        import readline
    except ImportError:
        return False
    python = rlcompleter.Completer(console.locals)

    def complete(text: str, state: int) -> str | None:
        buffer = readline.get_line_buffer().lstrip()
        if buffer.startswith(".") and " " not in buffer:
            matches = sorted(f".{n}" for n in DOT_COMMANDS if f".{n}".startswith(text))
            return matches[state] if state < len(matches) else None
        return python.complete(text, state)

    readline.set_completer(complete)
    if "libedit" in (readline.__doc__ or ""):
        readline.parse_and_bind("bind ^I rl_complete")
    else:
        readline.parse_and_bind("tab: complete")
    return True


def run_repl(
    path: str | Path, *, key_paths: Sequence[str | Path] = (), clock: Clock = system_clock
) -> None:
    """Open the ledger at ``path`` and run the console until ``.quit`` or end of input.

    Args:
        path: The ledger file.
        key_paths: Key files to load at start; without them the session is read-only.
        clock: Where the session takes the current time from: entries' ``recorded_at``,
            ``today()`` and reports that need "now" (default: the system clock).

    Raises:
        StorageError: if the file is missing or not a ledger.
        KeyFileError: if a key file given in ``key_paths`` cannot be used.
        WrongPassphraseError: if a passphrase does not open its key file.
    """
    with Ledger.open(path, clock=clock) as ledger:
        console = LedgerConsole(ledger)
        if key_paths:
            console.load_key_files(key_paths)
        install_completion(console)
        mode = (
            gettext("keys loaded: writes allowed")
            if console.proxy.writable
            else gettext("read-only until you load keys with .keys PATH")
        )
        banner = gettext(
            "points-ledger {version} on {path} (origin {origin}, {count} entries)\n"
            "{mode}. Type .help for commands; `ledger` and the public API are ready."
        ).format(
            version=points_ledger.__version__,
            path=ledger.location,
            origin=ledger.origin,
            count=f"{ledger.size():,}",
            mode=mode,
        )
        saved = getattr(sys, "ps1", None), getattr(sys, "ps2", None)
        sys.ps1, sys.ps2 = "ledger> ", "   ...> "
        try:
            console.interact(banner=banner, exitmsg="bye")
        except SystemExit:
            print("bye")
        finally:
            _restore_prompts(*saved)


def _restore_prompts(ps1: object, ps2: object) -> None:
    for name, value in (("ps1", ps1), ("ps2", ps2)):
        if value is None:
            if hasattr(sys, name):
                delattr(sys, name)
        else:
            setattr(sys, name, value)
