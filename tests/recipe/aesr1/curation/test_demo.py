"""``aesr1-demo``: the Gradio app answering through Gradio's own client, with the main job's trained judge."""

import os

import pytest
from curation_photos import ARTIFACTS, held_out_originals
from trained_main_job import SIZES

from recipe.aesr1.curation.demo import RANKING_COLUMNS, build_demo, score_photos
from recipe.aesr1.scoring import AestheticReward, RewardSettings
from recipe.aesr1.scoring.backends import make_backend

gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def judge(main_job):
    backend = make_backend("hf", str(main_job / "models" / "rapo"), device="cpu")
    reward = AestheticReward(backend, RewardSettings(temperature=0.0, max_new_tokens=SIZES.max_response_length))
    yield reward
    reward.close()


def test_the_demo_scores_and_ranks_uploads_through_gradios_client(main_job, judge, tmp_path):
    photos = held_out_originals(main_job, 3)
    junk = tmp_path / "notes.jpg"
    junk.write_text("not a photo")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    demo = build_demo(judge)
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        client = gradio_client.Client(demo.local_url, verbose=False)
        report, table = client.predict([gradio_client.handle_file(str(p)) for p in [*photos, junk]], api_name="/score")
    finally:
        demo.close()
    expected_report, expected_rows = score_photos(judge, [str(p) for p in [*photos, junk]])
    assert table["headers"] == RANKING_COLUMNS
    rows = [dict(zip(RANKING_COLUMNS, row)) for row in table["data"]]
    assert len(rows) == 4 and [r["score"] for r in rows] == [r[2] for r in expected_rows]  # what the judge says
    scored = [r for r in rows if r["status"] == "ok"]
    assert len(scored) == 3 and all(0.0 <= r["score"] <= 1.0 and r["level"] in ("bad", "fair", "good") for r in scored)
    assert [r["rank"] for r in scored] == sorted(r["rank"] for r in scored)  # best first
    assert rows[-1]["photo"].endswith(".jpg") and rows[-1]["status"] == "unreadable"
    for photo in photos:
        assert photo.name in report
    assert "**Light and shadow**" in report and "not scored: unreadable" in report


def test_the_demo_page_works_in_headless_chromium(main_job, judge, tmp_path):
    """Upload two photos in the page, press Score, read the ranking; the screenshot is a test artifact."""
    from curation_photos import require_binary
    from playwright.sync_api import sync_playwright

    chromium = require_binary("chromium")
    photos = held_out_originals(main_job, 2)
    demo = build_demo(judge)
    demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium)
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 1000})
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(demo.local_url)
                page.set_input_files("input[type=file]", [str(p) for p in photos])
                page.get_by_role("button", name="Score").click()
                page.get_by_text("#1 ").first.wait_for(timeout=120_000)
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "demo.png"), full_page=True)
                text = page.inner_text("body")
            finally:
                browser.close()
    finally:
        demo.close()
    assert errors == [] and all(photo.name in text for photo in photos) and "Light and shadow" in text
