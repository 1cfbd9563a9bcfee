"""``python -m llm_adapter train``: wrong input gets one clear message and exit status 2.

(A full one-process CLI run is part of tests/llm_adapter/test_llm_accelerate.py.)
"""

import pytest

from llm_adapter import cli


def _error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def test_bad_keys_and_values_are_reported(capsys, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("model: tiny\nk: 4\n")
    assert "unknown key 'k'" in _error(capsys, ["train", "--config", str(config)])
    assert "num_generations must be an integer >= 1; got 2.5" in _error(
        capsys, ["train", "--num_generations", "2.5"])
    assert "report_to must be one of" in _error(capsys, ["train", "--report_to", "[wandb]"])
    assert "does not exist" in _error(capsys, ["train", "--config", str(tmp_path / "no.yaml")])
    assert "judge must be 'initial'" in _error(capsys, ["train", "--judge", "gpt4",
                                                        "--max_steps", "1"])
    assert "dtype must be one of" in _error(capsys, ["train", "--dtype", "float16"])
    config.write_text("- a list\n")
    assert "must hold a mapping" in _error(capsys, ["train", "--config", str(config)])


def test_every_config_field_is_a_flag(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    for flag in ("--per_device_batch_size", "--num_generations", "--gradient_accumulation_steps",
                 "--save_steps", "--report_to", "--ref_update_steps", "--model", "--judge"):
        assert flag in out
