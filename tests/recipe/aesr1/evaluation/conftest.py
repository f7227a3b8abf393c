"""Benchmark tables, the fake OpenAI-compatible judge and the tiny Qwen2-VL (benchmark_fixtures.py)."""

from benchmark_fixtures import fake_judge, helpers, tiny_vlm  # noqa: F401
