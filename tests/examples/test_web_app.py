"""The web application example under concurrent requests: every acknowledged award is kept."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from points_ledger import Asset, IntegrityError, Ledger, SharedWriter, load_signer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "web_app.py"
PASS = "a test passphrase"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("web_app_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Any, Path, str]]:
    web = load_example()
    path, key_file = web.set_up(tmp_path, PASS)
    writer = SharedWriter.open(path, clock=web.story_clock)
    app = web.make_app(path, [load_signer(key_file, PASS)], writer, clock=web.story_clock)
    server = web.serve(app, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield web, path, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        writer.close()


def award(web: Any, n: int) -> dict[str, Any]:
    return {
        "id": f"award-{n:04d}",
        "date": web.TODAY.isoformat(),
        "volunteer": f"vol:{n % 3 + 1:04d}",
        "service": "elder-visit",
        "cell": "g1",
        "task": f"visit-{n:04d}",
    }


def test_concurrent_requests_every_acknowledged_award_is_in_the_ledger(
    served: tuple[Any, Path, str],
) -> None:
    web, path, base = served
    # 30 distinct awards, each sent twice (a client retrying), and some bad requests,
    # all at once from 8 client threads.
    bodies: list[dict[str, Any]] = [award(web, n) for n in range(30)] * 2
    bodies += [{**award(web, 99), "volunteer": "vol:9999"}, {"id": "x"}]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda b: (b, *web.request(f"{base}/awards", b)), bodies))
    acknowledged = {b["id"]: a["seq"] for b, status, a in answers if status in (200, 201)}
    assert len(acknowledged) == 30
    good = {award(web, n)["id"] for n in range(30)}
    statuses = sorted(status for b, status, _ in answers if b["id"] in good)
    assert statuses == [200] * 30 + [201] * 30  # each award created once, then found
    refused = {b["id"]: (status, a["code"]) for b, status, a in answers if status >= 400}
    assert refused == {"award-0099": (404, "unknown_account"), "x": (400, "bad_request")}
    # Every acknowledged entry is where the answer said, and the file verifies.
    with Ledger.open(path, read_only=True) as ledger:
        for event_id, seq in acknowledged.items():
            assert ledger.entry(seq).event_id == event_id
        assert ledger.size() == 7 + 30  # genesis, 4 accounts, a key, a service, 30 awards
        report = ledger.verify()
        total = sum(ledger.balance(f"vol:{n:04d}", Asset.PTS).posted for n in (1, 2, 3))
    assert report.entries_checked == 37 and total == 30 * 20
    status, balance = web.request(f"{base}/balance/vol:0001")
    assert status == 200 and balance["posted"] == 10 * 20


def test_errors_are_mapped_by_code(served: tuple[Any, Path, str]) -> None:
    web, _, base = served
    first = award(web, 1)
    assert web.request(f"{base}/awards", first)[0] == 201
    status, answer = web.request(f"{base}/awards", {**first, "quantity": 2})
    assert (status, answer["code"]) == (409, "entry_conflict")
    status, answer = web.request(f"{base}/awards", {**award(web, 2), "task": "visit-0001"})
    assert (status, answer["code"]) == (409, "duplicate_task")
    status, answer = web.request(f"{base}/awards", {**award(web, 3), "date": "2026-13-01"})
    assert (status, answer["code"]) == (400, "bad_request")
    assert web.STATUS_BY_CODE["wrong_thread"] == 500


def test_an_award_stored_before_a_refused_checkpoint_is_answered_as_stored(
    served: tuple[Any, Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    web, path, base = served

    def refused(self: Ledger) -> None:
        raise IntegrityError("the file failed the check before signing", seq=3)

    monkeypatch.setattr(Ledger, "_checkpoint_if_due", refused)
    status, answer = web.request(f"{base}/awards", award(web, 7))
    assert status == 201 and answer["status"] == "created"
    with Ledger.open(path, read_only=True) as ledger:
        assert ledger.entry(answer["seq"]).event_id == "award-0007"
        assert ledger.size() == answer["seq"] + 1
    # A client's retry finds it stored: nothing new was created, so no checkpoint was due.
    status, again = web.request(f"{base}/awards", award(web, 7))
    assert (status, again["seq"], again["status"]) == (200, answer["seq"], "exists")
