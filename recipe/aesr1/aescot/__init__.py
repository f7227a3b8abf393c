"""AesCoT (Aes-R1 Sec. 3.2, Appendix B, Appendix E): the cold-start aesthetic reasoning set.

An expert model behind any OpenAI-compatible chat-completions endpoint critiques each sampled image
along five aesthetic dimensions while its score stays private; critiques with score leakage,
reasoning-score mismatch or factual errors are removed; the rest, joined with the true score, become
SFT data ``<think>critique</think><answer>score</answer>`` for verl's ``MultiTurnSFTDataset``.
Run it with ``python -m recipe.aesr1.aescot --help``.
"""

from recipe.aesr1.aescot.config import AesCoTConfig, load_config
from recipe.aesr1.aescot.pipeline import PipelineRun, run, run_pipeline

__all__ = ["AesCoTConfig", "PipelineRun", "load_config", "run", "run_pipeline"]
