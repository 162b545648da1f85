"""A dated export reads only the entries between the first and the last so dated.

``seq_window`` asks the store for that span (its index on business dates). Here entries
spread over 60 days, many backdated (late paperwork) and some dated a day ahead, are
exported by range and compared with a reading of the whole log; the entries read are
counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from community_world import COMMITTEE, World, build_world

from points_ledger import AwardPoints, DefineService, Ledger, ServiceUnit
from points_ledger.export import export_rows, seq_window
from points_ledger.models.entries import Entry

FIRST_DAY = dt.date(2023, 6, 3)
DAYS = 60


@pytest.fixture(scope="module")
def ledger_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    w: World = build_world(tmp_path_factory.mktemp("window"))
    w.today = FIRST_DAY
    _define(w, "Night patrol")
    for n in range(DAYS):
        w.today = FIRST_DAY + dt.timedelta(days=n)
        # Late paperwork (up to 6 days back), the day itself, and tomorrow's duty.
        for back, task in ((n % 7, "late"), (0, "day"), (-1, "ahead")):
            w.add(
                AwardPoints,
                "worker.g1",
                effective_at=w.today - dt.timedelta(days=back),
                volunteer="vol.li",
                service="patrol",
                quantity=1,
                grid_cell="g1",
                task_ref=f"{task}-{n}",
            )
        w.clock.advance(hours=1)
        if n == 45:
            # The service is renamed late on: earlier rows keep the name they had.
            _define(w, "Patrol (renamed)")
    path = w.ledger.path
    w.ledger.close()
    return path


def _define(w: World, name: str) -> None:
    w.add(
        DefineService,
        "admin",
        *COMMITTEE,
        code="patrol",
        name=name,
        points_per_unit=5,
        unit=ServiceUnit.HOUR,
        active_from=dt.date(2023, 1, 1),
    )


class Counting:
    """Counts the entries a ledger hands out."""

    def __init__(self, ledger: Ledger) -> None:
        self.read = 0
        self._entries = ledger.entries

    def __call__(self, start: int = 0, stop: int | None = None) -> Iterator[Entry]:
        for entry in self._entries(start, stop):
            self.read += 1
            yield entry


def _by_full_reading(ledger: Ledger, first: dt.date, last: dt.date) -> list[tuple[int, str]]:
    return [
        (e.seq, p.account)
        for e in ledger.entries()
        if first <= e.event.effective_at <= last
        for p in e.postings
    ]


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (FIRST_DAY, FIRST_DAY),
        (dt.date(2023, 6, 20), dt.date(2023, 6, 30)),
        (dt.date(2023, 7, 1), dt.date(2023, 7, 31)),
        (dt.date(2023, 5, 1), dt.date(2023, 5, 31)),
        (dt.date(2023, 8, 1), dt.date(2023, 8, 31)),
        (dt.date(2023, 9, 1), dt.date(2023, 9, 30)),
    ],
)
def test_a_dated_export_has_the_rows_of_a_full_reading(
    ledger_file: Path, first: dt.date, last: dt.date, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Ledger.open(ledger_file, read_only=True) as ledger:
        expected = _by_full_reading(ledger, first, last)
        counting = Counting(ledger)
        monkeypatch.setattr(ledger, "entries", counting)
        rows = list(export_rows(ledger, date_from=first, date_to=last))
        assert [(r.seq, r.account) for r in rows] == expected
        assert all(first <= r.effective_at <= last for r in rows)
        start, stop = seq_window(ledger, first, last)
        assert all(start <= seq < stop for seq, _account in expected)
        if first == FIRST_DAY == last:
            # One day of a log of several months: far fewer entries than the log holds.
            assert counting.read < ledger.size() // 3, (counting.read, ledger.size())


def test_the_window_runs_from_the_first_to_the_last_entry_so_dated(ledger_file: Path) -> None:
    first_day, last_day = dt.date(2023, 7, 20), dt.date(2023, 7, 31)
    with Ledger.open(ledger_file, read_only=True) as ledger:
        start, stop = seq_window(ledger, first_day, last_day)
        dated = [e.seq for e in ledger.entries() if first_day <= e.event.effective_at <= last_day]
        assert (start, stop) == (dated[0], dated[-1] + 1)
        assert seq_window(ledger, None, None) == (0, ledger.size())
        assert seq_window(ledger, dt.date(2024, 1, 1), None) == (0, 0)
        assert seq_window(ledger, None, dt.date(2023, 1, 1)) == (0, 0)
        before = seq_window(ledger, None, dt.date(2023, 6, 3))
        assert before[0] == 0 and before[1] < ledger.size() // 4


def test_service_names_are_those_defined_before_each_row(ledger_file: Path) -> None:
    with Ledger.open(ledger_file, read_only=True) as ledger:
        july = list(export_rows(ledger, date_from=dt.date(2023, 7, 5), date_to=dt.date(2023, 7, 8)))
        late = list(
            export_rows(ledger, date_from=dt.date(2023, 7, 15), date_to=dt.date(2023, 7, 25))
        )
        whole = {(r.seq, r.account): r.service_name for r in export_rows(ledger)}
    assert {r.service_name for r in july} == {"Night patrol"}
    assert {r.service_name for r in late} == {"Night patrol", "Patrol (renamed)"}
    for row in [*july, *late]:
        assert row.service_name == whole[(row.seq, row.account)]
