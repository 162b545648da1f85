"""The published notice board in a real headless Chromium (one browser for the module).

Pages render with Chinese text, the numbers on a notice equal the reports, and the receipt
page accepts a genuine receipt and refuses an altered one and one from a split view (a
receipt from another tree of the same size, signed by the same log key). The site is
opened from the folder (file://) and from a plain web server on 127.0.0.1.

A printed receipt's QR code (a link to the receipt page with its four lines after ``#``)
is checked against the published log alone: a genuine one is accepted from the link and
pasted in; one with another entry hash, another root (a split view) or an entry beyond the
log is refused.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from notice_world import DECEMBER, Clock, award, build_demo, copy_ledger, witness_with_plus
from points_ledger import Ledger, reports
from points_ledger.notes import cosign
from points_ledger.publish import receipt_qr_text
from points_ledger.receipts import Receipt

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
        self.qr_receipt: Receipt = real.receipt(seq, cosigned)
        self.fork_receipt: Receipt = fork.receipt(seq)
        self.other_hash = real.receipt(seq - 1, cosigned).entry_hash
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
    assert "the log key signed the tree of" in text and "signed by keys: " in text
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


def check_qr_link(browser: WebDriver, link: str) -> tuple[str, str]:
    """Open a QR code's link as a phone camera would, and wait for the verdict."""
    browser.get("about:blank")
    browser.get(link)
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "result").get_attribute("data-verdict")
    )
    result = browser.find_element(By.ID, "result")
    return str(result.get_attribute("data-verdict")), result.text


def test_a_genuine_qr_link_is_accepted_from_the_published_log(
    browser: WebDriver, site: Site, server: str
) -> None:
    link = receipt_qr_text(site.qr_receipt, site_url=server + "/")
    assert link.startswith(f"{server}/receipt.html#")
    verdict, text = check_qr_link(browser, link)
    assert verdict == "accepted", text
    assert "已核实（二维码）" in text and "Verified (QR code)" in text
    assert f"第 {site.seq} 条记录" in text and "vol:0001" in text
    assert "is a prefix of the published log" in text
    assert "has the QR code's hash" in text and "the log key signed the published tree" in text
    assert f"witness cosignatures: {WITNESS}" in text
    # The check read the published checkpoint, a hash tile and the entry data.
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert f"{server}/checkpoint" in loaded
    assert any(str(url).startswith(f"{server}/tile/0/") for url in loaded)
    assert any(str(url).startswith(f"{server}/entries/") for url in loaded)


def _altered_qr(site: Site, server: str, line: int, new: str) -> str:
    lines = receipt_qr_text(site.qr_receipt).split("\n")
    lines[line] = new
    return f"{server}/receipt.html#" + urllib.parse.quote("\n".join(lines), safe="/+=")


def test_a_qr_code_with_an_altered_entry_hash_is_refused(
    browser: WebDriver, site: Site, server: str
) -> None:
    verdict, text = check_qr_link(browser, _altered_qr(site, server, 2, site.other_hash))
    assert verdict == "refused"
    assert "条目哈希不符" in text and "wrong entry hash" in text


def test_the_page_checks_again_when_the_address_fragment_changes(
    browser: WebDriver, site: Site, server: str
) -> None:
    verdict, text = check_qr_link(browser, receipt_qr_text(site.qr_receipt, site_url=server))
    assert verdict == "accepted", text
    altered = _altered_qr(site, server, 2, site.other_hash)
    browser.execute_script(
        "document.getElementById('result').removeAttribute('data-verdict');"
        "location.hash = arguments[0];",
        altered[altered.index("#") :],
    )
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "result").get_attribute("data-verdict")
    )
    result = browser.find_element(By.ID, "result")
    assert result.get_attribute("data-verdict") == "refused"
    assert "wrong entry hash" in result.text


def test_a_qr_code_from_a_split_view_is_refused(
    browser: WebDriver, site: Site, server: str
) -> None:
    # The fork signed a tree of the same size with the same log key: its root differs.
    link = receipt_qr_text(site.fork_receipt, site_url=server)
    verdict, text = check_qr_link(browser, link)
    assert verdict == "refused"
    assert "分叉视图" in text and "split view" in text


def test_a_qr_code_beyond_the_published_log_is_refused(
    browser: WebDriver, site: Site, server: str
) -> None:
    verdict, text = check_qr_link(browser, _altered_qr(site, server, 1, "entry 9999"))
    assert verdict == "refused"
    assert "超出了公示的账本" in text and "beyond the published log" in text


def test_pasted_qr_text_is_accepted_and_the_scan_path_says_what_it_can_do(
    browser: WebDriver, site: Site, server: str
) -> None:
    browser.get(f"{server}/receipt.html")
    box = browser.find_element(By.ID, "qr-text")
    box.send_keys(receipt_qr_text(site.qr_receipt))
    browser.find_element(By.ID, "qr-check").click()
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "result").get_attribute("data-verdict")
    )
    result = browser.find_element(By.ID, "result")
    assert result.get_attribute("data-verdict") == "accepted", result.text
    assert f"第 {site.seq} 条记录" in result.text
    # Where the browser cannot read QR codes from pictures, the page says so plainly.
    has_detector = browser.execute_script("return 'BarcodeDetector' in window")
    note = browser.find_element(By.ID, "scan-note")
    photo = browser.find_element(By.ID, "qr-photo")
    if has_detector:
        assert note.get_attribute("data-scan") == "available" and photo.is_enabled()
    else:
        assert note.get_attribute("data-scan") == "unavailable" and not photo.is_enabled()
        assert "不能识别二维码图片" in note.text and "cannot read QR codes" in note.text


def test_a_qr_code_opened_from_a_folder_says_why_it_cannot_be_checked(
    browser: WebDriver, site: Site
) -> None:
    text = urllib.parse.quote(receipt_qr_text(site.qr_receipt), safe="/+=")
    verdict, message = check_qr_link(
        browser, site.folder.joinpath("receipt.html").as_uri() + "#" + text
    )
    assert verdict == "refused"
    assert "从文件夹打开本页" in message and "receipt file (.json)" in message
