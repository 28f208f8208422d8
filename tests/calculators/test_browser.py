"""A real browser against `quizapp serve`: the live result with JavaScript (debounced, server-computed),
and the same figures with JavaScript off."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, ROOT, QuizServer

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    if not Path(CHROMIUM).exists() and os.environ.get("QUIZAPP_REQUIRE_BROWSER") != "1":
        pytest.skip(f"{CHROMIUM} is not installed")
    folder = tmp_path_factory.mktemp("calculator-quizzes")
    for path in (ROOT / "quizzes").glob("*.json"):
        shutil.copy(path, folder / path.name)
    server = QuizServer(database_url, folder, tmp_path_factory.mktemp("calc-server") / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def test_live_result_updates_as_the_visitor_types(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    previews: list[str] = []
    page.on("request", lambda r: previews.append(r.url) if r.url.endswith("/preview") else None)
    page.goto(f"{server.base}/q/customer-cost")
    headline = page.locator(".calc-headline")
    assert headline.inner_text() == "$1,000.00"  # the defaults: $200 leads at 20%

    page.fill("#in-a_cost_per_lead", "")
    page.locator("#in-a_cost_per_lead").press_sequentially("5", delay=40)
    page.fill("#in-a_close_rate", "")
    page.locator("#in-a_close_rate").press_sequentially("0.3", delay=40)  # three keys, one request
    page.wait_for_function("document.querySelector('.calc-headline').textContent === '$1,666.67'")
    assert len(previews) <= 3
    url_before = page.url
    assert url_before.endswith("/q/customer-cost")  # no navigation: the panel was swapped in place

    page.fill("#in-b_cost_per_lead", "40")
    page.fill("#in-b_close_rate", "6,5")
    page.wait_for_function("document.querySelector('#err-b_close_rate').textContent.includes('6,5')")
    assert "use a dot for decimals" in page.locator("#err-b_close_rate").inner_text()
    page.fill("#in-b_close_rate", "6")
    page.wait_for_function("document.querySelector('#err-b_close_rate').textContent === ''")
    assert page.locator("[data-value=b_cost_per_customer] dd").inner_text() == "$666.67"

    page.click("button[value=calculate]")
    page.wait_for_url("**/calculate")
    page.fill("#first_name", "Ann")
    page.fill("#email", "ann@example.com")
    # the live preview sends the numbers only, never what is typed into the gate
    with page.expect_request(lambda r: r.url.endswith("/preview")) as sent:
        page.fill("#in-customer_value", "1500")
    posted = sent.value.post_data_json
    assert posted["customer_value"] == "1500" and posted["a_close_rate"] == "0.3"
    assert not {"first_name", "email", "_action"} & set(posted)
    page.wait_for_function("document.querySelector('.calc-live').textContent.includes('Channel B')")
    page.click("button[value=unlock]")
    page.wait_for_url("**/result")
    assert page.locator(".calc-headline").inner_text() == "$1,666.67"
    assert page.locator("[data-value=difference] dd").inner_text() == "$1,000.00"
    assert page.locator("[data-value=a_profit_per_customer] dd").inner_text() == "-$166.67"
    advice = page.locator("[data-advice=trap] h2").inner_text()
    assert advice == "The cheaper leads are the more expensive customers"
    assert context.cookies() == []
    context.close()


def test_without_javascript_the_calculate_button_gives_the_same_figures(server, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{server.base}/q/leads-needed")
    page.fill("#in-customers", "10")
    page.fill("#in-close_rate", "2")
    page.fill("#in-optin_rate", "1,5")
    page.click("button[value=calculate]")
    # the same message as the live check gives, and what was typed is kept
    assert "is not a number we can read" in page.locator("#err-optin_rate").inner_text()
    assert page.locator("#in-optin_rate").input_value() == "1,5"
    page.fill("#in-optin_rate", "25")
    page.click("button[value=calculate]")
    page.wait_for_url("**/calculate")
    assert page.locator(".calc-headline").inner_text() == "500 leads"
    page.fill("#first_name", "Bo")
    page.fill("#email", "bo@example.com")
    page.press("#email", "Enter")  # Enter in the gate unlocks
    page.wait_for_url("**/result")
    assert page.locator("[data-value=visitors_needed] dd").inner_text() == "2,000 visitors"
    assert page.locator("[data-value=leads_saved] dd").inner_text() == "300 leads"
    context.close()


def test_typing_and_submitting_log_no_console_errors(server, browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.base}/q/leads-needed")
    page.fill("#in-customers", "")
    page.locator("#in-customers").press_sequentially("20", delay=40)
    page.wait_for_function("document.querySelector('.calc-headline').textContent === '400 leads'")
    page.click("button[value=calculate]")
    page.wait_for_url("**/calculate")
    # the address changes before the swap, and focus moves to the heading once it has settled
    page.wait_for_function("document.activeElement.matches('[data-quiz-step=calculator] h1')")
    page.fill("#in-customers", "")
    page.locator("#in-customers").press_sequentially("30", delay=40)
    page.wait_for_function("document.querySelector('.calc-headline').textContent === '600 leads'")
    page.fill("#first_name", "Cy")
    page.fill("#email", "cy@example.com")
    page.click("button[value=unlock]")
    page.wait_for_url("**/result")
    assert page.locator("[data-value=leads_saved] dd").inner_text() == "0 leads"
    assert errors == []
    context.close()
