"""How long a critique is in tokens, without the expert's tokenizer: a lower bound that never overcounts.

The Qwen2 / Qwen2.5 tokenizer (and every byte-level BPE of the GPT-2 family) first splits text into
pre-tokens: runs of letters, single digits (Qwen), runs of punctuation; whitespace attaches to the next
piece. BPE never merges across pre-tokens, so their count is a lower bound of the token count. A
critique above the budget by this bound is certainly above it; one just under may still be over,
which the server's ``finish_reason == "length"`` catches.
"""

from __future__ import annotations

import re

_PRE_TOKEN = re.compile(r"[^\W\d_]+|\d|[^\w\s]+|_+")


def token_lower_bound(text: str) -> int:
    """Pre-tokens of ``text`` (letter runs, single digits, punctuation runs): <= its BPE token count.

    >>> token_lower_bound("Soft light, 2 figures.")
    6
    """
    return sum(1 for _ in _PRE_TOKEN.finditer(text))
