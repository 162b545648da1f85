"""Scenario 8b: cross-type replay with real transparency signatures.

Real signatures made by the ledger's log key (checkpoint notes), by a witness
(cosignatures) and by members (events of one kind, on one origin) are presented where a
signature of another type is expected:

* a checkpoint note signature or a witness cosignature as an event signature, with the
  log and witness keys first unregistered, then registered as member keys of the spender;
* an event signature (by the log key, by the witness key) as a checkpoint signature to
  ``verify_receipt``, ``open_note`` and ``Witness.cosign``, and as a cosignature;
* a member's event signature of one kind replayed on another kind (same id), and one
  made on another origin replayed here.

Nothing may be accepted, and a refused event leaves the file unchanged.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from reliability_harness import (
    DAY,
    Community,
    build_community,
    dump,
    report_fixture,  # noqa: F401 - report is a fixture
    seeded_signer,
    spend_event,
)

from points_ledger import (
    Donate,
    Event,
    HoldRedemption,
    InvalidEventError,
    KeySpec,
    Ledger,
    LedgerError,
    RegisterKey,
    Role,
    Signature,
    Signer,
    Witness,
    verify_receipt,
)
from points_ledger.notes import NoteVerifier, open_note

COMMUNITY = Community.of(801, 3)
OTHER = Community(seed=COMMUNITY.seed, members=COMMUNITY.members, origin="other.example/x")
WITNESS_NAME = "witness.example/w1"
MEMBER = "m00000"


def last_sig(line_or_note: str) -> bytes:
    """The raw bytes after the key id of the last signature line."""
    return base64.b64decode(line_or_note.rstrip("\n").rsplit(" ", 1)[1])


def donation(event_id: str, points: int = 3) -> Donate:
    return Donate(id=event_id, effective_at=DAY, donor=MEMBER, pool="pool", points=points)


def try_append(ledger: Ledger, event: Event, key_id: str, raw: bytes) -> bool:
    try:
        ledger.append(event, [Signature(key_id=key_id, signature=raw)])
    except LedgerError:
        return False
    return True


def with_sig_line(text: str, name: str, kid: bytes, raw: bytes) -> str:
    return text + f"\n\u2014 {name} " + base64.b64encode(kid + raw).decode() + "\n"


def test_transparency_signatures_are_not_replayable(
    tmp_path: Path, report: Callable[..., None]
) -> None:
    a = build_community(tmp_path / "a.db", COMMUNITY, award=50)
    b = build_community(tmp_path / "b.db", OTHER, award=50)
    log_key = COMMUNITY.log_key
    witness_key = seeded_signer(COMMUNITY.seed, "witness")
    member_key = COMMUNITY.member_key(MEMBER)
    signed = a.checkpoint(log_key, tmp_path / "log.record")
    witness = Witness(
        tmp_path / "witness.db",
        name=WITNESS_NAME,
        key=witness_key,
        logs={a.origin: a.log_vkey()},
    )
    cosig_line = witness.cosign(signed.note, [])
    note_sig = last_sig(signed.note)[4:]
    cosig = last_sig(cosig_line)[4 + 8 :]
    assert len(note_sig) == len(cosig) == 64
    # Sanity: the real note and cosignature verify where they belong.
    log_verifier = NoteVerifier.from_vkey(a.log_vkey())
    witness_verifier = NoteVerifier.from_vkey(witness.vkey())
    open_note(signed.note + cosig_line, [log_verifier, witness_verifier])

    attempts = 0
    accepted: list[str] = []

    def attempt(name: str, ok: bool) -> None:
        nonlocal attempts
        attempts += 1
        if ok:
            accepted.append(name)

    # 1. Note signature and cosignature as event signatures (keys unregistered).
    before = dump(a.path)
    target = donation("replay-donate")
    for signer, raw, what in ((log_key, note_sig, "note"), (witness_key, cosig, "cosig")):
        attempt(f"{what} as event sig, unregistered", try_append(a, target, signer.key_id, raw))
        attempt(
            f"{what} as event sig under member key id",
            try_append(a, target, member_key.key_id, raw),
        )
    assert dump(a.path) == before

    # ... and with the log and witness keys registered as the spender's member keys.
    # (The log key cannot be registered at all: the ledger refuses it as an event key.)
    def register(label: str, signer: Signer) -> None:
        a.append(
            RegisterKey(
                id=f"key-{label}-as-member",
                effective_at=DAY,
                key=KeySpec(public_key=signer.public_key_b64, roles=(Role.MEMBER,), owner=MEMBER),
            ),
            [COMMUNITY.admin, member_key],  # a further key for MEMBER, with its consent
        )

    with pytest.raises(InvalidEventError, match="log key"):
        register("log", log_key)
    register("witness", witness_key)
    before = dump(a.path)
    for signer, raw, what in ((log_key, note_sig, "note"), (witness_key, cosig, "cosig")):
        attempt(f"{what} as event sig, registered", try_append(a, target, signer.key_id, raw))
        spend = spend_event("replay-spend", MEMBER, 2)
        attempt(f"{what} on a transfer, registered", try_append(a, spend, signer.key_id, raw))
    assert dump(a.path) == before

    # 2. Member event signatures across kinds and origins.
    hold = HoldRedemption(
        id="replay-donate", effective_at=DAY, member=MEMBER, offer="no-such-offer", points=3
    )
    spend_same_id = spend_event("replay-donate", MEMBER, 3)
    cross = {
        "hold sig on donate": (a.sign(hold, member_key).signature, target),
        "transfer sig on donate": (a.sign(spend_same_id, member_key).signature, target),
        "donate sig on transfer": (a.sign(target, member_key).signature, spend_same_id),
        "donate sig from other origin": (b.sign(target, member_key).signature, target),
        "donate sig by log key on other origin": (b.sign(target, log_key).signature, target),
    }
    for name, (raw, event) in cross.items():
        attempt(name, try_append(a, event, member_key.key_id, raw))
    attempt(
        "log-key donate sig from other origin",
        try_append(a, target, log_key.key_id, b.sign(target, log_key).signature),
    )
    assert dump(a.path) == before

    # 3. Event signatures as checkpoint signatures and cosignatures.
    text = signed.text
    log_kid = log_verifier.key_id
    for signer_name, signer in (("log key", log_key), ("witness key", witness_key)):
        event_sig = a.sign(target, signer).signature
        forged = with_sig_line(text, a.origin, log_kid, event_sig)
        for check, call in (
            ("open_note", lambda n=forged: open_note(n, [log_verifier])),
            ("verify_receipt", lambda n=forged: forged_receipt(a, n)),
            ("Witness.cosign", lambda n=forged: fresh_witness(tmp_path, a).cosign(n, [])),
        ):
            attempt(f"{signer_name} event sig as note sig to {check}", accepts(call))
        # As a cosignature line (timestamp + event signature) on the real note.
        stamp = last_sig(cosig_line)[4 : 4 + 8]
        forged_cosig = (
            signed.note
            + f"\u2014 {WITNESS_NAME} "
            + base64.b64encode(witness_verifier.key_id + stamp + event_sig).decode()
            + "\n"
        )
        attempt(
            f"{signer_name} event sig as cosignature",
            accepts(partial(open_note, forged_cosig, [witness_verifier])),
        )
        attempt(
            f"{signer_name} event sig as cosignature in a receipt",
            accepts(partial(forged_receipt, a, forged_cosig, require=witness_verifier)),
        )
    assert witness.latest(a.origin) == signed.note
    witness.close()
    a.close()
    b.close()
    report("transparency replay", attempts=attempts, accepted=len(accepted))
    assert accepted == []


def accepts(call: Callable[[], object]) -> bool:
    """Whether ``call`` was *accepted* (returned); False when it raised a LedgerError."""
    try:
        call()
    except LedgerError:
        return False
    return True


def forged_receipt(ledger: Ledger, note: str, require: NoteVerifier | None = None) -> object:
    receipt = ledger.receipt(ledger.size() - 1)
    forged = receipt.model_copy(update={"checkpoint": note})
    verified = verify_receipt(forged.to_json(), ledger.log_vkey())
    if require is not None:
        # A receipt accepts unknown cosignatures as unverified; the witness check is open_note.
        open_note(note, [require])
    return verified


_witness_count = 0


def fresh_witness(tmp_path: Path, ledger: Ledger) -> Witness:
    global _witness_count
    _witness_count += 1
    return Witness(
        tmp_path / f"fresh-{_witness_count}.db",
        name=f"witness.example/fresh{_witness_count}",
        key=Signer.from_seed(bytes([_witness_count]) * 32),
        logs={ledger.origin: ledger.log_vkey()},
    )
