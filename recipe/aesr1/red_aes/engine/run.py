"""The RED-Aes data engine (Sec. 3.1, Fig. 2): anchors, instructions, edits, VIEScore, judge consensus.

Per source image of the pool (``engine_sources``: photos or benchmark train splits; deterministic
seeded order; a source that is an evaluation image is dropped):

* anchor: every anchor expert scores the image (1-10, with an analysis); the voting protocol of
  Appendix 0.A fuses the scores (or the table's MOS is used, ``sources.anchor=table``);
* pre-training (Eqs. 1-3): the instruction expert, shown the voted anchor score, analyses the
  deficiencies and writes one instruction with its edit category (a second call, not the paper's
  single score-and-instruct call: see ``engine_prompts``); every editor applies it; the VIEScore
  judges rate each edit, which passes above 7.5 (every judge);
  the source is kept when at least ``min_successful_editors`` edits pass; every pair that passed is
  judged by all pairwise judges, kept when they unanimously see an improvement, and its difference is
  their vote; one valid pair is drawn uniformly (seeded) as the source's PT sample;
* RL (Eq. 4): the expert writes 7 diverse instructions; each goes to one editor drawn at random;
  pairs are kept when the judges agree on the direction; the group is the source plus its kept variants;
* calibration (Sec. 3.2.2): a uniform sample of sources with their anchor score and analysis.

Resumable like AesCoT: every finished chat request and every edit is a line of ``requests.jsonl``
(``recipe.aesr1.endpoints.logged_request``; an edit's line names its image file, written before the line),
so a killed run restarted with the same config repeats no finished request.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from data_prep.atomic_files import write_atomically
from recipe.aesr1.aescot.leakage import find_leakage
from recipe.aesr1.aescot.sampling import Candidate, seeded_permutation
from recipe.aesr1.endpoints.chat_client import ChatEndpoint, FatalEndpointError
from recipe.aesr1.endpoints.data_urls import data_url, image_bytes, image_digest
from recipe.aesr1.endpoints.logged_request import LoggedRequests
from recipe.aesr1.endpoints.request_log import (
    OUTCOME_FAILED,
    OUTCOME_OK,
    LogEntry,
    RequestLog,
    exclusive_dir,
    request_key,
)
from recipe.aesr1.red_aes.editors import EditFailed, make_editor
from recipe.aesr1.red_aes.engine import prompts as prompts
from recipe.aesr1.red_aes.engine import records as er
from recipe.aesr1.red_aes.engine.config import RedEngineConfig
from recipe.aesr1.red_aes.engine.images import within_budget
from recipe.aesr1.red_aes.engine.sources import read_pool, read_source_cells
from recipe.aesr1.red_aes.voting import VotingConfig, vote

REQUEST_LOG_NAME = "requests.jsonl"
EXPERT_LO, EXPERT_HI = er.EXPERT_SCALE.lo, er.EXPERT_SCALE.hi
EDIT_DIR = "edits"


@dataclass
class EngineRun:
    """The decisions of one run, sources in their seeded order, and the role of each source."""

    sources: list[er.SourceResult]
    candidates: dict[str, Candidate]  # record_id -> where its image lies (outputs re-read it)
    pt_ids: list[str]
    rl_ids: list[str]
    calibration_ids: list[str]
    report: er.EngineReport


def record_rng(seed: int, record_id: str, purpose: int) -> np.random.Generator:
    digest = int(hashlib.sha256(record_id.encode()).hexdigest()[:12], 16)
    return np.random.default_rng([seed, purpose, digest])


def _image_chat(text: str, urls: list[str]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"type": "image_url", "image_url": {"url": u}} for u in urls]
    return [{"role": "user", "content": parts + [{"type": "text", "text": text}]}]


def _image_suffix(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as image:
        return {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}.get(image.format or "", ".img")


class _Engine:
    def __init__(self, config: RedEngineConfig, log: RequestLog, out_dir: Path, stack: AsyncExitStack):
        self.config = config
        self.requests = LoggedRequests(log, config.retry_failed)
        self.out_dir = out_dir
        self.stack = stack
        self.voting = VotingConfig(**vars(config.voting))
        self.endpoints: dict[str, ChatEndpoint] = {}
        self.editors = {}

    async def open(self) -> None:
        c = self.config
        named = [(f"anchor{i}", e) for i, e in enumerate(c.anchor_experts if c.sources.anchor == "experts" else [])]
        named += [("instruct", c.instruction_expert)] + [(f"viescore{i}", e) for i, e in enumerate(c.viescore_judges)]
        named += [(f"judge{i}", e) for i, e in enumerate(c.judges)]
        for name, endpoint in named:
            self.endpoints[name] = await self.stack.enter_async_context(ChatEndpoint(endpoint, name))
        for editor_config in c.editors:
            editor = make_editor(editor_config)
            self.stack.push_async_callback(editor.close)
            self.editors[editor.name] = editor

    async def chat(self, endpoint: str, record_id: str, text: str, images: list[bytes], validate: Callable) -> Any:
        """The parsed reply of one logged request, or None when its retries ran out."""
        messages = _image_chat(text, [data_url(i) for i in images])
        entry = await self.requests.ask(self.endpoints[endpoint], endpoint, record_id, messages, validate)
        return validate(entry.text) if entry.ok else None

    async def edit(self, editor_name: str, record_id: str, source: bytes, instruction: str) -> str | None:
        """Relative path of the edited image (written before its log line), or None when the edit failed."""
        editor = self.editors[editor_name]
        payload = {
            "editor": editor_name,
            "model": editor.model,
            "instruction": instruction,
            "image": image_digest(source),
        }
        key = request_key("edit", record_id, payload)
        entry = self.requests.finished(key)
        if entry is not None and (not entry.ok or (self.out_dir / entry.text).is_file()):
            return entry.text if entry.ok else None
        entry = await self.requests.once(key, lambda: self._edit(editor, record_id, source, instruction, key))
        return entry.text if entry.ok else None

    async def _edit(self, editor, record_id: str, source: bytes, instruction: str, key: str) -> LogEntry:
        """The log entry of one edit (``requests.once`` logs it): the image file is written first."""
        try:
            data = within_budget(await editor.edit(source, instruction), self.config.max_pixels)
            relative = f"{EDIT_DIR}/{key.replace('/', '__')}{_image_suffix(data)}"
            write_atomically(self.out_dir / relative, lambda temp: Path(temp).write_bytes(data))
            return LogEntry(key, "edit", record_id, OUTCOME_OK, relative, None, 1, None, editor.model)
        except (EditFailed, ValueError) as error:  # ValueError: the returned image does not decode
            return LogEntry(key, "edit", record_id, OUTCOME_FAILED, None, None, 1, str(error), editor.model)

    def read_edit(self, relative: str) -> bytes:
        return (self.out_dir / relative).read_bytes()

    async def anchor(self, source: er.SourceResult, image: bytes, table_score: float) -> er.Anchor | None:
        if self.config.sources.anchor == "table":
            return er.Anchor(EXPERT_LO + (EXPERT_HI - EXPERT_LO) * table_score, "", [], "table")
        names = [n for n in self.endpoints if n.startswith("anchor")]
        replies = await asyncio.gather(
            *(self.chat(n, source.record_id, prompts.ANCHOR_PROMPT, [image], prompts.parse_anchor) for n in names)
        )
        answered = [r for r in replies if r is not None]
        if not answered:
            return None
        result = vote([score for _, score in answered], self.voting)
        # The calibration target is the consensus, so its CoT must not state a (different) score:
        # the closest expert whose analysis passes AesCoT's leakage filter.
        unit = er.to_unit_score(result.score)
        clean = [
            r for r in sorted(answered, key=lambda r: abs(r[1] - result.score)) if not find_leakage(r[0], unit).leaked
        ]
        analysis = clean[0][0] if clean else ""
        return er.Anchor(result.score, analysis, [None if r is None else r[1] for r in replies], result.method.value)

    async def judge(
        self, pair: er.PairResult, record_id: str, source: bytes, edited: bytes, need_improvement: bool
    ) -> None:
        """Pairwise judges on one pair: unanimous direction (improvement for PT), voted difference."""
        names = [n for n in self.endpoints if n.startswith("judge")]
        text = prompts.JUDGE_PROMPT.format(instruction=pair.instruction)
        replies = await asyncio.gather(
            *(self.chat(n, record_id, text, [source, edited], prompts.parse_judgement) for n in names)
        )
        pair.judge_differences = [None if r is None else r[1] for r in replies]
        if any(r is None for r in replies):
            pair.reason = er.JUDGE_FAILED
            return
        direction = er.unanimous_direction([d for _, d in replies])
        if direction == 0:
            pair.reason = er.NOT_UNANIMOUS
            return
        if need_improvement and direction < 0:
            pair.reason = er.NOT_IMPROVED
            return
        result = vote([d for _, d in replies], self.voting)
        pair.difference10, pair.method = result.score, result.method.value
        pair.reasoning = min(replies, key=lambda r: abs(r[1] - result.score))[0]

    async def viescore(self, pair: er.PairResult, record_id: str, source: bytes, edited: bytes) -> None:
        names = [n for n in self.endpoints if n.startswith("viescore")]
        text = prompts.VIESCORE_PROMPT.format(instruction=pair.instruction)
        scores = [
            s
            for s in await asyncio.gather(
                *(self.chat(n, record_id, text, [source, edited], prompts.parse_viescore) for n in names)
            )
            if s is not None
        ]
        if not scores:
            pair.reason = er.VIESCORE_FAILED
            return
        f = self.config.filters
        pair.viescore, passed = er.viescore_verdict(scores, f.viescore_threshold, f.viescore_aggregate)
        if not passed:
            pair.reason = er.VIESCORE_LOW

    async def pretraining(self, source: er.SourceResult, image: bytes) -> None:
        """Eqs. 1-3 for one source; sets ``pt_pairs``, ``pt_choice`` or ``reasons['pt']``."""
        c = self.config
        text = prompts.INSTRUCTION_PROMPT.format(score=source.anchor.score10, categories=prompts.CATEGORY_LIST)
        reply = await self.chat("instruct", source.record_id, text, [image], prompts.parse_instruction)
        if reply is None:
            source.reasons["pt"] = er.INSTRUCTION_FAILED
            return
        source.analysis, instruction, category = reply
        kind = prompts.edit_type(category)
        source.pt_pairs = [er.PairResult(name, instruction, category, kind) for name in self.editors]

        async def one(pair: er.PairResult) -> None:
            pair.edited_path = await self.edit(pair.editor, source.record_id, image, instruction)
            if pair.edited_path is None:
                pair.reason = er.EDIT_FAILED
                return
            await self.viescore(pair, source.record_id, image, self.read_edit(pair.edited_path))

        await asyncio.gather(*(one(p) for p in source.pt_pairs))
        passed = [p for p in source.pt_pairs if p.valid]
        if len(passed) < c.filters.min_successful_editors:  # Eq. 1
            source.reasons["pt"] = er.TOO_FEW_EDITS
            return
        await asyncio.gather(
            *(
                self.judge(p, source.record_id, image, self.read_edit(p.edited_path), c.filters.pt_require_improvement)
                for p in passed
            )
        )
        valid = [i for i, p in enumerate(source.pt_pairs) if p.valid]
        if not valid:
            source.reasons["pt"] = er.NO_VALID_PAIR
            return
        source.pt_choice = valid[int(record_rng(c.sources.seed, source.record_id, 1).integers(len(valid)))]  # Eq. 3

    async def rl_group(self, source: er.SourceResult, image: bytes) -> None:
        """Eq. 4 for one source; sets ``rl_pairs`` or ``reasons['rl']``."""
        c = self.config
        n = c.build.rl_instructions
        text = prompts.RL_INSTRUCTION_PROMPT.format(
            score=source.anchor.score10, n=n, categories=prompts.CATEGORY_LIST
        )
        instructions = await self.chat(
            "instruct", source.record_id, text, [image], lambda t: prompts.parse_instruction_list(t, n)
        )
        if instructions is None:
            source.reasons["rl"] = er.INSTRUCTION_FAILED
            return
        rng = record_rng(c.sources.seed, source.record_id, 2)
        names = list(self.editors)
        source.rl_pairs = [
            er.PairResult(names[int(rng.integers(len(names)))], text, category, prompts.edit_type(category))
            for text, category in instructions
        ]

        async def one(pair: er.PairResult) -> None:
            pair.edited_path = await self.edit(pair.editor, source.record_id, image, pair.instruction)
            if pair.edited_path is None:
                pair.reason = er.EDIT_FAILED
                return
            edited = self.read_edit(pair.edited_path)
            if c.filters.rl_viescore:
                await self.viescore(pair, source.record_id, image, edited)
                if not pair.valid:
                    return
            await self.judge(pair, source.record_id, image, edited, need_improvement=False)

        await asyncio.gather(*(one(p) for p in source.rl_pairs))
        if not any(p.valid for p in source.rl_pairs):
            source.reasons["rl"] = er.NO_VALID_PAIR


async def run_engine(config: RedEngineConfig) -> EngineRun:
    """Run (or resume) the engine. Writing the datasets is ``engine_outputs.write_outputs``.

    Raises:
        FatalEndpointError: an endpoint refuses every request.
        ValueError / FileNotFoundError: bad inputs (the message names the file or key).
    """
    c = config
    source_pool = read_pool(c.sources)
    pool = seeded_permutation(source_pool.candidates, c.sources.seed, 0)[: c.sources.limit]
    pt_ids = [x.record_id for x in pool] if c.build.pt else []
    rl_ids = [x.record_id for x in seeded_permutation(pool, c.sources.seed, 1)[: c.build.rl_sources]] if c.build.rl else []
    cal_ids = (
        [x.record_id for x in seeded_permutation(pool, c.sources.seed, 2)[: c.build.calibration_size]]
        if c.build.calibration
        else []
    )
    pt_set, rl_set = set(pt_ids), set(rl_ids)
    used = pt_set | rl_set | set(cal_ids)
    chosen = [x for x in pool if x.record_id in used]
    out_dir = Path(c.output_dir)
    report = er.EngineReport(sources=len(chosen), max_pixels=c.max_pixels, source_pool=source_pool.record)
    results: list[er.SourceResult] = []
    with exclusive_dir(out_dir), RequestLog(out_dir / REQUEST_LOG_NAME) as log:
        async with AsyncExitStack() as stack:
            engine = _Engine(c, log, out_dir, stack)
            await engine.open()
            progress = tqdm(total=len(chosen), desc="RED-Aes engine", disable=not c.show_progress)

            async def one(candidate: Candidate, cell: dict[str, Any]) -> er.SourceResult:
                source = er.SourceResult(candidate.record_id, candidate.dataset, candidate.id, cell.get("path"))
                try:
                    original = image_bytes(cell, where=f"{candidate.file} row {candidate.row}")
                    image = within_budget(original, c.max_pixels)  # what every model, and the trained one, sees
                    data_url(image)  # decodable, in a format the chat API takes
                    overlap = source_pool.overlaps(candidate, original)
                except (ValueError, OSError) as error:
                    source.reasons = {part: er.IMAGE_UNREADABLE for part in ("pt", "rl", "calibration")}
                    source.error = str(error)
                    progress.update(1)
                    return source
                if overlap:
                    report.evaluation_overlap[overlap] += 1
                    if c.sources.on_evaluation_overlap == "drop":
                        source.reasons = {part: er.OVERLAPS_EVALUATION for part in ("pt", "rl", "calibration")}
                        source.error = f"the source is an evaluation image (by {overlap})"
                        progress.update(1)
                        return source
                source.anchor = await engine.anchor(source, image, candidate.score)
                if source.anchor is None:
                    source.reasons = {part: er.ANCHOR_FAILED for part in ("pt", "rl", "calibration")}
                else:
                    work = []
                    if candidate.record_id in pt_set:
                        work.append(engine.pretraining(source, image))
                    if candidate.record_id in rl_set:
                        work.append(engine.rl_group(source, image))
                    await asyncio.gather(*work)
                progress.update(1)
                return source

            try:
                for start in range(0, len(chosen), 64):  # read images in slices: memory stays bounded
                    batch = chosen[start : start + 64]
                    cells = read_source_cells(batch)
                    async with asyncio.TaskGroup() as group:
                        tasks = [group.create_task(one(x, cells[x.record_id])) for x in batch]
                    results += [t.result() for t in tasks]
            except* FatalEndpointError as errors:
                raise errors.exceptions[0] from None
            finally:
                progress.close()
        report.requests_made, report.torn_log_bytes = engine.requests.requests_made, log.torn_tail_bytes
    return EngineRun(results, {x.record_id: x for x in chosen}, pt_ids, rl_ids, cal_ids, report)


def run(config: RedEngineConfig) -> EngineRun:
    """Synchronous entry: ``asyncio.run(run_engine(config))``."""
    return asyncio.run(run_engine(config))
