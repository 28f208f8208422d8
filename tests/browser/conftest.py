"""Fixtures for the browser tests: one quizapp server and one host site per test module, and Chromium
profiles that block third-party cookies. Module scope: Playwright's sync API allows one instance at a time,
and other modules start their own. Skipped where Chromium or Playwright is missing (CI requires them:
QUIZAPP_REQUIRE_BROWSER=1 turns a skip into a failure)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.browser.harness import (
    BLOCK_THIRD_PARTY_COOKIES,
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    HostSite,
    QuizServer,
)

SCREENSHOTS = ROOT / "test-output" / "screenshots"

# Quizzes only these tests serve: one framed only by the host site (and sharing the email with it),
# one framed only by a site that is not the host.
ALLOWED_SLUG = "readiness-for-our-blog"
REFUSED_SLUG = "readiness-elsewhere"


@pytest.fixture(scope="module")
def playwright():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def host_site():
    site = HostSite()
    yield site
    site.close()


@pytest.fixture(scope="module")
def served_quizzes(tmp_path_factory, host_site) -> Path:
    folder = tmp_path_factory.mktemp("browser-quizzes")
    for path in (ROOT / "quizzes").glob("*.json"):
        shutil.copy(path, folder / path.name)
    base = json.loads((ROOT / "quizzes" / "lead-magnet-readiness.json").read_text())
    for slug, origins in ((ALLOWED_SLUG, [host_site.base]), (REFUSED_SLUG, ["https://blog.example.com"])):
        quiz = dict(base, slug=slug, embed_origins=origins)
        (folder / f"{slug}.json").write_text(json.dumps(quiz))
    return folder


@pytest.fixture(scope="module")
def quiz_server(playwright, database_url, served_quizzes, tmp_path_factory):
    server = QuizServer(database_url, served_quizzes, tmp_path_factory.mktemp("server") / "server.log",
                        env={"QUIZAPP_EMBED_SHARE_EMAIL": json.dumps([ALLOWED_SLUG])})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser_profiles(playwright, tmp_path_factory):
    """Opens a Chromium whose settings block third-party cookies; `viewport` and device options per call."""
    contexts = []

    def _open(**options):
        profile = tmp_path_factory.mktemp("chromium-profile")
        (profile / "Default").mkdir()
        (profile / "Default" / "Preferences").write_text(json.dumps(BLOCK_THIRD_PARTY_COOKIES))
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def desktop(browser_profiles):
    return browser_profiles(viewport={"width": 1280, "height": 800})


@pytest.fixture(scope="module")
def phone(browser_profiles):
    return browser_profiles(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                            has_touch=True)


@pytest.fixture
def shots(request):
    """Saves numbered screenshots under test-output/screenshots/<test name>/."""
    folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    count = [0]

    def _shot(page, name: str) -> Path:
        count[0] += 1
        path = folder / f"{count[0]:02d}-{name}.png"
        viewport = page.viewport_size
        height = page.evaluate("document.documentElement.scrollHeight")
        if page.query_selector("[role=dialog]:visible") or height <= viewport["height"]:
            page.screenshot(path=str(path))
            return path
        # A full-page capture leaves the part of an iframe below the first screen unpainted; a viewport
        # as tall as the page paints all of it (the frame's width, hence its height, stays the same).
        page.set_viewport_size({"width": viewport["width"], "height": height})
        try:
            page.screenshot(path=str(path))
        finally:
            page.set_viewport_size(viewport)
        return path

    return _shot


@pytest.fixture
def page_in(request):
    """A new tab in a context that records every request, closed after the test."""
    pages = []

    def _page(context):
        page = context.new_page()
        page.requested = []
        page.on("request", lambda r: page.requested.append(r.url))
        pages.append(page)
        return page

    yield _page
    for page in pages:
        if not page.is_closed():
            page.close()


def pytest_report_header(config):
    return f"browser tests: {CHROMIUM} ({'present' if os.path.exists(CHROMIUM) else 'missing'})"
