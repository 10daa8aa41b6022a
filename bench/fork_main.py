"""Imported first by the bench's fork server. Its __main__ is a bare module (no spec, no file), which pyspark
takes for a doctest run: Great Expectations imports pyspark when it is installed, and pyspark's Spark Connect
check then exits the process (pyspark/sql/connect/utils.py, check_dependencies), so every run would fail to
start. Giving __main__ a file tells pyspark it is a program."""

import sys

if getattr(sys.modules["__main__"], "__spec__", None) is None and not hasattr(sys.modules["__main__"], "__file__"):
    sys.modules["__main__"].__file__ = __file__
