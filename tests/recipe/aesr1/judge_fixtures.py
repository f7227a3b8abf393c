"""Fixtures of the scoring and reward_model tests: a fake judge backend with failure switches behind the
real local server, and the tiny offline Qwen2-VL.

The fake backend reads the image's red level back as its score (``round(red / 255, 2)``), answers
without ``<answer>`` for red 0, refuses red 1 (the server answers HTTP 400, as a content filter);
``fail_next`` makes the next calls raise (HTTP 500), ``delay_s`` slows every call, and it records each
call's prompt and sampling settings and the most calls it saw in flight at once.
"""

from __future__ import annotations

import threading
import time

import pytest
from PIL import Image

from recipe.aesr1.miniature.tiny_vlm import save_tiny_vlm
from recipe.aesr1.reward_model.local_server import JudgeServer
from recipe.aesr1.scoring.backends import Sample


class FakeJudge:
    name = "fake"

    def __init__(self):
        self.calls: list[tuple[str, object]] = []  # (prompt, SamplingSettings) per request
        self.fail_next = 0
        self.delay_s = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()

    def generate(self, images, prompt, sampling, seeds):
        with self.lock:
            self.calls.append((prompt, sampling))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            fail = self.fail_next > 0
            self.fail_next -= fail
        try:
            time.sleep(self.delay_s)
            if fail:
                raise RuntimeError("server overloaded")
            return [[Sample(self._answer(image, prompt))] * sampling.n for image in images]
        finally:
            with self.lock:
                self.in_flight -= 1

    @staticmethod
    def _answer(image, prompt) -> str:
        red = image.getpixel((0, 0))[0]
        if red == 0:
            return "I would rather not give a number."
        if red == 1:
            raise ValueError("image refused by content filter")
        answer = f"<answer>{round(red / 255, 2)}</answer>"
        return answer if "Do not explain" in prompt else f"<think>Pleasing light, balanced lines.</think>{answer}"


@pytest.fixture
def fake_backend():
    """A fresh ``FakeJudge`` backend, for an in-process ``AestheticReward`` (e.g. behind the reward service)."""
    return FakeJudge()


@pytest.fixture
def fake_judge():
    """(base_url, judge) of the local OpenAI-compatible server over one shared fake backend."""
    judge = FakeJudge()
    server = JudgeServer(lambda: judge, "judge", replicas=16).start()
    yield server.base_url, judge
    server.stop()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A tiny random-weight Qwen2-VL checkpoint folder (built offline)."""
    return str(save_tiny_vlm(tmp_path_factory.mktemp("tiny_qwen2_vl")))


@pytest.fixture(scope="session")
def draw():
    """draw(red, size=(40, 30)) -> an RGB PIL image the fake judge scores round(red / 255, 2)."""
    return lambda red, size=(40, 30): Image.new("RGB", size, (red, 90, 160))
