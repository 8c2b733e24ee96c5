"""Process-level setup for the repo's entry points (main.py and the benchmark scripts)."""
