"""The interactive and demonstration commands: repl, demo."""

from __future__ import annotations

from pathlib import Path

import click

from points_ledger.cli.app import cli, state

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
def demo() -> None:
    """Play the demo story into ./demo-ledger.db and print what happened."""
    from points_ledger.demo import run_demo

    run_demo(".", echo=click.echo)
