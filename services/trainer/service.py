"""The trainer service: consume ``labels`` and ``monitoring.alerts``, decide when to retrain, run
one training job at a time in a child process.

Offsets are committed after the signals are in the database (a signal is recorded once per id, so
a redelivery is harmless). A training job never runs in this process's event loop, and never in a
stream worker: extraction goes on while a model trains. One trainer runs per deployment.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlmodel import select

from services import topics
from services.codec import decode
from services.contracts import Label, MonitoringAlert
from services.log_setup import get_logger
from services.models import store as registry
from services.runtime import Runtime, model_folder
from services.storage.db import session_scope
from services.storage.lifecycle import TrainingJob
from services.trainer import store
from services.trainer.triggers import decide

TICK_S = 2.0


class Trainer:
    def __init__(self, rt: Runtime):
        self.rt = rt
        self.log = get_logger(stage="trainer")
        self.proc: asyncio.subprocess.Process | None = None
        self.job_id: int | None = None

    def start_up(self) -> None:
        """A job left running by a trainer that died is failed (its signals count again); the model
        the workers serve before anything was registered becomes the registry's production model."""
        with session_scope(self.rt.engine) as s:
            for job in s.exec(select(TrainingJob).where(TrainingJob.state == "running")).all():
                store.finish(s, job.id, state="failed", error="interrupted: the trainer stopped during the job")  # type: ignore[arg-type]
            folder = model_folder(self.rt.settings)
            if registry.live(s).production is None and folder is not None and registry.get(s, folder.name) is None:
                registry.adopt(s, version=folder.name, artifact=str(folder), actor="trainer")
                self.log.info("adopted the served model as production", version=folder.name)

    async def run(self) -> None:
        from aiokafka import AIOKafkaConsumer

        self.start_up()
        consumer = AIOKafkaConsumer(
            topics.LABELS, topics.MONITORING_ALERTS, bootstrap_servers=self.rt.settings.broker,
            group_id=f"{self.rt.settings.app_id}-trainer", enable_auto_commit=False, auto_offset_reset="earliest",
            max_partition_fetch_bytes=self.rt.settings.max_message_bytes)
        await consumer.start()
        self.log.info("trainer consuming", topics=[topics.LABELS, topics.MONITORING_ALERTS])
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=int(TICK_S * 1000), max_records=500)
                records = [r for batch in batches.values() for r in batch]
                if records:
                    self.consume(records)
                    await consumer.commit()
                await self.tick()
        finally:
            await consumer.stop()

    def consume(self, records: list) -> None:  # type: ignore[type-arg]
        new = {"label": 0, "alert": 0}
        with session_scope(self.rt.engine) as s:
            for record in records:
                try:
                    if record.topic == topics.LABELS:
                        new["label"] += store.record_label(s, decode(Label, record.value))
                    else:
                        new["alert"] += store.record_alert(s, decode(MonitoringAlert, record.value))
                except (ValidationError, ValueError) as exc:  # not ours to dead-letter: say so and go on
                    self.log.warning("message ignored", topic=record.topic, offset=record.offset,
                                     error=type(exc).__name__)
        if any(new.values()):
            self.log.info("signals recorded", labels=new["label"], alerts=new["alert"])

    async def tick(self) -> None:
        """Reap a finished job; otherwise start the next queued one, or create one if a trigger holds."""
        if self.proc is not None:
            if self.proc.returncode is None:
                return
            code, job_id = self.proc.returncode, self.job_id
            self.proc, self.job_id = None, None
            with session_scope(self.rt.engine) as s:
                job = s.get(TrainingJob, job_id)
                if job is not None and job.state in store.ACTIVE:  # died without saying why
                    store.finish(s, job_id, state="failed", error=f"training process exited with {code}")  # type: ignore[arg-type]
            self.log.info("training job ended", job=job_id, code=code)
        with session_scope(self.rt.engine) as s:
            job = store.active(s)
            if job is None:
                if store.reviews_in_flight(s, datetime.now(UTC)):
                    return  # decisions taken but not yet applied: their corrections belong in the dataset
                decision = decide(store.pending(s), self.rt.model_policy.retrain, datetime.now(UTC))
                if decision is None:
                    return
                job = store.from_decision(s, decision)
                self.log.info("retraining triggered", job=job.id, trigger=decision.trigger, reason=decision.reason)
            job_id = job.id
        self.job_id = job_id
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.trainer.job", str(job_id),
            env=os.environ | {store.PARENT_ENV: str(os.getpid())})
        asyncio.get_running_loop().create_task(self.proc.wait())
        self.log.info("training job started", job=job_id, pid=self.proc.pid)


def serve(rt: Runtime) -> None:
    asyncio.run(Trainer(rt).run())
