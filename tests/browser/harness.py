"""What the browser tests run against: quizapp served by `quizapp serve` in its own process (reached as
http://localhost:PORT), a blog-like host page server on another origin (http://127.0.0.1:PORT), and
helpers to read what a page shows."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--host-resolver-rules=MAP localhost 127.0.0.1"]
# Chromium's own setting "Block third-party cookies", written into the profile before it starts.
BLOCK_THIRD_PARTY_COOKIES = {"profile": {"cookie_controls_mode": 1, "block_third_party_cookies": True}}
EVENT_NAMES = ["quiz:ready", "quiz:start", "quiz:step", "quiz:gate", "quiz:lead", "quiz:result", "quiz:close"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuizServer:
    """`quizapp serve` on a free port, as in production (gunicorn), without the in-process worker."""

    def __init__(self, database_url: str, quizzes_dir: Path, log_path: Path,
                 env: dict[str, str] | None = None):
        self.port = free_port()
        self.base = f"http://localhost:{self.port}"
        self.log_path = log_path
        self.env = {**os.environ, "QUIZAPP_DATABASE_URL": database_url,
                    "QUIZAPP_QUIZZES_DIR": str(quizzes_dir),
                    "QUIZAPP_SECRET_KEY": "browser-test-secret", "QUIZAPP_CATALOG_RELOAD_SECONDS": "0",
                    **(env or {})}
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> None:
        argv = [sys.executable, "-c", "from quizapp.cli import main; main()", "serve", "--host", "127.0.0.1",
                "--port", str(self.port), "--workers", "1", "--threads", "8", "--no-deliver"]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                output = self.log_path.read_text(errors="replace")
                raise RuntimeError(f"quizapp serve exited early:\n{output}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"quizapp serve did not listen within {timeout} s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


class HostSite:
    """A blog on another origin: serves the pages a test registers, records every request path."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                site.requests.append(self.path)
                body = site.pages.get(urlsplit(self.path).path)
                data = (body if body is not None else "not found").encode()
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path: str, body_html: str, quiz_base: str, head: str = "") -> str:
        """A blog post around `body_html` that records every quiz event it receives."""
        self.pages[path] = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>A blog post</title>{head}
<style>body{{font:18px/1.6 Georgia,serif;margin:0 auto;max-width:44rem;padding:1rem;color:#222}}</style>
<script>
window.dataLayer = [];
window.received = [];
{EVENT_NAMES!r}.forEach(function (name) {{
  document.addEventListener(name, function (e) {{ window.received.push({{name: name, detail: e.detail}}); }});
}});
</script></head>
<body><h1>Grow your list</h1><p>Most blogs lose readers at the opt-in. Find out where yours leaks.</p>
{body_html}
<p>Thanks for reading.</p>
<script src="{quiz_base}/static/embed.js" async></script>
</body></html>"""
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
