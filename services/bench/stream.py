"""Throughput and end-to-end latency through the broker, beside the
in-process rate of the same stage functions on the same documents.

Not a test: it prints figures. Latency is the time from the envelope's ``submitted_at``
to the broker timestamp of its terminal record; throughput counts from the first publish
to the last terminal record, after a warm-up that lets the workers join their group.
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from services import topics
from services.cluster import LocalCluster
from services.contracts import IncomingDocument
from services.monitoring.series import quantile
from services.parsing.logic import parse
from services.pipeline import run
from services.runtime import Runtime
from services.settings import Settings
from services.synth.layouts import LAYOUTS
from services.synth.render import generate


def documents(count: int, seed: int, first: int = 0) -> list[tuple[str, bytes]]:
    """``count`` invoices of the bench's layouts, serials from ``first``: two sets of documents
    meant to be different invoices need serials apart (the invoice number is made of the serial,
    and a vendor's same number twice is a DUPLICATE_INVOICE)."""
    layouts = sorted(LAYOUTS.values(), key=lambda layout: layout.vendor_id)
    return [
        (f"bench-{seed}-{i:05d}", generate(layouts[i % len(layouts)], seed=seed, serial=i, items=1 + i % 12)[0])
        for i in range(first, first + count)
    ]


def in_process(docs: list[tuple[str, bytes]], settings: Settings) -> dict:
    rt = Runtime(settings)
    run(IncomingDocument(source="bench", content=base64.b64encode(docs[0][1]).decode()), rt)  # warm caches
    pages = parse_seconds = 0.0
    started, cpu_started = time.perf_counter(), _own_cpu()
    for doc_id, pdf in docs:
        run(IncomingDocument(document_id=doc_id, source="bench", content=base64.b64encode(pdf).decode()), rt)
    total, cpu = time.perf_counter() - started, _own_cpu() - cpu_started
    for doc_id, pdf in docs:  # parse alone, for the per-page cost beside the whole path
        t0 = time.perf_counter()
        parsed = parse(pdf, _ref(doc_id, len(pdf)), max_pages=settings.max_pages)
        parse_seconds += time.perf_counter() - t0
        pages += len(parsed.pages)
    return {"docs_per_s": len(docs) / total, "ms_per_doc": 1000 * total / len(docs),
            "cpu_ms_per_doc": 1000 * cpu / len(docs),
            "parse_ms_per_page": 1000 * parse_seconds / pages, "pages": int(pages)}


def _own_cpu() -> float:
    """CPU seconds of this process and its children that ended (OCR) so far."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _monitors_cpu(db_url: str, document_ids: list[str]) -> float | None:
    """The CPU a document the monitoring page counts for these documents (ms, the mean of their
    observations'): the figure an operator sees, beside the one measured from outside."""
    from sqlalchemy import func, select

    from services.storage.db import make_engine
    from services.storage.lifecycle import Observation

    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            mean = connection.execute(select(func.avg(Observation.cpu_ms)).where(
                Observation.document_id.in_(document_ids))).scalar()  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    return None if mean is None else float(mean)


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a running process and of its running children (a worker and its parse sandbox)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue
    return total


def model_costs(docs: list[tuple[str, bytes]], settings: Settings) -> dict | None:
    """Per page, one thread: model inference's CPU in float32 (torch) and int8 (ONNX Runtime, as
    served), and the share of words whose most likely label int8 gives as float32 does."""
    from services.extraction.model.infer import LayoutModel
    from services.runtime import model_folder

    folder = model_folder(settings)
    if folder is None:
        return None
    pages = [p for _, pdf in docs for p in parse(pdf, _ref("m", len(pdf)), max_pages=settings.max_pages).pages]
    out: dict = {"model": folder.name, "pages": len(pages)}
    labels: dict[str, list[int]] = {}
    for name, int8 in (("fp32", False), ("int8", True)):
        model = LayoutModel(folder, int8=int8, threads=1, cache=settings.cache_dir)
        model.extract(pages[:2])  # warm up
        started, tags = _own_cpu(), []
        for page in pages:
            _, probs = model.word_probs([page])
            tags += [max(range(len(p)), key=p.__getitem__) for p in probs[0]]
        out[f"{name}_ms_per_page"] = round(1000 * (_own_cpu() - started) / len(pages), 1)
        labels[name] = tags
    out["int8_same_label"] = round(sum(a == b for a, b in zip(labels["fp32"], labels["int8"], strict=True))
                                   / max(1, len(labels["fp32"])), 4)
    tagged = [(a, b) for a, b in zip(labels["fp32"], labels["int8"], strict=True) if a]
    out["int8_same_label_tagged"] = round(sum(a == b for a, b in tagged) / max(1, len(tagged)), 4)
    return out


def _ref(doc_id: str, size: int):  # type: ignore[no-untyped-def]
    from services.contracts import DocumentRef

    return DocumentRef(document_id=doc_id, source="bench", filename="b.pdf", content_type="application/pdf",
                       sha256="0" * 64, size=size, blob_uri="blob://bench", submitted_at=datetime.now(UTC))


class Streamed:
    """A local cluster with ``workers`` workers, warm: bursts of documents through it, as many as
    asked (the anchor's rounds take turns with the in-process passes on one cluster)."""

    def __init__(self, home: Path, db_url: str, workers: int, partitions: int, model_root: Path | None = None,
                 env: dict[str, str] | None = None):
        """``env``: more of the workers' environment (another revision's code on PYTHONPATH, say)."""
        env = ({"DOCFLOW_MODEL_DIR": str(model_root)} if model_root else {}) | (env or {})
        self.cluster = LocalCluster(home, db_url, partitions=partitions, env=env).start()
        try:
            for i in range(workers):
                self.cluster.start_worker(f"bench-{i}")
            warm = documents(workers * 2, seed=1, first=100_000)
            self.cluster.publish([(i, _envelope(i, pdf)) for i, pdf in warm])
            self.cluster.terminal({i for i, _ in warm}, timeout=180)
        except BaseException:
            self.cluster.stop()
            raise

    def burst(self, docs: list[tuple[str, bytes]]) -> dict:
        """Every document published at once: throughput, latency and the workers' CPU a document
        (theirs and their sandboxes', the broker's aside). Documents are new ones: bytes a burst
        before sent would be duplicates."""
        cluster = self.cluster
        pids = [proc.pid for proc in cluster.workers.values()]
        started, cpu_started = time.time(), sum(_tree_cpu(pid) for pid in pids)
        cluster.publish([(i, _envelope(i, pdf)) for i, pdf in docs])
        results = cluster.terminal({i for i, _ in docs}, timeout=600)
        cpu = sum(_tree_cpu(pid) for pid in pids) - cpu_started
        latencies: list[float] = []
        ends: list[float] = []
        states: dict[str, int] = {}
        reasons: dict[str, int] = {}  # of the documents not accepted: what a fast path must not cost
        model_ran = 0
        for doc_id, _ in docs:
            record = results[doc_id][0]
            submitted = datetime.fromisoformat(record.payload["doc"]["submitted_at"]).timestamp() \
                if "doc" in record.payload else started
            latencies.append(record.timestamp_ms / 1000 - submitted)
            ends.append(record.timestamp_ms / 1000)
            states[record.topic] = states.get(record.topic, 0) + 1
            if record.topic != topics.ACCEPTED:
                for reason in record.payload.get("reasons") or [record.payload.get("reason")]:
                    reasons[str(reason)] = reasons.get(str(reason), 0) + 1
            model_ran += record.payload.get("model_version") is not None
        return {
            "monitors_cpu_ms_per_doc": _monitors_cpu(cluster.db_url, [doc_id for doc_id, _ in docs]),
            "docs_per_s": len(docs) / (max(ends) - started),
            "latency_p50_s": quantile(latencies, 0.50),
            "latency_p99_s": quantile(latencies, 0.99),
            "latency_mean_s": statistics.fmean(latencies),
            "cpu_ms_per_doc": 1000 * cpu / len(docs),
            "terminal": states,
            "reasons": reasons,
            "model_ran": model_ran,
        }

    def idle_cpu(self, seconds: float = 10.0) -> float:
        """The workers' CPU, in ms a second, while nothing is sent (what a stream costs when it has no work)."""
        pids = [proc.pid for proc in self.cluster.workers.values()]
        time.sleep(1.0)  # the last document's acknowledgements and logs
        before = sum(_tree_cpu(pid) for pid in pids)
        time.sleep(seconds)
        return 1000 * (sum(_tree_cpu(pid) for pid in pids) - before) / seconds

    def close(self) -> None:
        self.cluster.stop()


def through_broker(docs: list[tuple[str, bytes]], home: Path, db_url: str, workers: int, partitions: int,
                   model_root: Path | None = None) -> dict:
    """A burst of ``docs``, then one document on an idle system and a paced load at half the burst's rate."""
    streamed = Streamed(home, db_url, workers, partitions, model_root)
    try:
        figures = streamed.burst(docs)
        figures["idle_latency_p50_s"] = _idle_latency(streamed.cluster)
        figures["idle_cpu_ms_per_s"] = streamed.idle_cpu()
        figures["paced"] = _paced(streamed.cluster, documents(min(len(docs), 120), seed=8, first=200_000),
                                  rate=figures["docs_per_s"] / 2)
        return figures
    finally:
        streamed.close()


def _paced(cluster: LocalCluster, docs: list[tuple[str, bytes]], rate: float) -> dict:
    """Latency at a steady ``rate`` (documents a second, half the burst's): each one sent on time,
    measured from its own send to its terminal message."""
    import asyncio

    from aiokafka import AIOKafkaProducer

    async def send() -> dict[str, float]:
        producer = AIOKafkaProducer(bootstrap_servers=cluster.bootstrap, acks="all", max_request_size=8 << 20)
        await producer.start()
        sent, interval, begin = {}, 1 / rate, time.time()
        try:
            for n, (doc_id, pdf) in enumerate(docs):
                await asyncio.sleep(max(0.0, begin + n * interval - time.time()))
                sent[f"paced-{doc_id}"] = time.time()
                await producer.send_and_wait(topics.INCOMING, _envelope(f"paced-{doc_id}", pdf),
                                             key=f"paced-{doc_id}".encode())
        finally:
            await producer.stop()
        return sent

    sent = asyncio.run(send())
    results = cluster.terminal(set(sent), timeout=600)
    latencies = [results[i][0].timestamp_ms / 1000 - t for i, t in sent.items()]
    return {"docs_per_s": rate, "latency_p50_s": quantile(latencies, 0.50),
            "latency_p99_s": quantile(latencies, 0.99)}


def _idle_latency(cluster: LocalCluster, count: int = 10) -> float:
    """The median time from publishing one document, on an idle system, to its terminal message."""
    latencies = []
    for i, pdf in documents(count, seed=7, first=300_000):
        doc_id = f"idle-{i}"
        started = time.time()
        cluster.publish([(doc_id, _envelope(doc_id, pdf))])
        record = cluster.terminal({doc_id}, timeout=60)[doc_id][0]
        latencies.append(record.timestamp_ms / 1000 - started)
        time.sleep(0.5)
    return statistics.median(latencies)


def _envelope(doc_id: str, pdf: bytes) -> bytes:
    return IncomingDocument(
        document_id=doc_id, source="bench", filename=f"{doc_id}.pdf", content=base64.b64encode(pdf).decode(),
    ).model_dump_json().encode()


def bench(count: int, workers: int, partitions: int, db_url: str | None, *, broker: bool = True,
          model_root: Path | None = None) -> dict:
    docs = documents(count, seed=42)
    with tempfile.TemporaryDirectory(prefix="docflow-bench-") as tmp:
        home = Path(tmp)
        url = db_url or f"sqlite:///{home / 'bench.db'}"
        settings = Settings(home=home / "local", database_url=url, model_dir=model_root)
        local = in_process(docs, settings)
        model = model_costs(docs[: min(count, 60)], settings)
        streamed = through_broker(docs, home / "cluster", url, workers, partitions, model_root) if broker else None
    return {"documents": count, "workers": workers, "partitions": partitions,
            "database": url.split("://")[0], "in_process": local, "model": model, "broker": streamed}


def print_report(report: dict) -> None:
    local, streamed, model = report["in_process"], report["broker"], report["model"]
    print(f"documents {report['documents']}  workers {report['workers']}  partitions {report['partitions']}  "
          f"database {report['database']}")
    print(f"  in-process  docflow extract path : {local['docs_per_s']:7.1f} docs/s  "
          f"({local['ms_per_doc']:.1f} ms/doc; parse {local['parse_ms_per_page']:.1f} ms/page)")
    if model:
        print(f"  layout model {model['model']}, one thread: fp32 (torch) {model['fp32_ms_per_page']} ms CPU/page, "
              f"int8 (ONNX Runtime) {model['int8_ms_per_page']} ms CPU/page; int8 gives fp32's label to "
              f"{model['int8_same_label']:.1%} of words ({model['int8_same_label_tagged']:.1%} of those fp32 tags)")
    if streamed:
        print(f"  through the broker, end to end   : {streamed['docs_per_s']:7.1f} docs/s  "
              f"latency p50 {streamed['latency_p50_s'] * 1000:.0f} ms  p99 {streamed['latency_p99_s'] * 1000:.0f} ms")
        print(f"  broker / in-process throughput   : {streamed['docs_per_s'] / local['docs_per_s']:.2f}")
        print(f"  CPU per document                 : in-process {local['cpu_ms_per_doc']:.1f} ms, through the "
              f"broker {streamed['cpu_ms_per_doc']:.1f} ms (workers; ratio "
              f"{streamed['cpu_ms_per_doc'] / local['cpu_ms_per_doc']:.2f})")
        if streamed.get("monitors_cpu_ms_per_doc") is not None:
            print(f"  the monitoring page's CPU        : {streamed['monitors_cpu_ms_per_doc']:.1f} ms a document "
                  f"(its steps' and its share of the edge's, as the workers count it)")
        print(f"  one document on an idle system   : latency p50 {streamed['idle_latency_p50_s'] * 1000:.0f} ms "
              f"(publish to terminal message)")
        print(f"  the workers, idle                : {streamed['idle_cpu_ms_per_s']:.1f} ms of CPU a second")
        paced = streamed["paced"]
        print(f"  paced at half the burst's rate   : {paced['docs_per_s']:7.1f} docs/s  "
              f"latency p50 {paced['latency_p50_s'] * 1000:.0f} ms  p99 {paced['latency_p99_s'] * 1000:.0f} ms")
    print(json.dumps(report))
