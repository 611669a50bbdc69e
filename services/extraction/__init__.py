"""Extraction: one value per field, with confidence and provenance."""
