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
        return self.config


def init_app(app) -> None:
    """Read and check the destinations file at start-up: a broken file stops the server with its problems
    rather than losing deliveries later."""
    app.extensions["quizapp.destinations"] = _Loaded(app.config.get("DESTINATIONS_FILE"))


def destinations_for(app) -> DestinationsConfig:
    loaded = app.extensions.get("quizapp.destinations")
    if loaded is None or loaded.path != app.config.get("DESTINATIONS_FILE"):
        loaded = _Loaded(app.config.get("DESTINATIONS_FILE"))
        app.extensions["quizapp.destinations"] = loaded
    return loaded.current()


__all__ = ["init_app", "destinations_for", "DestinationsConfig", "DestinationsError"]
