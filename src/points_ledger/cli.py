"""The ``points-ledger`` command line.

Every command prints a one-line reason and exits non-zero when the library refuses
something; tracebacks are kept for real bugs.
"""

from __future__ import annotations

import sys

import click

from points_ledger.errors import LedgerError

__all__ = ["cli", "main"]


@click.group()
@click.version_option(package_name="points_ledger")
def cli() -> None:
    """Keep and check an append-only, signed ledger of volunteer points and income."""


@cli.command()
def demo() -> None:
    """Play the demo story into ./demo-ledger.db and print what happened."""
    from points_ledger.demo import run_demo

    run_demo(".", echo=click.echo)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    try:
        cli.main(args=argv, prog_name="points-ledger", standalone_mode=False)
    except LedgerError as e:
        click.echo(f"error [{e.code}]: {e}", err=True)
        return 1
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as e:
        e.show()
        return e.exit_code
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
