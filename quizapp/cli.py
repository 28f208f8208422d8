"""The `quizapp` command: serve, validate, db, leads export, and the delivery commands."""

from __future__ import annotations

import csv
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from quizapp import create_app


def _app(**overrides):
    return create_app(overrides or None)


@contextmanager
def _app_context(**overrides):
    """An app for one command; its database connections are closed when the command ends."""
    app = _app(**overrides)
    try:
        with app.app_context():
            yield app
    finally:
        app.extensions["quizapp.engine"].dispose()


@click.group(help="quizapp: quiz and calculator lead magnets that segment and deliver leads.")
def cli() -> None:
    pass


@cli.command()
@click.option("--host", default=lambda: os.environ.get("QUIZAPP_HOST", "127.0.0.1"), show_default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("QUIZAPP_PORT", "8000")), type=int,
              show_default="8000")
@click.option("--workers", default=2, type=int, show_default=True, help="Web processes.")
@click.option("--threads", default=4, type=int, show_default=True, help="Threads per web process.")
@click.option("--deliver/--no-deliver", default=True, show_default=True,
              help="Run the delivery worker inside the web processes (the embedded default). "
                   "Turn it off when `quizapp worker` runs separately.")
def serve(host: str, port: int, workers: int, threads: int, deliver: bool) -> None:
    """Apply migrations, then serve with gunicorn."""
    from gunicorn.app.base import BaseApplication

    _port_free(host, port)
    app = _app(INPROCESS_WORKER=deliver)
    _upgrade(app)
    broken = [item.file for item in app.extensions["quizapp.catalog"].results() if item.errors]
    if broken:
        click.echo(f"not served, with errors: {', '.join(broken)}; `quizapp validate` says what to fix.", err=True)

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", os.environ.get("QUIZAPP_ACCESS_LOG") or None)
            self.cfg.set("post_worker_init", _post_worker_init)
            if "control_socket_disable" in self.cfg.settings:
                # One shared control socket path would make a second server on this machine fail.
                self.cfg.set("control_socket_disable", True)

        def load(self):
            return _app(INPROCESS_WORKER=deliver)

    click.echo(f"quizapp serving on http://{host}:{port}/ ({workers} workers x {threads} threads, "
               f"database {app.config['DATABASE_URL'].split('@')[-1]}, deliveries "
               f"{'in-process' if deliver else 'by `quizapp worker`'})")
    Server().run()


def _port_free(host: str, port: int) -> None:
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as err:
            raise click.ClickException(f"cannot listen on {host}:{port} ({err.strerror}); another program may "
                                       "be using it: pick another port with --port or QUIZAPP_PORT") from None


def _post_worker_init(worker) -> None:
    app = worker.wsgi
    if app.config.get("INPROCESS_WORKER"):
        from quizapp.delivery import worker as delivery_worker

        starter = getattr(delivery_worker, "start_inprocess_worker", None)
        if starter is not None:
            starter(app)


def _upgrade(app) -> None:
    from quizapp.store import migrate

    migrate.upgrade(app.extensions["quizapp.engine"])


def _as_error(line: str) -> str:
    """'file: $.path: message' -> 'file: $.path: error: message', the form validate prints."""
    import re

    found = re.match(r"^(.*?: \$\S*): (.*)$", line, re.S)
    return f"{found.group(1)}: error: {found.group(2)}" if found else line


def _shown(path: Path) -> str:
    """A path as the creator would type it: relative to the current folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(paths: tuple[Path, ...], strict: bool) -> None:
    """Check definition files (default: the quizzes folder). Exits 1 on any error."""
    from quizapp import configured
    from quizapp.definitions import Problem, load_file
    from quizapp.delivery.config import DestinationsError, check_definition, load_destinations

    config = configured().config
    if not paths:
        paths = (Path(config["QUIZZES_DIR"]),)
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(f for f in sorted(p.glob("*.json")) if not f.name.endswith(".schema.json"))
        else:
            files.append(p)
    errors = warnings = 0
    destinations = None
    try:
        destinations = load_destinations(config.get("DESTINATIONS_FILE"))
    except DestinationsError as err:
        for line in err.problems:
            click.echo(_as_error(line))
        errors += len(err.problems)
    slugs: dict[str, str] = {}
    for f in files:
        shown = _shown(f)
        item = load_file(f, display=shown)
        if item.definition is not None and destinations is not None:
            for path, message, severity in check_definition(item.definition, destinations):
                item.problems.append(Problem(shown, path, message, severity))
        for problem in item.problems:
            click.echo(str(problem))
        if item.definition is not None:
            if item.definition.slug in slugs:
                click.echo(f"{shown}: $.slug: error: slug {item.definition.slug!r} is already used by "
                           f"{slugs[item.definition.slug]}")
                errors += 1
            slugs[item.definition.slug] = shown
        errors += len(item.errors)
        warnings += len(item.warnings)
        if not item.problems:
            examples = len(getattr(item.definition, "examples", ()))  # calculators' creator test cases
            passed = f", {examples} example(s) pass" if examples else ""
            click.echo(f"{shown}: ok ({item.definition.kind} {item.definition.slug!r}{passed})")
    click.echo(f"{len(files)} file(s), {errors} error(s), {warnings} warning(s)")
    if errors or (strict and warnings):
        sys.exit(1)


@cli.command()
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="File to write, or '-' for standard output (default: quiz.schema.json in the quizzes "
                   "folder).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the file differs from the schema.")
def schema(output: Path | None, check: bool) -> None:
    """Write the JSON Schema of definition files, which editors use to autocomplete and check them."""
    from quizapp.config import Defaults
    from quizapp.definitions.jsonschema import FILE_NAME, render_schema

    text = render_schema()
    if output is not None and str(output) == "-":
        click.echo(text, nl=False)
        return
    target = output or Path(os.environ.get("QUIZAPP_QUIZZES_DIR", Defaults.QUIZZES_DIR)) / FILE_NAME
    if check:
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != text:
            click.echo(f"{target} is out of date; run `quizapp schema`")
            sys.exit(1)
        click.echo(f"{target} is up to date")
        return
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}")


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (`serve` does this on start)."""
    with _app_context() as app:
        _upgrade(app)
    click.echo("database is up to date")


@cli.group()
def leads() -> None:
    """Stored leads."""


@leads.command("export")
@click.option("--quiz", "slug", help="Only submissions of this quiz or calculator.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.File("w"), default="-")
def leads_export(slug: str | None, fmt: str, output) -> None:
    """Write every submission with its lead, tags, outcome, score and source."""
    from quizapp.services.exports import CSV_FIELDS, csv_row, submission_rows
    from quizapp.store import get_session

    with _app_context() as app:
        if slug and app.extensions["quizapp.catalog"].get(slug) is None:
            raise click.BadParameter(f"no quiz or calculator {slug!r} is being served", param_hint="--quiz")
        rows = submission_rows(get_session(), slug)
    if fmt == "json":
        # A JSON array, one submission per line; numbers exact (quizapp.jsontext), never through a float.
        from quizapp.jsontext import encode

        output.write("[\n" + ",\n".join(encode(row) for row in rows) + ("\n]\n" if rows else "]\n"))
        return
    writer = csv.DictWriter(output, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow(csv_row(row))


@cli.command()
@click.argument("slug", required=False)
@click.option("--days", type=click.IntRange(1, 36500), default=None, help="Only the last N days.")
def stats(slug: str | None, days: int | None) -> None:
    """The funnel of each quiz and calculator: views, starts, drop-off per step, opt-ins, clicks."""
    from datetime import UTC, datetime, timedelta

    from quizapp.services.economics import economics
    from quizapp.services.stats import funnel
    from quizapp.store import get_session

    since = datetime.now(UTC) - timedelta(days=days) if days else None
    with _app_context() as app:
        catalog = app.extensions["quizapp.catalog"]
        if slug and catalog.get(slug) is None:
            raise click.BadParameter(f"no quiz or calculator {slug!r} is being served", param_hint="SLUG")
        slugs = [slug] if slug else [d.slug for d in catalog.all()]
        for name in slugs:
            f = funnel(get_session(), name, since, catalog.get(name))
            click.echo(f"{name}")
            for stage, count, rate in f.rows():
                share = f"{rate}%" if rate is not None else ""
                click.echo(f"  {stage:<72}{count:>8}  {share:>7}")
            e = economics(get_session(), name)
            if e.spend or e.customers:
                def money(v):
                    return "-" if v is None else str(v)

                click.echo(f"  spend {e.spend}, cost per lead {money(e.cost_per_lead)}, customers {e.customers} "
                           f"({money(e.lead_to_customer_percent)}% of leads), cost per customer "
                           f"{money(e.cost_per_customer)}, revenue {e.revenue} ({money(e.revenue_per_lead)} per lead)")


@cli.group()
def spend() -> None:
    """Money spent to bring visitors to a quiz (for cost per lead and per customer)."""


@spend.command("add")
@click.argument("slug")
@click.argument("amount")
@click.option("--on", "spent_on", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date (default: today).")
@click.option("--note", default="")
def spend_add(slug: str, amount: str, spent_on, note: str) -> None:
    """Record AMOUNT spent on the quiz SLUG."""
    from decimal import Decimal, InvalidOperation

    from quizapp.services.economics import record_spend
    from quizapp.store import get_session

    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise click.BadParameter(f"{amount!r} is not an amount such as 250 or 99.90", param_hint="AMOUNT") from None
    with _app_context() as app:
        if app.extensions["quizapp.catalog"].get(slug) is None:
            raise click.BadParameter(f"no quiz or calculator {slug!r}", param_hint="SLUG")
        try:
            row = record_spend(get_session(), slug, value, spent_on.date() if spent_on else None, note)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="AMOUNT") from None
        get_session().commit()
        click.echo(f"recorded {row.amount} on {row.spent_on} for {slug}")


@cli.command()
@click.argument("email")
@click.option("--revenue", required=True, help="What they paid, e.g. 97.00.")
def customer(email: str, revenue: str) -> None:
    """Record a sale to the lead with EMAIL (they become a customer; revenue adds up)."""
    from decimal import Decimal, InvalidOperation

    from quizapp.services.economics import UnknownLead, mark_customer
    from quizapp.services.leads import InvalidEmail
    from quizapp.store import get_session

    try:
        value = Decimal(revenue)
    except InvalidOperation:
        raise click.BadParameter(f"{revenue!r} is not an amount", param_hint="--revenue") from None
    with _app_context():
        try:
            lead = mark_customer(get_session(), email, value)
        except (InvalidEmail, UnknownLead, ValueError) as err:
            raise click.ClickException(str(err)) from None
        get_session().commit()
        click.echo(f"{lead.email}: customer since {lead.customer_at:%Y-%m-%d}, revenue {lead.revenue}")


from quizapp.delivery.commands import deliveries, worker  # noqa: E402 - registered once the group exists

cli.add_command(worker)
cli.add_command(deliveries)


def main() -> None:
    cli(prog_name="quizapp")


if __name__ == "__main__":
    main()
