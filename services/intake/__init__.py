"""Intake: check the envelope, sniff the type, enforce limits, store the bytes."""
