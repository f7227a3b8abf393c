"""A contact sheet: one self-contained HTML page of the scored photos, best first, with the critiques.

Thumbnails are embedded (JPEG data URIs, decoded through the project's guarded decoder), styles are
inline and there is no script: the page opens from disk, in a mail, or behind any static server. Each
card shows the score, the level (Appendix E.2), the spread over the judge's samples, the critique split by
the five Table 5 dimensions and the burst it belongs to. A burst is collapsed to its best frame; the
other frames are one click away (a ``<details>`` element). Every text the model wrote is escaped.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from data_prep.atomic_files import write_text_atomic
from data_prep.decode import decode_image
from recipe.aesr1.scoring.critique import critique_by_dimension

THUMBNAIL_SIDE = 320
DIMENSION_TITLES = {
    "light_and_shadow": "Light and shadow", "mood_and_narrative": "Mood and narrative", "composition": "Composition",
    "color": "Color", "exposure": "Exposure", "overall": "Overall",
}  # fmt: skip

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;background:#f6f6f4;color:#222}
h1{font-size:1.3rem;margin:0 0 .3rem}.meta{color:#666;margin-bottom:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:1rem}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;padding:.7rem}
.card img{display:block;max-width:100%;max-height:{{ side }}px;margin:0 auto .5rem;border-radius:4px}
.head{display:flex;gap:.6rem;align-items:baseline;flex-wrap:wrap}
.score{font-size:1.4rem;font-weight:600}.level{padding:0 .4rem;border-radius:4px;color:#fff}
.good{background:#2e7d32}.fair{background:#9e7d10}.bad{background:#b23b3b}.none{background:#888}
.name{color:#555;word-break:break-all;font-size:.85rem}
table{border-collapse:collapse;width:100%;margin-top:.4rem;font-size:.85rem}
td{border-top:1px solid #eee;padding:.2rem .3rem;vertical-align:top}td.d{color:#666;width:8.5rem}
.burst{font-size:.8rem;color:#345}.failed{color:#b23b3b}
details{margin-top:.5rem}summary{cursor:pointer;color:#345}
details .grid{grid-template-columns:repeat(auto-fill,minmax(300px,1fr));margin-top:.5rem}
</style></head>
<body>
<h1>{{ title }}</h1>
<div class="meta">{{ n_photos }} photos, {{ n_scored }} scored{% if n_bursts %}, {{ n_bursts }} burst{{ 's' if n_bursts > 1 }} collapsed to {{ 'their' if n_bursts > 1 else 'its' }} best frame{% endif %}{% if model %} &middot; judge: {{ model }}{% endif %}</div>
<div class="grid">
{% for card in cards %}{{ render(card) }}{% endfor %}
</div>
</body></html>
"""

CARD = """<div class="card" id="{{ c.anchor }}">
{% if c.thumbnail %}<img src="data:image/jpeg;base64,{{ c.thumbnail }}" alt="{{ c.name }}" width="{{ c.width }}" height="{{ c.height }}">{% else %}<div class="failed">no preview: {{ c.image_status }}</div>{% endif %}
<div class="head">{% if c.score is not none %}<span class="score">{{ '%.2f' % c.score }}</span>{% else %}<span class="score">&ndash;</span>{% endif %}
<span class="level {{ c.level or 'none' }}">{{ c.level or c.status }}</span>
{% if c.spread is not none and c.n_samples > 1 %}<span title="std over {{ c.n_samples }} samples">&plusmn; {{ '%.2f' % c.spread }} ({{ c.n_samples }} samples)</span>{% endif %}
{% if c.rank %}<span>#{{ c.rank }}</span>{% endif %}</div>
<div class="name">{{ c.name }}</div>
{% if c.burst %}<div class="burst">{{ c.burst }}: frame {{ c.burst_rank or '–' }} of {{ c.burst_size }}{% if c.burst_best %} (best){% endif %}</div>{% endif %}
{% if c.detail and c.score is none %}<div class="failed">{{ c.detail }}</div>{% endif %}
{% if c.dimensions %}<table>{% for title, text in c.dimensions %}<tr><td class="d">{{ title }}</td><td>{{ text }}</td></tr>{% endfor %}</table>{% endif %}
{% if c.others %}<details><summary>{{ c.others|length }} more frame{{ 's' if c.others|length > 1 }} of {{ c.burst }}</summary><div class="grid">
{% for other in c.others %}{{ render(other) }}{% endfor %}</div></details>{% endif %}
</div>
"""


def thumbnail(path: str | Path, side: int = THUMBNAIL_SIDE) -> tuple[str, int, int] | None:
    """Base64 JPEG of the photo within ``side`` x ``side`` (EXIF orientation applied); None if unreadable."""
    loaded = decode_image(Path(path), max_pixels=side * side)
    if not loaded.usable:
        return None
    image = loaded.image.copy()
    image.thumbnail((side, side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return base64.b64encode(buffer.getvalue()).decode("ascii"), image.width, image.height


def _card(row: dict, index: int, side: int) -> dict:
    path = row.get("path")  # None for a row of a parquet table (aesr1-score ray): no file to show
    thumb = thumbnail(path, side) if path else None
    parts = critique_by_dimension(row.get("reasoning", ""))
    return {
        **{key: row.get(key) for key in ("score", "spread", "level", "status", "detail", "rank", "burst", "burst_rank", "burst_size", "burst_best")},
        "n_samples": row.get("n_samples") or 0,
        "name": Path(path).name if path else row.get("key", ""), "anchor": f"photo-{index}",
        "thumbnail": thumb[0] if thumb else None, "width": thumb[1] if thumb else 0, "height": thumb[2] if thumb else 0,
        "image_status": row.get("status", ""),
        "dimensions": [(DIMENSION_TITLES[name], "; ".join(clauses)) for name, clauses in parts.items() if clauses],
        "others": [],
    }  # fmt: skip


def _best_first(row: dict) -> tuple:
    return (row.get("score") is None, -(row.get("score") or 0.0))


def render_contact_sheet(rows: Sequence[dict], title: str = "Aes-R1 contact sheet", model: str = "", side: int = THUMBNAIL_SIDE) -> str:
    """The page for ``aesr1-score`` rows (``path``, ``score``, ``reasoning``, ...; burst fields optional)."""
    cards = {id(row): _card(row, k, side) for k, row in enumerate(rows)}
    shown, bursts = [], {}
    for row in sorted(rows, key=_best_first):
        burst = row.get("burst")
        if burst and burst in bursts:
            cards[id(bursts[burst])]["others"].append(cards[id(row)])
            continue
        if burst:
            bursts[burst] = row  # the best-scored frame leads its burst (sorted best first)
        shown.append(cards[id(row)])
    environment = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    card = environment.from_string(CARD)

    def render(c: dict) -> str:
        return Markup(card.render(c=c, render=render))  # already escaped: safe to nest

    return environment.from_string(TEMPLATE).render(
        title=title, side=side, cards=shown, render=render, model=model, n_photos=len(rows),
        n_scored=sum(r.get("score") is not None for r in rows), n_bursts=len(bursts),
    )  # fmt: skip


def write_contact_sheet(rows: Sequence[dict], out: Path, **options) -> Path:
    write_text_atomic(out, render_contact_sheet(rows, **options))
    return out
