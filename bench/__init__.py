"""Benchmarks of grantflow against raw Temporal on the same dev server (`make bench`, `python bench/run.py`)."""
