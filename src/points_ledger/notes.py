r"""C2SP signed notes, checkpoints and cosignatures with Ed25519. Pure: no I/O.

Formats (byte-compatible with Go's ``golang.org/x/mod/sumdb/note`` and
``github.com/transparency-dev/formats/note``):

* c2sp.org/signed-note: a text ending in a newline, a blank line, then signature lines
  ``— <name> base64(key_id[4] || signature)``. Key ids are
  ``SHA-256(name || 0x0A || type || public key)[:4]``; verifier keys ("vkeys") are
  ``<name>+<hex key id>+base64(type || public key)``.
* c2sp.org/tlog-checkpoint: note text ``<origin>\n<size>\n<base64 root>\n`` followed by
  optional extension lines.
* c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1`` (type ``0x04``): the signature is
  ``timestamp[8, big-endian] || Ed25519(cosignature/v1\ntime <T>\n || checkpoint text)``.

Rules this module enforces when opening a note, beyond the specification's:

* At most :data:`MAX_SIGNATURES` signature lines and :data:`MAX_NOTE_SIZE` bytes.
* Base64 must be canonical (padding present, unused bits zero), so every signature has
  exactly one spelling.
* A known key (name and key id of a given verifier) may sign only once; a second line for
  it rejects the note (Go's ``note.Open`` silently skips it, even when it is invalid).
  Repeated identical lines from unknown keys are kept once, as in Go.
* The same key given twice (equal verifiers: name, key id, type and key bytes) is one
  trusted key and counts once, as a witness quorum counts distinct keys (C2SP
  tlog-cosignature); Go's ``note.Open`` calls it ambiguous. Two *different* verifiers
  with the same name and key id (a key id collision) make that key ambiguous: a
  signature line for it rejects the note (as in Go).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from points_ledger._base64 import Base64Error, decode_b64, encode_b64
from points_ledger._ed25519_points import point_problem, signature_problem
from points_ledger.errors import NoteError

__all__ = [
    "ALG_COSIGNATURE_V1",
    "ALG_ED25519",
    "MAX_NOTE_SIZE",
    "MAX_SIGNATURES",
    "MAX_TIMESTAMP",
    "MAX_TREE_SIZE",
    "CheckpointBody",
    "Note",
    "NoteSignature",
    "NoteVerifier",
    "cosign",
    "key_id",
    "open_note",
    "sign_note",
    "vkey_for",
]

ALG_ED25519 = 0x01
"""Signature type of plain Ed25519 note signatures (c2sp.org/signed-note)."""

ALG_COSIGNATURE_V1 = 0x04
"""Signature type of timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature)."""

MAX_SIGNATURES = 100
"""Most signature lines accepted in one note (the spec requires at least 16)."""

MAX_NOTE_SIZE = 1 << 20
"""Most bytes accepted in one note, text and signatures together."""

MAX_TIMESTAMP = (1 << 63) - 1
"""Largest cosignature timestamp the specification allows."""

MAX_TREE_SIZE = (1 << 64) - 1
"""Largest checkpoint tree size (``uint64``)."""

_SIG_PREFIX = "\u2014 "  # em dash, space
_KEY_ID_SIZE = 4
_ED25519_KEY_SIZE = 32
_ED25519_SIG_SIZE = 64
_TIMESTAMP_SIZE = 8
_HASH_SIZE = 32
_MAX_VKEY_LENGTH = 4096
_ALGORITHMS = (ALG_ED25519, ALG_COSIGNATURE_V1)

# Unicode White_Space, the set Go's unicode.IsSpace uses for key names.
_WHITE_SPACE = frozenset(
    chr(c)
    for c in (
        *range(0x09, 0x0E),
        0x20,
        0x85,
        0xA0,
        0x1680,
        *range(0x2000, 0x200B),
        0x2028,
        0x2029,
        0x202F,
        0x205F,
        0x3000,
    )
)
_CONTROL_EXCEPT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f]")
_CONTROL = re.compile("[\x00-\x1f]")
_HEX8 = re.compile("[0-9a-fA-F]{8}")
_DECIMAL = re.compile("0|[1-9][0-9]{0,19}")


# --------------------------------------------------------------------------- helpers


def _b64decode(text: str, what: str) -> bytes:
    """Decode canonical standard base64 (RFC 4648 §4) or raise NoteError."""
    try:
        return decode_b64(text)
    except Base64Error as e:
        raise NoteError(f"{what} is {e}") from e


def _is_valid_name(name: object) -> TypeGuard[str]:
    if not isinstance(name, str) or not name or "+" in name:
        return False
    if any(c in _WHITE_SPACE for c in name) or _CONTROL.search(name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_name(name: object, what: str = "key name") -> str:
    if not _is_valid_name(name):
        raise NoteError(
            f"{what} {name!r} is invalid: it must be non-empty text without spaces, plus "
            "signs or control characters",
            hint="Use a schema-less URL such as example.com/ledger as the key name.",
        )
    return name


def _encode_text(text: object) -> bytes:
    """Check a note text (spec rules) and return its UTF-8 bytes."""
    if not isinstance(text, str):
        raise NoteError(f"note text must be str, got {type(text).__name__}")
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if _CONTROL_EXCEPT_NEWLINE.search(text):
        raise NoteError("note text must not contain control characters other than newline")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise NoteError("note text is not valid Unicode (lone surrogate)") from e
    if len(data) > MAX_NOTE_SIZE:
        raise NoteError(f"note text is larger than {MAX_NOTE_SIZE} bytes")
    return data


def _check_private_key(key: object) -> Ed25519PrivateKey:
    if not isinstance(key, Ed25519PrivateKey):
        raise NoteError(f"signing key must be an Ed25519PrivateKey, got {type(key).__name__}")
    return key


def key_id(name: str, algorithm: int, public_key: bytes) -> bytes:
    """Return the 4-byte key id ``SHA-256(name || 0x0A || algorithm || public_key)[:4]``.

    Args:
        name: Key name (not validated here).
        algorithm: Signature type byte, e.g. :data:`ALG_ED25519`.
        public_key: Encoded public key (32 raw bytes for Ed25519).

    Returns:
        The key id, as it appears (big-endian) in signatures and, in hex, in vkeys.
    """
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([algorithm]) + public_key)
    return digest.digest()[:_KEY_ID_SIZE]


def _line(name: str, kid: bytes, signature: bytes) -> str:
    return f"{_SIG_PREFIX}{name} {encode_b64(kid + signature)}\n"


def _cosignature_message(timestamp: int, text: bytes) -> bytes:
    return b"cosignature/v1\ntime %d\n" % timestamp + text


# --------------------------------------------------------------------------- verifiers


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted public key that can verify note signatures of one type.

    Attributes:
        name: Key name (non-empty; no spaces, plus signs or control characters).
        key_id: 4-byte key id; must equal :func:`key_id` of the other fields.
        public_key: The Ed25519 public key.
        algorithm: :data:`ALG_ED25519` for plain note signatures or
            :data:`ALG_COSIGNATURE_V1` for timestamped witness cosignatures.

    Guarantees: instances are consistent (the key id matches name, type and key); two
    verifiers are equal when name, key id, type and key bytes are equal.
    """

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey = field(compare=False)
    algorithm: int = ALG_ED25519
    public_key_bytes: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if isinstance(self.algorithm, bool) or self.algorithm not in _ALGORITHMS:
            raise NoteError(f"unsupported signature type {self.algorithm!r}; use 0x01 or 0x04")
        if not isinstance(self.public_key, Ed25519PublicKey):
            raise NoteError("public_key must be an Ed25519PublicKey")
        raw = self.public_key.public_bytes_raw()
        problem = point_problem(raw)
        if problem is not None:
            raise NoteError(
                f"the public key of {self.name} {problem}",
                hint="Do not trust this key; ask its owner for a new key pair.",
            )
        object.__setattr__(self, "public_key_bytes", raw)
        if not isinstance(self.key_id, bytes) or self.key_id != key_id(
            self.name, self.algorithm, raw
        ):
            raise NoteError(f"key id does not match name, type and public key of {self.name}")

    @classmethod
    def from_public_key(
        cls, name: str, public_key: Ed25519PublicKey, algorithm: int = ALG_ED25519
    ) -> NoteVerifier:
        """Build a verifier, computing the key id.

        Args:
            name: Key name.
            public_key: Ed25519 public key.
            algorithm: Signature type, :data:`ALG_ED25519` or :data:`ALG_COSIGNATURE_V1`.

        Returns:
            The verifier.

        Raises:
            NoteError: If the name, type or key is invalid.
        """
        _check_name(name)
        if not isinstance(public_key, Ed25519PublicKey):
            raise NoteError("public_key must be an Ed25519PublicKey")
        if isinstance(algorithm, bool) or algorithm not in _ALGORITHMS:
            raise NoteError(f"unsupported signature type {algorithm!r}; use 0x01 or 0x04")
        kid = key_id(name, algorithm, public_key.public_bytes_raw())
        return cls(name=name, key_id=kid, public_key=public_key, algorithm=algorithm)

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse a verifier key ``<name>+<hex8 key id>+base64(type || public key)``.

        Args:
            vkey: The verifier key string, e.g.
                ``PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW``.

        Returns:
            The verifier; its type is taken from the first key byte (0x01 or 0x04).

        Raises:
            NoteError: If the name is invalid, the key id is not 8 hex digits or does not
                match, the base64 is invalid, the type is not 0x01/0x04, or the key is not
                32 bytes.
        """
        if not isinstance(vkey, str) or len(vkey) > _MAX_VKEY_LENGTH:
            raise NoteError("a verifier key must be a string of reasonable length")
        name, _, rest = vkey.partition("+")
        hex_id, _, key64 = rest.partition("+")
        _check_name(name, "verifier key name")
        if not _HEX8.fullmatch(hex_id):
            raise NoteError(f"verifier key {name} has a malformed key id {hex_id!r}")
        encoded = _b64decode(key64, f"verifier key {name}")
        if not encoded:
            raise NoteError(f"verifier key {name} has no key material")
        if key_id(name, encoded[0], encoded[1:]) != bytes.fromhex(hex_id):
            raise NoteError(f"verifier key {name} has a key id that does not match its key")
        algorithm, raw = encoded[0], encoded[1:]
        if algorithm not in _ALGORITHMS:
            raise NoteError(f"verifier key {name} has unsupported signature type {algorithm}")
        if len(raw) != _ED25519_KEY_SIZE:
            raise NoteError(f"verifier key {name} is {len(raw)} bytes, not 32")
        public_key = Ed25519PublicKey.from_public_bytes(raw)
        return cls(
            name=name, key_id=bytes.fromhex(hex_id), public_key=public_key, algorithm=algorithm
        )

    def to_vkey(self) -> str:
        """Return the verifier key string (lower-case hex key id, as Go writes it)."""
        material = bytes([self.algorithm]) + self.public_key_bytes
        return f"{self.name}+{self.key_id.hex()}+{encode_b64(material)}"

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Report whether ``sig`` is a valid signature of ``msg`` by this key.

        For :data:`ALG_COSIGNATURE_V1`, ``sig`` is ``timestamp[8] || signature[64]`` and
        ``msg`` the cosigned checkpoint text; the timestamp must not exceed
        :data:`MAX_TIMESTAMP`.

        Args:
            msg: The note text, as UTF-8 bytes, including its final newline.
            sig: The signature bytes after the 4-byte key id.

        Returns:
            True if the signature verifies; False otherwise (never raises).
        """
        if not isinstance(msg, bytes) or not isinstance(sig, bytes):
            return False
        if self.algorithm == ALG_COSIGNATURE_V1:
            if len(sig) != _TIMESTAMP_SIZE + _ED25519_SIG_SIZE or msg.count(b"\n") < 2:
                return False
            timestamp = int.from_bytes(sig[:_TIMESTAMP_SIZE], "big")
            if timestamp > MAX_TIMESTAMP:
                return False
            msg, sig = _cosignature_message(timestamp, msg), sig[_TIMESTAMP_SIZE:]
        if len(sig) != _ED25519_SIG_SIZE or signature_problem(sig) is not None:
            return False
        try:
            self.public_key.verify(sig, msg)
        except InvalidSignature:
            return False
        return True


def vkey_for(name: str, public_key: Ed25519PublicKey, algorithm: int = ALG_ED25519) -> str:
    """Return the verifier key string for ``public_key`` under ``name``.

    Args:
        name: Key name.
        public_key: Ed25519 public key.
        algorithm: :data:`ALG_ED25519` (default) or :data:`ALG_COSIGNATURE_V1`.

    Returns:
        ``<name>+<hex8 key id>+base64(type || public key)``.

    Raises:
        NoteError: If the name, type or key is invalid.
    """
    return NoteVerifier.from_public_key(name, public_key, algorithm).to_vkey()


# --------------------------------------------------------------------------- notes


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note.

    Attributes:
        name: Key name from the signature line.
        key_id: The 4-byte key id from the start of the signature.
        signature: The signature bytes after the key id.
        algorithm: Signature type of the verifier that checked it; ``None`` for an
            unverified signature (its type is unknown).
    """

    name: str
    key_id: bytes
    signature: bytes
    algorithm: int | None = None

    @property
    def timestamp(self) -> int | None:
        """POSIX time of a verified ``cosignature/v1`` signature, else ``None``."""
        if self.algorithm != ALG_COSIGNATURE_V1:
            return None
        return int.from_bytes(self.signature[:_TIMESTAMP_SIZE], "big")

    def to_line(self) -> str:
        r"""Return the signature line ``— <name> base64(key_id || signature)\n``."""
        return _line(self.name, self.key_id, self.signature)


@dataclass(frozen=True)
class Note:
    """An opened note: its text and signatures.

    Attributes:
        text: The note text, including its final newline.
        signatures: Signatures that verified with a trusted key (at least one).
        unverified_signatures: Signatures from keys the caller does not know.
    """

    text: str
    signatures: tuple[NoteSignature, ...]
    unverified_signatures: tuple[NoteSignature, ...] = ()


def sign_note(text: str, name: str, key: Ed25519PrivateKey) -> str:
    r"""Sign ``text`` with an Ed25519 key and return the whole signed note.

    Ed25519 is deterministic, so the same text, name and key always give the same note.

    Args:
        text: Note text; must end with a newline and contain no control characters other
            than newline.
        name: Key name.
        key: Ed25519 private key.

    Returns:
        ``text + "\n" + "— <name> base64(key_id || signature)\n"``.

    Raises:
        NoteError: If the text, name or key is invalid.
    """
    data = _encode_text(text)
    _check_name(name)
    signer = _check_private_key(key)
    kid = key_id(name, ALG_ED25519, signer.public_key().public_bytes_raw())
    return text + "\n" + _line(name, kid, signer.sign(data))


def open_note(note: str | bytes, verifiers: Iterable[NoteVerifier]) -> Note:
    """Parse a signed note and verify its signatures (c2sp.org/signed-note).

    Signatures whose name and key id match no verifier are kept as unverified. A
    signature from a known key that fails to verify rejects the note, and so does a note
    without any verified signature. A verifier given more than once counts once.

    Args:
        note: The signed note, as text or UTF-8 bytes.
        verifiers: Trusted keys (plain and/or cosignature verifiers).

    Returns:
        The note with its verified and unverified signatures, in note order.

    Raises:
        NoteError: For every problem: wrong types, invalid UTF-8, control characters,
            missing blank line, malformed signature lines or base64, signatures shorter
            than 5 bytes, too many signatures, an oversized note, ambiguous or repeated
            known keys, a failed signature, or no verified signature.
    """
    data = _note_bytes(note)
    try:
        msg = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NoteError("note is not valid UTF-8") from e
    if _CONTROL_EXCEPT_NEWLINE.search(msg):
        raise NoteError("note contains control characters other than newline")
    split = msg.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = msg[: split + 1], msg[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("note has no signature lines, or the last one lacks a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signatures; at most {MAX_SIGNATURES} allowed")

    known = _index_verifiers(verifiers)
    text_bytes = text.encode("utf-8")
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen_known: set[tuple[str, bytes]] = set()
    seen_lines: set[str] = set()
    for line in lines:
        name, kid, sig = _parse_signature_line(line)
        candidates = known.get((name, kid))
        if candidates is None:
            if line not in seen_lines:
                seen_lines.add(line)
                unverified.append(NoteSignature(name, kid, sig))
            continue
        label = f"{name}+{kid.hex()}"
        if len(candidates) > 1:
            raise NoteError(f"ambiguous key {label}: several verifiers share name and key id")
        if (name, kid) in seen_known:
            raise NoteError(f"key {label} signed the note more than once")
        seen_known.add((name, kid))
        verifier = candidates[0]
        if not verifier.verify(text_bytes, sig):
            problem = signature_problem(sig[-_ED25519_SIG_SIZE:])
            reason = f": the signature {problem}" if problem is not None else ""
            raise NoteError(
                f"invalid signature for key {label}{reason}",
                hint="The note was altered or signed by another key; do not trust its text.",
            )
        verified.append(NoteSignature(name, kid, sig, verifier.algorithm))
    if not verified:
        raise NoteError(
            "note has no verifiable signatures",
            details={"unverified": [f"{s.name}+{s.key_id.hex()}" for s in unverified]},
        )
    return Note(text=text, signatures=tuple(verified), unverified_signatures=tuple(unverified))


def _note_bytes(note: object) -> bytes:
    if isinstance(note, str):
        try:
            data = note.encode("utf-8")
        except UnicodeEncodeError as e:
            raise NoteError("note is not valid Unicode (lone surrogate)") from e
    elif isinstance(note, bytes):
        data = note
    else:
        raise NoteError(f"a note must be str or bytes, got {type(note).__name__}")
    if len(data) > MAX_NOTE_SIZE:
        raise NoteError(f"note is larger than {MAX_NOTE_SIZE} bytes")
    return data


def _index_verifiers(verifiers: object) -> dict[tuple[str, bytes], list[NoteVerifier]]:
    if isinstance(verifiers, str | bytes | NoteVerifier) or not isinstance(verifiers, Iterable):
        raise NoteError("verifiers must be an iterable of NoteVerifier")
    known: dict[tuple[str, bytes], list[NoteVerifier]] = {}
    for verifier in verifiers:
        if not isinstance(verifier, NoteVerifier):
            raise NoteError(f"not a NoteVerifier: {type(verifier).__name__}")
        same_id = known.setdefault((verifier.name, verifier.key_id), [])
        if verifier not in same_id:  # the same trusted key listed twice is one key
            same_id.append(verifier)
    return known


def _parse_signature_line(line: str) -> tuple[str, bytes, bytes]:
    if not line.startswith(_SIG_PREFIX):
        raise NoteError("signature line does not start with an em dash and a space")
    name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
    _check_name(name, "signature name")
    if not b64:
        raise NoteError(f"signature line for {name} has no signature")
    raw = _b64decode(b64, f"signature of {name}")
    if len(raw) < _KEY_ID_SIZE + 1:
        raise NoteError(f"signature of {name} is shorter than 5 bytes")
    return name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:]


# --------------------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class CheckpointBody:
    """The body of a c2sp.org/tlog-checkpoint: a log's tree head, without signatures.

    (Formerly named ``Checkpoint``; that name still works and warns.)

    Attributes:
        origin: Log identity (non-empty, single line), e.g. ``example.com/ledger``.
        size: Number of leaves, ``0 <= size <= 2**64 - 1``.
        root_hash: 32-byte RFC 9162 root at ``size``.
        extensions: Optional extra lines, each non-empty (not recommended by the spec).
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin:
            raise NoteError("checkpoint origin must be a non-empty string")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise NoteError("checkpoint size must be an integer")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteError(f"checkpoint size {self.size} is outside 0..2**64-1")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != _HASH_SIZE:
            raise NoteError("checkpoint root hash must be 32 bytes")
        if not isinstance(self.extensions, tuple) or not all(
            isinstance(line, str) and line for line in self.extensions
        ):
            raise NoteError("checkpoint extensions must be a tuple of non-empty strings")
        for line in (self.origin, *self.extensions):
            if _CONTROL.search(line):
                raise NoteError("checkpoint lines must not contain control characters")
        _encode_text(self.to_text())

    def to_text(self) -> str:
        r"""Return the note text ``origin\nsize\nbase64(root)\n`` plus extension lines."""
        lines = [self.origin, str(self.size), encode_b64(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> CheckpointBody:
        """Parse checkpoint note text strictly.

        Args:
            text: The note text (not the signed note): at least three lines, each ending
                in a newline.

        Returns:
            The checkpoint; ``to_text()`` gives back exactly ``text``.

        Raises:
            NoteError: If the text is not a string, does not end in a newline, has fewer
                than three lines, an empty origin or extension line, a size that is not
                canonical decimal (no sign, no leading zeros) within ``uint64``, or a root
                that is not canonical base64 of 32 bytes.
        """
        _encode_text(text)
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("checkpoint must have origin, size and root hash lines")
        origin, size_line, root_line, *extensions = lines
        if not _DECIMAL.fullmatch(size_line):
            raise NoteError(f"checkpoint size {size_line!r} is not a canonical decimal")
        root_hash = _b64decode(root_line, "checkpoint root hash")
        return cls(origin, int(size_line), root_hash, tuple(extensions))


def cosign(checkpoint_text: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    r"""Cosign a checkpoint as a witness (c2sp.org/tlog-cosignature, Ed25519 v1).

    The signed message is ``cosignature/v1\ntime <timestamp>\n`` followed by the
    checkpoint text; the key id uses type ``0x04``.

    Args:
        checkpoint_text: The checkpoint note text (see :meth:`CheckpointBody.from_text`).
        name: Cosigner key name.
        key: Cosigner Ed25519 private key.
        timestamp: POSIX seconds, ``0 <= timestamp <= 2**63 - 1``; passed in, never read
            from the clock here.

    Returns:
        The signature line ``— <name> base64(key_id || timestamp[8] || sig[64])\n``, to
        append to the signed checkpoint.

    Raises:
        NoteError: If the checkpoint text, name, key or timestamp is invalid.
    """
    CheckpointBody.from_text(checkpoint_text)
    data = _encode_text(checkpoint_text)
    _check_name(name)
    signer = _check_private_key(key)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise NoteError("cosignature timestamp must be an integer")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"cosignature timestamp {timestamp} is outside 0..2**63-1")
    kid = key_id(name, ALG_COSIGNATURE_V1, signer.public_key().public_bytes_raw())
    signature = signer.sign(_cosignature_message(timestamp, data))
    return _line(name, kid, timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signature)


def __getattr__(name: str) -> Any:
    """``Checkpoint``: the former name of :class:`CheckpointBody` (deprecated)."""
    if name == "Checkpoint":
        warnings.warn(
            "points_ledger.notes.Checkpoint is now CheckpointBody (the unsigned body of a "
            "checkpoint); the old name will be removed",
            DeprecationWarning,
            stacklevel=2,
        )
        return CheckpointBody
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
