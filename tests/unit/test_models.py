"""Strict models: bad values are refused at construction with InvalidEventError."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from points_ledger import (
    AccountKind,
    Asset,
    Genesis,
    InvalidEventError,
    KeySpec,
    LedgerError,
    OpenAccount,
    Posting,
    Reverse,
    Role,
    Signature,
    Signer,
    Transfer,
)
from points_ledger.models import AMOUNT_MAX
from points_ledger.models.common import _PATTERN_WORDS
from points_ledger.models.events import event_types

DAY = dt.date(2024, 5, 1)


def posting(account: str = "m1", amount: Any = 5, asset: Any = Asset.PTS) -> dict[str, Any]:
    return {"account": account, "asset": asset, "amount": amount}


def transfer(**overrides: Any) -> Transfer:
    fields: dict[str, Any] = {
        "id": "t-1",
        "effective_at": DAY,
        "postings": (posting("issuer", -5), posting("m1", 5)),
    }
    fields.update(overrides)
    return Transfer(**fields)


def test_a_valid_transfer_is_built_and_frozen() -> None:
    event = transfer(memo="x" * 280)
    assert event.type == "transfer"
    assert event.postings[1].amount == 5
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        event.memo = "changed"  # type: ignore[misc]


def test_invalid_event_error_is_a_ledger_error_with_stable_code() -> None:
    assert issubclass(InvalidEventError, LedgerError)
    assert InvalidEventError.code == "invalid_event"


@pytest.mark.parametrize(
    "amount",
    [5.0, 5.5, True, False, "5", None, 0, AMOUNT_MAX + 1, -AMOUNT_MAX - 1],
    ids=["float", "float-frac", "true", "false", "str", "none", "zero", "too-big", "too-small"],
)
def test_posting_amount_must_be_a_nonzero_bounded_int(amount: Any) -> None:
    with pytest.raises(InvalidEventError) as info:
        Posting(**posting(amount=amount))
    assert info.value.code == "invalid_event"
    assert "Posting" in str(info.value)


@pytest.mark.parametrize("amount", [1, -1, AMOUNT_MAX, -AMOUNT_MAX])
def test_posting_amount_limits_are_inclusive(amount: int) -> None:
    assert Posting(**posting(amount=amount)).amount == amount


@pytest.mark.parametrize(
    "account",
    ["", "M1", "a b", "名字", "x" * 65, "m1\n", "m1/2", 7, None],
)
def test_bad_account_ids_are_refused(account: Any) -> None:
    with pytest.raises(InvalidEventError):
        Posting(**posting(account=account))
    with pytest.raises(InvalidEventError):
        OpenAccount(id="o", effective_at=DAY, account=account, account_kind=AccountKind.MEMBER)


@pytest.mark.parametrize("account", ["a", "x" * 64, "vol:0001", "grid-1.a_b"])
def test_good_account_ids_are_accepted(account: str) -> None:
    assert Posting(**posting(account=account)).account == account


@pytest.mark.parametrize("asset", ["PTS", "USD", "pts", 1])
def test_asset_must_be_the_enum(asset: Any) -> None:
    with pytest.raises(InvalidEventError):
        Posting(**posting(asset=asset))


def test_unbalanced_transfer_is_refused() -> None:
    with pytest.raises(InvalidEventError, match="sum to zero"):
        transfer(postings=(posting("issuer", -5), posting("m1", 4)))
    with pytest.raises(InvalidEventError, match="CNY"):
        transfer(
            postings=(
                posting("issuer", -5),
                posting("m1", 5, Asset.CNY),
                posting("m2", -5, Asset.PTS),
                posting("m2", 5, Asset.PTS),
            )
        )


def test_transfer_posting_count_limits() -> None:
    with pytest.raises(InvalidEventError):
        transfer(postings=(posting("m1", 5),))
    many = tuple(posting(f"a{i}", 1 if i % 2 else -1) for i in range(66))
    with pytest.raises(InvalidEventError):
        transfer(postings=many)
    assert len(transfer(postings=many[:64]).postings) == 64


def test_memo_limits() -> None:
    assert transfer(memo="积" * 280).memo == "积" * 280
    with pytest.raises(InvalidEventError):
        transfer(memo="x" * 281)
    for bad in ["line\nbreak", "tab\there", "nul\x00", "\u2028"]:
        with pytest.raises(InvalidEventError):
            transfer(memo=bad)


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(InvalidEventError, match="colour"):
        transfer(colour="blue")
    with pytest.raises(InvalidEventError):
        Posting(**posting(), note="x")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "effective_at",
    ["2024-05-01", dt.datetime(2024, 5, 1, tzinfo=dt.UTC), 20240501, None],
)
def test_effective_at_must_be_a_date(effective_at: Any) -> None:
    with pytest.raises(InvalidEventError):
        transfer(effective_at=effective_at)


@pytest.mark.parametrize("event_id", ["", "a b", "x" * 65, "id\n", "é", 5])
def test_bad_event_ids_are_refused(event_id: Any) -> None:
    with pytest.raises(InvalidEventError):
        transfer(id=event_id)


def test_type_tag_cannot_be_changed() -> None:
    with pytest.raises(InvalidEventError):
        transfer(type="reverse")


def test_reverse_needs_reason_and_nonnegative_target() -> None:
    with pytest.raises(InvalidEventError):
        Reverse(id="r", effective_at=DAY, target_seq=-1, reason="x")
    with pytest.raises(InvalidEventError):
        Reverse(id="r", effective_at=DAY, target_seq=1, reason="")
    with pytest.raises(InvalidEventError):
        Reverse(id="r", effective_at=DAY, target_seq=True, reason="x")


def test_keyspec_validation() -> None:
    key = Signer.generate().public_key_b64
    assert KeySpec(public_key=key, roles=(Role.MEMBER,), owner="m1").owner == "m1"
    with pytest.raises(InvalidEventError):
        KeySpec(public_key=key, roles=())
    with pytest.raises(InvalidEventError):
        KeySpec(public_key=key, roles=(Role.ADMIN, Role.ADMIN))
    with pytest.raises(InvalidEventError):
        KeySpec(public_key=key[:-4], roles=(Role.ADMIN,))
    with pytest.raises(InvalidEventError):
        KeySpec(public_key=key, roles=("root",))  # type: ignore[arg-type]


def test_genesis_validation() -> None:
    admin, log = Signer.generate(), Signer.generate()
    spec = KeySpec(public_key=admin.public_key_b64, roles=(Role.ADMIN,))
    base: dict[str, Any] = {
        "id": "genesis",
        "effective_at": DAY,
        "origin": "test.example/x",
        "nonce": "0123456789abcdef" * 2,
        "log_key": log.public_key_b64,
        "admins": (spec,),
    }
    assert Genesis(**base).admin_threshold == 1
    with pytest.raises(InvalidEventError, match="nonce"):
        Genesis(**{**base, "nonce": "not-hex"})
    with pytest.raises(InvalidEventError, match="threshold"):
        Genesis(**base, admin_threshold=2)
    with pytest.raises(InvalidEventError):
        Genesis(**{**base, "admins": (spec, spec)})
    with pytest.raises(InvalidEventError):
        Genesis(**{**base, "log_key": admin.public_key_b64})
    with pytest.raises(InvalidEventError):
        Genesis(**{**base, "origin": "Not A Host/x"})
    member = KeySpec(public_key=Signer.generate().public_key_b64, roles=(Role.MEMBER,))
    with pytest.raises(InvalidEventError):
        Genesis(**{**base, "admins": (spec, member)})


def test_signature_must_be_64_bytes_with_hex_key_id() -> None:
    assert Signature(key_id="0" * 16, signature=bytes(64)).key_id == "0" * 16
    with pytest.raises(InvalidEventError):
        Signature(key_id="0" * 16, signature=bytes(63))
    with pytest.raises(InvalidEventError):
        Signature(key_id="G" * 16, signature=bytes(64))


def _patterns(schema: object) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _patterns(value)


def test_every_id_pattern_of_every_event_is_explained_in_words() -> None:
    """A refused id says what is allowed in words, never as a regular expression."""
    found = {
        pattern for cls in event_types().values() for pattern in _patterns(cls.model_json_schema())
    }
    assert len(found) >= 5
    assert found <= set(_PATTERN_WORDS), found - set(_PATTERN_WORDS)


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"account": "张三"}, "'张三' is not allowed here; use 1 to 64 of lowercase a-z"),
        ({"account": "VOL:0009"}, "never a person's name"),
        ({"account": "m1", "memo": "a\nb"}, "memo: must not contain control characters"),
        ({"account": "m1", "grid": ("",)}, "grid.0: must not be empty"),
        ({"account": "m1", "colour": "red"}, "colour: is not a field of this record"),
    ],
)
def test_refusals_speak_plain_words(fields: dict[str, Any], said: str) -> None:
    with pytest.raises(InvalidEventError) as refused:
        OpenAccount(id="o", effective_at=DAY, account_kind=AccountKind.MEMBER, **fields)
    assert said in refused.value.message
    assert "pattern" not in refused.value.message and "Value error" not in refused.value.message


def test_postings_compare_by_their_fields_built_or_read_back() -> None:
    built = Posting(account="vol:0001", asset=Asset.PTS, amount=5)
    stored = Posting.model_construct(account="vol:0001", asset=Asset.PTS, amount=5)
    assert built == stored and stored == built and hash(built) == hash(stored)
    assert (built, built) == (stored, stored)
    # What a damaged file may hold: another amount, an amount as text, another account.
    as_text: Any = "5"
    for other in (
        Posting.model_construct(account="vol:0001", asset=Asset.PTS, amount=6),
        Posting.model_construct(account="vol:0001", asset=Asset.PTS, amount=as_text),
        Posting.model_construct(account="vol:0002", asset=Asset.PTS, amount=5),
        Posting.model_construct(account="vol:0001", asset=Asset.CNY, amount=5),
    ):
        assert built != other and other != built
    assert built != {"account": "vol:0001", "asset": "PTS", "amount": 5}
    assert len({built, stored, Posting(account="vol:0001", asset=Asset.PTS, amount=-5)}) == 2
