"""Benchmarks (not tests): `python -m tests.bench [names] [--quick]` prints a table.

Every figure is the median of several repetitions, each run right after a bare
append+fdatasync loop on the same disk, and is read as a ratio to that baseline
(PROTOCOL.md, "Performance goals"). Pytest never collects this package.
"""
