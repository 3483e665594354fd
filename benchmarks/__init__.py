"""Benchmarks (`make bench`): commands whose output is quoted, never timed tests."""
