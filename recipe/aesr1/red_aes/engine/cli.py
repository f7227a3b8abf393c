"""Run the RED-Aes data engine.

``python -m recipe.aesr1.red_aes.engine.cli --config configs/red_aes/data_engine.yaml [key=value ...]``

Writes ``pt_o1.parquet``, ``pt_o2.parquet``, ``calibration.parquet``, ``rl.parquet``, ``results.jsonl``,
``report.json`` and the edited images under ``output_dir``. Killed and started again with the same
config, it resumes from ``requests.jsonl`` without repeating a finished request.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from recipe.aesr1.endpoints.chat_client import FatalEndpointError
from recipe.aesr1.red_aes.engine.config import load_engine_config
from recipe.aesr1.red_aes.engine.outputs import write_outputs
from recipe.aesr1.red_aes.engine.run import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", help="YAML file (configs/red_aes/data_engine.yaml); schema defaults without it")
    parser.add_argument(
        "overrides", nargs="*", help="key=value overrides, e.g. sources.inputs=[data/ava] sources.limit=100"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = load_engine_config(args.config, args.overrides)
        engine_run = run(config)
    except (ValueError, FileNotFoundError, FatalEndpointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    written = write_outputs(engine_run, config)
    print(json.dumps({"written": written, "report": engine_run.report.as_dict()}, indent=2))
    for name, target in engine_run.report.targets.items():
        if target["shortfall"]:
            logging.warning(
                "%s: %d written, %d short of RED-20k's %d (about %s more sources at this run's yield)",
                name, target["written"], target["shortfall"], target["target"], target["more_sources_estimate"],
            )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
