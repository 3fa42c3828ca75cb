"""Every discovered study runs its whole pipeline at the smoke tier and produces well-formed results, and every
training job killed mid-way resumes to the same run table, bit for bit."""

import os
import signal
from unittest import mock

import pandas as pd
import pytest

from reprosuite import claims, config, io, pipeline, study
from reprosuite.engine.train import checkpoint

STUDIES = list(study.names())


class Killed(Exception):
    """A crash of the training process between two checkpoints."""


def counting_due(counter: list[int], kill_at: int | None = None, how: str = "crash"):
    """A ``Checkpointer.due`` that counts its calls (one per step boundary of a fit or a study's own loop) and,
    at call ``kill_at``, interrupts the job: ``crash`` forces a save there and raises at the next boundary (the
    state since that save is lost, as in a crash); ``sigterm`` sends the process SIGTERM, as SLURM does before a
    time limit, and the job saves and stops on its own."""
    real = checkpoint.Checkpointer.due

    def due(self):
        counter[0] += 1
        if kill_at is not None and counter[0] == kill_at:
            if how == "sigterm":
                os.kill(os.getpid(), signal.SIGTERM)
                return real(self)
            return True
        if kill_at is not None and how == "crash" and counter[0] == kill_at + 1:
            raise Killed
        return real(self)

    return due


@pytest.fixture(scope="module", params=STUDIES)
def smoke(request, tmp_path_factory):
    name = request.param
    out = tmp_path_factory.mktemp(name)
    st = study.get(name)
    cfg = config.resolve(st, "smoke")
    points = config.check_grid(st, cfg)
    pipeline.prepare(name, "smoke", out / "data.npz")
    runs, boundaries = [], {}
    for point in points:
        runs.append(out / "runs" / f"{point}.parquet")
        counter = [0]
        with mock.patch.object(checkpoint.Checkpointer, "due", counting_due(counter)):
            pipeline.train(name, "smoke", point, out / "data.npz", runs[-1], device="cpu", threads=1)
        boundaries[point] = counter[0]
    pipeline.extract(name, "smoke", runs, out / "metrics.parquet")
    pipeline.check_claims(name, "smoke", out / "metrics.parquet", out / "claims.parquet")
    for fig in st.figure_names("smoke"):
        pipeline.figure(name, "smoke", fig, runs, out / "metrics.parquet", out / "figures" / f"{fig}.png")
    return st, cfg, points, out, runs, boundaries


def test_run_tables_are_tidy_with_provenance(smoke):
    st, cfg, points, out, runs, _ = smoke
    for path in runs:
        df = io.read_table(path, io.RUN_COLUMNS)
        assert set(df.study) == {st.name}
        assert df.seed.nunique() >= 1 and set(df.seed) <= set(study.seed_list(cfg))
        assert pd.api.types.is_numeric_dtype(df.value) and pd.api.types.is_integer_dtype(df.step)
        keys = [c for c in df.columns if c not in ("study", "point", "value")]  # typed member columns too
        assert df.groupby(keys, dropna=False).size().max() == 1, "one row per observation"
        meta = io.read_meta(path)
        assert meta["config"]["seeds"] == cfg.seeds and meta["torch_version"] and meta["device"] == "cpu"
        assert meta["wall_time_s"] >= 0 and meta["point"] == points[path.stem]


def test_metrics_and_claims_are_computed(smoke):
    st, cfg, points, out, runs, _ = smoke
    metrics = io.read_table(out / "metrics.parquet", io.METRIC_COLUMNS)
    assert not metrics.empty and set(metrics.point) <= set(points)
    table = io.read_table(out / "claims.parquet", pipeline.CLAIM_COLUMNS)
    assert list(table.claim) == [c.id for c in st.CLAIMS]
    assert set(table.verdict) <= set(claims.VERDICTS)
    for c, (_, row) in zip(st.CLAIMS, table.iterrows(), strict=True):
        if "smoke" in c.tiers:
            assert row.n_seeds >= 1, f"claim {c.id} applies at smoke but was not measured"
        if c.kind == "empirical" and c.control and "smoke" in c.tiers:
            assert row.control_verdict not in ("pass", "not measured"), f"claim {c.id}: its control must fail"
    assert io.read_meta(out / "claims.parquet")["study"] == st.name


def test_figures_are_drawn(smoke):
    st, cfg, points, out, runs, _ = smoke
    for fig in st.figure_names("smoke"):
        png = out / "figures" / f"{fig}.png"
        assert png.stat().st_size > 5000 and png.with_suffix(".pdf").exists()
        assert st.figure(fig).caption


def test_study_declares_its_paper(smoke):
    st = smoke[0]
    assert st.PAPER.arxiv and st.PAPER.year > 1990 and st.PAPER.title
    assert st.module.__doc__ and st.PAPER.arxiv in st.module.__doc__


def test_training_killed_mid_way_resumes_to_the_same_run_table(smoke):
    st, cfg, points, out, runs, boundaries = smoke
    trained = [p for p in points if boundaries[p] >= 2]
    if not trained:
        pytest.skip(f"{st.name} trains nothing step by step (no checkpoint boundary to resume from)")
    for i, point in enumerate(trained):
        how = "sigterm" if i == 0 else "crash"
        target = out / "resumed" / "runs" / f"{point}.parquet"
        kill = mock.patch.object(
            checkpoint.Checkpointer, "due", counting_due([0], kill_at=boundaries[point] // 2, how=how)
        )
        with kill, pytest.raises(checkpoint.Preempted if how == "sigterm" else Killed):
            pipeline.train(st.name, "smoke", point, out / "data.npz", target, device="cpu", threads=1)
        assert not target.exists() and any((out / "resumed" / "checkpoints" / point).iterdir())
        pipeline.train(st.name, "smoke", point, out / "data.npz", target, device="cpu", threads=1)
        clean = io.read_table(out / "runs" / f"{point}.parquet", io.RUN_COLUMNS)
        pd.testing.assert_frame_equal(io.read_table(target, io.RUN_COLUMNS), clean, check_exact=True)
        assert not (out / "resumed" / "checkpoints" / point).exists()


def test_deviations_from_the_paper_are_explained(smoke):
    st, cfg, *_ = smoke
    devs = study.deviations(st, cfg, "smoke")
    assert all(d.why and d.why != "user override" for d in devs)
    assert {d.field for d in devs} <= set(st.WHY)
