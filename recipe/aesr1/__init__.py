"""Aes-R1 on verl: RAPO trainer hook, AesCoT pipeline, evaluation and the reward bench."""
