"""`skureel studio`: serve the web app; `studio adduser` and `studio token` manage its users and API tokens."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, help="The studio web app for marketing teams.")
DataOption = Annotated[Path, typer.Option("--data", help="data folder: database, uploads, runs, published clips")]
ROLES = ("admin", "editor", "reviewer", "viewer")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.callback(invoke_without_command=True)
def serve(ctx: typer.Context,
          host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="port")] = 8600,
          data: DataOption = Path("studio-data"),
          database_url: Annotated[str | None, typer.Option(envvar="SKUREEL_STUDIO_DATABASE_URL",
                                                           help="SQLAlchemy URL (default: SQLite under --data)")] = None,
          brand_kits: Annotated[Path | None, typer.Option(help="folder of brand kits (default: the bundled ones)")] = None,
          max_upload_mb: Annotated[float, typer.Option(help="upload size limit")] = 50.0) -> None:
    """Serve the studio (sign in, upload, validate, estimate, run, review, deliver) and its JSON API."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from skureel.web.app import create_app
    from skureel.web.config import StudioConfig

    values: dict[str, object] = {"data_dir": data, "database_url": database_url,
                                 "max_upload_bytes": int(max_upload_mb * 1024 * 1024)}
    if brand_kits is not None:
        if not brand_kits.is_dir():
            _fail(f"{brand_kits}: brand kit folder not found")
        values["brand_kits_dir"] = brand_kits
    config = StudioConfig.model_validate(values)
    application = create_app(config)
    store = application.state.store
    if not store.count_batches() and not _has_users(store):
        typer.echo(f"no users yet: create one with  skureel studio adduser EMAIL --workspace NAME --role admin "
                   f"--data {data}")
    typer.echo(f"skureel studio on http://{host}:{port}  (data: {data.resolve()})")
    uvicorn.run(application, host=host, port=port, log_level="warning")


def _has_users(store: object) -> bool:
    from sqlalchemy import func, select

    from skureel.web.store import Store, users

    assert isinstance(store, Store)
    with store.engine.connect() as c:
        return bool(c.execute(select(func.count()).select_from(users)).scalar())


def _store(data: Path, database_url: str | None) -> object:
    from skureel.web.config import StudioConfig
    from skureel.web.store import Store

    config = StudioConfig(data_dir=data, database_url=database_url)
    data.mkdir(parents=True, exist_ok=True)
    return Store(config.db_url)


@app.command()
def adduser(email: Annotated[str, typer.Argument(help="the user's email (their sign-in name)")],
            workspace: Annotated[str, typer.Option(help="workspace (brand) name; created when new")],
            role: Annotated[str, typer.Option(help="admin | editor | reviewer | viewer")] = "editor",
            data: DataOption = Path("studio-data"),
            database_url: Annotated[str | None, typer.Option(envvar="SKUREEL_STUDIO_DATABASE_URL")] = None) -> None:
    """Create or update a user in a workspace; the password is read from standard input (never an argument)."""
    from skureel.web.security import hash_password
    from skureel.web.store import Store

    if role not in ROLES:
        _fail(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    if "@" not in email or len(email) > 320:
        _fail(f"{email!r} is not an email address")
    if not workspace.strip() or len(workspace) > 120:
        _fail("give a workspace name of 1-120 characters")
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("password: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        _fail("the password must have at least 8 characters")
    store = _store(data, database_url)
    assert isinstance(store, Store)
    space = store.workspace(workspace.strip(), create=True)
    assert space is not None
    store.upsert_user(email, hash_password(password), int(space["id"]), role)
    typer.echo(f"{email.strip().casefold()} is {role} in workspace {workspace.strip()!r}")


@app.command()
def token(workspace: Annotated[str, typer.Argument(help="workspace name")],
          data: DataOption = Path("studio-data"),
          database_url: Annotated[str | None, typer.Option(envvar="SKUREEL_STUDIO_DATABASE_URL")] = None) -> None:
    """Print a new API token for a workspace, once (only its hash is stored)."""
    from skureel.web.store import Store

    store = _store(data, database_url)
    assert isinstance(store, Store)
    space = store.workspace(workspace)
    if space is None:
        _fail(f"no workspace {workspace!r}; create it with  skureel studio adduser EMAIL --workspace {workspace}")
        return
    print(store.new_token(int(space["id"])))
