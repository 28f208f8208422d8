"""Reads definition files from a folder. A broken file is reported and skipped; the others serve."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from quizapp.definitions.checks import check_quiz
from quizapp.definitions.problems import Problem, flatten_messages, json_path
from quizapp.definitions.schemas import KIND_SCHEMAS

CHECKS: dict[str, Callable[[Any], list]] = {"quiz": check_quiz}


def register_checks(kind: str, fn: Callable[[Any], list]) -> None:
    CHECKS[kind] = fn


def content_hash(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Loaded:
    file: str
    definition: Any | None
    problems: list[Problem] = field(default_factory=list)
    raw: Any = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def load_data(data: Any, file: str = "<definition>") -> Loaded:
    """Validate parsed JSON and build the definition; problems carry file and JSON path."""
    if not isinstance(data, dict):
        return Loaded(file, None, [Problem(file, "$", "the file must hold one JSON object")], data)
    kind = data.get("kind")
    if kind not in KIND_SCHEMAS:
        return Loaded(file, None, [Problem(file, "$.kind", f"'kind' must be one of: {', '.join(sorted(KIND_SCHEMAS))}"
                                           + (f" (found {kind!r})" if kind is not None else " (missing)"))], data)
    try:
        definition = KIND_SCHEMAS[kind]().load(data)
    except ValidationError as err:
        problems = [Problem(file, path, msg) for path, msg in flatten_messages(err.messages)]
        return Loaded(file, None, problems, data)
    problems = [Problem(file, json_path(path), msg, severity) for path, msg, severity in CHECKS[kind](definition)]
    if any(p.severity == "error" for p in problems):
        return Loaded(file, None, problems, data)
    definition = replace(definition, content_hash=content_hash(data), source_file=file)
    return Loaded(file, definition, problems, data)


def load_file(path: Path, display: str | None = None) -> Loaded:
    name = display or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return Loaded(name, None, [Problem(name, "$", f"cannot read the file: {err}")])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        return Loaded(name, None, [Problem(name, "$", f"not valid JSON: {err.msg} at line {err.lineno}, "
                                                      f"column {err.colno}")])
    return load_data(data, name)


class Catalog:
    """The definitions in a folder, reloaded when a file changes (checked at most every `interval` s)."""

    def __init__(self, folder: str | Path, interval: float = 2.0):
        self.folder = Path(folder)
        self.interval = interval
        self._lock = threading.Lock()
        self._checked = 0.0
        self._stamp: tuple = ()
        self._by_slug: dict[str, Any] = {}
        self._loaded: list[Loaded] = []
        self._by_hash: dict[str, Any] = {}
        self._raw_by_hash: dict[str, Any] = {}
        self.refresh(force=True)

    def _scan(self) -> tuple:
        try:
            files = sorted(self.folder.glob("*.json"))
        except OSError:
            return ()
        stamp = []
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            stamp.append((f.name, st.st_mtime_ns, st.st_size))
        return tuple(stamp)

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.interval:
            return
        with self._lock:
            self._checked = now
            stamp = self._scan()
            if not force and stamp == self._stamp:
                return
            loaded, by_slug = [], {}
            for name, _, _ in stamp:
                if name.endswith(".schema.json"):
                    continue
                item = load_file(self.folder / name)
                if item.definition is not None and item.definition.slug in by_slug:
                    other = by_slug[item.definition.slug].source_file
                    item.problems.append(Problem(name, "$.slug", f"slug {item.definition.slug!r} is already "
                                                                 f"used by {other}"))
                    item.definition = None
                if item.definition is not None:
                    by_slug[item.definition.slug] = item.definition
                    self._by_hash[item.definition.content_hash] = item.definition
                    self._raw_by_hash[item.definition.content_hash] = item.raw
                loaded.append(item)
            self._stamp, self._loaded, self._by_slug = stamp, loaded, by_slug

    def get(self, slug: str) -> Any | None:
        self.refresh()
        return self._by_slug.get(slug)

    def all(self) -> list[Any]:
        self.refresh()
        return sorted(self._by_slug.values(), key=lambda d: d.title)

    def results(self) -> list[Loaded]:
        self.refresh()
        return list(self._loaded)

    def raw(self, content_hash_: str) -> Any | None:
        """The parsed JSON a definition was built from (stored with each version)."""
        return self._raw_by_hash.get(content_hash_)

    def version(self, content_hash_: str, stored: dict | None) -> Any | None:
        """The definition a response started with, from memory or from its stored JSON."""
        if content_hash_ in self._by_hash:
            return self._by_hash[content_hash_]
        if stored is None:
            return None
        item = load_data(stored, "<stored version>")
        if item.definition is not None:
            self._by_hash[content_hash_] = item.definition
        return item.definition
