"""One URL, two renderings: a full page for a normal request or a history restore, just the partial
for an htmx swap. Responses that branch on HX-Request say so with `Vary: HX-Request`."""

from __future__ import annotations

from flask import make_response, render_template, request
from flask_htmx import HTMX  # noqa: F401 - registered in web.init_app


def wants_partial() -> bool:
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def render(page: str, partial: str, status: int = 200, **context):
    """`page` extends the base layout and includes `partial`.

    The view's transaction is over by now (views commit or roll back before rendering); end the read
    transaction too, so SQLite's lock is not held while the template renders."""
    from quizapp.store import get_session

    get_session().commit()
    if wants_partial():
        resp = make_response(render_template(partial, **context), status)
        # Put the address bar on this step, also after a POST that redirected here. Inside an iframe,
        # replace rather than push: pushed steps would pile up in the host page's back button.
        header = "HX-Replace-Url" if context.get("embed") else "HX-Push-Url"
        resp.headers[header] = request.full_path.rstrip("?")
    else:
        resp = make_response(render_template(page, **context), status)
    resp.vary.add("HX-Request")
    return resp
