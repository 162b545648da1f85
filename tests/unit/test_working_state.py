"""A handler's working copy of state records (``domain.working.WorkingState``)."""

from __future__ import annotations

from typing import Any

from points_ledger.domain.state import PendingDelta, StatePut
from points_ledger.domain.working import WorkingState
from points_ledger.models.common import Asset


class _Records:
    """The ``get`` of a state view, counting reads per record."""

    def __init__(self, values: dict[tuple[str, str], Any]) -> None:
        self.values = values
        self.reads: dict[tuple[str, str], int] = {}

    def get(self, namespace: str, key: str) -> Any:
        self.reads[namespace, key] = self.reads.get((namespace, key), 0) + 1
        return self.values.get((namespace, key))


def _work(values: dict[tuple[str, str], Any]) -> tuple[WorkingState, _Records]:
    records = _Records(values)
    return WorkingState(records), records  # type: ignore[arg-type]


def test_a_record_is_read_from_the_state_once_then_from_the_working_copy() -> None:
    work, records = _work({("unsettled", "barber"): ["V00000001", "V00000002"]})
    assert work.get("unsettled", "barber") == ["V00000001", "V00000002"]
    assert work.get("unsettled", "barber") == ["V00000001", "V00000002"]
    assert work.get("unsettled", "nobody") is None
    assert work.get("unsettled", "nobody") is None
    assert records.reads == {("unsettled", "barber"): 1, ("unsettled", "nobody"): 1}


def test_a_put_is_seen_by_later_reads_and_written_once_with_its_last_value() -> None:
    work, _ = _work({("offer", "o"): {"stock": 3}, ("hold", "V1"): {"status": "pending"}})
    work.put("hold", "V1", {"status": "expired"})
    work.put("offer", "o", {"stock": 4})
    work.put("hold", "V1", {"status": "confirmed"})
    assert work.get("hold", "V1") == {"status": "confirmed"}
    work.add_pending("vol.li", Asset.PTS, -40)
    work.add_pending("vol.li", Asset.PTS, 15)
    work.add_pending("vol.wang", Asset.PTS, 5)
    work.add_pending("vol.wang", Asset.PTS, -5)
    assert work.changes() == (
        PendingDelta("vol.li", Asset.PTS, -25),
        StatePut("hold", "V1", {"status": "confirmed"}),
        StatePut("offer", "o", {"stock": 4}),
    )


def test_records_only_read_are_not_written() -> None:
    work, _ = _work({("offer", "o"): {"stock": 3}})
    assert work.get("offer", "o") == {"stock": 3}
    assert work.changes() == ()
