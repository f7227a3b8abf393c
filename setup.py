"""One distribution: the Aes-R1 recipe for verl, its reward functions and its data converters.

On a CPU-only machine install ``torch==2.13.0`` first (see README): without a torch already present,
pip resolves verl's ``torch`` requirement to a multi-GB CUDA build. On GPUs install ``.[gpu]`` (FSDP) or
``.[megatron]``: verl's own extras, i.e. the set verl 0.9.1 is tested with.
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent
# The verl pin lives in one file (verl-recipe's convention); e.g. "verl==0.9.1".
VERL = next(
    line.strip() for line in (HERE / "recipe" / "aesr1" / "REQUIRED_VERL.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
)
VERL_VERSION = VERL.removeprefix("verl")  # "==0.9.1"

setup(
    name="aesr1-verl",
    version="0.1.0",
    description="Image aesthetic assessment with reasoning VLMs trained by RL (Aes-R1 / RAPO) on verl",
    python_requires=">=3.10",
    # tests/ and benchmarks/ stay out: verl's wheel already installs a top-level `tests` package.
    # configs/ (top level of the repository) ships inside the package as recipe/aesr1/configs
    # (recipe.aesr1.config_dir finds either), with the launch scripts, so that a wheel install is complete.
    packages=find_packages(include=["recipe", "recipe.*", "reward_fns", "reward_fns.*", "data_prep", "data_prep.*"])
    + ["recipe.aesr1.configs"],
    package_dir={"recipe.aesr1.configs": "configs"},
    package_data={
        "recipe.aesr1.configs": ["*.yaml", "*/*.yaml"],
        "recipe.aesr1": ["REQUIRED_VERL.txt", "README.md", "scripts/*.sh", "*/scripts/*.sh", "*/README.md"],
    },
    install_requires=[
        "numpy>=1.26",
        "scipy>=1.11",
        "torch>=2.4",
        f"verl[verl-core]{VERL_VERSION}",
        "hydra-core>=1.3",
        "omegaconf>=2.3",
        "pyarrow>=15",
        "datasets>=2.19",
        "pillow>=10",
        # Data preparation's image path (issue 15): libjpeg-turbo decode/encode and the resampling filter.
        # vLLM depends on opencv-python-headless too, so a GPU environment already has it.
        "simplejpeg>=1.8",
        "opencv-python-headless>=4.10",
        "tqdm>=4.66",
        "matplotlib>=3.8",
        "openai>=1.40",
        # The reward service (aesr1-reward-server); verl[verl-core] already pulls both in through fastapi.
        "starlette>=0.37",
        "uvicorn>=0.29",
        # Curation (recipe/aesr1/curation): perceptual hashes for bursts; the contact sheet's templates.
        "ImageHash>=4.3",
        "jinja2>=3.1",
    ],
    extras_require={
        # The browser check of the contact sheet drives Debian's chromium (tests/run.sh installs it) via playwright.
        "test": ["pytest>=8", "hypothesis>=6.100", "pytest-timeout>=2.3", "playwright>=1.45", "gradio>=5.0"],
        "demo": ["gradio>=5.0"],
        # Never installed by the test command. verl's own extras pin what verl 0.9.1 is tested with:
        # vllm==0.24.0, torch==2.11.0, torchvision==0.26.0, transformers==5.9.0, flash-attn==2.8.3 (CUDA 13).
        "gpu": [f"verl[vllm,fsdp]{VERL_VERSION}"],
        "megatron": [f"verl[vllm,megatron]{VERL_VERSION}"],
    },
    entry_points={
        "console_scripts": [
            "aesr1-prep = data_prep.cli:main",
            "aesr1-aescot = recipe.aesr1.aescot.cli:main",
            "aesr1-rapo = recipe.aesr1.rapo.main:main",
            "aesr1-eval = recipe.aesr1.evaluation.eval_cli:main",
            "aesr1-score = recipe.aesr1.curation.cli:main",
            "aesr1-reward-server = recipe.aesr1.reward_model.service_cli:main",
            "aesr1-demo = recipe.aesr1.curation.demo:main",
            "aesr1-configs = recipe.aesr1.config_dir:main",
            "red-aes-engine = recipe.aesr1.red_aes.engine.cli:main",
        ],
    },
)
