"""Benchmarks: synthetic data generators, baselines and harnesses (not shipped in the wheel).

See ``bench/README.md`` for how to run them and the latest figures.
"""
