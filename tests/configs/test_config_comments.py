"""Every value in our trainer YAMLs has a comment right above it saying where it comes from (verl's convention)."""

import os
import re

import pytest

CONFIGS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "configs"))
FILES = ["rapo_trainer.yaml", "rapo_common.yaml", "rapo_megatron_trainer.yaml", "sft_trainer.yaml"] + [
    os.path.join("reward", f) for f in sorted(os.listdir(os.path.join(CONFIGS, "reward")))
]
TOP_LEVEL_VALUE = re.compile(r"^(\s*)([\w@.]+):\s*(\S.*)?$")


@pytest.mark.parametrize("name", FILES)
def test_each_value_has_a_comment_above(name):
    lines = open(os.path.join(CONFIGS, name)).read().splitlines()
    in_params = False
    missing = []
    for number, line in enumerate(lines, start=1):
        match = TOP_LEVEL_VALUE.match(line)
        if not match:
            continue
        indent, key, value = match.groups()
        if not indent:
            in_params = key == "params"  # a reward's per-term parameters are documented as one block
        if value is None or (in_params and indent) or line.lstrip().startswith("-"):
            continue
        if not lines[number - 2].lstrip().startswith("#"):
            missing.append(f"{name}:{number}: {key}")
    assert not missing, "values without a comment above them:\n" + "\n".join(missing)
