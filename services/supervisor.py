"""``docflow up``: the embedded set-up in one command, stopped cleanly by Ctrl-C or SIGTERM.

Starts the broker (unless ``DOCFLOW_BROKER`` names one), migrates the database, creates
the topics, then runs the worker processes, the HTTP server, the trainer and the monitor,
restarting one that dies (a worker that loses its database stops on purpose, uncommitted).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from services.broker import EmbeddedBroker, create_topics, wait_for_port
from services.log_setup import configure, get_logger
from services.settings import Settings
from services.storage.db import upgrade


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


def run_up(settings: Settings, *, port: int, host: str, workers: int) -> int:
    configure(settings.log_level, settings.log_format)
    log = get_logger(stage="up")
    home = settings.home.resolve()
    broker = None
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        bootstrap = settings.broker
        if not bootstrap:
            broker = EmbeddedBroker(home / "logs").start()
            bootstrap = broker.address
        (home / "broker.addr").write_text(bootstrap)
        upgrade(settings.db_url)
        create_topics(bootstrap, settings.partitions)

        metrics_dir = home / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env = os.environ | {
            "DOCFLOW_HOME": str(home), "DOCFLOW_BROKER": bootstrap, "DOCFLOW_DATABASE_URL": settings.db_url,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "HF_HUB_OFFLINE": "1",
        }
        logs = home / "logs"
        commands = {f"worker-{i}": ["worker"] for i in range(workers)} | {
            "web": ["web", "--port", str(port), "--host", host], "trainer": ["trainer"], "monitor": ["monitor"]}
        for name, args in commands.items():
            children[name] = _spawn(args, env, logs / f"{name}.log")
        wait_for_port(host, port, timeout=30)
        log.info("docflow is up", http=f"http://{host}:{port}", broker=bootstrap, home=str(home),
                 workers=workers, database=settings.db_url.split("@")[-1], logs=str(logs))
        while not stopping:
            time.sleep(0.5)
            for name, proc in list(children.items()):
                code = proc.poll()
                if code is not None and not stopping:
                    log.warning("process exited; restarting", process=name, code=code)
                    time.sleep(1)
                    children[name] = _spawn(commands[name], env, logs / f"{name}.log")
        return 0
    finally:
        log.info("stopping", processes=len(children))
        for proc in children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in children.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        if broker:
            broker.stop()
        (home / "broker.addr").unlink(missing_ok=True)
        log.info("stopped")
