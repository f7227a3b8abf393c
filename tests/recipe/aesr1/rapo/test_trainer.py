"""The RAPO hook against a real TransferQueue, verl's real reward loop and verl's own GRPO advantage.

What runs here (CPU, local Ray with 2 CPUs): a batch of N = 3 images x K = 4 responses is tokenized
with an offline word-level tokenizer, scored by verl's ``RewardLoopManager`` worker (a Ray actor
running ``recipe.aesr1.rapo.reward.compute_score``), written to the TransferQueue in the layout
of ``AgentLoopWorkerTQ._agent_loop_postprocess`` (keys ``{uid}_{session}_0``, ``rm_scores`` with the
reward on the last token, ``extra_fields.reward_extra_info``), then ``RapoTrainer._compute_advantage``
adds the rank term and calls verl's ``PPOTrainer._compute_advantage``. What does not run: generation
(vLLM/SGLang) and the FSDP actor, which need GPUs; the rollouts are fixed strings instead.
"""

import os

import numpy as np
import pytest
import ray
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from scipy.stats import norm
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

CONFIGS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "configs"))
LABELS = {"img-a": 0.2, "img-b": 0.5, "img-c": 0.8}
ANSWERS = {  # K = 4 outputs per image; "x" is an answer that does not parse
    "img-a": ["0.3", "0.1", "0.25", "0.6"],
    "img-b": ["0.5", "x", "0.45", "0.7"],
    "img-c": ["0.9", "0.65", "0.8", "0.2"],
}
K = 4
GROUPS = {"img-a": "g1", "img-b": "g1", "img-c": "g2"}  # RED-Aes source-edit groups (extra_info.group_id)
REWARDS = sorted(f[: -len(".yaml")] for f in os.listdir(os.path.join(CONFIGS, "reward")) if f.endswith(".yaml"))


def response_text(answer: str) -> str:
    return f"<think> warm light strong frame </think> <answer> {answer} </answer>"


def word_tokenizer(path) -> PreTrainedTokenizerFast:
    words = {w for answers in ANSWERS.values() for a in answers for w in response_text(a).split()}
    words |= {"rate", "this", "image"}
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[EOS]"] + sorted(words))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", eos_token="[EOS]")
    fast.save_pretrained(path)
    return fast


def compose_config(tokenizer_dir, reward="error_rank", extra=()):
    with initialize_config_dir(config_dir=CONFIGS, version_base=None):
        config = compose(
            "rapo_trainer",
            overrides=[
                f"reward@rapo.reward={reward}",
                f"actor_rollout_ref.model.path={tokenizer_dir}",
                "data.train_files=unused.parquet",
                "data.val_files=unused.parquet",
                "reward.num_workers=1",
                "trainer.logger=[console]",
                "transfer_queue.backend.SimpleStorage.num_data_storage_units=1",
                "transfer_queue.backend.SimpleStorage.total_storage_size=1000",
                *extra,
            ],
        )
    OmegaConf.resolve(config)  # what TaskRunnerV1.run does before building the trainer
    return config


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    import transfer_queue as tq

    tokenizer_dir = tmp_path_factory.mktemp("tokenizer")
    tokenizer = word_tokenizer(tokenizer_dir)
    config = compose_config(tokenizer_dir)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        tq.init(config.transfer_queue)
        yield tokenizer, tokenizer_dir, config
        tq.close()
    finally:
        ray.shutdown()


def reward_data(tokenizer, uid, text):
    """One trajectory as AgentLoopWorker._compute_score hands it to a reward loop worker."""
    from verl import DataProto

    prompt = tokenizer("rate this image", return_tensors="pt")["input_ids"][0]
    response = tokenizer(text, return_tensors="pt")["input_ids"][0]
    data = DataProto.from_dict(
        tensors={
            "prompts": prompt[None],
            "responses": response[None],
            "attention_mask": torch.ones(1, prompt.numel() + response.numel(), dtype=torch.int64),
        },
        non_tensors={
            "uid": np.array([uid], dtype=object),
            "data_source": np.array(["ava"], dtype=object),
            "reward_model": np.array([{"style": "rule", "ground_truth": LABELS[uid]}], dtype=object),
            "extra_info": np.array([{"id": uid}], dtype=object),
        },
    )
    return prompt, response, data


def put_batch(tokenizer, score, step):
    """Score every response with ``score(data)`` and store it like AgentLoopWorkerTQ does; return the batch meta."""
    import transfer_queue as tq
    from transfer_queue import KVBatchMeta
    from verl.experimental.agent_loop.agent_loop import (
        AgentLoopMetrics,
        AgentLoopOutput,
    )
    from verl.utils.tensordict_utils import list_of_dict_to_tensordict

    keys = []
    for uid, answers in ANSWERS.items():
        for session, answer in enumerate(answers):
            prompt, response, data = reward_data(tokenizer, uid, response_text(answer))
            result = score(data)
            output = AgentLoopOutput(
                prompt_ids=prompt.tolist(),
                response_ids=response.tolist(),
                response_mask=[1] * response.numel(),
                reward_score=result["reward_score"],
                metrics=AgentLoopMetrics(),
                extra_fields={"reward_extra_info": result["reward_extra_info"]},
            )
            field = output.as_dict()
            field.update(
                uid=f"{uid}-{step}",
                data_source="ava",
                reward_model={"ground_truth": LABELS[uid]},
                extra_info={"id": uid, "group_id": GROUPS[uid]},
            )
            key = f"{uid}-{step}_{session}_0"
            tq.kv_batch_put(keys=[key], partition_id="train", fields=list_of_dict_to_tensordict([field]), tags=[{}])
            keys.append(key)
    return KVBatchMeta(partition_id="train", keys=keys, tags=[{} for _ in keys])


def slow_rank_reward(preds, gt, gamma=1e-6):
    """Eqs. 3-5 of Aes-R1 by loops; NaN predictions earn 0 and are left out of mu_j and sigma_j."""
    n = len(preds)
    mu = [np.nanmean(p) for p in preds]
    var = [np.nanvar(p, ddof=1) for p in preds]
    out = np.zeros((n, K))
    for i in range(n):
        for k in range(K):
            if np.isnan(preds[i][k]):
                continue
            total = 0.0
            for j in range(n):
                if j == i:
                    continue
                p = norm.cdf((preds[i][k] - mu[j]) / np.sqrt(var[i] + var[j] + gamma))  # Eq. 3
                pc = 1.0 if gt[i] >= gt[j] else 0.0  # Eq. 5
                total += np.sqrt(pc * p) + np.sqrt((1 - pc) * (1 - p))  # Eq. 4
            out[i, k] = total / (n - 1)
    return out


def hand_rewards(reward_terms):
    preds = [[np.nan if a == "x" else float(a) for a in ANSWERS[u]] for u in ANSWERS]
    gt = [LABELS[u] for u in ANSWERS]
    total = np.zeros((len(gt), K))
    if "error" in reward_terms:
        for i, row in enumerate(preds):
            for k, p in enumerate(row):
                total[i, k] += 0.0 if np.isnan(p) else np.exp(-0.5 * ((p - gt[i]) / 0.1) ** 2) + 1e-5  # Eq. 6
    if "rank" in reward_terms:
        total += slow_rank_reward(preds, gt)
    return total


def grpo_by_hand(rewards):
    """Eq. 9 as verl implements it: (r - mean) / (unbiased std + 1e-6) within each image's K outputs."""
    mean = rewards.mean(axis=1, keepdims=True)
    std = rewards.std(axis=1, ddof=1, keepdims=True)
    return (rewards - mean) / (std + 1e-6)


def read_back(batch, fields):
    import transfer_queue as tq

    data = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=fields)
    return {f: [row for row in data[f].unbind()] for f in fields}


def test_hook_adds_rank_term_and_grpo_normalises_per_image(cluster):
    from verl.experimental.reward_loop import RewardLoopManager
    from verl.trainer.ppo.padding_utils import upsample_batch_to_divisible_size

    from recipe.aesr1.rapo.trainer import RapoTrainer

    tokenizer, _, config = cluster
    manager = RewardLoopManager(config)  # real Ray actor running our compute_score
    worker = manager.reward_loop_worker_handles[0]
    batch = put_batch(tokenizer, lambda data: ray.get(worker.compute_score.remote(data)), step=0)
    # verl's _balance_batch pads to a multiple of dp x mini-batch with copies of row 0 under a new uid
    batch = upsample_batch_to_divisible_size(batch, 16, tokenizer.eos_token_id)
    assert len(batch.keys) == 16 and sum(tag.get("is_padding", False) for tag in batch.tags) == 4

    trainer = RapoTrainer(config)
    metrics = {}
    trainer._compute_advantage(batch, metrics)

    back = read_back(batch, ["rm_scores", "advantages", "response_mask"])
    assert all(float(r.abs().sum()) == 0.0 for r in back["rm_scores"][12:])  # padding is not an image
    assert all(float(a.abs().sum()) == 0.0 for a in back["advantages"][12:])
    back = {field: rows[:12] for field, rows in back.items()}
    rewards = np.array([float(r.sum()) for r in back["rm_scores"]]).reshape(3, K)
    expected_rewards = hand_rewards({"error", "rank"})
    np.testing.assert_allclose(rewards, expected_rewards, atol=1e-5)
    assert all(float(r[:-1].abs().sum()) == 0.0 for r in back["rm_scores"])  # reward stays on the last token

    advantages = np.array([float(a[0]) for a in back["advantages"]]).reshape(3, K)
    for adv, mask in zip(back["advantages"], back["response_mask"], strict=True):
        torch.testing.assert_close(adv, adv[0] * mask.float())  # one advantage per output, on every token
    np.testing.assert_allclose(advantages.sum(axis=1), 0.0, atol=1e-5)  # zero-mean per image group
    np.testing.assert_allclose(advantages, grpo_by_hand(expected_rewards), atol=1e-4)

    assert metrics["rapo/parse_failure_rate"] == pytest.approx(1 / 12)
    assert metrics["rapo/reward/rank/mean"] == pytest.approx(hand_rewards({"rank"}).mean(), abs=1e-5)
    assert metrics["rapo/reward/error/mean"] == pytest.approx(hand_rewards({"error"}).mean(), abs=1e-6)
    assert metrics["rapo/label/mean"] == pytest.approx(0.5)
    assert -1.0 <= metrics["rapo/batch_srcc"] <= 1.0 and -1.0 <= metrics["rapo/batch_plcc"] <= 1.0


@pytest.mark.parametrize("reward", REWARDS)
def test_every_configured_reward_runs_through_reward_worker_and_hook(cluster, reward):
    """Each ablation YAML: verl's RewardLoopWorker (in-process) scores, the hook adds its batch terms."""
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker

    from recipe.aesr1.rapo.trainer import RapoTrainer
    from reward_fns import RewardSpec, compute_rewards, group_by_id

    tokenizer, tokenizer_dir, _ = cluster
    config = compose_config(tokenizer_dir, reward)
    worker = RewardLoopWorker(config)
    step = REWARDS.index(reward) + 1  # fresh keys per reward in the shared TransferQueue
    batch = put_batch(tokenizer, lambda data: worker.loop.run_until_complete(worker.compute_score(data)), step)

    trainer = RapoTrainer(config)
    metrics = {}
    trainer._compute_advantage(batch, metrics)

    back = read_back(batch, ["rm_scores", "advantages"])
    rewards = np.array([float(r.sum()) for r in back["rm_scores"]])
    spec = RewardSpec.parse(config.rapo.reward.name, config.rapo.reward.weights, config.rapo.reward.params)
    preds = [None if a == "x" else float(a) for u in ANSWERS for a in ANSWERS[u]]
    grouped = group_by_id([u for u in ANSWERS for _ in range(K)], preds, [LABELS[u] for u in ANSWERS for _ in range(K)])
    fmt = np.ones_like(grouped.valid)
    expected = compute_rewards(spec, grouped.preds, grouped.valid, grouped.gt, format_ok=fmt).total
    np.testing.assert_allclose(rewards, grouped.to_flat(expected), atol=1e-5)
    advantages = np.array([float(a[0]) for a in back["advantages"]]).reshape(3, K)
    np.testing.assert_allclose(advantages.sum(axis=1), 0.0, atol=1e-4)
    for term in spec.terms:
        assert f"rapo/reward/{term}/mean" in metrics


def test_only_the_last_output_of_each_session_is_scored():
    from recipe.aesr1.rapo.trainer import final_outputs

    keys = ["u1_0_0", "u1_0_1", "u1_1_0", "a_b_0_0"]  # a multi-turn session; a uid holding "_"
    assert final_outputs(keys).tolist() == [False, True, True, True]
    with pytest.raises(ValueError, match="unexpected TransferQueue key"):
        final_outputs(["u1-0"])


def test_group_key_scopes_the_batch_terms_to_each_group(cluster):
    """RED-Aes: with rapo.group_key, images are compared only within their extra_info group."""
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker

    from recipe.aesr1.rapo.trainer import RapoTrainer
    from reward_fns import consistency_reward, group_by_id

    tokenizer, tokenizer_dir, _ = cluster
    config = compose_config(tokenizer_dir, "consistency", extra=["rapo.group_key=group_id"])
    worker = RewardLoopWorker(config)
    batch = put_batch(tokenizer, lambda data: worker.loop.run_until_complete(worker.compute_score(data)), step=100)
    trainer = RapoTrainer(config)
    trainer._compute_advantage(batch, {})

    rewards = np.array([float(r.sum()) for r in read_back(batch, ["rm_scores"])["rm_scores"]]).reshape(3, K)
    g1 = ("img-a", "img-b")
    preds = [None if a == "x" else float(a) for u in g1 for a in ANSWERS[u]]
    pair = group_by_id([u for u in g1 for _ in range(K)], preds, [LABELS[u] for u in g1 for _ in range(K)])
    expected = consistency_reward(pair.preds, pair.valid, pair.gt)  # group g1 alone
    np.testing.assert_allclose(rewards[:2], expected, atol=1e-5)
    assert np.all(rewards[2] == 0.0)  # img-c is alone in g2: nobody to compare with
    whole_batch = compose_config(tokenizer_dir, "consistency")
    assert RapoTrainer(whole_batch).scope.group_key is None


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["rapo.group_key=group_id", "rapo.rank_group_size=8"], "set one"),
        (["rapo.shuffled_groups=true"], "needs rapo.group_key"),
        (["rapo.group_key=''"], "non-empty"),
    ],
)
def test_group_scope_conflicts_fail_at_start_up(tmp_path, overrides, message):
    from recipe.aesr1.rapo.config import check_rapo_config

    word_tokenizer(tmp_path)
    with pytest.raises(ValueError, match=message):
        check_rapo_config(compose_config(tmp_path, "consistency", extra=overrides))


def test_batch_store_reads_rows_and_writes_rm_scores_on_the_real_transfer_queue(cluster):
    """The hook's whole surface on verl's batch store (rapo_batch_store), against verl 0.9.1's TransferQueue."""
    import transfer_queue as tq
    from verl.trainer.ppo.padding_utils import upsample_batch_to_divisible_size

    from recipe.aesr1.rapo.batch_store import read_rows, write_rm_scores

    tokenizer, _, _ = cluster

    def score(data):
        return {"reward_score": 0.25, "reward_extra_info": {"pred": 0.5, "error": 0.25}}

    batch = upsample_batch_to_divisible_size(put_batch(tokenizer, score, step=200), 16, tokenizer.eos_token_id)
    rows = read_rows(batch, ["uid", "rm_scores", "reward_model", "extra_fields"])
    assert rows.keys == list(batch.keys) and len(rows.keys) == 16
    assert rows.padding.tolist() == [False] * 12 + [True] * 4  # verl's tags, as a bool array
    assert [str(u) for u in list(rows.fields["uid"])][:4] == ["img-a-200"] * 4
    rm = rows.tensor_rows("rm_scores")
    assert len(rm) == 16 and all(float(r[-1]) == 0.25 for r in rm[:12])  # verl keeps the reward on the last token
    assert rows.fields["extra_fields"][0]["reward_extra_info"]["pred"] == 0.5

    changed = [r.clone() for r in rm]
    for i, r in enumerate(changed):
        r[-1] += i
    write_rm_scores(batch, changed)
    again = read_rows(batch, ["rm_scores", "uid"]).tensor_rows("rm_scores")
    for before, after in zip(changed, again, strict=True):
        torch.testing.assert_close(after, before)
    direct = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=["response_mask"])
    assert len(list(direct["response_mask"].unbind())) == 16  # other fields are untouched and still readable
    with pytest.raises(ValueError, match="16 rows"):
        write_rm_scores(batch, changed[:3])
