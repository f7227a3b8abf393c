"""One distribution: the Aes-R1 recipe for verl, its reward functions and its data converters.

On a CPU-only machine install ``torch==2.13.0`` first (see README): without a torch already present,
pip resolves verl's ``torch`` requirement to a multi-GB CUDA build.
"""

from setuptools import find_packages, setup

setup(
    name="aesr1-verl",
    version="0.1.0",
    description="Image aesthetic assessment with reasoning VLMs trained by RL (Aes-R1 / RAPO) on verl",
    python_requires=">=3.10",
    # tests/ and benchmarks/ stay out: verl's wheel already installs a top-level `tests` package.
    packages=find_packages(include=["recipe", "recipe.*", "reward_fns", "reward_fns.*", "data_prep", "data_prep.*"]),
    install_requires=[
        "numpy>=1.26",
        "scipy>=1.11",
        "torch>=2.4",
        "verl[verl-core]==0.9.1",
        "hydra-core>=1.3",
        "omegaconf>=2.3",
        "pyarrow>=15",
        "datasets>=2.19",
        "pillow>=10",
        "tqdm>=4.66",
        "matplotlib>=3.8",
        "openai>=1.40",
    ],
    extras_require={
        "test": ["pytest>=8", "hypothesis>=6.100", "pytest-timeout>=2.3"],
        # Never installed by the test command: GPU-only training and batch inference.
        "gpu": ["vllm>=0.10", "flash-attn>=2.7"],
    },
    entry_points={
        "console_scripts": [
            "aesr1-prep = data_prep.cli:main",
            "aesr1-aescot = recipe.aesr1.aescot.cli:main",
            "aesr1-rapo = recipe.aesr1.main_rapo:main",
            "aesr1-eval = recipe.aesr1.evaluation.eval_cli:main",
            "aesr1-score = recipe.aesr1.evaluation.score_cli:main",
            "red-aes-engine = recipe.aesr1.red_aes.engine_cli:main",
        ],
        # Imported by verl in the driver and in every Ray worker (verl swallows its import errors).
        "verl.plugins": ["aesr1 = recipe.aesr1.plugin"],
    },
)
