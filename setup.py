"""The one compiled part: the pdfium reader's char and word loops (services/parsing/_chars.c).
Optional: where it cannot be built, the reader runs the same loops in Python (services/parsing/pdfium.py)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("services.parsing._chars", ["services/parsing/_chars.c"], optional=True,
                             extra_compile_args=["-O2", "-ffp-contract=off"])])
