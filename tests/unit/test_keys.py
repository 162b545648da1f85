"""Signers and key files: 0600 files, refusal of unsafe files, no secret in repr."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from points_ledger import (
    InvalidEventError,
    KeyFileError,
    LedgerError,
    Signer,
    WrongPassphraseError,
    load_signer,
    save_signer,
)
from points_ledger.keys import SCRYPT_N_MIN, key_id, verify_signature

PASSPHRASE = "correct horse battery staple"
SEED = bytes(range(32))


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real key file (scrypt at full strength costs about half a second)."""
    path = tmp_path_factory.mktemp("keys") / "admin.key"
    save_signer(Signer.from_seed(SEED), path, PASSPHRASE, scrypt_n=SCRYPT_N_MIN)
    return path


def test_key_file_is_private_and_loads_back(key_file: Path) -> None:
    assert stat.S_IMODE(os.lstat(key_file).st_mode) == 0o600
    loaded = load_signer(key_file, PASSPHRASE)
    assert loaded.public_key == Signer.from_seed(SEED).public_key
    assert loaded.sign(b"m") == Signer.from_seed(SEED).sign(b"m")


def test_key_file_does_not_contain_the_seed(key_file: Path) -> None:
    raw = key_file.read_bytes()
    assert SEED not in raw
    assert base64.b64encode(SEED) not in raw
    assert SEED.hex().encode() not in raw


def test_wrong_passphrase(key_file: Path) -> None:
    with pytest.raises(WrongPassphraseError) as info:
        load_signer(key_file, PASSPHRASE + "!")
    assert info.value.code == "wrong_passphrase"
    assert isinstance(info.value, LedgerError)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_group_or_world_access_is_refused(key_file: Path, tmp_path: Path, mode: int) -> None:
    copy = tmp_path / "copy.key"
    copy.write_bytes(key_file.read_bytes())
    os.chmod(copy, mode)
    with pytest.raises(KeyFileError) as info:
        load_signer(copy, PASSPHRASE)
    assert info.value.code == "key_file_unsafe"
    assert "chmod 600" in info.value.hint


def test_symlink_is_refused(key_file: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.key"
    link.symlink_to(key_file)
    with pytest.raises(KeyFileError, match="symbolic link"):
        load_signer(link, PASSPHRASE)


def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError) as missing:
        load_signer(tmp_path / "nope.key", PASSPHRASE)
    assert missing.value.message == f"key file {tmp_path / 'nope.key'} was not found"
    assert "keygen" in missing.value.hint and "chmod" not in missing.value.hint
    with pytest.raises(KeyFileError):
        load_signer(tmp_path, PASSPHRASE)


def test_save_refuses_overwrite_empty_passphrase_and_weak_scrypt(
    key_file: Path, tmp_path: Path
) -> None:
    before = key_file.read_bytes()
    with pytest.raises(KeyFileError, match="exists"):
        save_signer(Signer.generate(), key_file, PASSPHRASE)
    assert key_file.read_bytes() == before
    with pytest.raises(KeyFileError):
        save_signer(Signer.generate(), tmp_path / "a.key", "")
    with pytest.raises(KeyFileError):
        save_signer(Signer.generate(), tmp_path / "b.key", PASSPHRASE, scrypt_n=2**14)
    with pytest.raises(KeyFileError):
        save_signer(Signer.generate(), tmp_path / "c.key", PASSPHRASE, scrypt_n=2**17 + 2)
    assert not any((tmp_path / n).exists() for n in ("a.key", "b.key", "c.key"))


def test_save_into_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "nodir" / "k.key"
    with pytest.raises(KeyFileError) as caught:
        save_signer(Signer.generate(), target, PASSPHRASE)
    assert caught.value.message == (
        f"cannot create key file {target}: the folder {target.parent} does not exist"
    )
    assert "chmod" not in caught.value.hint


def _write_private(path: Path, data: bytes) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path


def _edited(key_file: Path, **changes: object) -> bytes:
    document = json.loads(key_file.read_bytes())
    for dotted, value in changes.items():
        target = document
        *parents, last = dotted.split("__")
        for part in parents:
            target = target[part]
        target[last] = value
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "changes",
    [
        {"format": "other/v1"},
        {"cipher": "aes-128-cbc"},
        {"kdf__name": "pbkdf2"},
        {"kdf__n": 2**10},
        {"kdf__n": 2**30},
        {"kdf__n": 2**17 + 1},
        {"kdf__n": "131072"},
        {"kdf__n": 131072.0},
        {"kdf__r": 1},
        {"kdf": [1, 2]},
        {"nonce": "not base64!"},
        {"nonce": base64.b64encode(bytes(8)).decode()},
        {"public_key": base64.b64encode(bytes(31)).decode()},
        {"ciphertext": 5},
    ],
    ids=lambda c: ",".join(f"{k}={v!r}"[:30] for k, v in c.items()),
)
def test_malformed_key_files_raise_key_file_error(
    key_file: Path, tmp_path: Path, changes: dict[str, object]
) -> None:
    path = _write_private(tmp_path / "bad.key", _edited(key_file, **changes))
    with pytest.raises(KeyFileError):
        load_signer(path, PASSPHRASE)


@pytest.mark.parametrize("data", [b"", b"not json", b"[]", b'"x"', b"\xff\xfe", b"{}"])
def test_non_key_files_raise_key_file_error(tmp_path: Path, data: bytes) -> None:
    path = _write_private(tmp_path / "bad.key", data)
    with pytest.raises(KeyFileError, match="is not a points-ledger key file") as refused:
        load_signer(path, PASSPHRASE)
    # The file is private already: the permissions advice would send the user astray.
    assert "chmod" not in refused.value.hint and "keygen" in refused.value.hint


def test_relabelled_public_key_does_not_decrypt(key_file: Path, tmp_path: Path) -> None:
    other = Signer.generate()
    data = _edited(key_file, public_key=other.public_key_b64, key_id=other.key_id)
    path = _write_private(tmp_path / "relabelled.key", data)
    with pytest.raises(LedgerError):
        load_signer(path, PASSPHRASE)


def test_oversize_key_file_is_refused(tmp_path: Path) -> None:
    path = _write_private(tmp_path / "big.key", b" " * 5000)
    with pytest.raises(KeyFileError, match="too large"):
        load_signer(path, PASSPHRASE)


def test_signer_repr_and_str_hide_the_seed() -> None:
    signer = Signer.from_seed(SEED)
    for text in (repr(signer), str(signer), f"{signer!r}", format(signer)):
        assert signer.key_id in text
        assert SEED.hex() not in text
        assert base64.b64encode(SEED).decode() not in text
        assert repr(SEED) not in text
    assert not hasattr(signer, "__dict__")


def test_key_id_and_signatures() -> None:
    signer = Signer.from_seed(SEED)
    assert signer.key_id == key_id(signer.public_key)
    assert len(signer.key_id) == 16
    assert int(signer.key_id, 16) >= 0
    assert Signer.from_seed(bytes(32)).key_id != signer.key_id
    signature = signer.sign(b"message")
    assert verify_signature(signer.public_key, b"message", signature)
    assert not verify_signature(signer.public_key, b"messagE", signature)
    assert not verify_signature(signer.public_key, b"message", signature[:-1])
    assert not verify_signature(bytes(31), b"message", signature)


@pytest.mark.parametrize("seed", [bytes(31), bytes(33), "0" * 32, None])
def test_from_seed_needs_32_bytes(seed: object) -> None:
    with pytest.raises(InvalidEventError):
        Signer.from_seed(seed)  # type: ignore[arg-type]


@pytest.mark.parametrize("scrypt_n", [2**23, 2**17 + 1, True])
def test_save_refuses_scrypt_settings_load_would_refuse(tmp_path: Path, scrypt_n: int) -> None:
    with pytest.raises(KeyFileError):
        save_signer(Signer.generate(), tmp_path / "k.key", "pass phrase", scrypt_n=scrypt_n)
    assert not (tmp_path / "k.key").exists()
