"""Log-probabilities of responses under the policy and under frozen policies.

* :mod:`~llm_adapter.scoring.logprobs`: masked completion log-probs (float32 log-softmax),
  ``encode``, host weight snapshots and a log-prob cache;
* :mod:`~llm_adapter.scoring.frozen`: frozen policies without host traffic (a disabled adapter,
  an adapter snapshot on the device, a resident frozen copy);
* :mod:`~llm_adapter.scoring.kl`: KL estimates that are never negative.
"""

from . import frozen, kl, logprobs
from .frozen import AdapterDisabled, AdapterSnapshot, FrozenCopy, frozen_logps, frozen_policy
from .kl import k3_kl, token_kl
from .logprobs import LogProbCache, WeightSnapshot, completion_logps, concatenated_logps, encode

__all__ = ["frozen", "kl", "logprobs", "AdapterDisabled", "AdapterSnapshot", "FrozenCopy",
           "frozen_logps", "frozen_policy", "k3_kl", "token_kl", "LogProbCache",
           "WeightSnapshot", "completion_logps", "concatenated_logps", "encode"]
