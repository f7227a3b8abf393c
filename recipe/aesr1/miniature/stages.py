"""The stages of the miniature run, each through the command a user with data and GPUs runs.

data   -> ``aesr1-prep ava`` on a synthetic AVA-format release (labels follow what the pictures show)
aescot -> ``aesr1-aescot`` (configs/aescot.yaml) against the built-in rule-based expert on 127.0.0.1
sft    -> ``scripts/run_qwen2_5_vl_7b_sft_fsdp.sh`` (processor check, torchrun ``sft_trainer`` with
          configs/sft_trainer.yaml + ``+cpu=sft``, ``merge_to_hf.sh``)
rapo   -> ``scripts/run_qwen2_5_vl_7b_rapo_fsdp.sh`` (``recipe.aesr1.rapo.main`` with configs/rapo_trainer.yaml
          + ``+cpu=rapo``: error+rank, K = 4, the RAPO hook, validation, checkpoints; ``merge_to_hf.sh`` actor)
eval   -> ``aesr1-eval run --backend hf`` for the base, SFT and RAPO models, then ``aesr1-eval compare``

The trainers run as the launch scripts a GPU user runs, with the knobs of one CPU process (``CPU_KNOBS``)
and the CPU backend's environment (recipe/aesr1/cpu/launch.py), each logging to ``<stage>/<name>.log``;
a non-zero exit raises ``StageFailed`` with the log's tail.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from data_prep.atomic_files import write_json_atomic
from data_prep.parquet_io import sha256_file
from recipe.aesr1.cpu.launch import cpu_environment
from recipe.aesr1.miniature.settings import MiniatureSizes

REPO = Path(__file__).resolve().parents[3]
CONFIG_DIR = REPO / "configs"
SCRIPTS = REPO / "recipe" / "aesr1" / "scripts"
MODELS = ("base", "sft", "rapo")


class StageFailed(RuntimeError):
    """A stage's command failed; ``log`` is its log file and the message ends with its tail."""

    def __init__(self, stage: str, message: str, log: Path | None = None, tail_lines: int = 40):
        tail = ""
        if log is not None and log.is_file():
            lines = log.read_text(errors="replace").splitlines()
            tail = "\n".join(lines[-tail_lines:])
            message = f"{message} (log: {log})\n--- last {min(tail_lines, len(lines))} lines of {log.name} ---\n{tail}"
        super().__init__(f"stage '{stage}' failed: {message}")
        self.stage, self.log, self.tail = stage, log, tail


def run_logged(stage: str, command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    """Run ``command`` with stdout and stderr appended to ``log``; raise ``StageFailed`` on failure."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        handle.write(f"\n$ {' '.join(command)}\n")
        handle.flush()
        result = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    if result.returncode != 0:
        shown = command[command.index("bash"):] if command[0] == "env" else command  # the script, not its knobs
        raise StageFailed(stage, f"`{' '.join(shown[:4])} ...` exited with {result.returncode}", log)


RUN_RECORD = "run.json"
TRAINER_OUTPUTS = ("checkpoints", "metrics.jsonl")


def start_or_resume(stage: str, folder: Path, command: list[str], inputs: list[Path]) -> bool:
    """Let verl resume ``folder``'s checkpoints only for the same command on the same inputs.

    verl resumes from ``trainer.default_local_dir`` by itself (``resume_mode: auto``), which is right
    after a kill and wrong after a change: with other sizes, or an SFT model trained again, it would
    carry on from the old run (or stop at once, its step count reached) and report that as this run.
    So the command and a digest of the inputs are recorded in ``<folder>/run.json``; when they differ,
    the old checkpoints and metrics are removed first. Returns whether a previous run may be resumed.
    """
    record = {"command": command, "inputs": {str(path): file_digest(path) for path in inputs}}
    path = folder / RUN_RECORD
    previous = json.loads(path.read_text()) if path.is_file() else None
    same = previous == record
    if previous is not None and not same:
        print(f"{stage}: its command or inputs changed since the run in {folder}; starting afresh", flush=True)
    if not same:
        for name in TRAINER_OUTPUTS:
            target = folder / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    write_json_atomic(path, record)
    return same


def file_digest(path: Path) -> str:
    """sha256 of a file, or of every file below a folder (relative names and their sha256, in order)."""
    if path.is_file():
        return sha256_file(path)
    listing = "".join(f"{p.relative_to(path)}\0{sha256_file(p)}\n" for p in sorted(path.rglob("*")) if p.is_file())
    return hashlib.sha256(listing.encode()).hexdigest()


def require(stage: str, path: Path, producer: str) -> Path:
    """``path``, or ``StageFailed`` saying which stage makes it (a stage run on its own needs its inputs)."""
    if not path.exists():
        raise StageFailed(stage, f"needs {path}: run stage '{producer}' first")
    return path


def trainer_environment(base: dict[str, str]) -> dict[str, str]:
    """``base`` with this interpreter's bin folder first on PATH (the launch scripts' ``python3`` and ``torchrun``)."""
    env = dict(base)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = f"{REPO}{os.pathsep}{env['PYTHONPATH']}" if env.get("PYTHONPATH") else str(REPO)
    return env


# --- data and AesCoT (in this process) ---------------------------------------------------------


def run_data(out: Path, sizes: MiniatureSizes) -> dict:
    from data_prep.cli import main as prep
    from data_prep.sample_release import write_ava_like_release

    release = write_ava_like_release(out / "sample_release" / "AVA_dataset", n_images=sizes.n_images, seed=sizes.seed)
    target = out / "data" / "ava"
    if prep(["ava", "--root", str(release), "--out", str(target), "--workers", "1"]) != 0:
        raise StageFailed("data", f"data_prep failed on the sample release in {release}")
    return {"table": str(target / "table"), "rl": str(target / "rl")}


def run_aescot(out: Path, sizes: MiniatureSizes) -> dict:
    """AesCoT with the rule-based expert, and the tiny base model whose tokenizer covers its words."""
    import pyarrow.parquet as pq

    from recipe.aesr1.aescot.cli import main as aescot
    from recipe.aesr1.miniature.expert_server import ExpertServer
    from recipe.aesr1.miniature.tiny_model import save_tiny_qwen2_5_vl

    folder = out / "aescot"
    require("aescot", out / "data" / "ava" / "table", "data")
    with ExpertServer(port=0, seed=sizes.seed, wording=sizes.expert_wording) as server:
        code = aescot([
            "--config", str(CONFIG_DIR / "aescot.yaml"), "--quiet",
            f"expert.base_url={server.url}", "expert.api_key_env=null", "expert.max_concurrency=4",
            f"sampling.inputs=[{out / 'data' / 'ava' / 'table'}]", "sampling.preset=null",
            f"sampling.size={sizes.aescot_size}", f"sampling.seed={sizes.seed}",
            f"output.dir={folder}", "output.embed_images=true",
        ])  # fmt: skip
    sft = folder / "aescot_sft.parquet"
    if code != 0 or not sft.is_file():
        raise StageFailed("aescot", f"aesr1-aescot exited with {code} (records: {folder / 'records.jsonl'})")
    rows = pq.read_table(sft, columns=["messages", "level"]).to_pylist()
    stats = json.loads((folder / "stats.json").read_text())
    rejected = {k: v for k, v in stats["rejections_by_reason"].items() if v}
    if not rows:  # SFT on nothing would "succeed" and train nothing
        raise StageFailed("aescot", f"0 of {sizes.aescot_size} critiques kept; rejections: {rejected} "
                                    f"(records: {folder / 'records.jsonl'})")
    if len(rows) < sizes.aescot_size:  # a small release runs out of pictures of a level: said, not fatal
        print(f"aescot: {len(rows)} of {sizes.aescot_size} critiques kept (rejections: {rejected})", flush=True)
    texts = [message["content"] for row in rows for message in row["messages"]]
    base = save_tiny_qwen2_5_vl(out / "models" / "base", corpus_texts=texts, hidden_size=sizes.hidden_size,
                                text_layers=sizes.text_layers, seed=sizes.seed)
    return {"sft_rows": len(rows), "levels": {lvl: sum(r["level"] == lvl for r in rows) for lvl in ("bad", "fair", "good")},
            "stats": str(folder / "stats.json"), "rejections": rejected,
            "base_model": str(base)}


# --- the trainers (subprocesses with the CPU backend) -----------------------------------------


CPU_KNOBS = {"GPUS_PER_NODE": "1", "NNODES": "1", "NODE_RANK": "0", "MASTER_ADDR": "127.0.0.1", "ROLLOUT_TP": "1",
             "BACKEND": "fsdp", "CONFIG_DIR": str(CONFIG_DIR)}
"""scripts/knobs.sh's placement knobs for one CPU process (one gloo rank, one hf rollout server), the FSDP merge."""


def script_command(script: str, knobs: dict[str, str], overrides: list[str]) -> list[str]:
    """``env KNOB=value ... bash scripts/<script> OVERRIDE...``: the launch script a GPU user runs, on one CPU.

    Every knob the script reads is set (``CPU_KNOBS``, then ``knobs``), so a knob exported in the caller's
    shell cannot change the run; ``overrides`` reach hydra after the script's own ("$@").
    """
    settings = [f"{key}={value}" for key, value in {**CPU_KNOBS, **knobs}.items()]
    return ["env", *settings, "bash", str(SCRIPTS / script), *overrides]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sft_command(out: Path, sizes: MiniatureSizes) -> list[str]:
    """``run_qwen2_5_vl_7b_sft_fsdp.sh`` from the tiny base model on the AesCoT parquet, merged to ``models/sft``."""
    folder = out / "sft"
    knobs = {
        "MODEL_PATH": str(out / "models" / "base"), "TRAIN_FILES": str(out / "aescot" / "aescot_sft.parquet"),
        "VAL_FILES": "null", "EXPERIMENT": "miniature_sft",
        # total_training_steps stops the run; the epoch count only has to be large enough to reach it
        "EPOCHS": "100000", "CKPT_DIR": str(folder / "checkpoints"), "HF_DIR": str(out / "models" / "sft"),
    }
    return script_command("run_qwen2_5_vl_7b_sft_fsdp.sh", knobs, [
        "+cpu=sft", f"data.train_batch_size={sizes.sft_batch_size}", f"data.micro_batch_size_per_gpu={sizes.sft_batch_size}",
        "data.max_length=1024", f"trainer.total_training_steps={sizes.sft_steps}", f"optim.lr={sizes.sft_lr}",
        "optim.lr_scheduler_type=constant", f"trainer.save_freq={sizes.sft_steps}", "trainer.logger=[console,file]",
        f"hydra.run.dir={folder / 'hydra'}",
    ])  # fmt: skip


def run_sft(out: Path, sizes: MiniatureSizes) -> dict:
    folder = out / "sft"
    require("sft", out / "aescot" / "aescot_sft.parquet", "aescot")
    require("sft", out / "models" / "base", "aescot")
    env = trainer_environment(cpu_environment())
    env["VERL_FILE_LOGGER_PATH"] = str(folder / "metrics.jsonl")
    command = sft_command(out, sizes)
    start_or_resume("sft", folder, command, [out / "aescot" / "aescot_sft.parquet", out / "models" / "base"])
    # torchrun's rendezvous port is where the ranks meet, not what they train: a free one at each launch (another
    # job on this machine may hold 29500), so it stays out of the record that decides a resume
    run_logged("sft", ["env", f"MASTER_PORT={free_port()}", *command[1:]], log=folder / "sft.log", env=env, cwd=REPO)
    metrics = read_metrics(folder / "metrics.jsonl")
    return {"steps": len(metrics), "loss_first": _first(metrics, "train/loss"), "loss_last": _last(metrics, "train/loss"),
            "model": str(out / "models" / "sft")}


def rapo_command(out: Path, sizes: MiniatureSizes, model: Path, folder: Path, target: Path, extra: list[str] = (),
                 train_files: Path | None = None) -> list[str]:
    """``run_qwen2_5_vl_7b_rapo_fsdp.sh`` from ``model`` on the CPU backend with the miniature's sizes (the paper's
    method otherwise), checkpoints in ``folder``, the actor merged to ``target``; ``extra``: more hydra overrides.
    ``train_files``: another RL parquet than the main job's train shard."""
    rl = out / "data" / "ava" / "rl"
    knobs = {
        "MODEL_PATH": str(model), "TRAIN_FILES": str(train_files or one_shard(rl, "train")),
        "VAL_FILES": str(one_shard(rl, "test")), "REWARD": "error_rank", "RANK_GROUP_SIZE": "null",
        "EXPERIMENT": "miniature_rapo", "CKPT_DIR": str(folder / "checkpoints"), "HF_DIR": str(target),
    }
    return script_command("run_qwen2_5_vl_7b_rapo_fsdp.sh", knobs, [
        "+cpu=rapo", f"data.val_max_samples={sizes.rapo_val_images}", f"data.val_batch_size={sizes.rapo_val_images}",
        f"data.train_batch_size={sizes.rapo_batch_size}", f"actor_rollout_ref.actor.ppo_mini_batch_size={sizes.rapo_batch_size}",
        "data.max_prompt_length=512", f"data.max_response_length={sizes.max_response_length}",
        f"actor_rollout_ref.actor.optim.lr={sizes.rapo_lr}", "actor_rollout_ref.actor.optim.lr_scheduler_type=constant",
        f"data.seed={sizes.rapo_seed}", f"actor_rollout_ref.rollout.seed={sizes.rapo_seed}",
        f"trainer.total_training_steps={sizes.rapo_steps}", f"trainer.save_freq={max(1, sizes.rapo_steps // 2)}",
        f"trainer.test_freq={max(1, sizes.rapo_steps // 4)}", "trainer.max_actor_ckpt_to_keep=2",
        # one micro-batch of K x 8 trajectories or more per forward (tiny model; fewer Python round trips)
        *(f"actor_rollout_ref.{role}={4 * max(8, sizes.rapo_batch_size)}" for role in
          ("actor.ppo_micro_batch_size_per_gpu", "rollout.log_prob_micro_batch_size_per_gpu", "ref.log_prob_micro_batch_size_per_gpu")),
        "trainer.logger=[console,file]", f"hydra.run.dir={folder / 'hydra'}", *extra,
    ])  # fmt: skip


AGREEMENT_CORR = "training/rollout_actor_probs_pearson_corr"
AGREEMENT_DIFF = "training/rollout_probs_diff_mean"
MIN_AGREEMENT_CORR, MAX_AGREEMENT_DIFF = 0.999, 0.01
"""Healthy rollout/actor agreement on CPU (float32 rollout, bf16-mixed actor): measured 0.9999 and 0.0025."""


def rollout_disagreements(metrics: list[dict]) -> list[str]:
    """The training steps at which the rollout was not the policy being trained, one line each.

    verl logs the two metrics when ``rollout.calculate_log_probs`` is on (configs/rapo_common.yaml): the
    correlation of the probabilities the rollout sampled with and those the actor recomputes for the same
    tokens, and their mean absolute difference. A step that lacks them counts as a failure too.
    """
    problems = []
    for row in metrics:
        if "rapo/reward/total/mean" not in row["data"]:
            continue  # a validation-only row
        corr, diff = row["data"].get(AGREEMENT_CORR), row["data"].get(AGREEMENT_DIFF)
        if corr is None or diff is None:
            problems.append(f"step {row['step']}: no {AGREEMENT_CORR} / {AGREEMENT_DIFF} (is calculate_log_probs on?)")
        elif not (corr >= MIN_AGREEMENT_CORR and diff <= MAX_AGREEMENT_DIFF):
            problems.append(f"step {row['step']}: prob correlation {corr:.4f} (want >= {MIN_AGREEMENT_CORR}), "
                            f"mean prob difference {diff:.4f} (want <= {MAX_AGREEMENT_DIFF})")
    return problems


def run_rapo(out: Path, sizes: MiniatureSizes, folder: Path | None = None, model: Path | None = None,
             extra: list[str] = ()) -> dict:
    """RAPO from ``out/models/sft`` into ``folder`` (default ``out/rapo``), merged to ``model`` (``out/models/rapo``).

    ``extra``: more hydra overrides (e.g. ``reward@rapo.reward=rank`` for a Table 2 row). The stage fails
    when any step's rollout was not the trained policy (``rollout_disagreements``).
    """
    folder = folder or out / "rapo"
    model = model or out / "models" / "rapo"
    require("rapo", out / "models" / "sft", "sft")
    env = trainer_environment(cpu_environment())
    env["VERL_FILE_LOGGER_PATH"] = str(folder / "metrics.jsonl")
    log = folder / "rapo.log"
    command = rapo_command(out, sizes, out / "models" / "sft", folder, model, list(extra))
    start_or_resume("rapo", folder, command, [out / "models" / "sft", one_shard(out / "data" / "ava" / "rl", "train")])
    run_logged("rapo", command, log, env=env, cwd=REPO)
    metrics = read_metrics(folder / "metrics.jsonl")
    problems = rollout_disagreements(metrics)
    if problems:
        raise StageFailed("rapo", "the rollout sampled from another policy than the one trained:\n" + "\n".join(problems[:10]), log)
    steps = [row["data"] for row in metrics if "rapo/reward/total/mean" in row["data"]]
    rewards = [d["rapo/reward/total/mean"] for d in steps]
    quarter = max(1, len(rewards) // 4)
    return {"steps": len(steps), "model": str(model),
            "reward_first_quarter": sum(rewards[:quarter]) / quarter if rewards else None,
            "reward_last_quarter": sum(rewards[-quarter:]) / quarter if rewards else None,
            "agreement": {"min_prob_corr": min(d[AGREEMENT_CORR] for d in steps) if steps else None,
                          "max_prob_diff_mean": max(d[AGREEMENT_DIFF] for d in steps) if steps else None}}


# --- evaluation (in this process, the hf backend) ---------------------------------------------


def evaluate_model(sizes: MiniatureSizes, data: Path, model: Path, run_dir: Path, name: str) -> dict:
    """``aesr1-eval run`` of one model on the held-out split with the miniature's protocol (``eval_*`` sizes)."""
    from recipe.aesr1.evaluation.eval_cli import main as evaluate

    limit = ["--limit", str(sizes.eval_limit)] if sizes.eval_limit > 0 else []
    code = evaluate([
        "run", "--backend", "hf", "--device", "cpu", "--dtype", "float32", "--model", str(model), "--name", name,
        "--data", str(data), *limit, "--max-new-tokens", str(sizes.max_response_length),
        "--temperature", str(sizes.eval_temperature), "--n", str(sizes.eval_n), "--n-resamples", "1000", "--out", str(run_dir),
    ])  # fmt: skip
    if code != 0:
        raise StageFailed("eval", f"aesr1-eval run exited with {code} for the {name} model")
    return read_eval_metrics(run_dir)


def compare_runs(runs: dict[str, Path], out_dir: Path) -> dict:
    """``aesr1-eval compare`` (paired bootstrap on the same images; the first run is the baseline)."""
    from recipe.aesr1.evaluation.eval_cli import main as evaluate

    flags = [f"--run={name}={path}" for name, path in runs.items()]
    if evaluate(["compare", *flags, "--out", str(out_dir), "--no-paper-rows", "--n-resamples", "2000"]) != 0:
        raise StageFailed("eval", "aesr1-eval compare failed")
    return json.loads((out_dir / "comparison.json").read_text())


def run_eval(out: Path, sizes: MiniatureSizes) -> dict:
    results = {}
    for name in MODELS:
        model = require("eval", out / "models" / name, "aescot" if name == "base" else name)
        results[name] = evaluate_model(sizes, out / "data" / "ava" / "table", model, out / "eval" / name, name)
    # paired tests against the SFT model: does RAPO improve on its cold start (Table 1's question)?
    comparison = compare_runs({name: out / "eval" / name for name in ("sft", "rapo", "base")}, out / "eval" / "compare")
    results["rapo_vs_sft"] = paired_gains(comparison, "rapo")
    return results


def paired_gains(comparison: dict, model: str) -> dict:
    """``{metric: {delta, ci_low, ci_high, p_value, n_common_images}}`` of ``model`` against the baseline."""
    keep = ("delta", "ci_low", "ci_high", "p_value", "n_common_images")
    return {t["metric"]: {k: t[k] for k in keep} for t in comparison["paired_tests"] if t["model"] == model and t["tested"]}


def read_eval_metrics(run_dir: Path) -> dict:
    """Parse rate, PLCC and SRCC (with 95% intervals) of one ``aesr1-eval run`` folder (``metrics.json``)."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    (benchmark,) = metrics["benchmarks"].values()  # the miniature has one benchmark: the sample's test split
    samples = benchmark["total_samples"]
    return {
        "n_images": benchmark["n_images"],
        "parse_rate": 1.0 - benchmark["failed_samples"] / samples if samples else None,
        "plcc": benchmark["values"].get("plcc"),
        "srcc": benchmark["values"].get("srcc"),
        "plcc_ci": benchmark["intervals"].get("plcc"),
        "srcc_ci": benchmark["intervals"].get("srcc"),
    }


# --- helpers ----------------------------------------------------------------------------------


def read_metrics(path: Path) -> list[dict]:
    """verl's file logger: one ``{"step": n, "data": {...}}`` line per logged step."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _first(rows: list[dict], key: str) -> float | None:
    return next((row["data"][key] for row in rows if key in row["data"]), None)


def _last(rows: list[dict], key: str) -> float | None:
    return next((row["data"][key] for row in reversed(rows) if key in row["data"]), None)


def one_shard(folder: Path, split: str) -> Path:
    require("rapo", folder, "data")
    shards = sorted(folder.glob(f"{split}-*.parquet"))
    if len(shards) != 1:
        raise StageFailed("rapo", f"expected one {split} shard in {folder}, found {len(shards)}")
    return shards[0]
