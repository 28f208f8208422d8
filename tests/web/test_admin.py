import re

import pytest

from tests.web.test_flow import submit_gate, take_funnel


@pytest.fixture
def admin_app(make_app):
    return make_app(ADMIN_PASSWORD="s3cret", WTF_CSRF_ENABLED=True)


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def sign_in(client):
    page = client.get("/admin/login")
    return client.post("/admin/login", data={"password": "s3cret", "csrf_token": csrf(page.text)})


def test_admin_is_off_without_a_password(client):
    r = client.get("/admin/")
    assert r.status_code == 404
    assert "QUIZAPP_ADMIN_PASSWORD" in r.text


def test_admin_needs_the_password_and_a_csrf_token(admin_app):
    c = admin_app.test_client()
    assert c.get("/admin/").location.startswith("/admin/login")
    page = c.get("/admin/login")
    assert c.post("/admin/login", data={"password": "s3cret"}).status_code == 200  # no CSRF token: refused
    assert c.get("/admin/").status_code == 302
    wrong = c.post("/admin/login", data={"password": "nope", "csrf_token": csrf(page.text)})
    assert wrong.status_code == 401 and "That password is not right." in wrong.text
    assert sign_in(c).status_code == 303
    assert c.get("/admin/").status_code == 200


def test_dashboard_shows_the_funnel_and_the_lead(admin_app):
    visitor = admin_app.test_client(use_cookies=False)
    submit_gate(visitor, take_funnel(visitor, query="?utm_source=podcast"), email="Dana@Example.com",
                name="Dana")
    c = admin_app.test_client()
    sign_in(c)
    home = c.get("/admin/")
    assert home.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert home.headers["X-Frame-Options"] == "DENY"
    text = re.sub(r"\s+", " ", home.text)
    assert ('Where is your lead funnel leaking?</a></td><td>quiz</td> <td class="num">1</td><td class="num">1</td>'
            '<td class="num">1</td> <td class="num">100.0%</td>') in text
    assert "Dana@example.com" in text and "leak:nurture" in text and "podcast" in text
    detail = re.sub(r"\s+", " ", c.get("/admin/q/funnel-leak").text)
    assert "<td>opted in</td><td class=\"num\">1</td>" in detail
    assert "Your leak is nurture: leads go cold after they opt in: <strong>1</strong>" in detail


def test_broken_definition_files_are_listed(admin_app, quizzes_dir):
    (quizzes_dir / "broken.json").write_text('{"kind": "quiz"')
    c = admin_app.test_client()
    sign_in(c)
    assert "<code>broken.json</code> <code>$</code> error: not valid JSON" in c.get("/admin/").text


def test_sign_out(admin_app):
    c = admin_app.test_client()
    sign_in(c)
    home = c.get("/admin/")
    assert c.post("/admin/logout", data={"csrf_token": csrf(home.text)}).status_code == 303
    assert c.get("/admin/").status_code == 302
