"""Aes-R1 as a verl-omni reward function: ``compute_score_aesr1`` (async) and ``compute_score_aesr1_sync``.

verl-omni (verl's home for diffusion RL) loads a scorer by path and name and calls it once per
generated image: ``compute_score_<name>(data_source, solution_image, ground_truth, extra_info, **kwargs)
-> {"score": float, "<name>_raw": ...}``, the image a uint8 ``(C, H, W)`` tensor, the extra config keys
as ``kwargs``. Both verl-omni and verl's reward loop await a coroutine function and run a plain one in
a worker thread; the async one lets the reward loop's concurrent calls meet in the service's batches.

Where the judge runs (one of, as reward kwargs):

* ``server_url``: an ``aesr1-reward-server`` (recommended: the judge's GPU and dependencies stay apart
  from the trainer's, and concurrent calls are batched there). ``token_env`` names the environment
  variable holding its bearer token, if it requires one.
* ``model`` (+ ``backend``, default ``hf``, and ``backend_options``): an in-process judge, loaded once per
  worker process and shared by the calls.

Returned keys, the same for every sample (verl requires that): ``score`` (the judge's score in [0, 1],
``failure_value`` when it gave none), ``aesr1_raw`` (the same number; verl-omni's ``<name>_raw``
convention), ``aesr1_failed`` (1.0 when the judge gave no score, so a run can mask or count those).
``ground_truth`` (verl-omni's prompt) and ``data_source`` are accepted and not shown to the judge.

Config to paste (verl-omni, a named reward function)::

    +reward.reward_functions.aesr1.path=pkg://recipe.aesr1.reward_model.verl_omni
    +reward.reward_functions.aesr1.name=compute_score_aesr1
    +reward.reward_functions.aesr1.weight=1.0
    +reward.reward_functions.aesr1.server_url=http://judge-host:18086
"""

from __future__ import annotations

import os
import threading

from recipe.aesr1.reward_model.service_client import RewardServiceClient
from recipe.aesr1.scoring.image_inputs import to_pil_images
from recipe.aesr1.scoring.scorer import AestheticReward, RewardSettings
from recipe.aesr1.scoring.scorer import (
    _run_sync as run_sync,  # the scorer's own sync bridge
)

_judges: dict[tuple, AestheticReward | RewardServiceClient] = {}
_judges_lock = threading.Lock()


def _judge(server_url: str | None, model: str | None, backend: str, token_env: str | None,
           timeout_s: float, max_retries: int, retry_backoff: float, settings: dict, backend_options: dict):
    """One client or in-process judge per configuration and process (models load once)."""
    if (server_url is None) == (model is None):
        raise ValueError("compute_score_aesr1 needs exactly one of server_url (a reward service) or model (in-process)")
    key = (server_url, model, backend, token_env, timeout_s, max_retries, retry_backoff,
           tuple(sorted(settings.items())), tuple(sorted(backend_options.items())))
    with _judges_lock:
        if key not in _judges:
            if server_url is not None:
                token = os.environ.get(token_env) if token_env else None
                if token_env and not token:
                    raise ValueError(f"token_env={token_env!r}: that environment variable is unset or empty")
                _judges[key] = RewardServiceClient(server_url, token, timeout_s, max_retries, retry_backoff)
            else:
                _judges[key] = AestheticReward.from_backend(backend, model, RewardSettings(**settings), **backend_options)
        return _judges[key]


def _result(score: float | None, failure_value: float) -> dict:
    value = failure_value if score is None else float(score)
    return {"score": value, "aesr1_raw": value, "aesr1_failed": float(score is None)}


async def compute_score_aesr1(
    data_source: str,
    solution_image,
    ground_truth: str | None = None,
    extra_info: dict | None = None,
    server_url: str | None = None,
    model: str | None = None,
    backend: str = "hf",
    token_env: str | None = None,
    timeout_s: float = 120.0,
    max_retries: int = 2,
    retry_backoff: float = 0.5,
    failure_value: float = 0.0,
    settings: dict | None = None,
    backend_options: dict | None = None,
    **kwargs,
) -> dict:
    """The judge's score of one generated image, verl-omni's scorer signature.

    Args:
        solution_image: uint8 ``(C, H, W)`` (or ``(1, C, H, W)``) tensor or array; float in [0, 1] also works.
        server_url / model: where the judge runs (see the module docstring); exactly one.
        failure_value: ``score`` when the judge gives none (the service's own failure value is ignored here,
            so the trainer's config decides).
        settings: in-process only, ``RewardSettings`` fields (e.g. ``{"mode": "score_only"}``).

    Raises:
        RewardServiceError: the service refused the request or did not answer after the retries.
    """
    image = to_pil_images(solution_image)
    if len(image) != 1:
        raise ValueError(f"compute_score_aesr1 scores one image per call, got {len(image)}")
    judge = _judge(server_url, model, backend, token_env, timeout_s, max_retries, retry_backoff,
                   settings or {}, backend_options or {})
    if isinstance(judge, RewardServiceClient):
        response = await judge.ascore_request(image)
        return _result(response["raw"][0], failure_value)
    (verdict,) = await judge.ascore(image)
    return _result(verdict.score, failure_value)


def compute_score_aesr1_sync(data_source: str, solution_image, ground_truth: str | None = None,
                             extra_info: dict | None = None, **kwargs) -> dict:
    """``compute_score_aesr1`` for callers without an event loop (also works inside one, via a helper thread)."""
    return run_sync(compute_score_aesr1(data_source, solution_image, ground_truth, extra_info, **kwargs))
