"""Starting and stopping the servers under test, each in its own process group on a free loopback port,
and reading how much CPU their worker processes used."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class ServerFailed(RuntimeError):
    pass


class Server:
    """A server process started from `argv`; its output goes to `<workdir>/<name>.log`."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path, port: int):
        self.name, self.argv, self.env, self.port = name, argv, env, port
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, ready_path: str = "/", timeout: float = 60.0) -> None:
        log = open(self.log_path, "wb")  # noqa: SIM115 - the child keeps writing to it
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerFailed(f"{self.name} exited with status {self.proc.returncode} before it "
                                   f"answered:\n{self.log_tail()}")
            if _answers(self.port, ready_path):
                if len(self.workers()) >= 1:
                    return
            time.sleep(0.1)
        self.stop()
        raise ServerFailed(f"{self.name} did not answer on port {self.port} within {timeout:.0f} s:\n"
                           f"{self.log_tail()}")

    def wait_until_ready(self, workers: int, timeout: float = 60.0) -> None:
        """Gunicorn answers as soon as its first worker is up, while the others may still be loading the
        app: wait until every worker is there and the processes have gone quiet (under 5% of a CPU)."""
        deadline = time.monotonic() + timeout
        while len(self.workers()) < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        used = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.cpu_seconds()
            if now - used < 0.025:
                return
            used = now

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown of its own workers
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def workers(self) -> list[int]:
        if self.proc is None:
            return []
        return _children(self.proc.pid)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the master and its live workers."""
        if self.proc is None:
            return 0.0
        return sum(_cpu_seconds(pid) for pid in [self.proc.pid, *self.workers()])

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def _answers(port: int, path: str) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=2) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode())
            head = s.recv(64)
    except OSError:
        return False
    return head.startswith(b"HTTP/1.1 200")


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces; fields after it are plain.
    return raw[raw.rfind(")") + 2:].split()


def machine_cpu_seconds() -> float:
    """CPU time all processes on the machine have used (user, nice, system, irq, steal), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICK


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    if not fields:
        return 0.0
    # utime and stime are fields 14 and 15 of /proc/<pid>/stat; `fields` starts at field 3.
    return (int(fields[11]) + int(fields[12])) / _TICK
