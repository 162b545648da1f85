"""Key commands: ``keygen`` (a new key file), ``key register`` and ``key revoke``."""

from __future__ import annotations

import binascii
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import click

from points_ledger._base64 import decode_b64
from points_ledger.cli.app import (
    cli,
    echo_json,
    event_options,
    json_option,
    keys_option,
    load_keys,
    open_ledger,
    read_passphrase,
    resolve_event_id,
)
from points_ledger.cli.render import show_append
from points_ledger.errors import KeyFileError
from points_ledger.i18n import gettext as _
from points_ledger.keys import KEY_FILE_FORMAT, Signer, check_passphrase, save_signer
from points_ledger.models import KeySpec, RecoverKey, RegisterKey, RevokeKey, Role

__all__ = ["key_group", "keygen", "public_key_of_file"]

_PUBLIC_PART_MAX_BYTES = 4096
ROLE_CHOICE = click.Choice([r.value for r in Role])


def public_key_of_file(path: Path) -> str:
    """The base64 public key stored in the clear in a key file (no passphrase needed).

    Raises:
        KeyFileError: if the file cannot be read or is not a points-ledger key file.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read(_PUBLIC_PART_MAX_BYTES + 1)
    except FileNotFoundError as e:
        raise KeyFileError(
            f"key file {path} was not found",
            hint="Check the path; make the key file first with 'points-ledger keygen PATH'.",
        ) from e
    except OSError as e:
        raise KeyFileError(f"cannot read key file {path}: {e.strerror}") from e
    problem = KeyFileError(f"{path} is not a points-ledger key file")
    try:
        document: Any = json.loads(raw.decode("utf-8"))
        if len(raw) > _PUBLIC_PART_MAX_BYTES or document["format"] != KEY_FILE_FORMAT:
            raise problem
        public_key = document["public_key"]
        if not isinstance(public_key, str) or len(decode_b64(public_key, canonical=False)) != 32:
            raise problem
    except (ValueError, KeyError, TypeError, binascii.Error) as e:
        raise problem from e
    return public_key


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def keygen(path: Path, as_json: bool) -> None:
    """Create one new encrypted key file at PATH (never overwrites) and print its key id.

    The passphrase comes from POINTS_LEDGER_PASSPHRASE (or the per-file variable) or is
    asked for twice without echo; it needs at least 8 characters. Register the public
    key with 'key register'.
    """
    if os.path.lexists(path):
        raise KeyFileError(
            f"key file {path} already exists",
            hint="Choose another path; keys are never overwritten.",
        )
    passphrase = read_passphrase(path, new=True)
    check_passphrase(passphrase, new=True)
    signer = Signer.generate()
    save_signer(signer, path, passphrase)
    if as_json:
        echo_json({"path": str(path), "key_id": signer.key_id, "public_key": signer.public_key_b64})
        return
    click.echo(_("key file:   {path}").format(path=path))
    click.echo(_("key id:     {key_id}").format(key_id=signer.key_id))
    click.echo(_("public key: {public_key}").format(public_key=signer.public_key_b64))


@cli.group("key")
def key_group() -> None:
    """Register and revoke signing keys in the ledger (admin-signed)."""


@key_group.command("register")
@click.option(
    "--from-file",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Take the public key from this key file (its public part; no passphrase).",
)
@click.option("--public-key", help="The public key in standard base64.")
@click.option(
    "--role", "roles", multiple=True, required=True, type=ROLE_CHOICE, help="Role (repeatable)."
)
@click.option("--owner", default=None, help="Account the key speaks for.")
@keys_option
@event_options
@json_option
def key_register(
    key_file: Path | None,
    public_key: str | None,
    roles: tuple[str, ...],
    owner: str | None,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Register a public key with roles and an owner account."""
    spec = _key_spec(key_file, public_key, roles, owner)
    event = RegisterKey(
        id=resolve_event_id(event_id, "register-key"),
        effective_at=effective_at,
        memo=memo,
        key=spec,
    )
    with open_ledger() as ledger:
        show_append(ledger.append(event, load_keys(key_paths)), as_json=as_json)


def _key_spec(
    key_file: Path | None, public_key: str | None, roles: tuple[str, ...], owner: str | None
) -> KeySpec:
    if (key_file is None) == (public_key is None):
        raise click.UsageError("give exactly one of --from-file and --public-key")
    public = public_key_of_file(key_file) if key_file is not None else str(public_key)
    return KeySpec(public_key=public, roles=tuple(Role(r) for r in roles), owner=owner)


@key_group.command("recover")
@click.option(
    "--from-file",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Take the new public key from this key file (its public part; no passphrase).",
)
@click.option("--public-key", help="The new public key in standard base64.")
@click.option(
    "--role", "roles", multiple=True, required=True, type=ROLE_CHOICE, help="Role (repeatable)."
)
@click.option("--owner", required=True, help="The account whose lost key is replaced.")
@click.option("--reason", required=True, help="Why the key is replaced (required).")
@keys_option
@event_options
@json_option
def key_recover(
    key_file: Path | None,
    public_key: str | None,
    roles: tuple[str, ...],
    owner: str,
    reason: str,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Replace every key of OWNER (a lost phone) with a new one: admins and committee sign."""
    event = RecoverKey(
        id=resolve_event_id(event_id, "recover-key"),
        effective_at=effective_at,
        memo=memo,
        key=_key_spec(key_file, public_key, roles, owner),
        reason=reason,
    )
    with open_ledger() as ledger:
        show_append(ledger.append(event, load_keys(key_paths)), as_json=as_json)


@key_group.command("revoke")
@click.argument("key_id")
@click.option("--reason", required=True, help="Why the key is revoked (required).")
@keys_option
@event_options
@json_option
def key_revoke(
    key_id: str,
    reason: str,
    key_paths: tuple[Path, ...],
    event_id: str | None,
    effective_at: dt.date,
    memo: str,
    as_json: bool,
) -> None:
    """Revoke the registered key KEY_ID from the next entry on (final)."""
    event = RevokeKey(
        id=resolve_event_id(event_id, "revoke-key"),
        effective_at=effective_at,
        memo=memo,
        key_id=key_id,
        reason=reason,
    )
    with open_ledger() as ledger:
        show_append(ledger.append(event, load_keys(key_paths)), as_json=as_json)
