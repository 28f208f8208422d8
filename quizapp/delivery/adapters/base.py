"""What every adapter shares: its declared settings, secrets from the environment, steps a retry skips, and
a per-destination cache of platform ids (tag name -> id) kept in the database for all workers."""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, fields, validate

from quizapp.delivery.config import Destination
from quizapp.delivery.http import ConfigProblem, Http

URL = validate.URL(schemes={"http", "https"}, require_tld=False)


class Settings(Schema):
    """Base of each adapter's settings schema; secret settings are made with ``config.secret_field``."""

    class Meta:
        unknown = RAISE


def base_url_field() -> fields.Field:
    # Every platform's address can be changed: tests point it at a local fake, and some accounts use a region.
    return fields.String(load_default=None, validate=URL)


@dataclass(frozen=True)
class Message:
    delivery_id: int
    message_id: str
    event_type: str
    payload: bytes
    attempt: int

    @cached_property
    def data(self) -> dict[str, Any]:
        return json.loads(self.payload.decode("utf-8"))["data"]


class Steps:
    """Steps finished by earlier attempts of one delivery (``Delivery.steps_done``); a retry skips them."""

    def __init__(self, done: dict[str, Any] | None = None):
        self.done: dict[str, Any] = dict(done or {})

    def __contains__(self, name: str) -> bool:
        return name in self.done

    def get(self, name: str, default: Any = None) -> Any:
        return self.done.get(name, default)

    def mark(self, name: str, value: Any = True) -> None:
        self.done[name] = value


class Cache:
    """Platform ids shared by every worker (``DestinationState.cache``). Changes are collected and merged into
    the stored cache after the attempt, so a concurrent worker's entries are never overwritten."""

    def __init__(self, data: dict[str, Any] | None = None):
        self.data: dict[str, dict[str, Any]] = {
            k: dict(v) for k, v in (data or {}).items() if isinstance(v, dict)
        }
        self.changes: list[tuple[str, str, Any]] = []  # (section, key, value or None to forget)

    def get(self, section: str, key: str) -> Any:
        return self.data.get(section, {}).get(key)

    def put(self, section: str, key: str, value: Any) -> None:
        self.data.setdefault(section, {})[key] = value
        self.changes.append((section, key, value))

    def forget(self, section: str, key: str) -> None:
        self.data.get(section, {}).pop(key, None)
        self.changes.append((section, key, None))


class Registry:
    def __init__(self) -> None:
        self._types: dict[str, type[Adapter]] = {}

    def register(self, cls: type[Adapter]) -> type[Adapter]:
        if cls.type in self._types:
            raise RuntimeError(f"destination type {cls.type!r} registered twice")
        self._types[cls.type] = cls
        return cls

    def get(self, name: str) -> type[Adapter] | None:
        return self._types.get(name)

    def names(self) -> list[str]:
        return sorted(self._types)


registry = Registry()


class Adapter(ABC):
    """One destination type. Subclasses set ``type``, ``Settings`` and ``deliver``."""

    type: ClassVar[str]
    label: ClassVar[str]
    Settings: ClassVar[type[Schema]]
    default_base_url: ClassVar[str] = ""
    # Requests per seconds the platform allows per account; spaced out across all workers.
    default_rate_limit: ClassVar[tuple[int, float] | None] = None
    # Headers, besides Retry-After, that say how long to wait after a 429.
    reset_headers: ClassVar[tuple[str, ...]] = ()

    def __init__(self, destination: Destination, http: Http, cache: Cache):
        self.destination = destination
        self.settings = destination.settings
        self.http = http
        self.cache = cache

    @abstractmethod
    def deliver(self, message: Message, steps: Steps) -> None:
        """Do the platform's steps for one message, recording each finished one in ``steps``."""

    def check_config(self) -> None:
        """Raise ConfigProblem for what would pause this destination at its first send, found without
        calling the platform (a malformed secret); `quizapp deliveries check` reports it beforehand.
        Most platforms have nothing to check offline; those that do override this."""
        return None

    def secret(self, setting: str) -> str:
        name = self.settings.get(setting)
        value = os.environ.get(name or "", "")
        if not value.strip():
            raise ConfigProblem(
                f"the environment variable {name} (setting {setting!r} of destination "
                f"{self.destination.name!r}) is not set"
            )
        return value.strip()

    @property
    def base_url(self) -> str:
        return (self.settings.get("base_url") or self.default_base_url).rstrip("/")

    def ensure_ids(
        self,
        section: str,
        names: Iterable[str],
        *,
        list_existing: Callable[[], dict[str, Any]],
        create: Callable[[str], Any],
    ) -> dict[str, Any]:
        """Platform id for each name: from the cache, else from the platform's list, else created. Names are
        matched case-insensitively (several platforms treat "Hot" and "hot" as one tag)."""
        names = list(names)
        missing = [n for n in names if self.cache.get(section, n.lower()) is None]
        if missing:
            for name, pid in list_existing().items():
                if self.cache.get(section, name.lower()) != pid:
                    self.cache.put(section, name.lower(), pid)
            for name in missing:
                if self.cache.get(section, name.lower()) is None:
                    self.cache.put(section, name.lower(), create(name))
        return {n: self.cache.get(section, n.lower()) for n in names}


def split_email(data: dict[str, Any]) -> tuple[str, str]:
    """(normalised address for matching, the address as typed for display)."""
    email = str(data.get("email") or "").strip().lower()
    return email, str(data.get("email_display") or email).strip()
