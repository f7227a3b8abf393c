"""Aes-R1 in miniature: the main job's pieces, so the whole method runs at toy scale on a CPU.

``stages``: each stage through the command a GPU user runs; ``settings``: the sizes; ``report``:
summary.json, the table and the curves. ``expert_server``: a rule-based AesCoT expert and judges behind
an OpenAI-compatible server. ``tiny_model``: a tiny random-weight Qwen2.5-VL whose tokenizer covers the
expert's words and the scores.
"""
