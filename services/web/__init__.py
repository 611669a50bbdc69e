"""The HTTP server: health, metrics and the document API (the console joins later)."""
