"""The creator's side: sign in with the admin password, then the funnel of each quiz and calculator,
recent leads, definition problems and delivery health. Cookie session + Flask-WTF CSRF; never framed."""

from __future__ import annotations

import hmac
from datetime import datetime
from functools import wraps
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired

from quizapp.engine.scoring import plain
from quizapp.services import dashboard
from quizapp.store import get_session

bp = Blueprint("admin", __name__, url_prefix="/admin")


class LoginForm(FlaskForm):
    password = PasswordField("Admin password", validators=[DataRequired("Please enter the password.")])


def _password() -> str | None:
    value = current_app.config.get("ADMIN_PASSWORD")
    return str(value) if value not in (None, "") else None


def signed_in(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if _password() is None:
            return render_template("admin/disabled.html"), 404
        if not session.get("admin"):
            return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


@bp.after_request
def _never_framed(response):
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    if _password() is None:
        return render_template("admin/disabled.html"), 404
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        if hmac.compare_digest(form.password.data.encode(), _password().encode()):
            session.clear()
            session["admin"] = True
            session.permanent = True
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/admin") else url_for("admin.home"), 303)
        error = "That password is not right."
    return render_template("admin/login.html", form=form, error=error), (401 if error else 200)


@bp.post("/logout")
@signed_in
def logout():
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    session.clear()
    return redirect(url_for("admin.login"), 303)


def _catalog():
    return current_app.extensions["quizapp.catalog"]


def local_time(value: datetime | None) -> str:
    if value is None:
        return ""
    zone = ZoneInfo(current_app.config.get("TIMEZONE") or "UTC")
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


@bp.get("/")
@signed_in
def home():
    db = get_session()
    catalog = _catalog()
    rows = dashboard.overview(db, catalog.all())
    problems = [item for item in catalog.results() if item.problems]
    return render_template("admin/home.html", rows=rows, problems=problems,
                           destinations=dashboard.delivery_health(db),
                           recent=dashboard.recent_submissions(db, limit=20), local_time=local_time,
                           plain=plain, logout_form=FlaskForm())


@bp.get("/q/<slug>")
@signed_in
def quiz(slug: str):
    definition = _catalog().get(slug)
    if definition is None:
        abort(404)
    db = get_session()
    from quizapp.services.stats import funnel

    f = funnel(db, slug, definition=definition)
    return render_template("admin/quiz.html", definition=definition, funnel=f,
                           outcomes=dashboard.outcome_counts(db, slug),
                           recent=dashboard.recent_submissions(db, slug), local_time=local_time, plain=plain,
                           logout_form=FlaskForm())
