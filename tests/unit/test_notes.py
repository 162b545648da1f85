"""Tests for points_ledger.notes: Go interop known answers and every rejection rule.

Known-answer vectors:

* PeterNeumann / EnochRoot keys, texts and signatures: golang/mod ``sumdb/note/note_test.go``
  (TestNewVerifier, TestSign, TestOpen; commit 02c991387e35f9e4c0a9b7ce137717055f8d716d,
  https://github.com/golang/mod/blob/master/sumdb/note/note_test.go). The private key is
  Go's ``skey`` ``PRIVATE+KEY+PeterNeumann+c74f20a3+AYEK...`` (base64 of 0x01 || seed).
* Cosignature verifier keys (``remora.n621.de+da77ade7+BOvN...`` type 0x04, ``TEST+7997405c+
  AQcC...`` type 0x01) and the cosignature ``ZGhGuQ...`` with timestamp 1727964367:
  transparency-dev/formats ``note/note_cosigv1_test.go`` (TestCoSigV1NewVerifier,
  TestCosignatureTimestamp).
* The witness line ``jWbPPwAAAABkGFDL...`` with timestamp 1679315147: the example in
  C2SP ``tlog-cosignature.md``.
"""

from __future__ import annotations

import base64
import copy

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from points_ledger.errors import NoteError
from points_ledger.notes import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    MAX_SIGNATURES,
    CheckpointBody,
    NoteSignature,
    NoteVerifier,
    cosign,
    key_id,
    open_note,
    sign_note,
    vkey_for,
)

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
GO_SIGNED = TEXT + "\n" + PETER_SIG

ROOT = bytes(range(32))


def peter_key() -> Ed25519PrivateKey:
    encoded = base64.b64decode(PETER_SKEY.split("+", 4)[4])
    assert encoded[0] == ALG_ED25519
    return Ed25519PrivateKey.from_private_bytes(encoded[1:])


@pytest.fixture
def peter() -> NoteVerifier:
    return NoteVerifier.from_vkey(PETER_VKEY)


@pytest.fixture
def enoch() -> NoteVerifier:
    return NoteVerifier.from_vkey(ENOCH_VKEY)


# --------------------------------------------------------------------------- Go interop


def test_vkey_and_key_id_match_go() -> None:
    key = peter_key()
    assert vkey_for("PeterNeumann", key.public_key()) == PETER_VKEY
    raw = key.public_key().public_bytes_raw()
    assert key_id("PeterNeumann", ALG_ED25519, raw).hex() == "c74f20a3"
    verifier = NoteVerifier.from_vkey(PETER_VKEY)
    assert verifier.name == "PeterNeumann"
    assert verifier.key_id == bytes.fromhex("c74f20a3")
    assert verifier.public_key_bytes == raw
    assert verifier.algorithm == ALG_ED25519
    assert verifier.to_vkey() == PETER_VKEY


def test_sign_note_is_byte_identical_to_go() -> None:
    assert sign_note(TEXT, "PeterNeumann", peter_key()) == GO_SIGNED


def test_open_go_signed_note(peter: NoteVerifier) -> None:
    for form in (GO_SIGNED, GO_SIGNED.encode()):
        note = open_note(form, [peter])
        assert note.text == TEXT
        assert [s.to_line() for s in note.signatures] == [PETER_SIG]
        assert note.signatures[0].key_id == bytes.fromhex("c74f20a3")
        assert note.unverified_signatures == ()


def test_open_one_verified_one_unknown(peter: NoteVerifier, enoch: NoteVerifier) -> None:
    msg = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    note = open_note(msg, [peter])
    assert [s.name for s in note.signatures] == ["PeterNeumann"]
    assert [s.to_line() for s in note.unverified_signatures] == [ENOCH_SIG]
    assert note.unverified_signatures[0].key_id == bytes.fromhex("af0cfe78")
    both = open_note(msg, [peter, enoch])
    assert [s.to_line() for s in both.signatures] == [PETER_SIG, ENOCH_SIG]
    assert both.unverified_signatures == ()


def test_no_known_signature_rejects() -> None:
    with pytest.raises(NoteError, match="no verifiable signatures"):
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])


def test_the_same_verifier_given_twice_counts_once(
    peter: NoteVerifier, enoch: NoteVerifier
) -> None:
    # One trusted key listed twice is not ambiguous (Go's note.Open says it is): the
    # note opens, and the key's signature is there once.
    note = open_note(TEXT + "\n" + ENOCH_SIG, [enoch, peter, enoch])
    assert [s.to_line() for s in note.signatures] == [ENOCH_SIG]
    both = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter, enoch, peter, enoch])
    assert [s.to_line() for s in both.signatures] == [PETER_SIG, ENOCH_SIG]
    with pytest.raises(NoteError, match="more than once"):
        open_note(TEXT + "\n" + ENOCH_SIG + ENOCH_SIG, [enoch, enoch])


def test_different_verifiers_sharing_name_and_key_id_are_ambiguous(
    peter: NoteVerifier, enoch: NoteVerifier
) -> None:
    # A key id collision (two keys whose 4-byte ids agree) takes about 2**32 tries to
    # find, so the second key is made by hand: enoch's name and id over other key bytes.
    collision = copy.copy(enoch)
    object.__setattr__(collision, "public_key_bytes", peter.public_key_bytes)
    assert collision != enoch
    with pytest.raises(NoteError, match="ambiguous key"):
        open_note(TEXT + "\n" + ENOCH_SIG, [enoch, peter, collision])
    # An unused ambiguity does not matter (as in Go).
    open_note(TEXT + "\n" + PETER_SIG, [enoch, peter, collision])


def test_invalid_signature_from_known_key_rejects(peter: NoteVerifier) -> None:
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteError, match="invalid signature for key PeterNeumann"):
        open_note(TEXT + "\n" + bad, [peter])


def test_unknown_signature_sharing_name_or_id_is_ignored(peter: NoteVerifier) -> None:
    # Same name, other key id; same key id, other name: both unknown, both ignored.
    other_id = "— PeterNeumann " + base64.b64encode(b"\x00\x00\x00\x00" + b"x" * 64).decode()
    other_name = "— Someone " + base64.b64encode(bytes.fromhex("c74f20a3") + b"x" * 64).decode()
    note = open_note(TEXT + "\n" + PETER_SIG + other_id + "\n" + other_name + "\n", [peter])
    assert len(note.signatures) == 1
    assert [s.name for s in note.unverified_signatures] == ["PeterNeumann", "Someone"]


def test_repeated_unknown_lines_are_kept_once(peter: NoteVerifier) -> None:
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG + ENOCH_SIG, [peter])
    assert len(note.unverified_signatures) == 1


def test_repeated_known_signature_rejects(peter: NoteVerifier) -> None:
    # Stricter than Go, which skips the repeat (even an invalid one) silently.
    with pytest.raises(NoteError, match="more than once"):
        open_note(TEXT + "\n" + PETER_SIG + PETER_SIG, [peter])


def test_too_many_signatures(peter: NoteVerifier) -> None:
    many = TEXT + "\n" + PETER_SIG + ENOCH_SIG * (MAX_SIGNATURES - 1)
    assert len(open_note(many, [peter]).signatures) == 1
    with pytest.raises(NoteError, match="at most"):
        open_note(many + ENOCH_SIG, [peter])


BAD_MESSAGES = [
    pytest.param(TEXT, id="no signatures"),
    pytest.param(TEXT + "\n", id="blank line only"),
    pytest.param(TEXT + "\n" + PETER_SIG[:-1], id="no final newline"),
    pytest.param("\x01" + GO_SIGNED, id="control char"),
    pytest.param("\t" + GO_SIGNED, id="tab"),
    pytest.param(GO_SIGNED.replace("\n", "\r\n"), id="crlf"),
    pytest.param(b"\xff" + GO_SIGNED.encode(), id="bad utf-8"),
    pytest.param(b"\xed\xa0\x80" + GO_SIGNED.encode(), id="utf-8 surrogate"),
    pytest.param(b"\xc0\xaf" + GO_SIGNED.encode(), id="overlong utf-8"),
    pytest.param("\ud800" + GO_SIGNED, id="lone surrogate str"),
    pytest.param(TEXT + "\n— Bad Name " + PETER_SIG.split()[-1] + "\n", id="space in name"),
    pytest.param(TEXT + "\n— a+b " + PETER_SIG.split()[-1] + "\n", id="plus in name"),
    pytest.param(TEXT + "\n" + PETER_SIG + "Unexpected line.\n", id="unexpected line"),
    pytest.param(TEXT + "\n- PeterNeumann " + PETER_SIG.split()[-1] + "\n", id="hyphen"),
    pytest.param(TEXT + "\n—PeterNeumann " + PETER_SIG.split()[-1] + "\n", id="no space"),
    pytest.param(TEXT + "\n— PeterNeumann\n", id="no signature"),
    pytest.param(TEXT + "\n— PeterNeumann \n", id="empty signature"),
    pytest.param(TEXT + "\n— " + PETER_SIG.split()[-1] + "\n", id="no name"),
    pytest.param(TEXT + "\n— PeterNeumann x08go/ZJ!!!\n", id="bad base64"),
    pytest.param(TEXT + "\n— PeterNeumann x08go/ZJ\n", id="truncated signature"),
    pytest.param(TEXT + "\n— PeterNeumann x08gow==\n", id="4-byte signature"),
    pytest.param(TEXT + "\n— PeterNeumann x08gox==\n", id="non-canonical base64"),
    pytest.param(TEXT + "\n" + PETER_SIG[:-2] + "\n", id="signature missing padding"),
    pytest.param(TEXT + "\n" + PETER_SIG.replace(" x08", "  x08"), id="double space"),
    pytest.param(TEXT + "\n" + PETER_SIG + "\n", id="trailing blank line"),
    pytest.param("", id="empty"),
    pytest.param(b"", id="empty bytes"),
    pytest.param("\n\n", id="only blank lines"),
    pytest.param(bytearray(GO_SIGNED.encode()), id="bytearray"),
    pytest.param(None, id="None"),
    pytest.param(12, id="int"),
    pytest.param("x" * (1 << 20) + "\n\n" + PETER_SIG, id="oversized"),
]


@pytest.mark.parametrize("msg", BAD_MESSAGES)
def test_malformed_notes_raise_note_error(msg: object, peter: NoteVerifier) -> None:
    with pytest.raises(NoteError):
        open_note(msg, [peter])  # type: ignore[arg-type]


def test_text_may_contain_blank_lines(peter: NoteVerifier) -> None:
    key = peter_key()
    for text in ("a\n\nb\n", "a\n\n", "\n", "x\n\n\n"):
        note = open_note(sign_note(text, "PeterNeumann", key), [peter])
        assert note.text == text


@pytest.mark.parametrize("bad", [None, "vkey", [1], [PETER_VKEY], 5])
def test_bad_verifier_collections(bad: object) -> None:
    with pytest.raises(NoteError):
        open_note(GO_SIGNED, bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- vkeys


def test_vkey_manglings_are_rejected() -> None:
    # As Go's TestNewVerifier: every proper substring and every single-byte increment.
    b = PETER_VKEY
    for i in range(len(b) + 1):
        for j in range(i + 1, len(b) + 1):
            if (i, j) != (0, len(b)):
                with pytest.raises(NoteError):
                    NoteVerifier.from_vkey(b[i:j])
    for i in range(len(b)):
        mangled = b[:i] + chr(ord(b[i]) + 1) + b[i + 1 :]
        with pytest.raises(NoteError):
            NoteVerifier.from_vkey(mangled)


@pytest.mark.parametrize(
    "vkey",
    [
        # From Go's TestNewVerifier: wrong key length and unknown algorithm, each with a
        # key id adjusted to match.
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        # From transparency-dev/formats TestCoSigV1NewVerifier.
        "bananas.sigstore.dev+12344556",
        "rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!",
        "rekor.sigstore.dev+12345678+AwEB",
        "",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+",
        "PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
    ],
)
def test_bad_vkeys(vkey: str) -> None:
    with pytest.raises(NoteError):
        NoteVerifier.from_vkey(vkey)


def test_vkey_wrong_type_rejected() -> None:
    for value in (None, b"x", 1):
        with pytest.raises(NoteError):
            NoteVerifier.from_vkey(value)  # type: ignore[arg-type]
    key = peter_key().public_key()
    for algorithm in (0, 2, 5, True, 0x104):
        with pytest.raises(NoteError):
            vkey_for("x", key, algorithm)


def test_upper_case_hex_key_id_accepted_like_go() -> None:
    name, kid, material = PETER_VKEY.split("+", 2)
    verifier = NoteVerifier.from_vkey(f"{name}+{kid.upper()}+{material}")
    assert verifier.to_vkey() == PETER_VKEY


def test_cosignature_vkeys_from_transparency_dev() -> None:
    native = NoteVerifier.from_vkey(
        "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
    )
    assert native.algorithm == ALG_COSIGNATURE_V1
    assert native.key_id == bytes.fromhex("da77ade7")
    plain = NoteVerifier.from_vkey("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6")
    assert plain.algorithm == ALG_ED25519
    assert vkey_for("TEST", plain.public_key) == plain.to_vkey()


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\u00a0b", "a\u3000b", "a\tb", "\ud800"])
def test_invalid_names(name: str) -> None:
    key = peter_key()
    with pytest.raises(NoteError):
        vkey_for(name, key.public_key())
    with pytest.raises(NoteError):
        sign_note("hello\n", name, key)


def test_verifier_consistency_is_enforced() -> None:
    key = peter_key().public_key()
    good = NoteVerifier.from_public_key("PeterNeumann", key)
    with pytest.raises(NoteError):
        NoteVerifier("PeterNeumann", b"\x00\x00\x00\x00", key)
    with pytest.raises(NoteError):
        NoteVerifier("PeterNeumann", good.key_id, key, ALG_COSIGNATURE_V1)
    assert good == NoteVerifier.from_vkey(PETER_VKEY)
    assert hash(good) == hash(NoteVerifier.from_vkey(PETER_VKEY))


def test_verify_never_raises(peter: NoteVerifier) -> None:
    assert not peter.verify(b"x", b"")
    assert not peter.verify(b"x", b"y" * 64)
    assert not peter.verify("x", b"y" * 64)  # type: ignore[arg-type]
    assert not peter.verify(b"x", None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- signing


@pytest.mark.parametrize(
    "text", ["", "no newline", "a\x00b\n", "tab\there\n", "cr\r\n", "\ud800\n"]
)
def test_sign_note_rejects_bad_text(text: str) -> None:
    with pytest.raises(NoteError):
        sign_note(text, "PeterNeumann", peter_key())


def test_sign_note_rejects_bad_key() -> None:
    with pytest.raises(NoteError):
        sign_note("hi\n", "x", peter_key().public_key())  # type: ignore[arg-type]
    with pytest.raises(NoteError):
        sign_note("hi\n", "x", b"secret")  # type: ignore[arg-type]


def test_second_signer_by_appending(peter: NoteVerifier) -> None:
    other = Ed25519PrivateKey.generate()
    other_verifier = NoteVerifier.from_public_key("example.com/other", other.public_key())
    signed = sign_note(TEXT, "PeterNeumann", peter_key())
    extra = sign_note(TEXT, "example.com/other", other).split("\n\n")[-1]
    note = open_note(signed + extra, [peter, other_verifier])
    assert [s.name for s in note.signatures] == ["PeterNeumann", "example.com/other"]


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip() -> None:
    cp = CheckpointBody("example.com/ledger", 20852163, ROOT)
    text = cp.to_text()
    assert text == "example.com/ledger\n20852163\n" + base64.b64encode(ROOT).decode() + "\n"
    assert CheckpointBody.from_text(text) == cp
    ext = CheckpointBody("o", 0, ROOT, ("ext one", "ext two"))
    assert ext.to_text().endswith("\next one\next two\n")
    assert CheckpointBody.from_text(ext.to_text()) == ext


def test_spec_example_checkpoint_parses() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = CheckpointBody.from_text(text)
    assert (cp.origin, cp.size, cp.to_text()) == ("example.com/behind-the-sofa", 20852163, text)


ROOT64 = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "o\n1\n",
        f"o\n1\n{ROOT64}",
        f"\n1\n{ROOT64}\n",
        f"o\n01\n{ROOT64}\n",
        f"o\n+1\n{ROOT64}\n",
        f"o\n-1\n{ROOT64}\n",
        f"o\n 1\n{ROOT64}\n",
        f"o\n1.0\n{ROOT64}\n",
        f"o\n\u0661\n{ROOT64}\n",  # Arabic-Indic digit one
        f"o\n{2**64}\n{ROOT64}\n",
        f"o\n{'9' * 30}\n{ROOT64}\n",
        f"o\n\n{ROOT64}\n",
        "o\n1\nAAAA\n",
        f"o\n1\n{ROOT64[:-1]}\n",
        f"o\n1\n{base64.b64encode(bytes(33)).decode()}\n",
        f"o\n1\n{ROOT64}\n\n",
        f"o\n1\n{ROOT64}\next\n\nmore\n",
        f"o\n1\n{ROOT64}\r\n",
        f"o\t\n1\n{ROOT64}\n",
    ],
)
def test_checkpoint_from_text_is_strict(text: str) -> None:
    with pytest.raises(NoteError):
        CheckpointBody.from_text(text)


def test_checkpoint_construction_is_validated() -> None:
    with pytest.raises(NoteError):
        CheckpointBody("", 1, ROOT)
    with pytest.raises(NoteError):
        CheckpointBody("o\nx", 1, ROOT)
    with pytest.raises(NoteError):
        CheckpointBody("o", -1, ROOT)
    with pytest.raises(NoteError):
        CheckpointBody("o", True, ROOT)
    with pytest.raises(NoteError):
        CheckpointBody("o", 1, ROOT[:31])
    with pytest.raises(NoteError):
        CheckpointBody("o", 1, ROOT, ("",))
    with pytest.raises(NoteError):
        CheckpointBody("o", 1, ROOT, ["x"])  # type: ignore[arg-type]
    assert CheckpointBody("o", 2**64 - 1, ROOT).size == 2**64 - 1
    with pytest.raises(NoteError):
        CheckpointBody("o", 2**64, ROOT)
    with pytest.raises(NoteError):
        CheckpointBody.from_text(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- cosignatures


def test_cosignature_round_trip() -> None:
    log_key = Ed25519PrivateKey.generate()
    witness_key = Ed25519PrivateKey.generate()
    log = NoteVerifier.from_public_key("example.com/ledger", log_key.public_key())
    witness = NoteVerifier.from_vkey(
        vkey_for("witness.example/w1", witness_key.public_key(), ALG_COSIGNATURE_V1)
    )
    body = CheckpointBody("example.com/ledger", 42, ROOT).to_text()
    line = cosign(body, "witness.example/w1", witness_key, 1679315147)
    signed = sign_note(body, "example.com/ledger", log_key) + line

    note = open_note(signed, [log, witness])
    assert [s.name for s in note.signatures] == ["example.com/ledger", "witness.example/w1"]
    assert note.signatures[0].timestamp is None
    assert note.signatures[1].timestamp == 1679315147
    assert note.signatures[1].algorithm == ALG_COSIGNATURE_V1

    # Layout: key id (type 0x04) || 8-byte big-endian time || 64-byte signature.
    raw = base64.b64decode(line.split(" ")[-1])
    assert len(raw) == 4 + 8 + 64
    assert raw[:4] == key_id("witness.example/w1", 4, witness_key.public_key().public_bytes_raw())
    assert int.from_bytes(raw[4:12], "big") == 1679315147
    message = b"cosignature/v1\ntime 1679315147\n" + body.encode()
    witness_key.public_key().verify(raw[12:], message)  # raises if the bytes are wrong

    # The witness alone is enough to open the note; the log signature is then unknown.
    only_witness = open_note(signed, [witness])
    assert [s.name for s in only_witness.unverified_signatures] == ["example.com/ledger"]

    # A plain (0x01) verifier for the witness key does not match the 0x04 key id.
    plain = NoteVerifier.from_public_key("witness.example/w1", witness_key.public_key())
    with pytest.raises(NoteError):
        open_note(body + "\n" + line, [plain])


def test_cosignature_covers_timestamp_and_text() -> None:
    witness_key = Ed25519PrivateKey.generate()
    witness = NoteVerifier.from_public_key("w", witness_key.public_key(), ALG_COSIGNATURE_V1)
    body = CheckpointBody("o", 7, ROOT, ("extension",)).to_text()
    line = cosign(body, "w", witness_key, 1000)
    open_note(body + "\n" + line, [witness])
    raw = bytearray(base64.b64decode(line.split(" ")[-1]))
    raw[11] ^= 1  # timestamp 1000 -> 1001
    forged = line.split(" ")[0] + " w " + base64.b64encode(bytes(raw)).decode() + "\n"
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(body + "\n" + forged, [witness])
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(body.replace("extension", "extensioN") + "\n" + line, [witness])


def test_cosignature_timestamp_layout_known_answers() -> None:
    # transparency-dev/formats TestCosignatureTimestamp.
    raw = base64.b64decode(
        "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWW"
        "OworDcFiEBYJXORmnFBOBA=="
    )
    assert NoteSignature("w", raw[:4], raw[4:], ALG_COSIGNATURE_V1).timestamp == 1727964367
    # C2SP tlog-cosignature example line, whose message has "time 1679315147".
    raw = base64.b64decode(
        "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5"
        "nNo0xUe+mbIUBkBIfZ+qnA=="
    )
    assert NoteSignature("w", raw[:4], raw[4:], ALG_COSIGNATURE_V1).timestamp == 1679315147
    assert NoteSignature("w", raw[:4], raw[4:]).timestamp is None


@pytest.mark.parametrize("timestamp", [-1, 2**63, True, 1.5, "1"])
def test_cosign_rejects_bad_timestamps(timestamp: object) -> None:
    body = CheckpointBody("o", 1, ROOT).to_text()
    with pytest.raises(NoteError):
        cosign(body, "w", Ed25519PrivateKey.generate(), timestamp)  # type: ignore[arg-type]


def test_cosign_accepts_extreme_timestamps() -> None:
    key = Ed25519PrivateKey.generate()
    witness = NoteVerifier.from_public_key("w", key.public_key(), ALG_COSIGNATURE_V1)
    body = CheckpointBody("o", 1, ROOT).to_text()
    for t in (0, 2**63 - 1):
        note = open_note(body + "\n" + cosign(body, "w", key, t), [witness])
        assert note.signatures[0].timestamp == t


def test_cosignature_with_timestamp_above_limit_is_rejected() -> None:
    key = Ed25519PrivateKey.generate()
    witness = NoteVerifier.from_public_key("w", key.public_key(), ALG_COSIGNATURE_V1)
    body = CheckpointBody("o", 1, ROOT).to_text()
    t = 2**63
    sig = key.sign(b"cosignature/v1\ntime %d\n" % t + body.encode())
    raw = witness.key_id + t.to_bytes(8, "big") + sig
    line = "— w " + base64.b64encode(raw).decode() + "\n"
    with pytest.raises(NoteError):
        open_note(body + "\n" + line, [witness])


@pytest.mark.parametrize("body", ["not a checkpoint\n", "o\n01\nAAAA\n", "o\n1\n"])
def test_cosign_requires_a_checkpoint(body: str) -> None:
    with pytest.raises(NoteError):
        cosign(body, "w", Ed25519PrivateKey.generate(), 1)
