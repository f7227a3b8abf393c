"""The photo CLI meets the fake OpenAI-compatible judge of the benchmark tests (benchmark_fixtures.py)."""

from benchmark_fixtures import fake_judge, helpers  # noqa: F401
