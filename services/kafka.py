"""Faust's Kafka driver, with the one setting it does not let us make: how long a fetch may wait.

Faust's aiokafka driver creates its consumer with ``fetch_max_wait_ms=1500``. ``DOCFLOW_FETCH_WAIT_MS``
sets it; unset, it follows the topology (``Settings.fetch_wait``), because the embedded Tansu answers a
waiting fetch at once when another process sends to one of its partitions, but not always when the
worker that waits sends to one itself. One document on an idle system, submit to terminal, median of
20 (2026-12-07, ``_idle_latency`` of services/bench/stream.py, one worker):

- chain topology (one hop, from the submitter): 65 ms at a 50 ms wait, 88-96 ms at 500, 107 ms at 1500;
- stages topology (four hops, three of them from the worker itself): 110 ms at 50, 986 ms at 500.

Each wait that ends empty is a fetch request and its answer decoded in Python, for every partition
the worker holds: an idle chain worker spent 28 ms of CPU a second at 50 ms and 13-14 at 500, and a
burst of 240 invoices 0.50-0.58 ms a document in the consumer's thread at 50 against 0.29 at 500.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers import aiokafka as driver


class ConsumerThread(driver.AIOKafkaConsumerThread):
    fetch_max_wait_ms = 500

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = self.fetch_max_wait_ms  # read when the consumer starts its fetcher
        return consumer


class Consumer(driver.Consumer):
    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(driver.Transport):
    Consumer = Consumer


class App(faust.App):
    """A Faust app whose consumers fetch with ``fetch_max_wait_ms`` (set before the first consumer)."""

    def __init__(self, *args: Any, fetch_max_wait_ms: int = 500, **kwargs: Any):
        ConsumerThread.fetch_max_wait_ms = fetch_max_wait_ms
        super().__init__(*args, **kwargs)

    def _new_transport(self) -> Any:
        return Transport(self.conf.broker_consumer, self)
