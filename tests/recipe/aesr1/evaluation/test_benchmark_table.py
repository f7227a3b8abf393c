"""Per-benchmark metrics and the Table 1 layout."""

import numpy as np
import pytest

from recipe.aesr1.evaluation.benchmark_table import (
    csv_rows,
    markdown_table,
    score_benchmark,
)
from recipe.aesr1.evaluation.entropy import EntropyFigure
from recipe.aesr1.evaluation.failure_policy import ParseFailurePolicy
from recipe.aesr1.evaluation.metrics import plcc, plcc_logistic, srcc
from recipe.aesr1.evaluation.paper_reference import TABLE1_ROWS

LABELS = np.array([0.1, 0.3, 0.5, 0.7, 0.9, 0.6])
SAMPLES = [[0.2], [0.25], [0.6], [0.65], [0.8], [None]]


def test_score_benchmark_drops_and_counts_failures():
    got = score_benchmark("ava", LABELS, SAMPLES, ParseFailurePolicy("drop"), n_resamples=50)
    kept = np.array([0.2, 0.25, 0.6, 0.65, 0.8])
    assert got.values["plcc"] == pytest.approx(plcc(kept, LABELS[:5]))
    assert got.values["srcc"] == pytest.approx(srcc(kept, LABELS[:5]))
    assert (got.n_images, got.n_scored, got.failed_images) == (6, 5, 1)
    low, high = got.intervals["plcc"]
    assert low <= got.values["plcc"] <= high


def test_logistic_mode_reports_fitted_plcc_as_headline():
    got = score_benchmark("ava", LABELS, SAMPLES, ParseFailurePolicy("drop"), plcc_mode="logistic", n_resamples=20)
    kept = np.array([0.2, 0.25, 0.6, 0.65, 0.8])
    assert got.headline_plcc == pytest.approx(plcc_logistic(kept, LABELS[:5]), nan_ok=True)
    assert got.values["plcc"] == pytest.approx(plcc(kept, LABELS[:5]))  # raw stays available


def test_markdown_table_has_table1_layout_and_average():
    a = score_benchmark("ava", LABELS, SAMPLES, ParseFailurePolicy("drop"), n_resamples=20)
    b = score_benchmark("tad66k", LABELS, [[s] for s in LABELS], ParseFailurePolicy("drop"), n_resamples=20)
    text = markdown_table({"ckpt": [a, b]}, reference_rows={"Aes-R1 (paper)": TABLE1_ROWS["Aes-R1 (paper)"]})
    lines = text.strip().splitlines()
    assert lines[0].startswith("| Model | TAD66K PLCC | TAD66K SRCC | AVA PLCC")  # paper's column order
    row = lines[2].split(" | ")
    assert row[1] == "1.0000"  # perfect predictions on tad66k
    assert row[5] == f"{(1.0 + a.values['plcc']) / 2:.4f}"  # average over benchmarks
    assert lines[2].endswith("| 6 / 5 | 1/12 |")  # scored images per benchmark, failed images / images
    ref = lines[3].split(" | ")
    assert ref[1] == "0.4513" and ref[5] == f"{(0.4513 + 0.6702) / 2:.4f}"


def test_entropy_column_like_table3_says_temperature_and_prompts():
    a = score_benchmark("ava", LABELS, SAMPLES, ParseFailurePolicy("drop"), n_resamples=10)
    figure = EntropyFigure(1.609, 1.5, "full_vocab", 900, 6, 0.6, "test images")
    lines = markdown_table({"sft-1ep": [a]}, {"ref": {"ava": (0.5, 0.6)}}, entropy={"sft-1ep": figure}).splitlines()
    assert lines[0].startswith("| Model | Avg. entropy | AVA PLCC")
    assert lines[2].startswith("| sft-1ep | 1.609 (T=0.6, test images, full_vocab) |")
    assert lines[3].startswith("| ref | - | 0.5000")


def test_images_without_output_are_counted_in_the_table():
    samples = [[0.2], [0.25], [0.6], [0.65], [], []]  # two unreadable images, never sent to the model
    for kind, scored in (("drop", 4), ("fill", 6)):
        got = score_benchmark("ava", LABELS, samples, ParseFailurePolicy(kind), n_resamples=10)
        assert (got.n_scored, got.failed_images, got.empty_images) == (scored, 2, 2)
        assert markdown_table({"m": [got]}).splitlines()[2].endswith(f"| {scored} | 2/6 (2 without output) |")


def test_bootstrap_level_and_resamples_are_recorded():
    got = score_benchmark("ava", LABELS, SAMPLES, ParseFailurePolicy("drop"), n_resamples=40, confidence=0.8)
    (row,) = csv_rows({"m": [got]})
    assert (got.confidence, got.n_resamples, row["confidence"], row["n_resamples"]) == (0.8, 40, 0.8, 40)
    wide = score_benchmark("ava", LABELS, SAMPLES, ParseFailurePolicy("drop"), n_resamples=40, confidence=0.99)
    (wide_low, wide_high), (low, high) = wide.intervals["plcc"], got.intervals["plcc"]
    assert wide_low <= low <= high <= wide_high


def test_csv_rows_carry_intervals_and_counts():
    a = score_benchmark("ava", LABELS, SAMPLES, ParseFailurePolicy("fill"), n_resamples=20)
    (row,) = csv_rows({"ckpt": [a]})
    assert row["n_scored"] == 6 and row["failed_samples"] == 1
    assert row["plcc_ci_low"] <= row["plcc"] <= row["plcc_ci_high"]


def test_paper_average_matches_the_printed_one():
    row = TABLE1_ROWS["Aes-R1 (paper)"]
    assert np.mean([v[0] for v in row.values()]) == pytest.approx(0.6337, abs=1e-4)
    assert np.mean([v[1] for v in row.values()]) == pytest.approx(0.6186, abs=1e-4)
