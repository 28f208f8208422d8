"""The page-weight budgets, measured as bench/weight.py measures them: gzip bytes as served."""

from __future__ import annotations

import gzip

from bench import weight
from quizapp.config import PROJECT_ROOT


def test_every_screen_fits_the_budgets_and_asks_no_other_host(app):
    report = weight.measure(app)
    names = [p.name for p in report.pages]
    for slug in ("funnel-leak", "lead-magnet-readiness"):
        for screen in ("landing", "question 1", "gate", "result"):
            assert f"{slug} {screen}" in names and f"{slug} {screen} (embed)" in names
    assert "cost-per-lead landing (embed)" in names
    assert report.problems == []
    assert max(p.first_screen for p in report.pages) <= 14 * 1024
    assert max(p.total for p in report.pages) <= 40 * 1024
    embed_landing = next(p for p in report.pages if p.name == "funnel-leak landing (embed)")
    assert set(embed_landing.css) == {"/static/app.css"}
    assert set(embed_landing.other) == {"/static/vendor/htmx-2.0.11.min.js", "/static/app.js",
                                        "/static/embed-child.js"}
    page_mode = next(p for p in report.pages if p.name == "funnel-leak landing")
    assert "/static/embed-child.js" not in page_mode.other


def test_the_reported_bytes_are_the_compressed_files(app):
    report = weight.measure(app)
    for path, (packed, raw) in report.assets.items():
        data = (PROJECT_ROOT / path.lstrip("/")).read_bytes()
        assert raw == len(data)
        assert packed == len(gzip.compress(data, 6, mtime=0))
    source = (PROJECT_ROOT / "static" / "embed.js").read_bytes()
    assert report.embed_js == (len(gzip.compress(source, 6, mtime=0)), len(source))
    assert report.embed_js[0] <= weight.EMBED_JS_BUDGET


def test_a_page_over_budget_or_asking_another_host_is_reported():
    heavy = weight.Page("heavy", html=10_000, css={"/static/app.css": 5_000},
                        other={"/static/x.js": 30_000}, foreign=["https://cdn.example.com/font.woff2"])
    report = weight.Report([heavy], {}, (7_000, 20_000))
    assert report.problems == [
        "heavy: first screen 15000 B > 14336 B",
        "heavy: all assets 45000 B > 40960 B",
        "heavy: requests another host: https://cdn.example.com/font.woff2",
        "static/embed.js: 7000 B > 6144 B",
    ]
    assert "budgets: NOT met" in weight.render(report)
