"""Benchmark harness, metrics, built-in tasks and performance benchmarks."""
