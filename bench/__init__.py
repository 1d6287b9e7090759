"""The benchmarks (``python bench/run.py``): figures of speed and memory at real scale,
printed and written to ``bench/RESULTS.md``, never asserted as timed tests."""
