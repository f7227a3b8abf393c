"""Qwen2.5-VL's processor without its video processor, for machines without torchvision.

transformers 5.10's ``Qwen2_5_VLProcessor`` always loads a video processor, and every video processor
in transformers requires torchvision, which does not import beside this project's CPU torch. This
subclass takes only the image processor and the tokenizer; images go through exactly the parent's code.
``tiny_model.save_tiny_qwen2_5_vl`` saves it into the checkpoint folder as remote code (``auto_map``),
so ``AutoProcessor.from_pretrained(folder, trust_remote_code=True)`` returns it (verl: set
``model.trust_remote_code=true``). It keeps the parent's class name because verl picks the M-RoPE
index function by ``processor.__class__.__name__`` (verl/utils/tokenizer/tokenizer.py, ``hf_processor``).
This file imports transformers only: it is copied into checkpoint folders and imported from there.
"""

from transformers import Qwen2_5_VLProcessor as _Qwen2_5_VLProcessor
from transformers.processing_utils import ProcessorMixin


class Qwen2_5_VLProcessor(_Qwen2_5_VLProcessor):
    """``Qwen2_5_VLProcessor`` with ``image_processor`` and ``tokenizer`` only; passing videos is an error."""

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        # The parent's token bookkeeping, then ProcessorMixin with the two sub-processors.
        self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
        self.video_token = getattr(tokenizer, "video_token", None) or "<|video_pad|>"
        ids = tokenizer.convert_tokens_to_ids
        self.image_token_id = getattr(tokenizer, "image_token_id", None) or ids(self.image_token)
        self.video_token_id = getattr(tokenizer, "video_token_id", None) or ids(self.video_token)
        ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    def __call__(self, images=None, text=None, videos=None, **kwargs):
        if videos is not None:
            raise ValueError("this Qwen2.5-VL processor has no video processor (it needs torchvision)")
        return super().__call__(images=images, text=text, **kwargs)
