"""Standard base64 (RFC 4648 §4): the one helper every module encodes and decodes with.

Pure: no I/O. Decoding is strict (no characters outside the alphabet, padding required)
and, by default, canonical: the text must be exactly what :func:`encode_b64` gives for the
decoded bytes, so one value has one spelling wherever it is signed, hashed or compared.
"""

from __future__ import annotations

import base64
import binascii

__all__ = ["Base64Error", "decode_b64", "encode_b64"]


class Base64Error(ValueError):
    """Text that is not (canonical) standard base64; ``str()`` says which, in plain words."""


def encode_b64(data: bytes) -> str:
    """The standard base64 text of ``data`` (with padding)."""
    return base64.b64encode(data).decode("ascii")


def decode_b64(text: str | bytes, *, canonical: bool = True) -> bytes:
    """The bytes that standard base64 ``text`` encodes.

    Raises:
        Base64Error: "not valid base64" if the text has characters outside the alphabet
            or wrong padding; "not canonical base64" if ``canonical`` and the text is not
            exactly how these bytes are written (unused bits set).
    """
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise Base64Error("not valid base64") from e
    if canonical:
        written = text if isinstance(text, str) else text.decode("ascii")
        if encode_b64(data) != written:
            raise Base64Error("not canonical base64")
    return data
