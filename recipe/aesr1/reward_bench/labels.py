"""Label sets for the reward bench: a built-in synthetic set, or real labels from a prepared table."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Mean and std of normalised labels, (x - 1) / 9 for AVA and TAD66K, as measured on the full
# releases (shared/DATASETS.md); FLICKR-AES's are not recorded there, so its share uses AADB's
# (also a 1-5 scale). Weights follow the 2:2:1 training mixture of Aes-R1 Sec. 4.2.
SYNTHETIC_COMPONENTS = (
    ("ava-like", 0.4, 0.487, 0.081),
    ("tad66k-like", 0.4, 0.493, 0.161),
    ("flickr-like (aadb stats)", 0.2, 0.512, 0.184),
)


def synthetic_labels(n: int, seed: int) -> np.ndarray:
    """``n`` labels in (0, 1) from a 2:2:1 mixture of Beta laws moment-matched to the real datasets."""
    if n < 2:
        raise ValueError(f"need at least 2 labels, got n={n}")
    rng = np.random.default_rng(seed)
    weights = np.array([c[1] for c in SYNTHETIC_COMPONENTS])
    which = rng.choice(len(SYNTHETIC_COMPONENTS), size=n, p=weights / weights.sum())
    out = np.empty(n)
    for idx, (_, _, mean, std) in enumerate(SYNTHETIC_COMPONENTS):
        common = mean * (1 - mean) / std**2 - 1  # Beta(a, b) with this mean and std
        mask = which == idx
        out[mask] = rng.beta(mean * common, (1 - mean) * common, size=int(mask.sum()))
    return out


def read_labels(path: str | Path, column: str = "score") -> np.ndarray:
    """Labels in [0, 1] from a parquet or CSV file (e.g. a ``data_prep`` table), one per row."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"label file {path} does not exist")
    if path.suffix == ".parquet" or path.is_dir():
        import pyarrow.parquet as pq

        table = pq.read_table(path, columns=None)
        names = table.column_names
        values = table.column(column).to_numpy(zero_copy_only=False) if column in names else None
    elif path.suffix == ".csv":
        import pandas as pd

        frame = pd.read_csv(path)
        names = list(frame.columns)
        values = frame[column].to_numpy() if column in names else None
    else:
        raise ValueError(f"{path}: expected a .parquet file/folder or a .csv file")
    if values is None:
        raise ValueError(f"{path}: no column {column!r}; columns are {names}")
    values = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise ValueError(f"{path}: column {column!r} must hold labels in [0, 1]; {int(bad.sum())} rows do not (first: {rows})")
    if values.size < 2:
        raise ValueError(f"{path}: need at least 2 labels, found {values.size}")
    return values
