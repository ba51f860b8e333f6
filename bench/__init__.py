"""Benchmarks, load tests and the synthetic-data generator they use (see bench/README.md)."""
