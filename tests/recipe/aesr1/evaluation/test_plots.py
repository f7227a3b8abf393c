"""Figures: histogram bins put equal scores in one bin; the files are written."""

import numpy as np
from PIL import Image

from recipe.aesr1.evaluation.metrics import as_compared
from recipe.aesr1.evaluation.plots import BINS, plot_distributions, plot_scatter


def test_one_number_lands_in_one_bin():
    # 0.7 as answered, as a mean of three 0.7s (0.6999999999999998) and as mean(0.6, 0.8) (0.7000000000000001),
    # binned as plot_distributions bins them; linspace's edge 0.7000000000000001 split them over two bins
    spellings = [0.7, np.mean([0.7, 0.7, 0.7]), np.mean([0.6, 0.8])]
    counts, _ = np.histogram(as_compared(spellings), BINS)
    assert counts.max() == 3 and counts[28] == 3  # the bin [0.7, 0.725)
    assert 0.7 in BINS and BINS[0] == 0.0 and BINS[-1] == 1.0
    # mean(0.01, 0.09) = 0.049999999999999996 fell in the bin below a plain 0.05
    counts, _ = np.histogram(as_compared([0.05, np.mean([0.01, 0.09])]), BINS)
    assert counts[2] == 2


def test_figures_are_written(tmp_path):
    data = {"ava": (np.array([0.7, 0.6999999999999998, 0.2]), np.array([0.65, 0.7, 0.1])), "para": ([], [])}
    plot_distributions(data, tmp_path / "d.png", "m")
    plot_scatter(data, {"ava": (0.9, 0.5)}, tmp_path / "s.png")
    assert Image.open(tmp_path / "d.png").size[0] > 100 and Image.open(tmp_path / "s.png").size[0] > 100
