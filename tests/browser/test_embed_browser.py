"""A blog on one origin embeds quizzes served from another, in Chromium with third-party cookies blocked.
Each test takes a quiz to its result with keyboard, mouse or touch, and checks at every step that the
iframe is as tall as its content, that focus lands on the new screen, that axe-core finds no WCAG 2.2 AA
violation, which events the blog received, and what the stored lead carries. Screenshots of each step go
to test-output/screenshots/."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from quizapp.store.db import make_engine
from quizapp.store.models import Lead, Submission
from tests.browser.conftest import ALLOWED_SLUG, REFUSED_SLUG
from tests.browser.harness import AXE
from tests.helpers import FUNNEL_PATH

pytestmark = [pytest.mark.slow, pytest.mark.browser]

FUNNEL_ORDER = ["channels", "visitors", "intent", "magnet", "form", "sequence", "segments", "close_rate",
                "thank_you", "paid_tracking"]
UTM = "utm_source=newsletter&utm_medium=email&utm_campaign=spring"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FRAME = "iframe[data-quizapp-frame]"


# -- reading the page ---------------------------------------------------------------------------------

def quiz_frame(page, selector: str = FRAME):
    return page.wait_for_selector(selector, state="attached").content_frame()


def screen(frame, kind: str, step: int | None = None):
    selector = f'[data-quiz-step="{kind}"]' + (f'[data-step="{step}"]' if step else "")
    return frame.wait_for_selector(selector)


def received(page) -> list[dict]:
    return page.evaluate("window.received")


def names(events: list[dict]) -> list[str]:
    return [e["name"] for e in events]


def wait_for_event(page, name: str, count: int = 1) -> list[dict]:
    page.wait_for_function("([n, c]) => window.received.filter(e => e.name === n).length >= c",
                           arg=[name, count])
    return received(page)


def assert_height_tracks(page, frame, selector: str = FRAME, tolerance: float = 3) -> float:
    """The iframe is as tall as the frame's content, within a few pixels, with no inner scrollbar, and
    stays so (a layout that fed back into its own height would keep growing)."""
    deadline = time.monotonic() + 5
    while True:
        outer = page.eval_on_selector(selector, "e => e.getBoundingClientRect().height")
        inner = frame.evaluate("Math.ceil(document.getElementById('app').getBoundingClientRect().bottom)")
        if abs(outer - inner) <= tolerance or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert abs(outer - inner) <= tolerance, (outer, inner)
    assert frame.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")
    time.sleep(0.3)
    assert page.eval_on_selector(selector, "e => e.getBoundingClientRect().height") == outer
    return outer


def focused(frame) -> str:
    return frame.evaluate("(el => el ? el.outerHTML.split('>')[0] + '>' : '')(document.activeElement)")


def check_axe(frame) -> None:
    if not frame.evaluate("typeof window.axe === 'object'"):
        frame.add_script_tag(path=str(AXE))
    result = frame.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
    assert problems == [], problems


def stored(database_url: str, email: str) -> tuple[Submission, Lead, dict]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            sub = session.scalars(select(Submission).join(Lead).where(Lead.email == email)).one()
            return sub, sub.lead, dict(sub.response.source)
    finally:
        engine.dispose()


def tab_until(page, frame, predicate: str, limit: int = 20) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if frame.evaluate(f"document.hasFocus() && (el => {predicate})(document.activeElement)"):
            return
    raise AssertionError(f"keyboard focus never reached: {predicate}")


def answer_by_keyboard(page, frame, values: list[str]) -> None:
    """From the focused heading: Tab to the choices, pick with Space or the arrow keys, Enter submits."""
    page.keyboard.press("Tab")
    kind = frame.evaluate("document.activeElement.type")
    if kind == "checkbox":
        while True:
            value = frame.evaluate("document.activeElement.value")
            if value in values:
                page.keyboard.press("Space")
            page.keyboard.press("Tab")
            if frame.evaluate("document.activeElement.type") != "checkbox":
                break
        page.keyboard.press("Enter")  # on the submit button
        return
    assert kind == "radio", kind
    target = values[0]
    if frame.evaluate("document.activeElement.value") == target:
        page.keyboard.press("Space")
    else:
        for _ in range(12):
            page.keyboard.press("ArrowDown")
            if frame.evaluate("document.activeElement.value") == target:
                break
    assert frame.evaluate("document.activeElement.checked && document.activeElement.value") == target
    page.keyboard.press("Enter")


def answer_by_pointer(frame, values: list[str], touch: bool = False) -> None:
    for value in values:
        choice = frame.locator(f'label:has(input[name="answer"][value="{value}"])')
        choice.tap() if touch else choice.click()
    button = frame.locator("form button[type=submit]")
    button.tap() if touch else button.click()


# -- the tests ----------------------------------------------------------------------------------------

def test_inline_on_desktop_by_keyboard_only_to_a_stored_lead(desktop, page_in, host_site, quiz_server,
                                                                database_url, shots):
    base = quiz_server.base
    host_site.add("/search.html", f'<a id="result" href="/post.html?{UTM}">Funnel leaks, explained</a>', base)
    post = host_site.add("/post.html", f'<div data-quizapp="funnel-leak"><a href="{base}/q/funnel-leak">'
                                       "Where is your lead funnel leaking?</a></div>", base)
    email = f"reader-{uuid.uuid4().hex[:10]}@example.com"
    page = page_in(desktop)
    page.goto(host_site.base + "/search.html")
    page.click("#result")
    frame = quiz_frame(page)
    screen(frame, "landing")
    wait_for_event(page, "quiz:ready")
    entries = page.evaluate("history.length")
    assert_height_tracks(page, frame)
    check_axe(frame)
    shots(page, "landing")

    # Third-party cookies really are blocked in this browser: the frame cannot keep one.
    assert frame.evaluate("document.cookie = 'probe=1; SameSite=None; Secure; path=/'; document.cookie") == ""

    # Keyboard only, from the blog's page into the quiz and on to the result (the other tests use a mouse
    # or touch).
    tab_until(page, frame, "el.matches('button[type=submit]')")
    page.keyboard.press("Enter")
    for n, qid in enumerate(FUNNEL_ORDER, start=1):
        step = screen(frame, "question", n)
        heading = step.query_selector("h1").inner_text()
        # Focus moves to the new question once htmx has settled the swap.
        frame.wait_for_function("document.activeElement && document.activeElement.tagName === 'H1'")
        assert focused(frame) == '<h1 tabindex="-1">'
        assert frame.evaluate("document.activeElement.textContent") == heading
        assert frame.inner_text("#announce") == f"Question {n} of {step.get_attribute('data-count')}"
        assert_height_tracks(page, frame)
        if n in (1, 2):
            check_axe(frame)  # a multiple-choice and a single-choice screen
        shots(page, f"question-{n}")
        answer_by_keyboard(page, frame, FUNNEL_PATH[qid])

    # The gate, by keyboard: a wrong email first, then the right one.
    screen(frame, "gate")
    assert_height_tracks(page, frame)
    check_axe(frame)
    shots(page, "gate")
    page.keyboard.press("Tab")
    assert frame.evaluate("document.activeElement.name") == "first_name"
    page.keyboard.type("Ann")
    page.keyboard.press("Tab")
    page.keyboard.type("ann@")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    frame.wait_for_selector("#email[aria-invalid=true]")
    frame.wait_for_function("document.activeElement && document.activeElement.id === 'email'")
    assert_height_tracks(page, frame)
    check_axe(frame)
    shots(page, "gate-error")
    page.keyboard.press("Control+A")
    page.keyboard.type(email)
    page.keyboard.press("Enter")
    result = screen(frame, "result")
    events = wait_for_event(page, "quiz:result")
    assert_height_tracks(page, frame)
    check_axe(frame)
    shots(page, "result")

    sub, lead, source = stored(database_url, email)
    assert (sub.outcome, sub.score, sub.max_score, sub.percent) == ("nurture", Decimal(16), Decimal(28),
                                                                    Decimal("57.14"))
    assert lead.tags == ["quiz:funnel-leak", "channel:owned", "channel:paid", "leak:nurture"]
    assert sub.consent_text and sub.consent_at is not None
    assert source == {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring",
                      "page": f"{post}?{UTM}", "referrer": f"{host_site.base}/search.html", "embed": "1"}
    assert result.get_attribute("data-outcome") == "nurture"
    # Eleven steps inside the frame added nothing to the blog's back button.
    assert page.evaluate("history.length") == entries

    # What the blog heard, in order; the lead event carries outcome, score and tags, never the email.
    assert names(events) == ["quiz:ready", "quiz:start", *["quiz:step"] * 10, "quiz:gate", "quiz:lead",
                             "quiz:result"]
    steps = [e["detail"] for e in events if e["name"] == "quiz:step"]
    assert [(s["step"], s["count"]) for s in steps] == [(1, 9)] + [(n, 10) for n in range(2, 11)]
    lead_event = events[-2]["detail"]
    assert lead_event == {"quiz": "funnel-leak", "screen": "result", "outcome": "nurture", "score": 16,
                          "percent": 57.14, "tags": sub.tags, "embed": "quizapp-1"}
    assert "email" not in str(events)
    layer = page.evaluate("window.dataLayer")
    assert [e["event"] for e in layer] == names(events)
    assert layer[-2]["outcome"] == "nurture" and layer[-2]["score"] == 16

    # A message that does not come from the quiz's frame changes nothing.
    height = page.eval_on_selector(FRAME, "e => e.getBoundingClientRect().height")
    page.evaluate("window.postMessage({quizapp: 1, type: 'height', height: 7}, '*')")
    page.evaluate("window.postMessage({quizapp: 1, type: 'event', name: 'quiz:lead', detail: {}}, '*')")
    time.sleep(0.3)
    assert page.eval_on_selector(FRAME, "e => e.getBoundingClientRect().height") == height
    assert len(received(page)) == len(events)

    # Reloading the blog keeps the visitor on their result, sized right, without a second lead event.
    page.reload()
    frame = quiz_frame(page)
    screen(frame, "result")
    after = wait_for_event(page, "quiz:result")
    assert names(after) == ["quiz:ready", "quiz:result"]
    assert_height_tracks(page, frame)
    shots(page, "result-after-reload")

    # Every request went to the blog or the quiz server; the quiz server set no cookie at all.
    hosts = {urlsplit(u).netloc for u in page.requested}
    assert hosts <= {urlsplit(host_site.base).netloc, urlsplit(base).netloc}, hosts
    assert desktop.cookies(base) == []


def test_popup_on_a_phone_by_touch_with_escape_and_reopen(phone, page_in, host_site, quiz_server,
                                                          database_url, shots):
    base = quiz_server.base
    host_site.add("/phone.html", f'<p><a class="cta" href="{base}/q/lead-magnet-readiness" '
                                 'data-quizapp="lead-magnet-readiness" data-quizapp-mode="popup" '
                                 'data-quizapp-title="Lead magnet readiness">Get your readiness score'
                                 '</a></p>', base)
    email = f"phone-{uuid.uuid4().hex[:10]}@example.com"
    page = page_in(phone)
    page.goto(f"{host_site.base}/phone.html?utm_source=instagram")
    assert page.query_selector(FRAME) is None  # nothing loads until the reader asks
    page.tap("a.cta")
    dialog = page.wait_for_selector("[role=dialog][aria-modal=true]")
    assert dialog.get_attribute("aria-label") == "Lead magnet readiness"
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Close"
    box = dialog.bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)  # full screen on a phone
    frame = quiz_frame(page)
    screen(frame, "landing")
    wait_for_event(page, "quiz:ready")
    assert_height_tracks(page, frame)
    check_axe(frame)
    shots(page, "popup-landing")
    frame.locator("form button[type=submit]").tap()

    path = {"profile": ["sharp"], "channel": ["one"], "magnet": ["specific"],
            "steps": ["optin_page", "two_fields"], "emails": ["4"], "tracking": ["cpl_optin"]}
    for n, values in enumerate(path.values(), start=1):
        screen(frame, "question", n)
        assert_height_tracks(page, frame)
        if n == 5:
            check_axe(frame)  # the 1-to-5 scale
        shots(page, f"popup-question-{n}")
        if n == 3:
            # Escape inside the quiz closes the popup and gives focus back; reopening continues here.
            frame.locator('label:has(input[value="specific"])').tap()
            page.keyboard.press("Escape")
            page.wait_for_selector("[role=dialog]", state="hidden")
            assert page.evaluate("document.activeElement.className") == "cta"
            assert names(received(page))[-1] == "quiz:close"
            page.tap("a.cta")
            page.wait_for_selector("[role=dialog]", state="visible")
            screen(frame, "question", 3)
        answer_by_pointer(frame, values, touch=True)

    screen(frame, "gate")
    frame.locator("#first_name").fill("Pat")
    frame.locator("#email").fill(email)
    shots(page, "popup-gate")
    frame.locator("form button[type=submit]").tap()
    screen(frame, "result")
    events = wait_for_event(page, "quiz:result")
    assert_height_tracks(page, frame)
    check_axe(frame)
    shots(page, "popup-result")

    sub, lead, source = stored(database_url, email)
    # sharp 10 + one 10 + specific 10 + (opt-in page 4 + two fields 3) + scale 4 x 2 + cpl_optin 6
    assert (sub.outcome, sub.score, sub.max_score, sub.lead_score) == ("ready", Decimal(51), Decimal(60),
                                                                       Decimal(51))
    assert "hot-lead" in lead.tags and "tier:ready" in lead.tags
    assert source == {"utm_source": "instagram", "page": f"{host_site.base}/phone.html?utm_source=instagram",
                      "embed": "1"}  # no referrer: the phone opened the post directly
    assert names(events) == ["quiz:ready", "quiz:start", *["quiz:step"] * 3, "quiz:close", *["quiz:step"] * 3,
                             "quiz:gate", "quiz:lead", "quiz:result"]
    lead_event = next(e["detail"] for e in events if e["name"] == "quiz:lead")
    assert (lead_event["outcome"], lead_event["score"], lead_event["lead_score"], lead_event["tags"]) == (
        "ready", 51, 51, sub.tags)


def test_inline_on_a_phone_keeps_its_height_as_the_text_wraps(phone, page_in, host_site, quiz_server, shots):
    base = quiz_server.base
    host_site.add("/narrow.html", '<div data-quizapp="funnel-leak"></div><div style="height:1200px"></div>',
                  base)
    page = page_in(phone)
    page.goto(host_site.base + "/narrow.html")
    frame = quiz_frame(page)
    screen(frame, "landing")
    assert_height_tracks(page, frame)
    frame.locator("form button[type=submit]").tap()
    screen(frame, "question", 1)
    assert_height_tracks(page, frame)
    shots(page, "phone-inline-question-1")
    # The reader scrolled past the top of the quiz to reach Next; the new question is brought into view.
    frame.locator('label:has(input[value="seo"])').tap()
    page.evaluate("window.scrollBy(0, 300)")
    assert page.eval_on_selector(FRAME, "e => e.getBoundingClientRect().top") < -100
    frame.locator("form button[type=submit]").tap()
    screen(frame, "question", 2)
    page.wait_for_function(f"document.querySelector('{FRAME}').getBoundingClientRect().top >= 0")
    frame.locator("a.back").tap()
    screen(frame, "question", 1)
    tall = assert_height_tracks(page, frame)
    # A page styled to fill the viewport must not hold the frame at its old height (nor grow it).
    frame.evaluate("document.documentElement.style.minHeight = document.body.style.minHeight = '100vh'")
    # Turning the phone sideways reflows the text into fewer lines; the frame shrinks with it.
    page.set_viewport_size({"width": 844, "height": 390})
    sideways = assert_height_tracks(page, frame)
    assert sideways < tall - 50, (sideways, tall)
    page.set_viewport_size({"width": 390, "height": 844})
    assert assert_height_tracks(page, frame) == tall


def test_allow_listed_site_gets_the_email_and_a_new_tab_when_a_step_is_refused(
        desktop, page_in, host_site, quiz_server, database_url, shots):
    base = quiz_server.base
    host_site.add("/partner.html", f'<div data-quizapp="{ALLOWED_SLUG}" '
                                   'data-quizapp-hidden="utm_source=partner"></div>', base)
    email = f"partner-{uuid.uuid4().hex[:10]}@example.com"
    page = page_in(desktop)
    page.goto(host_site.base + "/partner.html?utm_source=ignored&utm_content=sidebar")
    frame = quiz_frame(page)
    screen(frame, "landing").query_selector("button").click()
    screen(frame, "question", 1)
    answer_by_pointer(frame, ["rough"])
    screen(frame, "question", 2)
    step_url = frame.url

    # The browser refuses the next request inside the frame: the visitor is offered the same step in a tab.
    page.route("**/step/2",
               lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    answer_by_pointer(frame, ["two"])
    notice = frame.wait_for_selector("#quizapp-newtab")
    link = notice.query_selector("a")
    assert (link.get_attribute("href"), link.get_attribute("target")) == (step_url, "_blank")
    assert_height_tracks(page, frame)
    shots(page, "refused-step")
    with desktop.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_selector('[data-quiz-step="question"][data-step="2"]')
    # A full page, not a bare frame: embed-child.js (deferred) switches the class once it runs.
    tab.wait_for_function("document.body.className === 'page'", timeout=5000)
    tab.close()
    page.unroute("**/step/2")
    answer_by_pointer(frame, ["two"])

    for n, values in enumerate([["broad"], ["none"], ["2"], ["none"]], start=3):
        screen(frame, "question", n)
        answer_by_pointer(frame, values)
    screen(frame, "gate")
    frame.locator("#first_name").fill("Kim")
    frame.locator("#email").fill(email)
    frame.locator("form button[type=submit]").click()
    screen(frame, "result")
    events = wait_for_event(page, "quiz:result")
    shots(page, "allow-listed-result")

    sub, _lead, source = stored(database_url, email)
    assert (source["utm_source"], source["utm_content"]) == ("partner", "sidebar")  # the snippet's value wins
    lead_event = next(e["detail"] for e in events if e["name"] == "quiz:lead")
    # This quiz names the blog among the sites that may frame it and the server opts it in: the email goes.
    assert lead_event["email"] == email and lead_event["outcome"] == sub.outcome == "foundations"


def test_site_not_on_the_allow_list_gets_a_link_to_open_the_quiz(desktop, page_in, host_site, quiz_server,
                                                                  shots):
    base = quiz_server.base
    host_site.add("/elsewhere.html", f'<div data-quizapp="{REFUSED_SLUG}"></div>', base)
    page = page_in(desktop)
    page.goto(host_site.base + "/elsewhere.html?utm_source=rss")
    fallback = page.wait_for_selector(".quizapp-fallback", state="visible", timeout=15_000)
    assert page.eval_on_selector(FRAME, "e => getComputedStyle(e).display") == "none"
    link = fallback.query_selector("a")
    href = link.get_attribute("href")
    assert href.startswith(f"{base}/q/{REFUSED_SLUG}?")
    assert parse_qs(urlsplit(href).query)["utm_source"] == ["rss"]
    assert "embed" not in parse_qs(urlsplit(href).query)
    assert received(page) == []
    check_axe(page.main_frame)
    shots(page, "refused-origin")
    with desktop.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_selector('[data-quiz-step="landing"]')
    assert tab.evaluate("document.body.className") == "page"
    tab.close()


def test_popup_on_desktop_closes_on_the_backdrop(desktop, page_in, host_site, quiz_server, shots):
    base = quiz_server.base
    host_site.add("/popup.html", '<div data-quizapp="funnel-leak" data-quizapp-mode="popup" '
                                 'data-quizapp-label="Find your leak"></div>', base)
    page = page_in(desktop)
    page.goto(host_site.base + "/popup.html")
    page.click("button.quizapp-button")
    dialog = page.wait_for_selector("[role=dialog]")
    frame = quiz_frame(page)
    screen(frame, "landing")
    assert_height_tracks(page, frame)
    box = dialog.bounding_box()
    assert box["width"] == 672 and box["y"] > 0  # a centred 42rem panel on a wide screen
    shots(page, "popup-desktop")
    assert page.evaluate("document.querySelector('h1').inert")  # the page behind is out of reach
    page.mouse.click(5, 5)
    page.wait_for_selector("[role=dialog]", state="hidden")
    assert not page.evaluate("document.querySelector('h1').inert")
    assert page.evaluate("document.activeElement.className") == "quizapp-button"

    # The same from script: a popup opened by the page's own code, closed with Escape.
    page.evaluate("quizapp.popup('lead-magnet-readiness', {title: 'Readiness'}).open()")
    page.wait_for_selector("[role=dialog][aria-label=Readiness]")
    screen(quiz_frame(page, "[role=dialog][aria-label=Readiness] iframe"), "landing")
    page.keyboard.press("Escape")
    page.wait_for_selector("[role=dialog][aria-label=Readiness]", state="hidden")
    assert names(received(page))[-1] == "quiz:close"


def test_calculator_inline_live_result_gate_and_lead(desktop, page_in, host_site, quiz_server, database_url,
                                                     shots):
    base = quiz_server.base
    host_site.add("/calculator.html", '<div data-quizapp="cost-per-lead" data-quizapp-title="Cost per lead">'
                                      "</div>", base)
    email = f"calc-{uuid.uuid4().hex[:10]}@example.com"
    page = page_in(desktop)
    page.goto(f"{host_site.base}/calculator.html?utm_source=podcast&utm_campaign=cpl")
    frame = quiz_frame(page)
    screen(frame, "landing")
    wait_for_event(page, "quiz:ready")
    entries = page.evaluate("history.length")
    assert_height_tracks(page, frame)
    check_axe(frame)
    shots(page, "calculator-landing")

    # The live result is swapped in place as the visitor types; the frame follows its height.
    frame.fill("#in-ad_spend", "900")
    frame.wait_for_function("document.querySelector('.calc-headline').textContent === '$30.00'")
    assert_height_tracks(page, frame)
    frame.click("button[value=calculate]")
    screen(frame, "calculator")
    wait_for_event(page, "quiz:gate")
    assert_height_tracks(page, frame)
    check_axe(frame)
    shots(page, "calculator-figures-and-gate")
    frame.fill("#first_name", "Lee")
    frame.fill("#email", email)
    frame.click("button[value=unlock]")
    screen(frame, "result")
    events = wait_for_event(page, "quiz:result")
    assert_height_tracks(page, frame)
    check_axe(frame)
    shots(page, "calculator-result")

    assert page.evaluate("history.length") == entries  # the steps replaced the frame's address
    sub, _lead, source = stored(database_url, email)
    assert (source["utm_source"], source["utm_campaign"], source["embed"]) == ("podcast", "cpl", "1")
    assert sub.values["cost_per_lead"]["display"] == "$30.00"
    assert names(events) == ["quiz:ready", "quiz:start", "quiz:gate", "quiz:lead", "quiz:result"]
    lead_event = next(e["detail"] for e in events if e["name"] == "quiz:lead")
    assert lead_event == {"quiz": "cost-per-lead", "screen": "result", "kind": "calculator",
                          "outcome": "between", "headline": "30", "tags": sub.tags, "embed": "quizapp-1"}
    assert sub.tags == ["calculator:cost-per-lead", "cpl:27-to-70", "runs-paid-ads"]
