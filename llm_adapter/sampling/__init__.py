"""Sampling responses on the device, reproducibly per response.

* :mod:`~llm_adapter.sampling.sampler`: Gumbel-max sampling with counter-based noise keyed by
  each response's seed and position (no host work per token), and ``generate`` on token ids;
* :mod:`~llm_adapter.sampling.mixture`: Nash-MD's geometric mixture with the reference's own
  KV cache.
"""

from . import mixture, sampler
from .mixture import GeometricMixtureProcessor
from .sampler import SeededSampler, generate, gumbel_noise, pad_prompts, row_seed

__all__ = ["mixture", "sampler", "GeometricMixtureProcessor", "SeededSampler", "generate",
           "gumbel_noise", "pad_prompts", "row_seed"]
