"""A small load generator: a bounded number of keep-alive HTTP/1.1 connections, one thread each, for a
bounded time. It speaks just enough HTTP to read the servers measured here (Content-Length or chunked
bodies); it never follows redirects, so every sample is one request and one response. Like a browser
it accepts gzip, so the servers do the compression they would do for visitors.

It runs in one process on the same CPUs as the server it measures, so it is written to do as little
work per request as possible (no header objects, no URL parsing in the hot loop)."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode


class HTTPError(Exception):
    """A broken or unexpected response: the sample counts as an error."""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-cased names; a repeated header keeps its last value
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    @property
    def text(self) -> bytes:
        """The body, unzipped when the server compressed it."""
        if self.headers.get("content-encoding", "").lower() == "gzip":
            return gzip.decompress(self.body)
        return self.body


class Connection:
    """One keep-alive connection to host:port. Not thread-safe: one per client thread."""

    def __init__(self, host: str, port: int, timeout: float = 30.0):
        self.host, self.port, self.timeout = host, port, timeout
        self._host_header = f"{host}:{port}".encode()
        self._sock: socket.socket | None = None
        self._buf = b""
        self._fresh = True  # no request sent on this socket yet

    def _connect(self) -> None:
        self.close()
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self._buf, self._fresh = sock, b"", True

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: Sequence[tuple[str, str]] | dict[str, str] = ()) -> Reply:
        return self.request("POST", path, urlencode(form).encode())

    def request(self, method: str, path: str, body: bytes | None = None) -> Reply:
        head = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self._host_header,
                b"User-Agent: quizapp-bench", b"Accept: text/html", b"Accept-Encoding: gzip"]
        if body is not None:
            head += [b"Content-Type: application/x-www-form-urlencoded",
                     f"Content-Length: {len(body)}".encode()]
        raw = b"\r\n".join(head) + b"\r\n\r\n" + (body or b"")
        if self._sock is None:
            self._connect()
        reused = not self._fresh
        try:
            self._sock.sendall(raw)
            self._fresh = False
            return self._read()
        except _ClosedBeforeReply:
            # The server may close an idle keep-alive connection; it never read this request, so
            # sending it again on a new connection cannot apply it twice.
            if not reused:
                raise HTTPError("the server closed the connection without replying") from None
            self._connect()
            self._sock.sendall(raw)
            self._fresh = False
            return self._read()
        except OSError as err:
            self.close()
            raise HTTPError(f"{type(err).__name__}: {err}") from None

    def _recv(self) -> bytes:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise EOFError
        return chunk

    def _read(self) -> Reply:
        buf = self._buf
        try:
            while True:
                end = buf.find(b"\r\n\r\n")
                if end >= 0:
                    break
                buf += self._recv()
        except EOFError:
            self.close()
            if not buf:
                raise _ClosedBeforeReply from None
            raise HTTPError("the connection closed in the middle of a reply") from None
        lines = buf[:end].decode("latin-1").split("\r\n")
        rest = buf[end + 4:]
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            self.close()
            raise HTTPError(f"bad status line {lines[0]!r}") from None
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        try:
            if "content-length" in headers:
                size = int(headers["content-length"])
                while len(rest) < size:
                    rest += self._recv()
                body, self._buf = rest[:size], rest[size:]
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                body, self._buf = self._read_chunked(rest)
            else:  # body runs to the end of the connection
                while True:
                    try:
                        rest += self._recv()
                    except EOFError:
                        break
                body, self._buf = rest, b""
                headers["connection"] = "close"
        except EOFError:
            self.close()
            raise HTTPError("the connection closed in the middle of a body") from None
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Reply(status, headers, body)

    def _read_chunked(self, rest: bytes) -> tuple[bytes, bytes]:
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += self._recv()
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += self._recv()
            if size == 0:
                # No trailers are sent by the servers measured here.
                return body, rest[2:]
            body += rest[:size]
            rest = rest[size + 2:]


class _ClosedBeforeReply(Exception):
    pass


@dataclass
class PhaseResult:
    name: str
    latencies_ns: list[int] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    elapsed: float = 0.0  # seconds from the end of warm-up to the last measured reply
    client_cpu: float = 0.0  # CPU seconds this process used in the measured window
    stopped_early: str = ""  # why the phase ended before its duration, if it did

    @property
    def count(self) -> int:
        return len(self.latencies_ns)

    @property
    def rps(self) -> float:
        return self.count / self.elapsed if self.elapsed > 0 else 0.0

    def percentile_ms(self, pct: float) -> float:
        """Nearest-rank percentile of the measured latencies, in milliseconds."""
        if not self.latencies_ns:
            return float("nan")
        ordered = sorted(self.latencies_ns)
        rank = max(1, min(len(ordered), -(-len(ordered) * pct // 100)))
        return ordered[int(rank) - 1] / 1e6


class PoolEmpty(Exception):
    """A client has nothing left to send (e.g. every prepared visitor went through the gate)."""


# One call sends one request and returns None, or raises HTTPError/PoolEmpty. `client` is the index
# of the calling thread, so a step can give each client its own share of the prepared visitors.
Step = Callable[[Connection, int], None]


def run_phase(name: str, host: str, port: int, step: Step, *, connections: int, duration: float,
              warmup: float, on_measure: Callable[[], None] | None = None) -> PhaseResult:
    """Run `step` in a loop on `connections` threads, each with its own keep-alive connection, for
    `warmup` seconds unmeasured and then `duration` seconds measured. `on_measure` is called when the
    measured window opens (e.g. to read the server's CPU time)."""
    result = PhaseResult(name)
    lock = threading.Lock()
    ready = threading.Barrier(connections + 1)
    times: dict[str, float] = {}
    last_done = [0.0]

    def client(index: int) -> None:
        conn = Connection(host, port)
        samples: list[int] = []
        errors, first_error, last = 0, "", 0.0
        try:
            conn._connect()
            ready.wait()
            measure_from, stop_at = times["measure_from"], times["stop_at"]
            clock = time.perf_counter
            while True:
                t0 = clock()
                if t0 >= stop_at:
                    break
                try:
                    step(conn, index)
                except PoolEmpty:
                    break
                except Exception as err:  # noqa: BLE001 - a failed request is counted, never fatal
                    if t0 >= measure_from:
                        errors += 1
                        first_error = first_error or (str(err) if isinstance(err, HTTPError)
                                                      else f"{type(err).__name__}: {err}")
                    continue
                t1 = clock()
                if t0 >= measure_from:
                    samples.append(int((t1 - t0) * 1e9))
                    last = t1
        except threading.BrokenBarrierError:
            return
        except OSError as err:
            errors, first_error = errors + 1, first_error or f"cannot connect: {err}"
            ready.abort()
        finally:
            conn.close()
            with lock:
                result.latencies_ns.extend(samples)
                result.errors += errors
                result.first_error = result.first_error or first_error
                last_done[0] = max(last_done[0], last)

    threads = [threading.Thread(target=client, args=(i,), name=f"bench-{name}-{i}", daemon=True)
               for i in range(connections)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    times["measure_from"] = start + warmup
    times["stop_at"] = start + warmup + duration
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        pass
    sleep_until = times["measure_from"] - time.perf_counter()
    if sleep_until > 0:
        time.sleep(sleep_until)
    cpu_start = time.process_time()
    if on_measure is not None:
        on_measure()
    for t in threads:
        t.join()
    result.client_cpu = time.process_time() - cpu_start
    result.elapsed = max(0.0, last_done[0] - times["measure_from"])
    if result.elapsed and result.elapsed < duration * 0.95:
        result.stopped_early = f"ran out of prepared visitors after {result.elapsed:.1f} s"
    return result
