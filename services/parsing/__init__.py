"""Parsing: PDF bytes to words with boxes, lines and text-layer presence, per page."""
