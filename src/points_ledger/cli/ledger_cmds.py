"""Commands that create a ledger or append core events: init, account open, transfer, reverse."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from pathlib import Path

import click

from points_ledger.cli.app import (
    PASSPHRASE_ENV,
    cli,
    echo_json,
    echo_table,
    event_options,
    json_option,
    keys_option,
    load_keys,
    open_ledger,
    passphrase_env_name,
    prompt_passphrase,
    resolve_event_id,
    state,
    today,
)
from points_ledger.cli.dates import parse_date
from points_ledger.cli.render import show_append
from points_ledger.errors import InvalidEventError, KeyFileError, StorageError
from points_ledger.i18n import gettext as _
from points_ledger.keys import Signer, check_passphrase, save_signer
from points_ledger.ledger import Ledger
from points_ledger.models import (
    AMOUNT_MAX,
    AccountKind,
    Asset,
    OpenAccount,
    Posting,
    Reverse,
    Transfer,
)
from points_ledger.notes import vkey_for

__all__ = ["account_group", "init", "parse_amount", "parse_posting", "reverse", "transfer"]

# Whole part: plain digits, or digits grouped in threes by commas (1,000 or 12,500.50). A
# comma anywhere else (1,50 as a decimal comma) is refused, not dropped: dropping it would
# turn 1.50 yuan into 150.
_AMOUNT = re.compile(r"^([+-]?)(\d+|\d{1,3}(?:,\d{3})+)(?:\.(\d+))?$")
# Longer digit strings are refused before int() reads them; the bound itself is the
# ledger's one amount bound, AMOUNT_MAX, checked below.
_AMOUNT_DIGITS_MAX = len(str(AMOUNT_MAX))


def parse_amount(text: str, asset: Asset) -> int:
    """Parse an amount written as people write it into the asset's smallest unit.

    ``PTS`` takes whole points (``30``, ``-30``); ``CNY`` takes yuan with at most two
    decimals (``12.5`` is 1,250 fen). Commas may group the whole part in threes
    (``1,000.50``); a comma anywhere else is refused, since ``1,50`` could mean 1.50 or 150.
    No floats are involved.

    Raises:
        InvalidEventError: if the text is not such an amount, or is beyond
            ``AMOUNT_MAX`` smallest units either way.
    """
    match = _AMOUNT.fullmatch(text)
    if match is None:
        if re.fullmatch(r"[+-]?[\d,]+(?:\.\d+)?", text) and "," in text:
            raise InvalidEventError(
                f"{text!r} is not an amount: commas may only separate thousands (1,000); "
                "write decimals with a point (1.50)"
            )
        raise InvalidEventError(f"{text!r} is not an amount (write e.g. 30, -30 or 12.50)")
    sign, whole, frac = match.groups()
    whole = whole.replace(",", "")
    too_large = InvalidEventError(
        f"{text!r} is too large (at most {asset.format_amount(AMOUNT_MAX)} {asset.value} "
        "either way)"
    )
    if len(whole.lstrip("0")) > _AMOUNT_DIGITS_MAX:
        raise too_large
    frac = frac or ""
    if len(frac) > asset.scale:
        raise InvalidEventError(
            f"{text!r} has more decimals than {asset.value} allows ({asset.scale})"
        )
    value = int(whole + frac.ljust(asset.scale, "0"))
    if value > AMOUNT_MAX:
        raise too_large
    return -value if sign == "-" else value


def parse_posting(text: str) -> Posting:
    """Parse ``ACCOUNT:ASSET:AMOUNT`` (account ids may contain colons: ``vol:0001:PTS:30``).

    Raises:
        InvalidEventError: if the text is not a valid posting.
    """
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[0]:
        raise InvalidEventError(f"{text!r} is not ACCOUNT:ASSET:AMOUNT (e.g. vol:0001:PTS:30)")
    account, asset_text, amount_text = parts
    try:
        asset = Asset(asset_text.upper())
    except ValueError as e:
        names = ", ".join(a.value for a in Asset)
        raise InvalidEventError(f"unknown asset {asset_text!r} in {text!r}; use {names}") from e
    return Posting(account=account, asset=asset, amount=parse_amount(amount_text, asset))


def _init_passphrases(paths: list[Path]) -> list[str]:
    """Passphrases for the new log key (``paths[0]``) and admin keys, checked up front.

    The log key gets its own: its per-file variable (``POINTS_LEDGER_PASSPHRASE_LOG``) or
    a prompt of its own, never the shared variable, and it must differ from every admin
    key's, so that whoever holds an admin passphrase cannot also sign checkpoints.
    """
    log_path, *admin_paths = paths
    log_variable = passphrase_env_name(log_path)
    log_passphrase = os.environ.get(log_variable) or prompt_passphrase(
        f"New passphrase for the log key {log_path} (its own, not the admins')",
        needed_for=f"the new log key {log_path}",
        variables=(log_variable,),
        new=True,
    )
    shared = os.environ.get(PASSPHRASE_ENV) or None
    result = [log_passphrase]
    for path in admin_paths:
        own = os.environ.get(passphrase_env_name(path))
        if own:
            result.append(own)
            continue
        if shared is None:
            shared = prompt_passphrase(
                "New passphrase for the admin key files",
                needed_for="the new admin key files",
                variables=(PASSPHRASE_ENV, passphrase_env_name(path)),
                new=True,
            )
        result.append(shared)
    for passphrase in result:
        check_passphrase(passphrase, new=True)
    if log_passphrase in result[1:]:
        raise KeyFileError(
            "the log key needs a passphrase of its own, different from the admin keys'",
            hint=f"Set {log_variable} to another passphrase than the admins' (or type "
            "another one when asked), and keep it with the person who signs checkpoints.",
        )
    return result


def _remove_new_keys(written: list[Path], made_dirs: list[Path]) -> None:
    """Delete key files ``init`` wrote (and the folders it made) before it failed."""
    for target in written:
        with contextlib.suppress(OSError):
            target.unlink()
    for made_dir in made_dirs:
        with contextlib.suppress(OSError):
            made_dir.rmdir()  # only if empty: never anything init did not write


def _admin_key_dirs(keys_dirs: tuple[Path, ...], admin_count: int) -> list[Path]:
    """The folder of each admin key: the N-th ``--keys-dir`` holds admin N's key.

    Admins past the folders given share the last one.
    """
    if len(keys_dirs) > admin_count:
        raise click.UsageError(
            f"--keys-dir is given {len(keys_dirs)} times for {admin_count} admin keys; "
            "give it at most once per admin"
        )
    return [keys_dirs[min(n, len(keys_dirs) - 1)] for n in range(admin_count)]


def _warn_of_shared_folders(admin_targets: list[Path], threshold: int) -> None:
    """Say so, on standard error, where one folder holds enough admin keys to act alone.

    Whoever copies that folder could sign as that many admins, which the admin threshold
    is there to prevent.
    """
    # One folder may be named in several ways (relative and absolute, through ``..`` or a
    # symbolic link): the folders exist by now, so they are told apart as the file
    # system does, and each is named as it was first given.
    by_folder: dict[object, tuple[Path, list[Path]]] = {}
    for target in admin_targets:
        by_folder.setdefault(_folder_identity(target.parent), (target.parent, []))[1].append(target)
    for folder, targets in by_folder.values():
        if threshold >= 2 and len(targets) >= threshold:
            click.echo(
                _(
                    "warning: the folder {folder} holds {count} admin keys ({files}); "
                    "whoever copies it can sign as {count} admins, and {threshold} are "
                    "enough. Give each admin their own key file now (on their own "
                    "computer or USB stick), or next time give --keys-dir once per admin."
                ).format(
                    folder=folder,
                    count=len(targets),
                    files=", ".join(t.name for t in targets),
                    threshold=threshold,
                ),
                err=True,
            )


def _folder_identity(folder: Path) -> object:
    """What tells folders apart however they are named: device and inode, else the path."""
    try:
        found = folder.stat()
    except OSError:
        return folder.absolute()
    return found.st_dev, found.st_ino


def _admin_quorum(
    admin_count: int | None, threshold: int | None, single_admin: bool
) -> tuple[int, int]:
    """The number of admin keys and the threshold ``init`` uses.

    One admin acting alone is never a default: it has to be asked for with
    ``--single-admin``.
    """
    default = 1 if single_admin else 2
    count = admin_count if admin_count is not None else default
    chosen = threshold if threshold is not None else min(default, count)
    if single_admin and chosen != 1:
        raise click.UsageError(f"--single-admin means --threshold 1, not {chosen}")
    if chosen == 1 and not single_admin:
        raise click.UsageError(
            "this ledger would let one admin act alone (threshold 1); add --single-admin to "
            "choose that knowingly, or use --admins 2 or more with --threshold 2 or more"
        )
    return count, chosen


@cli.command()
@click.option(
    "--origin", required=True, help="Ledger name, e.g. chengdu.example/chenghua/zhiqiang."
)
@click.option(
    "--keys-dir",
    "keys_dirs",
    type=click.Path(file_okay=False, path_type=Path),
    multiple=True,
    default=[Path("keys")],
    show_default=True,
    help="Folder for the new key files (created if missing; files are never overwritten). "
    "Give it once per admin to keep each admin key in a folder of its own: the first "
    "holds the log key and admin 1's, the second admin 2's, and so on.",
)
@click.option(
    "--admins",
    "admin_count",
    type=click.IntRange(1, 32),
    default=None,
    help="How many admin keys to make  [default: 2; 1 with --single-admin]",
)
@click.option(
    "--threshold",
    type=click.IntRange(1, 32),
    default=None,
    help="How many admins must sign administrative events  [default: 2; 1 with --single-admin]",
)
@click.option(
    "--single-admin",
    is_flag=True,
    help="Let one admin act alone (threshold 1). audit lists such a ledger as a finding.",
)
@click.option(
    "--committee-threshold",
    type=click.IntRange(1, 32),
    default=2,
    show_default=True,
    help="How many committee members must sign grants and distributions.",
)
@click.option("--date", "effective_at", metavar="YYYY-MM-DD", default=None, help="Genesis date.")
@json_option
def init(
    origin: str,
    keys_dirs: tuple[Path, ...],
    admin_count: int | None,
    threshold: int | None,
    single_admin: bool,
    committee_threshold: int,
    effective_at: str | None,
    as_json: bool,
) -> None:
    """Create a new ledger with a log key and admin keys stored as encrypted key files.

    Writes KEYS_DIR/log.key and KEYS_DIR/admin-1.key ... admin-N.key (mode 0600), then
    the ledger file with its genesis entry signed by every admin. With --keys-dir given
    once per admin, each admin key is written to a folder of its own; where one folder
    holds enough admin keys to meet the threshold, a warning says so. The log key has a
    passphrase of its own (POINTS_LEDGER_PASSPHRASE_LOG, or asked for separately),
    different from the admin keys' (POINTS_LEDGER_PASSPHRASE or per-file variables).
    Refuses to overwrite any existing file; if the ledger cannot be created, removes the
    key files it wrote.
    """
    path = state().ledger_path
    admin_count, threshold = _admin_quorum(admin_count, threshold, single_admin)
    if threshold > admin_count:
        raise click.UsageError(f"--threshold {threshold} is more than --admins {admin_count}")
    try:
        date = parse_date(effective_at) if effective_at else today()
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--date") from e
    if os.path.lexists(path):
        raise StorageError(
            f"{path} already exists; a file is never overwritten",
            hint="Choose another --ledger path, or open the existing ledger.",
        )
    admin_dirs = _admin_key_dirs(keys_dirs, admin_count)
    targets = [keys_dirs[0] / "log.key"] + [
        folder / f"admin-{n}.key" for n, folder in enumerate(admin_dirs, 1)
    ]
    existing = [str(t) for t in targets if os.path.lexists(t)]
    if existing:
        raise KeyFileError(
            f"key file {existing[0]} already exists; a file is never overwritten",
            hint="Choose an empty --keys-dir.",
        )
    passphrases = _init_passphrases(targets)
    log_key = Signer.generate()
    admins = [Signer.generate() for _ in range(admin_count)]
    folders = list(dict.fromkeys(target.parent for target in targets))
    made_dirs = [folder for folder in folders if not folder.exists()]
    written: list[Path] = []
    try:
        for folder in folders:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for signer, target, passphrase in zip(
            [log_key, *admins], targets, passphrases, strict=True
        ):
            save_signer(signer, target, passphrase)
            written.append(target)
        with Ledger.create(
            path,
            origin=origin,
            log_key=log_key,
            admins=admins,
            threshold=threshold,
            committee_threshold=committee_threshold,
            effective_at=date,
            clock=state().clock,
        ) as ledger:
            origin = ledger.origin
    except BaseException:
        # No ledger was made, so these keys sign nothing: take them away again, so that
        # the corrected command can run in the same folder.
        _remove_new_keys(written, made_dirs)
        raise
    vkey = vkey_for(origin, log_key.private_key.public_key())
    rows = [(_("log"), str(targets[0]), log_key.key_id)] + [
        (_("admin {number}").format(number=n), str(t), a.key_id)
        for n, (t, a) in enumerate(zip(targets[1:], admins, strict=True), 1)
    ]
    if as_json:
        echo_json(
            {
                "ledger": str(path),
                "origin": origin,
                "admin_threshold": threshold,
                "committee_threshold": committee_threshold,
                "log_key": {
                    "path": str(targets[0]),
                    "key_id": log_key.key_id,
                    "public_key": log_key.public_key_b64,
                    "vkey": vkey,
                },
                "admins": [
                    {"path": str(t), "key_id": a.key_id, "public_key": a.public_key_b64}
                    for t, a in zip(targets[1:], admins, strict=True)
                ],
            }
        )
        _warn_of_shared_folders(targets[1:], threshold)
        return
    click.echo(_("created ledger {path} for origin {origin}").format(path=path, origin=origin))
    click.echo(
        _("admins: {count}, {threshold} must sign administrative events").format(
            count=admin_count, threshold=threshold
        )
    )
    echo_table(["key", "file", "key id"], rows)
    click.echo(_("log public key: {public_key}").format(public_key=log_key.public_key_b64))
    click.echo(
        _("log verifier key (give this to verifiers and witnesses): {vkey}").format(vkey=vkey)
    )
    _warn_of_shared_folders(targets[1:], threshold)


@cli.group("account")
def account_group() -> None:
    """Open accounts (admin-signed)."""


@account_group.command("open")
@click.argument("account")
@click.option(
    "--kind",
    "account_kind",
    type=click.Choice([k.value for k in AccountKind]),
    default=AccountKind.MEMBER.value,
    show_default=True,
)
@click.option(
    "--grid",
    multiple=True,
    help="Grid path, outermost first (repeat: --grid 成华区 --grid 府青路街道 ...).",
)
@keys_option
@event_options
@json_option
def account_open(
    account: str,
    account_kind: str,
    grid: tuple[str, ...],
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Open ACCOUNT (an opaque id such as vol:0001, never a real name)."""
    with open_ledger() as ledger:
        signers = load_keys(key_paths)
        event = OpenAccount(
            id=resolve_event_id(event_id, "open"),
            effective_at=effective_at,
            memo=memo,
            account=account,
            account_kind=AccountKind(account_kind),
            grid=grid,
        )
        show_append(ledger.append(event, signers), as_json=as_json)


def _postings(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> tuple[Posting, ...]:
    try:
        return tuple(parse_posting(v) for v in values)
    except InvalidEventError as e:
        raise click.BadParameter(e.message) from e


@cli.command()
@click.argument(
    "postings", nargs=-1, required=True, metavar="ACCOUNT:ASSET:AMOUNT...", callback=_postings
)
@keys_option
@event_options
@json_option
def transfer(
    postings: tuple[Posting, ...],
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Move value between accounts; the postings must sum to zero per asset.

    Amounts are written as people read them: PTS in whole points, CNY in yuan with up to
    two decimals. Example: issuer:PTS:-30 vol:0001:PTS:30
    """
    with open_ledger() as ledger:
        signers = load_keys(key_paths)
        event = Transfer(
            id=resolve_event_id(event_id, "transfer"),
            effective_at=effective_at,
            memo=memo,
            postings=postings,
        )
        show_append(ledger.append(event, signers), as_json=as_json)


@cli.command()
@click.argument("seq", type=click.IntRange(min=0))
@click.option("--reason", required=True, help="Why the entry is reversed (required).")
@keys_option
@event_options
@json_option
def reverse(
    seq: int,
    reason: str,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Correct entry SEQ by appending its exact negation (nothing is edited)."""
    with open_ledger() as ledger:
        signers = load_keys(key_paths)
        event = Reverse(
            id=resolve_event_id(event_id, "reverse"),
            effective_at=effective_at,
            memo=memo,
            target_seq=seq,
            reason=reason,
        )
        show_append(ledger.append(event, signers), as_json=as_json)
