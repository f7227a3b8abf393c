"""The AesCoT pipeline (Aes-R1 Sec. 3.2, Fig. 2): sample, critique with the score hidden, filter, export.

Every record flows through: expert critique -> programmatic checks (truncation, length, SFT format,
score leakage) -> leakage judge (optional) -> alignment judge (critique only) -> factual judge (image +
critique). A record is kept
when every error type is zero (D_AesCoT = F(D_CoT), ||E_i|| = 0). Sampling runs in rounds until each
level holds its target count of kept records (Table 6 counts are after filtering) or the pool or the
round budget runs out; surplus kept records beyond the target are marked, not exported.

Resumability: every finished request is in ``requests.jsonl`` (see ``endpoints/logged_request.py``); a
rerun with the same config recomputes everything else from it, so killing the run at any moment and
starting it again gives the same final set and never repeats a logged request.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tqdm import tqdm

from recipe.aesr1.aescot import record_result as rr
from recipe.aesr1.aescot.config import AesCoTConfig
from recipe.aesr1.aescot.critique_length import token_lower_bound
from recipe.aesr1.aescot.leakage import JUDGE, find_leakage
from recipe.aesr1.aescot.levels import LEVELS, target_sizes
from recipe.aesr1.aescot.requests import (
    alignment_messages,
    factual_messages,
    generation_messages,
    leakage_messages,
    parse_leak_verdict,
    parse_level,
    parse_unsupported_claims,
)
from recipe.aesr1.aescot.sampling import (
    Candidate,
    expand_inputs,
    order_by_level,
    read_candidates,
    read_images,
    round_request,
)
from recipe.aesr1.aescot.sft_export import sft_target
from recipe.aesr1.endpoints.chat_client import ChatEndpoint, FatalEndpointError
from recipe.aesr1.endpoints.config import EndpointConfig
from recipe.aesr1.endpoints.data_urls import budgeted_data_url, image_bytes
from recipe.aesr1.endpoints.logged_request import LoggedRequests
from recipe.aesr1.endpoints.request_log import LogEntry, RequestLog, exclusive_dir
from reward_fns import parse_answer

REQUEST_LOG_NAME = "requests.jsonl"


@dataclass
class PipelineRun:
    """Everything a run decided, in deterministic order (level, then seeded sample order)."""

    results: list[rr.RecordResult]
    images: dict[str, dict[str, Any]]  # record_id -> {bytes, path}, for every sampled record
    target: dict[str, int]
    available: dict[str, int]  # eligible candidates per level
    rounds: int
    requests_made: int  # HTTP attempts in this process (0 when everything came from the log)
    torn_log_bytes: int  # bytes of a torn last log line cut off on open (a kill during a write)
    # stage -> the log entry of every record's request to it (attempts, seconds, tokens): statistics.stage_costs
    costs: dict[str, list[LogEntry]] = field(default_factory=dict)

    @property
    def kept(self) -> list[rr.RecordResult]:
        return [r for r in self.results if r.status == rr.KEPT]

    def shortfall(self) -> dict[str, int]:
        counts = {level: 0 for level in LEVELS}
        for result in self.kept:
            counts[result.level] += 1
        return {level: max(0, self.target[level] - counts[level]) for level in LEVELS}


def _require_text(text: str) -> None:
    if not text.strip():
        raise ValueError("empty critique")


class _RecordProcessor:
    """Runs the stages for one record at a time; owns the log and the endpoints of one run."""

    def __init__(self, config: AesCoTConfig, log: RequestLog, endpoints: dict[str, ChatEndpoint]):
        self.config = config
        self.requests = LoggedRequests(log, config.retry_failed)
        self.endpoints = endpoints
        self.costs: dict[str, list[LogEntry]] = {}  # stage -> the entry of each record's request there

    async def _request(
        self, result: rr.RecordResult, stage: str, messages: list, validate: Callable[[str], object]
    ) -> LogEntry:
        entry = await self.requests.ask(self.endpoints[stage], stage, result.record_id, messages, validate)
        # Logged entries too: a resumed run reports the cost of its data set, whichever process paid it.
        self.costs.setdefault(stage, []).append(entry)
        return entry

    async def process(self, candidate: Candidate, image: dict[str, Any], round_index: int) -> rr.RecordResult:
        c = candidate
        result = rr.RecordResult(c.record_id, c.dataset, c.id, c.split, c.score, c.raw_score, c.level, round_index)
        filters = self.config.filters
        # Every stage starts as skipped (or off); the stages that run overwrite their verdict.
        for stage, enabled in (("leakage", filters.leakage), ("alignment", filters.alignment),
                               ("factual", filters.factual)):
            result.verdicts[stage] = rr.SKIPPED if enabled else rr.OFF
        if filters.leakage_judge:
            result.verdicts["leakage_judge"] = rr.SKIPPED
        try:
            data = image_bytes(image, where=f"{c.file} row {c.row}")
            url = budgeted_data_url(data, self.config.max_pixels)
        except (ValueError, OSError) as error:
            result.errors["image"] = str(error)
            result.reject(rr.IMAGE_UNREADABLE)
            return result
        generated = await self._request(
            result, "generate", generation_messages(c.score, url, self.config.with_dimension_guide), _require_text
        )
        if not generated.ok:
            result.errors["generate"] = generated.error or ""
            result.reject(rr.GENERATION_FAILED)
            return result
        critique = (generated.text or "").strip()
        result.critique, result.finish_reason = critique, generated.finish_reason

        # Programmatic checks: cheap, always all run.
        if generated.finish_reason == "length":
            result.reject(rr.TRUNCATED)
        budget = filters.max_critique_tokens or self.endpoints["generate"].config.max_tokens
        if token_lower_bound(critique) > budget:  # a server may ignore max_tokens and still say "stop"
            result.errors["length"] = f"at least {token_lower_bound(critique)} tokens, budget {budget}"
            result.reject(rr.TOO_LONG)
        parsed = parse_answer(sft_target(critique, c.score))
        if not parsed.format_ok or parsed.score is None or abs(parsed.score - round(c.score, 2)) > 1e-9:
            result.errors["format"] = parsed.reason
            result.reject(rr.FORMAT)
        if filters.leakage:
            verdict = find_leakage(critique, c.score)
            result.leakage = [{"code": f.code, "text": f.text} for f in verdict.findings]
            result.verdicts["leakage"] = rr.REJECT if verdict.leaked else rr.PASS
            if verdict.leaked:
                result.reject(rr.LEAKAGE)

        # Judges: skipped once rejected when short_circuit is on.
        def should_skip() -> bool:
            return filters.short_circuit and bool(result.reasons)

        if filters.leakage_judge and not should_skip():
            judged = await self._request(result, "leakage_judge", leakage_messages(critique), parse_leak_verdict)
            if not judged.ok:
                result.errors["leakage_judge"] = judged.error or ""
                result.verdicts["leakage_judge"] = rr.FAILED
                result.reject(rr.LEAKAGE_JUDGE_FAILED)
            elif parse_leak_verdict(judged.text or ""):
                result.leakage.append({"code": JUDGE, "text": (judged.text or "").strip()[:200]})
                result.verdicts["leakage_judge"] = rr.REJECT
                result.reject(rr.LEAKAGE)
            else:
                result.verdicts["leakage_judge"] = rr.PASS

        if filters.alignment and not should_skip():
            judged = await self._request(result, "alignment", alignment_messages(critique), parse_level)
            if not judged.ok:
                result.errors["alignment"] = judged.error or ""
                result.verdicts["alignment"] = rr.FAILED
                result.reject(rr.ALIGNMENT_JUDGE_FAILED)
            else:
                result.predicted_level = parse_level(judged.text or "")
                aligned = result.predicted_level == c.level
                result.verdicts["alignment"] = rr.PASS if aligned else rr.REJECT
                if not aligned:
                    result.reject(rr.MISALIGNED)

        if filters.factual and not should_skip():
            judged = await self._request(
                result, "factual", factual_messages(critique, url), parse_unsupported_claims
            )
            if not judged.ok:
                result.errors["factual"] = judged.error or ""
                result.verdicts["factual"] = rr.FAILED
                result.reject(rr.FACTUAL_JUDGE_FAILED)
            else:
                result.unsupported_claims = parse_unsupported_claims(judged.text or "")
                result.verdicts["factual"] = rr.REJECT if result.unsupported_claims else rr.PASS
                if result.unsupported_claims:
                    result.reject(rr.FACTUAL_ERROR)

        if not result.reasons:
            result.status = rr.KEPT
        return result


def _endpoint_configs(config: AesCoTConfig) -> dict[str, tuple[str, EndpointConfig]]:
    """stage -> (config section naming the endpoint, its config); judges of disabled filters are left out."""
    stages = {"generate": ("expert", config.expert)}
    if config.filters.leakage_judge:
        stages["leakage_judge"] = ("leakage_judge", config.leakage_judge)
    if config.filters.alignment:
        stages["alignment"] = ("alignment_judge", config.alignment_judge)
    if config.filters.factual:
        stages["factual"] = ("factual_judge", config.factual_judge)
    return stages


def _mark_surplus(results: list[rr.RecordResult], target: dict[str, int]) -> None:
    """Keep the first ``target[level]`` kept records of each level in sample order; the rest are surplus."""
    seen = {level: 0 for level in LEVELS}
    for result in results:
        if result.status == rr.KEPT:
            seen[result.level] += 1
            if seen[result.level] > target[result.level]:
                result.status = rr.SURPLUS


async def run_pipeline(config: AesCoTConfig) -> PipelineRun:
    """Run (or resume) the pipeline; returns the decisions. Writing the outputs is ``outputs.write_outputs``.

    Raises:
        FatalEndpointError: an endpoint refuses every request (bad key, model or URL).
        ValueError / FileNotFoundError: bad config or input tables (the message names the key or file).
    """
    sampling = config.sampling
    target = target_sizes(sampling.preset, sampling.size)
    candidates = read_candidates(expand_inputs(list(sampling.inputs)), sampling.split, list(sampling.datasets))
    pools = order_by_level(candidates, sampling.seed)
    out_dir = Path(config.output.dir)
    results: list[rr.RecordResult] = []
    images: dict[str, dict[str, Any]] = {}
    taken = {level: 0 for level in LEVELS}
    kept = {level: 0 for level in LEVELS}
    rounds = 0
    with exclusive_dir(out_dir), RequestLog(out_dir / REQUEST_LOG_NAME) as log:
        async with AsyncExitStack() as stack:
            endpoints = {
                stage: await stack.enter_async_context(ChatEndpoint(endpoint_config, role))
                for stage, (role, endpoint_config) in _endpoint_configs(config).items()
            }
            processor = _RecordProcessor(config, log, endpoints)
            for round_index in range(1, sampling.max_rounds + 1):
                want = round_request(target, kept, sampling.oversample)
                batch: list[Candidate] = []
                for level in LEVELS:
                    batch += pools.pools[level][taken[level] : taken[level] + want[level]]
                    taken[level] = min(len(pools.pools[level]), taken[level] + want[level])
                if not batch:
                    break
                rounds = round_index
                round_images = read_images(batch)
                images.update(round_images)
                round_results = await _run_batch(processor, batch, round_images, round_index, config.show_progress)
                results += round_results
                for result in round_results:
                    kept[result.level] += result.status == rr.KEPT
    # Deterministic order whatever the completion order: level, then seeded sample order (round order
    # is sample order within a level).
    position = {c.record_id: i for level in LEVELS for i, c in enumerate(pools.pools[level])}
    results.sort(key=lambda r: (LEVELS.index(r.level), position[r.record_id]))
    _mark_surplus(results, target)
    return PipelineRun(results, images, target, pools.available(), rounds, processor.requests.requests_made,
                       log.torn_tail_bytes, processor.costs)


async def _run_batch(
    processor: _RecordProcessor, batch: list[Candidate], images: dict[str, dict[str, Any]], round_index: int,
    show_progress: bool,
) -> list[rr.RecordResult]:
    progress = tqdm(total=len(batch), desc=f"AesCoT round {round_index}", disable=not show_progress)

    async def one(candidate: Candidate) -> rr.RecordResult:
        result = await processor.process(candidate, images[candidate.record_id], round_index)
        progress.update(1)
        return result

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(candidate)) for candidate in batch]
    except* FatalEndpointError as errors:
        raise errors.exceptions[0] from None
    finally:
        progress.close()
    return [task.result() for task in tasks]


def run(config: AesCoTConfig) -> PipelineRun:
    """Synchronous entry: ``asyncio.run(run_pipeline(config))``."""
    return asyncio.run(run_pipeline(config))

