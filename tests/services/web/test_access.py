"""Access hygiene: failed logins lock a name and an address out with back-off (without checking
the password meanwhile), deactivated users and revoked or expired tokens are refused at once,
tokens expire, and the API's description is behind login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from services.access.throttle import LoginThrottle
from services.access.users import issue_token, revoke_tokens, set_active, tokens
from services.storage.models import Credential, User
from tests.services.web.conftest import PASSWORD, Console


def attempt(console: Console, username: str, password: str):  # type: ignore[no-untyped-def]
    console.client.cookies.clear()
    csrf = console.client.get("/login").cookies.get("docflow_login")
    return console.client.post("/login", data={"username": username, "password": password, "csrf": csrf,
                                               "next": "/console/queue"}, follow_redirects=False)


def test_failed_logins_lock_the_name_out_with_back_off(console: Console) -> None:
    for _ in range(5):
        assert attempt(console, "operator", "wrong password 1").status_code == 303
    assert attempt(console, "operator", "wrong password 1").status_code == 303  # the sixth earns a lock
    locked = attempt(console, "operator", PASSWORD)  # the right password, refused while locked
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 55
    assert "Too many failed attempts" in locked.text
    with Session(console.engine) as s:  # type: ignore[arg-type]
        from services.storage.models import AuditEntry

        actions = [a.action for a in s.exec(select(AuditEntry).where(AuditEntry.object_id == "operator")).all()]
    assert actions.count("login.failed") == 6 and "login.locked" in actions


def test_the_back_off_doubles_counts_addresses_and_clears_on_success() -> None:
    throttle = LoginThrottle(free=2, base=60, ceiling=600)
    keys = ["user:a", "addr:10.0.0.1"]
    assert [throttle.failed(keys, now=t) for t in (0, 1, 2, 3, 4, 5)] == [0, 0, 60, 120, 240, 480]
    assert throttle.failed(keys, now=6) == 600  # the ceiling
    assert throttle.wait(["user:b", "addr:10.0.0.1"], now=7) > 0  # another name from the same address
    throttle.succeeded("user:a")
    assert throttle.wait(["user:a"], now=7) == 0
    assert throttle.wait(["user:a", "addr:10.0.0.1"], now=7) > 0  # the address stays locked
    assert throttle.failed(["user:c"], now=5000) == 0  # outside the window the count starts again


def test_deactivation_revocation_and_expiry(console: Console) -> None:
    with Session(console.engine) as s:  # type: ignore[arg-type]
        user = s.exec(select(User).where(User.username == "labeler")).one()
        token = issue_token(s, user=user, name="ci")
        other = issue_token(s, user=user, name="laptop")
        s.commit()
    auth = {"Authorization": f"Bearer {token}"}
    assert console.client.get("/api/labeling/worklist", headers=auth).status_code == 200
    with Session(console.engine) as s:  # type: ignore[arg-type]
        user = s.exec(select(User).where(User.username == "labeler")).one()
        assert [t["name"] for t in tokens(s, user=user)] == ["ci", "laptop"]
        assert all(t["expires_at"] for t in tokens(s, user=user))
        assert revoke_tokens(s, user=user, name="ci") == 1
        s.commit()
    assert console.client.get("/api/labeling/worklist", headers=auth).status_code == 401
    # An expired token is refused.
    with Session(console.engine) as s:  # type: ignore[arg-type]
        for row in s.exec(select(Credential).where(Credential.name == "laptop")).all():
            row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
            s.add(row)
        s.commit()
    assert console.client.get("/api/labeling/worklist", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    # Deactivation ends the user's sessions at once, and no token is issued to them.
    console.login("labeler")
    assert console.client.get("/api/labeling/worklist").status_code == 200
    with Session(console.engine) as s:  # type: ignore[arg-type]
        user = s.exec(select(User).where(User.username == "labeler")).one()
        assert set_active(s, user=user, active=False) >= 1
        s.commit()
        try:
            issue_token(s, user=user, name="again")
            raise AssertionError("a token for a deactivated user")
        except ValueError:
            pass
    assert console.client.get("/api/labeling/worklist").status_code == 401
    assert attempt(console, "labeler", PASSWORD).headers["location"].startswith("/login?error=1")


def test_the_users_page_lists_revokes_and_deactivates(console: Console) -> None:
    with Session(console.engine) as s:  # type: ignore[arg-type]
        user = s.exec(select(User).where(User.username == "operator")).one()
        token = issue_token(s, user=user, name="nightly-export")
        s.commit()
    auth = {"Authorization": f"Bearer {token}"}
    assert console.client.get("/api/queue", headers=auth).status_code == 200
    csrf = console.login("admin")
    page = console.client.get("/console/users").text
    assert "nightly-export" in page and "Deactivate" in page and token not in page  # the name, never the token
    revoked = console.client.post("/console/users/operator/tokens/revoke",
                                  data={"name": "nightly-export", "csrf": csrf}, follow_redirects=False)
    assert revoked.status_code == 303 and "error" not in revoked.headers["location"]
    assert console.client.get("/api/queue", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "nightly-export" not in console.client.get("/console/users").text
    off = console.client.post("/console/users/operator/active", data={"active": "false", "csrf": csrf},
                              follow_redirects=False)
    assert off.status_code == 303
    with Session(console.engine) as s:  # type: ignore[arg-type]
        assert not s.exec(select(User).where(User.username == "operator")).one().active
        from services.storage.models import AuditEntry

        actions = {a.action for a in s.exec(select(AuditEntry).where(AuditEntry.actor == "admin")).all()}
    assert {"token.revoke", "user.deactivate"} <= actions
    assert attempt(console, "operator", PASSWORD).headers["location"].startswith("/login?error=1")
    own = console.login("admin")
    refused = console.client.post("/console/users/admin/active", data={"active": "false", "csrf": own},
                                  follow_redirects=False)
    assert "error" in refused.headers["location"]


def test_api_docs_need_a_login(console: Console) -> None:
    console.client.cookies.clear()
    assert console.client.get("/openapi.json").status_code == 401
    assert console.client.get("/docs", follow_redirects=False).status_code in (303, 401)
    console.login("viewer")
    assert console.client.get("/openapi.json").json()["info"]["title"] == "docflow"
    assert console.client.get("/docs").status_code == 200
