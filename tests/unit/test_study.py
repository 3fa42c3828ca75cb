"""The study interface: a fake study module passes the checks, and each way of breaking the interface is a
StudyError that says what is wrong; tiers' deviations from the paper are computed with their reasons."""

import dataclasses
import re
import types
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import pytest

from reprosuite import config, study
from reprosuite.claims import Claim, Rule
from reprosuite.study import Figure, Paper, StudyError


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # the paper's five runs
    steps: int = 1000
    lr: float = 0.1
    act: Literal["relu", "tanh"] = "relu"


QUICK = replace(Config(), steps=100, seeds=3)
TIERS = {"full": Config(), "quick": QUICK, "smoke": replace(QUICK, steps=10, seeds=1)}
WHY = {"steps": "CPU budget", "seeds": "CPU budget"}


def grid(cfg):
    if cfg.lr > 1:
        raise ValueError("lr above 1 diverges by construction")
    return {"a": {"lr": cfg.lr}}


def fake(**changes) -> types.ModuleType:
    mod = types.ModuleType("fake")
    mod.__dict__.update(
        PAPER=Paper("T", "A", 2020, "2001.00001"),
        Config=Config,
        TIERS=TIERS,
        WHY=WHY,
        grid=grid,
        make_data=lambda cfg: {},
        train=lambda cfg, point, data, seeds, device: None,
        extract=lambda runs, cfg: None,
        FIGURES=(Figure("f", "caption", lambda runs, metrics, cfg: None),),
        CLAIMS=(Claim("c", "statement", "m", Rule.at_least(1.0)),),
        measure=lambda metrics, cfg: {},
    )
    for key, value in changes.items():
        if value is None:
            delattr(mod, key)
        else:
            setattr(mod, key, value)
    return mod


def test_a_well_formed_study_passes():
    st = study._check("fake", fake())
    assert st.paper_config == Config() and st.figure_names("smoke") == ["f"]


@dataclass(frozen=True)
class NoDefault:
    seeds: int
    steps: int = 10


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"measure": None}, "lacks measure"),
        ({"Config": dict}, "Config must be a frozen dataclass"),
        (
            {"Config": NoDefault, "TIERS": dict.fromkeys(study.TIERS, NoDefault(1)), "WHY": {}},
            "need the paper's value as default: seeds",
        ),
        ({"train": lambda cfg, point: None}, r"train must take \(cfg, point, data, seeds, device\)"),
        ({"grid": 3}, "grid must be a function"),
        ({"TIERS": {"quick": QUICK}}, "TIERS must define exactly"),
        ({"TIERS": {**TIERS, "full": {"seeds": 1}}}, "every tier must be a Config"),
        (
            {"WHY": {"steps": "CPU budget"}},
            r"reason for each field a tier changes from the paper: \['seeds'\]",
        ),
        ({"WHY": {**WHY, "lr": "x"}}, r"names fields that no tier changes: \['lr'\]"),
        ({"CLAIMS": (Claim("c", "s", "m", Rule()), Claim("c", "s", "m", Rule()))}, "duplicate claim ids"),
        ({"CLAIMS": ("c",)}, "CLAIMS must hold Claim objects"),
        ({"FIGURES": ("f",)}, "FIGURES must hold Figure objects"),
    ],
)
def test_each_broken_interface_is_a_named_error(changes, message):
    with pytest.raises(StudyError, match=message):
        study._check("fake", fake(**changes))


def test_deviations_are_computed_with_reasons():
    st = study._check("fake", fake())
    assert study.deviations(st, TIERS["full"], "full") == []
    quick = study.deviations(st, TIERS["quick"], "quick")
    assert [(d.field, d.paper, d.value, d.why) for d in quick] == [
        ("seeds", 5, 3, "CPU budget"),
        ("steps", 1000, 100, "CPU budget"),
    ]
    assert str(quick[1]) == "steps: 1000 → 100 (CPU budget)"
    mine = dataclasses.replace(TIERS["quick"], lr=0.5)
    assert study.deviations(st, mine, "quick")[-1] == study.Deviation("lr", 0.1, 0.5, "user override")


def test_literal_options_and_grid_errors_are_config_errors(monkeypatch):
    st = study._check("fake", fake())
    monkeypatch.setattr(study, "get", lambda name: st)
    assert config.resolve("fake", "quick", {"act": "tanh"}).act == "tanh"
    with pytest.raises(config.ConfigError, match="key 'act': 'gelu' is not one of 'relu', 'tanh'"):
        config.resolve("fake", "quick", {"act": "gelu"})
    with pytest.raises(config.ConfigError, match="study 'fake': lr above 1 diverges"):
        config.check_grid(st, config.resolve("fake", "quick", {"lr": 2.0}))


def test_a_typo_in_a_tier_is_caught_when_resolved(monkeypatch):
    bad = fake(TIERS={**TIERS, "quick": replace(QUICK, act="rleu")}, WHY={**WHY, "act": "a typo"})
    monkeypatch.setattr(study, "get", lambda name: study._check("fake", bad))
    with pytest.raises(config.ConfigError, match="'rleu' is not one of"):
        config.resolve("fake", "quick")


def test_every_study_follows_the_interface():
    for name in study.names():
        st = study.get(name)
        assert st.name == name and st.CLAIMS


def test_every_empirical_claim_names_its_negative_control():
    """A reproduced finding could have failed: every empirical claim names the configuration without the paper's
    mechanism that ``measure`` also measures (the smoke test checks that the control does not pass)."""
    missing = [
        f"{name}/{c.id}"
        for name in study.names()
        for c in study.get(name).CLAIMS
        if c.kind == "empirical" and not c.control
    ]
    assert not missing, f"empirical claims without a negative control: {missing}"


def test_no_study_reads_the_seed_count_or_picks_seed_zero():
    """Seeds are values (``seeds: [100, 101, 102]`` is a valid suite config): a study takes its seeds from
    ``study.seed_list`` (rows of per-seed arrays from ``study.seed_positions``), never from ``range(cfg.seeds)``,
    and a figure shows the first seed present, not seed 0."""
    pattern = re.compile(r"\bcfg\.seeds\b|\bseed\b\)? == 0\b|\[\s*\"seed\"\s*\] == 0\b")
    root = Path(study.__file__).parent / "studies"
    hits = [
        f"{path.relative_to(root)}:{i}: {line.strip()}"
        for path in sorted(root.rglob("*.py"))
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not hits, "\n".join(hits)


def test_seed_positions_are_rows_not_values():
    cfg = config.resolve("saxe_dln_dynamics", "smoke", seeds=[100, 101, 102])
    assert study.seed_positions(cfg, [102, 100]) == [2, 0]
    assert study.seed_positions(config.resolve("saxe_dln_dynamics", "smoke", seeds=3), [0, 2]) == [0, 2]
    with pytest.raises(ValueError, match="not among the config's seeds"):
        study.seed_positions(cfg, [0])


def test_required_datasets_come_from_the_optional_hook():
    st = study._check("fake", fake())
    assert study.required_datasets(st, Config()) == ()
    st = study._check("fake", fake(datasets=lambda cfg: ("mnist",) if cfg.act == "relu" else ()))
    assert study.required_datasets(st, Config()) == ("mnist",)
    assert study.required_datasets(st, replace(Config(), act="tanh")) == ()
    st = study._check("fake", fake(datasets=lambda cfg: ("imagenet",)))
    with pytest.raises(StudyError, match=r"unknown datasets \['imagenet'\]"):
        study.required_datasets(st, Config())
