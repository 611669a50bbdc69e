"""``docflow bench``: what the document path costs.

``stream``: throughput, CPU and latency through the broker beside the in-process path.
``anchor``: CPU per document against invoice2data on the same PDFs (``--against invoice2data``).
"""

from services.bench.stream import bench, documents, print_report

__all__ = ["bench", "documents", "print_report"]
