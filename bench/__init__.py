"""Benchmarks of the action. Each module runs on its own: ``python -m bench.<name>``."""
