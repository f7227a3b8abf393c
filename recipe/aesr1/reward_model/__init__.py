"""The judge as a reward for image-generation RL: the reward service (``aesr1-reward-server``), its client,
the verl-omni scorer and the Flow-GRPO / mm_grpo / dance_grpo adapters (see README). The judge itself
(``AestheticReward``) is ``recipe.aesr1.scoring``."""
