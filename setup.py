"""The one compiled part: the pdfium reader's char and word loops and the words' grouping into lines
(services/parsing/_chars.c). Optional: where it cannot be built, the same loops run in Python
(services/parsing/pdfium.py, services/parsing/layout.py)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("services.parsing._chars", ["services/parsing/_chars.c"], optional=True,
                             extra_compile_args=["-O2", "-ffp-contract=off"])])
