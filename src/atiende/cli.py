"""The ``atiende`` command: serve, demo, migrate, create-admin, worker, reports rebuild.

Errors end with a non-zero exit and one line on stderr, never a traceback.
"""

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from atiende.settings import Settings, get_settings, secret_key_problem

app = typer.Typer(help="Atiende: omnichannel contact center.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _migrate(settings: Settings) -> None:
    from atiende import migrate

    try:
        migrate.upgrade(settings.database_url)
    except Exception as exc:  # a bad URL or an unreachable server: say which, in one line
        fail(f"cannot migrate {settings.database_url}: {type(exc).__name__}: {str(exc).splitlines()[0]}")


def _serve(settings: Settings, *, demo: bool = False) -> None:
    import uvicorn

    from atiende.app import create_app
    from atiende.kit.collector import settle_long_lived

    from atiende.kit import log_redaction

    application = create_app(settings, demo=demo)
    settle_long_lived()
    config = uvicorn.Config(application, host=settings.host, port=settings.port, log_level="info", proxy_headers=True)
    log_redaction.install()  # after uvicorn configured its loggers: no token of a URL is written
    uvicorn.Server(config).run()


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
          port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
          migrate: Annotated[bool, typer.Option(help="Apply migrations before starting")] = True) -> None:
    """Run the app (API, webhooks, console, workspace, jobs worker) on ATIENDE_DATABASE_URL."""
    settings = get_settings().model_copy(update={k: v for k, v in {"host": host, "port": port}.items() if v})
    problem = secret_key_problem(settings.secret_key)
    if problem:
        fail(problem)
    if migrate:
        _migrate(settings)
    _serve(settings)


@app.command()
def demo(host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
         port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
         database: Annotated[Path, typer.Option(help="SQLite file for the demo")] = Path("atiende-demo.db")) -> None:
    """Run the whole product on an embedded SQLite database with demo data."""
    from atiende.db import Database
    from atiende.demo import DEMO_CLIENT, seed_demo

    url = os.environ.get("ATIENDE_DATABASE_URL") or f"sqlite+aiosqlite:///{database.resolve()}"
    settings = get_settings().model_copy(update={"database_url": url, "host": host, "port": port})
    if "ATIENDE_WHATSAPP_GRAPH_URL" not in os.environ:  # the demo's WhatsApp talks to its own stand-in for Meta
        settings = settings.model_copy(update={"whatsapp_graph_url": f"http://{host}:{port}/demo/graph"})
    if secret_key_problem(settings.secret_key):
        settings = settings.model_copy(update={"secret_key": _demo_secret(database.resolve())})
    _migrate(settings)

    async def seed() -> object:
        db = Database(settings.database_url)
        try:
            return await seed_demo(db, base_url=f"http://{host}:{port}")
        finally:
            await db.dispose()

    data = asyncio.run(seed())
    base = f"http://{host}:{port}"
    lines = [
        "",
        f"Atiende demo — {DEMO_CLIENT} ({'new data' if data.created else 'existing data'}: {url})",  # type: ignore[attr-defined]
        f"  Open:        {base}/",
        f"  Demo site:   {base}/demo/site   (a customer page with the web chat widget)",
        f"  API docs:    {base}/api/docs",
        f"  Envíos:      {base}/console/sends   (WhatsApp payment reminders against a stand-in for Meta)",
        "  Logins (email / password):",
        *[f"    {role.value:<11} {email} / {password}" for email, password, role in data.logins],  # type: ignore[attr-defined]
        "",
    ]
    typer.echo("\n".join(lines))
    _serve(settings, demo=True)


def _demo_secret(database: Path) -> str:
    """The demo's own secret, generated on first start and kept beside its database (mode 0600)."""
    import secrets

    path = database.with_name(database.name + ".secret")
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if secret_key_problem(existing) is None:
        return existing
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    return secret


@app.command(name="migrate")
def migrate_command() -> None:
    """Apply database migrations to ATIENDE_DATABASE_URL."""
    settings = get_settings()
    _migrate(settings)
    typer.echo(f"database is up to date: {settings.database_url}")


@app.command(name="create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="Login email of the admin")],
    client: Annotated[str | None, typer.Option(help="Client (tenant) name; created if it does not exist")] = None,
    name: Annotated[str, typer.Option(help="Full name")] = "",
    superuser: Annotated[bool, typer.Option(help="Also a platform superuser (may create clients)")] = False,
    seats: Annotated[int, typer.Option(help="License seats for a new client")] = 10,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input")] = False,
) -> None:
    """Create an admin of a client (and the client if new), or a platform superuser."""
    from atiende.auth.bootstrap import BootstrapError, create_admin as bootstrap

    if client is None and not superuser:
        fail("give --client NAME, or --superuser for a platform superuser")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = get_settings()
    _migrate(settings)
    try:
        result = asyncio.run(bootstrap(settings.database_url, email=email, password=password, client_name=client,
                                       full_name=name, superuser=superuser, seats=seats))
    except BootstrapError as exc:
        fail(str(exc))
    typer.echo(result)


@app.command()
def worker() -> None:
    """Run only the scheduled-jobs worker (for deployments that separate it from the web processes)."""
    from atiende.jobs_runner import run_worker_forever

    asyncio.run(run_worker_forever(get_settings()))


@app.command()
def webhooks(
        nice: Annotated[int, typer.Option(min=0, max=19, help="Lower this process's CPU priority by this much "
                                          "(0: as others): deliveries wait, routing does not")] = 10,
        poll: Annotated[float, typer.Option(min=0.05, max=60, help="Seconds between looks for due deliveries")] = 0.5,
) -> None:
    """Run only the outgoing-webhook dispatcher (set ATIENDE_WEBHOOKS_DISPATCH=false in the other processes)."""
    import os

    from atiende.jobs_runner import run_webhooks_forever

    if nice:
        os.nice(nice)
    asyncio.run(run_webhooks_forever(get_settings(), poll_seconds=poll))


reports_app = typer.Typer(help="Report rollups.", no_args_is_help=True)
app.add_typer(reports_app, name="reports")


@reports_app.command(name="rebuild")
def reports_rebuild(
        client_id: Annotated[int | None, typer.Option(help="Only this client's conversations")] = None,
        batch: Annotated[int, typer.Option(min=1, max=20_000, help="Conversations per transaction")] = 2000) -> None:
    """Recompute the report facts of every conversation (the backfill after migrating; safe while
    the app runs: the worker refreshes the same way)."""
    import atiende.models  # noqa: F401
    from atiende.db import Database
    from atiende.reports.rollups import rebuild

    settings = get_settings()

    async def run() -> int:
        database = Database(settings.database_url)
        try:
            return await rebuild(database, client_id=client_id, batch=batch,
                                 progress=lambda n: typer.echo(f"{n:,} conversations", err=True))
        finally:
            await database.dispose()

    try:
        total = asyncio.run(run())
    except Exception as exc:  # an unmigrated or unreachable database: one line, not a traceback
        fail(f"cannot rebuild the report facts: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    typer.echo(f"report facts rebuilt for {total:,} conversations")


if __name__ == "__main__":
    app()
