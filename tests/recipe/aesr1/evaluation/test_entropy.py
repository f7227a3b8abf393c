"""Token entropy from full logits and from top-k logprobs, and its token-mean average."""

import json
import math

import numpy as np
import pytest
import torch

from recipe.aesr1.evaluation.entropy import average_token_entropy, entropy_figure
from recipe.aesr1.scoring.backends.base import Sample
from recipe.aesr1.scoring.token_entropy import (
    token_entropy_from_logits,
    token_entropy_from_top_logprobs,
)


def _slow_entropy(logits_row, temperature):
    z = [v / temperature for v in logits_row]
    top = max(z)
    weights = [math.exp(v - top) for v in z]
    total = sum(weights)
    return -sum(w / total * math.log(w / total) for w in weights if w > 0)


def test_uniform_and_one_hot_by_hand():
    uniform = torch.zeros(1, 8)
    assert token_entropy_from_logits(uniform).item() == pytest.approx(math.log(8))
    peaked = torch.tensor([[0.0, -1e9, -1e9]])  # all mass on one token
    assert token_entropy_from_logits(peaked).item() == pytest.approx(0.0, abs=1e-9)
    # two equal logits and one impossible: log 2
    assert token_entropy_from_logits(torch.tensor([[1.0, 1.0, -float("inf")]])).item() == pytest.approx(math.log(2))


def test_matches_slow_reference_and_temperature_sharpens():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(5, 17))
    for temperature in (1.0, 0.6, 2.0):
        got = token_entropy_from_logits(torch.tensor(logits), temperature).numpy()
        expected = [_slow_entropy(row, temperature) for row in logits]
        np.testing.assert_allclose(got, expected, rtol=1e-5)
    hot = token_entropy_from_logits(torch.tensor(logits), 2.0)
    cold = token_entropy_from_logits(torch.tensor(logits), 0.5)
    assert (cold < hot).all()


def test_greedy_temperature_uses_model_distribution():
    logits = torch.randn(3, 10)
    torch.testing.assert_close(token_entropy_from_logits(logits, 0.0), token_entropy_from_logits(logits, 1.0))


def test_top_k_entropy_is_a_lower_bound_of_the_full_entropy():
    rng = np.random.default_rng(1)
    logits = torch.tensor(rng.normal(0, 2, size=(6, 50)))
    full = token_entropy_from_logits(logits).numpy()
    log_p = torch.log_softmax(logits, -1).numpy()
    for k in (1, 5, 20, 50):
        top = np.sort(log_p, axis=1)[:, ::-1][:, :k]
        truncated = token_entropy_from_top_logprobs(top)
        assert (truncated <= full + 1e-5).all()  # float32 entropy vs float64 logprobs
    np.testing.assert_allclose(token_entropy_from_top_logprobs(log_p), full, rtol=1e-5)  # k = V is exact


def test_average_is_token_mean_not_sample_mean():
    samples = [Sample("a", 1, 3.0, "full_vocab"), Sample("b", 3, 3.0, "full_vocab"), Sample("c")]
    value, kind, tokens = average_token_entropy(samples)
    assert (value, kind, tokens) == (6.0 / 4, "full_vocab", 4)  # sample-mean would be (3 + 1) / 2


def test_average_refuses_to_mix_kinds_and_handles_none():
    with pytest.raises(ValueError, match="different kinds"):
        average_token_entropy([Sample("a", 1, 1.0, "full_vocab"), Sample("b", 1, 1.0, "top_k")])
    value, kind, tokens = average_token_entropy([Sample("x")])
    assert math.isnan(value) and kind is None and tokens == 0


def test_figure_gives_token_mean_and_verls_seq_mean_with_its_label():
    # verl's actor/entropy under seq-mean-token-mean: mean of (3/1, 3/3) = 2, not the token-mean 6/4
    samples = [Sample("a", 1, 3.0, "full_vocab"), Sample("b", 3, 3.0, "full_vocab"), Sample("c")]
    figure = entropy_figure(samples, temperature=1.0, prompt_set="2 RL training prompts (train split of ava)")
    assert (figure.token_mean, figure.seq_mean_token_mean, figure.n_tokens, figure.n_sequences) == (1.5, 2.0, 4, 2)
    assert figure.label == "T=1, 2 RL training prompts (train split of ava), full_vocab"
    assert figure.to_json()["value"] == 1.5 and figure.to_json()["temperature"] == 1.0
    assert entropy_figure([], 0.0, "test images").label == "T=1, test images, not available"  # greedy: T=1


class LogitsBackend:
    """A stand-in policy with fixed next-token logits: full-vocabulary entropy at the asked temperature."""

    name = "hf"

    def __init__(self, kind="full_vocab"):
        self.kind, self.calls = kind, []
        self.logits = torch.tensor(np.random.default_rng(0).normal(0, 2, size=(5, 40)))

    def generate(self, images, prompt, sampling, seeds):
        self.calls.append((len(images), prompt, sampling))
        entropy = token_entropy_from_logits(self.logits, sampling.temperature)
        return [[Sample("<answer>0.5</answer>", 5, float(entropy.sum()), self.kind)] * sampling.n for _ in images]


def _rl_table(tmp_path, helpers):
    rows = [{"id": f"t{i}", "dataset": "ava", "split": "train", "score": 0.5, "image_bytes": helpers.png_bytes(90)}
            for i in range(6)]
    rows += [{"id": "x0", "dataset": "ava", "split": "test", "score": 0.5, "image_bytes": helpers.png_bytes(90)}]
    rows += [{"id": "bad", "dataset": "ava", "split": "train", "score": 0.5, "image_bytes": b"not an image"}]
    path = tmp_path / "ava.parquet"
    helpers.write_table(path, rows)
    return path


def test_table3_mode_measures_at_rollout_temperature_on_training_prompts(tmp_path, helpers):
    from data_prep.prompts import SCORING_PROMPT
    from recipe.aesr1.evaluation.policy_entropy import (
        measure_policy_entropy,
        sample_training_prompts,
    )

    table = _rl_table(tmp_path, helpers)
    chosen = sample_training_prompts([table], n_prompts=7, seed=0)
    assert len(chosen) == 7 and ("ava", "x0") not in chosen  # train split only
    assert sample_training_prompts([table], 3, seed=1) == sample_training_prompts([table], 3, seed=1)
    backend = LogitsBackend()
    figure = measure_policy_entropy(backend, [str(table)], tmp_path / "e.json", n_prompts=7, batch_size=4)
    sampling = backend.calls[0][2]
    assert (sampling.temperature, sampling.top_p, sampling.max_new_tokens) == (1.0, 1.0, 1024)
    assert backend.calls[0][1] == SCORING_PROMPT and sum(c[0] for c in backend.calls) == 6  # "bad" skipped
    expected = token_entropy_from_logits(backend.logits, 1.0).mean().item()
    assert figure.token_mean == pytest.approx(expected) and figure.temperature == 1.0
    # the evaluation's T = 0.6 on the same logits is a much smaller number: why the label matters
    assert token_entropy_from_logits(backend.logits, 0.6).mean().item() < 0.8 * expected
    written = json.loads((tmp_path / "e.json").read_text())
    assert written["average_token_entropy"]["label"] == "T=1, 6 RL training prompts (train split of ava), full_vocab"
    assert written["skipped_images"] == ["ava/bad: unreadable"]


def test_table3_mode_refuses_top_k_entropy(tmp_path, helpers):
    from recipe.aesr1.evaluation.policy_entropy import measure_policy_entropy

    with pytest.raises(ValueError, match="full-vocabulary"):
        measure_policy_entropy(LogitsBackend("top_k"), [str(_rl_table(tmp_path, helpers))], tmp_path / "e.json", 2)
