"""The miniature's tiny Qwen2.5-VL: tokenizer constraints verl and the reward parser need, loading through
the processor's parts read without torchvision, and the expert's SFT set read by verl's own SFT dataset."""

from __future__ import annotations

import random
import sys

import pyarrow.parquet as pq
import pytest
import torch
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoTokenizer

from data_prep.prompts import SCORING_PROMPT
from recipe.aesr1.cpu.no_torchvision import import_qwen_vl_utils
from recipe.aesr1.miniature.critique_grammar import all_critique_texts, write_critique
from recipe.aesr1.miniature.image_statistics import measure
from recipe.aesr1.miniature.tiny_model import save_tiny_qwen2_5_vl
from reward_fns import parse_answer


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    return AutoTokenizer.from_pretrained(tiny_model)  # as verl's hf_tokenizer loads it


@pytest.mark.parametrize("text", [
    "<think>a</think><answer>0.73</answer>",  # the trial's case: tags split, nothing invented between them
    "<think>Vivid blue tones fill the frame.</think>\n<answer>1.00</answer>",  # newline between the blocks
    "<think> Flat light. </think><answer> 0.05 </answer>",  # spaces inside the tags are kept
    "Overall,  a weak picture.\n\n",  # double space, blank line
])
def test_decode_gives_back_the_encoded_text(tokenizer, text):
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids) == text
    assert tokenizer.decode(ids, skip_special_tokens=True) == text


def test_newline_tags_and_every_score_are_one_token(tokenizer):
    assert len(tokenizer.encode("\n", add_special_tokens=False)) == 1  # verl's QwenContinuousTokenBuilder
    for piece in ["<think>", "</think>", "<answer>", "</answer>", *(f"{i / 100:.2f}" for i in range(101))]:
        assert len(tokenizer.encode(piece, add_special_tokens=False)) == 1, piece
    ids = tokenizer.encode("<think>a</think><answer>0.73</answer>", add_special_tokens=False)
    assert parse_answer(tokenizer.decode(ids)).score == 0.73


def test_expert_critiques_prompt_and_chat_have_no_unknown_token(tokenizer, sample_table):
    _, rows = sample_table
    critiques = [write_critique(measure(Image.open(r["image"]["path"])), "fair", random.Random(i))
                 for i, r in enumerate(rows)]
    chat = tokenizer.apply_chat_template([
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": SCORING_PROMPT}]},
        {"role": "assistant", "content": f"<think>{critiques[0]}</think><answer>0.42</answer>"},
    ], tokenize=False)
    assert chat.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                           "<|vision_start|><|image_pad|><|vision_end|>You are an aesthetic expert.")
    for text in [*all_critique_texts(), *critiques, SCORING_PROMPT, chat]:
        ids = tokenizer.encode(text, add_special_tokens=False)
        assert tokenizer.unk_token_id not in ids, text
        assert tokenizer.decode(ids) == text


def test_corpus_texts_extend_the_vocabulary(tmp_path):
    folder = save_tiny_qwen2_5_vl(tmp_path / "m", corpus_texts=["Zebra stripes."], hidden_size=32, text_layers=1)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    # each word with and without its leading space
    assert tokenizer.unk_token_id not in tokenizer.encode("stripes. Zebra stripes", add_special_tokens=False)
    assert tokenizer.unk_token_id in tokenizer.encode("Okapi", add_special_tokens=False)  # never seen
    config = AutoModelForImageTextToText.from_pretrained(folder).config
    assert (config.text_config.hidden_size, config.text_config.num_hidden_layers) == (32, 1)


def qwen_processor(folder):
    """The checkpoint's Qwen2.5-VL processor as AutoProcessor builds it on a CPU run (video stand-in)."""
    from transformers import AutoTokenizer, Qwen2_5_VLProcessor
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    from recipe.aesr1.cpu.no_torchvision import NoVideoProcessor

    tokenizer = AutoTokenizer.from_pretrained(folder)
    return Qwen2_5_VLProcessor(image_processor=Qwen2VLImageProcessorPil.from_pretrained(folder), tokenizer=tokenizer,
                               video_processor=NoVideoProcessor(), chat_template=tokenizer.chat_template)


def test_the_processor_reads_the_folder_and_the_model_generates(tiny_model, sample_table):
    _, rows = sample_table
    processor = qwen_processor(tiny_model)
    image = Image.open(rows[0]["image"]["path"])
    assert image.size == (96, 72)
    text = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": SCORING_PROMPT}]}],
        add_generation_prompt=True, tokenize=False)
    inputs = processor(text=[text], images=[image], return_tensors="pt")
    assert inputs["image_grid_thw"].tolist() == [[1, 6, 6]]  # 84 x 84 after the processor's resize
    assert int((inputs["input_ids"] == processor.image_token_id).sum()) == 9
    model = AutoModelForImageTextToText.from_pretrained(tiny_model)
    assert 1e5 < sum(p.numel() for p in model.parameters()) < 1e6
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=6, do_sample=False)
    assert out.shape[1] == inputs["input_ids"].shape[1] + 6
    with pytest.raises(RuntimeError, match="no video processor"):
        processor(text=[text], videos=[[image]])


def test_experts_sft_set_loads_in_verls_sft_dataset_with_the_tiny_processor(
        sample_table, expert_server, tiny_model, tmp_path, monkeypatch):
    import verl.utils.dataset.multiturn_sft_dataset as verl_sft

    from recipe.aesr1.aescot.config import load_config
    from recipe.aesr1.aescot.outputs import write_outputs
    from recipe.aesr1.aescot.pipeline import run

    monkeypatch.setitem(sys.modules, "qwen_vl_utils", import_qwen_vl_utils())  # its real image code
    table, _ = sample_table
    config = load_config(None, [f"expert.base_url={expert_server.url}", "expert.api_key_env=null",
                                f"sampling.inputs=[{table}]", "sampling.preset=null", "sampling.size=6",
                                f"output.dir={tmp_path / 'aescot'}", "show_progress=false"])
    paths, _ = write_outputs(config, run(config))
    processor = qwen_processor(tiny_model)
    dataset = verl_sft.MultiTurnSFTDataset(
        str(paths.sft), processor.tokenizer, {"max_length": 1024, "pad_mode": "no_padding", "truncation": "error"},
        processor=processor)
    rows = pq.read_table(paths.sft).to_pylist()
    assert len(dataset) == len(rows) == 6
    for index, row in enumerate(rows):
        item = dataset[index]
        assert processor.tokenizer.unk_token_id not in item["input_ids"].tolist()
        trained = processor.tokenizer.decode(item["input_ids"][item["loss_mask"].bool()])
        assert trained.startswith(row["messages"][1]["content"] + "<|im_end|>")
        assert item["position_ids"].shape == (4, item["input_ids"].shape[0])


def test_evaluations_hf_backend_scores_with_the_tiny_model(tiny_model, sample_table):
    from recipe.aesr1.scoring.backends import SamplingSettings, make_backend

    _, rows = sample_table
    backend = make_backend("hf", str(tiny_model), device="cpu", dtype="float32")
    out = backend.generate([Image.open(rows[0]["image"]["path"])], SCORING_PROMPT,
                           SamplingSettings(temperature=0.0, max_new_tokens=5), [0])
    assert out[0][0].n_tokens == 5 and "[UNK]" not in out[0][0].text


def test_mrope_split_matches_qwen_and_bad_sizes_are_refused(tokenizer):
    from recipe.aesr1.miniature.tiny_vlm import build_tiny_model, mrope_section

    assert mrope_section(128) == [16, 24, 24]  # Qwen2.5-VL-7B's config.json (head_dim 128)
    assert mrope_section(16) == [2, 3, 3]  # save_tiny_vlm's original hard-coded split
    with pytest.raises(ValueError, match="multiple of 4"):
        build_tiny_model("qwen2_5_vl", tokenizer, hidden_size=40, num_heads=4)  # head_dim 10
