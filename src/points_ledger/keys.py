"""Ed25519 signers, key ids and encrypted key files.

Private keys never enter the ledger. On disk they live in small JSON key files, encrypted
with AES-256-GCM under a key derived from a passphrase with scrypt (n = 2^17, r = 8,
p = 1: about 128 MiB and a fraction of a second per attempt). The public key is the
authenticated associated data, so a file cannot be re-labelled with another public key.
New key files need a passphrase of at least :data:`PASSPHRASE_MIN_LENGTH` characters.

Files are created with mode 0600 and never through a symbolic link. Loading opens the
file without following a symbolic link and then checks what it opened (the descriptor,
not the path, so the file cannot be swapped in between): a regular file, owned by the
user running the program, that no other user can read or write. On systems without POSIX
permissions (Windows) the mode and owner bits mean nothing and are not checked: there the
passphrase encryption and the folder's access rights protect the key (see
``docs/explanation/signing.md``).
"""

from __future__ import annotations

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

from points_ledger._base64 import Base64Error, decode_b64, encode_b64
from points_ledger._ed25519_points import point_problem, signature_problem
from points_ledger.errors import InvalidEventError, KeyFileError, WrongPassphraseError

__all__ = [
    "KEY_FILE_FORMAT",
    "PASSPHRASE_MIN_LENGTH",
    "SCRYPT_N_MAX",
    "SCRYPT_N_MIN",
    "Signer",
    "check_key_file",
    "check_passphrase",
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
PASSPHRASE_MIN_LENGTH: Final = 8
"""Fewest characters in the passphrase of a new key file (existing files still open)."""
# POSIX permission bits and owners mean something; on Windows os.stat makes them up.
_POSIX_PERMISSIONS: Final = os.name == "posix"


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
        raw = decode_b64(value, canonical=False)
    except (Base64Error, TypeError) as e:
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


def check_passphrase(passphrase: object, *, new: bool = False) -> bytes:
    """Check a key-file passphrase and return its UTF-8 bytes.

    Called before any key is generated or any file is touched. The refusal never
    carries the passphrase: not in its message, not in its details, and not in its
    exception chain (the encoding error, which holds the whole text, is dropped).

    Args:
        passphrase: The passphrase, as text.
        new: True for a new key file: it needs at least :data:`PASSPHRASE_MIN_LENGTH`
            characters (existing files open with whatever passphrase made them).

    Returns:
        The passphrase encoded as UTF-8.

    Raises:
        KeyFileError: if it is not text, is empty, is too short for a new file, or holds
            characters that are not valid text (bytes that are not UTF-8, as an
            environment variable can hold).
    """
    if not isinstance(passphrase, str):
        raise KeyFileError("a passphrase is text (str)")
    if not passphrase:
        raise KeyFileError("a key file needs a passphrase", hint="Choose a long passphrase.")
    encoded: bytes | None
    try:
        encoded = passphrase.encode("utf-8")
    except UnicodeEncodeError:
        encoded = None  # raised below, outside this block, so no exception chain holds it
    if encoded is None:
        raise KeyFileError(
            "the passphrase is not valid text: it holds bytes that are not UTF-8",
            hint="Type the passphrase again, or set the passphrase variable from a UTF-8 terminal.",
        ) from None
    if new and len(passphrase) < PASSPHRASE_MIN_LENGTH:
        raise KeyFileError(
            f"the passphrase is shorter than {PASSPHRASE_MIN_LENGTH} characters",
            hint="Choose a longer passphrase: several unrelated words are easy to remember "
            "and hard to guess.",
        )
    return encoded


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
        return encode_b64(self.public_key)

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
    signer: Signer,
    path: str | os.PathLike[str],
    passphrase: str,
    *,
    scrypt_n: int | None = None,
) -> Path:
    """Write ``signer`` to a new encrypted key file readable only by its owner (0600).

    ``scrypt_n`` is the scrypt cost; when omitted it is :data:`SCRYPT_N_MIN`, looked up at
    each call (a test suite may lower that bound for speed where key strength is not tested).

    Raises:
        KeyFileError: if the file already exists (or is a symbolic link), the passphrase
            is refused by :func:`check_passphrase` (``new=True``: at least
            :data:`PASSPHRASE_MIN_LENGTH` characters), ``scrypt_n`` is not a power of two
            from :data:`SCRYPT_N_MIN` to :data:`SCRYPT_N_MAX`, or the file cannot be
            written.
    """
    secret = check_passphrase(passphrase, new=True)
    if scrypt_n is None:
        scrypt_n = SCRYPT_N_MIN
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
    ciphertext = AESGCM(_derive(secret, salt, scrypt_n)).encrypt(nonce, seed, aad)
    document = {
        "format": KEY_FILE_FORMAT,
        "key_id": signer.key_id,
        "public_key": signer.public_key_b64,
        "kdf": {
            "name": "scrypt",
            "n": scrypt_n,
            "r": _SCRYPT_R,
            "p": _SCRYPT_P,
            "salt": encode_b64(salt),
        },
        "cipher": "aes-256-gcm",
        "nonce": encode_b64(nonce),
        "ciphertext": encode_b64(ciphertext),
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

    The checks of :func:`check_key_file` run on the opened file itself.

    Raises:
        KeyFileError: if the file is missing, a symbolic link, not owned by this user,
            readable or writable by group or others, too large, or malformed, or the
            passphrase is refused by :func:`check_passphrase`.
        WrongPassphraseError: if the passphrase does not decrypt the key.
    """
    secret = check_passphrase(passphrase)
    fd, target = _open_key_file(path)
    try:
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(_KEY_FILE_MAX_BYTES + 1)
    except OSError as e:
        raise KeyFileError(f"cannot read key file {target}: {e.strerror}") from e
    fields = _parse_key_file(raw, target)
    public_key, salt, nonce, ciphertext, scrypt_n = fields
    try:
        seed = AESGCM(_derive(secret, salt, scrypt_n)).decrypt(nonce, ciphertext, _aad(public_key))
    except InvalidTag as e:
        raise WrongPassphraseError(f"the passphrase does not open key file {target}") from e
    signer = Signer.from_seed(seed)
    if signer.public_key != public_key:
        raise KeyFileError(f"key file {target} is inconsistent (public key does not match)")
    return signer


def check_key_file(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` can be a key file, before anyone is asked for its passphrase.

    Opens the file without following a symbolic link and checks the opened file (its
    descriptor, so it cannot be swapped between check and use): it is a regular file,
    owned by the user running the program, only its owner can read or write it, and it is
    not too large. The contents are checked when it is loaded. On systems without POSIX
    permissions (Windows) the owner and mode are not checked.

    Returns:
        The path as a :class:`~pathlib.Path`.

    Raises:
        KeyFileError: naming what is wrong with the file, with what to do about it.
    """
    fd, target = _open_key_file(path)
    os.close(fd)
    return target


def _open_key_file(path: str | os.PathLike[str]) -> tuple[int, Path]:
    """Open a key file read-only without following links; check the descriptor."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        target = Path(path)
        fd = os.open(target, flags)
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
        if os.path.islink(target):
            raise KeyFileError(
                f"key file {target} is a symbolic link; refusing to follow it",
                hint="Give the path of the key file itself.",
            ) from e
        raise KeyFileError(f"cannot read key file {target}: {e.strerror}") from e
    try:
        _check_opened(fd, target)
    except BaseException:
        os.close(fd)
        raise
    return fd, target


def _check_opened(fd: int, target: Path) -> None:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"key file {target} is not a regular file")
    if _POSIX_PERMISSIONS and info.st_uid != os.geteuid():
        raise KeyFileError(
            f"key file {target} belongs to another user (uid {info.st_uid})",
            hint="Use your own key file; a key file another user owns may have been "
            "replaced by them.",
        )
    if _POSIX_PERMISSIONS and info.st_mode & 0o077:
        raise KeyFileError(
            f"key file {target} can be read or written by other users "
            f"(mode {stat.S_IMODE(info.st_mode):04o})",
            hint=f"Run: chmod 600 {target}. On a FAT or exFAT stick chmod has no effect: "
            "copy the key file into your home folder and run chmod there.",
        )
    if info.st_size > _KEY_FILE_MAX_BYTES:
        raise KeyFileError(f"key file {target} is too large to be a key file")


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
        public_key = decode_b64(document["public_key"], canonical=False)
        salt = decode_b64(kdf["salt"], canonical=False)
        nonce = decode_b64(document["nonce"], canonical=False)
        ciphertext = decode_b64(document["ciphertext"], canonical=False)
    except KeyFileError:
        raise
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error) as e:
        raise problem from e
    if len(public_key) != 32 or len(nonce) != 12 or len(salt) < 16 or len(ciphertext) != 48:
        raise problem
    return public_key, salt, nonce, ciphertext, scrypt_n


def _derive(secret: bytes, salt: bytes, scrypt_n: int) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=scrypt_n, r=_SCRYPT_R, p=_SCRYPT_P)
    return kdf.derive(secret)


def _aad(public_key: bytes) -> bytes:
    return KEY_FILE_FORMAT.encode("ascii") + b"\n" + public_key
