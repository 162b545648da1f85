"""The ``report NAME [ARGS]...`` command: every report in :mod:`points_ledger.reports`."""

from __future__ import annotations

import click

from points_ledger.cli.app import cli, echo_json, echo_jsonl, echo_table, json_option, open_ledger
from points_ledger.cli.report_views import REPORTS, ReportArgsError, run_report
from points_ledger.cli.tables import reports_table

__all__ = ["report"]


def _report_help() -> str:
    """The ``report --help`` text: what the command does and every registered report.

    Built from :data:`~points_ledger.cli.report_views.REPORTS`, so a new report is listed
    as soon as it is registered. Click's no-rewrap marker keeps one report per line.
    """
    width = max(len(name) for name in REPORTS) + 2
    lines = [f"{spec.name.ljust(width)}{spec.usage}".rstrip() for spec in REPORTS.values()]
    return (
        "Print report NAME with its ARGS; without NAME, list the reports with what each "
        "shows.\n\nReports:\n\n\b\n" + "\n".join(lines)
    )


@cli.command(help=_report_help())
@click.argument("name", required=False)
@click.argument("args", nargs=-1)
@json_option
def report(name: str | None, args: tuple[str, ...], as_json: bool) -> None:
    """Print report NAME with its ARGS; without NAME, list the reports (see _report_help)."""
    if name is None:
        if as_json:
            echo_jsonl(
                {"name": s.name, "usage": s.usage, "summary": s.summary} for s in REPORTS.values()
            )
            return
        click.echo(reports_table().text())
        return
    with open_ledger() as ledger:
        try:
            view = run_report(ledger, name, args)
        except ReportArgsError as e:
            spec = REPORTS.get(name)
            usage = f"points-ledger report {name} {spec.usage}" if spec else "points-ledger report"
            raise click.UsageError(f"{e} (usage: {usage.rstrip()})") from e
    if as_json:
        documents = view.to_json()
        if view.summary is not None:
            echo_json(documents[0])
        else:
            echo_jsonl(documents)
        return
    click.echo(view.title)
    echo_table(view.headers, view.rows, right=view.right)
