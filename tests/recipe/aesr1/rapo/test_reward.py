"""The per-sample half of the reward: directly, and through verl's real RewardLoopWorker (in-process)."""

import math
import os

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from recipe.aesr1.rapo.reward import compute_score
from reward_fns import error_reward

CONFIGS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "configs")
WELL_FORMED = "<think>balanced light, clean lines</think><answer>0.62</answer>"


def test_error_rank_reward_scores_error_term_and_reports_prediction():
    out = compute_score(
        "ava", WELL_FORMED, 0.70, {"id": "ava/1"}, reward="error+rank", params={"error": {"sigma": 0.1}}
    )
    expected = math.exp(-0.5 * (0.08 / 0.1) ** 2) + 1e-5  # Eq. 6 with the released code's 1e-5
    assert out["error"] == pytest.approx(expected)
    assert out["score"] == pytest.approx(expected)  # rank is added later by the trainer hook
    assert out["pred"] == pytest.approx(0.62)
    assert out["parse_failed"] == 0.0 and out["format_ok"] == 1.0


def test_keys_are_identical_for_parsed_and_unparsed_outputs():
    ok = compute_score("ava", WELL_FORMED, 0.5, reward="binary+rank")
    bad = compute_score("ava", "<think>nice</think><answer>very good</answer>", 0.5, reward="binary+rank")
    assert set(ok) == set(bad) == {"binary", "score", "pred", "parse_failed", "format_ok", "label"}
    assert math.isnan(bad["pred"]) and bad["parse_failed"] == 1.0
    assert bad["score"] == 0.0  # the reward floor for an unparseable answer


def test_batch_only_reward_scores_zero_per_sample():
    assert compute_score("ava", WELL_FORMED, 0.5, reward="rank")["score"] == 0.0


@pytest.mark.parametrize("label", [1.5, -0.1, float("nan"), "high", None])
def test_bad_label_names_the_sample(label):
    with pytest.raises(ValueError, match="ava/7"):
        compute_score("ava", WELL_FORMED, label, {"id": "ava/7"})


def test_unknown_reward_term_lists_known_terms():
    with pytest.raises(ValueError, match="known terms"):
        compute_score("ava", WELL_FORMED, 0.5, reward="error+rnak")


def word_tokenizer(words, path):
    """A word-level fast tokenizer saved to ``path`` (no download)."""
    specials = ["[PAD]", "[UNK]", "[EOS]"]
    vocab = {w: i for i, w in enumerate(specials + sorted(set(words)))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", eos_token="[EOS]")
    fast.save_pretrained(path)
    return fast


def test_reward_loop_worker_runs_compute_score_from_config(tmp_path):
    """verl's RewardLoopWorker loads our function from the composed config and scores decoded text."""
    from verl import DataProto
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker

    responses = [
        "<think> sharp subject </think> <answer> 0.8 </answer>",
        "<think> dull </think> <answer> bad </answer>",
    ]
    tokenizer = word_tokenizer(" ".join(responses + ["rate this"]).split(), tmp_path)
    with initialize_config_dir(config_dir=os.path.abspath(CONFIGS), version_base=None):
        config = compose(
            "rapo_trainer",
            overrides=[f"actor_rollout_ref.model.path={tmp_path}", "data.train_files=x", "data.val_files=x"],
        )
    worker = RewardLoopWorker(config)
    prompt = tokenizer("rate this", return_tensors="pt")["input_ids"][0]
    results = []
    for text in responses:
        response = tokenizer(text, return_tensors="pt")["input_ids"][0]
        data = DataProto.from_dict(
            tensors={
                "prompts": prompt[None],
                "responses": response[None],
                "attention_mask": torch.ones(1, prompt.numel() + response.numel(), dtype=torch.int64),
            },
            non_tensors={
                "data_source": np.array(["ava"], dtype=object),
                "reward_model": np.array([{"style": "rule", "ground_truth": 0.7}], dtype=object),
                "extra_info": np.array([{"id": "ava/1"}], dtype=object),
            },
        )
        results.append(worker.loop.run_until_complete(worker.compute_score(data)))  # the worker owns its event loop
    good, bad = (r["reward_extra_info"] for r in results)
    assert results[0]["reward_score"] == pytest.approx(float(error_reward(0.8, 0.7)))
    assert good["pred"] == pytest.approx(0.8) and good["format_ok"] == 1.0
    assert bad["parse_failed"] == 1.0 and results[1]["reward_score"] == 0.0
