"""``docflow users``: create users, deactivate and reactivate them, issue, list and revoke their
API tokens. Every change is audited (actor ``cli``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlmodel import Session, select

from services.settings import get_settings

ROLES = ["viewer", "operator", "labeler", "approver", "admin"]


@click.group()
def users() -> None:
    """Console and API users."""


@contextmanager
def _db() -> Iterator[Session]:
    from services.storage.db import make_engine, session_scope, upgrade

    settings = get_settings()
    upgrade(settings.db_url)
    with session_scope(make_engine(settings.db_url)) as s:
        yield s


def _user(s: Session, username: str):  # type: ignore[no-untyped-def]
    from services.storage.models import User

    user = s.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return user


@users.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="Repeat for several roles.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
def users_create(username: str, roles: tuple[str, ...], password_stdin: bool) -> None:
    """Create a user (the first admin, for instance); asks for the password."""
    from services.access.users import create_user
    from services.storage import audit

    password = sys.stdin.readline().rstrip("\n") if password_stdin else \
        click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with _db() as s:
            user = create_user(s, username=username, password=password, roles=list(roles))
            audit.record(s, actor="cli", action="user.create", object_type="user", object_id=user.username,
                         after={"roles": user.roles})
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {username} ({', '.join(sorted(set(roles)))})")


@users.command("token")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for.")
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True, help="Until it expires.")
def users_token(username: str, name: str, days: int) -> None:
    """Issue an API token (Authorization: Bearer ...) for an active user; printed once."""
    from services.access.users import issue_token
    from services.storage import audit

    with _db() as s:
        user = _user(s, username)
        if not user.active:
            raise click.ClickException(f"{username} is deactivated: no token is issued")
        token = issue_token(s, user=user, name=name, days=days)
        audit.record(s, actor="cli", action="token.create", object_type="user", object_id=username,
                     after={"name": name, "days": days})
    click.echo(token)


@users.command("tokens")
@click.argument("username")
def users_tokens(username: str) -> None:
    """A user's API tokens: name, issued, expires (never the token itself: only its hash is kept)."""
    from services.access.users import tokens

    with _db() as s:
        for t in tokens(s, user=_user(s, username)):
            expires = (t["expires_at"] or "never")[:16]
            click.echo(f"{t['name'] or '-':30} issued {t['created_at'][:16]}  expires {expires}")


@users.command("revoke")
@click.argument("username")
@click.option("--name", help="The token of this name (default: every token of the user).")
def users_revoke(username: str, name: str | None) -> None:
    """Revoke a user's API tokens, at once, on every server."""
    from services.access.users import revoke_tokens
    from services.storage import audit

    with _db() as s:
        count = revoke_tokens(s, user=_user(s, username), name=name)
        audit.record(s, actor="cli", action="token.revoke", object_type="user", object_id=username,
                     after={"name": name, "revoked": count})
    click.echo(f"revoked {count} token{'s' if count != 1 else ''} of {username}")


@users.command("deactivate")
@click.argument("username")
def users_deactivate(username: str) -> None:
    """No more logins for the user; their sessions and tokens end now."""
    _set_active(username, False)


@users.command("activate")
@click.argument("username")
def users_activate(username: str) -> None:
    """Let a deactivated user log in again (their old tokens stay revoked)."""
    _set_active(username, True)


def _set_active(username: str, active: bool) -> None:
    from services.access.users import set_active
    from services.storage import audit

    with _db() as s:
        ended = set_active(s, user=_user(s, username), active=active)
        audit.record(s, actor="cli", action="user.activate" if active else "user.deactivate", object_type="user",
                     object_id=username, after={"active": active, "credentials_ended": ended})
    click.echo(f"{username} {'activated' if active else 'deactivated'}" + (f"; {ended} sessions and tokens ended"
                                                                          if ended else ""))
