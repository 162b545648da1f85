"""Transparency commands: checkpoints, proofs, receipts, and a witness.

* ``checkpoint --log-key FILE``: sign a checkpoint of the whole ledger with the log key.
* ``consistency-proof OLD [NEW]``: the proof a witness needs to move from size OLD to NEW.
* ``receipt SEQ``: a receipt (JSON) anyone can check offline.
* ``verify-receipt FILE --vkey VKEY [--witness-vkey W ... --witness-quorum K]
  [--state DIR]``: check a receipt with nothing but the verifier key (and the witnesses'
  keys); needs no ledger file. ``--state`` keeps the last checkpoint trusted, so that a
  receipt from a tree that cannot extend it is refused (a split view).
* ``verify-consistency OLD NEW --vkey VKEY --proof FILE``: check that two checkpoints of
  one log tell one history; needs no ledger file.
* ``witness cosign NOTE``: a witness checks a checkpoint (and a consistency proof from the
  last one it accepted) and prints its cosignature line.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any, Final

import click

from points_ledger._base64 import Base64Error, decode_b64
from points_ledger.cli.app import (
    CommandError,
    cli,
    echo_json,
    echo_table,
    json_option,
    load_keys,
    open_ledger,
)
from points_ledger.cli.render import amount_text, b64
from points_ledger.errors import LedgerError, NotFoundError, ProofError
from points_ledger.i18n import N_, format_number
from points_ledger.i18n import gettext as _
from points_ledger.log_notes import verify_checkpoint_consistency
from points_ledger.models.signed_checkpoint import SignedCheckpoint
from points_ledger.notes import NoteVerifier
from points_ledger.publish import printable_receipt
from points_ledger.receipts import RECEIPT_JSON_MAX, VerifiedReceipt, verify_receipt
from points_ledger.trusted import TrustedCheckpoints
from points_ledger.witness import Witness

__all__ = [
    "TEXT_INPUT_MAX_BYTES",
    "checkpoint",
    "checkpoint_to_json",
    "consistency_proof",
    "default_record_path",
    "publish_cmd",
    "read_proof",
    "read_vkey",
    "receipt",
    "verify_consistency_cmd",
    "verify_receipt_cmd",
    "vkey",
    "witness_group",
    "write_new_file",
]

TEXT_INPUT_MAX_BYTES: Final = max(RECEIPT_JSON_MAX, 1 << 16)
"""Largest note, proof or receipt file read."""

_PATH = click.Path(dir_okay=False, path_type=Path)


def write_new_file(path: Path, text: str) -> None:
    """Write ``text`` to a new file; never overwrite one.

    Raises:
        CommandError: if the file exists or cannot be created.
    """
    try:
        with open(path, "x", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except FileExistsError as e:
        raise CommandError(
            f"{path} already exists; a file is never overwritten",
            hint="Choose another --output path or move the old file away.",
        ) from e
    except OSError as e:
        raise CommandError(f"cannot create {path}: {e.strerror}") from e


def _read_input(path: Path, what: str) -> str:
    """Read a small UTF-8 text file (``-`` is standard input); ``what`` names it (an ``N_``)."""
    try:
        if str(path) == "-":
            raw = sys.stdin.buffer.read(TEXT_INPUT_MAX_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                raw = handle.read(TEXT_INPUT_MAX_BYTES + 1)
    except OSError as e:
        raise CommandError(f"cannot read {what} {path}: {e.strerror}") from e
    if len(raw) > TEXT_INPUT_MAX_BYTES:
        raise CommandError(f"{what} {path} is larger than {TEXT_INPUT_MAX_BYTES:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CommandError(f"{what} {path} is not UTF-8 text") from e


def read_vkey(value: str) -> str:
    """The verifier key given on the command line, or read from the file it names.

    A vkey looks like ``origin+hex8+base64``; if ``value`` names an existing file, its
    first non-blank line is used instead, so ``--vkey log.vkey`` works too.

    Raises:
        CommandError: if ``value`` has no ``+`` (so it is no vkey) and names no file.
    """
    if os.path.isfile(value):
        lines = [line.strip() for line in _read_input(Path(value), N_("vkey file")).splitlines()]
        return next((line for line in lines if line), "")
    if value.strip() and "+" not in value and not os.path.exists(value):
        raise CommandError(
            f"verifier key file {value} was not found",
            hint="Check the path, or give the verifier key itself (origin+hex8+base64, as "
            "'points-ledger vkey' prints it).",
        )
    return value.strip()


def read_proof(path: Path | None) -> list[bytes]:
    """Read a consistency proof: one base64 hash per line (as ``consistency-proof`` prints).

    Raises:
        ProofError: if a line is not base64 of 32 bytes.
    """
    if path is None:
        return []
    hashes = []
    for number, line in enumerate(_read_input(path, N_("proof file")).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = decode_b64(line.strip(), canonical=False)
        except Base64Error as e:
            raise ProofError(f"proof line {number} is not base64") from e
        if len(value) != 32:
            raise ProofError(f"proof line {number} is {len(value)} bytes, not a 32-byte hash")
        hashes.append(value)
    return hashes


def checkpoint_to_json(signed: SignedCheckpoint, vkey: str) -> dict[str, Any]:
    """A signed checkpoint as JSON: origin, size, base64 root, the note and the vkey."""
    return {
        "origin": signed.origin,
        "size": signed.size,
        "root_hash": b64(signed.root_hash),
        "recorded_at": signed.recorded_at.isoformat(),
        "note": signed.note,
        "vkey": vkey,
    }


def default_record_path(log_key_path: Path) -> Path:
    """Where the log key holder's record lives by default: beside the key, ``<stem>.record``."""
    return log_key_path.with_name(f"{log_key_path.stem}.record")


@cli.command()
@click.option(
    "--log-key", "log_key_path", required=True, type=_PATH, help="The log key file (keys/log.key)."
)
@click.option(
    "--record",
    "record_path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The log key holder's record folder, kept outside the ledger file "
    "(default: beside the log key, e.g. keys/log.record; made on first use).",
)
@click.option("--output", type=_PATH, default=None, help="Also write the note to this new file.")
@json_option
def checkpoint(
    log_key_path: Path, record_path: Path | None, output: Path | None, as_json: bool
) -> None:
    """Check the whole ledger, then sign a checkpoint of it with the log key.

    Every entry is replayed and checked, and compared with the log key holder's record
    of what it signed before: a file that breaks a rule, or lost, gained or changed an
    entry since the last checkpoint, is refused (exit 3) naming the entry. The note
    (C2SP tlog-checkpoint: origin, size, base64 root, signature) is what witnesses
    cosign and receipts prove against. Signing again at the same size returns the
    recorded checkpoint. Run it from cron (e.g. every 10 minutes) to anchor every entry
    within a bounded time.
    """
    record = record_path if record_path is not None else default_record_path(log_key_path)
    with open_ledger() as ledger:
        (log_key,) = load_keys([log_key_path])
        signed = ledger.checkpoint(log_key, record)
        vkey = ledger.log_vkey()
    if output is not None:
        write_new_file(output, signed.note)
    if as_json:
        echo_json(checkpoint_to_json(signed, vkey))
        return
    click.echo(
        _("checkpoint of {count} entries, root {root}").format(
            count=format_number(signed.size), root=b64(signed.root_hash)
        )
    )
    click.echo(_("verifier key: {vkey}").format(vkey=vkey))
    click.echo("")
    click.echo(signed.note, nl=False)
    if output is not None:
        click.echo(_("note written to {output}").format(output=output), err=True)


@cli.command()
@json_option
def vkey(as_json: bool) -> None:
    """Print the ledger's log verifier key (origin+hex8+base64): publish it for verifiers."""
    with open_ledger() as ledger:
        key = ledger.log_vkey()
        if as_json:
            echo_json({"origin": ledger.origin, "vkey": key})
        else:
            click.echo(key)


@cli.command("checkpoints")
@json_option
def checkpoints(as_json: bool) -> None:
    """List the checkpoints stored in the ledger (each signature checked)."""
    with open_ledger() as ledger:
        stored = ledger.checkpoints()
        vkey = ledger.log_vkey()
    if as_json:
        for signed in stored:
            echo_json(checkpoint_to_json(signed, vkey))
        return
    echo_table(
        ["size", "signed at (UTC)", "root"],
        [
            (
                s.size,
                s.recorded_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
                b64(s.root_hash),
            )
            for s in stored
        ],
    )


@cli.command("consistency-proof")
@click.argument("old_size", type=click.IntRange(min=0))
@click.argument("new_size", type=click.IntRange(min=0), required=False)
@click.option("--output", type=_PATH, default=None, help="Write to this new file.")
@json_option
def consistency_proof(
    old_size: int, new_size: int | None, output: Path | None, as_json: bool
) -> None:
    """Print the proof that the tree of OLD_SIZE entries is a prefix of NEW_SIZE (default all).

    One base64 hash per line: the format 'witness cosign --proof' reads.
    """
    if new_size is not None and old_size > new_size:
        raise click.UsageError(
            f"OLD_SIZE {old_size} is larger than NEW_SIZE {new_size}; give the smaller size first"
        )
    with open_ledger() as ledger:
        current = ledger.size()
        size = current if new_size is None else new_size
        # The library names the sizes size1 and size2; here they are the arguments.
        for name, value in (("OLD_SIZE", old_size), ("NEW_SIZE", size)):
            if value > current:
                raise NotFoundError(
                    f"{name} {value} is more than the ledger holds: it has only {current} entries"
                )
        proof = ledger.prove_consistency(old_size, size)
    text = "".join(f"{b64(h)}\n" for h in proof)
    if output is not None:
        write_new_file(output, text)
    if as_json:
        document: dict[str, Any] = {"old_size": old_size, "new_size": size}
        document["proof"] = [b64(h) for h in proof]
        if output is not None:
            document["output"] = str(output)
        echo_json(document)
    elif output is not None:
        click.echo(f"proof from {old_size} to {size} ({len(proof)} hashes) written to {output}")
    else:
        click.echo(text, nl=False)


@cli.command()
@click.argument("seq", type=click.IntRange(min=0))
@click.option(
    "--checkpoint",
    "note_path",
    type=_PATH,
    default=None,
    help="Prove against this signed note (e.g. with witness cosignatures); default: latest.",
)
@click.option("--output", type=_PATH, default=None, help="Write to this new file.")
@click.option(
    "--html",
    "as_html",
    is_flag=True,
    help="Also write a printable receipt (HTML, with a QR code) beside the JSON file.",
)
@click.option(
    "--site-url",
    default=None,
    metavar="URL",
    help="With --html: the notice board's address; the QR code then opens its receipt page.",
)
@json_option
def receipt(
    seq: int,
    note_path: Path | None,
    output: Path | None,
    as_html: bool,
    site_url: str | None,
    as_json: bool,
) -> None:
    """Write a receipt for entry SEQ as JSON: the entry, its inclusion proof, the checkpoint.

    Anyone holding the ledger's verifier key can check it offline with 'verify-receipt'
    or on the notice board's receipt page. With --html (and --output FILE.json), a
    printable page FILE.html is written beside it; with --site-url, its QR code is a link
    to the notice board's receipt page, which checks the entry there. The receipt is JSON
    already; with --output and --json, a JSON line saying where it was written is printed.
    """
    if as_html and output is None:
        raise CommandError(
            "--html writes the printable receipt beside the JSON file",
            hint="Give --output FILE.json too.",
        )
    if site_url is not None and not as_html:
        raise CommandError(
            "--site-url goes into the printable receipt's QR code",
            hint="Give --html and --output FILE.json too.",
        )
    note = _read_input(note_path, N_("checkpoint note")) if note_path is not None else None
    with open_ledger() as ledger:
        made = ledger.receipt(seq, note)
        vkey = ledger.log_vkey()
    document = made.to_json() + "\n"
    if output is None:
        click.echo(document, nl=False)
        return
    printed = output.with_suffix(".html")
    if as_html and printed == output:
        raise CommandError(
            "the JSON file must not end in .html when --html writes FILE.html beside it",
            hint="Name the receipt FILE.json.",
        )
    page = printable_receipt(made, vkey, site_url=site_url) if as_html else None
    write_new_file(output, document)
    if page is not None:
        write_new_file(printed, page)
    if as_json:
        described = {"seq": seq, "output": str(output)}
        echo_json(described if page is None else {**described, "html": str(printed)})
        return
    click.echo(
        _("receipt for entry {seq} written to {output}").format(seq=seq, output=output),
        err=True,
    )
    if page is not None:
        click.echo(_("printable receipt written to {path}").format(path=printed), err=True)


def _verified_to_json(checked: VerifiedReceipt) -> dict[str, Any]:
    return {
        "ok": True,
        "origin": checked.origin,
        "seq": checked.seq,
        "event_id": checked.event.id,
        "kind": checked.event.type,
        "effective_at": checked.event.effective_at.isoformat(),
        "recorded_at": checked.recorded_at.isoformat(),
        "postings": [
            {"account": p.account, "asset": p.asset.value, "amount": p.amount}
            for p in checked.postings
        ],
        "signed_by": [s.key_id for s in checked.signatures],
        "checkpoint_size": checked.checkpoint_body.size,
        "entry_hash": b64(checked.entry_hash),
        "witnessed_by": list(checked.witnessed_by),
        "witness_quorum": checked.witness_quorum,
        "trusted_size": checked.trusted_size,
    }


@cli.command("verify-receipt")
@click.argument("receipt_path", metavar="FILE", type=_PATH)
@click.option(
    "--vkey", required=True, help="The ledger's verifier key (origin+hex8+base64), or a file."
)
@click.option(
    "--witness-vkey",
    "witness_vkeys",
    multiple=True,
    help="Verifier key of a witness you trust (repeatable), or a file holding it.",
)
@click.option(
    "--witness-quorum",
    type=click.IntRange(min=0),
    default=None,
    help="How many of the witnesses must have cosigned (default: all given).",
)
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder keeping the last checkpoint you trusted; later receipts must extend it.",
)
@click.option(
    "--consistency-proof",
    "proof_path",
    type=_PATH,
    default=None,
    help="Proof between the trusted checkpoint and the receipt's (from the office).",
)
@json_option
def verify_receipt_cmd(
    receipt_path: Path,
    vkey: str,
    witness_vkeys: tuple[str, ...],
    witness_quorum: int | None,
    state_dir: Path | None,
    proof_path: Path | None,
    as_json: bool,
) -> None:
    """Check receipt FILE offline with only the ledger's verifier key (no ledger file).

    With --witness-vkey, at least --witness-quorum of those witnesses must have cosigned
    the receipt's checkpoint. With --state DIR, the receipt's checkpoint must be the one
    trusted last or be proven (--consistency-proof) to extend it or be a prefix of it;
    then the larger one is kept. Exit 0 if the entry is proven to be in the ledger the
    key speaks for; 1 if the receipt or a key is malformed, the proof fails, too few
    witnesses cosigned or the log shows a split view; 3 if the entry was altered.
    """
    try:
        document = _read_input(receipt_path, N_("receipt"))
        log_vkey = read_vkey(vkey)
        witnesses = [read_vkey(value) for value in witness_vkeys]
        proof = read_proof(proof_path)
        if state_dir is None:
            checked = verify_receipt(
                document,
                log_vkey,
                witnesses=witnesses,
                quorum=witness_quorum,
                consistency_proof=proof,
            )
        else:
            checked = TrustedCheckpoints(state_dir).check_receipt(
                document,
                log_vkey,
                witnesses=witnesses,
                quorum=witness_quorum,
                consistency_proof=proof,
            )
    except LedgerError as e:
        if as_json:  # as `verify --json` does: the verdict on stdout, the error on stderr
            echo_json({"ok": False, "code": e.code, "message": e.message})
        raise
    if as_json:
        echo_json(_verified_to_json(checked))
        return
    click.echo(
        _(
            "receipt verified: entry {seq} of {origin} is in the checkpoint of {size} entries "
            "signed by the log key"
        ).format(
            seq=checked.seq, origin=checked.origin, size=format_number(checked.checkpoint_body.size)
        )
    )
    if witnesses:
        quorum = (
            _(" ({count} required)").format(count=checked.witness_quorum)
            if checked.witness_quorum
            else ""
        )
        names = ", ".join(checked.witnessed_by) or _("none")
        click.echo(_("witnessed by: {names}{quorum}").format(names=names, quorum=quorum))
    else:
        click.echo(
            _(
                "witnessed by: not checked (give the witnesses' keys with --witness-vkey to "
                "check the cosignatures the receipt carries)"
            )
        )
    if state_dir is not None:
        if checked.trusted_size is None:
            click.echo(
                _("first checkpoint of this ledger: kept in {folder}").format(folder=state_dir)
            )
        else:
            click.echo(
                _(
                    "consistent with the checkpoint of {size} entries you trusted before "
                    "(kept in {folder})"
                ).format(size=format_number(checked.trusted_size), folder=state_dir)
            )
    click.echo(
        _("event {event_id} ({kind}), business date {date}, recorded {recorded}").format(
            event_id=checked.event.id,
            kind=checked.event.type,
            date=checked.event.effective_at.isoformat(),
            recorded=checked.recorded_at.isoformat(),
        )
    )
    if checked.postings:
        echo_table(
            ["account", "asset", "amount"],
            [(p.account, p.asset.value, amount_text(p.asset, p.amount)) for p in checked.postings],
            right=[False, False, True],
        )


@cli.command("verify-consistency")
@click.argument("old_path", metavar="OLD", type=_PATH)
@click.argument("new_path", metavar="NEW", type=_PATH)
@click.option(
    "--vkey", required=True, help="The ledger's verifier key (origin+hex8+base64), or a file."
)
@click.option(
    "--proof",
    "proof_path",
    type=_PATH,
    default=None,
    help="Consistency proof between the two sizes ('consistency-proof' prints it).",
)
@json_option
def verify_consistency_cmd(
    old_path: Path, new_path: Path, vkey: str, proof_path: Path | None, as_json: bool
) -> None:
    """Check that checkpoint notes OLD and NEW of one log tell one history (no ledger file).

    Both must be signed by the log key. Of the same size, their roots must be equal;
    otherwise the proof from the smaller to the larger must verify. Exit 0 if they are
    consistent; 1 if a note or the proof is malformed or missing, or the log has shown
    two histories (the message says which; keep both notes as evidence).
    """
    verifier = NoteVerifier.from_vkey(read_vkey(vkey))
    old, new = verify_checkpoint_consistency(
        _read_input(old_path, N_("checkpoint note")),
        _read_input(new_path, N_("checkpoint note")),
        verifier,
        read_proof(proof_path),
    )
    if as_json:
        echo_json(
            {
                "ok": True,
                "origin": verifier.name,
                "old_size": old.size,
                "new_size": new.size,
                "same_tree": old.size == new.size,
            }
        )
        return
    if old.size == new.size:
        click.echo(
            _("consistent: both checkpoints are the same tree of {size} entries").format(
                size=format_number(old.size)
            )
        )
        return
    small, large = sorted((old, new), key=lambda c: c.size)
    click.echo(
        _(
            "consistent: the checkpoint of {small} entries is a prefix of the one of "
            "{large} entries of {origin}"
        ).format(
            small=format_number(small.size), large=format_number(large.size), origin=verifier.name
        )
    )


@cli.group("witness")
def witness_group() -> None:
    """Act as a witness: cosign a log's checkpoints only while it grows append-only."""


@witness_group.command("cosign")
@click.argument("note_path", metavar="NOTE", type=_PATH)
@click.option("--state", "state_path", required=True, type=_PATH, help="The witness's own file.")
@click.option("--key", "key_path", required=True, type=_PATH, help="The witness's key file.")
@click.option("--name", required=True, help="The witness's name, e.g. street.example/witness.")
@click.option(
    "--log-vkey",
    "log_vkeys",
    multiple=True,
    required=True,
    help="Verifier key of a log this witness follows (repeatable), or a file holding it.",
)
@click.option(
    "--proof",
    "proof_path",
    type=_PATH,
    default=None,
    help="Consistency proof from the last checkpoint accepted (omit for the first).",
)
@json_option
def witness_cosign(
    note_path: Path,
    state_path: Path,
    key_path: Path,
    name: str,
    log_vkeys: tuple[str, ...],
    proof_path: Path | None,
    as_json: bool,
) -> None:
    """Check the checkpoint NOTE and print this witness's cosignature line.

    The first checkpoint of a log is accepted on trust; after that a consistency proof
    from the last accepted checkpoint is required (make it with 'consistency-proof').
    Append the printed line to the note to publish the cosigned checkpoint. Refuses a
    rollback, a fork (equivocation) or a bad proof, keeping the evidence.
    """
    note = _read_input(note_path, N_("checkpoint note"))
    proof = read_proof(proof_path)
    logs = {}
    for value in log_vkeys:
        vkey = read_vkey(value)
        logs[NoteVerifier.from_vkey(vkey).name] = vkey
    (signer,) = load_keys([key_path])
    with Witness(state_path, name=name, key=signer, logs=logs) as witness:
        line = witness.cosign(note, proof)
        witness_vkey = witness.vkey()
    if as_json:
        echo_json({"cosignature": line, "witness_vkey": witness_vkey})
        return
    click.echo(line, nl=False)
    click.echo(_("cosigned; witness verifier key: {vkey}").format(vkey=witness_vkey), err=True)


@cli.command("publish")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--checkpoint",
    "note_path",
    type=_PATH,
    default=None,
    help="Publish this signed note (e.g. with witness cosignatures); default: latest.",
)
@click.option(
    "--witness-vkey",
    "witness_vkeys",
    multiple=True,
    help="Verifier key of a witness residents should check (repeatable), or a file.",
)
@click.option(
    "--witness-quorum",
    type=click.IntRange(min=0),
    default=None,
    help="How many of the witnesses must have cosigned (default: none required).",
)
@json_option
def publish_cmd(
    directory: Path,
    note_path: Path | None,
    witness_vkeys: tuple[str, ...],
    witness_quorum: int | None,
    as_json: bool,
) -> None:
    """Write or extend the public notice board (公示) in DIR, a static site.

    The log as C2SP tlog-tiles, monthly notices in Chinese with English beside, and a
    page that checks a receipt in the browser. Publishing again appends; it stops if the
    checkpoint is not consistent with the one already in DIR.
    """
    note = _read_input(note_path, N_("checkpoint note")) if note_path is not None else None
    witnesses = [read_vkey(v) for v in witness_vkeys]
    with open_ledger() as ledger:
        result = ledger.publish(
            directory, checkpoint=note, witnesses=witnesses, quorum=witness_quorum
        )
    if as_json:
        echo_json(
            {
                "size": result.size,
                "previous_size": result.previous_size,
                "root": b64(result.root_hash),
                "months": list(result.months),
                "late_months": list(result.late_months),
                "files_written": len(result.written),
                "witnessed_by": list(result.witnessed_by),
                "directory": str(directory),
            }
        )
        return
    before = "" if result.previous_size is None else f" (was {result.previous_size:,})"
    click.echo(
        f"published {result.size:,} entries{before}, root {b64(result.root_hash)}, to {directory}"
    )
    click.echo(f"months: {', '.join(result.months) or 'none'}; {len(result.written)} files written")
    if result.witnessed_by:
        click.echo(f"cosigned by: {', '.join(result.witnessed_by)}")
    for month in result.late_months:
        click.echo(
            f"note: entries dated in {month} were recorded after its notice was published; "
            "that page is kept as it was, so announce them",
            err=True,
        )
    click.echo(f"residents check receipts at {directory / 'receipt.html'}")
