"""JSON text with exact numbers: Decimals are written digit for digit (0.3 stays 0.3), never through a
float, and never as NaN or Infinity. Used for webhook payloads and lead exports alike."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# The largest magnitude a double holds: a receiver (JavaScript, Python's json) reads anything larger as
# Infinity, so such a figure is sent as null rather than as a number nobody can use.
DOUBLE_MAX = Decimal("1.7976931348623157e308")


def json_number(value: Decimal) -> str | None:
    """The JSON text of a Decimal, digit for digit (0.3 stays 0.3, never 0.29999999999999999): no trailing
    zeros, plain notation unless the number is huge or tiny. None for NaN, infinities and magnitudes no
    double can hold."""
    if not value.is_finite() or abs(value) > DOUBLE_MAX:
        return None
    if value.is_zero():
        return "0"
    # Trailing zeros dropped, every other digit kept (the default context would round to 28 digits).
    value = value.normalize(Context(prec=len(value.as_tuple().digits)))
    if -7 < value.adjusted() < 21:  # where JavaScript itself writes numbers without an exponent
        return format(value, "f")
    return str(value)  # 1E+25, 1.5E-9: valid JSON numbers


def encode(value: Any) -> str:
    """Compact JSON (as ``json.dumps(separators=(",", ":"), ensure_ascii=False)``) in which Decimals are
    written as exact numbers, floats that are not finite as null, and times as ISO-8601 strings."""
    if value is None or isinstance(value, bool | int | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal):
        return json_number(value) or "null"
    if isinstance(value, float):
        return json.dumps(value) if math.isfinite(value) else "null"
    if isinstance(value, datetime):
        return json.dumps(iso(value))
    if isinstance(value, Mapping):
        items = (json.dumps(str(k), ensure_ascii=False) + ":" + encode(v) for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode(v) for v in value) + "]"
    raise TypeError(f"cannot send a {type(value).__name__} in a payload")
