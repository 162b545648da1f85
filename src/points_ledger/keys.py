"""Ed25519 signers, key ids and encrypted key files.

Private keys never enter the ledger. On disk they live in small JSON key files, encrypted
with AES-256-GCM under a key derived from a passphrase with scrypt (n = 2^17, r = 8,
p = 1: about 128 MiB and a fraction of a second per attempt). The public key is the
authenticated associated data, so a file cannot be re-labelled with another public key.
Files are created with mode 0600, and loading refuses files that others can read and
symbolic links.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from points_ledger._ed25519_points import point_problem, signature_problem
from points_ledger.errors import InvalidEventError, KeyFileError, WrongPassphraseError

__all__ = [
    "KEY_FILE_FORMAT",
    "SCRYPT_N_MAX",
    "SCRYPT_N_MIN",
    "Signer",
    "check_key_file",
    "key_id",
    "load_signer",
    "public_key_from_b64",
    "save_signer",
    "verify_signature",
]

KEY_FILE_FORMAT: Final = "points-ledger-key/v1"
"""The ``format`` field of a key file this version writes and reads."""
SCRYPT_N_MIN: Final = 2**17
"""Smallest scrypt cost accepted (about 128 MiB and half a second per attempt)."""
SCRYPT_N_MAX: Final = 2**22
"""Largest scrypt cost accepted, so that opening a key file stays within memory."""
_SCRYPT_R: Final = 8
_SCRYPT_P: Final = 1
_KEY_ID_DOMAIN: Final = b"points-ledger/v1/key\n"
_KEY_FILE_MAX_BYTES: Final = 4096


def key_id(public_key: bytes) -> str:
    r"""Return the key id of a raw 32-byte Ed25519 public key: 16 hex digits.

    ``SHA-256(b"points-ledger/v1/key\\n" + public_key)[:8]`` in lowercase hex.
    """
    return hashlib.sha256(_KEY_ID_DOMAIN + public_key).digest()[:8].hex()


def public_key_from_b64(value: str) -> bytes:
    """Decode a base64 public key and check it is 32 bytes and not a weak key.

    Raises:
        InvalidEventError: if it is not valid base64 of 32 bytes, or is a small-order
            point or a non-canonical encoding (one signature could verify many messages).
    """
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidEventError("public key is not valid base64") from e
    if len(raw) != 32:
        raise InvalidEventError("an Ed25519 public key is 32 bytes")
    problem = point_problem(raw)
    if problem is not None:
        raise InvalidEventError(f"the public key {problem}", hint="Make a new key pair.")
    return raw


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Return True if ``signature`` is a valid Ed25519 signature of ``message``.

    Anything that is not a signature (wrong length, or not bytes at all, as a damaged
    file can hold) is simply not a valid one: the answer is False. So is a signature by a
    weak key (small order or non-canonical) or whose ``R`` is such a point: with those, one
    signature can verify many messages.
    """
    if point_problem(public_key) is not None or signature_problem(signature) is not None:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


class Signer:
    """An Ed25519 private key that can sign events, checkpoints and notes.

    The private key is never shown by ``repr`` or ``str`` and never written unencrypted
    by this library.
    """

    __slots__ = ("_private", "key_id", "public_key")

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self.public_key: bytes = private_key.public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw
        )
        self.key_id: str = key_id(self.public_key)

    @classmethod
    def generate(cls) -> Signer:
        """Create a signer with a fresh random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> Signer:
        """Create a signer from a 32-byte private seed (for tests and key ceremonies).

        Raises:
            InvalidEventError: if the seed is not 32 bytes.
        """
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise InvalidEventError("an Ed25519 seed is exactly 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key_b64(self) -> str:
        """The public key in standard base64, as events carry it."""
        return base64.b64encode(self.public_key).decode("ascii")

    @property
    def private_key(self) -> Ed25519PrivateKey:
        """The underlying ``cryptography`` key (for signing notes and checkpoints)."""
        return self._private

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``message``."""
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id!r})"


def save_signer(
    signer: Signer, path: str | os.PathLike[str], passphrase: str, *, scrypt_n: int = SCRYPT_N_MIN
) -> Path:
    """Write ``signer`` to a new encrypted key file readable only by its owner (0600).

    Raises:
        KeyFileError: if the file already exists, the passphrase is empty, ``scrypt_n``
            is not a power of two from :data:`SCRYPT_N_MIN` to :data:`SCRYPT_N_MAX`, or
            the file cannot be written.
    """
    if not isinstance(passphrase, str) or not passphrase:
        raise KeyFileError("a key file needs a passphrase", hint="Choose a long passphrase.")
    if (
        type(scrypt_n) is not int
        or not SCRYPT_N_MIN <= scrypt_n <= SCRYPT_N_MAX
        or scrypt_n & (scrypt_n - 1)
    ):
        raise KeyFileError(f"scrypt n must be a power of two from {SCRYPT_N_MIN} to {SCRYPT_N_MAX}")
    target = Path(path)
    salt = secrets.token_bytes(16)
    nonce = secrets.token_bytes(12)
    seed = signer.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    aad = _aad(signer.public_key)
    ciphertext = AESGCM(_derive(passphrase, salt, scrypt_n)).encrypt(nonce, seed, aad)
    document = {
        "format": KEY_FILE_FORMAT,
        "key_id": signer.key_id,
        "public_key": signer.public_key_b64,
        "kdf": {
            "name": "scrypt",
            "n": scrypt_n,
            "r": _SCRYPT_R,
            "p": _SCRYPT_P,
            "salt": _b64(salt),
        },
        "cipher": "aes-256-gcm",
        "nonce": _b64(nonce),
        "ciphertext": _b64(ciphertext),
    }
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError as e:
        raise KeyFileError(
            f"key file {target} already exists",
            hint="Choose another path; keys are never overwritten.",
        ) from e
    except FileNotFoundError as e:
        raise KeyFileError(
            f"cannot create key file {target}: the folder {target.parent} does not exist",
            hint=f"Create the folder {target.parent} first, or give a path in a folder that "
            "exists.",
        ) from e
    except OSError as e:
        raise KeyFileError(
            f"cannot create key file {target}: {e.strerror}",
            hint="Check that the folder exists and that you may write to it.",
        ) from e
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    return target


def load_signer(path: str | os.PathLike[str], passphrase: str) -> Signer:
    """Read and decrypt a key file written by :func:`save_signer`.

    Raises:
        KeyFileError: if the file is missing, a symbolic link, readable or writable by
            group or others, too large, or malformed.
        WrongPassphraseError: if the passphrase does not decrypt the key.
    """
    if not isinstance(passphrase, str):
        raise KeyFileError("a passphrase is text (str)")
    target = check_key_file(path)
    try:
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(_KEY_FILE_MAX_BYTES + 1)
    except OSError as e:
        raise KeyFileError(f"cannot read key file {target}: {e.strerror}") from e
    fields = _parse_key_file(raw, target)
    public_key, salt, nonce, ciphertext, scrypt_n = fields
    try:
        seed = AESGCM(_derive(passphrase, salt, scrypt_n)).decrypt(
            nonce, ciphertext, _aad(public_key)
        )
    except InvalidTag as e:
        raise WrongPassphraseError(f"the passphrase does not open key file {target}") from e
    signer = Signer.from_seed(seed)
    if signer.public_key != public_key:
        raise KeyFileError(f"key file {target} is inconsistent (public key does not match)")
    return signer


def check_key_file(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` can be a key file, before anyone is asked for its passphrase.

    Runs the checks :func:`load_signer` runs on the file itself (it exists, is a regular
    file and not a symbolic link, only its owner can read or write it, it is not too
    large); the contents are checked when it is loaded.

    Returns:
        The path as a :class:`~pathlib.Path`.

    Raises:
        KeyFileError: naming what is wrong with the file, with what to do about it.
    """
    try:
        target = Path(path)
        info = os.lstat(target)
    except TypeError as e:
        raise KeyFileError("a key file path is a str or os.PathLike") from e
    except ValueError as e:  # e.g. a NUL character in the path
        raise KeyFileError(f"{path!r} is not a usable file path") from e
    except FileNotFoundError as e:
        raise KeyFileError(
            f"key file {target} was not found",
            hint="Check the path. To make a new key file run 'points-ledger keygen PATH' "
            "(save_signer in Python), then have an admin register its public key.",
        ) from e
    except OSError as e:
        raise KeyFileError(f"cannot read key file {target}: {e.strerror}") from e
    if stat.S_ISLNK(info.st_mode):
        raise KeyFileError(f"key file {target} is a symbolic link; refusing to follow it")
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"key file {target} is not a regular file")
    if info.st_mode & 0o077:
        raise KeyFileError(
            f"key file {target} can be read or written by other users "
            f"(mode {stat.S_IMODE(info.st_mode):04o})",
            hint=f"Run: chmod 600 {target}",
        )
    if info.st_size > _KEY_FILE_MAX_BYTES:
        raise KeyFileError(f"key file {target} is too large to be a key file")
    return target


def _parse_key_file(raw: bytes, target: Path) -> tuple[bytes, bytes, bytes, bytes, int]:
    problem = KeyFileError(
        f"key file {target} is not a points-ledger key file",
        hint="Check that this is a file made by 'points-ledger keygen' or 'init' (save_signer "
        "in Python); a damaged key file cannot be repaired: use its backup.",
    )
    try:
        document: Any = json.loads(raw.decode("utf-8"))
        kdf = document["kdf"]
        if document["format"] != KEY_FILE_FORMAT or document["cipher"] != "aes-256-gcm":
            raise problem
        if kdf["name"] != "scrypt" or kdf["r"] != _SCRYPT_R or kdf["p"] != _SCRYPT_P:
            raise problem
        scrypt_n = kdf["n"]
        if (
            type(scrypt_n) is not int
            or scrypt_n < SCRYPT_N_MIN
            or scrypt_n > SCRYPT_N_MAX
            or scrypt_n & (scrypt_n - 1)
        ):
            raise KeyFileError(f"key file {target} uses a weak or unsupported scrypt setting")
        public_key = base64.b64decode(document["public_key"], validate=True)
        salt = base64.b64decode(kdf["salt"], validate=True)
        nonce = base64.b64decode(document["nonce"], validate=True)
        ciphertext = base64.b64decode(document["ciphertext"], validate=True)
    except KeyFileError:
        raise
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error) as e:
        raise problem from e
    if len(public_key) != 32 or len(nonce) != 12 or len(salt) < 16 or len(ciphertext) != 48:
        raise problem
    return public_key, salt, nonce, ciphertext, scrypt_n


def _derive(passphrase: str, salt: bytes, scrypt_n: int) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=scrypt_n, r=_SCRYPT_R, p=_SCRYPT_P)
    return kdf.derive(passphrase.encode("utf-8"))


def _aad(public_key: bytes) -> bytes:
    return KEY_FILE_FORMAT.encode("ascii") + b"\n" + public_key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
