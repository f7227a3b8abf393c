"""Images without torchvision (recipe/aesr1/cpu/no_torchvision.py), in a fresh interpreter each.

The shims exist because torchvision does not import beside this machine's CPU torch; the first
test fails once it does, and then both shims go.
"""

import subprocess
import sys
import textwrap

import pytest

from recipe.aesr1.cpu.no_torchvision import torchvision_importable
from recipe.aesr1.miniature.tiny_vlm import save_tiny_vlm


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)


def test_torchvision_still_does_not_import_here():
    assert not torchvision_importable(), "torchvision imports now: remove recipe/aesr1/cpu/no_torchvision.py"


@pytest.fixture(scope="module")
def tiny_qwen2_5_vl(tmp_path_factory):
    return save_tiny_vlm(tmp_path_factory.mktemp("tiny") / "model", kind="qwen2_5_vl")


def test_without_the_shims_verl_silently_loses_the_processor(tiny_qwen2_5_vl):
    result = run_python(f"""
        import warnings
        from verl.utils.tokenizer import hf_processor
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            print("processor:", hf_processor({str(tiny_qwen2_5_vl)!r}))
        print("warned:", any("Torchvision" in str(w.message) for w in caught))
    """)
    assert "processor: None" in result.stdout and "warned: True" in result.stdout, result.stderr[-2000:]


def test_with_the_shims_verl_gets_the_real_processor_and_qwen_vl_utils(tiny_qwen2_5_vl):
    result = run_python(f"""
        import sys
        from recipe.aesr1.cpu import no_torchvision
        no_torchvision.install()
        assert "torchvision" not in sys.modules  # transformers' availability checks stay honest
        from PIL import Image
        from verl.utils.dataset.vision_utils import process_image
        from verl.utils.tokenizer import hf_processor
        processor = hf_processor({str(tiny_qwen2_5_vl)!r})
        print("processor:", type(processor).__name__, type(processor.image_processor).__name__)
        image = process_image({{"image": Image.new("RGB", (300, 200))}})  # qwen_vl_utils' real fetch_image
        print("image:", image.size)
        out = processor(text=["<|vision_start|><|image_pad|><|vision_end|>"], images=[image], return_tensors="pt")
        print("grid:", out["image_grid_thw"].tolist())
        try:
            processor.video_processor(videos=[])
        except RuntimeError as error:
            print("video:", error)
    """)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "processor: Qwen2_5_VLProcessor" in result.stdout
    assert "image: (308, 196)" in result.stdout  # smart_resize to multiples of 28, as qwen_vl_utils does
    assert "video: no video processor" in result.stdout
