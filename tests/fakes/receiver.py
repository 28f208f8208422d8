"""A webhook receiver whose answers a test scripts: always 200, flaky, throttling, refusing."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from collections.abc import Callable

from tests.fakes.server import FakeServer, Reply, Request

Script = Callable[[Request, int], Reply]  # (request, how many times this message id was seen before) -> reply


def always(status: int = 200, body=None, headers: dict | None = None) -> Script:
    return lambda req, seen: Reply(status, body if body is not None else {"ok": status < 300}, headers or {})


def sequence(*replies: Reply) -> Script:
    """The n-th request of each message gets replies[n] (the last one repeats)."""
    return lambda req, seen: replies[min(seen, len(replies) - 1)]


def flaky(failure_rate: float = 0.3, slow: float = 1.0, seed: int = 7) -> Script:
    """Fails about ``failure_rate`` of requests: half with a 500, half by answering after ``slow`` seconds
    (longer than the sender's timeout)."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def script(req: Request, seen: int) -> Reply:
        with lock:
            roll = rng.random()
        if roll < failure_rate / 2:
            return Reply(500, {"error": "internal"})
        if roll < failure_rate:
            return Reply(200, {"ok": True, "late": True}, delay=slow)
        return Reply(200, {"ok": True})

    return script


class WebhookReceiver(FakeServer):
    path = "/hook"

    def __init__(self, script: Script | None = None, delay: float = 0.0):
        super().__init__()
        self.script = script or always(200)
        self.delay = delay
        self._seen: dict[str, int] = defaultdict(int)

    @property
    def hook_url(self) -> str:
        return self.url + self.path

    def handle(self, request: Request) -> Reply:
        if request.path != self.path or request.method != "POST":
            return Reply(404, {"error": "not found"})
        message_id = request.headers.get("webhook-id", "")
        with self.lock:
            seen = self._seen[message_id]
            self._seen[message_id] += 1
        reply = self.script(request, seen)
        if self.delay and not reply.delay:
            # a receiver that takes a moment, without being late
            import time

            time.sleep(self.delay)
        return reply

    def by_message(self) -> dict[str, list[Request]]:
        out: dict[str, list[Request]] = defaultdict(list)
        for req in self.calls("POST", self.path):
            out[req.headers.get("webhook-id", "")].append(req)
        return dict(out)

    def accepted(self) -> dict[str, list[Request]]:
        """Message id -> requests answered 2xx in time (what the sender saw as delivered)."""
        return {
            mid: [r for r in reqs if r.status is not None and 200 <= r.status < 300 and not r.late]
            for mid, reqs in self.by_message().items()
        }
