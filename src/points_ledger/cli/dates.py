"""The command line's one date parser: business dates written ``YYYY-MM-DD``.

Every option, argument and report view that takes a date reads it here, so all of them
accept the same text and say the same thing about a bad one.
"""

from __future__ import annotations

import datetime as dt
import re

import click

__all__ = ["date_option", "parse_date"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: str) -> dt.date:
    """The date ``text`` names, written exactly ``YYYY-MM-DD``.

    Raises:
        ValueError: in plain words, if it is not such a date (``2026-02-30`` neither).
    """
    if isinstance(text, str) and _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a date in the form YYYY-MM-DD")


def date_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    """Click callback for an optional date option: the date, or None when not given.

    Raises:
        click.BadParameter: if the value is not a date (a usage error, exit 2).
    """
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from e
