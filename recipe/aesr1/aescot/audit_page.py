"""A self-contained HTML page for the human audit of Sec. 3.2: a seeded sample of kept and rejected
records, each with its image (embedded), true score and level, critique and every filter verdict.

In each critique every number and number word is marked (``leakage.number_marks``): highlighted when
score-like words stand near it, underlined otherwise, so an auditor checks a page by reading the marks."""

from __future__ import annotations

import html
import random
from typing import Any

from recipe.aesr1.aescot import record_result as rr
from recipe.aesr1.aescot.leakage import number_marks
from recipe.aesr1.endpoints.data_urls import image_bytes, thumbnail_data_url

_STYLE = """
body{font-family:sans-serif;margin:2em;max-width:1100px} h2{border-bottom:1px solid #999}
.card{display:flex;gap:1.2em;border:1px solid #ccc;border-radius:6px;padding:1em;margin:1em 0}
.card img{max-width:320px;max-height:320px;object-fit:contain;flex:none}
.kept{border-left:6px solid #2a2} .rejected{border-left:6px solid #c33}
.meta{color:#444;font-size:.9em} .critique{white-space:pre-wrap;margin:.6em 0}
table{border-collapse:collapse;font-size:.9em} td,th{border:1px solid #ddd;padding:2px 8px;text-align:left}
.reject,.failed{color:#c33;font-weight:bold} .pass{color:#2a2}
mark.near{background:#ffd54f;font-weight:bold} span.num{border-bottom:2px dotted #888}
"""


def marked_critique(critique: str) -> str:
    """``critique`` as escaped HTML with each number wrapped: ``<mark class="near">`` near score-like words,
    ``<span class="num">`` elsewhere."""
    parts, position = [], 0
    for mark in number_marks(critique):
        parts.append(html.escape(critique[position : mark.start]))
        number = html.escape(critique[mark.start : mark.end])
        parts.append(f'<mark class="near">{number}</mark>' if mark.near_score else f'<span class="num">{number}</span>')
        position = mark.end
    parts.append(html.escape(critique[position:]))
    return "".join(parts)


def audit_sample(results: list[rr.RecordResult], per_group: int, seed: int) -> dict[str, list[rr.RecordResult]]:
    """Up to ``per_group`` kept and ``per_group`` rejected records, drawn with ``seed``, in result order."""
    rng = random.Random(seed)
    sample = {}
    for status in (rr.KEPT, rr.REJECTED):
        members = [r for r in results if r.status == status]
        chosen = set(rng.sample(range(len(members)), min(per_group, len(members))))
        sample[status] = [r for i, r in enumerate(members) if i in chosen]
    return sample


def _card(result: rr.RecordResult, image: dict[str, Any] | None) -> str:
    try:
        img = f'<img src="{thumbnail_data_url(image_bytes(image or {}, where=result.record_id))}" alt="">'
    except (ValueError, OSError) as error:
        img = f"<div>(image unreadable: {html.escape(str(error))})</div>"
    rows = []
    for stage in ("leakage", "alignment", "factual"):
        verdict = result.verdicts.get(stage, "-")
        detail = ""
        if stage == "leakage" and result.leakage:
            detail = "; ".join(f"{f['code']}: \u201c{f['text']}\u201d" for f in result.leakage)
        elif stage == "alignment" and result.predicted_level is not None:
            detail = f"judge says {result.predicted_level}, true level {result.level}"
        elif stage == "factual" and result.unsupported_claims:
            detail = "; ".join(result.unsupported_claims)
        if stage in result.errors:
            detail = f"{detail} {result.errors[stage]}".strip()
        rows.append(f'<tr><td>{stage}</td><td class="{html.escape(verdict)}">{html.escape(verdict)}</td>'
                    f"<td>{html.escape(detail)}</td></tr>")
    reasons = ", ".join(result.reasons) or "none"
    critique = marked_critique(result.critique) if result.critique is not None else "<i>(no critique)</i>"
    return (
        f'<div class="card {html.escape(result.status)}">{img}<div>'
        f'<div class="meta"><b>{html.escape(result.record_id)}</b> &middot; true score {result.score:.2f} '
        f"({html.escape(result.level)}) &middot; {html.escape(result.status)} &middot; reasons: "
        f"{html.escape(reasons)} &middot; finish: {html.escape(str(result.finish_reason))}</div>"
        f'<div class="critique">{critique}</div>'
        f"<table><tr><th>filter</th><th>verdict</th><th>detail</th></tr>{''.join(rows)}</table>"
        f"</div></div>"
    )


def audit_html(results: list[rr.RecordResult], images: dict[str, dict[str, Any]], per_group: int, seed: int) -> str:
    """The audit page as one HTML string (images as base64 JPEG thumbnails, no external resources)."""
    sample = audit_sample(results, per_group, seed)
    kept_total = sum(r.status == rr.KEPT for r in results)
    rejected_total = sum(r.status == rr.REJECTED for r in results)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>AesCoT audit</title>",
        f"<style>{_STYLE}</style></head><body><h1>AesCoT human audit</h1>",
        f"<p>Seeded sample (seed {seed}) of {len(sample[rr.KEPT])} of {kept_total} kept and "
        f"{len(sample[rr.REJECTED])} of {rejected_total} rejected records. Check that kept critiques leak no "
        "score, argue for the true level and describe only what the image shows; check that each rejection "
        "is deserved.</p>",
        '<p>In critiques, <mark class="near">highlighted</mark> numbers stand near score-like words (rating, '
        'scale, out of, percent, perfect, above ...); <span class="num">underlined</span> ones do not.</p>',
    ]
    for status, title in ((rr.KEPT, "Kept"), (rr.REJECTED, "Rejected")):
        parts.append(f"<h2>{title} ({len(sample[status])})</h2>")
        parts += [_card(result, images.get(result.record_id)) for result in sample[status]]
    parts.append("</body></html>")
    return "\n".join(parts)
