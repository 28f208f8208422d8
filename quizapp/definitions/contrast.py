"""WCAG 2.2 contrast of a definition's theme: the pages use `primary` behind white button text and as
the link colour on `background`, and `text` on `background`. AA asks 4.5:1 for normal text."""

from __future__ import annotations

from typing import Any

AA = 4.5


def _channel(c: float) -> float:
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    hexa = colour.lstrip("#")
    if len(hexa) == 3:
        hexa = "".join(ch * 2 for ch in hexa)
    r, g, b = (int(hexa[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def ratio(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def check_theme(theme) -> list[tuple[list[Any], str, str]]:
    pairs = [
        ("primary", theme.primary, "#ffffff", "white button text on the primary colour"),
        ("primary", theme.primary, theme.background, "links in the primary colour on the background"),
        ("text", theme.text, theme.background, "text on the background"),
    ]
    out = []
    for key, fg, bg, what in pairs:
        found = ratio(fg, bg)
        if found < AA:
            out.append((["theme", key], f"{what} has a contrast of {found:.2f}:1; WCAG AA asks at least "
                        f"{AA}:1, so some visitors can't read it", "warning"))
    return out
