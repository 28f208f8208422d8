"""`quizapp worker` and `quizapp deliveries ...`."""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from datetime import UTC, datetime

import click

from quizapp.delivery import destinations_for, manage


def _app():
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app._get_current_object()
    from quizapp import create_app

    return create_app()


def _session(app):
    return app.extensions["quizapp.session"]()


@click.command()
@click.option("--drain", is_flag=True, help="Send what is due (and what falls due meanwhile), then exit.")
@click.option(
    "--timeout", type=float, default=600.0, show_default=True, help="With --drain: the longest run."
)
@click.option("--batch-size", type=int, default=None, help="Rows claimed at a time (default 20).")
@click.option("--name", default=None, help="This worker's name in attempt records (default host:pid:random).")
def worker(drain: bool, timeout: float, batch_size: int | None, name: str | None) -> None:
    """Deliver leads to the configured destinations: claim due rows, send, record, retry on schedule.
    Run as many as you like against PostgreSQL; they never send the same row at the same time."""
    import logging

    from quizapp.delivery.worker import make_worker, run_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = _app()
    overrides = {k: v for k, v in (("batch_size", batch_size), ("name", name)) if v is not None}
    w = make_worker(app, **overrides)
    config = destinations_for(app)
    click.echo(
        f"delivery worker {w.name}: {len(config.destinations)} destination(s) from "
        f"{config.file or 'no destinations file'}"
    )
    if drain:
        stats = w.drain(timeout=timeout)
        click.echo(
            f"drained: {stats.delivered} delivered, {stats.failed} failed (will retry), {stats.dead} dead, "
            f"{stats.other} other"
        )
        return
    run_forever(w)


@click.group()
def deliveries() -> None:
    """Deliveries of leads to email platforms and webhooks: list, show, retry, replay, resume."""


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use a date like 2026-05-01 or 2026-05-01T12:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@deliveries.command("list")
@click.option("--status", type=click.Choice(manage.STATUSES), default=None)
@click.option("--destination", default=None)
@click.option("--quiz", default=None, help="Only leads from this quiz or calculator (slug).")
@click.option("--since", default=None, help="Only rows created at or after this date (UTC).")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_(status, destination, quiz, since, limit, as_json) -> None:
    """The newest deliveries, and any destination that needs attention."""
    app = _app()
    session = _session(app)
    try:
        rows = manage.find(
            session, status=status, destination=destination, quiz=quiz, since=_since(since), limit=limit
        )
        problems = [h for h in manage.health(session, destinations_for(app)) if h.status != "active"]
        if as_json:
            for r in rows:
                click.echo(
                    json.dumps(
                        {
                            "id": r.id,
                            "message_id": r.message_id,
                            "destination": r.destination,
                            "event": r.event_type,
                            "status": r.status,
                            "attempts": r.attempts,
                            "next_attempt_at": _when(r.next_attempt_at),
                            "last_error": r.last_error,
                            "delivered_at": _when(r.delivered_at),
                        }
                    )
                )
            return
        for h in problems:
            click.echo(f"! destination {h.name}: {h.status} ({h.pending} waiting, {h.dead} dead): {h.reason}")
            if h.status in ("paused", "disabled"):
                click.echo(f"  fix it, then: quizapp deliveries resume {h.name}")
        if not rows:
            click.echo("no deliveries")
            return
        click.echo(
            f"{'id':>6}  {'destination':<16} {'event':<12} {'status':<9} {'tries':>5}  "
            f"{'next / delivered':<19}  last error"
        )
        for r in rows:
            moment = r.delivered_at if r.status == "delivered" else r.next_attempt_at
            error = (
                (r.last_error or "").splitlines()[0][:60] if r.last_error and r.status != "delivered" else ""
            )
            click.echo(
                f"{r.id:>6}  {r.destination[:16]:<16} {r.event_type:<12} {r.status:<9} {r.attempts:>5}  "
                f"{_when(moment):<19}  {error}"
            )
    finally:
        session.close()


@deliveries.command()
@click.argument("delivery_id", type=int)
def show(delivery_id: int) -> None:
    """One delivery: its payload and every attempt."""
    app = _app()
    session = _session(app)
    try:
        rows = manage.find(session, ids=[delivery_id])
        if not rows:
            raise click.ClickException(f"no delivery {delivery_id}")
        r = rows[0]
        click.echo(
            f"delivery {r.id} {r.message_id} to {r.destination}: {r.status}, {r.attempts} attempt(s), "
            f"next {_when(r.next_attempt_at)}, delivered {_when(r.delivered_at)}"
        )
        click.echo(f"steps done: {json.dumps(r.steps_done)}")
        if r.last_error:
            click.echo(f"last error: {r.last_error}")
        click.echo("payload: " + bytes(r.payload).decode("utf-8"))
        for a in manage.attempts(session, r.id):
            click.echo(
                f"  {_when(a.started_at)} {a.outcome:<10} {a.status_code or '-':>3} {a.duration_ms:>6} ms "
                f"{a.worker or ''}"
            )
            if a.error:
                click.echo("    " + a.error.replace("\n", "\n    "))
            if a.response_excerpt:
                click.echo("    response: " + a.response_excerpt[:500].replace("\n", " "))
    finally:
        session.close()


def _select(session, ids, destination, status, since, default_status):
    if not ids and not destination and not status and not since:
        raise click.UsageError("name delivery ids, or choose rows with --destination/--status/--since")
    return manage.find(
        session,
        ids=ids,
        destination=destination,
        status=status or (None if ids else default_status),
        since=_since(since),
        limit=None,
    )


@deliveries.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--destination", default=None)
@click.option(
    "--status",
    type=click.Choice(["dead", "pending"]),
    default=None,
    help="Which rows (default with no ids: dead).",
)
@click.option("--since", default=None)
def retry_(ids, destination, status, since) -> None:
    """Send dead (or waiting) rows now with a fresh retry schedule; finished steps are skipped."""
    app = _app()
    session = _session(app)
    try:
        rows = manage.retry(session, _select(session, ids, destination, status, since, "dead"))
        session.commit()
        click.echo(f"{len(rows)} deliver{'y' if len(rows) == 1 else 'ies'} queued for retry")
    finally:
        session.close()


@deliveries.command()
@click.argument("ids", nargs=-1, type=int)
@click.option("--destination", default=None)
@click.option("--status", type=click.Choice(manage.STATUSES), default=None)
@click.option("--since", default=None)
def replay(ids, destination, status, since) -> None:
    """Send delivered or dead rows again from the first step, with the same payload and message id."""
    app = _app()
    session = _session(app)
    try:
        rows = manage.replay(session, _select(session, ids, destination, status, since, None))
        session.commit()
        click.echo(f"{len(rows)} deliver{'y' if len(rows) == 1 else 'ies'} queued for replay")
    finally:
        session.close()


@deliveries.command()
@click.argument("destination")
def resume(destination: str) -> None:
    """Make a paused or disabled destination active again (after fixing its key or URL)."""
    app = _app()
    session = _session(app)
    try:
        if not manage.resume(session, destination):
            raise click.ClickException(
                f"destination {destination!r} has no state yet (nothing was ever paused)"
            )
        session.commit()
        click.echo(f"destination {destination} is active; its waiting deliveries go out now")
    finally:
        session.close()


@deliveries.command()
def check() -> None:
    """Check the destinations file and the environment variables it names. Exits 1 on a problem."""
    from quizapp.delivery.config import DestinationsError, load_destinations

    app = _app()
    path = app.config.get("DESTINATIONS_FILE")
    try:
        config = load_destinations(path)
    except DestinationsError as err:
        for line in err.problems:
            click.echo(line)
        sys.exit(1)
    if not config.destinations:
        click.echo("no destinations configured" + (f" in {path}" if path else " (no destinations file)"))
        return
    bad = 0
    warnings = _mapping_warnings(app, config)
    for dest in config.destinations.values():
        missing = [n for n in dest.secret_names() if not os.environ.get(n, "").strip()]
        where = "all quizzes" if dest.quizzes == "all" else ", ".join(dest.quizzes) or "quizzes that name it"
        if dest.require_consent:
            where += ", leads who consented"
        if missing:
            state = "MISSING " + ", ".join(missing)
        else:
            problem = _config_problem(dest)
            state = f"BAD: {problem} (the destination would be paused)" if problem else "ok"
        if not dest.enabled:
            state = "off"
        bad += state not in ("ok", "off")
        click.echo(f"{dest.name}: {dest.type}, for {where}: {state}")
        for line in warnings.get(dest.name, []):
            click.echo(f"  warning: {line}")
    sys.exit(1 if bad else 0)


def _mapping_warnings(app, config) -> dict[str, list[str]]:
    """Destination name -> mapping paths that never have a value: a field that is never sent, a rule that
    never holds. A destination's own mapping is checked against every quiz it receives leads from (a path
    one of them has is fine); the options a quiz gives a destination against that quiz."""
    from quizapp.delivery.config import MappingSchema, check_quiz_options
    from quizapp.delivery.mapping import mapping_paths, reaches

    catalog = app.extensions.get("quizapp.catalog")
    definitions = catalog.all() if catalog is not None else []
    senders: dict[str, list] = {}
    from_quizzes: dict[str, list[str]] = {}
    for definition in sorted(definitions, key=lambda d: d.slug):
        for name, options in config.for_quiz(definition.slug, tuple(definition.destinations)):
            senders.setdefault(name, []).append(definition)
            if not options or check_quiz_options(options):  # a broken mapping is `quizapp validate`'s to report
                continue
            for where, path in mapping_paths(MappingSchema().load(dict(options))):
                if not reaches(path, definition):
                    from_quizzes.setdefault(name, []).append(
                        f"{definition.slug} adds {where}: {path!r}, which {definition.slug} never has"
                    )
    out: dict[str, list[str]] = {}
    for name, dest in config.destinations.items():
        sending = senders.get(name, [])
        slugs = ", ".join(d.slug for d in sending)
        out[name] = [
            f"mapping.{where}: {path!r} has no value for any quiz that sends to it ({slugs})"
            for where, path in mapping_paths(dest.mapping)
            if sending and not any(reaches(path, definition) for definition in sending)
        ] + from_quizzes.get(name, [])
    return out


def _config_problem(dest) -> str | None:
    """What would pause the destination at its first send (a malformed secret), or None."""
    from quizapp.delivery.adapters import registry
    from quizapp.delivery.adapters.base import Cache
    from quizapp.delivery.http import ConfigProblem

    try:
        registry.get(dest.type)(dest, None, Cache()).check_config()
    except ConfigProblem as err:
        return str(err)
    return None


@deliveries.command("new-secret")
def new_secret() -> None:
    """Print a new random webhook signing secret (whsec_...) to put in an environment variable."""
    click.echo("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
