"""The class dashboard in real headless Chromium (Debian's `chromium` driven by Selenium through
Debian's `chromium-driver`): the grid updates when a learner who joined with the real
`labrunner class join` passes a step through the real client (outbox + detached sender).

Without chromium or chromedriver the test skips, unless LABRUNNER_REQUIRE_CHROMIUM=1 (CI).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid

import pytest

from class_helpers import Dashboard
from labrunner.classroom import client, hook, outbox


def browser_programs() -> tuple[str, str]:
    program = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    missing = [name for name, found in (("chromium", program), ("chromium-driver", driver)) if not found]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install 'labrunner[dev]')")
    if missing:
        message = f"needs {' and '.join(missing)} (apt-get install chromium chromium-driver)"
        if os.environ.get("LABRUNNER_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"LABRUNNER_REQUIRE_CHROMIUM=1 but the dashboard browser test {message}")
        pytest.skip(f"the dashboard browser test {message}")
    return program, driver


@pytest.fixture
def browser(tmp_path):
    program, driver_path = browser_programs()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = program
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1400,1000",
                f"--user-data-dir={tmp_path / 'profile'}", "--proxy-server=127.0.0.1:9",
                "--proxy-bypass-list=127.0.0.1", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path, log_output=str(tmp_path / "driver.log")),
                              options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait_for(driver, script: str, timeout: float = 30):
    """Poll a JS expression in the page until it is truthy; its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return ({script});")
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"never true in the page: {script}\n{driver.find_element('tag name', 'body').text}")


def test_the_grid_updates_when_a_learner_passes_a_step(browser, tmp_path, cli, labrunner_home):
    from labrunner import progress, steps
    from labrunner.labs import catalog

    server = Dashboard(tmp_path / "srv").start()
    where = labrunner_home / "data" / "class"
    try:
        assert cli("class", "join", server.url, "--name", "Ada Lovelace", "--code", server.code).code == 0
        browser.get(f"{server.url}/?key={server.key}")
        wait_for(browser, "document.body.innerText.includes('1 learner(s) joined; no results yet')")

        lab = catalog.get("dynamodb-basics", with_code=False)
        first = lab.steps[0]
        steps.go(lab, first)
        progress.record_attempt(lab.id, first.id, False, "table missing")      # a failed check ...
        hook.after_check(lab, first, False)
        cell = f"document.querySelector('table.grid[data-lab=\"{lab.id}\"] td[data-step=\"{first.id}\"]')"
        assert wait_for(browser, f"{cell} && {cell}.dataset.status === 'attempted'")
        progress.record_attempt(lab.id, first.id, True)                         # ... then it passes
        hook.after_check(lab, first, True)
        wait_for(browser, f"{cell}.dataset.status === 'passed'")
        text = browser.execute_script(f"return {cell}.innerText;")
        assert "passed" in text and "2 runs" in text and "1 failed" in text
        heads = browser.execute_script(
            f"return [...document.querySelectorAll('table.grid[data-lab=\"{lab.id}\"] thead th')].map(t => t.innerText);")
        assert heads[:3] == ["Learner", f"1. {lab.steps[0].title}", f"2. {lab.steps[1].title}"]
        wait_for(browser, f"document.querySelector('.hstep[data-step=\"{first.id}\"]').dataset.passed === '1'")
        assert browser.execute_script(
            "return document.querySelector(`.hstep[data-step='" + first.id + "'] [data-runs='2']`).innerText;") == "1"

        stuck = {"url": server.url, **client.join(server.url, "Bob Stuck", server.code)[1]}   # a second learner
        result = {"id": uuid.uuid4().hex, "lab": lab.id, "step": first.id, "passed": False, "status": "attempted",
                  "check_runs": 4, "failed_runs": 4, "hints": 2, "time_on_step": 300.0, "at": time.time()}
        assert client.submit(stuck, 1, [result])[0] == 200
        wait_for(browser, "document.querySelectorAll('td.stuck').length === 1")
        assert "Bob Stuck" in browser.find_element("id", "stucklist").text
        assert browser.execute_script(
            "return performance.getEntriesByType('resource').every(e => e.name.startsWith(location.origin));")
        shot = tmp_path / "dashboard.png"
        assert browser.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
    finally:
        outbox.drop_membership(where)
        server.stop()
