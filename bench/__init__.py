"""orderreport's bench: every figure of the speed table, ours against its reference.

Run it as `uv run python bench/bench.py` (see bench.py); tests/test_bench.py runs it on a
tiny shop and reuses the partitioned shop's DDL from shops.py.
"""
