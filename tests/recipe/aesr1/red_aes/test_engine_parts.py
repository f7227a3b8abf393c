"""Parsers, label arithmetic and the HTTP editor of the data engine, one piece at a time."""

import asyncio
import json

import numpy as np
import pytest
from red_aes_fakes import grey_png

from recipe.aesr1.endpoints.chat_client import FatalEndpointError
from recipe.aesr1.red_aes.editors import EditFailed, HttpInstructionEditor
from recipe.aesr1.red_aes.engine import prompts as prompts
from recipe.aesr1.red_aes.engine.config import EditorConfig
from recipe.aesr1.red_aes.engine.records import (
    group_ground_truth,
    to_unit_difference,
    unanimous_direction,
    viescore_verdict,
)


@pytest.mark.parametrize(
    "differences, expected",
    [
        ([1.0, 0.5, 2.0], 1),  # all improved
        ([-1.0, -0.2, -3.0], -1),  # all worse
        ([1.0, -0.5, 2.0], 0),  # one judge disagrees
        ([1.0, 0.0, 2.0], 0),  # "no change" breaks unanimity
    ],
)
def test_unanimous_direction(differences, expected):
    assert unanimous_direction(differences) == expected


def test_group_ground_truth_keeps_differences_and_stays_in_unit_range():
    labels, shift, scale = group_ground_truth(0.5, [0.1, -0.2])
    assert labels == pytest.approx([0.5, 0.6, 0.3]) and shift == 0 and scale == 1
    labels, shift, scale = group_ground_truth(0.9, [0.3, -0.1])  # 1.2 would leave [0, 1]: shift by -0.2
    assert labels == pytest.approx([0.7, 1.0, 0.6]) and shift == pytest.approx(-0.2) and scale == 1
    labels, shift, scale = group_ground_truth(0.5, [0.9, -0.6])  # span 1.5: compressed, order kept
    assert scale == pytest.approx(1 / 1.5) and min(labels) >= 0 and max(labels) <= 1
    assert np.argsort(labels).tolist() == [2, 0, 1]
    assert to_unit_difference(1.8) == pytest.approx(0.2)


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("<think>dark</think><answer>+1.5</answer>", ("dark", 1.5)),
        ("<think>worse</think> <answer> -0.80 </answer>", ("worse", -0.8)),
    ],
)
def test_parse_judgement(reply, expected):
    assert prompts.parse_judgement(reply) == expected


@pytest.mark.parametrize(
    "reply, message",
    [
        ("<answer>+1.5</answer>", "no <think>"),  # reasoning missing
        ("<think>x</think><answer>better</answer>", "no number"),  # not a number
        ("<think>x</think><answer>12</answer>", "outside"),  # beyond the 10-point scale
    ],
)
def test_parse_judgement_rejects(reply, message):
    with pytest.raises(ValueError, match=message):
        prompts.parse_judgement(reply)


def test_parse_viescore_is_sqrt_of_min_sc_times_min_pq():
    reply = '```json\n{"editing_success": 9, "over_editing": 4, "naturalness": 8, "artifacts": 9}\n```'
    assert prompts.parse_viescore(reply) == pytest.approx(np.sqrt(4 * 8))
    with pytest.raises(ValueError, match="'artifacts' must be a number"):
        prompts.parse_viescore('{"editing_success": 9, "over_editing": 4, "naturalness": 8}')


def test_parse_instructions():
    reply = '{"analysis": "dull", "instruction": " Brighten it. ", "category": "Lighting adjustment"}'
    assert prompts.parse_instruction(reply) == ("dull", "Brighten it.", "lighting adjustment")
    entries = [{"instruction": "a", "category": "object removal"}, {"instruction": "b", "category": "color grading"}]
    listed = prompts.parse_instruction_list(json.dumps({"instructions": entries}), 2)
    assert listed == [("a", "object removal"), ("b", "color grading")]
    with pytest.raises(ValueError, match="expected 3 distinct"):
        prompts.parse_instruction_list(json.dumps({"instructions": entries + entries[:1]}), 3)
    with pytest.raises(ValueError, match="no JSON object"):
        prompts.parse_instruction("Sure! Brighten it.")


@pytest.mark.parametrize(
    "reply, message",
    [
        ('{"instruction": "Brighten it."}', "missing 'category'"),  # the type of every pair must be known
        ('{"instruction": "Brighten it.", "category": "magic"}', "'magic' is not one of"),
    ],
)
def test_instruction_without_a_known_category_is_retried(reply, message):
    with pytest.raises(ValueError, match=message):  # ValueError: the chat client asks again
        prompts.parse_instruction(reply)


def test_every_category_is_content_or_quality():
    # Table 3 splits edits into content- and quality-oriented ones; both kinds are on offer
    assert set(prompts.EDIT_CATEGORIES.values()) == {prompts.CONTENT, prompts.QUALITY}
    assert prompts.edit_type("object removal") == "content" and prompts.edit_type("color grading") == "quality"


def _edit(url, model, **extra):
    editor = HttpInstructionEditor(
        EditorConfig(name=model, kind="http", base_url=url, model=model, max_retries=0, **extra)
    )

    async def go():
        try:
            return await editor.edit(grey_png(0.3), "Apply exposure with strength +0.50.")
        finally:
            await editor.close()

    return asyncio.run(go())


def test_http_editor_edits_and_reports_failures(servers):
    _, edit = servers
    assert _edit(edit.url, "good") != grey_png(0.3)
    with pytest.raises(EditFailed, match="not an image"):
        _edit(edit.url, "garbage")
    with pytest.raises(EditFailed, match="InternalServerError"):
        _edit(edit.url, "broken")
    with pytest.raises(FatalEndpointError, match="editor good"):
        _edit(edit.url.replace("/v1", "/nowhere"), "good")  # 404: every request would fail the same way


def test_http_editor_needs_its_key(monkeypatch):
    monkeypatch.delenv("RED_AES_EDIT_KEY", raising=False)
    with pytest.raises(ValueError, match="RED_AES_EDIT_KEY"):
        HttpInstructionEditor(EditorConfig(name="x", kind="http", api_key_env="RED_AES_EDIT_KEY"))


def test_upload_names_the_source_format():
    import io

    from PIL import Image

    from recipe.aesr1.red_aes.editors import upload_file

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
    assert upload_file(buffer.getvalue())[::2] == ("source.jpeg", "image/jpeg")
    assert upload_file(grey_png(0.5))[::2] == ("source.png", "image/png")
    gif = io.BytesIO()
    Image.new("P", (8, 8)).save(gif, format="GIF")
    with pytest.raises(EditFailed, match="'GIF' is not one the images API takes"):
        upload_file(gif.getvalue())


@pytest.mark.parametrize(
    "scores, aggregate, expected",
    [
        ([7.5, 9.0], "min", (7.5, False)),  # Appendix 0.C: "above 7.5"; exactly 7.5 fails
        ([7.6, 9.0], "min", (7.6, True)),
        ([7.0, 9.0], "min", (7.0, False)),  # one judge rejects: strict reading, the default
        ([7.0, 9.0], "mean", (8.0, True)),  # averaging lets the lenient judge carry the edit
        ([7.5], "mean", (7.5, False)),  # one judge answered
    ],
)
def test_viescore_verdict(scores, aggregate, expected):
    value, passed = viescore_verdict(scores, 7.5, aggregate)
    assert (value, passed) == (pytest.approx(expected[0]), expected[1])


def _encoded(size, fmt, exif_orientation=None):
    import io

    from PIL import Image

    image = Image.new("RGB", size, (200, 40, 40))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    image.save(buffer, format=fmt, exif=exif)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "size, fmt, orientation, expected_size, expected_format",
    [
        ((400, 300), "JPEG", None, (400, 300), "JPEG"),  # within budget: the same bytes
        ((1600, 1200), "PNG", None, (588, 420), "PNG"),  # shrunk by fit_to_budget, lossless kept
        ((1600, 1200), "JPEG", None, (588, 420), "JPEG"),
        ((400, 300), "JPEG", 6, (300, 400), "JPEG"),  # EXIF "rotate 90": stored upright
    ],
)
def test_within_budget(size, fmt, orientation, expected_size, expected_format):
    import io

    from PIL import Image

    from data_prep.pixel_budget import DEFAULT_MAX_PIXELS, budget_size
    from recipe.aesr1.red_aes.engine.images import within_budget

    data = _encoded(size, fmt, orientation)
    out = within_budget(data, DEFAULT_MAX_PIXELS)
    with Image.open(io.BytesIO(out)) as image:
        assert image.size == expected_size and image.format == expected_format
    assert expected_size == budget_size(*expected_size) and (out is data) == (expected_size == size)
    assert within_budget(data, DEFAULT_MAX_PIXELS) == out  # deterministic: request keys stay stable
    with pytest.raises(ValueError, match="not a decodable image"):
        within_budget(b"nope", DEFAULT_MAX_PIXELS)
