"""The command line's one date parser and the options that use it."""

from __future__ import annotations

import datetime as dt

import click
import pytest
from click.testing import CliRunner

from points_ledger.cli.dates import date_option, parse_date
from points_ledger.cli.params import DATE


def test_a_date_is_written_year_month_day() -> None:
    assert parse_date("2026-03-01") == dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    "text", ["20260301", "2026-W09-7", "2026-3-1", "2026-02-30", " 2026-03-01", ""]
)
def test_other_spellings_and_days_that_do_not_exist_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date in the form YYYY-MM-DD"):
        parse_date(text)


def test_options_and_parameter_types_say_the_same_thing() -> None:
    @click.command()
    @click.option("--on", callback=date_option)
    @click.option("--day", type=DATE)
    def show(on: dt.date | None, day: dt.date | None) -> None:
        click.echo(f"{on} {day}")

    runner = CliRunner()
    assert runner.invoke(show, ["--on", "2026-03-01"]).output == "2026-03-01 None\n"
    for option in ("--on", "--day"):
        result = runner.invoke(show, [option, "20260301"])
        assert result.exit_code == 2
        assert "'20260301' is not a date in the form YYYY-MM-DD" in result.output
