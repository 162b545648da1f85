"""Languages of the faces (command line, REPL, demo): English and Simplified Chinese.

The library API speaks English: every :class:`~points_ledger.errors.LedgerError` keeps its
English ``message`` and ``hint`` and its language-neutral ``code``, so programs can log and
match on them. Translation happens only at the presentation edge: the command line, the
REPL and the demo call :func:`gettext` (and :func:`translate_error` for errors) on what
they print.

The language comes from ``--lang zh|en`` or, without it, from the locale variables
``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` (the first one set wins, as in POSIX): a value
starting ``zh`` chooses Chinese, anything else English.

Catalogues are standard gettext catalogues kept as ``.po`` sources in the package
(``points_ledger/locale/<lang>/LC_MESSAGES/points_ledger.po``) and managed with Babel
(``python scripts/update_catalogue.py``). They are compiled in memory with Babel's
``read_po``/``write_mo`` the first time a language is used, so an editable install and a
built wheel behave the same and no build step can be forgotten. Numbers and dates are
formatted from CLDR data by Babel.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import gettext as _gettext
import io
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import resources
from typing import Final

from babel import Locale
from babel.dates import format_date as _babel_format_date
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from points_ledger.errors import LedgerError

__all__ = [
    "CODE_LABELS",
    "DOMAIN",
    "ERROR_MESSAGES",
    "ERROR_SUMMARIES",
    "ERROR_WORDING_COMMENT",
    "LABELLED_COLUMNS",
    "LANGUAGES",
    "LANGUAGE_ENV_VARIABLES",
    "N_",
    "OS_ERROR_SUMMARIES",
    "WORKING_LINES",
    "WORKING_TABLE_HEADERS",
    "catalogue_source",
    "current_language",
    "error_wordings",
    "format_date",
    "format_number",
    "gettext",
    "label",
    "label_rows",
    "language_from_environment",
    "normalize_language",
    "set_language",
    "translate_error",
    "translate_message",
    "translate_problem",
    "translate_working",
    "translation",
    "use_language",
]

DOMAIN: Final = "points_ledger"
"""The gettext domain of the catalogues (``points_ledger.po``)."""

LANGUAGES: Final = ("en", "zh_CN")
"""The languages the faces speak; ``en`` is the source language of every message."""

LANGUAGE_ENV_VARIABLES: Final = ("LC_ALL", "LC_MESSAGES", "LANG")
"""Locale variables read, in this order, when no ``--lang`` is given."""

_current: ContextVar[str] = ContextVar("points_ledger_language", default="en")


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it now."""
    return message


ERROR_SUMMARIES: Final[Mapping[str, str]] = {
    "ledger_error": N_("The ledger refused the request"),
    "command_failed": N_("The command cannot be carried out"),
    "invalid_event": N_("A value is not valid"),
    "effective_date_out_of_range": N_("The business date is outside the allowed window"),
    "entry_conflict": N_("This event id was already used for something else"),
    "bad_signature": N_("A signature does not check out"),
    "unknown_key": N_("The key is not registered in this ledger"),
    "key_revoked": N_("The key has been revoked"),
    "not_authorized": N_("The keys given may not sign this"),
    "unknown_account": N_("No such account"),
    "account_exists": N_("The account already exists"),
    "insufficient_balance": N_("Not enough balance"),
    "already_reversed": N_("The entry has already been reversed"),
    "limit_exceeded": N_("A limit would be exceeded"),
    "not_found": N_("Not found"),
    "key_file_unsafe": N_("The key file cannot be used"),
    "wrong_passphrase": N_("Wrong passphrase"),
    "integrity_failure": N_("Integrity check failed"),
    "proof_invalid": N_("The proof does not check out"),
    "storage_error": N_("The ledger file cannot be used"),
    "schema_version": N_("The ledger file is of another version"),
    "extra_not_installed": N_("An optional part is not installed"),
    "wrong_thread": N_("The ledger was opened in another thread"),
    "note_invalid": N_("The signed note is not valid"),
    "split_invalid": N_("The split is not valid"),
    "checkpoint_rollback": N_("The checkpoint goes backwards"),
    "equivocation": N_("Two different checkpoints for the same size"),
    "duplicate_task": N_("Points were already paid for this task"),
    "out_of_stock": N_("Out of stock"),
    "price_changed": N_("The price has changed"),
    "hold_expired": N_("The voucher has expired"),
    "hold_not_pending": N_("The voucher is no longer pending"),
    "event_expired": N_("The event has expired"),
    "log_record_invalid": N_("The log key holder's record does not check out"),
    "usage": N_("The command line is not right"),
    "interrupted": N_("Stopped"),
    "output_failed": N_("The output could not be written"),
    "read_only": N_("Read-only: no keys are loaded"),
}
"""A short, translatable summary of each error ``code``, shown before the detail.

A code missing here falls back to ``ledger_error``'s summary.
"""

OS_ERROR_SUMMARIES: Final[Mapping[int, str]] = {
    errno.ENOENT: N_("there is no such file or folder"),
    errno.EACCES: N_("permission denied: this user may not use it"),
    errno.ENOSPC: N_("the disk is full"),
    errno.EROFS: N_("the disk is read-only"),
    errno.EISDIR: N_("it is a folder, not a file"),
}
"""A plain summary of the commonest refusals of the operating system, by ``errno``.

A message quoting the system's own text for one of them (``os.strerror``, as in
``cannot read key file k.key: No such file or directory``) shows the summary in the
current language with the system's text after it, kept word for word.
"""

_OS_ERROR_DETAIL: Final = N_("{summary} ({detail})")
_OS_ERROR_CODE: Final = re.compile(r"\[Errno (\d+)\] .*", re.DOTALL)


ERROR_MESSAGES: Final[tuple[str, ...]] = (
    # Accounts and keys.
    N_("account '{account}' has not been opened"),
    N_("account '{account}' is already open"),
    N_(
        "account '{account}' has {available} {asset} available; this needs {needed}",
    ),
    N_(
        "account '{account}' has {available} CNY available; the distribution needs {needed}",
    ),
    N_("key {key_id} is not registered in this ledger"),
    N_("key {key_id} was revoked at entry {seq}"),
    N_("the passphrase does not open key file {path} (the passphrase was read from {source})"),
    N_("the passphrase does not open key file {path}"),
    N_("Set {variable} to the passphrase of {path}; each key file may have its own passphrase."),
    N_("Correct {variable}; each key file may have its own passphrase."),
    N_("key file {path} was not found"),
    N_("key file {path} already exists"),
    N_("key file {path} can be read or written by other users (mode {mode})"),
    # Who signs.
    N_("{requirement}; got {count}"),
    N_("{first}; and {rest}"),
    N_("either {first}, or {rest}"),
    N_("{first}, or {rest}"),
    N_("needs a signature from a key with the {role} role"),
    N_("needs signatures from {count} different people with the {role} role"),
    N_("needs a signature from a {roles} key owned by account '{account}'"),
    N_("needs a signature from a key owned by account '{account}'"),
    N_("must not be signed by a key owned by account '{account}'"),
    N_("account '{account}' may not authorise this event for itself"),
    # Event ids and dates.
    N_("event id '{event_id}' was already used by entry {seq} for different content"),
    N_(
        "event '{event_id}' is dated {date}, after {latest}; an entry recorded on {today} "
        "(Asia/Shanghai) may be dated at most one day ahead"
    ),
    N_(
        "event '{event_id}' is dated {date}, before {earliest}; this ledger accepts dates at "
        "most {days} days before the day an entry is recorded ({today}, Asia/Shanghai)"
    ),
    N_("Check the date (a mistyped year?). Record future duties on their day."),
    # Awards.
    N_("task '{task}' of service '{service}' was already paid by entry {seq}"),
    N_("'{account}' would earn {total} points from '{service}' on {day}; the cap is {cap}"),
    N_("'{account}' would earn {total} points from '{service}' in {month}; the cap is {cap}"),
    # The points mall.
    N_("{quantity} x '{item}' costs {expected} points now; the member agreed to {agreed}"),
    N_("offer '{offer}' has {stock} item(s) left unreserved; this hold asks for {asked}"),
    N_("'{member}' already has {count} open holds (at most {limit})"),
    N_("Confirm or void an open voucher first."),
    N_("offer '{offer}' has {count} open holds (at most {limit})"),
    N_("voucher {voucher} is already {status} (entry {seq})"),
    N_("voucher {voucher} expired before it was confirmed"),
    N_("partner '{partner}' has {count} unsettled redemptions (at most {limit})"),
    N_("Settle the partner first (points-ledger settle, or a SettlePartner event)."),
    N_("'{partner}' is already an alliance partner"),
    # Revenue.
    N_(
        "period '{period}' has {left} CNY of revenue left to distribute; this distribution "
        "asks for {amount}"
    ),
    # The command line's own usage errors (click words them).
    N_("Missing option '{name}'."),
    N_("Missing argument '{name}'."),
    N_("No such option '{name}'."),
    N_("No such option '{name}'. Did you mean {choice}?"),
    N_("No such option '{name}'. (Did you mean one of: {choices}?)"),
    N_("No such command '{name}'."),
    N_("No such command '{name}'. Did you mean {choice}?"),
    N_("No such command '{name}'. (Did you mean one of: {choices}?)"),
    N_("Got unexpected extra argument ({args})"),
    N_("Got unexpected extra arguments ({args})"),
    N_("Invalid value for '{name}': {detail}"),
    N_("'{value}' is not {choice}."),
    N_("'{value}' is not one of {choices}."),
    # The command line's date parser (cli.dates), inside a usage error.
    N_("'{text}' is not a date in the form YYYY-MM-DD"),
    # A value an event's fields refuse (models.common.describe_validation_error); what an
    # id pattern allows is in the catalogue word for word (scripts/update_catalogue.py).
    N_("{event}: {field}: {value} is not allowed here; use {allowed}"),
    N_("{event}: {field}: must not be empty"),
    N_("{event}: {field}: is required"),
    N_("{event}: {field}: is not a field of this record"),
    # Audit findings.
    N_(
        "one admin may act alone on this ledger (admin threshold {threshold}): that admin can "
        "open accounts, register first keys, seat the first committee and reverse entries "
        "without anyone else signing"
    ),
    # Files the command line writes.
    N_("{path} already exists; a file is never overwritten"),
    N_("Choose another --output path or move the old file away."),
    N_("Choose another file name or move the old file away."),
)
"""Error messages and hints built from particulars that the faces translate.

Each is an English wording with its particulars (account ids, amounts, dates, paths) as
``{name}`` fields. The wordings written where the library raises its errors are collected
from the source into the catalogue by ``scripts/update_catalogue.py`` (see
:func:`error_wordings`); these are the ones no raise site words: click's own usage errors,
audit findings, the parts of a signing requirement, and the counter's messages in the
wording their tests read them by. :func:`translate_problem` matches a message against all
of them, translates the wording and fills the same particulars back in. A particular that
is itself one of these wordings (a signing requirement inside "...; got 1") is translated
too. A message that matches none is shown after the translated summary of its code.
"""

CODE_LABELS: Final[tuple[str, ...]] = (
    # What an entry records (its event type).
    N_("adopt_split_policy"),
    N_("award_points"),
    N_("confirm_redemption"),
    N_("define_service"),
    N_("delist_offer"),
    N_("distribute"),
    N_("donate"),
    N_("genesis"),
    N_("grant"),
    N_("hold_redemption"),
    N_("join_alliance"),
    N_("list_offer"),
    N_("open_account"),
    N_("record_revenue"),
    N_("record_roster"),
    N_("recover_key"),
    N_("register_key"),
    N_("reverse"),
    N_("revoke_key"),
    N_("set_settlement_rate"),
    N_("settle_partner"),
    N_("transfer"),
    N_("update_offer"),
    N_("void_redemption"),
    # Kinds of account.
    N_("member"),
    N_("partner"),
    N_("pool"),
    N_("fund"),
    N_("beneficiary"),
    N_("shareholder"),
    N_("investor"),
    N_("issuer"),
    N_("external"),
    # Roles of keys.
    N_("admin"),
    N_("committee"),
    N_("treasurer"),
    # States of a voucher, and yes or no in a table.
    N_("pending"),
    N_("confirmed"),
    N_("voided"),
    N_("expired"),
    N_("yes"),
    N_("no"),
)
"""The codes shown to people in tables and messages: entry kinds, account kinds, roles,
voucher states.

Each code is its own msgid, so English shows the code as it always did and a program
reading JSON still gets the code; :func:`label` gives the word people read.
"""

WORKING_LINES: Final[tuple[str, ...]] = (
    N_("# Distribution by policy '{policy}', contract year {year}"),
    N_("# Distribution by policy '{policy}'"),
    N_("Amount distributed: {amount}"),
    N_(
        "- Contract year {year} of {years}: the investor ({account}) takes {share} = "
        "{percent}% of the profit, rounded by largest remainder; the village keeps the rest."
    ),
    N_(
        "- Policy '{policy}' splits {weights} among buckets {buckets}; rounding happens at "
        "each level by largest remainder: first among buckets, then within each bucket."
    ),
    N_("Step {number} of {count}"),
    N_("== investor share for contract year {year} =="),
    N_("== policy {policy}: amount among buckets =="),
    N_("== bucket {bucket} (pro rata by shares) =="),
    N_("== bucket {bucket} (per capita, equal weights) =="),
    N_("Amount to split: {amount}"),
    N_("Total weight: {weight}; each quota is {amount} x weight / {divisor}."),
    N_("Sum of floors: {floors}; leftover units: {leftover}."),
    N_("No leftover units: every quota's floor already adds up to the amount."),
    N_(
        "Leftover units go one each to the largest remainders; equal remainders are served "
        "in recipient id order (A to Z)."
    ),
    N_(
        "unit {rank}: {recipient} - remainder {fraction} ({decimal}), tied with {ties} "
        "other(s), earlier id first"
    ),
    N_("unit {rank}: {recipient} - remainder {fraction} ({decimal})"),
    N_("next in line, received none: {recipient} - remainder {fraction} ({decimal})"),
    N_("Check: parts add up to {total} = amount {amount}."),
    N_("Summary"),
    N_("{yuan} yuan ({fen} fen)"),
)
"""The lines of a distribution's printed working (``DistributionTrace.to_text()``), by
wording, for :func:`translate_working`. The working's tables keep their English column
names, so that their columns stay aligned."""

WORKING_TABLE_HEADERS: Final[tuple[str, ...]] = (
    N_("recipient"),
    N_("weight"),
    N_("exact quota"),
    N_("quota (decimal)"),
    N_("floor"),
    N_("remainder"),
    N_("extra"),
    N_("amount"),
)
"""The column headers of each table in a distribution's working, translated by
:func:`translate_working` (the table is realigned for the translated headers)."""
_WORKING_HEADER_WORDS: Final = " ".join(WORKING_TABLE_HEADERS).split()

_MONEY = re.compile(r"(-?[0-9][0-9,]*\.[0-9]{2}) yuan \((-?[0-9][0-9,]*) fen\)")
_SUMMARY_ROW = re.compile(r"^(  )(investor \S+|bucket \S+|total)(\s+)(.*)$")

_CODES: Final = frozenset(CODE_LABELS)
_CODE_WORDINGS: Final[dict[str, str]] = {
    # The same word as a balance column's header, where it means points on hold.
    "pending": N_("pending (a voucher not yet confirmed or voided)"),
}
"""Codes whose label is looked up under a wording of their own, apart from a header."""
_CODE_FIELDS: Final = frozenset(
    {"kind", "role", "roles", "names", "value", "allowed", "reversible_kinds", "status"}
)
"""Fields of error wordings that may hold codes (``'{account}' is a {value} account``)."""
_FIELD = re.compile(r"(?<!\{)\{([a-z_][a-z0-9_]*)\}")
_COMBINED: Final = frozenset({"first", "rest", "requirement"})
"""Fields of wordings made of wordings: such a wording applies only when these translate."""
_NESTING_MAX: Final = 8
_COMBINING: Final = frozenset(w for w in ERROR_MESSAGES if set(_FIELD.findall(w)) & _COMBINED)
"""The wordings of :data:`ERROR_MESSAGES` made of wordings (``"{first}; and {rest}"``)."""

ERROR_WORDING_COMMENT: Final = "error wording: its fields are filled with the particulars"
"""The extracted comment (``#.``) that marks an error wording in a catalogue.

``scripts/update_catalogue.py`` writes it on every wording taken from a place where an
error is raised (an f-string message or hint, its fields named after what they show) and
on each of :data:`ERROR_MESSAGES`; :func:`error_wordings` reads the wordings back."""


@functools.cache
def _patterns(wordings: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    compiled = []
    for template in wordings:
        seen: set[str] = set()
        regex = ""
        for i, part in enumerate(_FIELD.split(template)):
            if i % 2 == 0:
                regex += re.escape(part.replace("{{", "{").replace("}}", "}"))
            else:  # a field shown twice shows the same particular twice
                # "what" names a kind of file or value, and is read as long as it can be
                # ("checkpoint note notes/7.txt": the note, not a checkpoint "note notes/…").
                lazy = "" if part == "what" else "?"
                regex += f"(?P={part})" if part in seen else f"(?P<{part}>.+{lazy})"
                seen.add(part)
        compiled.append((re.compile(regex, re.DOTALL), template))
    return tuple(compiled)


def _literal_length(template: str) -> int:
    return len(_FIELD.sub("", template))


@functools.cache
def error_wordings(language: str) -> tuple[str, ...]:
    """The error wordings the catalogue of ``language`` translates, most specific first.

    Each is the English wording of a message or hint as the library raises it, with its
    particulars as ``{name}`` fields: every wording marked with
    :data:`ERROR_WORDING_COMMENT` in the catalogue, and :data:`ERROR_MESSAGES`. They are
    ordered by the length of their literal text, longest first, so that a message fitting
    two wordings is read by the more specific one. English has none (nothing to translate).
    """
    catalog = _catalogue(normalize_language(language))
    if catalog is None:
        return ()
    marked = {
        message.id
        for message in catalog
        if isinstance(message.id, str) and ERROR_WORDING_COMMENT in message.auto_comments
    }
    wordings = marked | set(ERROR_MESSAGES)
    return tuple(sorted(wordings, key=lambda w: (-_literal_length(w), w)))


def _translate_built(
    text: str, depth: int = 0, wordings: tuple[str, ...] | None = None
) -> str | None:
    """``text`` translated through ``wordings`` (default: :func:`error_wordings`), or None."""
    if depth > _NESTING_MAX:
        return None
    chosen = error_wordings(current_language()) if wordings is None else wordings
    fallback: str | None = None
    for pattern, template in _patterns(chosen):
        found = pattern.fullmatch(text)
        if found is None:
            continue
        translated = gettext(template)
        if translated == template:
            continue
        values: dict[str, str] = {}
        swallowed = False
        for name, value in found.groupdict().items():
            if wordings is None and (system := _os_error(value)) is not None:
                values[name] = system
                continue
            # A whole sentence inside a message (a wrapped error) may be known word for word.
            known = " " in value or name == "what"  # "what": the kind of file or value named
            exact = gettext(value) if wordings is None and known else value
            inner = exact if exact != value else _translate_built(value, depth + 1, wordings)
            if inner is None and name in _COMBINED and template in _COMBINING:
                break
            # A code field read as a wording has taken in text after the codes (the
            # "(usage: ...)" of a wrapping message): a shorter wording may fit better.
            swallowed |= inner is not None and name in _CODE_FIELDS and exact == value
            if inner is None:
                inner = _label(value) if wordings is None and name in _CODE_FIELDS else value
            values[name] = inner
        else:
            result = translated.format(**values)
            if not swallowed:
                return result
            fallback = fallback or result
    return fallback


def _os_error(detail: str) -> str | None:
    """The system's text of a refusal in :data:`OS_ERROR_SUMMARIES`, after its summary."""
    code = next((c for c in OS_ERROR_SUMMARIES if os.strerror(c) == detail), None)
    if code is None and (found := _OS_ERROR_CODE.fullmatch(detail)) is not None:
        code = int(found.group(1))
    if code is None or code not in OS_ERROR_SUMMARIES:
        return None
    summary = gettext(OS_ERROR_SUMMARIES[code])
    return gettext(_OS_ERROR_DETAIL).format(summary=summary, detail=detail)


def label(code: str) -> str:
    """A code of :data:`CODE_LABELS` as people read it in the current language.

    ``award_points``, ``member``, ``committee`` give their labels; a list of codes
    (``"admin, committee"``) is labelled code by code; any other text comes back as
    written, and so does everything in English.
    """
    if current_language() == "en" or not code:
        return code
    for separator in (", ", ","):
        if separator in code:
            parts = code.split(separator)
            if all(part in _CODES for part in parts):
                return "、".join(_code_label(part) for part in parts)
    return _code_label(code) if code in _CODES else code


def _code_label(code: str) -> str:
    return gettext(_CODE_WORDINGS.get(code, code))


LABELLED_COLUMNS: Final = frozenset({"kind", "role", "roles", "status", "listed", "expired"})
"""Table columns (by English header) that hold codes people read by their label."""


def label_rows(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[list[object]]:
    """``rows`` of a table with the codes of its :data:`LABELLED_COLUMNS` labelled.

    Args:
        headers: The table's English headers (``"kind"``), before translation.
        rows: The cells; other columns are kept as they are (numbers stay numbers).
    """
    coded = {i for i, header in enumerate(headers) if header in LABELLED_COLUMNS}
    return [
        [label(str(cell)) if i in coded else cell for i, cell in enumerate(row)] for row in rows
    ]


def _label(value: str) -> str:
    """A code-holding field's particular as shown: a quoted or bare code gets its label."""
    if len(value) > 2 and value[0] == value[-1] == "'" and value[1:-1] in _CODES:
        return label(value[1:-1])
    return label(value)


def normalize_language(value: str) -> str:
    """The supported language a locale name or ``--lang`` value means.

    ``zh``, ``zh_CN``, ``zh_CN.UTF-8``, ``zh-Hans`` give ``zh_CN``; anything else
    (``en_US.UTF-8``, ``C``, ``POSIX``, empty) gives ``en``.
    """
    return "zh_CN" if value.strip().lower().startswith("zh") else "en"


def language_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language the locale variables choose (see :data:`LANGUAGE_ENV_VARIABLES`).

    Args:
        environ: The environment to read (default: ``os.environ``).
    """
    source = os.environ if environ is None else environ
    for name in LANGUAGE_ENV_VARIABLES:
        value = source.get(name, "")
        if value:
            return normalize_language(value)
    return "en"


def catalogue_source(language: str) -> str:
    """The text of the ``.po`` catalogue shipped for ``language`` (not for ``en``).

    Raises:
        FileNotFoundError: if no catalogue ships for ``language``.
    """
    path = resources.files("points_ledger").joinpath(
        "locale", language, "LC_MESSAGES", f"{DOMAIN}.po"
    )
    return path.read_text(encoding="utf-8")


@functools.cache
def _catalogue(language: str) -> Catalog | None:
    """The parsed catalogue of ``language`` (None for English or a lost catalogue)."""
    if language == "en":
        return None
    try:
        source = catalogue_source(language)
    except FileNotFoundError:
        # An installation that lost its catalogue still works, in English.
        return None
    return read_po(io.StringIO(source))


@functools.cache
def translation(language: str) -> _gettext.NullTranslations:
    """The compiled translations for ``language`` (English: messages pass through).

    The ``.po`` source is parsed and compiled in memory once per process.
    """
    catalog = _catalogue(normalize_language(language))
    if catalog is None:
        return _gettext.NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def set_language(language: str) -> None:
    """Make the faces speak ``language`` (``en``, ``zh``, ``zh_CN``, a locale name)."""
    _current.set(normalize_language(language))


@contextmanager
def use_language(language: str) -> Iterator[str]:
    """Speak ``language`` inside the ``with`` block, then the language before it.

    Yields:
        The supported language chosen (``en`` or ``zh_CN``).
    """
    token = _current.set(normalize_language(language))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def current_language() -> str:
    """The language the faces speak now (``en`` or ``zh_CN``)."""
    return _current.get()


def gettext(message: str) -> str:
    """``message`` in the current language (itself when the catalogue lacks it)."""
    if not message:
        return message
    return translation(current_language()).gettext(message)


def translate_error(error: LedgerError) -> tuple[str, str]:
    """The message and hint of ``error`` as the current language shows them.

    A message or hint the catalogue knows word for word is translated. One built from
    particulars (account ids, amounts) in one of :func:`error_wordings` is translated
    with the same particulars. Any other message is shown after a translated
    summary of its code, in the library's English, so nothing it says is lost. In English
    both come back unchanged.
    """
    return translate_problem(error.code, error.message, error.hint)


def translate_problem(code: str, message: str, hint: str) -> tuple[str, str]:
    """Like :func:`translate_error`, for a problem given as code, message and hint."""
    if current_language() == "en":
        return message, hint
    summary = gettext(ERROR_SUMMARIES.get(code, ERROR_SUMMARIES["ledger_error"]))
    translated = gettext(message)
    if translated == message:
        built = _translate_built(message)
        detail = message if built is None else built
        translated = gettext("{summary}: {detail}").format(summary=summary, detail=detail)
    hint_translated = gettext(hint) if hint else hint
    if hint and hint_translated == hint:
        hint_translated = _translate_built(hint) or hint
    return translated, hint_translated


def translate_message(text: str) -> str:
    """A message in the current language, or as written if no translation fits.

    Word for word from the catalogue, or through :func:`error_wordings` with its
    particulars kept. For texts shown without an error code (audit problems and findings).
    """
    if current_language() == "en" or not text:
        return text
    translated = gettext(text)
    if translated != text:
        return translated
    return _translate_built(text) or text


def translate_working(text: str) -> str:
    """A distribution's printed working in the current language, line by line.

    Each line (without its indentation) in a wording of :data:`WORKING_LINES` is
    translated with its particulars (ids, amounts, fractions) as they are; amounts
    ``X yuan (Y fen)`` and the summary's labels (``investor ACCOUNT``, ``bucket NAME``,
    ``total``) are translated where they stand; the tables get translated column
    headers (see :data:`WORKING_TABLE_HEADERS`) and are realigned, their cells as
    written; anything else stays as written, so every figure is still there. In
    English the text comes back unchanged.
    """
    if current_language() == "en":
        return text
    money = gettext("{yuan} yuan ({fen} fen)")
    out = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.split() == _WORKING_HEADER_WORDS:
            block = [line]
            while index < len(lines) and lines[index].startswith("  "):
                block.append(lines[index])
                index += 1
            out.extend(_working_table(block))
            continue
        row = _SUMMARY_ROW.match(line)
        if row is not None:
            kind, _space, name = row.group(2).partition(" ")
            if kind == "investor":
                label = gettext("investor {account}").format(account=name)
            elif kind == "bucket":
                label = gettext("bucket {name}").format(name=name)
            else:
                label = gettext("total")
            line = f"{row.group(1)}{label}{row.group(3)}{row.group(4)}"
        else:
            body = line.lstrip(" ")
            translated = _translate_built(body, wordings=WORKING_LINES)
            if translated is not None:
                line = line[: len(line) - len(body)] + translated
        out.append(_MONEY.sub(lambda m: money.format(yuan=m.group(1), fen=m.group(2)), line))
    return "\n".join(out)


def _working_table(block: list[str]) -> list[str]:
    """A working's table (header line and rows) with translated headers, realigned.

    The working writes the first column left-aligned and the others right-aligned, two
    spaces apart, so each column ends where its header ends; the cells are read back
    by those ends and every figure is kept as written.
    """
    header = block[0]
    ends: list[int] = []
    cursor = 0
    for name in WORKING_TABLE_HEADERS:
        start = header.index(name, cursor)
        cursor = start + len(name)
        ends.append(cursor)
    rows: list[list[str]] = []
    for line in block[1:]:
        padded = line.ljust(ends[-1])
        first = padded.split()[0]
        starts = [0, 2 + len(first), *ends[1:-1]]  # the first column is left-aligned
        cells = [first]
        cells += [padded[starts[i] : ends[i]].strip() for i in range(1, len(ends))]
        rows.append(cells)
    table = [[gettext(h) for h in WORKING_TABLE_HEADERS], *rows]
    widths = [max(_display_width(r[i]) for r in table) for i in range(len(ends))]
    out = []
    for row in table:
        cells = [row[0] + " " * (widths[0] - _display_width(row[0]))]
        cells += [
            " " * (widths[i] - _display_width(cell)) + cell
            for i, cell in enumerate(row[1:], start=1)
        ]
        out.append("  " + "  ".join(cells).rstrip())
    return out


def _display_width(text: str) -> int:
    # Wide and full-width characters (CJK) take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _babel_locale() -> Locale:
    return Locale.parse("zh_Hans_CN" if current_language() == "zh_CN" else "en_US")


def format_number(value: int | str, *, decimals: int = 0) -> str:
    """A number with CLDR grouping for the current language (``1,234`` / ``12.50``).

    Args:
        value: An integer, or a decimal text such as ``"12.50"`` (never a float).
        decimals: Digits always shown after the decimal point.
    """
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return str(format_decimal(value, format=pattern, locale=_babel_locale()))


def format_date(value: dt.date) -> str:
    """A date written out for the current language (``Nov 2, 2026`` / ``2026年11月2日``)."""
    return str(_babel_format_date(value, format="medium", locale=_babel_locale()))
