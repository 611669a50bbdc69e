"""Evaluation: score extraction output against truth (`docflow eval`)."""
