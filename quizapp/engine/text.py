"""Creator Markdown with {{ variables }}, rendered and sanitised with an allow-list."""

from __future__ import annotations

import re
from typing import Any

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True}).enable("table")

ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "h2", "h3", "h4", "blockquote", "code",
                "pre", "hr", "table", "thead", "tbody", "tr", "th", "td"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


def escape_markdown(value: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", value)


def fill(template: str, variables: dict[str, Any]) -> str:
    """Replace {{ name }} with the value, escaped so a visitor's text can't become markup."""
    def sub(m: re.Match) -> str:
        value = variables.get(m.group(1))
        return "" if value is None else escape_markdown(str(value))

    return VARIABLE.sub(sub, template)


def render_markdown(template: str, variables: dict[str, Any] | None = None) -> str:
    html = _md.render(fill(template, variables or {}))
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")
