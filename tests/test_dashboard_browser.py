"""The console (`GET /__admin/ui`) in a real browser: headless Chromium driven by Selenium.

The mock runs on loopback; verifications and discoveries are made through Sohar's API and the
admin API from outside the page, and the page must show them without a reload. Every test ends with no error
in the browser's console. Needs Debian's `chromium` and `chromium-driver` and the `ui-test`
extra (`pip install -e '.[ui-test]'`); elsewhere the tests skip, saying so; under CI they fail.

`SOHAR_MOCK_UPDATE_SCREENSHOTS=1` writes the README's pictures (docs/dashboard*.png).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from conformance import validating_mock
from conftest import ROOT, receiving, request_for

from contract_tests.receiver import WebhookReceiver
from mock_server.testing import RunningMock

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # the ui-test extra is not installed
    webdriver = None  # type: ignore[assignment]

T = TypeVar("T")

WIDE = (1280, 900)
PHONE = (390, 844)
WAIT = 20  # seconds a page may take to show a change; polls come every 0.7 s
SCREENSHOTS = ROOT / "docs"


def _browser_paths() -> tuple[str | None, str | None]:
    binary = next((p for p in ("/usr/lib/chromium/chromium",) if Path(p).exists()), None) or shutil.which("chromium")
    return binary, shutil.which("chromedriver")


def _missing() -> str | None:
    binary, driver = _browser_paths()
    missing = [
        name
        for name, present in (("chromium", binary), ("chromium-driver", driver), ("selenium", webdriver))
        if not present
    ]
    if not missing:
        return None
    return (
        f"the browser tests need {', '.join(missing)}: apt-get install chromium chromium-driver;"
        " pip install -e '.[ui-test]'"
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    missing = _missing()
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{missing} (.ci/run installs them under CI)", pytrace=False)
        pytest.skip(missing)
    binary, driver_path = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={WIDE[0]},{WIDE[1]}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(driver_path)))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def console_receiver() -> Iterator[WebhookReceiver]:
    with receiving() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def console_live(console_receiver: WebhookReceiver) -> Iterator[RunningMock]:
    with validating_mock(webhook_urls=(console_receiver.url,), freeze_clock=True, seed=17) as running:
        yield running


class Console:
    """The page, open on a freshly reset mock, with helpers that wait for what a person would see."""

    def __init__(self, driver: WebDriver, mock: RunningMock, receiver: WebhookReceiver) -> None:
        self.driver, self.mock, self.receiver = driver, mock, receiver
        self.allowed_errors: list[str] = []

    def open(self, size: tuple[int, int] = WIDE) -> Console:
        self.driver.set_window_size(*size)
        self.driver.get(f"{self.mock.base_url}/__admin/ui")
        self.until(lambda d: "live" in d.find_element(By.ID, "connection").text)
        self.driver.execute_script("window.sameDocument = true")
        return self

    def until(self, condition: Callable[[WebDriver], Any], timeout: float = WAIT) -> Any:
        def attempt(driver: WebDriver) -> Any:
            try:
                return condition(driver)
            except StaleElementReferenceException:
                return False  # redrawn by a poll between finding and reading: look again

        return WebDriverWait(self.driver, timeout).until(attempt)

    def fresh(self, get: Callable[[], T]) -> T:
        """What `get` reads, read again when a poll redrew it between finding and reading.

        The page redraws its rows and the open detail whenever the mock's change counter moves
        (every webhook attempt moves it), so an element found a moment ago may be gone. A
        redraw is done in one go, so the next try finds the new elements. For reads and for
        clicks and choices, which a stale element refuses before they happen; typing into the
        detail goes through `type_into`, which checks what the field came to hold.
        """
        for _ in range(20):
            try:
                return get()
            except StaleElementReferenceException:
                continue
        return get()

    def click(self, selector: str) -> None:
        self.fresh(lambda: self.driver.find_element(By.CSS_SELECTOR, selector).click())

    def type_into(self, field_id: str, text: str) -> None:
        """Make a field of the open detail hold `text`, typed as a person would.

        A poll may redraw the detail even on a settled page (its cursor can trail the data it
        drew), and a stale field refuses the keys before any is typed; the page keeps what was
        typed across a redraw. So: type again into the field as it is now, until it holds `text`.
        """
        for _ in range(20):
            try:
                field = self.driver.find_element(By.ID, field_id)
                field.clear()
                field.send_keys(text)
                if field.get_attribute("value") == text:
                    return
            except StaleElementReferenceException:
                continue
        raise AssertionError(f"#{field_id} never came to hold {text!r}")

    def choose(self, select_id: str, value: str) -> None:
        self.fresh(lambda: Select(self.driver.find_element(By.ID, select_id)).select_by_value(value))

    def texts(self, selector: str) -> list[str]:
        return self.fresh(lambda: [str(e.text) for e in self.driver.find_elements(By.CSS_SELECTOR, selector)])

    def create(self, member_id: str = "00000000", environment: str = "sandbox", **fields: str) -> str:
        body = {**request_for(member_id), **fields}
        response = self.mock.http.post("/v2/verifications", json=body, headers=self.mock.headers(environment))
        assert response.status_code == 201, response.text
        return str(response.json()["verificationId"])

    def discover(self, state: str = "NY", environment: str = "sandbox", **fields: str) -> str:
        patient = {"firstName": "John", "lastName": "Doe", "dateOfBirth": "09/20/2006", "state": state}
        body = {"patient": patient, **fields}
        response = self.mock.http.post("/v2/discovery", json=body, headers=self.mock.headers(environment))
        assert response.status_code == 201, response.text
        return str(response.json()["discoveryId"])

    def show(self, key: str) -> None:
        """Open one of the lists (verifications, discoveries) by its button."""
        self.click(f'[data-key="show-{key}"]')
        self.until(
            lambda d: (
                d.find_element(By.CSS_SELECTOR, f'[data-key="show-{key}"]').get_attribute("aria-pressed") == "true"
            )
        )

    def settled(self, messages: int) -> None:
        """The open detail shows `messages` webhook messages, every one delivered: with the clock
        frozen nothing changes after that, so no poll redraws what a test is about to use."""

        def delivered(driver: WebDriver) -> bool:
            heads = [head.text for head in driver.find_elements(By.CSS_SELECTOR, ".message-head")]
            return len(heads) == messages and all("delivered" in head for head in heads)

        self.until(delivered)

    def row(self, verification_id: str) -> Any:
        return self.driver.find_element(By.CSS_SELECTOR, f'#rows tbody tr[data-id="{verification_id}"]')

    def row_text(self, verification_id: str) -> str:
        return self.fresh(lambda: str(self.row(verification_id).text))

    def row_ids(self) -> list[str]:
        rows = "#rows tbody tr"
        return self.fresh(
            lambda: [tr.get_attribute("data-id") for tr in self.driver.find_elements(By.CSS_SELECTOR, rows)]
        )

    def status_of(self, verification_id: str) -> str:
        return self.fresh(lambda: str(self.row(verification_id).find_element(By.CSS_SELECTOR, ".badge").text))

    def open_detail(self, verification_id: str) -> None:
        self.click(f'#rows tbody tr[data-id="{verification_id}"] button')
        self.until(lambda d: verification_id in d.find_element(By.ID, "detail-title").text)

    def text(self, selector: str) -> str:
        return self.fresh(lambda: str(self.driver.find_element(By.CSS_SELECTOR, selector).text))

    def console_errors(self) -> list[str]:
        entries = self.driver.get_log("browser")
        return [
            e["message"]
            for e in entries
            if e["level"] == "SEVERE" and not any(allowed in e["message"] for allowed in self.allowed_errors)
        ]

    def no_reload_happened(self) -> bool:
        return bool(self.driver.execute_script("return window.sameDocument === true"))


@pytest.fixture
def console(browser: WebDriver, console_live: RunningMock, console_receiver: WebhookReceiver) -> Iterator[Console]:
    # The last test's page goes first: polling a detail the reset removes, it would log a 404.
    browser.get("about:blank")
    console_live.reset()
    console_receiver.clear()
    page = Console(browser, console_live, console_receiver)
    browser.get_log("browser")  # what earlier tests left
    yield page
    assert page.console_errors() == []


def test_new_verifications_appear_without_a_reload(console: Console) -> None:
    console.open()
    first = console.create()
    second = console.create("30000000")
    console.until(lambda d: {first, second} <= set(console.row_ids()))
    assert console.row_ids()[:2] == [second, first]  # newest first
    assert console.status_of(first) == "complete.eligible" and console.status_of(second) == "pending"
    assert "payer-outage-then-recovers" in console.row_text(second)
    assert console.no_reload_happened()
    console.mock.advance(5)  # the outage ends, from outside the page
    console.until(lambda d: console.status_of(second) == "complete.eligible")
    assert console.no_reload_happened()


def test_filters_by_status_environment_and_text(console: Console) -> None:
    console.open()
    eligible = console.create()
    unknown = console.create("10000000", environment="production", id="intake-77")
    console.until(lambda d: {eligible, unknown} <= set(console.row_ids()))
    console.choose("filter-status", "error.member.id")
    console.until(lambda d: console.row_ids() == [unknown])
    console.choose("filter-status", "")
    console.choose("filter-environment", "sandbox")
    console.until(lambda d: console.row_ids() == [eligible])
    console.choose("filter-environment", "")
    console.driver.find_element(By.ID, "filter-text").send_keys("intake-7")
    console.until(lambda d: console.row_ids() == [unknown])
    assert "No row matches" not in console.text("#list")


def test_forcing_a_status_changes_the_row(console: Console) -> None:
    console.open()
    verification_id = console.create()
    console.until(lambda d: verification_id in console.row_ids())
    console.open_detail(verification_id)
    console.settled(1)
    console.choose("force-status", "complete.ineligible")
    console.choose("force-reason", "NON_COVERED")
    console.click("form.force button[type=submit]")
    console.until(lambda d: console.status_of(verification_id) == "complete.ineligible")
    assert "NON_COVERED" in console.row_text(verification_id)
    assert console.text("#notice").startswith(f"Forced {verification_id} to complete.ineligible / NON_COVERED")
    console.until(lambda d: "forced" in console.text(".timeline"))
    assert [step.split()[-1] for step in console.texts(".timeline li")] == [
        "created",
        "scheduled",
        "forced",
    ]
    # A change made elsewhere (a QA script) shows too.
    console.mock.http.post(f"/__admin/verifications/{verification_id}/status", json={"status": "error.payer.npi"})
    console.until(lambda d: console.status_of(verification_id) == "error.payer.npi")
    console.until(lambda d: "error.payer.npi" in console.text("#detail-body pre.json"))
    assert console.no_reload_happened()


def test_a_refused_force_is_shown_not_swallowed(console: Console) -> None:
    console.open()
    verification_id = console.create()
    console.until(lambda d: verification_id in console.row_ids())
    console.open_detail(verification_id)
    console.settled(1)
    # The page learns of a reset at its next poll and then says the verification is gone. Its
    # polls are cut first (they start with GET /__admin/health), so the force goes out for a
    # verification the mock no longer has, whenever the click comes.
    console.driver.execute_cdp_cmd("Network.enable", {})
    console.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/__admin/health"]})
    console.allowed_errors += ["ERR_BLOCKED_BY_CLIENT", "404"]
    try:
        console.until(lambda d: "offline" in console.text("#connection"))
        console.mock.reset()  # gone under the page's feet: the force answers 404
        console.click("form.force button[type=submit]")
        console.until(lambda d: "Forcing the status failed: HTTP 404" in console.text("#problem"))
    finally:
        console.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    # Back on line, the page sees the reset and says what became of it.
    console.until(lambda d: "Gone: the mock was reset" in console.text("#detail-body"))
    console.until(lambda d: "live" in console.text("#connection"))


def test_replaying_a_message_shows_the_new_attempt(console: Console) -> None:
    console.open()
    verification_id = console.create()
    console.receiver.wait_for_count(1)
    console.until(lambda d: verification_id in console.row_ids())
    console.open_detail(verification_id)
    console.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message .attempts tbody tr")) == 1)
    assert "delivered" in console.text(".message-head")
    console.click(".message-head button")
    console.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message .attempts tbody tr")) == 2)
    second = console.texts(".message .attempts tbody tr")[1].split()
    assert second[0] == "2" and "replay" in second and "200" in second
    assert "attempt 2 → 200" in console.text("#notice")
    assert len(console.receiver.received) == 2


def test_actions_answer_visibly(console: Console, tmp_path: Path) -> None:
    console.open()
    seconds = console.driver.find_element(By.ID, "advance-seconds")
    seconds.clear()
    seconds.send_keys("60")
    console.driver.find_element(By.CSS_SELECTOR, "#advance-form button").click()
    console.until(lambda d: "Advanced 60 s" in console.text("#notice"))
    console.until(lambda d: "offset 60 s" in console.text("#clock"))

    good = tmp_path / "team.yaml"
    good.write_text(
        "name: team\nrules:\n  - name: all-npi\n    match: {payerId: '60054'}\n    outcome: {status: error.payer.npi}\n"
    )
    console.driver.find_element(By.ID, "scenario-file").send_keys(str(good))
    console.driver.find_element(By.CSS_SELECTOR, "#scenario-form button").click()
    console.until(lambda d: "Loaded team.yaml" in console.text("#notice"))
    console.until(lambda d: "all-npi" in console.text("#scenario-body"))

    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - name: x\n    match: {payerId: '60054'}\n    outcome: {status: nope}\n")
    console.allowed_errors.append("/__admin/scenarios")  # the browser logs the 400 it was answered
    console.driver.find_element(By.ID, "scenario-file").send_keys(str(bad))
    console.driver.find_element(By.CSS_SELECTOR, "#scenario-form button").click()
    console.until(lambda d: "Loading bad.yaml failed: HTTP 400: bad.yaml:" in console.text("#problem"))
    assert console.text("#notice") == ""

    verification_id = console.create()
    console.until(lambda d: verification_id in console.row_ids())
    console.driver.find_element(By.ID, "reset").click()
    console.driver.find_element(By.ID, "reset-yes").click()
    console.until(lambda d: "Reset: back to the start-up state" in console.text("#notice"))
    console.until(lambda d: console.row_ids() == [])
    console.until(lambda d: "offset 0 s" in console.text("#clock") and "all-npi" not in console.text("#scenario-body"))
    assert console.mock.http.get("/__admin/verifications").json()["count"] == 0


def test_the_journal_marks_spec_breaking_requests(console: Console) -> None:
    console.open()
    headers = console.mock.headers()
    broken = {k: v for k, v in request_for().items() if k != "payerId"}
    assert console.mock.http.post("/v2/verifications", json=broken, headers=headers).status_code == 400
    console.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#journal-rows tr.breaking"))
    marked = console.text("#journal-rows tr.breaking")
    assert "breaks the spec: schema / required" in marked and "payerId" in marked
    console.driver.find_element(By.ID, "journal-breaking").click()
    rows = console.driver.find_elements(By.CSS_SELECTOR, "#journal-rows tbody tr")
    assert len(rows) == 1 and "breaking" in str(rows[0].get_attribute("class"))


def test_endpoints_show_their_secret_with_a_copy_button(console: Console) -> None:
    console.open()
    console.until(lambda d: console.receiver.url in console.text("#endpoint-rows"))
    row = console.text("#endpoint-rows tbody tr")
    assert "whsec_c29oYXItbW9jay1kZWZhdWx0LXNlY3JldCE=" in row and "config" in row
    console.click("#endpoint-rows button")
    # Copied, or (no clipboard in this browser) the secret selected and a message saying so.
    console.until(lambda d: "Copied" in console.text("#notice") or "press Ctrl+C" in console.text("#problem"))


def test_keyboard_reaches_every_control_and_inputs_have_labels(console: Console) -> None:
    console.open()
    verification_id = console.create()
    console.until(lambda d: verification_id in console.row_ids())
    unlabelled = console.driver.execute_script(
        "return [...document.querySelectorAll('input, select')]"
        ".filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.id || e.outerHTML)"
    )
    assert unlabelled == []
    clickable_non_buttons = console.driver.execute_script(
        "return [...document.querySelectorAll('[onclick], [role=button]')].map(e => e.outerHTML)"
    )
    assert clickable_non_buttons == []

    console.driver.find_element(By.TAG_NAME, "h1").click()
    reached: list[str] = []
    for _ in range(14):
        ActionChains(console.driver).send_keys(Keys.TAB).perform()  # to the page: a file input takes keys as a path
        active = console.driver.switch_to.active_element
        reached.append(active.get_attribute("id") or active.get_attribute("data-key") or active.text)
    expected = [
        "advance-seconds",
        "Advance",
        "scenario-file",
        "Load scenario",
        "reset",
        "show-verifications",
        "show-discoveries",
        "filter-status",
    ]
    assert [name for name in dict.fromkeys(reached) if name in expected] == expected, reached
    assert f"open-{verification_id}" in reached, reached

    opener = console.driver.find_element(By.CSS_SELECTOR, f'[data-key="open-{verification_id}"]')
    opener.send_keys(Keys.ENTER)
    console.until(lambda d: d.switch_to.active_element.get_attribute("id") == "detail-title")
    ActionChains(console.driver).send_keys(Keys.ESCAPE).perform()
    console.until(lambda d: d.switch_to.active_element.get_attribute("data-key") == f"open-{verification_id}")
    assert console.driver.find_element(By.ID, "detail").get_attribute("hidden") is not None


SLOW_DISCOVERY = """
discovery:
  rules:
    - name: slow-search
      match: {patient.state: WY}
      outcome: {status: pending, delay: 1, recoverAfter: 30, then: {status: complete, coverages: []}}
"""


def test_discoveries_appear_live_with_their_detail_and_webhooks(console: Console) -> None:
    console.open()
    verification_id = console.create()
    console.until(lambda d: verification_id in console.row_ids())
    loaded = console.mock.http.post("/__admin/scenarios", params={"name": "slow.yaml"}, content=SLOW_DISCOVERY)
    assert loaded.status_code == 201, loaded.text
    console.show("discoveries")
    assert console.driver.current_url.endswith("#discoveries")
    console.until(lambda d: console.row_ids() == [] and "POST /v2/discovery" in console.text("#rows-empty"))
    assert console.text("#list-title").startswith("Discoveries")

    found = console.discover("NY", id="intake-ny")
    nothing = console.discover("OH")
    slow = console.discover("WY", environment="production")
    console.until(lambda d: console.row_ids() == [slow, nothing, found])  # newest first, only discoveries
    assert console.status_of(found) == "complete" and "62308 / 00000000" in console.row_text(found)
    assert "intake-ny" in console.row_text(found) and "sandbox-discovery-NY" in console.row_text(found)
    assert "none" in console.row_text(nothing).split()
    assert console.status_of(slow) == "pending" and "production" in console.row_text(slow)

    console.mock.advance(1)  # the slow search says `pending`, from outside the page
    console.mock.advance(30)  # and completes, finding nothing
    console.until(lambda d: console.status_of(slow) == "complete")
    console.choose("filter-status", "pending")
    console.until(lambda d: console.row_ids() == [])
    console.choose("filter-status", "")
    console.driver.find_element(By.ID, "filter-text").send_keys("62308")
    console.until(lambda d: console.row_ids() == [found])
    console.driver.find_element(By.ID, "filter-text").clear()
    console.driver.find_element(By.ID, "filter-text").send_keys(Keys.BACKSPACE)

    console.open_detail(slow)
    console.settled(2)
    steps = [step.split() for step in console.texts(".timeline li")]
    assert [(step[1], step[-1]) for step in steps] == [
        ("pending", "created"),
        ("pending", "scheduled"),
        ("complete", "scheduled"),
    ]
    heads = console.texts(".message-head")
    assert all("discovery.updated" in head for head in heads), heads
    assert "Get Discovery body" in console.text("#detail-body")
    body = console.text("#detail-body pre.json")
    assert slow in body and '"status": "complete"' in body
    assert console.no_reload_happened()


def test_forcing_a_discovery_status_changes_the_row(console: Console) -> None:
    console.open()
    discovery_id = console.discover("NY")
    console.receiver.wait_for_count(1)
    console.show("discoveries")
    console.until(lambda d: discovery_id in console.row_ids())
    console.open_detail(discovery_id)
    console.settled(1)
    choices = console.texts("#force-status option")
    assert sorted(choices) == ["complete", "pending"]  # the admin contract's
    assert console.driver.find_elements(By.ID, "force-reason") == []  # a discovery has no statusReason

    console.type_into("force-coverages", "60054:00000001, 62308:A100")
    console.click("form.force button[type=submit]")
    console.until(lambda d: "60054 / 00000001 +1" in console.row_text(discovery_id))
    assert console.text("#notice") == f"Forced {discovery_id} to complete (found: 60054 / 00000001, 62308 / A100)."
    console.settled(2)
    console.until(lambda d: "forced" in console.text(".timeline"))
    console.until(lambda d: "A100" in console.text("#detail-body pre.json"))

    console.choose("force-status", "pending")
    assert not console.driver.find_element(By.ID, "force-coverages").is_enabled()
    console.click("form.force button[type=submit]")
    console.until(lambda d: console.status_of(discovery_id) == "pending")
    console.settled(3)
    assert "none" not in console.row_text(discovery_id).split()  # nothing found while searching

    # A refusal is the mock's own message.
    console.choose("force-status", "complete")
    console.type_into("force-coverages", "99999:1")
    console.allowed_errors.append("/status")  # the browser logs the 400 it was answered
    console.click("form.force button[type=submit]")
    console.until(lambda d: "Forcing the status failed: HTTP 400: unknown payer '99999'" in console.text("#problem"))

    # A replay of a discovery's message shows its new attempt.
    message_id = console.fresh(
        lambda: console.driver.find_elements(By.CSS_SELECTOR, ".message")[0].get_attribute("data-message")
    )
    console.click(f'.message[data-message="{message_id}"] .message-head button')
    replayed = f'.message[data-message="{message_id}"] .attempts tbody tr'
    console.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, replayed)) == 2)
    assert "replay" in console.texts(replayed)[1].split()

    # Back to the verifications: only they are listed, and the address says so.
    verification_id = console.create()
    console.show("verifications")
    console.until(lambda d: console.row_ids() == [verification_id])
    assert "#" not in console.driver.current_url
    assert console.no_reload_happened()


def test_the_address_opens_the_discoveries(console: Console) -> None:
    discovery_id = console.discover("CA")
    console.driver.set_window_size(*WIDE)
    console.driver.get("about:blank")  # a page already open would take the address as a move within it
    console.driver.get(f"{console.mock.base_url}/__admin/ui#discoveries")
    console.until(lambda d: discovery_id in console.row_ids())
    pressed = console.driver.find_element(By.CSS_SELECTOR, '[data-key="show-discoveries"]')
    assert pressed.get_attribute("aria-pressed") == "true"
    assert "60054 / 00000000" in console.row_text(discovery_id)
    console.driver.execute_script("window.sameDocument = true; location.hash = 'verifications'")
    console.until(lambda d: console.text("#list-title").startswith("Verifications"))
    assert console.no_reload_happened()


_OVERFLOWING = """
const page = document.documentElement;
if (page.scrollWidth <= page.clientWidth) return [];
const clipped = (e) => {
  for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== "visible") return true;
  }
  return false;
};
return [`page ${page.scrollWidth} > ${page.clientWidth} (window ${window.innerWidth})`].concat(
  Array.from(document.querySelectorAll("body *"))
    .filter((e) => e.getBoundingClientRect().right > page.clientWidth && !clipped(e))
    .slice(0, 8)
    .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className} right=${e.getBoundingClientRect().right}`
      + ` text=${JSON.stringify((e.textContent || "").slice(0, 40))}`));
"""


def _overflowing(console: Console) -> list[str]:
    """What scrolls the page itself sideways (wide tables scroll inside their own box): empty when it fits."""
    return list(console.driver.execute_script(_OVERFLOWING))


def test_usable_at_a_phone_width(console: Console) -> None:
    console.open(PHONE)
    assert console.driver.execute_script("return window.innerWidth") <= PHONE[0]
    ids = [console.create(member) for member in ("00000000", "20000001", "10000002")]
    console.until(lambda d: set(ids) <= set(console.row_ids()))
    # Scenario sources are paths as deep as wherever the mock runs (a CI checkout, a container):
    # one longer than the screen is wide, without a place to break, must wrap, not widen the page.
    deep = "/" + "/".join(["checkoutdirectory"] * 6) + "/phone.yaml"
    rule = "rules: [{name: phone, match: {patient.memberId: '40000009'}, outcome: {status: error.payer}}]"
    loaded = console.mock.http.post("/__admin/scenarios", params={"name": deep}, content=rule)
    assert loaded.status_code == 201, loaded.text
    console.until(lambda d: f"{deep}:1" in console.text("#scenario-body"))  # every fifth poll reads them again
    assert _overflowing(console) == []
    console.open_detail(ids[1])
    console.settled(1)
    assert _overflowing(console) == []
    force = console.driver.find_element(By.CSS_SELECTOR, "form.force button[type=submit]")
    console.driver.execute_script("arguments[0].scrollIntoView()", force)
    assert force.is_displayed()
    console.choose("force-status", "complete.eligible")
    force.click()
    console.until(lambda d: console.status_of(ids[1]) == "complete.eligible")
    if os.environ.get("SOHAR_MOCK_UPDATE_SCREENSHOTS") == "1":
        console.driver.execute_script("window.scrollTo(0, 0)")
        console.driver.save_screenshot(str(SCREENSHOTS / "dashboard-phone.png"))


def test_screenshot_of_a_busy_console(console: Console, tmp_path: Path) -> None:
    """The README's picture, made by this browser: several outcomes, one opened, its webhooks."""
    console.open()
    made = [
        console.create(member, id=f"intake-{n}")
        for n, member in enumerate(("00000000", "00000001", "10000001", "20000001", "30000000", "00000000"), 101)
    ]
    console.until(lambda d: set(made) <= set(console.row_ids()))
    console.mock.http.post(
        f"/__admin/verifications/{made[0]}/status", json={"status": "complete.ineligible", "statusReason": "INACTIVE"}
    )
    broken = {k: v for k, v in request_for().items() if k != "specialtyCode"}
    console.mock.http.post("/v2/verifications", json=broken, headers=console.mock.headers())
    console.open_detail(made[0])
    console.settled(2)
    target = SCREENSHOTS if os.environ.get("SOHAR_MOCK_UPDATE_SCREENSHOTS") == "1" else tmp_path
    console.driver.set_window_size(WIDE[0], 1400)
    path = target / "dashboard.png"
    assert console.driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000


def test_screenshot_of_the_discoveries(console: Console, tmp_path: Path) -> None:
    """The README's picture of the second list: sandbox values, a roster search, one forced."""
    console.open()
    made = [console.discover(state, id=f"intake-{n}") for n, state in enumerate(("CA", "DE", "OH", "NY"), 201)]
    roster = console.discover("CA", environment="production", id="intake-205")
    console.show("discoveries")
    console.until(lambda d: set([*made, roster]) <= set(console.row_ids()))
    forced = {"status": "complete", "coverages": [{"payerId": "62308", "memberId": "A100"}]}
    console.mock.http.post(f"/__admin/discoveries/{made[1]}/status", json=forced)
    console.open_detail(made[1])
    console.settled(2)
    target = SCREENSHOTS if os.environ.get("SOHAR_MOCK_UPDATE_SCREENSHOTS") == "1" else tmp_path
    console.driver.set_window_size(WIDE[0], 1200)
    path = target / "dashboard-discoveries.png"
    assert console.driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
