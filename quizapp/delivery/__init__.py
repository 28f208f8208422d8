"""Delivery of leads to email platforms and webhooks: outbox, worker, retry policy, adapters."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from quizapp.delivery.config import DestinationsConfig, DestinationsError, load_destinations

log = logging.getLogger("quizapp.delivery")

_lock = threading.Lock()


class _Loaded:
    """The destinations file as last read, re-read when it changes; a broken edit keeps the last good one."""

    def __init__(self, path: str | None):
        self.path = path
        self.stamp: Any = self._stamp()
        self.config = load_destinations(path)

    def _stamp(self) -> Any:
        if not self.path:
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return "missing"
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> DestinationsConfig:
        stamp = self._stamp()
        if stamp != self.stamp:
            with _lock:
                if stamp != self.stamp:
                    self.stamp = stamp
                    try:
                        self.config = load_destinations(self.path)
                    except DestinationsError as err:
                        log.error(
                            "the destinations file has errors; still using the previous version:\n%s", err
                        )
                    except Exception:  # leads are stored on this path: nothing about the file may fail them
                        log.exception(
                            "the destinations file cannot be read; still using the previous version"
                        )
        return self.config

    def retarget(self, path: str | None) -> None:
        """Another file was configured: read it at the next ``current()``; if it is broken, keep this one."""
        with _lock:
            self.path = path
            self.stamp = object()  # equal to no stamp, so the next look reads the file


def init_app(app) -> None:
    """Read and check the destinations file at start-up: a broken file stops the server with its problems
    rather than losing deliveries later."""
    app.extensions["quizapp.destinations"] = _Loaded(app.config.get("DESTINATIONS_FILE"))


def destinations_for(app) -> DestinationsConfig:
    loaded = app.extensions.get("quizapp.destinations")
    path = app.config.get("DESTINATIONS_FILE")
    if loaded is None:  # an app set up without init_app: check the file as start-up would
        loaded = _Loaded(path)
        app.extensions["quizapp.destinations"] = loaded
    elif loaded.path != path:
        loaded.retarget(path)
    return loaded.current()


__all__ = ["init_app", "destinations_for", "DestinationsConfig", "DestinationsError"]
