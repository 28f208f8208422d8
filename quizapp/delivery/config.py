"""The destinations file (``DESTINATIONS_FILE``, default ``instance/destinations.json``) and retry settings.

Secrets never live in the file: a setting whose name ends in ``_env`` names the environment variable that
holds the key. See docs/delivery.md for the format."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from quizapp.delivery.mapping import FACT_ROOTS

NAME = validate.Regexp(
    r"^[a-z0-9][a-z0-9_-]{0,63}$", error="use lower-case letters, digits, '-' or '_' (at most 64)"
)
ENV_NAME = validate.Regexp(
    r"^[A-Za-z_][A-Za-z0-9_]*$", error="the name of an environment variable, like KIT_API_KEY"
)
TAG_TEXT = validate.Regexp(r"^[^\n]{1,80}$", error="a tag is 1 to 80 characters on one line")


def secret_field(required: bool = True, **kw) -> fields.Field:
    """A setting naming the environment variable that holds a secret (never the secret itself)."""
    if required:
        return fields.String(required=True, validate=ENV_NAME, metadata={"secret": True}, **kw)
    return fields.String(load_default=None, validate=ENV_NAME, metadata={"secret": True}, **kw)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class FactPath(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        root = value.split(".", 1)[0]
        if root not in FACT_ROOTS:
            raise ValidationError(f"unknown fact {root!r}; use one of: {', '.join(sorted(FACT_ROOTS))}")
        return value


class Matcher(fields.Field):
    """A scalar, a list of scalars, or {"min", "max"} / {"not": ...} / {"present": bool}."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str | int | float | bool):
            return value
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            return value
        if isinstance(value, dict):
            keys = set(value)
            if keys == {"not"}:
                self._deserialize(value["not"], attr, data)
                return value
            if keys == {"present"} and isinstance(value["present"], bool):
                return value
            if (
                keys
                and keys <= {"min", "max"}
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value.values())
            ):
                return value
        raise ValidationError(
            'a matcher is a value, a list of values, {"min": n, "max": n}, {"not": matcher} '
            'or {"present": true|false}'
        )


class RuleSchema(Strict):
    when = fields.Dict(keys=FactPath(), values=Matcher(), required=True)
    add = fields.List(fields.String(validate=TAG_TEXT), required=True, validate=validate.Length(min=1))


class TagsSchema(Strict):
    include = fields.String(load_default="all", validate=validate.OneOf(["all", "none"]))
    prefix = fields.String(load_default="", validate=validate.Length(max=40))
    add = fields.List(fields.String(validate=TAG_TEXT), load_default=list)
    rules = fields.List(fields.Nested(RuleSchema), load_default=list)
    rename = fields.Dict(keys=fields.String(), values=fields.String(validate=TAG_TEXT), load_default=dict)


class FieldSource(fields.Field):
    """A fact path ("outcome", "answers.channel") or a constant {"value": ...}."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            return FactPath()._deserialize(value, attr, data)
        if (
            isinstance(value, dict)
            and set(value) == {"value"}
            and isinstance(value["value"], str | int | float)
        ):
            return value
        raise ValidationError(
            'a field is filled from a fact path like "outcome", or a constant {"value": ...}'
        )


class MappingSchema(Strict):
    tags = fields.Nested(TagsSchema, load_default=None)
    fields_ = fields.Dict(
        data_key="fields",
        attribute="fields",
        keys=fields.String(validate=validate.Length(1, 100)),
        values=FieldSource(),
        load_default=dict,
    )


class RateLimitSchema(Strict):
    requests = fields.Integer(required=True, validate=validate.Range(min=1))
    per_seconds = fields.Float(required=True, validate=validate.Range(min=0.001, max=86400))


class DestinationSchema(Strict):
    name = fields.String(required=True, validate=NAME)
    type = fields.String(required=True)
    enabled = fields.Boolean(load_default=True)
    quizzes = fields.Raw(load_default=list)
    exclude_quizzes = fields.List(fields.String(), load_default=list)
    settings = fields.Dict(load_default=dict)
    mapping = fields.Dict(load_default=dict)
    rate_limit = fields.Nested(RateLimitSchema, load_default=None, allow_none=True)
    timeout = fields.Float(load_default=15.0, validate=validate.Range(min=0.05, max=120))
    # Only leads who ticked the gate's consent checkbox go to this destination.
    require_consent = fields.Boolean(load_default=False)

    @validates("quizzes")
    def _quizzes(self, value, **kwargs):
        if value == "all":
            return
        if not (isinstance(value, list) and all(isinstance(v, str) and v for v in value)):
            raise ValidationError('"all", or a list of quiz slugs')

    @validates_schema(skip_on_field_errors=False)
    def _type_and_parts(self, data, **kwargs):
        from quizapp.delivery.adapters import registry

        errors: dict[str, Any] = {}
        adapter = registry.get(data.get("type", ""))
        if adapter is None and "type" in data:
            errors["type"] = [f"unknown type {data.get('type')!r}; use one of: {', '.join(registry.names())}"]
        elif adapter is not None:
            try:
                data["settings"] = adapter.Settings().load(data.get("settings") or {})
            except ValidationError as err:
                errors["settings"] = err.messages
        try:
            data["mapping"] = MappingSchema().load(data.get("mapping") or {})
        except ValidationError as err:
            errors["mapping"] = err.messages
        if errors:
            raise ValidationError(errors)


class FileSchema(Strict):
    _schema = fields.String(data_key="$schema")
    destinations = fields.List(fields.Nested(DestinationSchema), required=True)

    @validates_schema(skip_on_field_errors=False)
    def _unique(self, data, **kwargs):
        seen: set[str] = set()
        for i, dest in enumerate(data.get("destinations") or []):
            if not isinstance(dest, dict):
                continue
            if dest.get("name") in seen:
                raise ValidationError(
                    {i: {"name": [f"destination {dest['name']!r} is defined twice"]}}, "destinations"
                )
            seen.add(dest.get("name"))


@dataclass(frozen=True)
class Destination:
    name: str
    type: str
    settings: Mapping[str, Any]
    mapping: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True
    quizzes: Any = ()  # "all" or a tuple of slugs
    exclude_quizzes: tuple[str, ...] = ()
    rate_limit: tuple[int, float] | None = None  # (requests, per seconds); None: the adapter's default
    timeout: float = 15.0
    require_consent: bool = False

    def applies_to(self, slug: str) -> bool:
        if not self.enabled or slug in self.exclude_quizzes:
            return False
        return self.quizzes == "all" or slug in self.quizzes

    def secret_names(self) -> list[str]:
        from quizapp.delivery.adapters import registry

        schema = registry.get(self.type).Settings()
        names: list[str] = []
        for key, value in self.settings.items():
            declared = schema.fields.get(key)
            if value and declared is not None and declared.metadata.get("secret"):
                names += list(value.values()) if isinstance(value, dict) else [value]
        return names

    def fingerprint(self) -> str:
        """Changes when the settings or the secrets behind them change; a paused destination resumes by itself
        once the creator has fixed its configuration."""
        secrets = {name: os.environ.get(name, "") for name in self.secret_names()}
        text = json.dumps([self.type, dict(self.settings), secrets], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DestinationsConfig:
    destinations: Mapping[str, Destination] = field(default_factory=dict)
    file: str | None = None

    def get(self, name: str) -> Destination | None:
        return self.destinations.get(name)

    def for_quiz(self, slug: str, refs: tuple = ()) -> list[tuple[str, Mapping[str, Any]]]:
        """(destination name, this quiz's options) for every destination a submission of ``slug`` goes to:
        the ones the quiz names (even if not configured yet: the rows wait for it) and the ones configured
        for all quizzes or for this one. A destination switched off with "enabled": false gets nothing."""
        chosen: dict[str, Mapping[str, Any]] = {}
        for ref in refs:
            dest = self.destinations.get(ref.name)
            if dest is not None and (not dest.enabled or slug in dest.exclude_quizzes):
                continue
            chosen.setdefault(ref.name, dict(ref.options))
        for name, dest in self.destinations.items():
            if dest.applies_to(slug):
                chosen.setdefault(name, {})
        return list(chosen.items())


class DestinationsError(Exception):
    """The destinations file is unreadable or invalid; ``problems`` are "file: $.path: message" lines."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _flatten(messages: Any, path: str = "$") -> list[tuple[str, str]]:
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            if key == "_schema":
                out += _flatten(value, path)
            else:
                out += _flatten(value, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}")
        return out
    if isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            return [(path, m) for m in messages]
        return [pair for m in messages for pair in _flatten(m, path)]
    return [(path, str(messages))]


def parse_destinations(data: Any, file: str = "<destinations>") -> DestinationsConfig:
    if not isinstance(data, dict):
        raise DestinationsError([f"{file}: $: the file must hold one JSON object with a 'destinations' list"])
    try:
        loaded = FileSchema().load(data)
    except ValidationError as err:
        raise DestinationsError(
            [f"{file}: {path}: {message}" for path, message in _flatten(err.messages)]
        ) from err
    out: dict[str, Destination] = {}
    for d in loaded["destinations"]:
        rate = d["rate_limit"]
        out[d["name"]] = Destination(
            name=d["name"],
            type=d["type"],
            settings=d["settings"],
            mapping=d["mapping"],
            enabled=d["enabled"],
            quizzes="all" if d["quizzes"] == "all" else tuple(d["quizzes"]),
            exclude_quizzes=tuple(d["exclude_quizzes"]),
            rate_limit=(rate["requests"], rate["per_seconds"]) if rate else None,
            timeout=d["timeout"],
            require_consent=d["require_consent"],
        )
    return DestinationsConfig(out, file)


def load_destinations(path: str | os.PathLike | None) -> DestinationsConfig:
    """Read and validate the destinations file; no file configured means no destinations."""
    if not path:
        return DestinationsConfig()
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DestinationsError([f"{file}: $: cannot read the file: {err}"]) from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DestinationsError(
            [f"{file}: $: not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}"]
        ) from err
    except RecursionError as err:
        raise DestinationsError([f"{file}: $: not valid JSON: lists and objects nested too deeply"]) from err
    except ValueError as err:  # the parser's own limits, such as integers with too many digits
        raise DestinationsError([f"{file}: $: not valid JSON: {_parser_limit(err)}"]) from err
    try:
        return parse_destinations(data, str(file))
    except DestinationsError:
        raise
    except Exception as err:
        # A file the checks did not foresee must still read as "this file is wrong": callers keep the
        # previous version, and the lead being stored never fails because of it.
        raise DestinationsError([f"{file}: $: cannot check the file: {type(err).__name__}: {err}"]) from err


def _parser_limit(err: ValueError) -> str:
    text = str(err)
    match = re.search(r"limit \((\d+) digits\)", text)
    if match:
        return f"a number has more than {match.group(1)} digits"
    return text.split(";")[0]


def check_quiz_options(options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Problems in the mapping options a quiz gives a destination, as (JSON path, message) pairs."""
    try:
        MappingSchema().load(dict(options))
    except ValidationError as err:
        return _flatten(err.messages)
    return []


def check_definition(definition: Any, config: DestinationsConfig) -> list[tuple[str, str, str]]:
    """(JSON path, message, severity) for the ``destinations`` of one quiz definition; used by validation."""
    out: list[tuple[str, str, str]] = []
    for i, ref in enumerate(getattr(definition, "destinations", ())):
        base = f"$.destinations[{i}]"
        if config.get(ref.name) is None:
            where = config.file or "no destinations file is configured"
            out.append(
                (
                    f"{base}.name",
                    f"destination {ref.name!r} is not configured ({where}); its deliveries "
                    "will wait until it is",
                    "warning",
                )
            )
        for path, message in check_quiz_options(ref.options):
            out.append((base + path[1:], message, "error"))
    return out


@dataclass(frozen=True)
class RetrySettings:
    """Delays (seconds) after each transient failure; one more failure than there are delays dead-letters."""

    schedule: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    jitter: float = 0.1  # each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
    max_retry_after: float = 86400.0  # a Retry-After longer than this is capped
    max_attempts: int = 100  # attempts not throttled: a last guard against endless loops
    # The least wait after a throttled answer (429, or 503 with a wait header), doubled for each throttled
    # answer in a row up to the cap: a receiver saying "Retry-After: 0" is still given time.
    throttle_min_wait: float = 1.0
    throttle_min_wait_cap: float = 300.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RetrySettings:
        schedule = config.get("DELIVERY_RETRY_SCHEDULE")
        return cls(
            schedule=tuple(float(s) for s in schedule) if schedule is not None else cls.schedule,
            jitter=float(config.get("DELIVERY_RETRY_JITTER", cls.jitter)),
            max_retry_after=float(config.get("DELIVERY_MAX_RETRY_AFTER", cls.max_retry_after)),
            max_attempts=int(config.get("DELIVERY_MAX_ATTEMPTS", cls.max_attempts)),
            throttle_min_wait=float(config.get("DELIVERY_THROTTLE_MIN_WAIT", cls.throttle_min_wait)),
            throttle_min_wait_cap=float(
                config.get("DELIVERY_THROTTLE_MIN_WAIT_CAP", cls.throttle_min_wait_cap)
            ),
        )


WORKER_DEFAULTS = {
    "DELIVERY_LEASE_SECONDS": 120.0,  # a claimed row comes back to the pool this long after its worker died
    "DELIVERY_BATCH_SIZE": 20,
    "DELIVERY_POLL_SECONDS": 1.0,  # the longest an idle worker sleeps before looking again
    "DELIVERY_MAX_WAIT_SECONDS": 2.0,  # wait this long for a rate-limit slot; longer: put the row back
}


def worker_setting(config: Mapping[str, Any], key: str) -> float:
    return float(config.get(key, WORKER_DEFAULTS[key]))
