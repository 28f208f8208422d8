"""Reads definition files from a folder. A broken file is reported and skipped; the others serve."""

from __future__ import annotations

import hashlib
import json
import logging
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


MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32

log = logging.getLogger("quizapp.definitions")


def _depth(data: Any) -> int:
    """How deeply objects and lists nest (iteratively, so no depth can overflow the stack)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def load_data(data: Any, file: str = "<definition>") -> Loaded:
    """Validate parsed JSON and build the definition; problems carry file and JSON path. Whatever the
    file holds, this returns problems rather than raising, so one file never stops the others."""
    if not isinstance(data, dict):
        return Loaded(file, None, [Problem(file, "$", "the file must hold one JSON object")], data)
    if _depth(data) > MAX_DEPTH:
        return Loaded(file, None, [Problem(file, "$", f"objects and lists nest more than {MAX_DEPTH} levels deep")],
                      data)
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KIND_SCHEMAS:
        found = " (missing)" if kind is None else f" (found {kind!r})"
        return Loaded(file, None, [Problem(file, "$.kind", f"'kind' must be one of: {', '.join(sorted(KIND_SCHEMAS))}"
                                           + found)], data)
    try:
        definition = KIND_SCHEMAS[kind]().load(data)
    except ValidationError as err:
        problems = [Problem(file, path, msg) for path, msg in flatten_messages(err.messages)]
        return Loaded(file, None, problems, data)
    except Exception as err:  # a value no schema foresaw must not take the catalog down
        log.exception("definition %s could not be loaded", file)
        return Loaded(file, None, [Problem(file, "$", f"could not be loaded: {type(err).__name__}: {err}")], data)
    try:
        found = CHECKS[kind](definition)
    except Exception as err:
        log.exception("definition %s could not be checked", file)
        return Loaded(file, None, [Problem(file, "$", f"could not be checked: {type(err).__name__}: {err}")], data)
    problems = [Problem(file, json_path(path), msg, severity) for path, msg, severity in found]
    if any(p.severity == "error" for p in problems):
        return Loaded(file, None, problems, data)
    definition = replace(definition, content_hash=content_hash(data), source_file=file)
    return Loaded(file, definition, problems, data)


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"the key {key!r} appears twice in one object (only one of them can count)")
        out[key] = value
    return out


def load_file(path: Path, display: str | None = None) -> Loaded:
    name = display or path.name
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return Loaded(name, None, [Problem(name, "$", f"the file is larger than {MAX_FILE_BYTES // 1024} KB")])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return Loaded(name, None, [Problem(name, "$", f"cannot read the file: {err}")])
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as err:
        return Loaded(name, None, [Problem(name, "$", f"not valid JSON: {err.msg} at line {err.lineno}, "
                                                      f"column {err.colno}")])
    except _DuplicateKey as err:
        return Loaded(name, None, [Problem(name, "$", str(err))])
    except RecursionError:
        return Loaded(name, None, [Problem(name, "$", f"objects and lists nest more than {MAX_DEPTH} levels deep")])
    except ValueError as err:  # e.g. an integer with thousands of digits
        return Loaded(name, None, [Problem(name, "$", f"not valid JSON: {err}")])
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
        self._good_by_file: dict[str, Any] = {}
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
            loaded, by_slug, good = [], {}, {}
            for name, _, _ in stamp:
                if name.endswith(".schema.json"):
                    continue
                item = load_file(self.folder / name)
                if item.definition is not None and item.definition.slug in by_slug:
                    other = by_slug[item.definition.slug].source_file
                    item.problems.append(Problem(name, "$.slug", f"slug {item.definition.slug!r} is already "
                                                                 f"used by {other}"))
                    item.definition = None
                serving = item.definition
                if serving is None and name in self._good_by_file:
                    # A broken edit of a live quiz: keep serving the version that worked, so a typo
                    # never takes a quiz offline; validate and the dashboard show what to fix.
                    serving = self._good_by_file[name]
                    if serving.slug in by_slug:
                        serving = None
                    else:
                        item.problems.append(Problem(name, "$", "still serving the last version that loaded; "
                                                                "fix the errors above to publish this one",
                                                     "warning"))
                if item.errors:
                    log.error("%s has errors%s:\n%s", name, ", the last good version stays live" if serving else
                              " and is not served", "\n".join(str(p) for p in item.errors))
                if serving is not None:
                    by_slug[serving.slug] = serving
                    good[name] = serving
                    self._by_hash[serving.content_hash] = serving
                    if item.definition is not None:
                        self._raw_by_hash[serving.content_hash] = item.raw
                loaded.append(item)
            self._stamp, self._loaded, self._by_slug, self._good_by_file = stamp, loaded, by_slug, good

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
