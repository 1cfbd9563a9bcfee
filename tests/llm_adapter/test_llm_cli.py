"""``python -m llm_adapter train|rollout``: every flag documented, wrong input gets one line and
exit status 2, and rollout-then-train equals online training.

(A full one-process CLI run is also part of tests/llm_adapter/test_llm_accelerate.py.)
"""

import dataclasses
import json

import pytest
import torch
from safetensors.torch import load_file

from llm_adapter import SelfPlayConfig, cli


def _error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err  # one line, no usage dump
    return err


def test_bad_keys_and_values_are_reported(capsys, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("model: tiny\nk: 4\n")
    assert "unknown key 'k'" in _error(capsys, ["train", "--config", str(config)])
    assert "num_generations must be an integer >= 1; got 2.5" in _error(
        capsys, ["train", "--num_generations", "2.5"])
    assert "report_to must be one of" in _error(capsys, ["train", "--model", "tiny",
                                                         "--report_to", "[slack]"])
    assert "does not exist" in _error(capsys, ["train", "--config", str(tmp_path / "no.yaml")])
    assert "judge must be 'initial'" in _error(capsys, ["train", "--model", "tiny", "--judge",
                                                        "gpt4", "--max_steps", "1"])
    assert "dtype must be one of" in _error(capsys, ["train", "--model", "tiny", "--dtype",
                                                     "float16"])
    assert "algorithm 'sppo_pointwise' was renamed" in _error(
        capsys, ["train", "--model", "tiny", "--algorithm", "sppo_pointwise"])
    assert "the following arguments are required: --output" in _error(capsys, ["rollout"])
    config.write_text("- a list\n")
    assert "must hold a mapping" in _error(capsys, ["train", "--config", str(config)])


def test_train_without_a_model_refuses_to_start(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "name the model to train" in _error(capsys, ["train"])
    assert not any(tmp_path.iterdir())  # nothing was started or written


def _help_entries(text: str) -> dict:
    """``{flag: its help text}`` from argparse's help output."""
    entries, flag = {}, None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("--"):
            flag, _, rest = stripped.partition(" VALUE")
            flag = flag.split()[0]
            entries[flag] = rest.strip()
        elif flag and line.startswith(" " * 10):
            entries[flag] += " " + stripped
        else:
            flag = None
    return entries


@pytest.mark.parametrize("command", ["train", "rollout"])
def test_every_flag_has_a_description_and_a_default(capsys, command):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    entries = _help_entries(capsys.readouterr().out)
    keys = [f.name for f in dataclasses.fields(SelfPlayConfig)] + [
        k for k in cli.RUN_KEYS if command == "train" or k not in ("rollouts",
                                                                  "resume_from_checkpoint")]
    for key in keys:
        text = entries.get(f"--{key}", "")
        assert "(default: " in text and len(text) > 30, (key, text)
    assert "choices: sppo, sppo_pairwise, mpo, mpo_token, comal, inpo, nash_md" in entries[
        "--algorithm"]
    assert "choices: no, bf16, fp16" in entries["--mixed_precision"]


def test_rollout_then_train_from_the_cli_equals_online_training(capsys, tmp_path):
    common = ["--model", "tiny", "--dtype", "float64", "--num_prompts", "4",
              "--per_device_batch_size", "4", "--algorithm", "comal", "--eta", "1.0", "--temp",
              "0.1", "--num_generations", "3", "--max_new_tokens", "5",
              "--learning_rate", "0.01", "--max_steps", "1", "--seed", "7"]
    assert cli.main(["train", *common, "--output_dir", str(tmp_path / "online")]) == 0
    capsys.readouterr()
    assert cli.main(["rollout", *common, "--output", str(tmp_path / "r.jsonl")]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out.strip().splitlines()[-1])["rows"] == 4
    assert "writing rollouts of tiny" in out.err
    assert cli.main(["train", *common, "--rollouts", str(tmp_path / "r.jsonl"),
                     "--output_dir", str(tmp_path / "offline")]) == 0
    a = load_file(str(tmp_path / "online" / "model.safetensors"))
    b = load_file(str(tmp_path / "offline" / "model.safetensors"))
    for n in a:
        torch.testing.assert_close(a[n], b[n], atol=1e-6, rtol=0, msg=n)


def test_ctrl_c_says_where_the_latest_checkpoint_is(capsys, tmp_path, monkeypatch):
    from llm_adapter.trainer import SelfPlayTrainer

    calls = {"n": 0}
    original = SelfPlayTrainer._iteration

    def interrupted_at_3(self, rollouts):  # Ctrl-C during the third iteration
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, rollouts)

    monkeypatch.setattr(SelfPlayTrainer, "_iteration", interrupted_at_3)
    argv = ["train", "--model", "tiny", "--num_prompts", "4", "--num_generations", "2",
            "--max_new_tokens", "3", "--max_steps", "5", "--output_dir", str(tmp_path)]
    assert cli.main([*argv, "--save_steps", "1"]) == 130
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"the latest checkpoint is {tmp_path / 'checkpoint-2'}" in err
    assert "--resume_from_checkpoint true" in err
    calls["n"] = 0
    assert cli.main([*argv, "--output_dir", str(tmp_path / "none")]) == 130
    assert "no checkpoint was written" in capsys.readouterr().err
