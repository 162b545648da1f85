"""Bad arguments to the public Python API surface as a LedgerError, never a raw exception.

Each test passes what an outside caller could plausibly pass (a date where a time is
expected, a number too long to print, a dict from a web form, an event kind nobody
wrote a handler for) and checks the error class, its code and its words.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from community_world import World, build_world, seeded

from points_ledger import (
    AccountKind,
    AwardPoints,
    Event,
    HoldRedemption,
    InvalidEventError,
    Ledger,
    LedgerError,
    ListOffer,
    NotFoundError,
    OpenAccount,
    StorageError,
    Transfer,
    parse_event,
    reports,
)
from points_ledger.ledger import read_only_names

HUGE: int = 10**5000
"""An integer Python cannot turn into text by default (more than 4,300 digits)."""


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    world = build_world(tmp_path)
    world.add(
        AwardPoints,
        "worker.g1",
        volunteer="vol.li",
        service="gas-check",
        quantity=5,
        grid_cell="g1",
        task_ref="gas-001",
    )
    world.add(
        ListOffer,
        "barber",
        offer="barber.haircut",
        partner="barber",
        item="Haircut",
        price_points=40,
        stock=1,
    )
    # Recorded 2023-06-01 09:00 UTC (17:00 in Shanghai); expires an hour later.
    world.add(
        HoldRedemption,
        "vol.li",
        member="vol.li",
        offer="barber.haircut",
        points=40,
        expires_in_hours=1,
    )
    yield world
    world.ledger.close()


# -- 1. a path the file system cannot hold ------------------------------------------------


def test_a_file_name_longer_than_the_file_system_allows_is_a_storage_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / ("x" * 300 + ".db")
    admin = seeded("admin")
    with pytest.raises(StorageError, match="too long") as caught:
        Ledger.open(path)
    assert isinstance(caught.value.__cause__, OSError)
    with pytest.raises(StorageError, match="too long"):
        Ledger.create(
            path, origin="test.example/x", log_key=seeded("log"), admins=[admin], threshold=1
        )
    assert list(tmp_path.iterdir()) == []


# -- 3. report arguments -------------------------------------------------------------------


def test_outstanding_holds_takes_a_date_as_the_end_of_that_day_in_shanghai(w: World) -> None:
    (on_the_day,) = reports.outstanding_holds(w.ledger, as_of=dt.date(2023, 6, 1))
    (day_before,) = reports.outstanding_holds(w.ledger, as_of=dt.date(2023, 5, 31))
    assert on_the_day.expired is True
    assert day_before.expired is False


def test_outstanding_holds_without_as_of_asks_the_ledgers_clock(w: World) -> None:
    (now,) = reports.outstanding_holds(w.ledger)
    assert now.expired is False  # the system clock is years past the expiry; ledger time is not
    w.clock.advance(hours=2)
    (later,) = reports.outstanding_holds(w.ledger, as_of=None)
    assert later.expired is True
    assert w.ledger.clock is w.clock


@pytest.mark.parametrize(
    "as_of", ["2023-06-01", 1685610000, True, dt.datetime(2023, 6, 1, 12)], ids=repr
)
def test_outstanding_holds_refuses_other_as_of_values(w: World, as_of: object) -> None:
    with pytest.raises(InvalidEventError, match="as_of") as caught:
        reports.outstanding_holds(w.ledger, as_of=as_of)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_event"


@pytest.mark.parametrize(
    "call",
    [
        lambda ledger: reports.partner_redemptions(ledger, ["barber"]),  # type: ignore[arg-type]
        lambda ledger: reports.offers(ledger, 42),  # type: ignore[arg-type]
        lambda ledger: reports.partner_settlements(ledger, object()),  # type: ignore[arg-type]
        lambda ledger: reports.accounts(ledger, ["member"]),  # type: ignore[arg-type]
        lambda ledger: reports.accounts(ledger, "members"),
        lambda ledger: reports.settlement_statement(ledger, "3"),  # type: ignore[arg-type]
        lambda ledger: reports.settlement_statement(ledger, True),
    ],
    ids=[
        "redemptions",
        "offers",
        "settlements",
        "accounts-list",
        "accounts-kind",
        "seq-str",
        "seq-bool",
    ],
)
def test_report_filters_of_the_wrong_type_are_invalid_arguments(
    w: World, call: Callable[[Ledger], object]
) -> None:
    with pytest.raises(InvalidEventError):
        call(w.ledger)


def test_report_filters_that_fit_still_work(w: World) -> None:
    assert [r.offer for r in reports.offers(w.ledger, "barber")] == ["barber.haircut"]
    assert {r.kind for r in reports.accounts(w.ledger, AccountKind.PARTNER)} == {"partner"}
    assert reports.partner_redemptions(w.ledger, None)[0].status == "pending"


# -- 4. numbers too long to print ----------------------------------------------------------


POSITION_MAX = "4,611,686,018,427,387,904"

TOO_LONG_TO_PRINT: list[Any] = [
    pytest.param(lambda ledger: ledger.root(HUGE), POSITION_MAX, id="root"),
    pytest.param(lambda ledger: ledger.prove_inclusion(HUGE), POSITION_MAX, id="inclusion-seq"),
    pytest.param(lambda ledger: ledger.prove_inclusion(0, HUGE), POSITION_MAX, id="inclusion-size"),
    pytest.param(
        lambda ledger: ledger.prove_consistency(0, HUGE), POSITION_MAX, id="consistency-2"
    ),
    pytest.param(
        lambda ledger: ledger.prove_consistency(HUGE, 1), POSITION_MAX, id="consistency-1"
    ),
    pytest.param(lambda ledger: ledger.receipt(HUGE), POSITION_MAX, id="receipt"),
    pytest.param(
        lambda ledger: ledger.statement("vol.li", start_seq=HUGE),
        POSITION_MAX,
        id="statement-start",
    ),
    pytest.param(
        lambda ledger: ledger.statement("vol.li", limit=HUGE), "10,000", id="statement-limit"
    ),
    pytest.param(lambda ledger: ledger.entry(HUGE), POSITION_MAX, id="entry"),
    pytest.param(lambda ledger: list(ledger.entries(0, HUGE)), POSITION_MAX, id="entries-stop"),
    pytest.param(
        lambda ledger: ledger.balance("vol.li", at_seq=HUGE), POSITION_MAX, id="balance-at-seq"
    ),
    pytest.param(lambda ledger: ledger.explain_distribution(HUGE), POSITION_MAX, id="explain"),
    pytest.param(
        lambda ledger: reports.settlement_statement(ledger, HUGE), POSITION_MAX, id="settlement"
    ),
    pytest.param(
        lambda ledger: reports.settlement_statement(ledger, 2**70),
        POSITION_MAX,
        id="settlement-2**70",
    ),
    pytest.param(
        lambda ledger: reports.member_statement(ledger, "vol.li", limit=HUGE),
        "10,000",
        id="member-statement-limit",
    ),
    pytest.param(
        lambda ledger: reports.top_volunteers_by_grid_cell(
            ledger, period_from=dt.date(2023, 1, 1), period_to=dt.date(2023, 12, 31), limit=HUGE
        ),
        "from 1 to 100",
        id="top-volunteers-limit",
    ),
]


@pytest.mark.parametrize(("call", "bound"), TOO_LONG_TO_PRINT)
def test_integers_too_long_to_print_are_refused_naming_the_bound(
    w: World, call: Callable[[Ledger], object], bound: str
) -> None:
    with pytest.raises(ValueError, match="4300 digits"):
        str(HUGE)  # what the old code tripped over when naming the value
    with pytest.raises(LedgerError) as caught:
        call(w.ledger)
    assert isinstance(caught.value, InvalidEventError | NotFoundError)
    assert bound in caught.value.message


# -- 5. events from a dict or JSON, as a web form gives them -------------------------------

FORM: dict[str, Any] = {
    "type": "open_account",
    "id": "open-web-1",
    "effective_at": "2026-11-25",
    "account": "vol:0099",
    "account_kind": "member",
}


def test_parse_event_builds_an_event_from_a_dict_or_json_text() -> None:
    expected = OpenAccount(
        id="open-web-1",
        effective_at=dt.date(2026, 11, 25),
        account="vol:0099",
        account_kind=AccountKind.MEMBER,
    )
    assert parse_event(FORM) == expected
    assert parse_event(json.dumps(FORM)) == expected
    assert parse_event(json.dumps(FORM).encode()) == expected


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"effective_at": "25/11/2026"}, "effective_at"),
        ({"account_kind": "volunteer"}, "account_kind"),
        ({"account": "Li Wei"}, "never a person's name"),
        ({"type": "open_acount"}, "open_account"),
        ({"type": None}, "type"),
        ({"amount": 5}, "not a field"),
    ],
)
def test_parse_event_refuses_bad_values_in_plain_words(change: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidEventError, match=words) as caught:
        parse_event({**FORM, **change})
    assert "pydantic" not in caught.value.message
    with pytest.raises(InvalidEventError, match=words):
        parse_event(json.dumps({**FORM, **change}))


def test_parse_event_refuses_what_is_not_an_event_document() -> None:
    for data in ({k: v for k, v in FORM.items() if k != "type"}, [FORM], "{not json", 42):
        with pytest.raises(InvalidEventError):
            parse_event(data)  # type: ignore[arg-type]
    with pytest.raises(InvalidEventError, match="JSON"):
        parse_event({**FORM, "memo": HUGE})
    with pytest.raises(InvalidEventError, match="JSON"):
        parse_event({**FORM, "effective_at": dt.date(2026, 11, 25)})


def test_model_validate_on_an_event_raises_a_ledger_error() -> None:
    with pytest.raises(InvalidEventError, match="effective_at") as caught:
        OpenAccount.model_validate({**FORM, "effective_at": "not a date"})
    assert caught.value.message.startswith("OpenAccount: ")
    with pytest.raises(InvalidEventError, match="account_kind"):
        OpenAccount.model_validate_json(json.dumps({**FORM, "account_kind": "volunteer"}))
    with pytest.raises(InvalidEventError, match="postings: is required"):
        Transfer.model_validate_json('{"type": "transfer", "id": "t", "effective_at": "x"}')
    good = OpenAccount.model_validate_json(json.dumps(FORM))
    assert good.account_kind is AccountKind.MEMBER


# -- 6. an event kind without a handler ----------------------------------------------------


class _Unhandled(Event):
    """An event kind that a plug-in defined but never wrote a handler for.

    It is not passed to ``register_event``: the registry is global, and a kind left
    there would be seen by every later test that walks all event kinds.
    """

    type: Literal["test_unhandled"] = "test_unhandled"


def test_an_event_kind_without_a_handler_is_refused_by_name(w: World) -> None:
    before = w.ledger.size()
    event = _Unhandled(id="unhandled-1", effective_at=dt.date(2023, 6, 1))
    with pytest.raises(InvalidEventError, match="test_unhandled") as caught:
        w.ledger.append(event, [w.keys["admin"]])
    assert caught.value.code == "invalid_event"
    assert w.ledger.size() == before


# -- 8. every public Ledger method says whether it reads or writes ------------------------


def test_every_public_ledger_attribute_is_marked_as_reading_or_writing() -> None:
    public = {name for name in vars(Ledger) if not name.startswith("_")}
    names = read_only_names()
    assert {"explain_distribution", "read_only_query", "balance", "clock", "ledger_id"} <= names
    assert not {"append", "append_many", "checkpoint", "create", "open", "close"} & names
    unmarked = {name for name in public if not _marked(getattr(Ledger, name, None), name)}
    assert unmarked == set()


def test_an_unmarked_public_method_is_caught() -> None:
    class Wider(Ledger):
        def forgotten(self) -> int:
            return 1

    with pytest.raises(TypeError, match="forgotten"):
        read_only_names(Wider)


def _marked(value: object, name: str) -> bool:
    raw = vars(Ledger)[name]
    target = raw.fget if isinstance(raw, property) else getattr(raw, "__func__", raw)
    return getattr(target, "ledger_access", None) in ("read", "write")
