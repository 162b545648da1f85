"""One registration per event kind in the domain, and a plain error when it is missing.

Runs on the memory store: handlers are pure functions over a state view, so no file is
needed. The registries are restored after each test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from community_world import World, build_world

import points_ledger.domain.state as domain_state
import points_ledger.models.events as events_module
from points_ledger import InvalidEventError
from points_ledger.canonical import parse_event
from points_ledger.domain.state import (
    DeriveContext,
    Plan,
    StateView,
    check_every_kind_handled,
    register_handler,
    reversible_kinds,
)
from points_ledger.models.events import Event, event_types, register_event
from points_ledger.store.memory import MemoryStore


class Thanks(Event):
    """A test-only event kind: a note of thanks, no postings."""

    type: Literal["test_thanks"] = "test_thanks"
    note: str


class Cheers(Event):
    """A test-only event kind registered by its handler alone."""

    type: Literal["test_cheers"] = "test_cheers"


def thanks_handler(event: Thanks, state: StateView, ctx: DeriveContext) -> Plan:
    config = state.config()
    assert config is not None
    return Plan(requirement=config.policy.admins())


def cheers_handler(event: Cheers, state: StateView, ctx: DeriveContext) -> Plan:
    config = state.config()
    assert config is not None
    return Plan(requirement=config.policy.admins())


@pytest.fixture
def registries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events_module, "_REGISTRY", dict(events_module._REGISTRY))
    monkeypatch.setattr(events_module, "_adapter", None)
    monkeypatch.setattr(domain_state, "_HANDLERS", dict(domain_state._HANDLERS))
    monkeypatch.setattr(domain_state, "_REVERSIBLE", set(domain_state._REVERSIBLE))
    register_event(Thanks)


@pytest.fixture
def w(tmp_path: Path, registries: None) -> World:
    return build_world(tmp_path, store=MemoryStore())


def test_a_kind_without_handler_is_refused_in_plain_words(w: World) -> None:
    size = w.ledger.size()
    with pytest.raises(InvalidEventError) as raised:
        w.add(Thanks, "admin", note="for the gas checks")
    assert "no handler is registered" in str(raised.value)
    assert "test_thanks" in str(raised.value)
    assert w.ledger.size() == size


def test_one_registration_makes_a_kind_appendable_and_reversible(w: World) -> None:
    assert "test_thanks" not in reversible_kinds()
    register_handler(Thanks, reversible=True)(thanks_handler)
    entry = w.add(Thanks, "admin", note="for the gas checks").entry
    assert (entry.kind, entry.postings) == ("test_thanks", ())
    assert "test_thanks" in reversible_kinds()
    assert w.ledger.audit().ok


def test_a_second_handler_for_a_kind_is_refused(registries: None) -> None:
    register_handler(Thanks)(thanks_handler)
    register_handler(Thanks)(thanks_handler)  # the same function again is harmless

    def other(event: Thanks, state: StateView, ctx: DeriveContext) -> Plan:
        return thanks_handler(event, state, ctx)

    with pytest.raises(ValueError, match="already has a handler"):
        register_handler(Thanks)(other)


def test_the_handler_registration_also_makes_the_kind_parseable(registries: None) -> None:
    assert "test_cheers" not in event_types()
    register_handler(Cheers)(cheers_handler)
    assert event_types()["test_cheers"] is Cheers
    assert Cheers.kind == "test_cheers"
    parsed = parse_event({"type": "test_cheers", "id": "c-1", "effective_at": "2026-03-01"})
    assert isinstance(parsed, Cheers)


def test_a_kind_known_without_handler_is_named_by_the_import_check(registries: None) -> None:
    with pytest.raises(TypeError, match=r"Thanks \(kind 'test_thanks'\)"):
        check_every_kind_handled()
    register_handler(Thanks)(thanks_handler)
    check_every_kind_handled()


def test_the_library_kinds_all_have_handlers() -> None:
    check_every_kind_handled()
    assert len(event_types()) >= 24
