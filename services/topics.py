"""Every topic name, in one place."""

INCOMING = "documents.incoming"
PARSED = "documents.parsed"
CLASSIFIED = "documents.classified"
EXTRACTED = "documents.extracted"
ACCEPTED = "documents.accepted"
EXCEPTIONS = "documents.exceptions"
DEADLETTER = "documents.deadletter"
REVIEWED = "documents.reviewed"
LABELS = "labels"
TEMPLATES_EVENTS = "templates.events"
MODELS_EVENTS = "models.events"
MONITORING_ALERTS = "monitoring.alerts"

# Where a document may end: exactly one of these per document_id.
TERMINAL = (ACCEPTED, EXCEPTIONS, DEADLETTER)
ALL = (
    INCOMING, PARSED, CLASSIFIED, EXTRACTED, ACCEPTED, EXCEPTIONS, DEADLETTER,
    REVIEWED, LABELS, TEMPLATES_EVENTS, MODELS_EVENTS, MONITORING_ALERTS,
)
