"""The benchmark's HTTP client and statistics, against a scripted socket server."""

from __future__ import annotations

import gzip
import socket
import threading

import pytest

from bench.loadgen import Connection, HTTPError, PhaseResult, run_phase


class ScriptedServer:
    """Accepts connections on a loopback port and answers each request with the next scripted reply."""

    def __init__(self, replies: list[bytes]):
        self.replies = list(replies)
        self.requests: list[bytes] = []
        self.accepted = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.replies:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            with conn:
                buf = b""
                while self.replies:
                    while b"\r\n\r\n" not in buf:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        buf += chunk
                    if b"\r\n\r\n" not in buf:
                        break
                    head, _, buf = buf.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    while len(buf) < length:
                        buf += conn.recv(65536)
                    self.requests.append(head + b"\r\n\r\n" + buf[:length])
                    buf = buf[length:]
                    reply = self.replies.pop(0)
                    if reply == b"CLOSE":  # hang up without answering this request
                        break
                    conn.sendall(reply)
                    if b"Connection: close" in reply:
                        break

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def scripted():
    servers = []

    def make(replies):
        server = ScriptedServer(replies)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def test_sized_chunked_and_gzip_replies_share_one_keep_alive_connection(scripted):
    page = b"<html>" + b"x" * 600 + b"</html>"
    packed = gzip.compress(page)
    server = scripted([
        b"HTTP/1.1 303 SEE OTHER\r\nLocation: /q/a/r/tok/step/1\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nHello\r\n7\r\n, world\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + str(len(packed)).encode()
        + b"\r\n\r\n" + packed,
    ])
    conn = Connection("127.0.0.1", server.port)
    first = conn.post("/q/a/start", [("answer", "seo"), ("answer", "google ads")])
    second = conn.get("/chunked")
    third = conn.get("/zipped")
    conn.close()

    assert (first.status, first.location, first.body) == (303, "/q/a/r/tok/step/1", b"")
    assert (second.status, second.body) == (200, b"Hello, world")
    assert third.body == packed and third.text == page
    assert server.accepted == 1
    post, get = server.requests[0], server.requests[1]
    assert post.startswith(b"POST /q/a/start HTTP/1.1\r\n")
    assert b"Content-Type: application/x-www-form-urlencoded" in post
    assert post.endswith(b"\r\n\r\nanswer=seo&answer=google+ads")
    assert get.startswith(b"GET /chunked HTTP/1.1\r\n") and b"Accept-Encoding: gzip" in get


def test_a_reply_that_closes_the_connection_makes_the_next_request_reconnect(scripted):
    server = scripted([
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain",
    ])
    conn = Connection("127.0.0.1", server.port)
    assert conn.get("/").body == b"ok"
    assert conn.get("/").body == b"again"
    conn.close()
    assert server.accepted == 2


def test_a_server_that_hangs_up_on_a_fresh_connection_is_an_error(scripted):
    server = scripted([b"CLOSE"])
    conn = Connection("127.0.0.1", server.port)
    with pytest.raises(HTTPError, match="closed the connection without replying"):
        conn.get("/")


def test_percentiles_are_nearest_rank_in_milliseconds():
    result = PhaseResult("row", latencies_ns=[i * 1_000_000 for i in range(100, 0, -1)], elapsed=2.0)
    assert result.count == 100
    assert result.rps == 50.0
    assert result.percentile_ms(50) == 50.0
    assert result.percentile_ms(99) == 99.0
    assert result.percentile_ms(100) == 100.0
    single = PhaseResult("row", latencies_ns=[3_500_000], elapsed=1.0)
    assert single.percentile_ms(50) == single.percentile_ms(99) == 3.5


def test_run_phase_counts_failed_requests_apart(scripted):
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = scripted([ok] * 100_000)
    calls = []

    def step(conn, client):
        calls.append(client)
        if len(calls) % 4 == 0:
            raise ValueError("every fourth request fails")
        assert conn.get("/").body == b"ok"

    result = run_phase("row", "127.0.0.1", server.port, step, connections=1, duration=0.2, warmup=0.0)
    assert result.count > 0 and result.errors > 0
    assert result.count + result.errors == len(calls)
    assert result.first_error == "ValueError: every fourth request fails"
    assert set(calls) == {0}
