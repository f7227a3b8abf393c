"""Prompts shared by every stage that shows an image to the model.

The scoring prompt is the one of Aes-R1 Appendix B ("Prompt Used for Aesthetic Scoring"), used
verbatim for RL prompts, for the AesCoT SFT set and for evaluation, so that the scale the model is
asked for ([0, 1]) is the scale of the labels. ``<image>`` marks where verl's ``RLHFDataset`` and
``MultiTurnSFTDataset`` insert the picture.
"""

# Where the picture goes in every prompt of the project (scoring, AesCoT, judges, reward service):
# verl's datasets split the text there into a text/image/text chat message.
IMAGE_PLACEHOLDER = "<image>"

SCORING_PROMPT = (
    "You are an aesthetic expert. What is your overall rating on the aesthetic of this picture "
    "<image> ? The rating should be a float between 0 and 1, rounded to two decimal places, with 0 "
    "representing very poor quality and 1 representing excellent quality. Your task:1. Think "
    "through the question, put all your thinking or reasoning process in only one pair "
    "<think>...</think> tags.2. Then provide the correct rating inside only one pair of "
    "<answer>...</answer> tags.3. No any other information or text outside of these tags. E.g. "
    "your response should be:<think>...</think><answer>...</answer>"
)
