"""``aesr1-demo``: try a checkpoint in the browser. Upload one or several photos; get each one's score,
level, spread and the critique split by the five Table 5 dimensions, and for several photos their ranking
(the group scoring of the reward service, ``scoring.groups.score_groups``).

    aesr1-demo --model CKPT --backend vllm                 # http://127.0.0.1:7860
    aesr1-demo --model outputs/main/models/rapo --backend hf --temperature 0

Gradio is an optional extra (``pip install -e .[demo]``). The page is served on 127.0.0.1 unless
``--host`` says otherwise; uploads are decoded by the project's guarded decoder (a file that is not an
image, or is too large, is reported, not scored). The same function answers Gradio's API
(``gradio_client.Client(url).predict(files, api_name="/score")``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from data_prep.decode import decode_image
from data_prep.pixel_budget import DEFAULT_MAX_PIXELS
from recipe.aesr1.curation.contact_sheet import DIMENSION_TITLES
from recipe.aesr1.scoring.cli_options import (
    add_backend_args,
    add_sampling_args,
    backend_from_args,
)
from recipe.aesr1.scoring.critique import critique_by_dimension
from recipe.aesr1.scoring.groups import score_groups
from recipe.aesr1.scoring.scorer import AestheticReward, RewardSettings

RANKING_COLUMNS = ["rank", "photo", "score", "level", "spread", "status"]


def score_photos(reward: AestheticReward, files: list[str] | None, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[str, list[list]]:
    """(a Markdown report per photo, the ranking table rows) for uploaded file paths, best first."""
    if not files:
        return "Upload one or more photos.", []
    loaded = [(Path(f), decode_image(Path(f), max_pixels)) for f in files]
    usable = [(path, image) for path, image in loaded if image.usable]
    (group,) = score_groups(reward, [image.image for _, image in usable]) if usable else (None,)
    entries = []
    for k, (path, _) in enumerate(usable):
        result = group.results[k]
        entries.append((group.ranks[k], path.name, result))
    order = sorted(entries, key=lambda e: (e[0] is None, e[0] or 0))
    table = [[rank, name, None if r.score is None else round(r.score, 3), r.level, None if r.spread is None else round(r.spread, 3), r.status]
             for rank, name, r in order]  # fmt: skip
    table += [[None, path.name, None, "", None, image.status] for path, image in loaded if not image.usable]
    report = [_photo_report(rank, name, result) for rank, name, result in order]
    report += [f"### {path.name}\nnot scored: {image.status} ({image.detail})" for path, image in loaded if not image.usable]
    return "\n\n".join(report), table


def _photo_report(rank: int | None, name: str, result) -> str:
    if result.score is None:
        return f"### {name}\nno score: {result.status} {result.error}".rstrip()
    spread = f" ± {result.spread:.2f} over {len(result.samples)} samples" if len(result.samples) > 1 else ""
    lines = [f"### #{rank} {name}: {result.score:.2f} ({result.level}){spread}"]
    parts = critique_by_dimension(result.reasoning)
    lines += [f"- **{DIMENSION_TITLES[d]}**: {'; '.join(clauses)}" for d, clauses in parts.items() if clauses]
    return "\n".join(lines)


def build_demo(reward: AestheticReward, title: str = "Aes-R1 aesthetic judge", max_pixels: int = DEFAULT_MAX_PIXELS):
    """The Gradio app (not launched)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home
    import gradio as gr

    with gr.Blocks(title=title) as demo:
        gr.Markdown(f"# {title}\nUpload one or several photos: score in [0, 1], level, the critique by dimension, and their ranking.")
        files = gr.File(file_count="multiple", file_types=["image"], type="filepath", label="Photos")
        button = gr.Button("Score", variant="primary")
        ranking = gr.Dataframe(headers=RANKING_COLUMNS, label="Ranking", interactive=False)
        report = gr.Markdown()
        button.click(lambda paths: score_photos(reward, paths, max_pixels), inputs=files, outputs=[report, ranking],
                     api_name="score")
    return demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aesr1-demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_backend_args(parser)
    add_sampling_args(parser)
    parser.add_argument("--mode", choices=("reasoning", "score_only"), default="reasoning")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    settings = RewardSettings(mode=args.mode, temperature=args.temperature, n=args.n, top_p=args.top_p, seed=args.seed)
    reward = AestheticReward(backend_from_args(args), settings)
    build_demo(reward).launch(server_name=args.host, server_port=args.port, share=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
