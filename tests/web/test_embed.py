"""Embed mode on the server side: who may frame which page, what a framed page carries for the in-frame
script, the snippet page, and gzip."""

from __future__ import annotations

import gzip
import html
import json
import re

import pytest
from sqlalchemy import select

from quizapp.store.models import Response
from tests.helpers import FUNNEL_PATH
from tests.web.test_flow import start, submit_gate, take_funnel

HOST = "http://127.0.0.1:8123"
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def write_allow_listed(quizzes_dir, slug="private-leak", origins=("https://blog.example.com",)):
    data = json.loads((quizzes_dir / "funnel-leak.json").read_text())
    data.update(slug=slug, embed_origins=list(origins))
    (quizzes_dir / f"{slug}.json").write_text(json.dumps(data))
    return slug


def meta_settings(page_html: str) -> dict:
    content = re.search(r'<meta name="quizapp-embed" content="([^"]*)">', page_html).group(1)
    return json.loads(html.unescape(content))


# -- framing ------------------------------------------------------------------------------------------

def test_every_visitor_page_may_be_framed_anywhere_by_default(client):
    gate = take_funnel(client, query="?embed=1")
    gate_page = client.get(gate)
    result = submit_gate(client, gate)
    token_page = client.get("/q/funnel-leak/r/not-a-token/step/1?embed=1")
    pages = [client.get("/q/funnel-leak?embed=1"), client.get("/q/funnel-leak"), gate_page,
             client.get(result.location), token_page, client.get("/q/no-such-quiz?embed=1")]
    assert [p.status_code for p in pages] == [200, 200, 200, 200, 400, 404]
    for page in pages:
        assert page.headers["Content-Security-Policy"] == "frame-ancestors *"
        assert "X-Frame-Options" not in page.headers


def test_an_allow_list_limits_framing_to_those_sites_and_this_server(client, quizzes_dir):
    slug = write_allow_listed(quizzes_dir, origins=("https://blog.example.com", "https://*.example.org:8443"))
    url = start(client, slug=slug, query="?embed=1")
    for page in (client.get(f"/q/{slug}?embed=1"), client.get(url)):
        assert page.headers["Content-Security-Policy"] == (
            "frame-ancestors 'self' https://blog.example.com https://*.example.org:8443")
    write_allow_listed(quizzes_dir, slug="open-leak", origins=("https://blog.example.com", "*"))
    assert client.get("/q/open-leak").headers["Content-Security-Policy"] == "frame-ancestors *"


def test_pages_not_meant_for_frames_refuse_them(client):
    for path in ("/", "/embed/funnel-leak", "/no/such/page"):
        r = client.get(path)
        headers = (r.headers["Content-Security-Policy"], r.headers["X-Frame-Options"])
        assert headers == ("frame-ancestors 'none'", "DENY"), path
    asset = client.get("/static/embed.js")
    assert asset.status_code == 200 and "Content-Security-Policy" not in asset.headers
    asset.close()


def test_admin_pages_keep_refusing_frames(make_app):
    client = make_app(ADMIN_PASSWORD="s3cret").test_client(use_cookies=False)
    r = client.get("/admin/login")
    assert r.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert r.headers["X-Frame-Options"] == "DENY"


def test_a_policy_a_view_already_set_is_extended_not_replaced(app):
    from quizapp.web import embed

    with app.test_request_context("/"):
        response = app.make_response(("x", 200, {"Content-Security-Policy": "default-src 'self';"}))
        embed.apply_framing(response)
        assert response.headers["Content-Security-Policy"] == "default-src 'self'; frame-ancestors 'none'"
        response = app.make_response(("x", 200, {"Content-Security-Policy": "frame-ancestors https://a.test"}))
        embed.apply_framing(response)
        assert response.headers["Content-Security-Policy"] == "frame-ancestors https://a.test"


# -- what a framed page carries -----------------------------------------------------------------------

def test_embed_mode_pages_load_the_frame_script_and_drop_the_site_chrome(client, quizzes_dir):
    framed = client.get("/q/funnel-leak?embed=1").text
    assert '<body class="embed">' in framed and '<html lang="en" class="embed">' in framed
    assert '<script src="/static/embed-child.js" defer></script>' in framed
    assert meta_settings(framed) == {"origins": [], "email": False}
    assert "site-footer" not in framed
    assert 'hx-swap="innerHTML"' in framed  # the host page scrolls, not the frame
    page = client.get("/q/funnel-leak").text
    assert '<body class="page">' in page and "embed-child.js" not in page and "quizapp-embed" not in page
    assert 'class="site-footer"' in page
    slug = write_allow_listed(quizzes_dir)
    assert meta_settings(client.get(f"/q/{slug}?embed=1").text) == {"origins": ["https://blog.example.com"],
                                                                     "email": False}


def test_the_host_page_address_referrer_and_utm_reach_the_response(client, db):
    query = ("?embed=1&utm_source=newsletter&utm_medium=email&utm_campaign=spring&utm_content=sidebar"
             f"&page={HOST}/blog/post%3Futm_source%3Dnewsletter&referrer=https://www.google.com/&origin=x")
    take_funnel(client, query=query)
    source = db.scalars(select(Response)).one().source
    assert source == {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring",
                      "utm_content": "sidebar", "page": f"{HOST}/blog/post?utm_source=newsletter",
                      "referrer": "https://www.google.com/", "embed": "1"}


def test_an_empty_referrer_from_the_loader_is_not_replaced_by_the_frame_request(client, db):
    take_funnel(client, query=f"?embed=1&page={HOST}/post&referrer=")
    r = client.get(f"/q/funnel-leak?embed=1&page={HOST}/post&referrer=", headers={"Referer": f"{HOST}/post"})
    assert 'name="referrer"' not in r.text
    assert db.scalars(select(Response)).one().source == {"page": f"{HOST}/post", "embed": "1"}


def test_steps_inside_a_frame_replace_the_address_instead_of_pushing_history(client):
    url = start(client, query="?embed=1")
    partial = client.get(url, headers={"HX-Request": "true"})
    assert partial.headers["HX-Replace-Url"] == url and "HX-Push-Url" not in partial.headers
    url = start(client)
    assert client.get(url, headers={"HX-Request": "true"}).headers["HX-Push-Url"] == url


def result_section(page_html: str) -> str:
    return re.search(r'<section class="card result"[^>]*>', page_html).group(0)


def test_the_result_tells_the_frame_script_outcome_score_and_tags_but_not_the_email(client):
    done = submit_gate(client, take_funnel(client, query="?embed=1"), email="ann@example.com")
    result = client.get(done.location)
    section = result_section(result.text)
    attrs = dict(re.findall(r'data-([a-z-]+)=(?:"([^"]*)"|\'[^\']*\')', section))
    shown = (attrs["quiz-step"], attrs["outcome"], attrs["score"], attrs["percent"])
    assert shown == ("result", "nurture", "16", "57.14")
    tags = json.loads(html.unescape(re.search(r"data-tags='([^']*)'", section).group(1)))
    assert tags == ["quiz:funnel-leak", "channel:owned", "channel:paid", "leak:nurture"]
    assert "ann@example.com" not in section and "data-email" not in section


@pytest.mark.parametrize(("setting", "origins", "shared"), [
    (False, ("https://blog.example.com",), False),
    (True, (), False),  # never to any site at all
    (True, ("https://blog.example.com", "*"), False),
    (True, ("https://blog.example.com",), True),
    (["private-leak"], ("https://blog.example.com",), True),
    (["another-quiz"], ("https://blog.example.com",), False),
])
def test_the_email_reaches_the_host_page_only_when_opted_in_for_named_sites(make_app, quizzes_dir, setting,
                                                                           origins, shared):
    slug = write_allow_listed(quizzes_dir, origins=origins)
    client = make_app(EMBED_SHARE_EMAIL=setting).test_client(use_cookies=False)
    gate = take_funnel_of(client, slug)
    page = client.get(submit_gate(client, gate, email=" Ann.One@Example.COM").location).text
    section = result_section(page)
    assert ('data-email="Ann.One@example.com"' in section) is shared
    assert meta_settings(page)["email"] is shared


def take_funnel_of(client, slug: str) -> str:
    url = start(client, slug=slug, query="?embed=1")
    answers = [FUNNEL_PATH[q] for q in ("channels", "visitors", "intent", "magnet", "form", "sequence",
                                        "segments", "close_rate", "thank_you", "paid_tracking")]
    for values in answers:
        url = client.post(url, data={"answer": values}).location
    assert url.endswith("/gate")
    return url


# -- the snippet page ---------------------------------------------------------------------------------

def test_the_snippet_page_gives_the_exact_snippets_for_the_public_address(make_app, quizzes_dir):
    client = make_app(PUBLIC_URL="https://quiz.example.com/").test_client(use_cookies=False)
    page = client.get("/embed/funnel-leak").text
    snippets = [html.unescape(s) for s in re.findall(r"<code>(.*?)</code>", page, re.S) if "data-quizapp" in
                html.unescape(s)]
    script = '<script src="https://quiz.example.com/static/embed.js" async></script>'
    href = 'href="https://quiz.example.com/q/funnel-leak"'
    title = "Where is your lead funnel leaking?"
    assert snippets == [
        f'<div data-quizapp="funnel-leak"><a {href}>{title}</a></div>\n{script}',
        f'<a {href} data-quizapp="funnel-leak" data-quizapp-mode="popup">{title}</a>\n{script}',
        f'<a {href} data-quizapp="funnel-leak" data-quizapp-mode="link">{title}</a>\n{script}',
    ]
    assert "Any site may show it in a frame" in page
    slug = write_allow_listed(quizzes_dir)
    limited = client.get(f"/embed/{slug}").text
    assert "Only these sites may show it in a frame: https://blog.example.com." in limited
    assert client.get("/embed/no-such-quiz").status_code == 404


# -- gzip ---------------------------------------------------------------------------------------------

def test_pages_are_gzipped_for_clients_that_accept_it(client):
    plain = client.get("/q/funnel-leak?embed=1")
    packed = client.get("/q/funnel-leak?embed=1", headers=GZIP)
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data) * 0.6
    for r in (plain, packed):
        assert set(r.vary) == {"HX-Request", "Accept-Encoding"}
    refused = client.get("/q/funnel-leak", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


def test_static_assets_are_gzipped_once_with_a_weak_etag_that_still_revalidates(client):
    from quizapp.config import PROJECT_ROOT

    raw = (PROJECT_ROOT / "static" / "embed.js").read_bytes()
    first = client.get("/static/embed.js", headers=GZIP)
    assert first.headers["Content-Encoding"] == "gzip" and gzip.decompress(first.data) == raw
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = client.get("/static/embed.js", headers={**GZIP, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and "Accept-Encoding" in again.vary
    again.close()
    plain = client.get("/static/embed.js")
    assert plain.data == raw and "Content-Encoding" not in plain.headers
    plain.close()


def test_small_responses_and_a_turned_off_switch_stay_plain(make_app):
    client = make_app().test_client(use_cookies=False)
    tiny = client.post("/q/funnel-leak/start", data={}, headers=GZIP)  # a redirect: no body to speak of
    assert tiny.status_code == 303 and "Content-Encoding" not in tiny.headers
    off = make_app(COMPRESS_RESPONSES=False).test_client(use_cookies=False)
    r = off.get("/q/funnel-leak", headers=GZIP)
    assert "Content-Encoding" not in r.headers and b"<!doctype html>" in r.data
