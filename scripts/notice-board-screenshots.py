"""Screenshots of the published notice board for the docs (docs/images/notice-*.png).

Plays the demo into a temporary folder, publishes it, and photographs the front page, the
November notice, the receipt page checking a genuine receipt file, and the same page opened
from a printed receipt's QR link (the site served on 127.0.0.1), in headless Chromium
through Debian's chromedriver (scripts/install-browser.sh installs both and a Chinese
font).

Usage: .venv/bin/python scripts/notice-board-screenshots.py [OUT_DIR]  (default docs/images)
"""

from __future__ import annotations

import functools
import http.server
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from points_ledger import Ledger
from points_ledger.demo import run_demo
from points_ledger.publish import receipt_qr_text


def main() -> None:
    """Write the four screenshots."""
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images").resolve()
    out.mkdir(parents=True, exist_ok=True)
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        sys.exit("install Chromium first: bash scripts/install-browser.sh")
    with tempfile.TemporaryDirectory(prefix="notice-shots-") as folder:
        root = Path(folder)
        path = run_demo(root, echo=lambda _line: None)
        with Ledger.open(path) as ledger:
            ledger.publish(root / "site")
            award = next(e.seq for e in ledger.entries() if e.kind == "award_points")
            made = ledger.receipt(award)
            (root / "receipt.json").write_text(made.to_json(), "utf-8")
        handler = functools.partial(
            http.server.SimpleHTTPRequestHandler, directory=str(root / "site")
        )
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        link = receipt_qr_text(made, site_url=f"http://127.0.0.1:{httpd.server_address[1]}/")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
            options.add_argument(flag)
        browser = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            shots = [
                ("notice-index.png", "index.html", 900),
                ("notice-month.png", "notice/2026-11.html", 2200),
            ]
            for name, page, height in shots:
                browser.set_window_size(1000, height)
                browser.get((root / "site" / page).as_uri())
                browser.save_screenshot(str(out / name))
            browser.set_window_size(1000, 1150)
            browser.get((root / "site/receipt.html").as_uri())
            browser.find_element(By.ID, "file").send_keys(str(root / "receipt.json"))
            WebDriverWait(browser, 20).until(
                lambda d: d.find_element(By.ID, "result").get_attribute("data-verdict")
            )
            browser.save_screenshot(str(out / "notice-receipt.png"))
            browser.get(link)
            WebDriverWait(browser, 20).until(
                lambda d: d.find_element(By.ID, "result").get_attribute("data-verdict")
            )
            browser.save_screenshot(str(out / "notice-receipt-qr.png"))
        finally:
            browser.quit()
            httpd.shutdown()
            httpd.server_close()
    print(f"screenshots written to {out}")


if __name__ == "__main__":
    main()
