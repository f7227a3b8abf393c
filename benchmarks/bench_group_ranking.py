"""Within-group SRCC of two judges on held-out images: does RAPO's rank training order a GRPO group better?

A GRPO trainer uses the judge's scores *within* a group (K images of one prompt): the advantage is the
score minus the group mean over the group std, so only the order and relative gaps inside the group
matter. RAPO's rank reward trains exactly that (Aes-R1 Sec. 3: the judge is rewarded for ordering the
images of a batch as the labels do). The measurement: score every held-out image once with each judge
through the reward service (``group_ids`` gives the service's own ranks), draw ``--groups`` random groups
of K images, and compare the Spearman correlation of scores and labels inside each group, paired by group
(the same images for both judges): mean SRCC per judge, mean paired difference, Wilcoxon signed-rank
test. Groups drawn from one pool of images share images, so the p-value is optimistic; the image-level
bootstrap interval of the mean difference (``--bootstraps`` resamples of the pool) is the honest one.

    python benchmarks/bench_group_ranking.py --job /work/toy_main_job --k 4 8 --temperature 1.0 --n 4
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr, wilcoxon

from data_prep.decode import decode_table_image
from data_prep.tables import find_parquet_files, iter_rows
from recipe.aesr1.reward_model.service import RewardService
from recipe.aesr1.reward_model.service_cli import BackgroundServer
from recipe.aesr1.reward_model.service_client import RewardServiceClient
from recipe.aesr1.scoring import AestheticReward, RewardSettings
from recipe.aesr1.scoring.backends import image_seed


def score_all(model: Path, images: list, seeds: list[int], settings: RewardSettings) -> np.ndarray:
    """Every image's score through the service (NaN where the judge gave none), in requests of at most the
    service's ``max_images`` (the groups are drawn afterwards, from these per-image scores)."""
    reward = AestheticReward.from_backend("hf", str(model), settings, device="cpu", dtype="float32")
    service = RewardService(reward)
    size = service.settings.max_images
    raw: list = []
    with BackgroundServer(service) as url:
        client = RewardServiceClient(url, timeout_s=3600)
        for start in range(0, len(images), size):
            chunk = slice(start, start + size)
            raw += client.score_request(images[chunk], group_ids=[0] * len(images[chunk]), seeds=seeds[chunk])["raw"]
    reward.close()
    return np.array([np.nan if s is None else s for s in raw])


def group_srcc(scores: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """SRCC of scores and labels inside each group (rows of ``groups``); NaN where undefined (ties, missing)."""
    out = np.full(len(groups), np.nan)
    for g, members in enumerate(groups):
        s = scores[members]
        if np.isnan(s).any() or np.ptp(s) == 0 or np.ptp(labels[members]) == 0:
            continue
        out[g] = spearmanr(s, labels[members]).statistic
    return out


def compare(a: np.ndarray, b: np.ndarray, labels: np.ndarray, k: int, n_groups: int, n_boot: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    groups = np.array([rng.choice(len(labels), k, replace=False) for _ in range(n_groups)])
    ra, rb = group_srcc(a, labels, groups), group_srcc(b, labels, groups)
    both = ~np.isnan(ra) & ~np.isnan(rb)
    diff = rb[both] - ra[both]
    result = {"k": k, "groups": n_groups, "groups_defined_for_both": int(both.sum()),
              "defined_a": int((~np.isnan(ra)).sum()), "defined_b": int((~np.isnan(rb)).sum())}
    if both.sum() < 10:
        return {**result, "note": "too few groups with a defined SRCC for both judges (constant scores)"}
    boot = []
    for _ in range(n_boot):  # resample the image pool, redraw groups: the interval counts shared images
        pool = rng.choice(len(labels), len(labels), replace=True)
        drawn = np.array([pool[rng.choice(len(pool), k, replace=False)] for _ in range(200)])
        da, db = group_srcc(a, labels, drawn), group_srcc(b, labels, drawn)
        ok = ~np.isnan(da) & ~np.isnan(db)
        if ok.any():
            boot.append(float(np.mean(db[ok] - da[ok])))
    low, high = np.percentile(boot, [2.5, 97.5])
    return {**result, "mean_srcc_a": round(float(ra[both].mean()), 4), "mean_srcc_b": round(float(rb[both].mean()), 4),
            "mean_diff_b_minus_a": round(float(diff.mean()), 4), "b_better_in": int((diff > 0).sum()),
            "a_better_in": int((diff < 0).sum()), "wilcoxon_p": float(wilcoxon(diff).pvalue) if np.any(diff) else 1.0,
            "image_bootstrap_95ci_diff": [round(float(low), 4), round(float(high), 4)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", type=Path, required=True, help="main job folder (models/{sft,rapo}, data/ava/table)")
    parser.add_argument("--k", type=int, nargs="+", default=[4, 8], help="group sizes")
    parser.add_argument("--groups", type=int, default=1000, help="random groups per K")
    parser.add_argument("--bootstraps", type=int, default=200)
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--n", type=int, default=1, help="samples per image (score = their mean)")
    parser.add_argument("--max-new-tokens", type=int, default=96, help="the miniature's response length")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rows = list(iter_rows(find_parquet_files([str(args.job / "data" / "ava" / "table")]), "test", with_images=True))
    images = [decode_table_image(row.image).image for row in rows]
    labels = np.array([row.label for row in rows])
    seeds = [image_seed(0, f"ava/{row.id}") for row in rows]  # aesr1-eval's seeds: the same draws as its runs
    settings = RewardSettings(temperature=args.temperature, n=args.n, max_new_tokens=args.max_new_tokens, batch_size=8)
    scores = {name: score_all(args.job / "models" / name, images, seeds, settings) for name in ("sft", "rapo")}
    report = {"images": len(rows), "protocol": {"temperature": args.temperature, "n": args.n,
                                                "max_new_tokens": args.max_new_tokens},
              "distinct_scores": {name: int(len(np.unique(s[~np.isnan(s)]))) for name, s in scores.items()},
              "a": "sft", "b": "rapo",
              "by_k": [compare(scores["sft"], scores["rapo"], labels, k, args.groups, args.bootstraps, args.seed + k)
                       for k in args.k]}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
