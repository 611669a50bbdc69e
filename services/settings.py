"""One settings class, read from ``DOCFLOW_*`` environment variables at start-up."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "docflow"


class Settings(BaseSettings):
    """Everything a worker, the web server or the CLI needs to know.

    All local state lives under ``home``: the SQLite file, blobs, broker data, logs.
    """

    model_config = SettingsConfigDict(env_prefix="DOCFLOW_", extra="ignore")

    home: Path = Path(".docflow")
    # Kafka bootstrap servers ("host:port[,host:port]"); empty means: start the embedded broker.
    broker: str = ""
    database_url: str = ""
    blob_dir: Path | None = None
    rules_dir: Path = Path(__file__).resolve().parent.parent / "rules"

    # Layout model artifacts (docflow train) live here; "latest" uses the newest one.
    model_dir: Path | None = None
    # The default model the product ships (make model): used while model_dir has none of its own.
    shipped_model_dir: Path = Path(__file__).resolve().parent.parent / "models"
    model_version: str = "latest"
    # int8 by default: ONNX Runtime with per-channel int8 weights (services/extraction/model/engines.py),
    # compiled once per model into ``cache_dir``; false serves the float32 torch model.
    model_int8: bool = True
    # CPU threads of one model run (0: one for int8, torch's default for float32): a worker is one
    # core's work, scaled by processes and partitions, and idle pool threads spin on CPU.
    model_threads: int = 0
    # Compiled forms of model artifacts (the int8 ONNX files), shared by every home on the machine.
    cache_dir: Path = Field(default_factory=default_cache_dir)
    # Candidate ranking for documents no vendor template matched (off: the model and generic rules alone).
    rank: bool = True
    # A value only the model read, for a vendor no template reads, is kept from this confidence on
    # (0 keeps every one: the model alone, as scripts/evaluate measures it).
    model_only_floor: float = 0.8
    # A hybrid e-invoice of a vendor no template reads teaches its template (labeling/teacher.py):
    # "publish" it at once, leave its labels for a labeler to "review" and publish, or "off".
    einvoice_teacher: Literal["publish", "review", "off"] = "publish"
    # Retraining (docflow trainer): the synthetic base every dataset version starts from, the frozen
    # evaluation set the gate scores candidates on (labelled PDFs + truth JSON, per vendor folder).
    training_corpus: Path | None = None
    eval_dir: Path | None = None
    # CPU threads a training job may use (0: all); leave the workers some.
    train_threads: int = 0

    app_id: str = "docflow"
    partitions: int = 4
    # How a worker's agents walk the document path (services/transport.py). "chain": one agent reads
    # documents.incoming and runs every stage in that event, still sending each stage's message to
    # its topic; "stages": an agent per stage, each reading the topic before it (a stage can then
    # scale apart from the others). Every worker of one app id must use the same.
    topology: str = Field(default="chain", pattern="^(chain|stages)$")
    workers: int = 1
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    # A worker serves Prometheus /metrics on this port when set (containers); under
    # `docflow up` the HTTP server adds up every worker's instead.
    metrics_port: int = 0
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")
    log_level: str = "INFO"

    # How long a worker's fetch may wait at the broker for new messages (services/kafka.py); unset,
    # by the topology (``fetch_wait``).
    fetch_wait_ms: int | None = Field(default=None, ge=1)
    # The chain agent takes up to batch_size events of documents.incoming at a time, waiting at most
    # batch_linger_ms for more (services/transport.py): their records are written in one transaction
    # and their messages sent together. A worker killed between sending a batch's results and
    # recording them sends them again: at most batch_size repeats (1: one document at a time).
    batch_size: int = Field(default=16, ge=1, le=500)
    batch_linger_ms: int = Field(default=50, ge=1, le=5000)
    # Consumer-group liveness: how soon a dead worker's partitions move to a live one.
    session_timeout_s: float = 30.0
    heartbeat_s: float = 3.0
    rebalance_timeout_s: float = 30.0

    # Limits: they bound the work one event may cost a worker.
    max_document_bytes: int = 20 * 1024 * 1024
    inline_content_limit: int = 512 * 1024
    max_pages: int = 50
    max_words_per_page: int = 10_000
    max_message_bytes: int = 8 * 1024 * 1024
    regex_timeout_s: float = 0.25
    regex_budget_s: float = 2.0  # every regex search of one document together (extraction)
    # Parsing runs in a child process with these budgets (services/parsing/sandbox.py): over
    # either, the document is dead-lettered (PARSE_TIMEOUT, PARSE_MEMORY_EXCEEDED) and the child
    # replaced; 0 parses in the worker itself, unbounded.
    parse_timeout_s: float = 20.0
    parse_memory_mb: int = 1536

    # Recovery (services/reconcile): a document that has not moved for redrive_after_s while the
    # stream is idle is re-driven from its stored bytes, checked every reconcile_every_s; after
    # max_redrives it is dead-lettered as POISON.
    redrive_after_s: float = 300.0
    reconcile_every_s: float = 30.0
    max_redrives: int = 3
    # A document in hand when this many workers died is dead-lettered as POISON (services/inflight.py).
    max_crashes: int = 3

    @cached_property
    def blob_root(self) -> Path:
        return self.blob_dir or self.home / "blobs"

    @cached_property
    def model_root(self) -> Path:
        return self.model_dir or self.home / "models"

    @cached_property
    def datasets_root(self) -> Path:
        return self.home / "datasets"

    @cached_property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'docflow.db').resolve()}"

    @property
    def fetch_wait(self) -> int:
        """``fetch_wait_ms``, else 500 ms in the chain topology and 50 in the stages one: a waiting
        fetch is answered when a message comes from another process (the submitter: the chain's one
        hop), not always when it comes from the worker itself (each hop of the stages topology waits
        it out). Measured in services/kafka.py."""
        if self.fetch_wait_ms is not None:
            return self.fetch_wait_ms
        return 500 if self.topology == "chain" else 50

    def bootstrap_servers(self) -> str:
        """The broker address as Faust wants it (``kafka://host:port;...``)."""
        hosts = [h.strip() for h in self.broker.split(",") if h.strip()]
        return ";".join(h if "://" in h else f"kafka://{h}" for h in hosts)


def get_settings() -> Settings:
    settings = Settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings
