"""The notice board: tiles an auditor can rebuild the log from, appending, notices == reports."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import http.server
import json
import re
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import World
from notice_world import DECEMBER, Clock, award, build_demo, copy_ledger
from points_ledger import (
    Asset,
    IntegrityError,
    InvalidEventError,
    Ledger,
    NoteError,
    NotFoundError,
    Posting,
    Signer,
    reports,
)
from points_ledger.canonical import entry_hash
from points_ledger.cli import main
from points_ledger.log_notes import verify_checkpoint_note
from points_ledger.merkle import leaf_hash, root
from points_ledger.models.entries import Signature
from points_ledger.notes import NoteVerifier, cosign, vkey_for
from points_ledger.publish import (
    entry_data_path,
    month_notices,
    printable_receipt,
    receipt_page_url,
    receipt_qr_text,
)
from points_ledger.receipts import Receipt
from points_ledger.split.text import format_fen
from points_ledger.tiles import (
    TILE_WIDTH,
    entry_bundle,
    parse_entry_bundle,
    read_leaf_data,
    tile_path,
    write_tiles,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Signer]]:
    folder = tmp_path_factory.mktemp("demo")
    path, keys = build_demo(folder)
    return path, keys


@pytest.fixture
def ledger(demo: tuple[Path, dict[str, Signer]], tmp_path: Path) -> Ledger:
    path = copy_ledger(demo[0], tmp_path / "ledger.db")
    return Ledger.open(path, clock=Clock(DECEMBER))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_tile_paths_follow_the_specification() -> None:
    assert tile_path(0, 0) == "tile/0/000"
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(1, 5, 17) == "tile/1/005.p/17"
    assert tile_path("entries", 1000) == "tile/entries/x001/000"
    with pytest.raises(ValueError):
        tile_path(0, 0, 0)


def test_entry_bundles_round_trip() -> None:
    entries = [b"", b"a", bytes(300)]
    assert parse_entry_bundle(entry_bundle(entries)) == entries
    with pytest.raises(IntegrityError):
        parse_entry_bundle(entry_bundle(entries)[:-1])


def test_tiles_of_several_levels_rebuild_the_root(tmp_path: Path) -> None:
    # 256 * 2 + 3 leaves: two full level-0 tiles, a partial one, and a level-1 tile.
    leaves = [i.to_bytes(4, "big") for i in range(2 * TILE_WIDTH + 3)]
    written = write_tiles(tmp_path, leaves)
    assert "tile/0/000" in written and "tile/0/002.p/3" in written
    assert "tile/1/000.p/2" in written
    assert read_leaf_data(tmp_path, len(leaves)) == leaves
    level1 = (tmp_path / "tile/1/000.p/2").read_bytes()
    assert level1[:32] == root(leaves[:TILE_WIDTH])
    assert level1[32:] == root(leaves[TILE_WIDTH : 2 * TILE_WIDTH])
    # Writing again changes nothing; a different log in the same folder is refused.
    assert write_tiles(tmp_path, leaves) == []
    with pytest.raises(IntegrityError):
        write_tiles(tmp_path, [b"other", *leaves[1:]])


def test_the_log_is_fetched_from_the_tiles_alone(ledger: Ledger, tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = ledger.publish(site)
    vkey = ledger.log_vkey()
    note = (site / "checkpoint").read_text("utf-8")
    ledger.close()
    # No database from here on: the checkpoint, the vkey and the tiles.
    body = verify_checkpoint_note(note, NoteVerifier.from_vkey(vkey))
    leaves = read_leaf_data(site, body.size)
    assert len(leaves) == body.size == result.size == 54
    assert root(leaves) == body.root_hash == result.root_hash
    level0 = (site / tile_path(0, 0, body.size)).read_bytes()
    assert level0 == b"".join(leaf_hash(leaf) for leaf in leaves)
    reopened = Ledger.open(ledger.path, clock=Clock(DECEMBER))
    with reopened:
        assert reopened.root() == body.root_hash
        assert [e.hash for e in reopened.entries()] == leaves
        # The file agrees with the published checkpoint held outside it.
        assert reopened.verify(trusted_checkpoint=note).entries_checked == 54


def test_an_auditor_fetches_the_log_over_http(ledger: Ledger, tmp_path: Path) -> None:
    site = tmp_path / "site"
    published = ledger.publish(site)
    vkey = ledger.log_vkey()
    ledger.close()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:

        def fetch(path: str) -> bytes:
            with urllib.request.urlopen(f"{base}/{path}", timeout=10) as response:
                data: bytes = response.read()
                return data

        body = verify_checkpoint_note(fetch("checkpoint"), NoteVerifier.from_vkey(vkey))
        leaves = parse_entry_bundle(fetch(tile_path("entries", 0, body.size)))
        tile = fetch(tile_path(0, 0, body.size))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert len(leaves) == body.size
    assert root(leaves) == body.root_hash == published.root_hash
    assert tile == b"".join(leaf_hash(leaf) for leaf in leaves)


def test_the_full_entries_beside_the_bundles_hash_to_the_bundles(
    ledger: Ledger, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    ledger.publish(site)
    leaves = read_leaf_data(site, 54)
    records = json.loads((site / entry_data_path(0, 54)).read_text("utf-8"))
    assert [r["seq"] for r in records] == list(range(54))
    for record, leaf in zip(records, leaves, strict=True):
        recomputed = entry_hash(
            seq=record["seq"],
            recorded_at_us=record["recorded_at_us"],
            prev_hash=base64.b64decode(record["prev_hash"]),
            event_bytes=base64.b64decode(record["event"]),
            signatures=[
                Signature(key_id=s["key_id"], signature=base64.b64decode(s["signature"]))
                for s in record["signatures"]
            ],
            postings=[
                Posting(account=p["account"], asset=Asset(p["asset"]), amount=p["amount"])
                for p in record["postings"]
            ],
        )
        assert recomputed == leaf == base64.b64decode(record["entry_hash"])
    # The account ids are there, and nothing else names a person.
    assert {p["account"] for r in records for p in r["postings"]} >= {"vol:0001", "hh:0042"}


def test_publishing_again_appends_and_keeps_closed_months(
    ledger: Ledger, demo: tuple[Path, dict[str, Signer]], tmp_path: Path
) -> None:
    keys = demo[1]
    site = tmp_path / "site"
    first = ledger.publish(site)
    assert first.months == ("2026-11",)
    november = (site / "notice/2026-11.html").read_bytes()
    award(ledger, keys, "dec-1")
    ledger.checkpoint(keys["log"], tmp_path / "record")
    second = ledger.publish(site)
    assert (second.previous_size, second.size) == (54, 55)
    assert second.months == ("2026-11", "2026-12")
    assert (site / "notice/2026-11.html").read_bytes() == november
    assert "notice/2026-11.html" not in second.written
    assert (site / "tile/entries/000.p/54").exists()  # the older partial stays
    assert read_leaf_data(site, 55)[:54] == read_leaf_data(site, 54)
    assert ledger.publish(site).written == ()
    # An entry dated in the closed month, recorded later: the page stays, and says so.
    award(ledger, keys, "late", effective_at=dt.date(2026, 11, 30))
    ledger.checkpoint(keys["log"], tmp_path / "record")
    third = ledger.publish(site)
    assert third.late_months == ("2026-11",)
    assert (site / "notice/2026-11.html").read_bytes() == november


def test_a_checkpoint_not_consistent_with_the_published_one_stops_publishing(
    ledger: Ledger, demo: tuple[Path, dict[str, Signer]], tmp_path: Path
) -> None:
    keys = demo[1]
    other = Ledger.open(copy_ledger(demo[0], tmp_path / "other.db"), clock=Clock(DECEMBER))
    site = tmp_path / "site"
    award(ledger, keys, "the-real-one")
    ledger.checkpoint(keys["log"], tmp_path / "record-a")
    ledger.publish(site)
    before = snapshot(site)
    # The same log key signs another history of the same size: a split view.
    award(other, keys, "a-forked-one")
    other.checkpoint(keys["log"], tmp_path / "record-b")
    with pytest.raises(IntegrityError, match="not consistent"):
        other.publish(site)
    assert snapshot(site) == before
    # A smaller checkpoint would take entries back.
    small = Ledger.open(copy_ledger(demo[0], tmp_path / "small.db"), clock=Clock(DECEMBER))
    with pytest.raises(IntegrityError, match="take entries back") as e:
        small.publish(site)
    assert e.value.code == "integrity_failure"
    assert snapshot(site) == before
    other.close()
    small.close()


def test_a_checkpoint_must_cover_the_whole_ledger(
    ledger: Ledger, demo: tuple[Path, dict[str, Signer]], tmp_path: Path
) -> None:
    award(ledger, demo[1], "unsigned-yet")
    with pytest.raises(IntegrityError, match="covers 54 entries but the ledger has 55"):
        ledger.publish(tmp_path / "site")
    assert not (tmp_path / "site").exists()


def test_witness_quorum(
    ledger: Ledger, demo: tuple[Path, dict[str, Signer]], tmp_path: Path
) -> None:
    keys = demo[1]
    witness_key = keys["witness"]
    name = "street.example/witness"
    wvkey = vkey_for(name, witness_key.private_key.public_key(), 0x04)
    note = ledger.checkpoints()[-1].note
    with pytest.raises(NoteError, match="cosigned by 0"):
        ledger.publish(tmp_path / "a", witnesses=[wvkey], quorum=1)
    text = note[: note.index("\n\n") + 1]
    line = cosign(text, name, witness_key.private_key, 1_790_000_000)
    result = ledger.publish(tmp_path / "b", checkpoint=note + line, witnesses=[wvkey], quorum=1)
    assert result.witnessed_by == (name,)
    assert (tmp_path / "b/checkpoint").read_text("utf-8").endswith(line)


def test_nothing_to_publish_without_a_checkpoint(world: World, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no checkpoint"):
        world.ledger.publish(tmp_path / "site")
    assert not (tmp_path / "site").exists()


def _cells(page: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first``."""
    for row in re.findall(r"<tr>(.*?)</tr>", page):
        cells = [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row starting with {first!r}")


def test_the_notice_says_what_the_reports_say(ledger: Ledger, tmp_path: Path) -> None:
    ledger.publish(tmp_path / "site")
    page = (tmp_path / "site/notice/2026-11.html").read_text("utf-8")
    assert "公益池收支" in page and "Charity pool inflow and outflow" in page
    services = [r for r in reports.points_issued_by_service_month(ledger) if r.month == "2026-11"]
    assert services
    for row in services:
        assert _cells(page, row.service) == [
            row.service,
            str(row.awards),
            str(row.quantity),
            str(row.points),
        ]
    grids = reports.points_issued_by_grid_month(ledger)
    assert grids
    for grid in grids:
        assert _cells(page, grid.grid_cell)[1:] == [
            str(grid.awards),
            str(grid.volunteers),
            str(grid.points),
        ]
    pool = reports.pool_report(ledger, "pool:charity")
    roles = {row.key_id: row.roles for row in reports.registered_keys(ledger)}
    assert f'data-pool="pool:charity" data-inflow="{pool.inflows}"' in page
    assert f'data-outflow="{pool.outflows}" data-balance="{pool.balance}"' in page
    for line in pool.lines:
        assert f"<td>{html.escape(line.purpose)}</td>" in page or not line.purpose
        signers = " ".join(
            f"{s.key_id} ({'/'.join(roles[s.key_id])})" for s in ledger.entry(line.seq).signatures
        )
        assert f"<td>{signers}</td>" in page
        if line.kind == "grant":  # signed by committee members
            assert signers.count("(committee)") >= 2, signers
    settlements = reports.partner_settlements(ledger)
    assert settlements
    for settled in settlements:
        assert f'<td class="num">{format_fen(settled.fen)}</td>' in page
    notices = month_notices(ledger)
    (distribution_seq, _period, distribution) = notices[0].distributions[0]
    explained = ledger.explain_distribution(distribution_seq)
    assert distribution == explained
    assert f'data-amount="{explained.amount}" data-investor="{explained.investor_amount}"' in page
    for bucket, parts in explained.by_bucket.items():
        for account, part in parts.items():
            assert _cells(page, bucket) and f"<td>{account}</td>" in page
            assert f'<td class="num">{format_fen(part)}</td>' in page
    assert html.escape(explained.to_text()) in page


def test_publish_from_the_command_line(
    demo: tuple[Path, dict[str, Signer]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = copy_ledger(demo[0], tmp_path / "cli.db")
    site = tmp_path / "site"
    code = main(["--ledger", str(path), "publish", str(site)], clock=Clock(DECEMBER))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "published 54 entries" in out and "months: 2026-11" in out
    assert (site / "receipt.html").exists() and (site / "index.html").exists()
    index = (site / "index.html").read_text("utf-8")
    assert (site / "checkpoint").read_text("utf-8") in html.unescape(index)


def test_receipt_writes_a_printable_page_beside_the_json(
    demo: tuple[Path, dict[str, Signer]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = copy_ledger(demo[0], tmp_path / "cli.db")
    out = tmp_path / "r25.json"
    argv = ["--ledger", str(path), "receipt", "25", "--output", str(out), "--html"]
    assert main(argv, clock=Clock(DECEMBER)) == 0, capsys.readouterr()
    page = (tmp_path / "r25.html").read_text("utf-8")
    made = Receipt.from_json(out.read_text("utf-8"))
    assert "记账凭证" in page and "Ledger receipt" in page
    assert made.entry_hash in page and "<svg" in page and 'class="segno"' in page
    qr = receipt_qr_text(made)
    assert qr.splitlines()[:3] == [made.origin, "entry 25", made.entry_hash]
    assert qr.splitlines()[3].startswith("checkpoint 54 ")
    # --html needs a JSON file to sit beside.
    assert main(["--ledger", str(path), "receipt", "25", "--html"], clock=Clock(DECEMBER)) != 0


def test_with_the_site_address_the_qr_code_links_to_the_receipt_page(
    demo: tuple[Path, dict[str, Signer]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = copy_ledger(demo[0], tmp_path / "cli.db")
    out = tmp_path / "r25.json"
    site_url = "https://notice.example.org/zhiqiang/"
    argv = ["--ledger", str(path), "receipt", "25", "--output", str(out), "--html"]
    assert main([*argv, "--site-url", site_url], clock=Clock(DECEMBER)) == 0
    capsys.readouterr()
    made = Receipt.from_json(out.read_text("utf-8"))
    link = receipt_qr_text(made, site_url=site_url)
    prefix = "https://notice.example.org/zhiqiang/receipt.html#"
    assert link.startswith(prefix)
    assert urllib.parse.unquote(link.removeprefix(prefix)) == receipt_qr_text(made)
    assert receipt_page_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/receipt.html"
    page = (tmp_path / "r25.html").read_text("utf-8")
    assert "notice.example.org/zhiqiang/" in page and "用手机相机扫描二维码" in page
    # The QR code itself holds the link: segno draws the same symbol for the same text.
    segno = pytest.importorskip("segno")
    assert segno.make(link, error="m").svg_inline(scale=3) in page
    for bad in ("ftp://x.example/", "notice.example.org", "https://x.example/?a=1", "https://"):
        with pytest.raises(InvalidEventError, match="not a web address"):
            receipt_qr_text(made, site_url=bad)
    # --site-url without --html has nothing to go into; a bad address changes nothing.
    again = tmp_path / "again.json"
    assert main(["--ledger", str(path), "receipt", "25", "--site-url", site_url]) != 0
    argv = ["--ledger", str(path), "receipt", "25", "--output", str(again), "--html"]
    assert main([*argv, "--site-url", "notice.example.org"], clock=Clock(DECEMBER)) != 0
    assert "invalid_event" in capsys.readouterr().err
    assert not again.exists()


def test_only_a_receipt_that_verifies_is_printed(ledger: Ledger) -> None:
    made = ledger.receipt(25)
    altered = made.model_copy(update={"recorded_at_us": made.recorded_at_us + 1})
    with pytest.raises(IntegrityError, match="altered"):
        printable_receipt(altered, ledger.log_vkey())
    assert "vol:0001 +30 PTS" in printable_receipt(made, ledger.log_vkey())


def test_the_command_line_refuses_an_inconsistent_publish_with_exit_3(
    demo: tuple[Path, dict[str, Signer]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = demo[1]
    site = tmp_path / "site"
    paths = []
    for name in ("a", "b"):
        with Ledger.open(
            copy_ledger(demo[0], tmp_path / f"{name}.db"), clock=Clock(DECEMBER)
        ) as one:
            award(one, keys, f"fork-{name}")
            one.checkpoint(keys["log"], tmp_path / f"record-{name}")
        paths.append(one.path)
    assert main(["--ledger", str(paths[0]), "publish", str(site)], clock=Clock(DECEMBER)) == 0
    capsys.readouterr()
    code = main(["--ledger", str(paths[1]), "publish", str(site)], clock=Clock(DECEMBER))
    err = capsys.readouterr().err
    assert code == 3
    assert "integrity_failure" in err and "not consistent" in err
