"""The contact sheet: escaped model text, bursts collapsed to their best frame, and a real browser's view."""

import re
from pathlib import Path

from curation_photos import ARTIFACTS, open_in_chromium, save_photo
from PIL import Image

from recipe.aesr1.curation.contact_sheet import (
    render_contact_sheet,
    write_contact_sheet,
)


def _rows(folder: Path) -> list[dict]:
    colors = {"a": (200, 80, 40), "b": (40, 90, 200), "b2": (44, 92, 198), "c": (30, 160, 60)}
    rows = []
    for name, score, burst, rank in [("a", 0.41, "", None), ("b", 0.83, "burst-001", 1), ("b2", 0.62, "burst-001", 2), ("c", None, "", None)]:
        path = save_photo(Image.new("RGB", (300, 200), colors[name]), folder / f"{name}.jpg")
        rows.append({
            "path": str(path), "score": score, "spread": 0.05 if score else None, "n_samples": 4,
            "level": {0.41: "fair", 0.83: "good", 0.62: "fair"}.get(score, ""), "status": "ok" if score else "no_score",
            "detail": "" if score else "no parseable answer in 4 sample(s)",
            "reasoning": "Soft light, calm mood, subject on the left third, muted teal, even exposure: a fine picture.",
            "burst": burst, "burst_rank": rank, "burst_size": 2 if burst else 1, "burst_best": rank == 1,
        })  # fmt: skip
    rows[0]["reasoning"] = "<script>window.__xss__ = 1</script> harsh light & <b>clutter</b>."
    (folder / "gone.jpg").write_bytes(b"\xff\xd8 truncated")
    rows.append({**rows[3], "path": str(folder / "gone.jpg"), "status": "unreadable", "reasoning": ""})
    return rows


def test_the_page_escapes_model_text_and_collapses_bursts(tmp_path):
    page = render_contact_sheet(_rows(tmp_path))
    assert "<script>" not in page and "&lt;script&gt;window" in page  # split into clauses, each escaped
    assert "1&lt;/script&gt; harsh light &amp; &lt;b&gt;clutter&lt;/b&gt;" in page
    order = [m.group(1) for m in re.finditer(r'alt="([a-z0-9]+)\.jpg"', page)]
    assert order == ["b", "b2", "a", "c"]  # best first (b2 inside b's burst), the unscored last
    assert page.index('alt="b2.jpg"') > page.index("<details>") > page.index('alt="b.jpg"')
    assert "1 more frame of burst-001" in page and "no preview: unreadable" in page
    assert "Light and shadow" in page and "Color" in page and "&plusmn; 0.05 (4 samples)" in page
    assert 'src="http' not in page and "<link" not in page  # self-contained


def test_a_row_without_a_file_is_shown_by_its_key(tmp_path):
    """Rows of a parquet table scored by aesr1-score ray carry no path: a card with no preview, not a crash."""
    table_row = {"key": "ava/953619", "path": None, "score": 0.61, "spread": 0.0, "n_samples": 1, "level": "fair",
                 "status": "ok", "detail": "", "reasoning": "Soft light."}
    page = render_contact_sheet([table_row])
    assert '<div class="name">ava/953619</div>' in page and "no preview" in page and "0.61" in page


def test_the_page_loads_in_headless_chromium_without_errors(tmp_path):
    sheet = write_contact_sheet(_rows(tmp_path), tmp_path / "sheet.html")

    def open_the_burst(page):
        assert not page.is_visible("img[alt='b2.jpg']")  # collapsed ...
        page.click("summary")
        assert page.is_visible("img[alt='b2.jpg']")  # ... one click away
        assert not page.evaluate("window.__xss__ === 1")

    seen = open_in_chromium(sheet, ARTIFACTS / "contact_sheet.png", act=open_the_burst)
    assert len(seen["images"]) == 4 and all(done and width > 0 for _, done, width in seen["images"]), seen["images"]
    assert seen["problems"] == []
    assert (ARTIFACTS / "contact_sheet.png").stat().st_size > 5_000
