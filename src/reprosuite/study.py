"""The fixed interface of a study, and its discovery.

A study is one module under :mod:`reprosuite.studies`. It is found by discovery (no registry to edit) and must
define these names:

``PAPER``
    a :class:`Paper`: title, authors, year, arXiv id, venue, official code.
``Config``
    a frozen dataclass whose fields are the paper's hyperparameters (paper sections cited in comments); it has
    an ``int`` field ``seeds``.
``TIERS``
    ``{"smoke": Config(...), "quick": Config(...), "full": Config(...)}``.
``grid(cfg) -> dict[str, dict]``
    grid points: a point id (``[A-Za-z0-9_.-]+``) mapped to its JSON-serialisable parameters. One training job
    trains all seeds of one point.
``make_data(cfg) -> dict[str, numpy.ndarray]``
    the study's dataset, written once to ``data.npz`` and shared by its training jobs.
``train(cfg, point, data, seeds, device) -> pandas.DataFrame``
    trains all ``seeds`` of one grid point; returns the tidy long table with columns
    ``seed, step, split, metric, value``.
``extract(runs, cfg) -> pandas.DataFrame``
    per-seed scalar metrics from the concatenated run tables: columns ``point, seed, metric, value``.
``FIGURES``
    a tuple of :class:`Figure`.
``CLAIMS`` and ``measure(metrics, cfg) -> dict[str, Sequence[float]]``
    the claims and, per claim id, one measured value per seed; :mod:`reprosuite.claims` turns them into a mean,
    a 95 % CI and a verdict under the claim's pass rule.

Optional: ``COST``, ``{tier: "measured cost"}`` shown by ``reprosuite list``.

Studies import torch inside ``train`` only, so that DAG construction and the metric, figure and claim jobs stay
free of its ~2 s import; likewise matplotlib and seaborn inside the figure functions (~1.6 s) and scipy where it
is used (~0.9 s for scipy.stats). ``tests/unit/test_imports.py`` imports every study and checks.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

TIERS = ("smoke", "quick", "full")
POINT_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
REQUIRED = (
    "PAPER",
    "Config",
    "TIERS",
    "grid",
    "make_data",
    "train",
    "extract",
    "FIGURES",
    "CLAIMS",
    "measure",
)


class StudyError(ValueError):
    """A study is unknown or does not follow the interface."""


@dataclass(frozen=True)
class Paper:
    title: str
    authors: str
    year: int
    arxiv: str
    venue: str = ""
    code: str = ""

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv}"

    @property
    def short(self) -> str:
        return f"{self.authors} {self.year}"


@dataclass(frozen=True)
class Figure:
    """A figure of a study: ``draw(runs, metrics, cfg)`` returns a matplotlib figure."""

    name: str
    caption: str
    draw: Callable
    tiers: tuple[str, ...] = TIERS


@dataclass(frozen=True)
class Study:
    """A discovered study module, checked against the interface."""

    name: str
    module: ModuleType

    def __getattr__(self, item: str):
        return getattr(self.module, item)

    @property
    def source(self) -> Path:
        return Path(self.module.__file__)

    def figure(self, name: str) -> Figure:
        for fig in self.module.FIGURES:
            if fig.name == name:
                return fig
        raise StudyError(f"study {self.name!r} has no figure {name!r}; it has {self.figure_names()}")

    def figure_names(self, tier: str | None = None) -> list[str]:
        return [f.name for f in self.module.FIGURES if tier is None or tier in f.tiers]


def _check(name: str, module: ModuleType) -> Study:
    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if missing:
        raise StudyError(f"study {name!r} lacks {', '.join(missing)} (see reprosuite.study)")
    if not dataclasses.is_dataclass(module.Config) or not module.Config.__dataclass_params__.frozen:
        raise StudyError(f"study {name!r}: Config must be a frozen dataclass")
    if "seeds" not in {f.name for f in dataclasses.fields(module.Config)}:
        raise StudyError(f"study {name!r}: Config needs an int field 'seeds'")
    if set(module.TIERS) != set(TIERS):
        raise StudyError(f"study {name!r}: TIERS must define exactly {TIERS}, got {sorted(module.TIERS)}")
    ids = [c.id for c in module.CLAIMS]
    if len(ids) != len(set(ids)):
        raise StudyError(f"study {name!r}: duplicate claim ids {ids}")
    return Study(name, module)


@cache
def names() -> tuple[str, ...]:
    """The names of all study modules in :mod:`reprosuite.studies`, without importing them."""
    from reprosuite import studies

    return tuple(sorted(i.name for i in pkgutil.iter_modules(studies.__path__) if not i.name.startswith("_")))


@cache
def get(name: str) -> Study:
    """Import one study and check it against the interface."""
    if name not in names():
        raise StudyError(f"unknown study {name!r}; known studies: {', '.join(names())}")
    return _check(name, importlib.import_module(f"reprosuite.studies.{name}"))


def discover() -> dict[str, Study]:
    """All studies, by name, each checked against the interface."""
    return {name: get(name) for name in names()}
