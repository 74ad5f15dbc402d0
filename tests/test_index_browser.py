"""The reports index in a real headless Chromium: every link opens (HTTP 200, a title), no page logs
a console error or loads anything from another host (the QuantStats tearsheet included, once newsbt
has made it self-contained), and a headline carrying ``<script>`` is shown as text and never runs; in a
news study, hostile feed rows (a ``<script>`` headline, an ``<img onerror>`` source, ``javascript:`` and
``data:`` URLs) stay text and only the https URL becomes a link.

Needs the system's Chromium and its driver (Debian: chromium, chromium-driver) and the ``selenium``
package; skipped, saying so, when the browser is not installed. The reports are served from a
local http.server on 127.0.0.1, and Chromium resolves no other host name, so the test is the same
with or without a network.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from newsbt import api
from newsbt.reports.htmlpage import SORT_SCRIPT, page, table
from newsbt.reports.index import refresh_index
from newsbt.backtest.spec import spec_from_dict
from newsbt.sweep.runner import run_sweep, sweep_from_section
from newsbt.sweep.report import write_sweep_report
from tests.conftest import write_price_files
from tests.sweepdata import crashy_prices
from tests.sweepdata import spec_dict as sweep_spec_dict
from tests.synthetic import spec_dict, two_crashes
from tests.test_news_study import DATA_URL, HOSTILE_SOURCE, JS_URL, SAFE_URL, SCRIPT_HEADLINE, news_study
from tests.test_study import EVENTS, XSS, synthetic_prices, synthetic_study

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                       reason="needs Chromium and chromedriver (Debian: apt-get install chromium chromium-driver)"),
]
OFFSITE_EXTERNALS = 'return [...document.querySelectorAll("script[src],link[href],img[src],iframe[src]")]' \
                    '.map(e => e.src || e.href).filter(u => !u.startsWith(location.origin) && u !== "data:,")'


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """A small backtest run (with its QuantStats tearsheet), a sweep, and an event study whose headline
    has a script."""
    reports = tmp_path / "reports"
    api.run(spec_dict(), prices=two_crashes()).write(reports / "synthetic")
    sweep = sweep_from_section(spec_from_dict(sweep_spec_dict()), {"drop_pct": [5, 9], "engine": "fast"})
    write_sweep_report(run_sweep(sweep, reports_dir=reports, workers=1, prices=crashy_prices()),
                       prices=crashy_prices(), tearsheets=False)
    write_price_files(tmp_path / "prices", synthetic_prices())
    (tmp_path / "events.csv").write_text(EVENTS)
    synthetic_study(tmp_path, 'event_ids = ["weekend", "late-listing"]', name="xss_study").write(reports)
    news_study(tmp_path / "news").write(reports)
    refresh_index(reports)
    return reports


@pytest.fixture
def base_url(reports: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(QuietHandler, directory=str(reports)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", f"--user-data-dir={tmp_path / 'chromium-profile'}",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """Every SEVERE console message of the current page: none is excused, on any page."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def assert_no_alert(driver: webdriver.Chrome) -> None:
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert  # noqa: B018 - the property raises when no alert is open


def assert_only_the_sort_script(driver: webdriver.Chrome) -> None:
    """The one script a page may hold is newsbt's inline table sorter: nothing else runs, nothing is loaded."""
    scripts = driver.find_elements(By.TAG_NAME, "script")
    assert [(s.get_attribute("src"), s.get_attribute("innerHTML")) for s in scripts] == [("", SORT_SCRIPT)]


def column(table: WebElement, index: int) -> list[str]:
    return [row.find_elements(By.TAG_NAME, "td")[index].text for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")]


def click_header(table: WebElement, text: str) -> None:
    [header] = [th for th in table.find_elements(By.CSS_SELECTOR, "thead th") if th.text.rstrip(" ▲▼") == text]
    header.click()


def status(url: str) -> int:
    """The HTTP status of a HEAD request (the URLs are all on our 127.0.0.1 server)."""
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10) as response:
        return response.status


def test_index_links_open_without_errors_and_headlines_stay_text(reports: Path, base_url: str,
                                                                 browser: webdriver.Chrome) -> None:
    browser.get(base_url + "index.html")
    assert browser.title == "newsbt reports"
    assert console_errors(browser) == []
    assert_only_the_sort_script(browser)
    [cell] = [td for td in browser.find_elements(By.TAG_NAME, "td") if "alert(1)" in td.text]
    assert XSS in cell.text
    assert_no_alert(browser)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a[href]")]
    assert sorted(urlsplit(link).path for link in links) == [
        "/news_study/study/index.html", "/sweeptest/sweep/index.html", "/synthetic/tearsheet.html",
        "/xss_study/study/index.html"]
    for link in links:
        assert status(link) == 200
        browser.get(link)
        assert browser.title.strip(), link
        assert_no_alert(browser)
        assert console_errors(browser) == [], link
        assert browser.execute_script(OFFSITE_EXTERNALS) == [], link  # nothing loaded from elsewhere
        if "/xss_study/" in link:
            check_study_page(browser, base_url)
        if "/news_study/" in link:
            check_news_page(browser, base_url)


def check_study_page(browser: webdriver.Chrome, base_url: str) -> None:
    """The study page: its plot loaded, every file link answers, the headline is text, no script."""
    assert browser.title == "xss_study: event study"
    assert_only_the_sort_script(browser)
    assert any(XSS in td.text for td in browser.find_elements(By.TAG_NAME, "td"))
    plot = browser.find_element(By.CSS_SELECTOR, 'img[src="caar.png"]')
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", plot) > 0
    skipped = browser.find_element(By.XPATH, "//h2[.='Skipped pairs']/following-sibling::table[1]")
    assert "late-listing" in skipped.text and "NEW" in skipped.text and "estimation window" in skipped.text
    files = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a[href]")]
    assert len(files) == 7 and all(f.startswith(base_url) and status(f) == 200 for f in files)


def test_clicking_a_header_sorts_numbers_by_value_text_a_to_z_and_n_a_last(reports: Path, base_url: str,
                                                                            browser: webdriver.Chrome) -> None:
    rows = [["b", "+5.61%", "2024-03-01"], ["a", "n/a", "2023-12-31"], ["C", "-26.70%", "2024-01-15"],
            ["d", "1,234.50", "n/a"], ["e", "-1.84 (p 0.0928)", "2024-02-29"]]
    (reports / "sorting.html").write_text(page("sorting", table(["name", "figure", "date"], rows, numeric={1})))
    browser.get(base_url + "sorting.html")
    grid = browser.find_element(By.CSS_SELECTOR, "table.sortable")
    click_header(grid, "figure")
    assert column(grid, 1) == ["-26.70%", "-1.84 (p 0.0928)", "+5.61%", "1,234.50", "n/a"]
    click_header(grid, "figure")
    assert column(grid, 1) == ["1,234.50", "+5.61%", "-1.84 (p 0.0928)", "-26.70%", "n/a"]
    click_header(grid, "name")
    assert column(grid, 0) == ["a", "b", "C", "d", "e"]
    click_header(grid, "date")
    assert column(grid, 2) == ["2023-12-31", "2024-01-15", "2024-02-29", "2024-03-01", "n/a"]
    assert [th.get_attribute("aria-sort") for th in grid.find_elements(By.CSS_SELECTOR, "thead th")] == [
        None, None, "ascending"]
    assert console_errors(browser) == []


def test_run_and_sweep_pages_read_well_and_sort(reports: Path, base_url: str, browser: webdriver.Chrome) -> None:
    browser.get(base_url + "synthetic/index.html")
    assert console_errors(browser) == []
    assert_only_the_sort_script(browser)
    figures = browser.find_element(By.CSS_SELECTOR, "table:not(.sortable)")
    total = next(r for r in figures.find_elements(By.CSS_SELECTOR, "tbody tr") if r.text.startswith("total return"))
    assert total.text.count("%") == 2  # strategy and benchmark, both as percentages
    trades = browser.find_element(By.CSS_SELECTOR, "table.sortable")
    assert column(trades, 0) == ["AAA", "BBB"]
    click_header(trades, "P&L")
    assert column(trades, 6) == ["+436.00", "+888.00"] and column(trades, 0) == ["BBB", "AAA"]
    click_header(trades, "P&L")
    assert column(trades, 0) == ["AAA", "BBB"]
    browser.get(base_url + "sweeptest/sweep/index.html")
    assert console_errors(browser) == []
    top = browser.find_element(By.CSS_SELECTOR, "table.sortable")
    headers = [th.text for th in top.find_elements(By.CSS_SELECTOR, "thead th")]
    assert headers[:3] == ["rank", "combination", "drop_pct"] and "total return" in headers
    ranks = column(top, 0)
    assert ranks == sorted(ranks, key=int)
    click_header(top, "rank")
    click_header(top, "rank")
    assert column(top, 0) == sorted(ranks, key=int, reverse=True)
    returns = column(top, headers.index("total return"))
    assert all(value.endswith("%") for value in returns)


def check_news_page(browser: webdriver.Chrome, base_url: str) -> None:
    """Feed text arrives as text: no element it tried to inject, no link but the https one."""
    assert_only_the_sort_script(browser)
    assert [img.get_attribute("src") for img in browser.find_elements(By.TAG_NAME, "img")] == [base_url +
                                                                                              "news_study/study/caar.png"]
    cells = [td.text for td in browser.find_elements(By.TAG_NAME, "td")]
    for text in (SCRIPT_HEADLINE, HOSTILE_SOURCE, JS_URL, DATA_URL):
        assert text in cells, text
    offsite = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a[href]")
               if not a.get_attribute("href").startswith(base_url)]
    assert offsite == [SAFE_URL.replace('"', "%22")]
    assert browser.find_element(By.XPATH, "//h2[.='CAAR by sentiment bucket']")
    assert_no_alert(browser)
