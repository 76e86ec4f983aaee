"""Benchmarks for lianfang: run them all with ``make bench`` (``python -m benchmarks``)."""
