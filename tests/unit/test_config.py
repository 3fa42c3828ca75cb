import pytest

from reprosuite import cli, config, fingerprint, study
from reprosuite.config import ConfigError

STUDY = "saxe_dln_dynamics"


def test_resolve_applies_overrides_and_seeds():
    cfg = config.resolve(STUDY, "smoke", {"steps": 100, "lr": 1}, seeds=4)
    assert cfg.steps == 100
    assert isinstance(cfg.lr, float) and cfg.lr == 1.0
    assert cfg.seeds == 4


def test_resolve_accepts_an_explicit_list_of_seeds():
    cfg = config.resolve(STUDY, "smoke", seeds=[5, 7])
    assert cfg.seeds == (5, 7)
    assert study.seed_list(cfg) == [5, 7]
    assert config.resolve(STUDY, "smoke", {"seeds": [9]}).seeds == (9,)  # as an override too
    count = config.resolve(STUDY, "smoke", seeds=3)
    assert count.seeds == 3 and study.seed_list(count) == [0, 1, 2]


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        ([], "a list of seeds must hold non-negative integers"),
        ([3, -1], "a list of seeds must hold non-negative integers"),
        ([True, 2], "a list of seeds must hold non-negative integers"),
        ([1.5], "a list of seeds must hold non-negative integers"),
        ([4, 2, 4], "seeds must be distinct"),
        (0, "expected a positive count or a list of seeds"),
        (True, "expected a positive count or a list of seeds"),
        ("3", "expected a positive count or a list of seeds"),
    ],
)
def test_bad_seeds_are_a_named_error(seeds, message):
    with pytest.raises(ConfigError, match=message) as err:
        config.resolve(STUDY, "smoke", seeds=seeds)
    assert f"study '{STUDY}', key 'seeds'" in str(err.value)


def test_command_line_seeds_reads_snakemakes_strings():
    # `snakemake --config 'seeds=[100,101,102]'` gives strings (YAML's BaseLoader), `seeds=null` gives "null"
    assert config.command_line_seeds(["100", "101", "102"]) == [100, 101, 102]
    assert config.command_line_seeds("null") is None
    assert config.command_line_seeds(3) == 3 and config.command_line_seeds(None) is None
    assert config.command_line_seeds([5, 7]) == [5, 7]
    assert config.command_line_seeds(["-1", "x"]) == ["-1", "x"]  # left for validation to refuse


@pytest.mark.parametrize(
    "command",
    [
        ["prepare", "--out", "d.npz"],
        ["train", "--point", "p", "--data", "d.npz", "--out", "r.parquet"],
        ["extract", "--runs", "r.parquet", "--out", "m.parquet"],
        ["figure", "--name", "f", "--runs", "r.parquet", "--metrics", "m.parquet", "--out", "f.png"],
        ["claims", "--metrics", "m.parquet", "--out", "c.parquet"],
    ],
)
def test_stage_commands_parse_a_json_list_of_seeds(command):
    args = cli.parser().parse_args([*command, "--study", STUDY, "--tier", "smoke", "--seeds", "[100,101]"])
    assert cli._common(args)["seeds"] == [100, 101]
    assert config.resolve(**cli._common(args)).seeds == (100, 101)
    count = cli.parser().parse_args([*command, "--study", STUDY, "--seeds", "3"])
    assert cli._common(count)["seeds"] == 3


def test_a_bad_seed_list_on_the_command_line_is_one_line_naming_seeds(tmp_path, capsys):
    argv = ["prepare", "--study", STUDY, "--tier", "smoke", "--seeds", "[1, 1]", "--out", str(tmp_path / "d")]
    assert cli.main(argv) == 2
    assert "key 'seeds': seeds must be distinct" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_tuple_fields_accept_lists():
    cfg = config.resolve(STUDY, "smoke", {"modes": [3, 2, 1]})
    assert cfg.modes == (3.0, 2.0, 1.0)


@pytest.mark.parametrize(
    ("tier", "overrides", "seeds", "message"),
    [
        ("huge", None, None, "unknown tier 'huge'"),
        ("smoke", {"stepz": 3}, None, "unknown override key 'stepz'"),
        ("smoke", {"steps": "many"}, None, "key 'steps': expected an integer"),
        ("smoke", {"steps": 1.5}, None, "key 'steps': expected an integer"),
        ("smoke", {"lr": "fast"}, None, "key 'lr': expected a number"),
        ("smoke", {"tanh": 1}, None, "key 'tanh': expected true/false"),
        ("smoke", {"steps": 0}, None, "key 'steps': must be > 0"),
        ("smoke", {"lr": -0.1}, None, "key 'lr': must be > 0"),
        ("smoke", None, -2, "key 'seeds': expected a positive count or a list of seeds"),
        ("smoke", {"modes": 3}, None, "key 'modes': expected a list"),
    ],
)
def test_bad_config_is_a_named_error(tier, overrides, seeds, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as err:
        config.resolve(STUDY, tier, overrides, seeds)
    if tier == "smoke":
        assert STUDY in str(err.value)


def test_unknown_study_is_named():
    with pytest.raises(ConfigError, match="unknown study 'nope'"):
        config.select_studies(["nope"])
    assert STUDY in config.select_studies("all")


def test_digest_is_stable_and_sensitive():
    a = config.to_dict(config.resolve(STUDY, "smoke"))
    assert config.digest(a) == config.digest(dict(reversed(list(a.items()))))
    assert config.digest(a) != config.digest({**a, "lr": 0.02})


def test_training_fingerprint_follows_the_studys_engine_modules_only():
    sources = fingerprint.fingerprint_sources("train", STUDY)
    assert f"reprosuite.studies.{STUDY}" in sources and "reprosuite.pipeline" in sources
    assert any(m.startswith("reprosuite.engine.") for m in sources)
    assert not {"reprosuite.claims", "reprosuite.study", "reprosuite.plotting"} & set(sources)
    assert "reprosuite.claims" in fingerprint.fingerprint_sources("claims", STUDY)
    # modules no selected stage of this study imports stay out
    used = set().union(*(fingerprint.fingerprint_sources(s, STUDY) for s in fingerprint.STAGES[:-1]))
    engine = {
        m
        for s in study.names()
        for m in fingerprint.fingerprint_sources("train", s)
        if m.startswith("reprosuite.engine.")
    }
    assert engine - used, "every engine module is used by this study: pick another"


def test_fingerprint_of_a_job_is_stable_and_sensitive():
    cfg = config.resolve(STUDY, "smoke")
    fp = fingerprint.fingerprint("train", STUDY, cfg, {"a": 1})
    assert fp == fingerprint.fingerprint("train", STUDY, config.resolve(STUDY, "smoke"), {"a": 1})
    assert fp != fingerprint.fingerprint(
        "train", STUDY, config.resolve(STUDY, "smoke", {"steps": 77}), {"a": 1}
    )
    assert fp != fingerprint.fingerprint("train", STUDY, cfg, {"a": 2})


def test_seed_offset_shifts_the_resolved_seed_list():
    cfg = config.resolve("saxe_dln_dynamics", "quick")
    n = len(study.seed_list(cfg))
    assert config.shift_seeds({"steps": 10}, cfg, 100) == {"steps": 10, "seeds": list(range(100, 100 + n))}
    listed = config.resolve("saxe_dln_dynamics", "quick", seeds=[3, 7])
    assert config.shift_seeds(None, listed, 10)["seeds"] == [13, 17]
    assert config.shift_seeds(None, cfg, 0) == {}
    with pytest.raises(config.ConfigError, match="seed_offset"):
        config.shift_seeds(None, cfg, -1)
