"""The interactive and demonstration commands: repl, demo."""

from __future__ import annotations

from pathlib import Path

import click

from points_ledger.cli.app import cli, echo_json, json_option, state

__all__ = ["demo", "repl"]


@cli.command()
@click.argument(
    "path", required=False, type=click.Path(dir_okay=False, path_type=Path), default=None
)
@click.option(
    "--key",
    "key_paths",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Load this signing key at start (repeatable); without keys the session is read-only.",
)
def repl(path: Path | None, key_paths: tuple[Path, ...]) -> None:
    """Open an interactive Python console on the ledger at PATH (default: --ledger).

    The console has `ledger` and the public API ready, and dot-commands such as
    .balance, .statement, .entries, .verify, .audit, .keys and .quit (type .help).
    """
    from points_ledger.repl import run_repl

    run_repl(
        path if path is not None else state().ledger_path,
        key_paths=key_paths,
        clock=state().clock,
    )


@cli.command()
@json_option
def demo(as_json: bool) -> None:
    """Play the demo story into ./demo-ledger.db and print what happened.

    With --json, the story is not printed; one JSON document gives the file, its size
    and the audit's verdict.
    """
    from points_ledger.demo import run_demo
    from points_ledger.ledger import Ledger

    if not as_json:
        run_demo(".", echo=click.echo)
        return
    path = run_demo(".", echo=lambda _line: None)
    with Ledger.open(path, clock=state().clock) as ledger:
        report = ledger.audit()
        echo_json(
            {
                "ledger": str(path),
                "origin": ledger.origin,
                "entries": ledger.size(),
                "audit_ok": report.ok,
                "problems_total": report.problems_total,
            }
        )
