"""Synthetic invoices: PDFs with known truth, for tests, benchmarks and training."""
