"""The published notice board in a real headless Chromium (one browser for the module).

Pages render with Chinese text, the numbers on a notice equal the reports, and the receipt
page accepts a genuine receipt and refuses an altered one and one from a split view (a
receipt from another tree of the same size, signed by the same log key). The site is
opened from the folder (file://) and from a plain web server on 127.0.0.1.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from notice_world import DECEMBER, Clock, award, build_demo, copy_ledger, witness_with_plus
from points_ledger import Ledger, reports
from points_ledger.notes import cosign

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WITNESS = "street.example/fuqinglu/witness"
CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="Chromium and chromedriver are not installed (scripts/install-browser.sh installs "
    "them with apt-get)",
)


def start_browser() -> WebDriver:
    """Headless Chromium through Debian's chromedriver (nothing is downloaded)."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    flags = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage")
    for flag in (*flags, "--window-size=1000,1400"):
        options.add_argument(flag)
    driver: WebDriver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    return driver


class Site:
    """A published site, its ledger's numbers, and receipts to try on it."""

    def __init__(self, root: Path) -> None:
        demo, keys = build_demo(root / "demo")
        real = Ledger.open(copy_ledger(demo, root / "real.db"), clock=Clock(DECEMBER))
        fork = Ledger.open(copy_ledger(demo, root / "fork.db"), clock=Clock(DECEMBER))
        seq = award(real, keys, "dec-real")
        award(fork, keys, "dec-fork")
        real.checkpoint(keys["log"], root / "record-real")
        fork.checkpoint(keys["log"], root / "record-fork")
        self.folder = root / "site"
        witness, wvkey = witness_with_plus(WITNESS)
        note = real.checkpoints()[-1].note
        cosigned = note + cosign(note[: note.index("\n\n") + 1], WITNESS, witness.private_key, 1)
        real.publish(self.folder, checkpoint=cosigned, witnesses=[wvkey], quorum=1)
        self.seq = seq
        self.services = reports.points_issued_by_service_month(real)
        self.pool = reports.pool_report(real, "pool:charity")
        genuine = real.receipt(seq, cosigned).to_json()
        altered = json.loads(genuine)
        altered["postings"][0]["amount"] *= 10
        self.receipts = {
            "genuine": genuine,
            "altered": json.dumps(altered),
            "split": fork.receipt(seq).to_json(),
            "uncosigned": real.receipt(3, real.checkpoints()[0].note).to_json(),
        }
        for name, text in self.receipts.items():
            (root / f"{name}.json").write_text(text, "utf-8")
        self.receipt_dir = root
        real.close()
        fork.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return Site(tmp_path_factory.mktemp("notice"))


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = start_browser()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site.folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def check_receipt(browser: WebDriver, base: str, path: Path) -> tuple[str, str]:
    browser.get(f"{base}/receipt.html")
    browser.find_element(By.ID, "file").send_keys(str(path))
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "result").get_attribute("data-verdict")
    )
    result = browser.find_element(By.ID, "result")
    return str(result.get_attribute("data-verdict")), result.text


def test_notice_pages_render_in_chinese_with_the_reports_numbers(
    browser: WebDriver, site: Site
) -> None:
    browser.get(site.folder.joinpath("index.html").as_uri())
    assert "社区积分与集体收益公示" in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.PARTIAL_LINK_TEXT, "2026-11").click()
    assert "2026-11 公示" in browser.find_element(By.TAG_NAME, "h1").text
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "公益池收支" in body and "按服务项目发放的积分" in body
    total = browser.find_element(By.CSS_SELECTOR, '.pool-total[data-pool="pool:charity"]')
    november = [ln.amount for ln in site.pool.lines if ln.effective_at.month == 11]
    assert int(str(total.get_attribute("data-inflow"))) == sum(a for a in november if a > 0)
    rows: dict[str, list[str]] = {}
    for tr in browser.find_elements(By.CSS_SELECTOR, "tbody tr"):
        cells = [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        rows.setdefault(cells[0], cells)
    for row in site.services:
        if row.month == "2026-11":
            assert rows[row.service] == [
                row.service,
                str(row.awards),
                str(row.quantity),
                str(row.points),
            ]
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect")


def test_a_genuine_receipt_is_accepted_offline(browser: WebDriver, site: Site) -> None:
    browser.get(site.folder.joinpath("receipt.html").as_uri())
    assert browser.execute_script("return window.isSecureContext") is True
    verdict, text = check_receipt(browser, site.folder.as_uri(), site.receipt_dir / "genuine.json")
    assert verdict == "accepted", text
    assert "已核实" in text and "Verified" in text
    assert f"第 {site.seq} 条记录" in text and "vol:0001" in text
    assert f"witness cosignatures: {WITNESS}" in text


def test_a_receipt_no_witness_cosigned_is_refused(browser: WebDriver, site: Site) -> None:
    # An older checkpoint of the same log, but the site asks for one witness cosignature.
    path = site.receipt_dir / "uncosigned.json"
    verdict, text = check_receipt(browser, site.folder.as_uri(), path)
    assert verdict == "refused"
    assert "见证人副签不足" in text and "1 needed, 0 found" in text


def test_an_altered_receipt_is_refused(browser: WebDriver, site: Site) -> None:
    verdict, text = check_receipt(browser, site.folder.as_uri(), site.receipt_dir / "altered.json")
    assert verdict == "refused"
    assert "不予接受" in text and "altered" in text


def test_a_receipt_from_a_split_view_is_refused(browser: WebDriver, site: Site) -> None:
    verdict, text = check_receipt(browser, site.folder.as_uri(), site.receipt_dir / "split.json")
    assert verdict == "refused"
    assert "分叉视图" in text and "split view" in text


def test_the_site_works_from_a_plain_web_server(
    browser: WebDriver, site: Site, server: str
) -> None:
    verdict, text = check_receipt(browser, server, site.receipt_dir / "genuine.json")
    assert verdict == "accepted", text
    # The page loaded nothing but the site's own files (and the browser asked for its
    # favicon): the check itself fetched nothing.
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    loaded = [url for url in loaded if not str(url).endswith("/favicon.ico")]
    assert sorted(loaded) == [
        f"{server}/assets/{n}" for n in ("log-data.js", "notice.css", "receipt.js")
    ]
    verdict, _text = check_receipt(browser, server, site.receipt_dir / "split.json")
    assert verdict == "refused"
