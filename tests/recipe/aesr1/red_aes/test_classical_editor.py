"""The classical editor moves measured image statistics in the instructed direction, monotonically in strength."""

import io

import numpy as np
import pytest
from PIL import Image

from recipe.aesr1.red_aes.classical_editor import (
    OPERATIONS,
    ClassicalEditor,
    EditSpec,
    apply_edit,
    ordered_variants,
    spec_from_instruction,
)


def make_photo(size: int = 64) -> Image.Image:
    """Mid-tone colour gradients with a sharp-edged bright square in the centre (texture for blur tests)."""
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    rgb = np.stack([0.25 + 0.35 * x, 0.35 + 0.2 * y, 0.55 - 0.25 * x], axis=-1)
    rgb[::4, :, :] *= 0.85  # fine stripes: high-frequency content
    c = size // 2
    rgb[c - 6 : c + 6, c - 6 : c + 6] = [0.9, 0.8, 0.3]
    return Image.fromarray(np.rint(rgb * 255).astype(np.uint8), "RGB")


def luminance(image):
    x = np.asarray(image, dtype=np.float64)
    return 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]


def mean_saturation(image):
    return float(np.asarray(image.convert("HSV"), dtype=np.float64)[..., 1].mean())


def warmth(image):
    x = np.asarray(image, dtype=np.float64)
    return float(x[..., 0].mean() - x[..., 2].mean())


def laplacian_energy(image):
    lum = luminance(image)
    lap = 4 * lum[1:-1, 1:-1] - lum[:-2, 1:-1] - lum[2:, 1:-1] - lum[1:-1, :-2] - lum[1:-1, 2:]
    return float(lap.var())


def error_vs(reference):
    ref = np.asarray(reference, dtype=np.float64)
    return lambda image: float(np.abs(np.asarray(image, dtype=np.float64) - ref).mean())


def centre_square_share(image):
    """Soft share of the image covered by the yellow centre square (R - B = 153 there, <= 76 in the
    background): grows as a centred crop zooms in."""
    x = np.asarray(image, dtype=np.float64)
    return float(np.clip((x[..., 0] - x[..., 2] - 76) / (153 - 76), 0, 1).mean())


PHOTO = make_photo()

# op, strengths (increasing), statistic, expected direction of the statistic as strength increases
CASES = [
    ("exposure", [-1.0, -0.5, 0.0, 0.5, 1.0], lambda im: luminance(im).mean(), +1),
    ("contrast", [-1.0, -0.5, 0.0, 0.5, 1.0], lambda im: luminance(im).std(), +1),
    ("saturation", [-1.0, -0.5, 0.0, 0.5, 1.0], mean_saturation, +1),
    ("white_balance", [-1.0, -0.5, 0.0, 0.5, 1.0], warmth, +1),
    ("crop", [0.0, 0.25, 0.5, 1.0], centre_square_share, +1),
    ("blur", [0.0, 0.25, 0.5, 1.0], laplacian_energy, -1),
    ("sharpen", [0.0, 0.25, 0.5, 1.0], laplacian_energy, +1),
    ("noise", [0.0, 0.25, 0.5, 1.0], error_vs(PHOTO), +1),
    ("jpeg", [0.0, 0.5, 0.8, 1.0], error_vs(PHOTO), +1),
]


def test_every_operation_is_covered():
    assert {case[0] for case in CASES} == set(OPERATIONS)


@pytest.mark.parametrize("op, strengths, statistic, direction", CASES, ids=[c[0] for c in CASES])
def test_statistic_moves_monotonically_in_the_instructed_direction(op, strengths, statistic, direction):
    values = [statistic(image) for image in ordered_variants(PHOTO, op, strengths)]
    steps = np.diff(values) * direction
    assert np.all(steps > 0), f"{op}: {values}"


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op != "jpeg"])
def test_strength_zero_is_identity(op):
    np.testing.assert_array_equal(np.asarray(apply_edit(PHOTO, EditSpec(op, 0.0))), np.asarray(PHOTO))


def test_variants_keep_size_and_mode_even_from_rgba():
    rgba = PHOTO.convert("RGBA")
    for op in OPERATIONS:
        edited = apply_edit(rgba, EditSpec(op, 0.5))
        assert edited.size == PHOTO.size and edited.mode == "RGB"


def test_bad_specs_fail_with_the_reason():
    with pytest.raises(ValueError, match="unknown classical edit 'vignette'"):
        EditSpec("vignette", 0.5)
    with pytest.raises(ValueError, match=r"strength of 'blur' must be in \[0, 1\]"):
        EditSpec("blur", -0.2)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Apply contrast with strength -0.30.", EditSpec("contrast", -0.3)),  # canonical form, exact
        ("Slightly brighten the image to lift the dull foreground.", EditSpec("exposure", 0.25)),
        ("Darken the overexposed sky.", EditSpec("exposure", -0.5)),
        ("Significantly increase the contrast.", EditSpec("contrast", 0.8)),
        ("Make the colours more vivid.", EditSpec("saturation", 0.5)),
        ("Give the scene a warmer tone.", EditSpec("white_balance", 0.5)),
        ("Crop tighter to recompose on the subject.", EditSpec("crop", 0.5)),
        ("Replace the sky with a sunset.", None),  # a content edit: not a classical operation
    ],
)
def test_instructions_map_to_edits(text, expected):
    assert spec_from_instruction(text) == expected


def test_canonical_instruction_round_trips():
    for op in OPERATIONS:
        spec = EditSpec(op, 0.75)
        assert spec_from_instruction(spec.instruction()) == spec


def test_editor_interface_returns_png_bytes_or_none():
    buffer = io.BytesIO()
    PHOTO.save(buffer, format="PNG")
    editor = ClassicalEditor()
    edited = editor.edit(buffer.getvalue(), "Apply exposure with strength +0.50.")
    with Image.open(io.BytesIO(edited)) as image:
        assert image.format == "PNG" and luminance(image).mean() > luminance(PHOTO).mean()
    assert editor.edit(buffer.getvalue(), "Remove the person on the left.") is None
