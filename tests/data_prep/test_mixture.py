"""The Sec. 4.2 training mixture: allocation arithmetic, ratios, levels, shortfall, output rows."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_prep.convert import WriteOptions, write_dataset
from data_prep.images import ImageOptions
from data_prep.levels import score_level
from data_prep.mixture import allocate, apportion, build_mixture, fill
from data_prep.prompts import SCORING_PROMPT
from data_prep.records import LabelSet, Record


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        (15000, [2, 2, 1], [6000, 6000, 3000]),  # Aes-R1 Sec. 4.2
        (10, [1, 1, 1], [4, 3, 3]),  # a tie goes to the earlier weight
        (7, [2, 2, 1], [3, 3, 1]),  # exact 2.8, 2.8, 1.4 -> remainders .8, .8, .4
        (0, [1, 2], [0, 0]),
    ],
)
def test_apportion_by_hand(total, weights, shares):
    assert apportion(total, weights) == shares


@given(st.integers(0, 10**6), st.lists(st.floats(0.01, 100), min_size=1, max_size=6))
def test_apportion_sums_and_stays_within_one(total, weights):
    shares = apportion(total, weights)
    assert sum(shares) == total
    assert all(abs(s - total * w / sum(weights)) < 1 for s, w in zip(shares, weights))


def test_fill_gives_a_short_cell_remainder_to_the_others_by_ratio():
    # Good images: AVA has only 100 of its 2000; the 1900 go to TAD66K and FLICKR-AES 2:1.
    assert fill(5000, [100, 10**6, 10**6], [2, 2, 1]) == [100, 3267, 1633]


@given(st.integers(0, 3000), st.lists(st.integers(0, 2000), min_size=1, max_size=5), st.data())
def test_fill_never_exceeds_capacity_and_uses_what_exists(target, capacity, data):
    weights = data.draw(st.lists(st.floats(0.1, 10), min_size=len(capacity), max_size=len(capacity)))
    take = fill(target, capacity, weights)
    assert all(0 <= t <= c for t, c in zip(take, capacity))
    assert sum(take) == min(target, sum(capacity))


def test_allocate_balanced_reports_a_short_level():
    available = {"ava": {"bad": 50, "fair": 500, "good": 1}, "tad66k": {"bad": 50, "fair": 500, "good": 5}, "flickr_aes": {"bad": 50, "fair": 500}}
    quotas = allocate(available, 300, {"ava": 2, "tad66k": 2, "flickr_aes": 1}, balance=True)
    assert quotas == {
        "ava": {"bad": 40, "fair": 40, "good": 1},
        "tad66k": {"bad": 40, "fair": 40, "good": 5},
        "flickr_aes": {"bad": 20, "fair": 20, "good": 0},
    }


@pytest.fixture
def converted(tmp_path: Path, draw) -> dict[str, Path]:
    """Three converted datasets with known level counts (train) and a few test rows."""
    plan = {"ava": (30, 60, 4), "tad66k": (40, 40, 40), "flickr_aes": (30, 30, 30)}  # bad, fair, good
    image = draw.image(tmp_path / "one.jpg")
    folders = {}
    for dataset, counts in plan.items():
        records = []
        for level_score, count in zip((0.2, 0.5, 0.8), counts):
            for i in range(count):
                id = f"{dataset}-{level_score}-{i}"
                records.append(Record(id, dataset, "train", level_score, level_score + i * 1e-4, str(image)))
        records.append(Record(f"{dataset}-test", dataset, "test", 0.9, 0.9, str(image)))
        folders[dataset] = tmp_path / dataset
        write_dataset(LabelSet(dataset, records), folders[dataset], WriteOptions(image=ImageOptions(embed=True), progress=False))
    return folders


def test_plain_mixture_has_the_ratios(converted, tmp_path: Path, rows_of):
    manifest = build_mixture(converted, tmp_path / "mix", total=100)
    rows = rows_of(tmp_path / "mix", "rl")
    by_dataset = [row["data_source"] for row in rows]
    assert [by_dataset.count(d) for d in ("ava", "tad66k", "flickr_aes")] == [40, 40, 20]
    assert all(row["extra_info"]["split"] == "train" for row in rows)
    assert [row["extra_info"]["index"] for row in rows] == list(range(100))
    assert rows[0]["prompt"][0]["content"] == SCORING_PROMPT and rows[0]["images"][0]["bytes"]
    assert manifest["shortfall"] == {"all": 0} and manifest["rows"] == 100


def test_balanced_mixture_has_equal_levels_and_reports_short_cells(converted, tmp_path: Path, rows_of):
    manifest = build_mixture(converted, tmp_path / "mix", total=90, balance=True)
    rows = rows_of(tmp_path / "mix", "table")
    levels = [score_level(row["score"]) for row in rows]
    assert [levels.count(level) for level in ("bad", "fair", "good")] == [30, 30, 30]
    assert manifest["drawn"]["ava"] == {"bad": 12, "fair": 12, "good": 4}  # only 4 good AVA images exist
    assert manifest["drawn"]["tad66k"]["good"] == 17 and manifest["drawn"]["flickr_aes"]["good"] == 9
    assert manifest["available"]["ava"] == {"bad": 30, "fair": 60, "good": 4}


def test_mixture_is_reproducible_and_seeded(converted, tmp_path: Path):
    build_mixture(converted, tmp_path / "a", total=60, seed=1)
    build_mixture(converted, tmp_path / "b", total=60, seed=1)
    build_mixture(converted, tmp_path / "c", total=60, seed=2)
    files = lambda folder: {p.name: p.read_bytes() for p in sorted((folder / "rl").glob("*.parquet"))}
    assert files(tmp_path / "a") == files(tmp_path / "b") != files(tmp_path / "c")


def test_shortfall_when_images_run_out(converted, tmp_path: Path):
    manifest = build_mixture(converted, tmp_path / "mix", total=450, balance=True)
    assert manifest["shortfall"] == {"bad": 50, "fair": 20, "good": 76}  # 100, 130, 74 exist
    assert manifest["rows"] == 450 - 146


def test_unconverted_source_is_a_clear_error(converted, tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="convert the dataset"):
        build_mixture({**converted, "ava": tmp_path / "nothing"}, tmp_path / "mix", total=10)


@pytest.mark.parametrize(
    ("total", "ratios", "message"),
    [
        (0, (2, 2, 1), "--total must be a whole number of images >= 1, got 0"),  # wrote 0 rows
        (-5, (2, 2, 1), "--total must be a whole number of images >= 1, got -5"),  # shortfall -5, exit 0
        (10, (0, 0, 0), "--ratios must have a positive sum"),  # 0 rows, exit 0
        (10, (-1, 2, 2), r"--ratios must be finite and >= 0, got \{'ava': -1\}"),  # AVA dropped, -1 in the manifest
        (10, (float("nan"), 1, 1), r"--ratios must be finite and >= 0, got \{'ava': nan\}"),
        (10, (float("inf"), 1, 1), r"--ratios must be finite and >= 0, got \{'ava': inf\}"),  # a traceback
    ],
)
def test_meaningless_requests_are_refused(converted, tmp_path: Path, total, ratios, message):
    # D12
    with pytest.raises(ValueError, match=message):
        build_mixture(converted, tmp_path / "mix", total=total, ratios=dict(zip(("ava", "tad66k", "flickr_aes"), ratios)))
    assert not (tmp_path / "mix").exists()


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [("--ratios", "0,0,0", "positive sum"), ("--ratios", "nan,1,1", "finite weights"), ("--ratios", "1,2", "three"), ("--total", "-5", ">= 1")],
)
def test_command_line_refuses_meaningless_requests(converted, tmp_path: Path, capsys, flag, value, message):
    from data_prep.cli import main

    sources = ["--ava", str(converted["ava"]), "--tad66k", str(converted["tad66k"]), "--flickr-aes", str(converted["flickr_aes"])]
    with pytest.raises(SystemExit) as exit:
        main(["mix", *sources, flag, value, "--out", str(tmp_path / "mix")])
    assert exit.value.code == 2 and message in capsys.readouterr().err


def test_sources_without_rows_are_an_error_not_an_empty_file(converted, tmp_path: Path):
    # D5: a 0-row parquet makes datasets and RLHFDataset fail with "BatchSize must be greater than 0".
    import pyarrow as pa
    import pyarrow.parquet as pq

    from data_prep.layouts import SCHEMAS

    empty = tmp_path / "empty"
    (empty / "table").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([], schema=SCHEMAS["table"]), empty / "table" / "train-00000-of-00001.parquet")  # an older writer's output
    with pytest.raises(ValueError, match="nothing to draw"):
        build_mixture({"ava": empty, "tad66k": empty, "flickr_aes": empty}, tmp_path / "mix", total=10)
    assert not (tmp_path / "mix").exists()
