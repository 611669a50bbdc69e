"""The Faust application: one per worker process, every stage agent registered on it."""

from __future__ import annotations

import faust

from labeling.agent import TeachAgent
from services.agents import ChainAgent, PathAgent
from services.kafka import App
from services.review.agent import ReviewAgent
from services.runtime import Runtime
from services.settings import Settings
from services.stages import PATH

# Beside the document path (services/stages.PATH):
SIDE = (
    ReviewAgent,    # documents.reviewed   -> documents.accepted (+ labels) | rejected
    TeachAgent,     # documents.classified -> labels + a template, from a hybrid invoice of an unknown vendor
)


def create_app(settings: Settings) -> faust.App:
    app = App(
        settings.app_id,
        fetch_max_wait_ms=settings.fetch_wait,
        broker=settings.bootstrap_servers(),
        store="memory://",
        web_enabled=False,
        topic_partitions=settings.partitions,
        topic_allow_declare=True,
        producer_max_request_size=settings.max_message_bytes,
        consumer_max_fetch_size=settings.max_message_bytes,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_s,
        broker_rebalance_timeout=settings.rebalance_timeout_s,
    )
    rt = Runtime(settings)
    # Load and check templates, rules and the layout model before the first event, not during it.
    rt.extraction  # noqa: B018
    rt.ruleset  # noqa: B018
    engine = rt.engine
    if settings.topology == "chain":  # documents.incoming -> every stage -> a terminal topic
        ChainAgent(app, rt, engine).register()
    else:  # documents.incoming -> parsed -> classified -> extracted -> a terminal topic, a hop each
        for stage in PATH:
            PathAgent(app, rt, engine, stage).register()
    for agent in SIDE:
        agent(app, rt, engine).register()
    return app
