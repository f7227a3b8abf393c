"""The CPU backend's workarounds: each still answers what verl 0.9.1 does, and does only that.

Each "still needed" test fails when verl (or torch) changes the behaviour the shim answers; then the
shim and its test go (recipe/aesr1/cpu/workarounds.py names the verl lines).
"""

import inspect

import pytest
import torch
import torch.distributed
import verl.utils.distributed as verl_distributed
from verl.workers.engine.fsdp import transformer_impl

from recipe.aesr1.cpu import workarounds
from recipe.aesr1.cpu.workarounds import UnpinnedCPUOffloadPolicy, dedupe_backend


@pytest.mark.parametrize(
    "backend, expected",
    [
        ("cpu:gloo,cpu:gloo", "cpu:gloo"),  # verl's string on the CPU platform
        ("cpu:gloo,cuda:nccl", "cpu:gloo,cuda:nccl"),  # verl's string on a GPU: untouched
        ("gloo", "gloo"),
        (None, None),
    ],
)
def test_dedupe_backend(backend, expected):
    assert dedupe_backend(backend) == expected


def test_verl_still_builds_a_duplicate_backend_string_on_cpu(monkeypatch):
    """verl/utils/distributed.py:89 -> 'cpu:gloo,cpu:gloo'; torch rejects it ('Duplicate device type')."""
    seen = {}
    monkeypatch.setattr(verl_distributed, "get_device_name", lambda: "cpu")
    monkeypatch.setattr(verl_distributed, "get_nccl_backend", lambda: "gloo")
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.distributed, "init_process_group", lambda **kwargs: seen.update(kwargs))
    verl_distributed.initialize_global_process_group_ray()
    assert seen["backend"] == "cpu:gloo,cpu:gloo", "verl fixed its backend string: remove install_backend_dedupe"


def test_the_wrapped_init_process_group_receives_the_deduplicated_string(monkeypatch):
    seen = {}
    monkeypatch.setattr(torch.distributed, "init_process_group", lambda *args, **kwargs: seen.update(kwargs))
    workarounds.install_backend_dedupe()
    workarounds.install_backend_dedupe()  # idempotent: one wrapper
    torch.distributed.init_process_group(backend="cpu:gloo,cpu:gloo", rank=0)
    assert seen == {"backend": "cpu:gloo", "rank": 0}


def test_torch_still_rejects_the_duplicate_string():
    init = getattr(torch.distributed.init_process_group, "__wrapped__", torch.distributed.init_process_group)
    with pytest.raises((ValueError, RuntimeError), match="[Dd]uplicate"):
        init(backend="cpu:gloo,cpu:gloo", store=torch.distributed.HashStore(), rank=0, world_size=1)
    assert not torch.distributed.is_initialized()


def test_verl_still_pins_the_reference_engines_offload_memory():
    """transformer_impl.py:462: forward-only FSDP2 engines get CPUOffloadPolicy(pin_memory=True)."""
    source = inspect.getsource(transformer_impl.FSDPEngine._build_fsdp_module)
    assert "CPUOffloadPolicy(pin_memory=True)" in source, "verl no longer pins: remove install_unpinned_offload"


def test_pinning_memory_needs_an_accelerator_here():
    if torch.cuda.is_available():
        pytest.skip("an accelerator is present: pinning works and the CPU backend is not for this machine")
    with pytest.raises(RuntimeError):
        torch.empty(4).pin_memory()


def test_the_unpinned_policy_is_an_offload_policy_that_never_pins():
    policy = UnpinnedCPUOffloadPolicy(pin_memory=True)
    assert isinstance(policy, UnpinnedCPUOffloadPolicy.__mro__[1])  # torch's CPUOffloadPolicy
    assert policy.pin_memory is False


def position_ids_batch(lengths):
    """What verl/workers/utils/padding.py:67 builds: Qwen2-VL's (4, L_i) position ids, nested."""
    from tensordict import TensorDict

    rows = [torch.arange(length).repeat(4, 1) + 10 * i for i, length in enumerate(lengths)]
    nested = torch.nested.as_nested_tensor(rows, layout=torch.jagged)
    return rows, TensorDict({"position_ids": nested}, batch_size=len(rows))


def test_verl_still_breaks_equal_length_position_ids():
    """tensordict_utils.py:915 declares dim 2 ragged; with equal lengths torch nested along dim 1."""
    import verl.utils.tensordict_utils as tensordict_utils

    original = getattr(tensordict_utils.maybe_fix_3d_position_ids, "__wrapped__", tensordict_utils.maybe_fix_3d_position_ids)
    _, data = position_ids_batch([6, 6, 6])
    original(data)
    with pytest.raises(RuntimeError):  # torch's split_with_sizes / "Expected cond to be True"
        data["position_ids"].unbind()


@pytest.mark.parametrize("lengths", [[6, 6, 6], [6, 3, 5], [4]])
def test_renested_position_ids_unbind_to_the_rows(lengths):
    import verl.utils.tensordict_utils as tensordict_utils

    original = getattr(tensordict_utils.maybe_fix_3d_position_ids, "__wrapped__", tensordict_utils.maybe_fix_3d_position_ids)
    rows, data = position_ids_batch(lengths)
    data["position_ids"] = workarounds.renest_equal_length_position_ids(data["position_ids"])
    original(data)
    assert [r.tolist() for r in data["position_ids"].unbind()] == [r.tolist() for r in rows]
