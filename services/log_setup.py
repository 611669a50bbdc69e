"""structlog, configured once: JSON in production, readable in a terminal.

Every line of a document's journey is bound to ``document_id`` and ``stage``. Document
content and personal data never go into logs: only ids, codes, counts and timings.
"""

from __future__ import annotations

import logging
import sys

import structlog

_configured = False


def configure(level: str = "INFO", fmt: str = "auto") -> None:
    global _configured
    if _configured:
        return
    render_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer = (
        structlog.processors.JSONRenderer()
        if render_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    quiet_libraries()
    _configured = True


def quiet_libraries() -> None:
    """pdfminer logs at DEBUG per token; when a framework lowers the root level, that alone
    costs a third of a worker's CPU. Pin the chatty libraries to WARNING on their own loggers."""
    for name in ("pdfminer", "pdfplumber", "aiokafka", "faust", "mode", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def get_logger(**bound: object) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger("docflow").bind(**bound)
