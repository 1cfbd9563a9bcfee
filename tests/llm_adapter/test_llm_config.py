"""SelfPlayConfig: the papers' settings, and one clear error per bad value."""

import math

import pytest

from llm_adapter import PAPER_SETTINGS, SelfPlayConfig, losses


def test_defaults_are_mpo_with_a_named_magnet_period():
    cfg = SelfPlayConfig()
    assert cfg.algorithm == "mpo"
    # MPO resets its magnet to the current policy periodically (Wang et al. 2024, Algorithm 1);
    # the period is PAPER_SETTINGS["mpo"]["ref_update_steps"] = 10 iterations.
    assert cfg.ref_update_steps == PAPER_SETTINGS["mpo"]["ref_update_steps"] == 10
    assert SelfPlayConfig(ref_update_steps=None).ref_update_steps is None  # "never", on purpose


def test_sppo_uses_its_paper_eta():
    # SPPO code (uclaml/SPPO scripts/pipeline.sh): BETA="0.001", and eta = 1/beta
    # (losses.from_paper, the project's parameter table); generate.sh: PAIRS=5 samples.
    cfg = SelfPlayConfig.from_paper("sppo")
    assert cfg.eta == pytest.approx(losses.from_paper("sppo", beta=1e-3)["eta"]) == 1000.0
    assert cfg.num_generations == 5 and cfg.ref_update_steps is None
    assert cfg.optim == "rmsprop" and cfg.learning_rate == 5e-7
    assert SelfPlayConfig(algorithm="sppo").eta == 1000.0


def test_comal_advances_its_reference_with_the_code_parameters():
    # COMAL code (yale-nlp/COMAL comal.sh): ETA=0.002, RATIO=1/3, UPDATE_INTERVAL=12,
    # --num_samples 5; converted with losses.from_paper("comal", eta_c, r).
    cfg = SelfPlayConfig.from_paper("comal")
    ref = losses.from_paper("comal", eta_c=0.002, r=1 / 3)
    assert cfg.eta == pytest.approx(ref["eta"]) and cfg.temp == pytest.approx(ref["tau"])
    assert cfg.ref_update_steps == 12 and cfg.num_generations == 5


def test_nash_md_uses_the_paper_mixture_and_regularisation():
    # Nash-MD (Munos et al. 2024, Sec. 8): mixture coefficient 0.125, tau = 0.008.
    cfg = SelfPlayConfig.from_paper("nash_md")
    ref = losses.from_paper("nash_md", mixture_coef=0.125, eta=cfg.eta)
    assert cfg.temp == pytest.approx(ref["tau"]) == pytest.approx(0.008)
    assert cfg.eta * cfg.temp == pytest.approx(0.125) and cfg.ref_update_steps is None


def test_from_paper_overrides_and_round_trip():
    cfg = SelfPlayConfig.from_paper("mpo", max_steps=3, report_to=["csv"])
    assert cfg.max_steps == 3 and cfg.ref_update_steps == 10
    assert SelfPlayConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("values, message", [
    ({"num_generations": 2.5}, "num_generations must be an integer >= 1; got 2.5"),
    ({"num_generations": 1}, r"num_generations \(K\) must be >= 2"),
    ({"per_device_batch_size": True}, "per_device_batch_size must be an integer"),
    ({"gradient_accumulation_steps": 0}, "gradient_accumulation_steps must be an integer >= 1"),
    ({"max_steps": "10"}, "max_steps must be an integer >= 1"),
    ({"save_steps": 0}, "save_steps must be an integer >= 1 or None"),
    ({"ref_update_steps": 2.0}, "ref_update_steps must be an integer >= 1 or None"),
    ({"eta": math.inf}, "eta must be a finite positive number"),
    ({"eta": math.nan}, "eta must be a finite positive number"),
    ({"learning_rate": 0.0}, "learning_rate must be a finite positive number"),
    ({"temp": -0.1}, "temp must be a finite number >= 0"),
    ({"temp": math.inf}, "temp must be a finite number >= 0"),
    ({"temp": 0.0}, "mpo needs temp > 0"),
    ({"max_grad_norm": math.inf}, "max_grad_norm must be a finite positive number or None"),
    ({"weight_decay": -1.0}, "weight_decay must be a finite number >= 0"),
    ({"algorithm": "ppo"}, "algorithm must be one of"),
    ({"algorithm": "nash_md", "eta": 20.0, "temp": 0.1}, r"eta \* temp must be <= 1"),
    ({"report_to": "slack"}, "report_to must be one of"),
    ({"mixed_precision": "fp8"}, "mixed_precision must be one of"),
    ({"optim": "sgd"}, "optim must be one of"),
    ({"output_dir": ""}, "output_dir must be a non-empty path"),
])
def test_each_bad_value_raises_one_clear_error(values, message):
    with pytest.raises(ValueError, match=message):
        SelfPlayConfig(**values)


def test_bad_mappings_and_papers_raise():
    with pytest.raises(ValueError, match=r"unknown config keys \['k'\]"):
        SelfPlayConfig.from_dict({"k": 4})
    with pytest.raises(ValueError, match="must be a mapping"):
        SelfPlayConfig.from_dict(["eta", 1.0])
    with pytest.raises(ValueError, match="from_paper knows"):
        SelfPlayConfig.from_paper("dpo")
