"""Embedding: which sites may frame which page, the settings the in-frame script reads, and the snippet
page a creator copies from.

Framing policy (sent as `Content-Security-Policy: frame-ancestors`):
- a visitor page of a quiz or calculator (any page of a visitor blueprint whose URL names a known slug) may be
  framed by the sites in the definition's `embed_origins`, plus this server itself; an empty list (the
  default) lets any site frame it, because embedding on other people's blogs is the point;
- a visitor page naming an unknown slug (the "not found" page) may be framed anywhere, so an embed shows
  the message instead of a browser error;
- every other page (the directory, admin pages, this snippet page) refuses framing.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request, url_for
from markupsafe import Markup, escape

bp = Blueprint("embed", __name__)

# Blueprints whose pages visitors see, possibly inside an iframe: the quiz flow and the calculator pages.
# Another kind of definition that serves its own blueprint adds its name with `allow_framing`.
VISITOR_BLUEPRINTS: set[str] = {"public", "calculator"}

ANYWHERE = "*"
NOWHERE = "'none'"


def allow_framing(blueprint_name: str) -> None:
    VISITOR_BLUEPRINTS.add(blueprint_name)


def frame_ancestors(definition: Any) -> str:
    """The `frame-ancestors` sources for a definition's visitor pages."""
    origins = tuple(getattr(definition, "embed_origins", ()) or ())
    if not origins or ANYWHERE in origins:
        return ANYWHERE
    return " ".join(["'self'", *origins])


def _catalog():
    return current_app.extensions["quizapp.catalog"]


def policy_for_request() -> str:
    if request.blueprint not in VISITOR_BLUEPRINTS:
        return NOWHERE
    slug = (request.view_args or {}).get("slug")
    if not isinstance(slug, str):
        return NOWHERE
    definition = _catalog().get(slug)
    return frame_ancestors(definition) if definition is not None else ANYWHERE


def apply_framing(response: Response) -> Response:
    if request.endpoint == "static":
        return response
    policy = policy_for_request()
    existing = response.headers.get("Content-Security-Policy", "")
    if "frame-ancestors" not in existing:
        directive = f"frame-ancestors {policy}"
        combined = f"{existing.rstrip('; ')}; {directive}" if existing else directive
        response.headers["Content-Security-Policy"] = combined
    if policy == NOWHERE:
        # For browsers that predate frame-ancestors.
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def shares_email(definition: Any) -> bool:
    """Whether the `quiz:lead` event may carry the visitor's email. Off unless the server's owner opts in
    (EMBED_SHARE_EMAIL: true for every definition, or a list of slugs), and only for a definition that
    names the sites allowed to frame it: the address is never handed to just any site."""
    if definition is None:
        return False
    setting = current_app.config.get("EMBED_SHARE_EMAIL", False)
    opted_in = setting is True or (isinstance(setting, list | tuple) and definition.slug in setting)
    origins = tuple(getattr(definition, "embed_origins", ()) or ())
    return bool(opted_in and origins and ANYWHERE not in origins)


def embed_meta(definition: Any) -> Markup:
    """The settings embed-child.js reads: the origins it may talk to (empty: any) and the email opt-in."""
    origins = [o for o in (getattr(definition, "embed_origins", ()) or ()) if o != ANYWHERE]
    settings = {"origins": origins, "email": shares_email(definition)}
    return Markup('<meta name="quizapp-embed" content="{}">').format(escape(json.dumps(settings)))


def public_base() -> str:
    return (current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")


def snippets(definition: Any, base: str) -> dict[str, str]:
    """The HTML a blog author pastes, per mode. Each works without JavaScript as a plain link."""
    slug, title = definition.slug, definition.title
    landing = f"{base}/q/{slug}"
    script = f'<script src="{base}/static/embed.js" async></script>'
    return {
        "inline": f'<div data-quizapp="{slug}"><a href="{landing}">{escape(title)}</a></div>\n{script}',
        "popup": f'<a href="{landing}" data-quizapp="{slug}" data-quizapp-mode="popup">{escape(title)}</a>\n'
                 f'{script}',
        "link": f'<a href="{landing}" data-quizapp="{slug}" data-quizapp-mode="link">{escape(title)}</a>\n'
                f'{script}',
    }


@bp.get("/embed/<slug>")
def snippet_page(slug: str):
    """What a creator copies to put a definition on a blog, with a live preview of the inline mode."""
    definition = _catalog().get(slug)
    if definition is None:
        abort(404)
    base = public_base()
    return render_template("embed/snippet.html", definition=definition, snippets=snippets(definition, base),
                           origins=[o for o in definition.embed_origins if o != ANYWHERE],
                           landing=url_for("public.landing", slug=slug),
                           embed_js=url_for("static", filename="embed.js"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.after_request(apply_framing)
    app.jinja_env.globals.update(embed_meta=embed_meta, embed_shares_email=shares_email)
