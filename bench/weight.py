"""Page weight: the bytes a visitor downloads for each screen, gzip-compressed as quizapp sends them.

    .venv/bin/python -m bench.weight          # exits 1 when a budget is exceeded or a page asks another host

Budgets: the first screen (HTML + CSS) at most 14 KB, so it arrives in the first round trip; all of a
page's assets together (HTML, CSS, JavaScript, htmx included) at most 40 KB; nothing requested from
another host. Every definition's landing page is measured, and each quiz is walked through its first
question, the gate and the result, in page mode and in embed mode. The embed loader (static/embed.js),
which the host page downloads, is reported on its own.
"""

from __future__ import annotations

import gzip
import re
import sys
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FIRST_SCREEN_BUDGET = 14 * 1024
PAGE_BUDGET = 40 * 1024
EMBED_JS_BUDGET = 6 * 1024
GZIP = {"Accept-Encoding": "gzip"}


class _Refs(HTMLParser):
    """What a page makes the browser fetch: stylesheets, scripts, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.css: list[str] = []
        self.other: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        rel = (a.get("rel") or "").lower()
        if tag == "link" and rel in ("stylesheet", "preload", "icon", "modulepreload"):
            (self.css if rel == "stylesheet" else self.other).append(a.get("href") or "")
        elif tag in ("script", "img", "iframe", "source", "audio", "video") and a.get("src"):
            self.other.append(a["src"] or "")


@dataclass
class Page:
    name: str
    html: int  # compressed bytes of the HTML
    css: dict[str, int] = field(default_factory=dict)
    other: dict[str, int] = field(default_factory=dict)
    foreign: list[str] = field(default_factory=list)  # references to other hosts

    @property
    def first_screen(self) -> int:
        return self.html + sum(self.css.values())

    @property
    def total(self) -> int:
        return self.first_screen + sum(self.other.values())


@dataclass
class Report:
    pages: list[Page]
    assets: dict[str, tuple[int, int]]  # path -> (compressed, raw)
    embed_js: tuple[int, int]

    @property
    def problems(self) -> list[str]:
        out = []
        for p in self.pages:
            if p.first_screen > FIRST_SCREEN_BUDGET:
                out.append(f"{p.name}: first screen {p.first_screen} B > {FIRST_SCREEN_BUDGET} B")
            if p.total > PAGE_BUDGET:
                out.append(f"{p.name}: all assets {p.total} B > {PAGE_BUDGET} B")
            out.extend(f"{p.name}: requests another host: {ref}" for ref in p.foreign)
        if self.embed_js[0] > EMBED_JS_BUDGET:
            out.append(f"static/embed.js: {self.embed_js[0]} B > {EMBED_JS_BUDGET} B")
        return out


def _compressed(response) -> int:
    """Bytes on the wire; fails loudly if the server did not compress what it should have."""
    if response.headers.get("Content-Encoding") != "gzip":
        raise RuntimeError(f"{response.request.path} was sent uncompressed ({len(response.data)} B)")
    return len(response.data)


def _gunzip(response) -> bytes:
    return gzip.decompress(response.data)


class _Walker:
    def __init__(self, client) -> None:
        self.client = client
        self.assets: dict[str, tuple[int, int]] = {}

    def asset(self, path: str) -> int:
        if path not in self.assets:
            r = self.client.get(path, headers=GZIP)
            if r.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {r.status_code}")
            raw = _gunzip(r) if r.headers.get("Content-Encoding") == "gzip" else r.data
            self.assets[path] = (len(r.data), len(raw))
        return self.assets[path][0]

    def page(self, name: str, path: str) -> tuple[Page, str]:
        r = self.client.get(path, headers=GZIP)
        if r.status_code != 200:
            raise RuntimeError(f"{name} ({path}): HTTP {r.status_code}")
        html = _gunzip(r).decode()
        refs = _Refs()
        refs.feed(html)
        page = Page(name, _compressed(r))
        for group, target in ((refs.css, page.css), (refs.other, page.other)):
            for ref in group:
                parts = urlsplit(ref)
                if parts.scheme == "data":
                    continue  # inline: no request at all
                if parts.scheme or parts.netloc:
                    page.foreign.append(ref)
                else:
                    target[parts.path] = self.asset(parts.path)
        return page, html

    def answer(self, html: str) -> dict[str, str]:
        """Some valid answer to the question on a step page, read from its form."""
        inputs = re.findall(r'<input type="(radio|checkbox|text)" name="answer"([^>]*)>', html)
        kind, attrs = inputs[0]
        if kind in ("radio", "checkbox"):
            return {"answer": re.search(r'value="([^"]*)"', attrs).group(1)}
        return {"answer": "10" if 'inputmode="decimal"' in attrs else "yes"}

    def quiz(self, slug: str, embed: bool) -> list[Page]:
        suffix = " (embed)" if embed else ""
        landing, html = self.page(f"{slug} landing{suffix}", f"/q/{slug}" + ("?embed=1" if embed else ""))
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
        location = self.client.post(f"/q/{slug}/start", data=hidden).location
        first, step_html = self.page(f"{slug} question 1{suffix}", location)
        while "/step/" in location:
            location = self.client.post(location, data=self.answer(step_html)).location
            if "/step/" in location:
                step_html = self.client.get(location).get_data(as_text=True)
        gate, _ = self.page(f"{slug} gate{suffix}", location)
        done = self.client.post(location, data={"first_name": "Weigh", "email": f"weight-{slug}@example.com",
                                                 "consent": "y"})
        result, _ = self.page(f"{slug} result{suffix}", done.location)
        return [landing, first, gate, result]


def measure(app) -> Report:
    """Walks every definition the app serves with a client that accepts gzip."""
    client = app.test_client(use_cookies=False)
    walker = _Walker(client)
    pages: list[Page] = []
    with app.app_context():
        definitions = list(app.extensions["quizapp.catalog"].all())
    for definition in definitions:
        if definition.kind == "quiz":
            for embed in (False, True):
                pages.extend(walker.quiz(definition.slug, embed))
        else:
            for embed in (False, True):
                suffix = " (embed)" if embed else ""
                page, _ = walker.page(f"{definition.slug} landing{suffix}",
                                      f"/q/{definition.slug}" + ("?embed=1" if embed else ""))
                pages.append(page)
    loader = client.get("/static/embed.js", headers=GZIP)
    return Report(pages, walker.assets, (_compressed(loader), len(_gunzip(loader))))


def render(report: Report) -> str:
    lines = [f"Page weight, gzip as served. Budgets: first screen (HTML + CSS) {FIRST_SCREEN_BUDGET:,} B, "
             f"all of a page's assets {PAGE_BUDGET:,} B.", "",
             f"{'page':<44}{'HTML':>8}{'first screen':>14}{'all assets':>12}"]
    for p in report.pages:
        lines.append(f"{p.name:<44}{p.html:>8,}{p.first_screen:>14,}{p.total:>12,}")
    worst_first = max(report.pages, key=lambda p: p.first_screen)
    worst_total = max(report.pages, key=lambda p: p.total)
    lines += ["", "assets (gzip / raw bytes):"]
    lines += [f"  {path:<42}{gz:>8,} / {raw:,}" for path, (gz, raw) in sorted(report.assets.items())]
    foreign = sorted({ref for p in report.pages for ref in p.foreign})
    gz, raw = report.embed_js
    lines += ["",
              f"largest first screen: {worst_first.first_screen:,} B ({worst_first.name}) "
              f"of {FIRST_SCREEN_BUDGET:,}",
              f"largest page, all assets: {worst_total.total:,} B ({worst_total.name}) of {PAGE_BUDGET:,}",
              f"static/embed.js (the host page's loader): {gz:,} B gzip, {raw:,} B raw, "
              f"budget {EMBED_JS_BUDGET:,}",
              f"requests to other hosts: {', '.join(foreign) if foreign else 'none'}"]
    problems = report.problems
    lines.append("budgets: " + ("met" if not problems else "NOT met\n  " + "\n  ".join(problems)))
    return "\n".join(lines)


def main() -> int:
    from quizapp import create_app
    from quizapp.store import migrate

    with tempfile.TemporaryDirectory(prefix="quizapp-weight-") as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{Path(tmp) / 'weight.db'}", "SECRET_KEY": "weight",
                          "INPROCESS_WORKER": False, "DESTINATIONS_FILE": None})
        migrate.upgrade(app.extensions["quizapp.engine"])
        try:
            report = measure(app)
        finally:
            app.extensions["quizapp.engine"].dispose()
    print(render(report))
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
