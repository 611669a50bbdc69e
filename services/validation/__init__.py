"""Validation: decide accepted or exception, with reason codes."""
