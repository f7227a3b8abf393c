"""The endpoint client against a real loopback server: retries, timeouts, failures, concurrency, key."""

from __future__ import annotations

import asyncio
import logging

import pytest

from recipe.aesr1.aescot.requests import parse_level
from recipe.aesr1.endpoints.chat_client import (
    ChatEndpoint,
    FatalEndpointError,
    resolve_api_key,
)
from recipe.aesr1.endpoints.config import EndpointConfig

SECRET = "sk-client-secret"
CRITIQUE = [{"role": "user", "content": "Overall this is a decent photograph."}]


def endpoint_config(url: str, **changes) -> EndpointConfig:
    values = dict(base_url=url, model="judge", api_key_env="AESCOT_TEST_KEY", max_retries=5,
                  backoff_base_s=0.005, backoff_max_s=0.02, timeout_s=5.0, max_concurrency=4)
    values.update(changes)
    return EndpointConfig(**values)


def complete(config: EndpointConfig, key: str, validate=lambda text: None):
    async def go():
        async with ChatEndpoint(config, "judge") as endpoint:
            return await endpoint.complete(CRITIQUE, validate, request_key=key)

    return asyncio.run(go())


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("AESCOT_TEST_KEY", SECRET)


def test_every_transient_failure_is_retried_to_success(chat_server):
    script = {"a": ["429", "500", "drop", "malformed", "nochoices"]}
    with chat_server(script=script) as server:
        result = complete(endpoint_config(server.url), "alignment/ava/a/h")
    assert (result.ok, result.text, result.attempts) == (True, "fair", 6)
    assert [r["behaviour"] for r in server.requests] == script["a"] + ["ok"]


def test_retries_run_out_into_a_recorded_failure(chat_server):
    with chat_server(script={"a": ["503"] * 10}) as server:
        result = complete(endpoint_config(server.url, max_retries=2), "alignment/ava/a/h")
    assert not result.ok and result.text is None
    assert result.attempts == 3 and len(server.requests) == 3
    assert "HTTP 503" in result.error


def test_retry_after_is_honoured(chat_server):
    with chat_server(script={"a": ["retry-after:0.3"]}) as server:
        result = complete(endpoint_config(server.url, backoff_max_s=1.0), "alignment/ava/a/h")
    assert result.ok and result.attempts == 2
    assert server.requests[1]["time"] - server.requests[0]["time"] >= 0.3  # the backoff alone is <= 0.005 s


def test_a_timeout_is_retried(chat_server):
    # The second, prompt answer must beat the timeout even on a loaded machine: 0.3 s gave 3 attempts there.
    with chat_server(script={"a": ["delay:2.5"]}) as server:
        result = complete(endpoint_config(server.url, timeout_s=1.0), "alignment/ava/a/h")
    assert result.ok and result.attempts == 2


def test_a_reply_failing_validation_is_retried(chat_server):
    with chat_server() as server:
        result = complete(endpoint_config(server.url, max_retries=1), "alignment/ava/garbage/h", parse_level)
    assert not result.ok and result.attempts == 2
    assert "expected exactly one of" in result.error


def test_a_bad_request_fails_at_once(chat_server):
    with chat_server(script={"a": ["400"]}) as server:
        result = complete(endpoint_config(server.url), "alignment/ava/a/h")
    assert not result.ok and result.attempts == 1 and "HTTP 400" in result.error


def test_an_unauthorised_endpoint_stops_the_run(chat_server):
    with chat_server(script={"a": ["401"]}) as server:
        with pytest.raises(FatalEndpointError, match="judge endpoint http://127.0.0.1"):
            complete(endpoint_config(server.url), "alignment/ava/a/h")


def test_concurrency_is_bounded(chat_server):
    async def many(url: str):
        async with ChatEndpoint(endpoint_config(url, max_concurrency=2), "judge") as endpoint:
            return await asyncio.gather(*(endpoint.complete(CRITIQUE, request_key=f"alignment/ava/{i}/h")
                                          for i in range(8)))

    with chat_server(delay_s=0.05) as server:
        results = asyncio.run(many(server.url))
    assert all(r.ok for r in results)
    assert server.max_in_flight == 2


def test_the_key_is_sent_but_never_logged(chat_server, caplog):
    caplog.set_level(logging.DEBUG)
    with chat_server(script={"a": ["429", "500"] * 5}) as server:
        complete(endpoint_config(server.url, max_retries=3), "alignment/ava/a/h")
    assert server.authorizations == {f"Bearer {SECRET}"}
    assert "giving up" in caplog.text and SECRET not in caplog.text


def test_missing_key_variable_is_named_and_null_means_no_key(monkeypatch):
    monkeypatch.delenv("AESCOT_TEST_KEY")
    with pytest.raises(ValueError, match="'AESCOT_TEST_KEY'"):
        resolve_api_key(endpoint_config("http://127.0.0.1:9/v1"))
    assert resolve_api_key(endpoint_config("http://127.0.0.1:9/v1", api_key_env=None)) == "EMPTY"


@pytest.mark.parametrize("fault", ["empty", "nonutf8", "malformed", "nochoices", "502", "drop"])
def test_each_malformed_or_failed_reply_is_retried(chat_server, fault):
    with chat_server(script={"a": [fault, fault]}) as server:
        result = complete(endpoint_config(server.url), "alignment/ava/a/h")
    assert (result.ok, result.text, result.attempts) == (True, "fair", 3)


def test_timeout_is_a_deadline_for_the_whole_reply(chat_server):
    # The reply trickles in over ~1.5 s, each byte well within any per-read timeout: a deadline of
    # 0.5 s per attempt abandons it and the next attempt (answered at once) succeeds.
    with chat_server(script={"a": ["trickle:1.5"]}) as server:
        result = complete(endpoint_config(server.url, timeout_s=0.5), "alignment/ava/a/h")
    assert result.ok and result.attempts == 2
    assert server.requests[1]["time"] - server.requests[0]["time"] < 1.2


def test_an_echoed_key_is_redacted_from_errors(chat_server):
    with chat_server(script={"a": ["echo:400"], "b": ["echo:401"]}) as server:
        result = complete(endpoint_config(server.url), "alignment/ava/a/h")
        with pytest.raises(FatalEndpointError) as raised:
            complete(endpoint_config(server.url), "alignment/ava/b/h")
    assert not result.ok and "bad request with header" in result.error
    for text in (result.error, str(raised.value)):
        assert SECRET not in text and "client-secret" not in text and "[REDACTED]" in text
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_redact_covers_keys_bearer_tokens_and_sk_tokens():
    from recipe.aesr1.endpoints.chat_client import redact

    text = 'key my-own-key9 / Authorization: Bearer abc.def-123 / {"k": "sk-proj-AbC123xyz"} / EMPTY'
    cleaned = redact(text, ["my-own-key9", "EMPTY"])
    assert "my-own-key9" not in cleaned and "abc.def-123" not in cleaned and "sk-proj" not in cleaned
    assert "Bearer [REDACTED]" in cleaned and cleaned.endswith("EMPTY")  # the placeholder is no secret


def test_n_choices_and_params_reach_the_endpoint(chat_server):
    async def go(url):
        async with ChatEndpoint(endpoint_config(url), "judge") as endpoint:
            return await endpoint.complete(CRITIQUE, request_key="alignment/ava/a/h", params={"seed": 3})

    with chat_server() as server:
        result = asyncio.run(go(server.url))
    assert result.choices[0].text == "fair" and len(result.choices) == 1
