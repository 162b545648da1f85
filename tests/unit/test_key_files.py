"""Key files and ledger files tried as an attacker (or a confused user) would.

Passphrases that are not text, too short, or that could leak through an exception; a key
file swapped between its check and its use; a key file of another user; a dangling link
where a ledger file is to be made; passphrase variables inherited by the helper process;
``init`` putting the log key under the admins' passphrase.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

import points_ledger.keys as keys_module
from conftest import CHEAP_SCRYPT_N, FixedClock
from points_ledger import (
    KeyFileError,
    Ledger,
    Signer,
    StorageError,
    WrongPassphraseError,
    load_signer,
    save_signer,
)
from points_ledger.cli import main
from points_ledger.keys import PASSPHRASE_MIN_LENGTH, check_key_file, check_passphrase

PASSPHRASE = "a long enough passphrase"
NOT_UTF8 = "secret-\udcff-CANARY-passphrase"  # what os.environ makes of a byte 0xff


def _chain_text(error: BaseException) -> str:
    """Everything an exception and its chain could show: messages, reprs, tracebacks."""
    parts = ["".join(traceback.format_exception(error))]
    seen: BaseException | None = error
    while seen is not None:
        parts += [str(seen), repr(seen), repr(getattr(seen, "details", None))]
        parts += [repr(getattr(seen, "object", None))]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


def test_a_passphrase_that_is_not_utf8_is_refused_without_leaking(tmp_path: Path) -> None:
    for call in (
        lambda: save_signer(Signer.generate(), tmp_path / "new.key", NOT_UTF8),
        lambda: load_signer(tmp_path / "absent.key", NOT_UTF8),
    ):
        with pytest.raises(KeyFileError, match="not valid text") as info:
            call()
        assert info.value.__cause__ is None and info.value.__context__ is None
        assert "CANARY" not in _chain_text(info.value)
    assert not (tmp_path / "new.key").exists()


def test_new_key_files_need_a_minimum_length_but_old_ones_still_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = "x" * (PASSPHRASE_MIN_LENGTH - 1)
    with pytest.raises(KeyFileError, match="shorter than 8 characters"):
        save_signer(Signer.generate(), tmp_path / "short.key", short)
    assert not (tmp_path / "short.key").exists()
    with pytest.raises(KeyFileError, match="shorter"):
        save_signer(Signer.generate(), tmp_path / "one.key", "x")
    # A file made before the rule existed (simulated by lifting it) still opens.
    monkeypatch.setattr(keys_module, "PASSPHRASE_MIN_LENGTH", 1)
    signer = Signer.generate()
    old = save_signer(signer, tmp_path / "old.key", "x")
    monkeypatch.undo()
    assert load_signer(old, "x").public_key == signer.public_key
    assert check_passphrase("x" * PASSPHRASE_MIN_LENGTH, new=True) == b"x" * PASSPHRASE_MIN_LENGTH


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Signer]:
    folder = tmp_path_factory.mktemp("keys")
    signer = Signer.generate()
    return save_signer(signer, folder / "admin.key", PASSPHRASE), signer


def test_a_key_file_swapped_after_its_check_is_refused(
    tmp_path: Path, made: tuple[Path, Signer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The attacker swaps in a world-readable file after the path was checked and before
    # it is opened: the check must look at what was opened.
    original, _signer = made
    target = tmp_path / "admin.key"
    target.write_bytes(original.read_bytes())
    os.chmod(target, 0o600)
    real_open = os.open

    def swapping_open(path: object, flags: int, *args: int) -> int:
        if Path(str(path)) == target and not flags & os.O_CREAT:
            os.chmod(target, 0o644)  # the swap: same bytes, now readable by everyone
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", swapping_open)
    with pytest.raises(KeyFileError, match="other users"):
        load_signer(target, PASSPHRASE)


def test_a_key_file_of_another_user_is_refused(
    made: tuple[Path, Signer], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _signer = made
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(path).st_uid + 1)
    with pytest.raises(KeyFileError, match="belongs to another user"):
        check_key_file(path)
    with pytest.raises(KeyFileError, match="belongs to another user"):
        load_signer(path, PASSPHRASE)


def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.key"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(KeyFileError, match="not a regular file"):
        check_key_file(fifo)


def test_mode_hint_names_fat_sticks(made: tuple[Path, Signer], tmp_path: Path) -> None:
    path, _signer = made
    loose = tmp_path / "loose.key"
    loose.write_bytes(path.read_bytes())
    os.chmod(loose, 0o755)  # what a FAT stick mounted with defaults shows
    with pytest.raises(KeyFileError) as info:
        check_key_file(loose)
    assert "FAT" in info.value.hint and "chmod 600" in info.value.hint


def test_without_posix_permissions_the_mode_is_not_checked(
    made: tuple[Path, Signer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, signer = made
    loose = tmp_path / "loose.key"
    loose.write_bytes(path.read_bytes())
    os.chmod(loose, 0o644)
    with pytest.raises(KeyFileError):
        load_signer(loose, PASSPHRASE)
    monkeypatch.setattr(keys_module, "_POSIX_PERMISSIONS", False)  # as on Windows
    assert load_signer(loose, PASSPHRASE).public_key == signer.public_key


def test_ledger_create_never_follows_a_dangling_link(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    aim = elsewhere / "planted.db"
    link = tmp_path / "ledger.db"
    link.symlink_to(aim)
    with pytest.raises(StorageError, match="symbolic link"):
        Ledger.create(
            link,
            origin="example.org/link",
            log_key=Signer.generate(),
            admins=[Signer.generate()],
            threshold=1,
            effective_at=dt.date(2026, 1, 5),
        )
    assert not aim.exists()
    assert link.is_symlink()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_the_signature_helper_gets_no_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    from points_ledger import _sigcheck

    monkeypatch.setenv("POINTS_LEDGER_PASSPHRASE", "CANARY-shared-passphrase")
    monkeypatch.setenv("POINTS_LEDGER_PASSPHRASE_ADMIN_1", "CANARY-own-passphrase")
    proc = _sigcheck._start_helper()
    if proc is None:
        pytest.skip("no helper process can run here")
    try:
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
    finally:
        _sigcheck._close_helper(proc, os.getpid())
    assert b"CANARY" not in environ
    assert b"POINTS_LEDGER_PASSPHRASE" not in environ


def _cli(args: list[str], cwd: Path, env: dict[bytes, bytes]) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environb.items() if not k.startswith(b"POINTS_LEDGER_PASSPHRASE")}
    return subprocess.run(
        [sys.executable, "-m", "points_ledger", *args],
        cwd=cwd,
        env={**base, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
        check=False,
        start_new_session=True,
    )


def test_keygen_with_a_non_utf8_passphrase_is_a_clear_refusal(tmp_path: Path) -> None:
    proc = _cli(
        ["keygen", "phone.key"], tmp_path, {b"POINTS_LEDGER_PASSPHRASE": b"CANARY-\xff-words"}
    )
    assert proc.returncode == 1, proc.stderr
    assert b"Traceback" not in proc.stderr and b"CANARY" not in proc.stderr + proc.stdout
    assert proc.stderr.startswith(b"error [key_file_unsafe]: the passphrase is not valid text")
    assert not (tmp_path / "phone.key").exists()


def test_init_gives_the_log_key_its_own_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In this process and at a cheap scrypt cost: the rule is about which passphrase
    # each key file gets, not about the cost (the tests above read files at the real one).
    monkeypatch.setattr(keys_module, "SCRYPT_N_MIN", CHEAP_SCRYPT_N)
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("POINTS_LEDGER_PASSPHRASE")]:
        monkeypatch.delenv(name)
    argv = ["--now", "2026-11-02T10:00:00+08:00", "init", "--origin", "chengdu.example/keys"]

    monkeypatch.setenv("POINTS_LEDGER_PASSPHRASE", "admins' words")
    assert main(argv, clock=FixedClock()) == 1
    assert "POINTS_LEDGER_PASSPHRASE_LOG" in capsys.readouterr().err
    assert not (tmp_path / "keys").exists()

    monkeypatch.setenv("POINTS_LEDGER_PASSPHRASE_LOG", "admins' words")
    assert main(argv, clock=FixedClock()) == 1
    assert "passphrase of its own" in capsys.readouterr().err
    assert not (tmp_path / "keys").exists()

    monkeypatch.setenv("POINTS_LEDGER_PASSPHRASE_LOG", "log words only")
    assert main(argv, clock=FixedClock()) == 0, capsys.readouterr().err
    log_key = load_signer(tmp_path / "keys" / "log.key", "log words only")
    assert load_signer(tmp_path / "keys" / "admin-1.key", "admins' words") != log_key
    with pytest.raises(WrongPassphraseError):
        load_signer(tmp_path / "keys" / "log.key", "admins' words")
