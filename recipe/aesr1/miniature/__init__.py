"""Aes-R1 in miniature: the pieces that let the whole method run at toy scale on a CPU.

``expert_server``: a rule-based AesCoT expert and judges behind an OpenAI-compatible server.
``tiny_model``: a tiny random-weight Qwen2.5-VL whose tokenizer covers the expert's words and the scores.
"""
