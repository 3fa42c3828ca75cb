"""Every discovered study runs its whole pipeline at the smoke tier and produces well-formed results."""

import pandas as pd
import pytest

from reprosuite import claims, config, io, pipeline, study

STUDIES = list(study.names())


@pytest.fixture(scope="module", params=STUDIES)
def smoke(request, tmp_path_factory):
    name = request.param
    out = tmp_path_factory.mktemp(name)
    st = study.get(name)
    cfg = config.resolve(st, "smoke")
    points = config.check_grid(st, cfg)
    pipeline.prepare(name, "smoke", out / "data.npz")
    runs = []
    for point in points:
        runs.append(out / "runs" / f"{point}.parquet")
        pipeline.train(name, "smoke", point, out / "data.npz", runs[-1], device="cpu", threads=1)
    pipeline.extract(name, "smoke", runs, out / "metrics.parquet")
    pipeline.check_claims(name, "smoke", out / "metrics.parquet", out / "claims.parquet")
    for fig in st.figure_names("smoke"):
        pipeline.figure(name, "smoke", fig, runs, out / "metrics.parquet", out / "figures" / f"{fig}.png")
    return st, cfg, points, out, runs


def test_run_tables_are_tidy_with_provenance(smoke):
    st, cfg, points, out, runs = smoke
    for path in runs:
        df = io.read_table(path, io.RUN_COLUMNS)
        assert set(df.study) == {st.name}
        assert df.seed.nunique() >= 1 and set(df.seed) <= set(range(cfg.seeds))
        assert pd.api.types.is_numeric_dtype(df.value) and pd.api.types.is_integer_dtype(df.step)
        assert df.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1, (
            "one row per observation"
        )
        meta = io.read_meta(path)
        assert meta["config"]["seeds"] == cfg.seeds and meta["torch_version"] and meta["device"] == "cpu"
        assert meta["wall_time_s"] >= 0 and meta["point"] == points[path.stem]


def test_metrics_and_claims_are_computed(smoke):
    st, cfg, points, out, runs = smoke
    metrics = io.read_table(out / "metrics.parquet", io.METRIC_COLUMNS)
    assert not metrics.empty and set(metrics.point) <= set(points)
    table = io.read_table(out / "claims.parquet", pipeline.CLAIM_COLUMNS)
    assert list(table.claim) == [c.id for c in st.CLAIMS]
    assert set(table.verdict) <= set(claims.VERDICTS)
    for c, (_, row) in zip(st.CLAIMS, table.iterrows(), strict=True):
        if "smoke" in c.tiers:
            assert row.n_seeds >= 1, f"claim {c.id} applies at smoke but was not measured"
    assert io.read_meta(out / "claims.parquet")["study"] == st.name


def test_figures_are_drawn(smoke):
    st, cfg, points, out, runs = smoke
    for fig in st.figure_names("smoke"):
        png = out / "figures" / f"{fig}.png"
        assert png.stat().st_size > 5000 and png.with_suffix(".pdf").exists()
        assert st.figure(fig).caption


def test_study_declares_its_paper(smoke):
    st = smoke[0]
    assert st.PAPER.arxiv and st.PAPER.year > 1990 and st.PAPER.title
    assert st.module.__doc__ and st.PAPER.arxiv in st.module.__doc__
