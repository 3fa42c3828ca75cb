import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import claims, config, study
from reprosuite.studies import dohare_loss_of_plasticity as lop
from reprosuite.studies.dohare_loss_of_plasticity import online

CFG = dataclasses.replace(
    config.resolve("dohare_loss_of_plasticity", "smoke"),
    steps=4_000,
    flip_after=500,
    chunk=500,
    bin_size=1_000,
    window=1_000,
    probe_every=1_000,
    n_probe=50,
    replacement_rate=0.01,
    maturity=20,
)


def test_grid_and_probe_data():
    assert lop.grid(config.resolve("dohare_loss_of_plasticity", "full"))["stream"] == {
        "methods": list(lop.METHODS)
    }
    assert lop.grid(CFG) == {"stream": {"methods": list(lop.METHODS)}}
    with pytest.raises(ValueError, match="multiples of chunk"):
        lop.grid(dataclasses.replace(CFG, probe_every=750))
    probe = lop.make_data(CFG)["probe"]
    assert probe.shape == (CFG.n_probe, CFG.n_inputs) and set(np.unique(probe)) <= {0.0, 1.0}


def test_tiers_deviate_from_the_paper_where_explained():
    st = study.get("dohare_loss_of_plasticity")
    assert study.deviations(st, config.resolve(st, "full"), "full") == []
    quick = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert quick == {"seeds", "steps", "window", "mnist_tasks"}
    with pytest.raises(config.ConfigError, match="util_type"):
        config.resolve(st, "smoke", {"util_type": "weight_magnitude"})


def test_training_gives_tidy_deterministic_rows_and_cbp_replaces_units():
    pytest.importorskip("torch")
    data = lop.make_data(CFG)
    runs = lop.train(CFG, lop.grid(CFG)["stream"], data, [0, 1], "cpu")
    assert runs.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
    err = runs[runs["metric"] == "error"]
    assert len(err) == 4 * 2 * (CFG.steps // CFG.chunk) and (err["value"] > 0).all()
    probe = runs[runs["split"] == "probe"]
    assert sorted(probe["step"].unique()) == [0, 1000, 2000, 3000, 4000]
    rank = probe[probe["metric"] == "effective_rank"]["value"]
    assert ((rank >= 0) & (rank <= CFG.hidden)).all()
    replaced = probe[(probe["metric"] == "replaced_units") & (probe["step"] == CFG.steps)]
    by_method = replaced.groupby("variant")["value"].min()
    assert by_method["backprop"] == 0 and by_method["l2"] == 0 and by_method["cbp"] > 0
    assert by_method["stationary"] == 0
    # methods of one seed share the stream and the initial network: identical until they differ
    first = err[err["step"] == CFG.chunk].pivot_table(index="seed", columns="variant", values="value")
    assert np.allclose(first["backprop"], first["cbp"], rtol=0.2)
    # the stationary control reads the same stream until the first bit flip, and no flip after it
    early = err[err["step"] <= CFG.flip_after]
    before_flip = early.pivot_table(index=["seed", "step"], columns="variant", values="value")
    np.testing.assert_array_equal(before_flip["backprop"], before_flip["stationary"])
    flipping, still = (
        online.BitFlipStream(0, CFG.steps, flip_after=f, f=CFG.n_flipping)
        for f in (CFG.flip_after, CFG.steps)
    )
    x_flip, _ = flipping.chunk(CFG.flip_after, CFG.chunk, 1)  # the second period: one bit flipped
    x_still, _ = still.chunk(CFG.steps - CFG.chunk, CFG.chunk, CFG.steps // CFG.chunk - 1)
    first_bits = still.chunk(0, 1, 0)[0][0, : CFG.n_flipping]
    assert (x_still[:, : CFG.n_flipping] == first_bits).all() and (
        x_flip[:, : CFG.n_flipping] != first_bits
    ).any()
    again = lop.train(CFG, lop.grid(CFG)["stream"], data, [0, 1], "cpu")
    pd.testing.assert_frame_equal(runs, again)


def test_a_killed_run_resumes_to_the_identical_table(tmp_path, capsys):
    pytest.importorskip("torch")
    from reprosuite.engine.train import checkpoint

    data = lop.make_data(CFG)
    point = lop.grid(CFG)["stream"]
    whole = lop.train(CFG, point, data, [0, 1], "cpu")
    with checkpoint.checkpointing(tmp_path, "fp", every_s=1e9) as ck:
        ck.stop_signal = 15  # as if SIGTERM arrived: save at the next chunk boundary and stop
        with pytest.raises(checkpoint.Preempted):
            lop.train(CFG, point, data, [0, 1], "cpu")
    with checkpoint.checkpointing(tmp_path, "fp", every_s=1e9):
        resumed = lop.train(CFG, point, data, [0, 1], "cpu")
    err = capsys.readouterr().err
    assert "resumed from" in err and "at chunk 1" in err
    pd.testing.assert_frame_equal(whole, resumed)


def test_a_run_crashed_between_checkpoints_resumes_to_the_identical_table(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    from reprosuite.engine.train import checkpoint
    from reprosuite.studies.dohare_loss_of_plasticity import online

    class Crashed(Exception):
        pass

    data = lop.make_data(CFG)
    point = lop.grid(CFG)["stream"]
    whole = lop.train(CFG, point, data, [0, 1], "cpu")
    real_chunk = online.BitFlipStream.chunk

    def crash_in_chunk_five(self, start, length, index):
        if index == 5:
            raise Crashed
        return real_chunk(self, start, length, index)

    monkeypatch.setattr(online.BitFlipStream, "chunk", crash_in_chunk_five)
    with checkpoint.checkpointing(tmp_path, "fp", every_s=0.0), pytest.raises(Crashed):
        lop.train(CFG, point, data, [0, 1], "cpu")
    monkeypatch.setattr(online.BitFlipStream, "chunk", real_chunk)
    capsys.readouterr()
    with checkpoint.checkpointing(tmp_path, "fp", every_s=0.0):
        resumed = lop.train(CFG, point, data, [0, 1], "cpu")
    assert "at chunk 5" in capsys.readouterr().err
    pd.testing.assert_frame_equal(whole, resumed, check_exact=True)


def _runs(ratios: dict[str, float]) -> pd.DataFrame:
    """Constant error 1 up to the late window, then ``ratio`` (per method), two seeds."""
    rows = []
    for variant, ratio in ratios.items():
        for seed in (0, 1):
            for step in range(CFG.chunk, CFG.steps + 1, CFG.chunk):
                late = step > CFG.steps - CFG.window
                rows.append(
                    ("stream", variant, seed, step, "train", "error", ratio + 0.01 * seed if late else 1.0)
                )
            rows.append(("stream", variant, seed, CFG.steps, "probe", "dead_units", 1.0))
    return pd.DataFrame(rows, columns=["point", "variant", "seed", "step", "split", "metric", "value"])


REGRESSION_CLAIMS = [c for c in lop.CLAIMS if c.id not in lop.MNIST_CLAIMS]


def test_extract_and_measure_compare_late_with_early_error():
    metrics = lop.extract(_runs({"backprop": 1.5, "l2": 0.9, "cbp": 0.95, "stationary": 0.8}), CFG)
    values = lop.measure(metrics, CFG)
    assert list(values["backprop_loses_plasticity"]) == pytest.approx([1.5, 1.51])
    assert list(values["l2_keeps_plasticity"]) == pytest.approx([0.9, 0.91])
    assert list(values["backprop_loses_plasticity/control"]) == pytest.approx([0.8, 0.81])
    assert list(values["l2_keeps_plasticity/control"]) == list(values["backprop_loses_plasticity"])
    assert list(values["cbp_keeps_plasticity/control"]) == list(values["backprop_loses_plasticity"])
    verdicts = {c.id: claims.verdict(c.rule, values[c.id], c) for c in REGRESSION_CLAIMS}
    assert verdicts == {
        "backprop_loses_plasticity": "pass",
        "l2_keeps_plasticity": "pass",
        "cbp_keeps_plasticity": "pass",
    }
    controls = {claims.verdict(c.rule, values[c.id + claims.CONTROL], c) for c in REGRESSION_CLAIMS}
    assert controls == {"fail"}
    bad = lop.measure(
        lop.extract(_runs({"backprop": 1.05, "l2": 1.4, "cbp": 1.3, "stationary": 1}), CFG), CFG
    )
    assert all(claims.verdict(c.rule, bad[c.id], c) == "fail" for c in REGRESSION_CLAIMS)
    assert list(metrics.columns) == ["point", "seed", "method", "metric", "value"]
    lookup = metrics.set_index(["method", "seed", "metric"])["value"]
    assert lookup["cbp", 1, "late_error"] == pytest.approx(0.96) and lookup["l2", 0, "early_error"] == 1.0
    assert lookup["backprop", 0, "final_dead_units"] == 1.0
