"""No vendor name or VAT id where no login guards it: /metrics and the monitor's log name a
vendor's drift scope by a stable pseudonym."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from services.monitoring.metrics import LifecycleCollector
from services.monitoring.privacy import public_scope


def test_vendor_scopes_are_pseudonyms_on_metrics() -> None:
    checks = [{"scope": scope, "feature": "total_amount", "test": "ks", "statistic": 0.4, "p_value": 0.01,
               "drift": True} for scope in ("all", "vendor:Lieferant GmbH", "vendor:DE123456789")]
    registry = CollectorRegistry()
    registry.register(LifecycleCollector(lambda: {"checks": checks, "models": [], "overall": {}}))
    text = generate_latest(registry).decode()
    assert "Lieferant" not in text and "DE123456789" not in text
    assert f'scope="{public_scope("vendor:Lieferant GmbH")}"' in text and 'scope="all"' in text
    assert public_scope("vendor:Lieferant GmbH") == public_scope("vendor:Lieferant GmbH") != public_scope("vendor:x")
    assert public_scope("model:layoutlm-1") == "model:layoutlm-1"
