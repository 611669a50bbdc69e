"""``docflow up``: the embedded set-up in one command, stopped cleanly by Ctrl-C or SIGTERM.

Starts the broker (unless ``DOCFLOW_BROKER`` names one), migrates the database, creates the
topics, re-drives every unfinished document (a fresh embedded broker is empty, so nothing is in
flight), then runs the worker processes, the HTTP server, the trainer, the monitor and the
reconciler, and watches them all:

- a child that dies is restarted with a back-off (1 s, doubling to 60 s while it keeps dying
  within a minute of its start; a worker that loses its database stops on purpose, uncommitted);
- an embedded broker that dies is restarted on the same port; as it comes back empty (memory
  only), the processes that talk to it are restarted with it, the topics created again and every
  unfinished document re-driven from its stored bytes (services/reconcile);
- what is up and what is not is written to ``HOME/health.json`` every second, which ``/health``
  reports part by part.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.broker import EmbeddedBroker, create_topics, wait_for_port
from services.log_setup import configure, get_logger
from services.settings import Settings
from services.storage.db import upgrade

HEALTH_FILE = "health.json"
BACKOFF_MAX_S = 60.0
STABLE_S = 60.0  # a child up this long is healthy again: its next death restarts it at once


def _spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A child process whose output goes to its log file under the home and to this terminal."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    threading.Thread(target=_tee, args=(proc, log_path), daemon=True).start()
    return proc


def _tee(proc: subprocess.Popen[bytes], log_path: Path) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            log.flush()
            sys.stderr.buffer.write(line)
            sys.stderr.buffer.flush()


@dataclass
class Child:
    """One supervised process: how to start it, and its record of deaths."""

    name: str
    args: list[str]
    uses_broker: bool = True
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    restarts: int = 0
    failures: int = 0  # deaths in a row, each within STABLE_S of its start
    restart_at: float | None = None

    def start(self, env: dict[str, str], logs: Path) -> None:
        self.proc, self.started, self.restart_at = _spawn(self.args, env, logs / f"{self.name}.log"), time.time(), None

    @property
    def up(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def died(self, now: float) -> float:
        """Note a death; the time to start it again."""
        self.failures = self.failures + 1 if now - self.started < STABLE_S else 1
        self.restart_at = now + min(BACKOFF_MAX_S, 2.0 ** (self.failures - 1))
        return self.restart_at

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def health(self) -> dict:
        return {"up": self.up, "pid": self.proc.pid if self.up and self.proc else None, "restarts": self.restarts,
                "since": round(self.started, 3) if self.up else None}


@dataclass
class Supervisor:
    settings: Settings
    home: Path
    env: dict[str, str]
    children: dict[str, Child]
    broker: EmbeddedBroker | None = None
    broker_restarts: int = 0
    broker_since: float = 0.0
    log: Any = field(default_factory=lambda: get_logger(stage="up"))

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    def broker_up(self) -> bool:
        return self.broker is None or (self.broker.proc is not None and self.broker.proc.poll() is None)

    def start_broker(self, bootstrap: str) -> None:
        """Topics, then every unfinished document re-driven: an empty broker holds none of them."""
        from services.reconcile.service import recover

        create_topics(bootstrap, self.settings.partitions)
        if self.broker is not None:
            recover(self.settings, bootstrap, actor="supervisor")
        self.broker_since = time.time()

    def restart_broker(self) -> None:
        assert self.broker is not None
        log = self.log
        log.error("broker died; restarting it and the processes that use it",
                  code=self.broker.proc.poll() if self.broker.proc else None)
        self.write_health()
        users = [c for c in self.children.values() if c.uses_broker]
        for child in users:
            child.stop(timeout=10)
        self.write_health()
        delay = 1.0
        while True:
            try:
                self.broker.start()
                self.start_broker(self.broker.address)
                break
            except Exception as exc:  # the port still held, topics refused: try again, slower
                log.warning("broker restart failed; retrying", error=type(exc).__name__, delay_s=delay)
                self.broker.stop()
                time.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX_S)
        self.broker_restarts += 1
        for child in users:
            child.restarts += 1
            child.start(self.env, self.logs)
        log.info("broker back", broker=self.broker.address, restarts=self.broker_restarts)

    def watch(self) -> None:
        """One look at every part."""
        if not self.broker_up():
            self.restart_broker()
        now = time.time()
        for child in self.children.values():
            if child.up:
                continue
            if child.restart_at is None:
                code = child.proc.poll() if child.proc else None
                when = child.died(now)
                self.log.warning("process exited; restarting", process=child.name, code=code,
                                 in_s=round(when - now, 1))
            elif now >= child.restart_at:
                child.restarts += 1
                child.start(self.env, self.logs)
        self.write_health()

    def write_health(self) -> None:
        parts = {name: child.health() for name, child in self.children.items()}
        if self.broker is not None:
            parts["broker"] = {"up": self.broker_up(), "pid": self.broker.proc.pid if self.broker.proc else None,
                               "restarts": self.broker_restarts, "since": round(self.broker_since, 3)}
        body = {"at": time.time(), "supervisor_pid": os.getpid(), "parts": parts}
        tmp = self.home / f".{HEALTH_FILE}.tmp"
        tmp.write_text(json.dumps(body))
        os.replace(tmp, self.home / HEALTH_FILE)


def run_up(settings: Settings, *, port: int, host: str, workers: int) -> int:
    configure(settings.log_level, settings.log_format)
    log = get_logger(stage="up")
    home = settings.home.resolve()
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    children = {f"worker-{i}": Child(f"worker-{i}", ["worker"]) for i in range(workers)} | {
        "web": Child("web", ["web", "--port", str(port), "--host", host], uses_broker=False),
        "trainer": Child("trainer", ["trainer"]), "monitor": Child("monitor", ["monitor"]),
        "reconciler": Child("reconciler", ["reconcile"]),
    }
    sup: Supervisor | None = None
    try:
        broker, bootstrap = None, settings.broker
        if not bootstrap:
            broker = EmbeddedBroker(home / "logs").start()
            bootstrap = broker.address
        (home / "broker.addr").write_text(bootstrap)
        upgrade(settings.db_url)
        metrics_dir = home / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env = os.environ | {
            "DOCFLOW_HOME": str(home), "DOCFLOW_BROKER": bootstrap, "DOCFLOW_DATABASE_URL": settings.db_url,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "HF_HUB_OFFLINE": "1",
        }
        sup = Supervisor(settings, home, env, children, broker=broker, log=log)
        sup.start_broker(bootstrap)
        for child in children.values():
            child.start(env, sup.logs)
        sup.write_health()
        wait_for_port(host, port, timeout=30)
        log.info("docflow is up", http=f"http://{host}:{port}", broker=bootstrap, home=str(home),
                 workers=workers, database=settings.db_url.split("@")[-1], logs=str(sup.logs))
        while not stopping:
            time.sleep(0.5)
            if not stopping:
                sup.watch()
        return 0
    finally:
        log.info("stopping", processes=sum(c.up for c in children.values()))
        for child in children.values():
            if child.up and child.proc:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for child in children.values():
            child.stop(timeout=max(0.1, deadline - time.monotonic()))
        if sup and sup.broker:
            sup.broker.stop()
        (home / "broker.addr").unlink(missing_ok=True)
        (home / HEALTH_FILE).unlink(missing_ok=True)
        log.info("stopped")
