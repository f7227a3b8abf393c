"""Images without torchvision: what the CPU backend does where torchvision cannot be imported.

PyPI's torchvision wheels are built against CUDA torch; beside the CPU torch 2.13.0 that CPU machines
install, ``import torchvision`` fails (``operator torchvision::nms does not exist``), and without it
two things verl needs for images break, both silently:

1. ``qwen_vl_utils`` imports torchvision at module level (for video only), so verl's
   ``process_image`` (verl/utils/dataset/vision_utils.py) cannot import it, and RLHFDataset counts
   the failure as an over-long prompt and filters every row (rl_dataset.py:241-244).
   Shim: import ``qwen_vl_utils`` once with a placeholder ``torchvision`` module in ``sys.modules``,
   then remove the placeholder. Its image code (PIL: ``fetch_image``, ``smart_resize``) is the
   real one; its video readers raise if ever called.
2. transformers' ``Qwen2VLVideoProcessor`` requires torchvision, so ``AutoProcessor.from_pretrained``
   of any Qwen2(.5)-VL checkpoint raises, and verl's ``hf_processor`` (utils/tokenizer/tokenizer.py:242)
   catches it and returns no processor: the run goes on as text-only. Shim: ``AutoVideoProcessor``
   returns ``NoVideoProcessor``, a video processor that refuses every call, when torchvision is missing.

Both are applied only when torchvision really cannot be imported (``torchvision_importable``);
``tests/recipe/aesr1/cpu/test_no_torchvision_on_cpu.py`` fails once it can, so the shims go then.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

import transformers


def torchvision_importable() -> bool:
    try:
        importlib.import_module("torchvision")
    except Exception:  # ImportError, or the RuntimeError of a CUDA build beside CPU torch
        sys.modules.pop("torchvision", None)
        return False
    return True


def _placeholder_torchvision() -> types.ModuleType:
    def unavailable(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("torchvision is not importable here: qwen_vl_utils' video readers cannot run")

    module = types.ModuleType("torchvision", "placeholder: torchvision does not import beside this torch")
    module.__version__ = "0.0.0+unavailable"
    module.io = types.SimpleNamespace(read_video=unavailable)
    module.transforms = types.SimpleNamespace(
        InterpolationMode=types.SimpleNamespace(BICUBIC="bicubic", BILINEAR="bilinear"),
        functional=types.SimpleNamespace(resize=unavailable),
    )
    return module


def import_qwen_vl_utils() -> types.ModuleType:
    """Shim 1: ``qwen_vl_utils`` with its real image code and no torchvision left in ``sys.modules``."""
    if "qwen_vl_utils" in sys.modules:
        return sys.modules["qwen_vl_utils"]
    placeholder = _placeholder_torchvision()
    sys.modules["torchvision"] = placeholder
    sys.modules["torchvision.transforms"] = placeholder.transforms
    try:
        return importlib.import_module("qwen_vl_utils")
    finally:
        for name in ("torchvision", "torchvision.transforms"):
            sys.modules.pop(name, None)


class NoVideoProcessor(transformers.BaseVideoProcessor, transformers.utils.PushToHubMixin):
    """Stands where a Qwen2-VL processor expects its video processor; refuses any video.

    Without torchvision, ``transformers.BaseVideoProcessor`` is the library's placeholder class; the
    processor checks its video processor against that name, and serialises it as a ``PushToHubMixin``.
    """

    _auto_class = None

    def __init__(self) -> None:  # BaseVideoProcessor's own init reads a config we do not have
        pass

    def save_pretrained(self, *args: Any, **kwargs: Any) -> list[str]:
        return []  # nothing to save: a checkpoint keeps no video processor config

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no video processor: torchvision is not importable here (images only)")

    def to_dict(self) -> dict[str, Any]:
        return {"video_processor_type": "NoVideoProcessor"}


def install_video_processor_placeholder() -> None:
    """Shim 2: ``AutoVideoProcessor.from_pretrained`` gives ``NoVideoProcessor`` instead of raising."""
    from transformers.models.auto.video_processing_auto import (
        AutoVideoProcessor as auto,  # what ProcessorMixin uses
    )

    if getattr(auto.from_pretrained, "_aesr1_placeholder", False):
        return

    def from_pretrained(*args: Any, **kwargs: Any) -> NoVideoProcessor:
        return NoVideoProcessor()

    from_pretrained._aesr1_placeholder = True
    auto.from_pretrained = staticmethod(from_pretrained)


def install() -> None:
    if torchvision_importable():
        return
    import_qwen_vl_utils()
    install_video_processor_placeholder()
