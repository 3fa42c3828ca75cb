"""The fixed interface of a study, and its discovery.

A study is one module under :mod:`reprosuite.studies`. It is found by discovery (no registry to edit) and must
define these names:

``PAPER``
    a :class:`Paper`: title, authors, year, arXiv id, venue, official code.
``Config``
    a frozen dataclass whose **defaults are the paper's protocol** (paper sections cited in comments); every
    field has a default, and it has an ``int`` field ``seeds`` (the paper's number of runs). The suite's
    config may replace the count by an explicit list of seeds: use :func:`seed_list` wherever a seed's
    identity matters, and :func:`seed_positions` to index arrays that ``make_data`` stacked over the seeds (a
    seed's value is never an index). String options are typed ``Literal[...]`` so that a bad value is refused
    when the config is resolved, before any job runs.
``TIERS``
    ``{"smoke": Config, "quick": Config, "full": Config}``, each written as a ``dataclasses.replace`` delta of
    the paper's ``Config()`` (``full`` equal to the paper wherever possible).
``WHY``
    ``{field: reason}`` for every field that some tier changes from the paper. The deviations of a tier
    (field, paper value, tier value, why) are computed from it by :func:`deviations`; ``reprosuite show`` and
    the report print them.
``grid(cfg) -> dict[str, dict]``
    grid points: a point id (``[A-Za-z0-9_.-]+``) mapped to its JSON-serialisable parameters. One training job
    trains all seeds of one point. A ``ValueError`` raised here is reported as a config error before any job.
``make_data(cfg) -> dict[str, numpy.ndarray]``
    the study's dataset, written once to ``data.npz`` and shared by its training jobs.
``train(cfg, point, data, seeds, device) -> pandas.DataFrame``
    trains all ``seeds`` of one grid point; returns the tidy long table with columns
    ``seed, step, split, metric, value`` (optionally ``variant`` and typed member columns). All state that a
    resumed job needs lives in ``trainer.fit`` (or a ``checkpoint.Slot``): data order from stateless streams
    (``MinibatchStream``, per-step seeds), never from a generator or list kept outside the fit.
``extract(runs, cfg) -> pandas.DataFrame``
    per-seed scalar metrics from the concatenated run tables: columns ``point, seed, metric, value``.
``FIGURES``
    a tuple of :class:`Figure`.
``CLAIMS`` and ``measure(metrics, cfg) -> dict[str, Sequence[float]]``
    the claims and, per claim id, one measured value per seed; :mod:`reprosuite.claims` turns them into a mean,
    a 95 % CI and a verdict under the claim's pass rule.

Optional (``OPTIONAL``):

``COST``
    ``{tier: "measured cost"}`` shown by ``reprosuite list``.
``AMENDMENTS``
    a tuple of :class:`reprosuite.claims.Amendment`: each change to a registered claim after it was first run
    (``reprosuite.registry``; shown in the claims table).
``resources(cfg, point) -> dict``
    what the training job of one grid point asks the scheduler for, any of ``mem_mb`` (MB), ``runtime``
    (minutes of wall time) and ``gpu`` (GPUs, ignored with ``device: cpu``), positive integers (``gpu`` may be
    0); the keys it leaves out keep the defaults of :func:`reprosuite.config.train_resources` (4000 MB; 10 min
    at smoke, 30 at quick, 24 h at full; a GPU with ``device: cuda``). Read when the DAG is built, so it must be
    cheap and free of torch. It is not part of the training fingerprint: raising a time limit lets a job that
    hit it resume from its checkpoint.
``datasets(cfg) -> tuple[str, ...]``
    the official datasets (:data:`reprosuite.engine.data.official.NAMES`) that ``make_data`` reads at ``cfg``,
    e.g. ``("mnist",) if cfg.dataset == "mnist" else ()``. Read when the DAG is built, so it must be cheap and
    free of torch: a dataset whose files are absent stops the run before any job, naming the missing file and
    the ``reprosuite data fetch`` command.

A study is one module while it is small (≲ 400 lines) and a package ``studies/<id>/`` (the interface in
``__init__.py``, its own models, data and analyses beside it, imported relatively) when it is not.
``studies/_template.py`` is a study to copy; :class:`StudyModule` types the interface.

Studies import torch inside ``train`` only, so that DAG construction and the metric, figure and claim jobs stay
free of its ~2 s import; likewise matplotlib and seaborn inside the figure functions (~1.6 s) and scipy where it
is used (~0.9 s for scipy.stats). ``tests/unit/test_imports.py`` imports every study and checks.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

    from reprosuite.claims import Claim

TIERS = ("smoke", "quick", "full")
POINT_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
REQUIRED = (
    "PAPER",
    "Config",
    "TIERS",
    "WHY",
    "grid",
    "make_data",
    "train",
    "extract",
    "FIGURES",
    "CLAIMS",
    "measure",
)
OPTIONAL = ("COST", "AMENDMENTS", "resources", "datasets")
# hook name -> its positional parameters (checked against the study's signatures)
SIGNATURES = {
    "grid": ("cfg",),
    "make_data": ("cfg",),
    "train": ("cfg", "point", "data", "seeds", "device"),
    "extract": ("runs", "cfg"),
    "measure": ("metrics", "cfg"),
}


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


class StudyModule(Protocol):
    """The interface of a study module (see the module docstring), for type checkers and readers."""

    PAPER: Paper
    Config: type
    TIERS: Mapping[str, Any]
    WHY: Mapping[str, str]
    FIGURES: Sequence[Figure]
    CLAIMS: Sequence[Claim]

    def grid(self, cfg: Any) -> dict[str, dict]: ...
    def make_data(self, cfg: Any) -> dict[str, Any]: ...
    def train(self, cfg: Any, point: dict, data: dict, seeds: list[int], device: Any) -> pd.DataFrame: ...
    def extract(self, runs: pd.DataFrame, cfg: Any) -> pd.DataFrame: ...
    def measure(self, metrics: pd.DataFrame, cfg: Any) -> dict[str, Sequence[float]]: ...


@dataclass(frozen=True)
class Deviation:
    """A field of a tier's (or a user's) config that differs from the paper's protocol, and why."""

    field: str
    paper: Any
    value: Any
    why: str

    def __str__(self) -> str:
        return f"{self.field}: {_short(self.paper)} → {_short(self.value)} ({self.why})"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value) if not isinstance(value, float) else f"{value:g}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


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

    @property
    def paper_config(self):
        """The paper's protocol: the defaults of ``Config``."""
        return self.module.Config()


def seed_list(cfg: Any) -> list[int]:
    """The seeds of a resolved config: ``0 … n − 1`` for a count, else the explicit list the user gave. Every use
    of a seed's identity (initialisation, data, masks, the seeds a figure shows) derives from this list."""
    return list(range(cfg.seeds)) if isinstance(cfg.seeds, int) else list(cfg.seeds)


def seed_positions(cfg: Any, seeds: Sequence[int]) -> list[int]:
    """The position of each of ``seeds`` in :func:`seed_list` (``cfg``): the row of a seed in the arrays that
    ``make_data`` stacked over the seeds, in that order. A seed's value is never an array index."""
    at = {s: i for i, s in enumerate(seed_list(cfg))}
    unknown = [int(s) for s in seeds if int(s) not in at]
    if unknown:
        raise ValueError(f"seeds {unknown} are not among the config's seeds {list(at)}")
    return [at[int(s)] for s in seeds]


def deviations(st: Study, cfg: Any, tier: str) -> list[Deviation]:
    """Fields of ``cfg`` that differ from the paper's protocol, with the reason: the study's ``WHY`` where the
    tier changes the field, "user override" where ``cfg`` differs from the tier itself."""
    paper, base = st.paper_config, st.TIERS[tier]
    out = []
    for f in dataclasses.fields(paper):
        ours, theirs = getattr(cfg, f.name), getattr(paper, f.name)
        if ours == theirs:
            continue
        why = st.WHY.get(f.name, "") if getattr(base, f.name) == ours else "user override"
        out.append(Deviation(f.name, theirs, ours, why))
    return out


def required_datasets(st: Study, cfg: Any) -> tuple[str, ...]:
    """The official datasets the study's data job reads at ``cfg``: its optional ``datasets`` hook, else none."""
    from reprosuite.engine.data import official

    names = tuple(st.module.datasets(cfg)) if hasattr(st.module, "datasets") else ()
    unknown = [n for n in names if n not in official.NAMES]
    if unknown:
        raise StudyError(
            f"study {st.name!r}: datasets() names unknown datasets {unknown}; known: {', '.join(official.NAMES)}"
        )
    return names


def _check_paper_protocol(fail: Callable, module: ModuleType, fields: dict) -> None:
    """``Config()`` is the paper's protocol, and ``WHY`` explains exactly the fields the tiers change."""
    no_default = [
        n
        for n, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if no_default:
        fail(f"Config fields need the paper's value as default: {', '.join(no_default)}")
    why = module.WHY
    paper = module.Config()
    changed = {f for cfg in module.TIERS.values() for f in fields if getattr(cfg, f) != getattr(paper, f)}
    if changed - set(why):
        fail(
            f"WHY must give the reason for each field a tier changes from the paper: {sorted(changed - set(why))}"
        )
    if set(why) - changed:
        fail(f"WHY names fields that no tier changes: {sorted(set(why) - changed)}")


def _check(name: str, module: ModuleType) -> Study:
    """The module as a :class:`Study`, or a :class:`StudyError` naming the first way it breaks the interface."""
    from reprosuite.claims import Claim

    def fail(msg: str):
        raise StudyError(f"study {name!r}: {msg} (see reprosuite.study)")

    missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
    if missing:
        fail(f"lacks {', '.join(missing)}")
    if not dataclasses.is_dataclass(module.Config) or not module.Config.__dataclass_params__.frozen:
        fail("Config must be a frozen dataclass")
    fields = {f.name: f for f in dataclasses.fields(module.Config)}
    if "seeds" not in fields:
        fail("Config needs an int field 'seeds'")
    for hook, params in SIGNATURES.items():
        fn = getattr(module, hook)
        if not callable(fn):
            fail(f"{hook} must be a function")
        try:
            inspect.signature(fn).bind(*params)
        except TypeError:
            fail(f"{hook} must take ({', '.join(params)})")
    if set(module.TIERS) != set(TIERS):
        fail(f"TIERS must define exactly {TIERS}, got {sorted(module.TIERS)}")
    if any(not isinstance(cfg, module.Config) for cfg in module.TIERS.values()):
        fail("every tier must be a Config")
    _check_paper_protocol(fail, module, fields)
    if any(not isinstance(c, Claim) for c in module.CLAIMS):
        fail("CLAIMS must hold Claim objects")
    ids = [c.id for c in module.CLAIMS]
    if len(ids) != len(set(ids)):
        fail(f"duplicate claim ids {ids}")
    if any(not isinstance(f, Figure) for f in module.FIGURES):
        fail("FIGURES must hold Figure objects")
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
