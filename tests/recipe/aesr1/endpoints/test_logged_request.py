"""One logged request against a real loopback server: asked once, resumed from the log, cost recorded."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest

from recipe.aesr1.endpoints.chat_client import ChatEndpoint
from recipe.aesr1.endpoints.config import EndpointConfig
from recipe.aesr1.endpoints.logged_request import LoggedRequests, payload_for_key
from recipe.aesr1.endpoints.request_log import RequestLog

SECRET = "sk-logged-secret"
# The fake server answers the "alignment" stage with the level word of "this is a <word> photograph".
CRITIQUE = [{"role": "user", "content": "Overall this is a decent photograph."}]


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("AESCOT_TEST_KEY", SECRET)


def ask(url: str, log_path, record_id: str = "ava/x", retry_failed: bool = False, copies: int = 1):
    """``(entries, requests_made)`` of ``copies`` identical asks made at the same time through one log."""
    config = EndpointConfig(base_url=url, model="judge", api_key_env="AESCOT_TEST_KEY", max_retries=2,
                            backoff_base_s=0.005, backoff_max_s=0.02, timeout_s=5.0)

    def validate(text: str) -> None:
        if text not in ("bad", "fair", "good"):
            raise ValueError(f"not a level: {text!r}")

    async def go():
        async with ChatEndpoint(config, "judge") as endpoint:
            with RequestLog(log_path) as log:
                requests = LoggedRequests(log, retry_failed)
                entries = await asyncio.gather(
                    *(requests.ask(endpoint, "alignment", record_id, CRITIQUE, validate) for _ in range(copies))
                )
                return entries, requests.requests_made

    return asyncio.run(go())


def lines(log_path) -> list[dict]:
    return [json.loads(line) for line in log_path.read_text().splitlines()]


def test_a_finished_request_is_logged_with_its_cost_and_never_asked_again(chat_server, tmp_path):
    log_path = tmp_path / "requests.jsonl"
    with chat_server() as server:
        (entry,), made = ask(server.url, log_path)
        assert entry.ok and entry.text == "fair" and made == 1
        assert entry.seconds > 0 and (entry.prompt_tokens, entry.completion_tokens) == (1, 3)
        assert entry.key.startswith("alignment/ava/x/") and entry.model == "judge"
        assert lines(log_path) == [{**lines(log_path)[0], "seconds": entry.seconds, "prompt_tokens": 1,
                                    "completion_tokens": 3, "outcome": "ok", "attempts": 1}]
        (again,), made = ask(server.url, log_path)
        assert again == entry and made == 0 and len(server.requests) == 1


def test_a_logged_failure_is_final_unless_retry_failed(chat_server, tmp_path):
    log_path = tmp_path / "requests.jsonl"
    with chat_server(script={"alignment/x": ["400"]}) as server:  # only the first attempt fails
        (failed,), _ = ask(server.url, log_path)
        assert not failed.ok and "400" in failed.error and failed.attempts == 1
        (kept,), made = ask(server.url, log_path)
        assert kept == failed and made == 0
        (retried,), made = ask(server.url, log_path, retry_failed=True)
        assert retried.ok and made == 1
    assert [line["outcome"] for line in lines(log_path)] == ["failed", "ok"]  # the later line wins on resume
    with RequestLog(log_path) as log:
        assert log.get(retried.key).ok


def test_identical_requests_in_flight_share_one(chat_server, tmp_path):
    log_path = tmp_path / "requests.jsonl"
    with chat_server(delay_s=0.05) as server:
        entries, made = ask(server.url, log_path, copies=3)
    assert made == 1 and len(server.requests) == 1 and len(lines(log_path)) == 1
    assert entries[0] == entries[1] == entries[2]


def test_a_line_written_before_costs_were_kept_still_resumes(chat_server, tmp_path):
    log_path = tmp_path / "requests.jsonl"
    with chat_server() as server:
        (entry,), _ = ask(server.url, log_path)
        old = {k: v for k, v in lines(log_path)[0].items() if k not in ("seconds", "prompt_tokens",
                                                                         "completion_tokens")}
        log_path.write_text(json.dumps(old) + "\n")
        (resumed,), made = ask(server.url, log_path)
    assert made == 0 and resumed.text == entry.text and resumed.seconds == 0.0 and resumed.prompt_tokens is None


def test_an_echoed_key_never_reaches_the_log(chat_server, tmp_path):
    log_path = tmp_path / "requests.jsonl"
    with chat_server(script={"alignment/x": ["echo:400"]}) as server:
        (entry,), _ = ask(server.url, log_path)
    assert not entry.ok and SECRET not in log_path.read_text()


def test_key_payload_replaces_each_image_by_its_digest():
    url = "data:image/png;base64,AAAA"
    messages = [{"role": "user", "content": [{"type": "text", "text": "Rate it."},
                                             {"type": "image_url", "image_url": {"url": url}}]}]
    payload = payload_for_key("m", messages, temperature=0.7)
    digest = "sha256:" + hashlib.sha256(url.encode()).hexdigest()
    assert payload["messages"][0]["content"][1] == {"type": "image_url", "image_url": {"url": digest}}
    assert "AAAA" not in str(payload) and payload["temperature"] == 0.7
    # two images in one request keep two different digests (RED-Aes compares source and edit)
    two = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": u}} for u in (url, url + "B")]}]
    first, second = payload_for_key("m", two)["messages"][0]["content"]
    assert first != second
