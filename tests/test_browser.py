"""End to end: `escalation viz` serves the page, Debian's Chromium (driven by Playwright) uses it.

Every request that does not go to the local server is blocked and recorded, so the test also
shows that the page works without internet.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import JUNE

playwright = pytest.importorskip("playwright.sync_api", reason="the browser extra is not installed")
pytest.importorskip("solara", reason="the viz extra is not installed")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # needed as root
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
WAIT_MS = 60_000  # generous: the CI machine may be busy (no assertion depends on timing)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="no chromium (`make chromium` installs Debian's, as root)",
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(url: str, server: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    """Poll ``url`` until it answers; fail with the server's log if it exits or never answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"server exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"server did not answer within {seconds} s:\n{log.read_text()}")


@pytest.fixture
def server_url(tmp_path):
    """`escalation viz` on a free loopback port; stopped (with its solara child) afterwards."""
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "sim", "viz", str(JUNE), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_server(url, server, log)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def expect_points(page, selector: str, points: int) -> None:
    """Wait until the SVG path ``selector`` has ``points`` vertices (failing after WAIT_MS): each
    panel is a component of its own, so a chart may arrive just after the day it belongs to."""
    page.wait_for_function(
        "([selector, points]) => ((document.querySelector(selector)?.getAttribute('d') ?? '')"
        ".match(/[ML]/g) ?? []).length === points",
        arg=[selector, points],
        timeout=WAIT_MS,
    )


def test_step_read_change_reset_in_chromium(server_url, tmp_path):
    expect = playwright.expect
    outside: list[str] = []

    def local_only(route):
        url = route.request.url
        if url.startswith(server_url) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            tmp_path / "profile",  # fresh profile
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        browser.route("**/*", local_only)
        page = browser.new_page()
        page.goto(server_url)
        day = page.locator(".escalation-day")
        expect(day).to_have_text("Day 0", timeout=WAIT_MS)

        step = page.get_by_role("button", name="Step")
        for n in range(1, 4):
            step.click()
            expect(day).to_have_text(f"Day {n}", timeout=WAIT_MS)
        expect_points(page, "#chart-troops path", 2 * 4 - 1)  # a step line through days 0 to 3
        expect(page.locator(".escalation-ladder")).to_contain_text("Day 3: system at rung")
        expect(page.locator(".escalation-beliefs")).to_contain_text("(the true type)")
        expect(page.locator(".escalation-attacks")).to_contain_text("Attacks per week by mode")
        expect(page.locator(".escalation-log")).to_contain_text("CAMEO event")

        other_tab = browser.new_page()  # another session: its own model, still at day 0
        other_tab.goto(server_url)
        expect(other_tab.locator(".escalation-day")).to_have_text("Day 0", timeout=WAIT_MS)
        other_tab.close()
        expect(day).to_have_text("Day 3")

        enforcement = page.get_by_role("slider", name="Government enforcement")
        expect(enforcement).to_have_attribute("aria-valuenow", "0.3")
        enforcement.focus()
        page.keyboard.press("End")  # one change event: the server sees exactly this value
        expect(enforcement).to_have_attribute("aria-valuenow", "1")
        page.get_by_role("button", name="Reset").click()
        expect(day).to_have_text("Day 0", timeout=WAIT_MS)
        command = page.locator(".escalation-command")
        expect(command).to_contain_text("--set government.enforcement=1.0", timeout=WAIT_MS)
        expect(command).to_contain_text("--seed 0")
        step.click()
        expect(day).to_have_text("Day 1", timeout=WAIT_MS)
        expect_points(page, "#chart-troops path", 2 * 2 - 1)

        screenshot = tmp_path / "escalation_viz.png"
        page.screenshot(path=screenshot)
        browser.close()

    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert outside == []  # nothing but the local server was asked for anything
