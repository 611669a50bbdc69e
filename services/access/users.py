"""Users, login sessions and API tokens in the database. Only SHA-256 digests of session and
API tokens are stored, so a copy of the database does not let anyone log in."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, delete, select

from services.access.passwords import check_strength, hash_password, verify_password
from services.access.roles import Permission, Role, permissions
from services.storage.models import Credential, User

SESSION_HOURS = 12
# Verified when the user does not exist, so a login takes as long either way.
_DUMMY_HASH = hash_password("no such user, no such password")


@dataclass(frozen=True)
class Principal:
    """The user behind a request."""

    user_id: int
    username: str
    roles: tuple[str, ...]
    csrf: str | None  # set for cookie sessions; API tokens need none

    @property
    def grants(self) -> frozenset[Permission]:
        return permissions(list(self.roles))

    def can(self, permission: Permission) -> bool:
        return permission in self.grants


class UserError(ValueError):
    pass


def create_user(session: Session, *, username: str, password: str, roles: list[str]) -> User:
    username = username.strip()
    if not username or len(username) > 100 or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise UserError("a user name is 1-100 letters, digits, '.', '-' or '_'")
    unknown = [r for r in roles if r not in Role.__members__.values()]
    if unknown or not roles:
        raise UserError(f"roles must be among {', '.join(Role)}; got {', '.join(unknown) or 'none'}")
    if session.exec(select(User).where(User.username == username)).first():
        raise UserError(f"user {username!r} exists")
    check_strength(password, username)
    user = User(username=username, password_hash=hash_password(password), roles=sorted(set(roles)))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    user = session.exec(select(User).where(User.username == username.strip())).first()
    if user is None or not user.active:
        verify_password(password, _DUMMY_HASH)
        return None
    return user if verify_password(password, user.password_hash) else None


def start_session(session: Session, *, user: User) -> tuple[str, str]:
    """A new login session: (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    assert user.id is not None, "a stored user"
    session.add(Credential(token_hash=_digest(token), kind="session", user_id=user.id, csrf=csrf,
                           expires_at=datetime.now(UTC) + timedelta(hours=SESSION_HOURS)))
    return token, csrf


TOKEN_DAYS = 90


def issue_token(session: Session, *, user: User, name: str, days: int = TOKEN_DAYS) -> str:
    """An API token (Authorization: Bearer ...) for an active user, shown once, expiring in ``days``."""
    if not user.active:
        raise UserError(f"{user.username} is deactivated")
    token = "dft_" + secrets.token_urlsafe(32)
    assert user.id is not None, "a stored user"
    session.add(Credential(token_hash=_digest(token), kind="token", user_id=user.id, name=name[:100],
                           expires_at=datetime.now(UTC) + timedelta(days=days)))
    return token


def tokens(session: Session, *, user: User) -> list[dict]:
    rows = session.exec(select(Credential).where(Credential.user_id == user.id, Credential.kind == "token")
                        .order_by(col(Credential.created_at))).all()
    return [{"name": r.name, "created_at": _aware(r.created_at).isoformat(),
             "expires_at": _aware(r.expires_at).isoformat() if r.expires_at else None} for r in rows]


def revoke_tokens(session: Session, *, user: User, name: str | None = None) -> int:
    """Delete the user's API tokens (those of ``name``, or all); how many."""
    query = select(Credential).where(Credential.user_id == user.id, Credential.kind == "token")
    if name is not None:
        query = query.where(Credential.name == name)
    rows = session.exec(query).all()
    for row in rows:
        session.delete(row)
    return len(rows)


def set_active(session: Session, *, user: User, active: bool) -> int:
    """(De)activate a user; deactivating ends their sessions and tokens. How many it ended."""
    user.active = active
    session.add(user)
    if active:
        return 0
    rows = session.exec(select(Credential).where(Credential.user_id == user.id)).all()
    for row in rows:
        session.delete(row)
    return len(rows)


def resolve(session: Session, *, token: str, kind: str) -> Principal | None:
    credential = session.get(Credential, _digest(token))
    if credential is None or credential.kind != kind:
        return None
    if credential.expires_at is not None and _aware(credential.expires_at) < datetime.now(UTC):
        return None
    user = session.get(User, credential.user_id)
    if user is None or not user.active:
        return None
    return Principal(user.id or 0, user.username, tuple(user.roles), credential.csrf)


def end_session(session: Session, *, token: str) -> None:
    session.exec(delete(Credential).where(col(Credential.token_hash) == _digest(token)))  # type: ignore[call-overload]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
