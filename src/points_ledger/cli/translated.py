"""Help screens in the language chosen by ``--lang`` or the locale.

click reads help text when a command is declared, before anyone has chosen a language, so
the text is translated when it is shown instead: :class:`TranslatedCommand` and
:class:`TranslatedGroup` look up their own help, their short help in the command list and
every option's help in the catalogue (:func:`points_ledger.i18n.gettext`), and
:class:`TranslatedFormatter` translates the section headings. The English text written in
the command modules is the catalogue's ``msgid``; ``scripts/update_catalogue.py`` collects
it with :func:`help_messages`.
"""

from __future__ import annotations

import copy
import inspect
import unicodedata
from collections.abc import Iterable, Iterator

import click
import click.formatting

from points_ledger.i18n import N_, current_language, gettext

__all__ = [
    "TYPE_WORDS",
    "TranslatedCommand",
    "TranslatedContext",
    "TranslatedFormatter",
    "TranslatedGroup",
    "help_messages",
]

# click's own words on a help screen, in the catalogue with the commands' help.
_CLICK_WORDS = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("env var: {var}"),
    N_("default: {default}"),
    N_("required"),
)

TYPE_WORDS = (
    N_("TEXT"),
    N_("INTEGER"),
    N_("INTEGER RANGE"),
    N_("FLOAT"),
    N_("FLOAT RANGE"),
    N_("FILE"),
    N_("FILENAME"),
    N_("DIRECTORY"),
    N_("PATH"),
    N_("PATH|URL"),
    N_("BOOLEAN"),
    N_("[OPTIONS]"),
    N_("COMMAND [ARGS]..."),
)
"""click's names for what an option takes (``--memo TEXT``), the same words given by
hand (``--key FILE``) and click's usage-line words, shown in the current language; any
other metavar (``YYYY-MM-DD``) stays as written."""


def _help_text(help_text: str | None) -> str:
    """The part of a docstring click shows: cleaned, up to a form feed."""
    if not help_text:
        return ""
    return inspect.cleandoc(help_text).partition("\f")[0]


def _first_sentence(text: str, limit: int) -> str:
    """The first sentence of the first paragraph, for the command list."""
    paragraph = text.split("\n\n", 1)[0].replace("\n", " ")
    if current_language() == "zh_CN":
        head, mark, _rest = paragraph.partition("。")
        return head if mark else paragraph
    words = paragraph.split()
    sentence: list[str] = []
    for word in words:
        sentence.append(word)
        if word.endswith("."):
            break
    text = " ".join(sentence)
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    if len(text) > limit:
        text = text[: max(limit - 3, 0)].rsplit(" ", 1)[0] + "..."
    return text


class TranslatedFormatter(click.HelpFormatter):
    """A help formatter that translates ``Usage:`` and the section headings."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        """Write the usage line with a translated ``Usage:`` prefix."""
        if prefix is None:
            prefix = gettext("Usage:") + " "
        super().write_usage(prog, args, prefix)

    def write_heading(self, heading: str) -> None:
        """Write a section heading (``Options``, ``Commands``) in the current language."""
        super().write_heading(gettext(heading))

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        """Write a definition list (options, commands) aligned by display width.

        As click does, but a term in Chinese (``--memo 文本``) takes two terminal columns
        per character, so the second column still lines up.
        """
        listed = list(rows)
        first_col = min(max((_width(first) for first, _ in listed), default=0), col_max)
        first_col += col_spacing
        indent = " " * self.current_indent
        for first, second in listed:
            self.write(f"{indent}{first}")
            if not second:
                self.write("\n")
                continue
            if _width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - _width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            text_width = max(self.width - first_col - 2, 10)
            lines = click.formatting.wrap_text(
                second, text_width, preserve_paragraphs=True
            ).splitlines()
            self.write(f"{lines[0]}\n" if lines else "\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


def _width(text: str) -> int:
    # Wide and full-width characters (CJK) take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class TranslatedContext(click.Context):
    """A click context whose help screens use :class:`TranslatedFormatter`."""

    formatter_class = TranslatedFormatter


class _Translating(click.Command):
    """Help text, short help and option help looked up in the catalogue when shown."""

    context_class = TranslatedContext

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the command's translated help text."""
        text = gettext(_help_text(self.help))
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def get_short_help_str(self, limit: int = 45) -> str:
        """The translated one-line summary shown in the parent's command list."""
        if self.short_help:
            return gettext(self.short_help)
        return _first_sentence(gettext(_help_text(self.help)), limit)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the options, their bracketed defaults and ``required`` translated too.

        click words the brackets with its own message domain, which knows no Chinese;
        they are worded here from the option's facts (``get_help_extra``) instead.
        """
        records = []
        for param in self.get_params(ctx):
            if isinstance(param, click.Option) and not param.hidden:
                records.append((param.get_help_spec(ctx), _option_help(param, ctx)))
        if records:
            with formatter.section(gettext("Options")):
                formatter.write_dl(records)
        if isinstance(self, click.Group):
            # click.Group lists its commands from its own format_options, replaced here.
            self.format_commands(ctx, formatter)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        """The parameters, with their help translated (copies; the declarations stay)."""
        params = []
        for param in super().get_params(ctx):
            help_text = getattr(param, "help", None)
            if help_text:
                param = copy.copy(param)
                param.help = gettext(help_text)
            if isinstance(param, click.Option):
                metavar = param.make_metavar(ctx)
                word = metavar.removesuffix("...")
                if word in TYPE_WORDS and gettext(word) != word:
                    param = copy.copy(param)
                    param.metavar = gettext(word) + metavar[len(word) :]
            params.append(param)
        return params

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        """The usage line's pieces, click's own words (``[OPTIONS]``) translated."""
        return [gettext(p) if p in TYPE_WORDS else p for p in super().collect_usage_pieces(ctx)]


def _option_help(option: click.Option, ctx: click.Context) -> str:
    """An option's (already translated) help with its bracketed facts in the language."""
    extra = option.get_help_extra(ctx)
    items = []
    if "envvars" in extra:
        items.append(gettext("env var: {var}").format(var=", ".join(extra["envvars"])))
    if "default" in extra:
        items.append(gettext("default: {default}").format(default=extra["default"]))
    if "range" in extra:
        items.append(extra["range"])
    if "required" in extra:
        items.append(gettext("required"))
    text = option.help or ""
    if not items:
        return text
    if current_language() == "zh_CN":
        brackets = "[" + "\uff1b".join(items) + "]"
    else:
        brackets = "[" + "; ".join(items) + "]"
    return f"{text}  {brackets}" if text else brackets


class TranslatedCommand(_Translating):
    """A command whose help screen speaks the current language."""


class TranslatedGroup(_Translating, click.Group):
    """A group whose help screen and whose subcommands speak the current language."""

    command_class = TranslatedCommand


TranslatedGroup.group_class = TranslatedGroup


def _walk(command: click.Command) -> Iterator[click.Command]:
    yield command
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from _walk(sub)


def help_messages(root: click.Command) -> list[str]:
    """Every help text under ``root`` that a help screen shows, as catalogue ``msgid``s.

    Includes click's own headings and options (``Usage:``, ``Show this message and
    exit.``), each command's help and short help, and each option's help.
    """
    found: dict[str, None] = dict.fromkeys(_CLICK_WORDS)
    for command in _walk(root):
        for text in (_help_text(command.help), command.short_help or ""):
            if text:
                found[text] = None
        for param in command.params:
            help_text = getattr(param, "help", None)
            if help_text:
                found[help_text] = None
    return list(found)
