"""The hf rollout server alone (no trainer, no Ray): its samples come from the model it holds (issue 21).

The reference is how verl's actor scores a rollout: the processor's inputs for the prompt (it marks the
image tokens in ``mm_token_type_ids``, which verl's agent loop turns into 3-D M-RoPE positions), the
sampled response appended, one forward pass, log-softmax of logits / temperature. The server's own
log-probs of the tokens it sampled must agree with it, for several requests of different lengths
generated in one left-padded batch. When they did not (the server built its inputs without
``mm_token_type_ids``), RAPO sampled from another policy than the one it trained: 0.40 nats per token
apart, prob correlation 0.82.
"""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor

from recipe.aesr1.cpu.hf_server import HFRolloutServer
from recipe.aesr1.cpu.no_torchvision import NoVideoProcessor, torchvision_importable
from recipe.aesr1.miniature.tiny_model import save_tiny_qwen2_5_vl

PROMPTS = ["Rate this photo. <image>", "How good is the light here? Answer briefly. <image>", "<image> Score it."]
TEMPERATURE = 0.9


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_qwen2_5_vl(tmp_path_factory.mktemp("tiny"), corpus_texts=PROMPTS, seed=3)


@pytest.fixture
def processor(model_dir, monkeypatch):
    """The checkpoint's ``AutoProcessor``, as every verl process of a CPU run loads it."""
    if not torchvision_importable():
        from transformers.models.auto.video_processing_auto import AutoVideoProcessor

        monkeypatch.setattr(AutoVideoProcessor, "from_pretrained", staticmethod(lambda *a, **k: NoVideoProcessor()))
    return AutoProcessor.from_pretrained(model_dir)


def images() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    sizes = [(96, 64), (64, 128), (80, 80)]  # different sizes: different image token counts per request
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in sizes]


def verl_prompt(processor, prompt: str, image: Image.Image) -> dict[str, torch.Tensor]:
    """Prompt inputs as verl builds them: the processor's chat template, then the processor itself."""
    before, after = prompt.split("<image>")
    content = [{"type": "text", "text": before}, {"type": "image"}, {"type": "text", "text": after}]
    text = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False)
    return dict(processor(text=[text], images=[image], return_tensors="pt"))


def reference_logprobs(model, prompt: dict[str, torch.Tensor], response: list[int], image_token_id: int,
                       mm_token_types: bool = True) -> torch.Tensor:
    """log p(response | prompt) from one forward pass of the full sequence (the actor's old_log_probs)."""
    ids = torch.cat([prompt["input_ids"], torch.tensor([response])], dim=1)
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "pixel_values": prompt["pixel_values"],
              "image_grid_thw": prompt["image_grid_thw"]}
    if mm_token_types:
        inputs["mm_token_type_ids"] = (ids == image_token_id).long()
    with torch.no_grad():
        logits = model(**inputs).logits[0, prompt["input_ids"].shape[1] - 1 : -1].float() / TEMPERATURE
    return torch.log_softmax(logits, -1).gather(-1, torch.tensor(response)[:, None])[:, 0]


def serve(model_dir, requests: list[tuple[list[int], Image.Image]], max_tokens: int = 24, top_k: int = -1):
    config = SimpleNamespace(seed=0, temperature=TEMPERATURE, top_p=1.0, top_k=top_k, prompt_length=512, response_length=64)
    server = HFRolloutServer(config, SimpleNamespace(local_path=str(model_dir)))
    params = {"temperature": TEMPERATURE, "top_p": 1.0, "top_k": top_k, "logprobs": True, "max_tokens": max_tokens}

    async def burst():  # concurrent requests: generated together, left padded
        return await asyncio.gather(*(server.generate(ids, params, f"r{i}", image_data=[image])
                                      for i, (ids, image) in enumerate(requests)))

    return server, asyncio.run(burst())


def test_rollout_log_probs_are_the_policy_log_probs(model_dir, processor):
    model = AutoModelForImageTextToText.from_pretrained(model_dir, dtype=torch.float32).eval()
    assert "mm_token_type_ids" in inspect.signature(model.forward).parameters
    prompts = [verl_prompt(processor, text, image) for text, image in zip(PROMPTS, images())]
    assert len({p["input_ids"].shape[1] for p in prompts}) == 3  # padding is exercised
    server, outputs = serve(model_dir, [(p["input_ids"][0].tolist(), image) for p, image in zip(prompts, images())])
    rollout, actor, without_types = [], [], []
    for prompt, output in zip(prompts, outputs):
        assert len(output.token_ids) == len(output.log_probs) > 0
        rollout.append(torch.tensor(output.log_probs))
        actor.append(reference_logprobs(model, prompt, output.token_ids, model.config.image_token_id))
        without_types.append(reference_logprobs(model, prompt, output.token_ids, model.config.image_token_id, False))
    rollout, actor, without_types = torch.cat(rollout), torch.cat(actor), torch.cat(without_types)
    gap = (rollout - actor).abs()
    assert gap.max() < 1e-3, f"rollout vs actor log-probs: mean {gap.mean():.4f}, max {gap.max():.4f} nats"
    corr = np.corrcoef(rollout.exp().numpy(), actor.exp().numpy())[0, 1]
    assert corr > 0.9999
    # The check has teeth even on a random model, whose outputs depend little on positions: the same
    # tokens scored with text positions for the image tokens are orders of magnitude further apart.
    assert (without_types - actor).abs().mean() > max(1e-4, 100 * gap.mean())


def test_unset_sampling_knobs_do_not_truncate_the_distribution(model_dir, processor):
    """verl's top_k = -1 samples the full vocabulary; transformers alone would apply its default top_k = 50."""
    model = AutoModelForImageTextToText.from_pretrained(model_dir, dtype=torch.float32).eval()
    image = images()[0]
    prompt = verl_prompt(processor, PROMPTS[0], image)
    # A random model is near uniform over ~hundreds of tokens: 8 x 48 draws all inside the top 50 of their
    # step would mean truncation.
    _, outputs = serve(model_dir, [(prompt["input_ids"][0].tolist(), image)] * 8, max_tokens=48)
    ranks = []
    for output in outputs:
        ids = torch.cat([prompt["input_ids"], torch.tensor([output.token_ids])], dim=1)
        inputs = {k: v for k, v in prompt.items() if k != "input_ids" and k != "attention_mask"}
        inputs["mm_token_type_ids"] = (ids == model.config.image_token_id).long()
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=torch.ones_like(ids), **inputs).logits[0, prompt["input_ids"].shape[1] - 1 : -1]
        chosen = logits.gather(-1, torch.tensor(output.token_ids)[:, None])
        ranks += (logits > chosen).sum(-1).tolist()
    assert max(ranks) >= 50


def test_a_prompt_built_for_another_image_size_is_refused(model_dir, processor):
    small, large = images()[0], images()[1].resize((256, 256))
    prompt = verl_prompt(processor, PROMPTS[0], small)["input_ids"][0].tolist()
    config = SimpleNamespace(seed=0, temperature=1.0, top_p=1.0, top_k=-1, prompt_length=512, response_length=8)
    server = HFRolloutServer(config, SimpleNamespace(local_path=str(model_dir)))
    with pytest.raises(ValueError, match="image pad tokens"):
        asyncio.run(server.generate(prompt, {"max_tokens": 4}, "r0", image_data=[large]))


def test_a_request_draws_the_same_response_in_any_batch(model_dir, processor):
    """--rapo-seed: draws depend on the seed, the step and the request, not on batching or arrival order."""
    prompts = [(verl_prompt(processor, text, image)["input_ids"][0].tolist(), image) for text, image in zip(PROMPTS, images())]
    _, together = serve(model_dir, prompts + [prompts[0]])  # one batch; prompt 0 asked twice
    _, reordered = serve(model_dir, [prompts[2], prompts[0], prompts[1], prompts[0]])
    _, alone = serve(model_dir, [prompts[1]])
    tokens = [output.token_ids for output in together]
    assert [o.token_ids for o in reordered] == [tokens[2], tokens[0], tokens[1], tokens[3]]
    assert alone[0].token_ids == tokens[1]
    assert tokens[0] != tokens[3]  # the second copy of a prompt is another draw (GRPO's K samples)


def test_another_seed_draws_other_responses(model_dir, processor):
    prompt = [(verl_prompt(processor, PROMPTS[0], images()[0])["input_ids"][0].tolist(), images()[0])]
    server, first = serve(model_dir, prompt)
    server.config.seed = 1
    second = asyncio.run(server.generate(prompt[0][0], {"temperature": TEMPERATURE, "top_k": -1, "max_tokens": 24},
                                         "r", image_data=[prompt[0][1]]))
    assert second.token_ids != first[0].token_ids
