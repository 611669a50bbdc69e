"""Monitoring: Prometheus metrics now; drift and quality monitoring later."""
