"""Rerun fingerprints (reprosuite.fingerprint.fingerprint) on a synthetic study package in a copy of the package, and the
training resources of a study's optional ``resources`` hook."""

import shutil
import textwrap
import types
from pathlib import Path

import pytest

import reprosuite
from reprosuite import config, fingerprint, study
from reprosuite.config import ConfigError

PACKAGE = Path(reprosuite.__file__).parent

STUDY = '''\
"""A synthetic study: its module docstring."""

from __future__ import annotations

from dataclasses import dataclass

from reprosuite.claims import Claim, Rule
from reprosuite.study import Figure, Paper

from . import plots
from .model import make_net

PAPER = Paper(title="A paper", authors="Someone", year=2020, arxiv="2001.00001")


@dataclass(frozen=True)
class Config:
    """The paper's protocol."""

    seeds: int = 1
    steps: int = 10  # a comment


TIERS = {"smoke": Config(), "quick": Config(), "full": Config()}


def grid(cfg):
    return {"p": {"width": 2}}


def make_data(cfg):
    return {}


def train(cfg, point, data, seeds, device):
    """Train every seed."""
    from reprosuite.engine import fake_engine

    return make_net(cfg.steps) + fake_engine.step()


def unused_helper():
    return 1


def extract(runs, cfg):
    return runs


def measure(metrics, cfg):
    return {}


CLAIMS = (Claim(id="c1", statement="it works", metric="m", rule=Rule.at_most(1.0)),)
FIGURES = (Figure("f1", "a caption", plots.draw),)
'''


@pytest.fixture
def pkg(tmp_path) -> Path:
    """A copy of the package with the synthetic study package ``fake_study`` and an engine module it uses."""
    root = tmp_path / "reprosuite"
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__"))
    fake = root / "studies" / "fake_study"
    fake.mkdir()
    (fake / "__init__.py").write_text(STUDY)
    (fake / "model.py").write_text("def make_net(n):\n    return n\n")
    (fake / "plots.py").write_text("def draw(runs, metrics, cfg):\n    return None\n")
    (root / "engine" / "fake_engine.py").write_text("def step():\n    return 0\n")
    (root / "engine" / "fake_unused.py").write_text("def other():\n    return 0\n")
    return root


def digests(root: Path) -> dict[str, str]:
    return {
        stage: fingerprint.code_digest(stage, "fake_study" if stage != "suite" else None, root)
        for stage in fingerprint.STAGES
    }


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {stage for stage in before if before[stage] != after[stage]}


def test_the_stages_follow_their_own_code(pkg):
    sources = {
        stage: set(fingerprint.fingerprint_sources(stage, "fake_study", pkg))
        for stage in fingerprint.STAGES[:-1]
    }
    main, model, plots = (f"reprosuite.studies.fake_study{s}" for s in ("", ".model", ".plots"))
    assert {main, model, "reprosuite.engine.fake_engine", "reprosuite.pipeline", "reprosuite.io"} <= sources[
        "train"
    ]
    # training follows only the engine, metrics and study code: not claims, study, config or figures
    assert not {"reprosuite.claims", "reprosuite.study", "reprosuite.config", plots} & sources["train"]
    assert "reprosuite.engine.fake_unused" not in set().union(*sources.values())
    assert plots in sources["figure"] and "reprosuite.plotting" in sources["figure"]
    assert "reprosuite.claims" in sources["claims"] and model not in sources["claims"]
    assert "reprosuite" not in set().union(*sources.values())  # the version string


def test_docstrings_and_comments_change_nothing(pkg):
    before = digests(pkg)
    init = pkg / "studies" / "fake_study" / "__init__.py"
    edit(init, "A synthetic study: its module docstring.", "A synthetic study, described at length.")
    edit(init, "The paper's protocol.", "The protocol of the paper, with every value cited.")
    edit(init, "Train every seed.", "Train every seed, batched.\n\n    More text.")
    edit(init, "# a comment", "# a longer comment, explaining why")
    edit(init, "def unused_helper", "# a comment line of its own\n\n\ndef unused_helper")
    edit(pkg / "engine" / "fake_engine.py", "def step", '"""The engine module."""\n\n\ndef step')
    edit(pkg / "pipeline.py", '"""The stages', '"""Edited: the stages')
    assert digests(pkg) == before


def test_a_relative_import_in_a_study_package_is_followed(pkg):
    before = digests(pkg)
    edit(pkg / "studies" / "fake_study" / "model.py", "return n", "return n + 1")
    assert changed(before, digests(pkg)) == {"train"}
    before = digests(pkg)
    edit(pkg / "studies" / "fake_study" / "plots.py", "return None", "return 0")
    assert changed(before, digests(pkg)) == {"figure"}


def test_a_claim_edit_changes_the_claims_fingerprint_only(pkg):
    before = digests(pkg)
    edit(pkg / "studies" / "fake_study" / "__init__.py", "Rule.at_most(1.0)", "Rule.at_most(2.0)")
    assert changed(before, digests(pkg)) == {"claims"}


def test_a_root_re_exported_from_a_submodule_follows_it(pkg):
    """``from .claims import CLAIMS as CLAIMS``: the package's name for a root is an import, and the submodule it
    names is part of the stages that read the root (here the claims stage only)."""
    init = pkg / "studies" / "fake_study" / "__init__.py"
    edit(init, 'CLAIMS = (Claim(id="c1", statement="it works", metric="m", rule=Rule.at_most(1.0)),)\n', "")
    edit(init, "from . import plots\n", "from . import plots\nfrom .claims import CLAIMS as CLAIMS\n")
    (pkg / "studies" / "fake_study" / "claims.py").write_text(
        "from reprosuite.claims import Claim, Rule\n\n"
        'CLAIMS = (Claim(id="c1", statement="it works", metric="m", rule=Rule.at_most(1.0)),)\n'
    )
    assert "reprosuite.studies.fake_study.claims" in fingerprint.fingerprint_sources(
        "claims", "fake_study", pkg
    )
    before = digests(pkg)
    edit(pkg / "studies" / "fake_study" / "claims.py", "Rule.at_most(1.0)", "Rule.at_most(2.0)")
    assert changed(before, digests(pkg)) == {"claims"}


def test_code_no_stage_reaches_changes_nothing(pkg):
    before = digests(pkg)
    edit(pkg / "studies" / "fake_study" / "__init__.py", "return 1", "return 2")  # unused_helper
    edit(pkg / "engine" / "fake_unused.py", "return 0", "return 1")
    edit(pkg / "__init__.py", '__version__ = "', '__version__ = "9')
    edit(pkg / "io.py", "def read_meta(", "def read_meta_unused():\n    return 1\n\n\ndef read_meta(")
    after = digests(pkg)
    # io's readers are part of the stages that read tables (extract, figure, claims, suite), not of training
    assert changed(before, after) == {"extract", "figure", "claims", "suite"}


def test_engine_and_io_writer_edits_rerun_training(pkg):
    before = digests(pkg)
    edit(pkg / "engine" / "fake_engine.py", "return 0", "return 1")
    assert changed(before, digests(pkg)) == {"train"}
    before = digests(pkg)
    edit(pkg / "io.py", "pq.write_table(table, tmp)", "pq.write_table(table, tmp, compression='zstd')")
    # the dataset is written with numpy, not io.write_table: data stays
    assert changed(before, digests(pkg)) == {"train", "extract", "figure", "claims", "suite"}


def test_a_pipeline_stage_edit_changes_that_stage(pkg):
    before = digests(pkg)
    edit(
        pkg / "pipeline.py",
        '    metrics.insert(0, "study", study)\n',
        '    metrics.insert(0, "study", study)\n    assert metrics is not None\n',
    )
    assert changed(before, digests(pkg)) == {"extract"}


def test_dynamic_name_lookups_include_the_whole_module(pkg):
    init = pkg / "studies" / "fake_study" / "__init__.py"
    edit(init, "return runs\n", "return globals()['unused_helper']() and runs\n")
    before = digests(pkg)
    edit(init, "return 1", "return 2")  # unused_helper: reached only through globals()
    assert "extract" in changed(before, digests(pkg))


def test_a_module_study_is_hashed_like_a_package(pkg):
    flat = pkg / "studies" / "flat_study.py"
    flat.write_text(
        STUDY.replace("from . import plots\nfrom .model import make_net\n", "")
        .replace("make_net(cfg.steps)", "cfg.steps")
        .replace("plots.draw", "None")
    )
    before = fingerprint.code_digest("train", "flat_study", pkg)
    flat.write_text(flat.read_text().replace("A synthetic study", "A flat synthetic study"))
    assert fingerprint.code_digest("train", "flat_study", pkg) == before
    flat.write_text(flat.read_text().replace("return cfg.steps", "return cfg.steps * 2"))
    assert fingerprint.code_digest("train", "flat_study", pkg) != before
    with pytest.raises(ValueError, match="no study module 'nope'"):
        fingerprint.code_digest("train", "nope", pkg)


def test_fingerprint_joins_config_point_and_code(pkg):
    real = config.resolve("saxe_dln_dynamics", "smoke")  # any study's typed config
    a = fingerprint.fingerprint("train", "fake_study", real, {"width": 2}, root=pkg)
    assert a == fingerprint.fingerprint("train", "fake_study", real, {"width": 2}, root=pkg)
    assert a != fingerprint.fingerprint("train", "fake_study", real, {"width": 3}, root=pkg)
    other = config.resolve("saxe_dln_dynamics", "smoke", {"steps": 123})
    assert a != fingerprint.fingerprint("train", "fake_study", other, {"width": 2}, root=pkg)
    assert a != fingerprint.fingerprint("extract", "fake_study", real, {"width": 2}, root=pkg)


# Training resources -------------------------------------------------------------------------------------------


def fake_study(hook=None) -> study.Study:
    module = types.ModuleType("fake")
    if hook is not None:
        module.resources = hook
    return study.Study("fake", module)


@pytest.mark.parametrize(("tier", "runtime"), [("smoke", 10), ("quick", 30), ("full", 24 * 60)])
def test_training_resources_default_to_the_tier(tier, runtime):
    assert config.train_resources(fake_study(), None, {}, tier, "auto") == {
        "mem_mb": 4000,
        "runtime": runtime,
        "gpu": 0,
    }
    assert config.train_resources(fake_study(), None, {}, tier, "cuda")["gpu"] == 1


def test_the_study_hook_replaces_the_defaults_it_names():
    calls = []

    def hook(cfg, point):
        calls.append((cfg, point))
        return {"runtime": 90 * point["size"], "gpu": 1}

    res = config.train_resources(fake_study(hook), "cfg", {"size": 2}, "full", "auto")
    assert res == {"mem_mb": 4000, "runtime": 180, "gpu": 1}
    assert calls == [("cfg", {"size": 2})]
    assert config.train_resources(fake_study(hook), "cfg", {"size": 2}, "full", "cpu")["gpu"] == 0


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ({"time": 5}, "unknown keys"),
        ({"runtime": 0}, "runtime=0"),
        ({"mem_mb": 1.5}, "mem_mb=1.5"),
        ({"gpu": True}, "gpu=True"),
        ([("runtime", 5)], "must return a dict"),
    ],
)
def test_a_bad_hook_result_is_a_named_error(returned, message):
    with pytest.raises(ConfigError, match=f"study 'fake'.*{message}"):
        config.train_resources(fake_study(lambda cfg, point: returned), None, {}, "quick", "auto")


def test_the_hook_is_a_documented_optional_name():
    assert "resources" in study.OPTIONAL
    assert "resources(cfg, point)" in textwrap.dedent(study.__doc__)


def test_a_module_imported_inside_a_function_is_hashed_whole(pkg):
    init = pkg / "studies" / "fake_study" / "__init__.py"
    edit(
        init,
        "    from reprosuite.engine import fake_engine\n",
        "    from reprosuite import io\n    from reprosuite.engine import fake_engine\n",
    )
    edit(init, "return make_net(cfg.steps)", "io.write_table\n    return make_net(cfg.steps)")
    before = digests(pkg)
    edit(pkg / "io.py", "def read_meta(", "def read_meta_unused():\n    return 1\n\n\ndef read_meta(")
    assert "train" in changed(before, digests(pkg))


def test_the_fingerprint_code_itself_is_not_part_of_any_fingerprint(pkg):
    before = digests(pkg)
    edit(
        pkg / "fingerprint.py",
        "    return digest(payload)\n",
        "    payload = dict(payload)\n    return digest(payload)\n",
    )
    assert digests(pkg) == before
    edit(pkg / "config.py", 'POSITIVE = ("steps",', 'POSITIVE = ("steps", "widths",')  # config resolution
    assert changed(before, digests(pkg)) == {"extract", "figure", "claims"}
