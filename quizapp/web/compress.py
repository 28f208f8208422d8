"""gzip for pages and static assets, so a quiz's first screen fits in the first round trip even when
`quizapp serve` faces visitors without a compressing proxy. Turn it off (COMPRESS_RESPONSES = False) behind
a proxy that compresses.

Static files are compressed once per file version and kept in memory; their ETag becomes weak, since the
bytes sent differ from the file while the content is the same."""

from __future__ import annotations

import gzip
import os
import threading

from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

COMPRESSIBLE = {"text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                "image/svg+xml", "text/plain"}
MIN_BYTES = 500  # below this, the gzip header costs more than it saves
LEVEL = 6


class StaticCache:
    """Compressed bytes of static files, keyed by path and file version."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[tuple[int, int], bytes]] = {}
        self._lock = threading.Lock()

    def get(self, path: str) -> bytes:
        stat = os.stat(path)
        version = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            hit = self._items.get(path)
        if hit is not None and hit[0] == version:
            return hit[1]
        with open(path, "rb") as f:
            data = gzip.compress(f.read(), LEVEL, mtime=0)
        with self._lock:
            self._items[path] = (version, data)
        return data


def accepts_gzip() -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def compress(response: Response) -> Response:
    if response.status_code == 304 and request.endpoint == "static":
        response.vary.add("Accept-Encoding")
    streamed = response.is_streamed and not response.direct_passthrough  # a generator: leave it alone
    if (response.status_code != 200 or response.mimetype not in COMPRESSIBLE
            or "Content-Encoding" in response.headers or streamed):
        return response
    response.vary.add("Accept-Encoding")
    if not accepts_gzip():
        return response
    if response.direct_passthrough:
        data = _static_bytes()
        if data is None:
            return response
        wrapped = response.response
        response.direct_passthrough = False
        response.set_data(data)
        if hasattr(wrapped, "close"):
            wrapped.close()
        etag, _weak = response.get_etag()
        if etag:
            response.set_etag(etag, weak=True)
    else:
        body = response.get_data()
        if len(body) < MIN_BYTES:
            return response
        response.set_data(gzip.compress(body, LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response


def _static_bytes() -> bytes | None:
    if request.endpoint != "static" or not current_app.static_folder:
        return None
    filename = (request.view_args or {}).get("filename", "")
    path = safe_join(current_app.static_folder, filename)
    if path is None or not os.path.isfile(path) or os.path.getsize(path) < MIN_BYTES:
        return None
    return current_app.extensions["quizapp.gzip_static"].get(path)


def init_app(app: Flask) -> None:
    if not app.config.get("COMPRESS_RESPONSES", True):
        return
    app.extensions["quizapp.gzip_static"] = StaticCache()
    app.after_request(compress)
