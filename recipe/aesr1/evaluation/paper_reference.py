"""Reference rows from Aes-R1 Table 1, for printing next to a reproduction.

Values are (PLCC, SRCC) per benchmark as printed in the paper (raw correlations, one sample at the
README's temperature 0.6). Averages are recomputed from these, as the paper's Average column is the
mean over the five benchmarks.
"""

from __future__ import annotations

BENCHMARK_ORDER = ("tad66k", "ava", "flickr_aes", "para", "aadb")
"""Column order of Tables 1-4: in-distribution benchmarks first, then the OOD ones (PARA, AADB)."""

DISPLAY_NAMES = {"tad66k": "TAD66K", "ava": "AVA", "flickr_aes": "FLICKR", "para": "PARA", "aadb": "AADB"}

TABLE1_ROWS: dict[str, dict[str, tuple[float, float]]] = {
    "Qwen2.5-VL-7B (paper)": {
        "tad66k": (0.2282, 0.2242),
        "ava": (0.3518, 0.3684),
        "flickr_aes": (0.5179, 0.5696),
        "para": (0.5966, 0.6252),
        "aadb": (0.4480, 0.5076),
    },
    "GPT-4.1-2025-04-14 (paper)": {
        "tad66k": (0.2707, 0.3298),
        "ava": (0.4846, 0.5594),
        "flickr_aes": (0.5909, 0.6062),
        "para": (0.7290, 0.7203),
        "aadb": (0.5102, 0.5296),
    },
    "Aes-R1 (paper)": {
        "tad66k": (0.4513, 0.4248),
        "ava": (0.6702, 0.6619),
        "flickr_aes": (0.7243, 0.6973),
        "para": (0.7842, 0.7666),
        "aadb": (0.5386, 0.5423),
    },
}
