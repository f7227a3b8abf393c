"""The main job's AesCoT stage: it stops the job when the filters keep no critique at all."""

from pathlib import Path

import pytest

from recipe.aesr1.miniature import stages


def test_the_aescot_stage_fails_when_the_filters_keep_no_critique(tmp_path: Path, monkeypatch):
    """Found when a stale expert server refused the leakage judge: 0 rows kept, and SFT started anyway."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from recipe.aesr1.aescot import cli
    from recipe.aesr1.miniature.settings import MiniatureSizes

    def aescot_keeping_nothing(argv):
        folder = Path(next(a for a in argv if a.startswith("output.dir=")).split("=", 1)[1])
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"messages": pa.array([], pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
                                 "level": pa.array([], pa.string())}), folder / "aescot_sft.parquet")
        (folder / "stats.json").write_text(json.dumps({"rejections_by_reason": {"leakage_judge_failed": 298, "format": 0}}))
        return 0

    monkeypatch.setattr(cli, "main", aescot_keeping_nothing)
    (tmp_path / "data" / "ava" / "table").mkdir(parents=True)
    with pytest.raises(stages.StageFailed, match=r"0 of 60 critiques kept; rejections: \{'leakage_judge_failed': 298\}"):
        stages.run_aescot(tmp_path, MiniatureSizes(aescot_size=60))
