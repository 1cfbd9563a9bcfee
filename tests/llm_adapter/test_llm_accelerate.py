"""Data parallelism and gradient accumulation do not change the training run.

The reference is the one-process run over the same global batch: a 2-process run (``accelerate
launch``, gloo on CPU) must end with the same weights, and 2 accumulated half batches must equal
one full batch. The model is a tiny random-init Llama in float64, so the only differences are
the rounding of differently padded batches (measured: max weight differences below 1e-13).
"""

import json
import os
import socket
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from llm_adapter import MatrixOracle, SelfPlayConfig, SelfPlayTrainer, cli, models

PROMPTS = ["hello there", "what is up", "tell me", "why not"]
# COMAL 3x3 preferences (Liu et al. 2024, Sec. 4) over classes = first token id mod 3
PREFS = [[0.5, 0.1, 0.8], [0.9, 0.5, 0.1], [0.2, 0.9, 0.5]]


def _run(tokenizer, tmp_path, **kw):
    cfg = SelfPlayConfig(output_dir=str(tmp_path), algorithm="comal", eta=1.0, temp=0.1,
                         ref_update_steps=1, num_generations=3, learning_rate=1e-2,
                         max_new_tokens=6, max_steps=2, seed=2, **kw)
    model = models.tiny_causal_lm(tokenizer, seed=0, dtype=torch.float64)
    tr = SelfPlayTrainer(model, tokenizer, MatrixOracle(PREFS, classify=lambda ids: ids[0] % 3),
                         cfg, train_dataset=PROMPTS)
    tr.train(progress=False)
    return tr


def test_two_accumulated_half_batches_equal_one_full_batch(tokenizer, tmp_path):
    full = _run(tokenizer, tmp_path / "full", per_device_batch_size=4)
    half = _run(tokenizer, tmp_path / "half", per_device_batch_size=2,
                gradient_accumulation_steps=2)
    assert [h["loss"] for h in full.history] == pytest.approx([h["loss"] for h in half.history],
                                                              rel=1e-9)
    pairs = list(zip(full.unwrapped.named_parameters(), half.unwrapped.named_parameters()))
    for (n, a), (_, b) in pairs:
        torch.testing.assert_close(a, b, atol=1e-9, rtol=0, msg=n)
    moved = models.tiny_causal_lm(tokenizer, seed=0, dtype=torch.float64)
    assert any(not torch.allclose(p, q) for p, q in zip(moved.parameters(),
                                                          full.unwrapped.parameters()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_end_with_the_weights_of_one_process(tokenizer, tmp_path):
    from transformers import LlamaConfig, LlamaForSequenceClassification

    # the judge: a tiny random reward model saved as a local folder (Bradley-Terry preferences)
    rm_cfg = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                         num_labels=1, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(1)
    LlamaForSequenceClassification(rm_cfg).save_pretrained(tmp_path / "rm")
    tokenizer.save_pretrained(tmp_path / "rm")
    config = tmp_path / "run.yaml"
    config.write_text("\n".join([
        "model: tiny", "dtype: float64", f"judge: {{reward_model: {tmp_path / 'rm'}, beta: 20}}",
        "num_prompts: 4", "algorithm: mpo", "eta: 1.0", "temp: 0.1", "ref_update_steps: 1",
        "num_generations: 3", "max_new_tokens: 6", "learning_rate: 0.01", "max_steps: 2",
        "initial_samples: 1", "seed: 4",
        "report_to: csv"]))  # trackers end without ending the process group the save needs

    # one process, global batch of 4 prompts
    assert cli.main(["train", "--config", str(config), "--per_device_batch_size", "4",
                     "--output_dir", str(tmp_path / "one")]) == 0
    # two processes (gloo on CPU), 2 prompts each: the same global batch
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes",
         "2", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
         "--main_process_port", str(_free_port()), "-m", "llm_adapter", "train", "--config",
         str(config), "--per_device_batch_size", "2", "--output_dir", str(tmp_path / "two")],
        capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["num_processes"] == 2
    history = json.loads((tmp_path / "two" / "history.json").read_text())
    assert len(history) == 2
    one = json.loads((tmp_path / "one" / "history.json").read_text())
    assert [h["loss"] for h in history] == pytest.approx([h["loss"] for h in one], rel=1e-6)
    a = load_file(str(tmp_path / "one" / "model.safetensors"))
    b = load_file(str(tmp_path / "two" / "model.safetensors"))
    assert a.keys() == b.keys()
    for n in a:
        torch.testing.assert_close(a[n], b[n], atol=1e-9, rtol=0, msg=n)
    initial = models.tiny_causal_lm(tokenizer, seed=0, dtype=torch.float64).state_dict()
    assert any(not torch.allclose(a[n], initial[n]) for n in a)
