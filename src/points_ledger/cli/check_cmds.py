"""Checking and export commands: verify, audit, backup, export."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import click

from points_ledger._base64 import encode_b64
from points_ledger.cli.app import (
    EXIT_INTEGRITY,
    CommandError,
    cli,
    echo_json,
    json_option,
    open_ledger,
    progress_callback,
)
from points_ledger.cli.dates import date_option
from points_ledger.cli.render import audit_text, audit_to_json, entry_to_json
from points_ledger.cli.transparency_cmds import _read_input, read_vkey
from points_ledger.errors import IntegrityError, NoteError
from points_ledger.export import (
    EXPORT_COLUMNS,
    HEADER_LANGUAGES,
    HeaderLanguage,
    export_rows,
    write_csv,
    write_xlsx,
)
from points_ledger.i18n import N_, format_number
from points_ledger.i18n import gettext as _
from points_ledger.keys import public_key_from_b64
from points_ledger.ledger import Ledger
from points_ledger.log_notes import verify_checkpoint_note
from points_ledger.models import Genesis
from points_ledger.notes import NoteVerifier

__all__ = ["CSV_COLUMNS", "audit", "backup", "export", "verify"]

CSV_COLUMNS = EXPORT_COLUMNS
"""Columns of the CSV and XLSX export: one row per posting, joined with its entry."""


def _trusted_options(func: Callable[..., None]) -> Callable[..., None]:
    """Add ``--checkpoint``, ``--vkey`` and ``--record``: what is held outside the file."""
    func = click.option(
        "--record",
        "record_path",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help="The log key holder's record folder (keys/log.record): every entry it "
        "covers is compared, and the first one removed, moved or changed is named.",
    )(func)
    func = click.option(
        "--vkey",
        help="The ledger's published verifier key (origin+hex8+base64), or a file holding "
        "it: the file must be that ledger, and --checkpoint must be signed by it.",
    )(func)
    return click.option(
        "--checkpoint",
        "checkpoint_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="A signed (and cosigned) checkpoint kept outside the file, e.g. from a "
        "witness or a receipt: entries it covers that are missing or changed are named.",
    )(func)


def _trusted_checkpoint(
    ledger: Ledger, checkpoint_path: Path | None, vkey: str | None
) -> str | None:
    """Check the file's log key against ``--vkey`` and return the ``--checkpoint`` note.

    Raises:
        IntegrityError: the file's genesis entry names another log key than ``--vkey``.
        NoteError: ``--vkey`` is malformed, or the checkpoint is not signed by it.
        CommandError: a file cannot be read.
    """
    expected = NoteVerifier.from_vkey(read_vkey(vkey)) if vkey is not None else None
    if expected is not None:
        genesis = ledger.entry(0).event
        if not isinstance(genesis, Genesis):
            raise IntegrityError("entry 0 is not the genesis entry", seq=0)
        if (genesis.origin, public_key_from_b64(genesis.log_key)) != (
            expected.name,
            expected.public_key_bytes,
        ):
            raise IntegrityError(
                f"this file is not the ledger of the verifier key you gave: its genesis "
                f"entry names the log {genesis.origin!r} with key {genesis.log_key}",
                hint="Check that you were given the right file and the right key; trust "
                "none of the file's figures until they agree.",
                seq=0,
            )
    if checkpoint_path is None:
        return None
    note = _read_input(checkpoint_path, N_("checkpoint"))
    if expected is not None:
        try:
            verify_checkpoint_note(note, expected)
        except NoteError as e:
            raise NoteError(
                f"the checkpoint {checkpoint_path} is not signed by the verifier key you "
                f"gave: {e.message}"
            ) from e
    return note


@cli.command()
@_trusted_options
@json_option
def verify(
    checkpoint_path: Path | None, vkey: str | None, record_path: Path | None, as_json: bool
) -> None:
    """Check the whole file; exit 3 naming the first problem if there is one.

    With --checkpoint, also compare the file with a checkpoint held outside it (from a
    witness or a receipt): a file cut short or rolled back is named. With --record (the
    log key holder's record), the first entry removed, moved or changed is named exactly.
    With --vkey, the file and the checkpoint must belong to that published log key. The
    last line says how many entries no checkpoint held outside the file covers yet.
    """
    with open_ledger() as ledger, progress_callback("verifying") as progress:
        try:
            trusted = _trusted_checkpoint(ledger, checkpoint_path, vkey)
            report = ledger.verify(
                progress=progress, trusted_checkpoint=trusted, record=record_path
            )
        except IntegrityError as e:
            if as_json:
                echo_json({"ok": False, "code": e.code, "message": e.message, "seq": e.seq})
            raise
    if as_json:
        echo_json(
            {
                "ok": True,
                "entries_checked": report.entries_checked,
                "unanchored": report.unanchored,
            }
        )
    else:
        click.echo(
            _("verify passed: {count} entries checked, no problems").format(
                count=format_number(report.entries_checked)
            )
        )
        click.echo(_anchoring_line(report.unanchored, held=trusted is not None or record_path))


def _anchoring_line(unanchored: int, *, held: object) -> str:
    if not unanchored:
        return _("every entry is under a checkpoint held outside the file")
    advice = (
        _("sign a checkpoint (points-ledger checkpoint) and keep it outside the file")
        if held
        else _("give --record or --checkpoint to check the file against what was signed")
    )
    return _(
        "{count} entries are not under a checkpoint held outside the file: "
        "someone who can write the file could still remove or change them ({advice})"
    ).format(count=format_number(unanchored), advice=advice)


@cli.command()
@_trusted_options
@json_option
@click.pass_context
def audit(
    ctx: click.Context,
    checkpoint_path: Path | None,
    vkey: str | None,
    record_path: Path | None,
    as_json: bool,
) -> None:
    """Check the whole file and list every problem; exit 3 if there are any.

    --checkpoint, --record and --vkey work as for verify.
    """
    with open_ledger() as ledger, progress_callback("auditing") as progress:
        trusted = _trusted_checkpoint(ledger, checkpoint_path, vkey)
        report = ledger.audit(progress=progress, trusted_checkpoint=trusted, record=record_path)
    if as_json:
        echo_json(audit_to_json(report))
    else:
        click.echo(audit_text(report))
    if not report.ok:
        ctx.exit(EXIT_INTEGRITY)


@cli.command()
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def backup(dest: Path, as_json: bool) -> None:
    """Copy the ledger to DEST (a new file) and verify the copy; safe while others append.

    Uses SQLite's online backup, so programs may keep appending meanwhile; the copy
    holds the entries there were when it began. It is then opened and verified, and
    its entries and Merkle root compared with the ledger's at that moment. DEST must
    not exist. Exit 3 (and no file left) if the copy does not verify.
    """
    with open_ledger() as ledger:
        result = ledger.backup(dest)
    if as_json:
        echo_json(
            {
                "ok": True,
                "path": str(result.path),
                "size": result.size,
                "root": encode_b64(result.root),
            }
        )
    else:
        click.echo(result.to_text())


@cli.command()
@click.argument("source", metavar="SRC")
@click.argument("dest", metavar="DEST")
@json_option
def copy(source: str, dest: str, as_json: bool) -> None:
    """Copy the ledger SRC to a new ledger DEST, keeping every signed byte; check it.

    SRC and DEST are each a ledger file or a postgresql://…?schema=NAME URL, e.g. a
    SQLite file to the district's PostgreSQL server, or PostgreSQL to a file for
    Datasette. SRC is read in one snapshot while others may append; DEST must not
    exist. The copy must have SRC's Merkle root and pass verify, or nothing is left.
    """
    from points_ledger.cli.app import _ledger_location
    from points_ledger.copying import copy_ledger

    with progress_callback("copying") as progress:
        result = copy_ledger(_ledger_location(source), _ledger_location(dest), progress=progress)
    root = encode_b64(result.root)
    if as_json:
        echo_json(
            {
                "ok": True,
                "source": result.source,
                "dest": result.dest,
                "entries": result.entries,
                "checkpoints": result.checkpoints,
                "root": root,
            }
        )
    else:
        click.echo(
            _(
                "copied {entries} entries and {checkpoints} checkpoints to {dest}; "
                "both have the Merkle root {root}, and the copy verifies"
            ).format(
                entries=format_number(result.entries),
                checkpoints=format_number(result.checkpoints),
                dest=result.dest,
                root=root,
            )
        )


@contextmanager
def _open_output(output: Path | None, *, bom: bool) -> Iterator[IO[str]]:
    if output is None:
        stream = sys.stdout
        if bom:
            stream.write("\ufeff")
        yield stream
        stream.flush()
        return
    encoding = "utf-8-sig" if bom else "utf-8"
    try:
        handle = open(output, "x", encoding=encoding, newline="")  # noqa: SIM115
    except FileExistsError as e:
        raise CommandError(
            f"{output} already exists; a file is never overwritten",
            hint="Choose another --output path or move the old file away.",
        ) from e
    except OSError as e:
        raise CommandError(f"cannot create {output}: {e.strerror}") from e
    with handle:
        yield handle


def _write_jsonl(
    ledger: Ledger, handle: IO[str], progress: Callable[[int, int], None] | None
) -> int:
    total = ledger.size()
    count = 0
    for count, item in enumerate(ledger.entries(), start=1):
        handle.write(json.dumps(entry_to_json(item), ensure_ascii=False) + "\n")
        if progress is not None:
            progress(count, total)
    return count


def _export_format(fmt: str | None, output: Path | None) -> str:
    """The format asked for, or the one the output file's name implies (csv by default)."""
    if fmt is not None:
        return fmt
    suffix = output.suffix.lower() if output is not None else ""
    return {".xlsx": "xlsx", ".jsonl": "jsonl"}.get(suffix, "csv")


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "jsonl"]),
    default=None,
    help="csv: one row per posting (UTF-8 with BOM for Excel); xlsx: the same rows as an "
    "Excel workbook with real dates and numbers (needs the excel extra); jsonl: one entry "
    "per line. Default: from the --output file name (.xlsx, .jsonl), else csv.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this new file (never overwritten) instead of standard output.",
)
@click.option(
    "--from",
    "date_from",
    metavar="YYYY-MM-DD",
    callback=date_option,
    help="First business date to include (csv and xlsx).",
)
@click.option(
    "--to",
    "date_to",
    metavar="YYYY-MM-DD",
    callback=date_option,
    help="Last business date to include (csv and xlsx).",
)
@click.option(
    "--headers",
    type=click.Choice(HEADER_LANGUAGES),
    default="en",
    show_default=True,
    help="Language of the column headers and kind names (csv and xlsx): en or zh.",
)
@json_option
def export(
    fmt: str | None,
    output: Path | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    headers: HeaderLanguage,
    as_json: bool,
) -> None:
    """Export the ledger as CSV or XLSX (postings joined with entries) or JSON Lines.

    CSV and XLSX have one row per posting with Beijing time, the business date, the kind
    in words, the service of an award and the purpose of a grant; --from/--to keep the
    business dates of one period, e.g. a month. With --output and --json, what was written
    is described in one JSON line.
    """
    if as_json and output is None:
        raise click.UsageError(
            "--json describes an export written with --output; for the entries as JSON "
            "on standard output use --format jsonl"
        )
    fmt = _export_format(fmt, output)
    if fmt == "jsonl" and (date_from is not None or date_to is not None):
        raise CommandError(
            "--from and --to apply to the csv and xlsx exports",
            hint="Leave them out for --format jsonl, or export csv or xlsx.",
        )
    if fmt == "xlsx":
        if output is None:
            raise CommandError(
                "an Excel file cannot be written to the terminal",
                hint="Name the file with --output, e.g. --output ledger-2026-11.xlsx.",
            )
        with open_ledger() as ledger, progress_callback("exporting") as progress:
            rows = export_rows(
                ledger, date_from=date_from, date_to=date_to, headers=headers, progress=progress
            )
            count = write_xlsx(rows, output, headers=headers)
        if as_json:
            echo_json({"format": fmt, "count": count, "output": str(output)})
        else:
            click.echo(
                _("exported {count} postings to {output}").format(
                    count=format_number(count), output=output
                ),
                err=True,
            )
        return
    with (
        open_ledger() as ledger,
        _open_output(output, bom=fmt == "csv") as handle,
        progress_callback("exporting") as progress,
    ):
        if fmt == "csv":
            rows = export_rows(
                ledger, date_from=date_from, date_to=date_to, headers=headers, progress=progress
            )
            count = write_csv(rows, handle, headers=headers)
            done = _("exported {count} postings to {output}")
        else:
            count = _write_jsonl(ledger, handle, progress)
            done = _("exported {count} entries to {output}")
    if as_json:
        echo_json({"format": fmt, "count": count, "output": str(output)})
    elif output is not None:
        click.echo(
            done.format(count=format_number(count), output=output),
            err=True,
        )
