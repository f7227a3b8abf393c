"""Configuration of the AesCoT pipeline: a structured OmegaConf schema, loaded from YAML plus overrides.

Defaults follow the paper where it gives a value (levels and set sizes: Appendix E.2, Table 6;
image sources AVA, TAD66K, FLICKR-AES: Appendix E.2) and are marked ``ours`` where it does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from omegaconf import OmegaConf

from data_prep.pixel_budget import DEFAULT_MAX_PIXELS
from recipe.aesr1.endpoints.config import EndpointConfig


def _judge_defaults() -> EndpointConfig:
    """Judges default to the expert's server and model, greedy, with a shorter reply."""
    return EndpointConfig(
        base_url="${expert.base_url}",
        model="${expert.model}",
        api_key_env="${expert.api_key_env}",
        max_concurrency="${expert.max_concurrency}",  # type: ignore[arg-type]  # interpolated
        temperature=0.0,
        max_tokens=512,
    )


@dataclass
class SamplingConfig:
    """Balanced sampling over the bad/fair/good levels (Appendix E.2)."""

    # Prepared parquet in the evaluation-table layout (files, directories or globs).
    inputs: list[str] = field(default_factory=list)
    split: str = "train"
    datasets: list[str] = field(default_factory=lambda: ["ava", "tad66k", "flickr_aes"])  # Appendix E.2
    preset: Optional[str] = "aescot-3k"  # Table 6: aescot-3k | aescot-10k; null to use `size`
    size: Optional[int] = None  # total kept size, split evenly over the levels
    seed: int = 0
    # ours: Table 6 counts are after filtering, so each round asks for target * oversample images and
    # later rounds top up the levels still short, until the target or max_rounds is reached.
    oversample: float = 1.25
    max_rounds: int = 4


@dataclass
class FilterConfig:
    """The three error types of Sec. 3.2 (e_leak, e_align, e_fact); each can be switched off."""

    leakage: bool = True
    # ours: also ask the leakage_judge endpoint (the expert's unless another is named) whether the critique
    # gives the score away; rules miss phrasings nobody wrote a rule for, and the paper filters with model
    # judgments plus audits. Rejects as "leakage", code "judge". Its cost is in stats.json ("costs").
    leakage_judge: bool = True
    alignment: bool = True
    factual: bool = True
    # Skip the remaining judges once a record is rejected (saves calls; the audit page then shows
    # "skipped" for them).
    short_circuit: bool = True
    # ours: reject a critique longer than this many tokens (reason "too_long") even when the server says
    # finish_reason "stop"; null = expert.max_tokens, the budget the SFT rows are sized for.
    max_critique_tokens: Optional[int] = None


@dataclass
class OutputConfig:
    dir: str = "outputs/aescot"
    audit_per_group: int = 25  # kept and rejected records shown on the audit page, each
    audit_seed: int = 0
    # Write image bytes into the SFT parquet even when the input table stores only paths.
    embed_images: bool = False


@dataclass
class AesCoTConfig:
    expert: EndpointConfig = field(default_factory=EndpointConfig)
    alignment_judge: EndpointConfig = field(default_factory=_judge_defaults)
    factual_judge: EndpointConfig = field(default_factory=_judge_defaults)
    leakage_judge: EndpointConfig = field(default_factory=_judge_defaults)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    filters: FilterConfig = field(default_factory=FilterConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    with_dimension_guide: bool = True  # append the Table 5 guide to the Appendix B prompt
    # The project's one pixel budget (data_prep.pixel_budget; 512 x 512, Aes-R1's released max_pixels):
    # images above it are shrunk before they are sent to the expert and the factual judge.
    max_pixels: int = DEFAULT_MAX_PIXELS
    retry_failed: bool = False  # on restart, request again the keys whose retries ran out
    show_progress: bool = True


def load_structured(schema: type, path: Optional[str] = None, overrides: Optional[list[str]] = None):
    """Schema defaults, then the YAML file at ``path``, then ``key=value`` overrides; resolved and typed.

    Unknown keys raise (OmegaConf names the key), so a typo never silently falls back to a default.
    """
    merged = OmegaConf.structured(schema)
    if path is not None:
        merged = OmegaConf.merge(merged, OmegaConf.load(path))
    if overrides:
        merged = OmegaConf.merge(merged, OmegaConf.from_dotlist(list(overrides)))
    OmegaConf.resolve(merged)
    return OmegaConf.to_object(merged)


def load_config(path: Optional[str] = None, overrides: Optional[list[str]] = None) -> AesCoTConfig:
    """The AesCoT config (see :func:`load_structured`)."""
    return load_structured(AesCoTConfig, path, overrides)


def config_to_yaml(config: AesCoTConfig) -> str:
    """YAML text of a resolved config (holds key *names* only, never key values)."""
    return OmegaConf.to_yaml(OmegaConf.structured(config))
