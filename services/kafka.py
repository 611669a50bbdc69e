"""Faust's Kafka driver, with the one setting it does not let us make: how long a fetch may wait.

Faust's aiokafka driver creates its consumer with ``fetch_max_wait_ms=1500``. A broker that answers
a fetch only when that wait is over, as the embedded Tansu does when nothing is there at the time
of the request, then holds each hop of a document for up to 1.5 s: four hops, about 2.4 s from
submit to terminal on an idle system. ``DOCFLOW_FETCH_WAIT_MS`` sets it (default 50 ms); idle
fetches cost a request each, on loopback or a LAN nothing.
"""

from __future__ import annotations

from typing import Any

import faust
from faust.transport.drivers import aiokafka as driver


class ConsumerThread(driver.AIOKafkaConsumerThread):
    fetch_max_wait_ms = 50

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

    def __init__(self, *args: Any, fetch_max_wait_ms: int = 50, **kwargs: Any):
        ConsumerThread.fetch_max_wait_ms = fetch_max_wait_ms
        super().__init__(*args, **kwargs)

    def _new_transport(self) -> Any:
        return Transport(self.conf.broker_consumer, self)
