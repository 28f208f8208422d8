"""Problems found in a definition file: each names the file, the JSON path and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.severity}: {self.message}"


class DefinitionError(Exception):
    """Raised by the loader when a file has errors; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def json_path(parts: list[Any]) -> str:
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}"
    return out


def flatten_messages(messages: Any, prefix: list[Any] | None = None) -> list[tuple[str, str]]:
    """Turn marshmallow's nested error dict into (json path, message) pairs."""
    prefix = prefix or []
    out: list[tuple[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                out.extend(flatten_messages(value, prefix))
            else:
                out.extend(flatten_messages(value, [*prefix, key]))
    elif isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            out.extend((json_path(prefix), m) for m in messages)
        else:
            for item in messages:
                out.extend(flatten_messages(item, prefix))
    else:
        out.append((json_path(prefix), str(messages)))
    return out
