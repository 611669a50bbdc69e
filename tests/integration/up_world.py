"""`docflow up` as a test drives it: in its own process group on a home, with the real CLI."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from services.broker import free_port


class Up:
    """`docflow up` on a home, in its own process group so that it can be killed whole."""

    def __init__(self, home: Path):
        self.home, self.port = home, free_port()
        self.env = os.environ | {"DOCFLOW_HOME": str(home), "DOCFLOW_LOG_FORMAT": "json", "HF_HUB_OFFLINE": "1",
                                 "DOCFLOW_SESSION_TIMEOUT_S": "10", "DOCFLOW_HEARTBEAT_S": "1",
                                 "DOCFLOW_REBALANCE_TIMEOUT_S": "10"}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Up:
        self.home.mkdir(parents=True, exist_ok=True)
        log = (self.home / "up.out").open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "services.cli", "up", "--port", str(self.port)],
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.wait_health(200, timeout=120)
        return self

    def health(self) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except OSError:
            return 0, {}

    def wait_health(self, status: int, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code, body = self.health()
            if code == status:
                return body
            time.sleep(0.1)
        raise AssertionError(f"/health never answered {status} in {timeout} s (last {code}: {body})")

    def submit(self, folder: Path) -> None:
        subprocess.run([sys.executable, "-m", "services.cli", "submit", str(folder)], env=self.env, check=True,
                       capture_output=True, timeout=120)

    def kill_all(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc:  # nothing of this run may outlive it
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
