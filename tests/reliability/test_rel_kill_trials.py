"""The kill -9 trial accounting counts what it says it counts (``kill_trials``)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from kill_trials import (
    add_trial,
    check,
    count_after_kill,
    new_totals,
    read_acks,
    report_and_check,
    run_trials,
)
from reliability_harness import FACTORIES, Community, build_community

from points_ledger import Ledger

COMMUNITY = Community.of(17, 4)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return build_community(tmp_path / "ledger.db", COMMUNITY)


def test_a_torn_last_line_was_never_acknowledged(tmp_path: Path) -> None:
    acks = tmp_path / "acks.txt"
    assert read_acks(acks) == []
    acks.write_text("w0-0 7\nw0-1 8\nw0-2 ", "ascii")
    assert read_acks(acks) == [("w0-0", 7), ("w0-1", 8)]


def test_counts_lost_acknowledgements_and_in_flight_events_already_written(
    ledger: Ledger,
) -> None:
    award = FACTORIES["award"]
    with ledger:
        seqs = [ledger.append(*award(COMMUNITY, 0, n)).entry.seq for n in range(2)]
        size = ledger.size()
        # Writer 0 wrote two events but died before acknowledging the second; writer 1
        # acknowledged an entry the ledger does not hold at that seq.
        acked = [[("w0-0", seqs[0])], [("w1-0", size)]]
        figures = count_after_kill(ledger, COMMUNITY, "award", acked)
        assert figures == {
            "acked": 2,
            "in_flight_committed": 1,  # w0-1 was already there; w1-1 was new
            "entries": size,
            "lost": 1,
            "partial": 0,
            "duplicated": 0,
            "gaps": 0,
        }
        assert ledger.size() == size + 1


def test_totals_sum_trials_and_the_check_names_each_fault() -> None:
    totals = new_totals(threads=3)
    clean = dict.fromkeys(("lost", "partial", "duplicated", "gaps", "entries"), 0)
    add_trial(totals, {**clean, "acked": 5, "in_flight_committed": 1})
    add_trial(totals, {**clean, "acked": 2, "in_flight_committed": 0})
    assert totals == {
        "threads": 3,
        "trials": 2,
        "acked": 7,
        "in_flight_committed": 1,
        "lost": 0,
        "partial": 0,
        "duplicated": 0,
        "gaps": 0,
    }
    check(totals, "the trials")
    add_trial(totals, {**clean, "acked": 1, "in_flight_committed": 0, "gaps": 1})
    with pytest.raises(AssertionError, match=r"the trials found \{'gaps': 1\}"):
        check(totals, "the trials")
    with pytest.raises(AssertionError):
        check(new_totals(), "no trial")


def test_trials_run_each_in_a_folder_of_its_own_and_are_reported_then_checked(
    tmp_path: Path,
) -> None:
    seen: list[Path] = []

    def trial(workdir: Path, rng: random.Random) -> dict[str, int]:
        assert workdir.is_dir() and not any(workdir.iterdir())
        seen.append(workdir)
        figures = dict.fromkeys(("lost", "partial", "duplicated", "gaps", "entries"), 0)
        return {**figures, "acked": rng.randrange(1, 10), "in_flight_committed": 1}

    totals = run_trials(trial, tmp_path, trials=3, seed=7, factory="award")
    expected = random.Random(7)
    assert seen == [tmp_path / "t0", tmp_path / "t1", tmp_path / "t2"]
    assert totals["acked"] == sum(expected.randrange(1, 10) for _ in range(3))
    assert (totals["trials"], totals["in_flight_committed"], totals["factory"]) == (3, 3, "award")
    printed: list[tuple[str, dict[str, object]]] = []
    report_and_check(lambda scenario, **f: printed.append((scenario, f)), "the trials", totals)
    assert printed == [("the trials", totals)]
    with pytest.raises(AssertionError, match="the trials found"):
        report_and_check(lambda *_a, **_f: None, "the trials", {**totals, "lost": 1})
