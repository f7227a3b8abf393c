"""The fake judge behind the real local server, the tiny offline Qwen2-VL and ``draw`` (judge_fixtures.py)."""

from judge_fixtures import draw, fake_backend, fake_judge, tiny_model  # noqa: F401
