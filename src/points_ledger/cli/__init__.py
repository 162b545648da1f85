"""The ``points-ledger`` command line.

:data:`cli` is the click group and :func:`main` runs it and returns the exit code. Each
area lives in its own module that attaches commands to the group; to add an area (for
example a new kind of event), write a ``*_cmds.py`` module using the
helpers in :mod:`points_ledger.cli.app` and import it below.
"""

from points_ledger.cli import (  # noqa: F401 - importing registers the commands
    check_cmds,
    community_cmds,
    keys_cmds,
    ledger_cmds,
    misc_cmds,
    read_cmds,
    report_cmds,
    revenue_cmds,
    transparency_cmds,
)
from points_ledger.cli.app import EXIT_CODES, cli, main

__all__ = ["EXIT_CODES", "cli", "main"]
