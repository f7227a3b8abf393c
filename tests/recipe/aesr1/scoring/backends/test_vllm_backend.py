"""The vLLM backend's glue, against a stand-in ``vllm`` module (vLLM itself needs a GPU).

This checks what we hand to vLLM (chat messages, per-request SamplingParams) and how its outputs
become samples; it cannot check vLLM's behaviour, which is only exercised on a GPU machine.
"""

import math
import sys
import types
from dataclasses import dataclass, field

import pytest
from PIL import Image

from data_prep.prompts import SCORING_PROMPT
from recipe.aesr1.scoring.backends import SamplingSettings, make_backend


@dataclass
class _Logprob:
    logprob: float


@dataclass
class _Completion:
    text: str
    token_ids: list
    logprobs: list | None = None


@dataclass
class _Output:
    outputs: list = field(default_factory=list)


class _FakeLLM:
    def __init__(self, model, **kwargs):
        self.model, self.kwargs, self.calls = model, kwargs, []

    def chat(self, conversations, sampling_params, use_tqdm):
        self.calls.append((conversations, sampling_params))
        step = {1: _Logprob(math.log(0.5)), 2: _Logprob(math.log(0.5))}
        return [
            _Output([_Completion("<think>x</think><answer>0.6</answer>", [1, 2], [step, step]) for _ in range(p.n)])
            for p in sampling_params
        ]


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM = _FakeLLM
    module.SamplingParams = lambda **kwargs: types.SimpleNamespace(**kwargs)
    monkeypatch.setitem(sys.modules, "vllm", module)
    return module


def test_requests_and_outputs(fake_vllm):
    backend = make_backend("vllm", "/ckpt", tensor_parallel_size=2)
    assert backend.llm.kwargs == {"tensor_parallel_size": 2, "limit_mm_per_prompt": {"image": 1}}
    sampling = SamplingSettings(temperature=0.6, n=2, max_new_tokens=99, top_logprobs=2)
    out = backend.generate([Image.new("RGB", (8, 8)), Image.new("RGB", (9, 9))], SCORING_PROMPT, sampling, [5, 6])
    conversations, params = backend.llm.calls[0]
    content = conversations[0][0]["content"]
    assert [part["type"] for part in content] == ["text", "image_url", "text"]
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert [(p.seed, p.n, p.max_tokens, p.temperature, p.top_k, p.logprobs) for p in params] == [
        (5, 2, 99, 0.6, -1, 2),
        (6, 2, 99, 0.6, -1, 2),
    ]
    assert [len(samples) for samples in out] == [2, 2]
    sample = out[0][0]
    assert (sample.n_tokens, sample.entropy_kind) == (2, "top_k")
    assert sample.entropy_sum == pytest.approx(2 * math.log(2))


def test_missing_vllm_says_what_to_do(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import fails as on a CPU machine
    with pytest.raises(ImportError, match="--backend hf"):
        make_backend("vllm", "/ckpt")
