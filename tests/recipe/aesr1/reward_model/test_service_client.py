"""The service's one client: retries like verl-omni's (408/429/5xx), refusals raise, adapters run through it."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from recipe.aesr1.reward_model.adapters import MMGRPOScorer, flow_grpo_reward
from recipe.aesr1.reward_model.service import RewardService
from recipe.aesr1.reward_model.service_cli import BackgroundServer
from recipe.aesr1.reward_model.service_client import (
    RewardServiceClient,
    RewardServiceError,
)
from recipe.aesr1.scoring import AestheticReward, RewardSettings


@pytest.fixture
def client(fake_backend):
    with BackgroundServer(RewardService(AestheticReward(fake_backend, RewardSettings(batch_size=4)))) as url:
        yield RewardServiceClient(url, max_images_per_request=3)


def test_flow_grpo_and_mm_grpo_adapters_run_through_the_client(client, draw):
    images = np.stack([np.asarray(draw(r)) for r in (100, 200, 0, 150, 50)]).transpose(0, 3, 1, 2) / 255.0  # float NCHW
    scores, info = flow_grpo_reward(client)(images, ["p"] * 5, {}, only_strict=True)
    assert scores.dtype == np.float32 and scores.tolist() == pytest.approx([0.39, 0.78, 0.0, 0.59, 0.2])
    assert info["status"] == ["ok", "ok", "no_score", "ok", "ok"] and info["failed"][2]
    assert info["counts"]["ok"] == 4  # merged over the two requests of 3 and 2 images
    assert MMGRPOScorer(client)([draw(100)]) == pytest.approx([0.39])


def test_score_groups_keeps_each_group_in_one_request(client, draw):
    groups = client.score_groups([draw(r) for r in (100, 200, 150, 50)], ["a", "a", "b", "b"])
    assert [(g["key"], g["ranks"], g["best"]) for g in groups] == [("a", [2, 1], 1), ("b", [1, 2], 0)]


class _Flaky(BaseHTTPRequestHandler):
    codes: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        code = self.codes.pop(0)
        body = b'{"error": "busy"}' if code != 200 else b'{"scores": [0.5], "raw": [0.5], "status": ["ok"]}'
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def flaky():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.mark.parametrize("codes, outcome", [
    ([503, 429, 200], 0.5),  # retried like verl-omni: 5xx and 429 ...
    ([408, 500, 200], 0.5),  # ... and 408
    ([503, 503, 503], "no answer after 3 attempts: HTTP 503: busy"),  # out of retries
    ([400], "HTTP 400: busy"),  # a refusal is not retried
])  # fmt: skip
def test_retry_policy(flaky, draw, codes, outcome):
    _Flaky.codes = list(codes)
    client = RewardServiceClient(f"http://127.0.0.1:{flaky.server_address[1]}", retry_backoff_s=0.0)
    if isinstance(outcome, float):
        assert client([draw(10)])[0].tolist() == [outcome]
    else:
        with pytest.raises(RewardServiceError, match=outcome):
            client([draw(10)])
    assert _Flaky.codes == []


def test_token_stays_out_of_repr():
    assert "abc123" not in repr(RewardServiceClient("http://x", token="abc123"))
