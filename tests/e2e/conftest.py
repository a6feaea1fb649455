"""Fixtures of the browser end-to-end tests: Debian's Chromium driven by
Playwright (sync API), axe-core from the npm registry, screenshots.

Every page a test opens is watched for Content-Security-Policy violations
(the browser's ``securitypolicyviolation`` events and its console reports);
any one fails the test when its pages are closed.

The tests skip with a clear reason when Chromium, Playwright or npm is missing
(and fail under ``CI=true``, see ``tests/conftest.py``)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import require_service

CHROMIUM = os.environ.get("VIVADESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
#: Playwright's default wait for locators and navigation (milliseconds).
TIMEOUT_MS = 15_000
#: The screen sizes pages are checked at: a desktop and a phone.
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 375, "height": 740},
}


def assert_no_sideways_scrolling(page, name: str) -> None:
    """Nothing on the page is wider than the window."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert widths[0] <= widths[1], f"{name} is {widths[0]} px wide at {widths[1]} px"


@pytest.fixture(scope="module")
def _playwright():
    """Playwright for one test module (stopped afterwards, so its event loop
    does not outlive the browser tests)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_service("playwright is not installed (pip install -e '.[dev]')")
    # Playwright's sync API runs an asyncio loop in the test's thread; Django's
    # ORM, used by the test itself, would refuse to run there otherwise.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            yield playwright


@pytest.fixture(scope="module")
def browser(_playwright):
    if not os.path.exists(CHROMIUM):
        require_service(f"{CHROMIUM} is missing (apt-get install chromium)")
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


#: Runs in every document before its own scripts (through the DevTools
#: protocol, so the page's policy does not block it): records violations.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` on ${event.documentURI}`
  );
});
"""


def csp_violations(page) -> list[str]:
    """Violations recorded in the page's current document."""
    try:
        return page.evaluate("() => window.__cspViolations || []")
    except Exception:  # noqa: BLE001 - a closed or navigating page has none
        return []


@pytest.fixture
def live_site(settings, live_server):
    """The demo site served live, mail links pointing at it; the contact
    form accepts a post at once."""
    from django.core.management import call_command

    settings.VIVADESK = {
        **settings.VIVADESK,
        "MIN_FILL_SECONDS": 0,
        "BASE_URL": live_server.url,
    }
    settings.WAGTAILADMIN_BASE_URL = live_server.url
    call_command("vivadesk_demo", stdout=open("/dev/null", "w"))
    return live_server


@pytest.fixture
def new_page(browser):
    """Make pages in fresh browser contexts (own cookies each); all closed at
    the end of the test, which fails if any page reported a violation of its
    Content-Security-Policy."""
    contexts = []
    reported: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            reported.append(message.text)

    def make(locale: str = "de-DE"):
        context = browser.new_context(
            locale=locale, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(script=RECORD_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        page.on("console", on_console)
        return page

    yield make
    for context in contexts:
        for page in context.pages:
            reported.extend(csp_violations(page))
        context.close()
    wait_for_requests_to_end()
    assert not reported, "Content-Security-Policy violations:\n" + "\n".join(
        dict.fromkeys(reported)
    )


#: The threads in which the live server answers requests (socketserver
#: names them after their target, ``process_request_thread``).
REQUEST_THREAD = "process_request_thread"


def wait_for_requests_to_end(quiet: float = 0.3, limit: float = 10.0) -> None:
    """Wait until the live server has answered every request of the closed
    pages (a ``sendBeacon`` sent as a page closes, a heartbeat under way):
    the database is emptied after the test, and a request still writing
    then locks SQLite's tables under the flush. Returns once no request
    thread has been alive for ``quiet`` seconds, or after ``limit``."""
    deadline = time.monotonic() + limit
    idle_since = time.monotonic()
    while time.monotonic() < deadline:
        if any(REQUEST_THREAD in thread.name for thread in threading.enumerate()):
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= quiet:
            return
        time.sleep(0.02)


@pytest.fixture(scope="session")
def axe_script(tmp_path_factory) -> Path:
    """``axe.min.js`` of axe-core 4, installed from the npm registry."""
    npm = shutil.which("npm")
    if npm is None:
        require_service("npm is missing (apt-get install npm), needed for axe-core")
    prefix = tmp_path_factory.mktemp("axe")
    result = subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(prefix),
            "--no-audit",
            "--no-fund",
            "axe-core@4",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    script = prefix / "node_modules" / "axe-core" / "axe.min.js"
    if result.returncode != 0 or not script.exists():
        require_service(f"npm install axe-core@4 failed: {result.stderr[-500:]}")
    return script


@pytest.fixture
def check_a11y(axe_script):
    """Run axe-core on the page; fail on serious or critical violations."""

    source = axe_script.read_text()

    def check(page, name: str) -> None:
        # Evaluated through the DevTools protocol: a ``<script>`` tag with
        # axe's code inline would be refused by the page's policy.
        page.evaluate(source)
        results = page.evaluate("async () => await axe.run(document)")
        assert results["passes"], f"axe-core checked nothing on {name}"
        bad = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
                "summary": v["nodes"][0].get("failureSummary", "")
                if v["nodes"]
                else "",
            }
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"axe violations on {name} ({page.url}):\n" + json.dumps(
            bad, indent=2, ensure_ascii=False
        )

    return check


@pytest.fixture
def shot(request):
    """Save a full-page screenshot to ``test-artifacts/e2e/<test>-NN-<step>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    counter = {"n": 0}
    test = request.node.name
    # A parametrised test's name has brackets, which glob reads as a class.
    for old in ARTIFACTS.glob(f"{glob.escape(test)}-*.png"):
        old.unlink()

    def save(page, step: str) -> None:
        counter["n"] += 1
        path = ARTIFACTS / f"{test}-{counter['n']:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)

    return save
