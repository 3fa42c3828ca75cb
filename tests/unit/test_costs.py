"""The cost table: a probed job's entry, its use only for the config it was probed with, and the cluster request
sized from it (safety factors, partition cap, a study's hook never asking for less than measured)."""

import json
import time

import pytest

from reprosuite import cli, config, costs, pipeline, study

STUDY = "saxe_dln_dynamics"


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    out = tmp_path_factory.mktemp("probe")
    table = out / "costs.json"
    found = costs.probe(
        "smoke", [STUDY], steps=2, limit_s=60, device="cpu", table_path=table, log=lambda m: None
    )
    return found, json.loads(table.read_text())


def test_probe_records_every_training_job_of_the_tier(probed):
    found, table = probed
    st = study.get(STUDY)
    cfg = config.resolve(st, "smoke")
    grid = config.check_grid(st, cfg)
    assert set(table["smoke"][STUDY]) == set(grid) == set(found[STUDY])
    for point, entry in found[STUDY].items():
        assert entry["device"] == "cpu" and entry["probe_steps"] == 2 and entry["date"]
        assert entry["status"] in ("measured", "extrapolated") and entry["fits"] >= 1
        assert entry["est_s"] >= entry["ran_s"] > 0 and entry["wall_s"] > 0 and entry["peak_mb"] > 50
        assert entry["clock"] == "cpu"  # a CPU job: timed in its CPU seconds
        assert costs.lookup(table, STUDY, "smoke", point, cfg, grid[point]) == entry
        other = config.resolve(st, "smoke", seeds=[7])  # another config: the probe does not apply
        assert costs.lookup(table, STUDY, "smoke", point, other, grid[point]) is None


def test_a_probe_extrapolates_what_a_full_run_measures(probed, tmp_path):
    """The extrapolation of a job from 2 steps per fit is within a factor 3 of the job's real training time, both
    in CPU seconds of one thread (the probe's clock on a CPU), so that other work on the machine moves neither."""
    found, _ = probed
    point, entry = next(iter(found[STUDY].items()))
    assert entry["clock"] == "cpu"
    pipeline.prepare(STUDY, "smoke", tmp_path / "data.npz")
    import torch  # noqa: F401  # imported before the clock starts, as the probe's clock starts after its imports

    began = time.process_time()
    pipeline.train(
        STUDY, "smoke", point, tmp_path / "data.npz", tmp_path / "runs" / f"{point}.parquet", device="cpu"
    )
    real = time.process_time() - began
    assert real / 3 < entry["est_s"] < real * 3, (real, entry["est_s"])


def test_resources_from_costs_with_safety_factors_and_the_partition_cap():
    entry = {"est_s": 600.0, "peak_mb": 2000.0}
    assert costs.resources(entry) == {"runtime": 30, "mem_mb": 4000}
    assert costs.resources({"est_s": 1.0, "peak_mb": 10.0})["runtime"] == costs.MIN_RUNTIME_MIN
    assert costs.resources({"est_s": 1e7, "peak_mb": 10.0}, max_runtime_min=2880)["runtime"] == 2880


def test_train_resources_take_the_measured_cost_and_a_hook_never_asks_for_less(monkeypatch):
    st = study.get(STUDY)
    cfg = config.resolve(st, "full")
    point = next(iter(config.check_grid(st, cfg).values()))
    measured = {"runtime": 90, "mem_mb": 9000}
    assert config.train_resources(st, cfg, point, "full", "cuda", measured) == {**measured, "gpu": 1}
    monkeypatch.setattr(
        st.module, "resources", lambda cfg, point: {"mem_mb": 5000, "runtime": 600}, raising=False
    )
    res = config.train_resources(st, cfg, point, "full", "cpu", measured, max_runtime_min=120)
    assert res == {"runtime": 120, "mem_mb": 9000, "gpu": 0}


def test_the_probe_command_refuses_an_unknown_study(capsys):
    assert cli.main(["probe", "--tier", "smoke", "--studies", "no_such_study", "--dry"]) == 2
    assert "no_such_study" in capsys.readouterr().err


def test_a_job_that_ran_out_of_memory_is_recorded_with_a_lower_bound_on_its_memory(tmp_path, monkeypatch):
    """Its time under the probe's cap is not its cost: the table keeps its memory lower bound and no time, and
    the job asks for that memory (with the safety factors) and the partition's time limit."""
    import subprocess

    st = study.get(STUDY)
    grid = list(config.check_grid(st, config.resolve(st, "smoke")))
    entry = {"status": "partial", "est_s": 2.0, "device": "cpu", "peak_mb": 900.0, "note": ""}
    oom = {
        **entry,
        "status": "out of memory",
        "needs_mb": 3900.0,
        "note": "out of memory: needs more than 1 GB",
    }

    def fake_run(cmd, **kwargs):
        return subprocess.CompletedProcess(
            cmd, 0, json.dumps(oom if cmd[-5] == grid[0] else entry) + "\n", ""
        )

    monkeypatch.setattr(costs.subprocess, "run", fake_run)
    table_path = tmp_path / "costs.json"
    found = costs.probe("smoke", [STUDY], table_path=table_path, log=lambda m: None)
    recorded = json.loads(table_path.read_text())["smoke"][STUDY]
    assert set(found[STUDY]) == set(recorded) == set(grid)
    assert costs.out_of_memory(recorded[grid[0]]) and not costs.out_of_memory(recorded[grid[1]])
    assert costs.resources(recorded[grid[0]], max_runtime_min=600) == {
        "runtime": 600,
        "mem_mb": 3900 * 3 // 2 + 1000,
    }
    assert costs.resources(recorded[grid[1]], max_runtime_min=600)["runtime"] == costs.MIN_RUNTIME_MIN


def test_the_lower_bound_adds_the_allocation_that_failed_to_the_peak():
    torch_msg = (
        "[enforce fail] DefaultCPUAllocator: can't allocate memory: you tried to allocate 2097152 bytes."
    )
    assert costs.needs_mb(100.0, torch_msg) == pytest.approx(102.0)
    assert costs.needs_mb(100.0, "Unable to allocate 61.0 MiB for an array with shape (200, 40000)") == 161.0
    assert costs.needs_mb(100.0, "CUDA out of memory. Tried to allocate 1.50 GiB") == pytest.approx(1636.0)
    assert costs.needs_mb(100.0, "std::bad_alloc") == 100.0  # no size named: the peak alone


def test_every_full_tier_training_job_has_a_cost_probed_with_its_current_config():
    """`reprosuite plan --config tier=full` and the cluster requests size every training job from the committed
    table; a full tier changed without probing it again would fall back to "never benchmarked"."""
    table = costs.load()
    stale = []
    for name in study.names():
        st = study.get(name)
        cfg = config.resolve(st, "full")
        for point, values in config.check_grid(st, cfg).items():
            entry = costs.lookup(table, name, "full", point, cfg, values)
            if entry is None or costs.out_of_memory(entry) or not entry.get("est_s"):
                stale.append(f"{name} {point}")
    assert not stale, f"probe again (reprosuite probe --tier full --studies …): {', '.join(stale)}"


def test_provenance_says_where_and_on_what_data_a_cost_was_measured():
    entry = {"status": "extrapolated", "device": "cpu", "date": "2026-12-07"}
    assert costs.provenance(entry) == "extrapolated on cpu 2026-12-07"
    assert costs.provenance({**entry, "stand_in": ["cifar10"]}) == (
        "extrapolated on cpu 2026-12-07, on stand-in cifar10 data"
    )
    table = costs.load()["full"][
        "nc_deep_linear"
    ]  # the committed probes of nc's CIFAR-10 jobs used stand-ins
    assert table["mlp_cifar10_w512_M1_nobias"]["stand_in"] == ["cifar10"] and "stand_in" not in table["M1"]
