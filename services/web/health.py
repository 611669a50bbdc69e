"""``/health``, part by part: the database and the broker looked at from here, and what the
supervisor of ``docflow up`` last wrote about its processes (``HOME/health.json``).

Healthy only when every part is up. A supervisor's report older than ``STALE_S`` counts as the
supervisor being down; a server run without ``docflow up`` (containers) has no such report, and
reports the database and the broker alone.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

STALE_S = 10.0


def database(engine: Engine) -> dict[str, Any]:
    try:
        with Session(engine) as s:
            s.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception as exc:
        return {"up": False, "error": type(exc).__name__}
    return {"up": True}


def broker(bootstrap: str, timeout: float = 0.5) -> dict[str, Any]:
    """Up when any of the bootstrap servers accepts a connection."""
    for server in (s.strip() for s in bootstrap.split(",") if s.strip()):
        host, _, port = server.rpartition("://")[2].rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
                return {"up": True, "address": server}
        except (OSError, ValueError):
            continue
    return {"up": False, "address": bootstrap}


def supervised(home: Path, now: float | None = None) -> dict[str, dict[str, Any]]:
    path = home / "health.json"
    try:
        body = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    age = (now or time.time()) - float(body.get("at", 0))
    if age > STALE_S:
        return {"supervisor": {"up": False, "error": f"no report for {age:.0f} s"}}
    return {"supervisor": {"up": True, "pid": body.get("supervisor_pid")}} | dict(body.get("parts", {}))


def report(engine: Engine, bootstrap: str, home: Path) -> tuple[bool, dict[str, Any]]:
    """(healthy, the body): every part with ``up``, and ``status`` ok or unhealthy naming the parts down."""
    announced = home / "broker.addr"
    if not bootstrap and announced.exists():
        bootstrap = announced.read_text().strip()
    parts = supervised(home)
    parts["database"] = database(engine)
    if bootstrap:
        parts["broker"] = parts.get("broker", {}) | broker(bootstrap)
    down = sorted(name for name, part in parts.items() if not part.get("up"))
    body = {"status": "unhealthy" if down else "ok", "down": down, "parts": parts,
            # the keys of the earlier /health, kept for monitors that read them
            "database": "ok" if parts["database"]["up"] else "unavailable", "broker": bootstrap or "none"}
    return not down, body
