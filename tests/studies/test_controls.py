"""A real study whose negative control is given the paper's mechanism back reports its claims as "not
discriminating", never as pass: cabannes_assoc_memory's controls store the same tokens in a memory
``control_shrink`` times smaller, where they interfere; with ``control_shrink = 1`` the control is the claim's
own configuration on another random stream, and passes with it."""

from reprosuite import config, io, pipeline, study

NAME = "cabannes_assoc_memory"


def run_claims(tmp_path, overrides):
    st = study.get(NAME)
    cfg = config.resolve(st, "quick", overrides)
    runs = []
    pipeline.prepare(NAME, "quick", tmp_path / "data.npz", overrides)
    for point in config.check_grid(st, cfg):
        runs.append(tmp_path / "runs" / f"{point}.parquet")
        pipeline.train(NAME, "quick", point, tmp_path / "data.npz", runs[-1], overrides, device="cpu")
    pipeline.extract(NAME, "quick", runs, tmp_path / "metrics.parquet", overrides)
    pipeline.check_claims(NAME, "quick", tmp_path / "metrics.parquet", tmp_path / "claims.parquet", overrides)
    return io.read_table(tmp_path / "claims.parquet").set_index("claim")


def test_a_claim_whose_control_passes_too_is_not_discriminating(tmp_path):
    table = run_claims(tmp_path, {"control_shrink": 1})
    assert set(table.control_verdict) == {"pass"}
    assert set(table.verdict) == {"not discriminating"}
    assert table.note.str.contains("the negative control passes too").all()
