"""Typed state records: what handlers store, read back with every field checked."""

from __future__ import annotations

import pytest

from points_ledger import IntegrityError
from points_ledger.models.records import (
    AwardTotal,
    HoldRecord,
    OfferRecord,
    PartnerRecord,
    RevenuePeriodRecord,
    RosterRecord,
    ServiceRecord,
    SettlementRateRecord,
    SettlementRecord,
    SplitPolicyRecord,
    SplitPolicyVersion,
    StateRecord,
)

HOLD = HoldRecord(
    member="vol.li",
    offer="barber.haircut",
    partner="barber",
    quantity=1,
    points=40,
    hold_seq=12,
    held_on="2023-06-05",
    expires_at_us=1_686_000_000_000_000,
    status="pending",
    closed_seq=None,
    confirmed_on=None,
    settled_seq=None,
)


def test_the_stored_object_keeps_the_fields_files_already_hold() -> None:
    # Files written before the typed records hold exactly these objects: the JSON must
    # not change, or their cached state would no longer match a replay.
    assert HOLD.to_json() == {
        "member": "vol.li",
        "offer": "barber.haircut",
        "partner": "barber",
        "quantity": 1,
        "points": 40,
        "hold_seq": 12,
        "held_on": "2023-06-05",
        "expires_at_us": 1_686_000_000_000_000,
        "status": "pending",
        "closed_seq": None,
        "confirmed_on": None,
        "settled_seq": None,
    }
    offer = OfferRecord("barber", "Haircut", 40, 2, True, 9)
    assert offer.to_json() == {
        "partner": "barber",
        "item": "Haircut",
        "price_points": 40,
        "stock": 2,
        "active": True,
        "listed_seq": 9,
    }


def test_a_record_round_trips() -> None:
    assert HoldRecord.from_json(HOLD.to_json(), "V00000012") == HOLD
    closed = HoldRecord.from_json({**HOLD.to_json(), "status": "confirmed", "closed_seq": 13})
    assert (closed.status, closed.closed_seq) == ("confirmed", 13)


@pytest.mark.parametrize(
    "damage",
    [
        {"points": "40"},
        {"points": True},
        {"closed_seq": 1.5},
        {"status": None},
        {"extra": 1},
    ],
)
def test_a_damaged_record_is_an_integrity_error(damage: dict[str, object]) -> None:
    with pytest.raises(IntegrityError, match="hold record 'V00000012'"):
        HoldRecord.from_json({**HOLD.to_json(), **damage}, "V00000012")


def test_a_missing_field_or_a_non_object_is_an_integrity_error() -> None:
    value = HOLD.to_json()
    del value["settled_seq"]
    with pytest.raises(IntegrityError):
        HoldRecord.from_json(value)
    with pytest.raises(IntegrityError):
        OfferRecord.from_json(["barber"])
    with pytest.raises(IntegrityError):
        OfferRecord.from_json({**OfferRecord("b", "i", 1, 1, True, 1).to_json(), "active": 1})


def test_a_service_record_keeps_its_stored_fields() -> None:
    service = ServiceRecord(
        code="gas-check",
        name="Gas safety check",
        points_per_unit=10,
        unit="household",
        points_per_day_max=50,
        points_per_month_max=None,
        active_from="2023-01-01",
        active_to=None,
        defined_seq=20,
    )
    assert ServiceRecord.from_json(service.to_json(), "gas-check") == service
    assert set(service.to_json()) == {
        "code",
        "name",
        "points_per_unit",
        "unit",
        "points_per_day_max",
        "points_per_month_max",
        "active_from",
        "active_to",
        "defined_seq",
    }
    with pytest.raises(IntegrityError, match="service record 'gas-check'"):
        ServiceRecord.from_json({**service.to_json(), "points_per_day_max": "50"}, "gas-check")


# The JSON each record kind stored as a dict before it had a class: files hold exactly
# these values, so the classes must write them unchanged (ADR 0001: no migration).
STORED: list[tuple[type[StateRecord], object]] = [
    (PartnerRecord, {"name": "Li's Barber", "key_id": "ab12cd34", "joined_seq": 7}),
    (SettlementRateRecord, {"fen_per_point": 5, "set_seq": 30}),
    (
        SettlementRecord,
        {
            "partner": "barber",
            "fund": "fund.alliance",
            "vouchers": ["V00000012", "V00000015"],
            "points": 80,
            "fen": 400,
            "fen_per_point": 5,
        },
    ),
    (
        SplitPolicyRecord,
        {
            "versions": [
                {
                    "version": 1,
                    "effective_from": "2026-01-01",
                    "seq": 40,
                    "policy": {"buckets": [{"name": "villagers", "mode": "per_capita"}]},
                    "investor": None,
                },
                {
                    "version": 2,
                    "effective_from": "2026-07-01",
                    "seq": 52,
                    "policy": {"buckets": []},
                    "investor": {"account": "investor.a", "schedule": []},
                },
            ]
        },
    ),
    (
        RosterRecord,
        {
            "seq": 44,
            "as_of": "2026-01-01",
            "shareholders": [["sh.wang", 3], ["sh.zhao", 2]],
            "villagers": ["v.li", "v.wu"],
        },
    ),
    (
        RevenuePeriodRecord,
        {"account": "fund.village", "fiscal_year": 2026, "recorded": 120000, "distributed": 0},
    ),
    (AwardTotal, 45),
]


@pytest.mark.parametrize(("cls", "stored"), STORED, ids=lambda v: getattr(v, "__name__", ""))
def test_each_record_kind_reads_and_writes_the_json_files_hold(
    cls: type[StateRecord], stored: object
) -> None:
    record = cls.from_json(stored, "k")
    assert record.to_json() == stored
    assert cls.read(None) is None


def test_lists_are_read_as_tuples_and_nested_records_as_records() -> None:
    policy = SplitPolicyRecord.from_json(STORED[3][1], "p1")
    assert isinstance(policy.versions, tuple)
    assert [v.version for v in policy.versions] == [1, 2]
    assert isinstance(policy.versions[1], SplitPolicyVersion)
    assert policy.versions[1].investor == {"account": "investor.a", "schedule": []}
    roster = RosterRecord.from_json(STORED[4][1], "r1")
    assert roster.shareholders == (("sh.wang", 3), ("sh.zhao", 2))
    assert dict(roster.shareholders) == {"sh.wang": 3, "sh.zhao": 2}


@pytest.mark.parametrize(
    ("cls", "value"),
    [
        (
            SettlementRecord,
            {**SettlementRecord("p", "f", ("V1",), 1, 5, 5).to_json(), "vouchers": "V1"},
        ),
        (
            SettlementRecord,
            {**SettlementRecord("p", "f", ("V1",), 1, 5, 5).to_json(), "vouchers": [1]},
        ),
        (RosterRecord, {"seq": 1, "as_of": "2026-01-01", "shareholders": [["a"]], "villagers": []}),
        (
            RosterRecord,
            {"seq": 1, "as_of": "2026-01-01", "shareholders": [["a", True]], "villagers": []},
        ),
        (SplitPolicyRecord, {"versions": [{"version": 1}]}),
        (SplitPolicyRecord, {"versions": [{**STORED[3][1]["versions"][0], "policy": []}]}),  # type: ignore[index]
        (PartnerRecord, {"name": "x", "key_id": "k", "joined_seq": "7"}),
        (SettlementRateRecord, {"fen_per_point": 5}),
        (RevenuePeriodRecord, None),
        (AwardTotal, True),
        (AwardTotal, "45"),
    ],
)
def test_a_damaged_record_of_any_kind_is_an_integrity_error(
    cls: type[StateRecord], value: object
) -> None:
    with pytest.raises(IntegrityError):
        cls.from_json(value, "k")


def test_values_of_a_subclass_of_a_field_type_are_read_as_before() -> None:
    # Values of exactly a field's type are taken without further checks; a value of a
    # subclass of it (never what JSON decoding gives) takes the full check, and is
    # accepted as it always was, except bool where a whole number is expected.
    class Tag(str):
        pass

    class Count(int):
        pass

    record = HoldRecord.from_json({**HOLD.to_json(), "status": Tag("pending")}, "V00000012")
    assert record == HOLD and type(record.status) is Tag
    assert HoldRecord.from_json({**HOLD.to_json(), "points": Count(40)}).points == 40
    with pytest.raises(IntegrityError, match="holds False as closed_seq"):
        HoldRecord.from_json({**HOLD.to_json(), "closed_seq": False}, "V00000012")
    with pytest.raises(IntegrityError, match="holds 1 as active"):
        OfferRecord.from_json({**OfferRecord("b", "i", 1, 1, True, 1).to_json(), "active": 1})


def test_to_json_writes_every_field_in_declaration_order() -> None:
    assert list(HOLD.to_json()) == [
        "member",
        "offer",
        "partner",
        "quantity",
        "points",
        "hold_seq",
        "held_on",
        "expires_at_us",
        "status",
        "closed_seq",
        "confirmed_on",
        "settled_seq",
    ]
    roster = RosterRecord(seq=3, as_of="2026-01-01", shareholders=(("a", 2),), villagers=("b",))
    assert roster.to_json() == {
        "seq": 3,
        "as_of": "2026-01-01",
        "shareholders": [["a", 2]],
        "villagers": ["b"],
    }
