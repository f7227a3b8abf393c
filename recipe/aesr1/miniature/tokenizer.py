"""A word-level tokenizer built offline for the miniature's tiny Qwen2.5-VL: the expert's words, the
Appendix B scoring prompt, the answer tags and every score as one token each, and Qwen's chat format.

Pieces come from one regex (``PIECE``): a tag, a two-decimal number, a word or a punctuation mark, each
with at most one leading space, or a single whitespace character. The space belongs to the token (as in
GPT-2's byte-level tokens), and the decoder fuses tokens without a separator, so decoding gives back
exactly the text that was encoded: ``<think>a</think><answer>0.73</answer>`` round-trips, and what the
reward parser (``reward_fns.parse_answer``) reads is what the model wrote. ``"\\n"`` is one token, as
verl's agent loop requires (verl/utils/tokenizer/continuous_token.py, ``QwenContinuousTokenBuilder``).
Every alphabetic word of the corpus enters with and without its leading space, in the case it was seen.
Differs from Qwen's byte-level BPE: a piece outside the vocabulary is ``[UNK]`` (tests check that the
expert's critiques and the prompts never hit it).
"""

from __future__ import annotations

import string
from collections.abc import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from data_prep.prompts import SCORING_PROMPT
from recipe.aesr1.miniature.tiny_vlm import QWEN_SPECIAL_TOKENS

UNK = "[UNK]"
TAGS = ("<think>", "</think>", "<answer>", "</answer>", "<image>")
SCORES = tuple(f"{i / 100:.2f}" for i in range(101))  # 0.00 .. 1.00, the answers of Appendix B
# One-decimal numbers are not answers of the format, but a model may write them; keep them decodable.
_TENTHS = tuple(f"{i / 10:.1f}" for i in range(11))
PIECE = r"</?think>|</?answer>|<image>| ?\d+\.\d+| ?[A-Za-z]+| ?\d| ?[^\sA-Za-z\d]|\s"
SYSTEM_PROMPT = "You are a helpful assistant."

# Qwen2-VL / Qwen2.5-VL's chat template (default system turn, image and video placeholders).
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\n" + SYSTEM_PROMPT + "<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# Text the template itself writes (role names, vision ids), so that every rendered chat is covered.
_TEMPLATE_TEXTS = (SYSTEM_PROMPT, "system user assistant", "Picture 1: Video 1:")


def _pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.Split(Regex(PIECE), behavior="isolated")


def vocabulary(texts: Iterable[str]) -> list[str]:
    """Tokens covering ``texts``, the scoring prompt, the tags, scores, digits, ASCII punctuation and whitespace."""
    split = _pre_tokenizer()
    pieces: set[str] = set(TAGS) | {"\n", " ", "\t"}
    for base in (*SCORES, *_TENTHS, *string.digits, *string.punctuation):
        pieces |= {base, " " + base}
    for text in (SCORING_PROMPT, *_TEMPLATE_TEXTS, *texts):
        for piece, _ in split.pre_tokenize_str(text):
            pieces.add(piece)
            word = piece.lstrip(" ")
            if word.isalpha():
                pieces |= {word, " " + word}
    return sorted(pieces)


def build_tokenizer(texts: Iterable[str]) -> PreTrainedTokenizerFast:
    """The tokenizer for ``texts`` (e.g. every sentence the expert can write) with Qwen's special tokens."""
    tokens = [*QWEN_SPECIAL_TOKENS, *vocabulary(texts), UNK]
    backend = Tokenizer(models.WordLevel(vocab={token: i for i, token in enumerate(tokens)}, unk_token=UNK))
    backend.pre_tokenizer = _pre_tokenizer()
    backend.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token=UNK,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=list(QWEN_SPECIAL_TOKENS),
        chat_template=CHAT_TEMPLATE,
        clean_up_tokenization_spaces=False,
    )
