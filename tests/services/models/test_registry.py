"""The registry's rules (transitions, approval, the gate) and its store: every step written with
its models.events row and audit entry, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from services.models import store
from services.models.policy import Retrain, Rollout
from services.models.registry import Status, TransitionError, gate, plan
from services.models.rollout import bucket
from services.monitoring.monitor import Arm, judge_canary, judge_shadow
from services.storage.db import session_scope
from services.storage.lifecycle import ModelEventRecord
from services.storage.models import AuditEntry
from services.trainer.triggers import Signals, decide

PROD = {"invoice_number": 0.95, "total_amount": 0.90, "vendor_name": 0.80, "header": 0.9}


def test_plan_retires_whoever_held_the_slot_and_refuses_skips() -> None:
    statuses = {"a": Status.PRODUCTION, "b": Status.CANARY, "c": Status.SHADOW}
    steps = plan(statuses, "b", Status.PRODUCTION)
    assert [(s.version, s.after, s.action) for s in steps] == [
        ("b", "production", "promoted"), ("a", "retired", "retired")]
    with pytest.raises(TransitionError, match="cannot become production"):
        plan(statuses, "c", Status.PRODUCTION)  # a shadow goes through canary first
    with pytest.raises(TransitionError, match="no model"):
        plan(statuses, "zz", Status.CANARY)


def test_the_gate_refuses_a_field_that_regresses_beyond_the_tolerance() -> None:
    assert gate(PROD | {"vendor_name": 0.79}, PROD, tolerance=0.02)["passed"]
    refused = gate(PROD | {"total_amount": 0.80}, PROD, tolerance=0.02)
    assert not refused["passed"] and refused["regressions"] == {
        "total_amount": {"production": 0.9, "candidate": 0.8, "delta": -0.1}}
    assert "total_amount 0.900 -> 0.800" in refused["reason"]
    assert not gate({"header": 0.3}, None, tolerance=0.02, min_f1=0.5)["passed"]


def test_triggers_in_order() -> None:
    policy = Retrain(labels=100, per_vendor=10, drift_min_labels=5, schedule_hours=24)
    now = datetime.now(UTC)
    assert decide(Signals(labels=4), policy, now) is None
    assert decide(Signals(labels=100), policy, now).trigger == "labels"  # type: ignore[union-attr]
    vendor = decide(Signals(labels=12, per_vendor={"acme": 11, "b": 1}), policy, now)
    assert vendor is not None and vendor.trigger == "vendor_labels" and vendor.evidence["vendor"] == "acme"
    alert = [{"alert_id": "drift:vendor:acme:3", "scope": "vendor:acme"}]
    assert decide(Signals(labels=4, alerts=alert), policy, now) is None  # a drift alert waits for labels
    assert decide(Signals(labels=5, alerts=alert), policy, now).trigger == "drift"  # type: ignore[union-attr]
    old = now - timedelta(hours=25)
    assert decide(Signals(labels=1, last_job_at=old), policy, now).trigger == "schedule"  # type: ignore[union-attr]
    assert decide(Signals(labels=0, last_job_at=old), policy, now) is None  # nothing new to learn


def test_a_worse_canary_is_rolled_back_only_on_enough_evidence() -> None:
    policy = Rollout(min_documents=20, max_correction_increase=0.05, alpha=0.05)
    assert judge_canary(Arm(10, 10, 10), Arm(10, 0, 0), policy)[0] is None  # too few documents
    verdict, evidence = judge_canary(Arm(30, 12, 12), Arm(60, 3, 3), policy)
    assert verdict == "rollback" and evidence["p_value"] < 0.001
    assert judge_canary(Arm(30, 2, 2), Arm(60, 3, 3), policy)[0] is None
    assert judge_canary(Arm(30, 2, 2), Arm(60, 3, 3), policy.model_copy(update={"auto_promote": True}))[0] == "promote"


def test_auto_promotion_of_a_shadow_only_by_policy_and_on_enough_documents() -> None:
    policy = Rollout(min_documents=20)
    assert judge_shadow(40, 30, 20, policy)[0] is None  # an approver decides
    auto = policy.model_copy(update={"auto_promote": True})
    assert judge_shadow(40, 30, 20, auto)[0] == "canary"
    assert judge_shadow(10, 10, 2, auto)[0] is None  # too few documents
    assert judge_shadow(40, 15, 20, auto)[0] is None  # would accept fewer than production did


def test_canary_buckets_are_stable_and_near_the_share() -> None:
    ids = [f"doc-{i}" for i in range(4000)]
    assert [bucket(i) for i in ids[:50]] == [bucket(i) for i in ids[:50]]
    share = sum(bucket(i) < 0.2 for i in ids) / len(ids)
    assert 0.18 < share < 0.22


def test_store_moves_write_events_and_audit(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        store.adopt(s, version="m1", artifact="/models/m1", actor="trainer")
        store.register(s, version="m2", artifact="/models/m2", actor="trainer", dataset_version="ds-1", parent="m1",
                       trigger={"kind": "labels"}, metrics={"eval": PROD}, gate=gate(PROD, PROD, tolerance=0.02))
        store.register(s, version="bad", artifact="/models/bad", actor="trainer", parent="m1",
                       gate=gate(PROD | {"total_amount": 0.1}, PROD, tolerance=0.02))
    with Session(engine) as s:
        live = store.live(s)
        assert (live.production.version, live.shadow.version, live.canary) == ("m1", "m2", None)  # type: ignore[union-attr]
        assert store.get(s, "bad").status == Status.REJECTED  # type: ignore[union-attr]
    with session_scope(engine) as s, pytest.raises(TransitionError, match="approver"):
        store.move(s, "m2", Status.CANARY, actor="olga", approver=False)
    with session_scope(engine) as s:
        store.move(s, "m2", Status.CANARY, actor="ada", approver=True, share=0.3, reason="shadow agrees")
    with session_scope(engine) as s:
        store.move(s, "m2", Status.PRODUCTION, actor="ada", approver=True)
    with session_scope(engine) as s:
        assert store.rollback(s, actor="ada", reason="worse on vendor x") == ("m2", "m1")
    with Session(engine) as s:
        assert store.live(s).production.version == "m1"  # type: ignore[union-attr]
        events = [(e.model_version, e.action, e.actor) for e in
                  s.exec(select(ModelEventRecord).order_by(ModelEventRecord.seq)).all()]
        assert events == [
            ("m1", "registered", "trainer"), ("m1", "promoted", "trainer"),
            ("m2", "registered", "trainer"), ("m2", "shadow", "trainer"),
            ("bad", "registered", "trainer"), ("bad", "rejected", "trainer"),
            ("m2", "canary", "ada"), ("m2", "promoted", "ada"), ("m1", "retired", "ada"),
            ("m2", "rolled_back", "ada"), ("m1", "promoted", "ada")]
        assert store.revision(s) == len(events)
        actions = [a.action for a in s.exec(select(AuditEntry).where(AuditEntry.object_type == "model")
                                            .order_by(AuditEntry.id)).all()]
        assert actions == ["model.adopt", "model.register", "model.shadow", "model.register", "model.rejected",
                           "model.canary", "model.promoted", "model.retired", "model.rolled_back", "model.promoted"]
        assert store.lineage(s, "m2+int8")["ancestors"] == ["m1"]  # type: ignore[index]
