"""Benchmarks: `python -m bench` measures quizapp against a bare Flask page (see bench/README.md)."""
