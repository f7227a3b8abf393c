"""The command line: help, config printing, dry run, and the exit code of a refused endpoint."""

from __future__ import annotations

import pytest
from aescot_fakes import FAILURE_SCRIPT

from recipe.aesr1.aescot.cli import main
from recipe.aesr1.aescot.config import config_to_yaml, load_config

REPO_CONFIG = "configs/aescot.yaml"


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "aesr1-aescot" in out and "--dry-run" in out and "requests.jsonl" in out


def test_repo_config_matches_the_schema_and_the_paper(capsys):
    config = load_config(REPO_CONFIG)
    assert config.sampling.preset == "aescot-3k"
    assert config.sampling.datasets == ["ava", "tad66k", "flickr_aes"]  # Appendix E.2
    assert config.factual_judge.base_url == config.expert.base_url  # judges default to the expert's server
    assert main(["--config", REPO_CONFIG, "--print-config", "expert.model=some-model"]) == 0
    assert "model: some-model" in capsys.readouterr().out


def test_unknown_config_key_is_an_error():
    with pytest.raises(Exception, match="expert.modle"):
        load_config(REPO_CONFIG, ["expert.modle=x"])


def test_dry_run_reports_availability_and_shortfall(prepared_table, capsys):
    assert main([f"sampling.inputs=[{prepared_table}]", "sampling.preset=aescot-3k", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "bad   target   1000  available       6  shortfall 994" in out


def test_refused_endpoint_exits_with_code_3(chat_server, aescot_config, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AESCOT_TEST_KEY", "sk-wrong")
    with chat_server(script={"generate/" + k: ["401"] for k in ("ok-b1", "ok-b2", "ok-b3", "ok-b4")}) as server:
        config_file = tmp_path / "c.yaml"
        config_file.write_text(config_to_yaml(aescot_config(server.url)))
        assert main(["--config", str(config_file), "--quiet"]) == 3
    assert "expert endpoint" in capsys.readouterr().err


def test_full_run_prints_the_statistics_table(chat_server, aescot_config, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AESCOT_TEST_KEY", "sk-test")
    with chat_server(script=FAILURE_SCRIPT) as server:
        config_file = tmp_path / "c.yaml"
        config_file.write_text(config_to_yaml(aescot_config(server.url)))
        assert main(["--config", str(config_file), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "rejection reason" in out and "SFT set:" in out


def test_repo_config_spells_out_every_schema_key():
    # The YAML is the readable table of knobs: it must hold every key of the schema, no more.
    from omegaconf import OmegaConf

    from recipe.aesr1.aescot.config import AesCoTConfig

    def keys(node, prefix=""):
        return {k for key, value in node.items()
                for k in (keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}"})}

    schema = OmegaConf.to_container(OmegaConf.structured(AesCoTConfig))
    assert keys(OmegaConf.to_container(OmegaConf.load(REPO_CONFIG))) == keys(schema)
