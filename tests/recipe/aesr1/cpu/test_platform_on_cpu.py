"""The CPU platform answers verl's device calls, and is chosen only on request."""

import subprocess
import sys
import textwrap

import torch

from recipe.aesr1.cpu.launch import CPU_ENVIRONMENT, cpu_environment
from recipe.aesr1.cpu.platform import CPUPlatform


def test_device_calls_verl_makes_are_answered():
    platform = CPUPlatform()
    device = platform.device_module
    assert torch.zeros(2).to(platform.current_device()).device.type == "cpu"  # verl's .to(get_device_id())
    assert platform.communication_backend_name() == "gloo"
    assert platform.get_device_capability() == (None, None)
    for call in ("empty_cache", "synchronize", "ipc_collect"):
        assert getattr(device, call)() is None
    free, total = device.mem_get_info()
    assert 0 < free <= total
    state = device.get_rng_state()
    first = torch.rand(3)
    device.set_rng_state(state)
    assert torch.equal(first, torch.rand(3))


def test_never_auto_detected():
    assert CPUPlatform().is_platform_available(use_smi_check=True) is False


def test_verl_picks_it_with_the_launch_environment_and_not_without():
    code = textwrap.dedent("""
        import verl
        from verl.utils.device import get_device_name, get_nccl_backend
        from verl.workers.rollout.replica import get_rollout_replica_class
        print(get_device_name(), get_nccl_backend())
        print(get_rollout_replica_class("hf").__name__)
    """)
    on_cpu = subprocess.run([sys.executable, "-c", code], env=cpu_environment(), capture_output=True, text=True, timeout=300)
    assert on_cpu.stdout.split() == ["cpu", "gloo", "HFReplica"], on_cpu.stderr[-2000:]
    plain = {key: value for key, value in cpu_environment().items() if key not in CPU_ENVIRONMENT}
    default = subprocess.run([sys.executable, "-c", code], env=plain, capture_output=True, text=True, timeout=300)
    assert "Unknown rollout mode: hf" in default.stderr  # nothing of the CPU backend without the environment
