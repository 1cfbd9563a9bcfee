"""Sampling responses on the device, reproducibly per response.

* :mod:`~llm_adapter.sampling.sampler`: inverse-CDF sampling with a counter-based uniform keyed
  by each response's seed and position (no host work per token), and ``generate`` on token ids;
* :mod:`~llm_adapter.sampling.mixture`: Nash-MD's geometric mixture with the reference's own
  KV cache.
"""

from . import mixture, sampler
from .mixture import GeometricMixtureProcessor
from .sampler import SeededSampler, generate, pad_prompts, row_seed, row_uniforms

__all__ = ["mixture", "sampler", "GeometricMixtureProcessor", "SeededSampler", "generate",
           "pad_prompts", "row_seed", "row_uniforms"]
