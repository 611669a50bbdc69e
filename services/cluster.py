"""A local cluster for the integration tests and the benchmark: the embedded broker, worker
processes started and killed at will, and a reader of the terminal topics.

It runs exactly what production runs (``docflow worker`` processes against a Kafka-protocol
broker and a real database); only the process management is local.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from services import topics
from services.broker import EmbeddedBroker, create_topics
from services.storage.db import upgrade


@dataclass
class TerminalRecord:
    topic: str
    payload: dict
    timestamp_ms: int


@dataclass
class LocalCluster:
    home: Path
    db_url: str
    partitions: int = 4
    env: dict[str, str] = field(default_factory=dict)
    broker: EmbeddedBroker | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        assert self.broker is not None
        return self.broker.address

    def start(self) -> LocalCluster:
        self.home.mkdir(parents=True, exist_ok=True)
        self.broker = EmbeddedBroker(self.home / "logs").start()
        upgrade(self.db_url)
        create_topics(self.bootstrap, self.partitions)
        return self

    def worker_env(self) -> dict[str, str]:
        return os.environ | {
            "DOCFLOW_HOME": str(self.home), "DOCFLOW_BROKER": self.bootstrap, "DOCFLOW_DATABASE_URL": self.db_url,
            "DOCFLOW_PARTITIONS": str(self.partitions), "DOCFLOW_LOG_FORMAT": "json", "HF_HUB_OFFLINE": "1",
        } | self.env

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        return self.start_process(name, "worker")

    def start_process(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """``docflow ARGS`` (a worker, the trainer, the monitor) with this cluster's settings."""
        log = (self.home / "logs" / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", *args], env=self.worker_env(),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        self.workers[name] = proc
        return proc

    def start_web(self, port: int) -> subprocess.Popen[bytes]:
        """``docflow web`` on ``port``, publishing operator decisions to this cluster's broker."""
        log = (self.home / "logs" / "web.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "web", "--port", str(port), "--host", "127.0.0.1"],
            env=self.worker_env(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        self.workers["web"] = proc
        from services.broker import wait_for_port

        wait_for_port("127.0.0.1", port, timeout=60)
        return proc

    def kill_worker(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.workers.pop(name)
        proc.send_signal(sig)
        proc.wait(30)

    def stop(self) -> None:
        for name in list(self.workers):
            proc = self.workers[name]
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            self.workers.pop(name)
        if self.broker:
            self.broker.stop()

    # ---- traffic
    def publish(self, messages: list[tuple[str, bytes]], topic: str = topics.INCOMING) -> None:
        from services.client import publish

        asyncio.run(publish(self.bootstrap, messages, lambda: None, topic=topic))

    def terminal(self, wanted: set[str], timeout: float, settle: float = 0.0,
                 names: tuple[str, ...] = topics.TERMINAL) -> dict[str, list[TerminalRecord]]:
        """Every record by key (document id), read from the start of ``names`` (the three
        terminal topics unless told).

        Reads until every wanted id has one (or the timeout), then ``settle`` seconds more, so
        that a late duplicate would be seen too.
        """
        return asyncio.run(self._terminal(wanted, timeout, settle, names))

    async def _terminal(self, wanted: set[str], timeout: float, settle: float,
                        names: tuple[str, ...]) -> dict[str, list[TerminalRecord]]:
        from aiokafka import AIOKafkaConsumer

        consumer = AIOKafkaConsumer(
            *names, bootstrap_servers=self.bootstrap, group_id=None, auto_offset_reset="earliest",
            enable_auto_commit=False, max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        await consumer.start()
        found: dict[str, list[TerminalRecord]] = defaultdict(list)
        deadline = time.monotonic() + timeout
        settle_until: float | None = None
        try:
            while True:
                now = time.monotonic()
                if settle_until is None and (wanted <= found.keys() or now > deadline):
                    settle_until = now + settle
                if settle_until is not None and now >= settle_until:
                    break
                for tp, records in (await consumer.getmany(timeout_ms=300)).items():
                    for record in records:
                        found[(record.key or b"").decode()].append(
                            TerminalRecord(tp.topic, json.loads(record.value), record.timestamp)
                        )
        finally:
            await consumer.stop()
        return dict(found)
