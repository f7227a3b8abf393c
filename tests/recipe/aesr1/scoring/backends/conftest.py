"""The backends meet the fake OpenAI-compatible judge of the benchmark tests (benchmark_fixtures.py), which
replaces the local-server ``fake_judge`` of scoring/conftest.py in this folder."""

from benchmark_fixtures import fake_judge, helpers, tiny_vlm  # noqa: F401
