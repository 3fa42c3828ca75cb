import pandas as pd
import pytest

from reprosuite import io


def test_parquet_roundtrip_with_provenance(tmp_path):
    df = pd.DataFrame({"metric": ["a", "b"], "value": [1.0, 2.0]})
    meta = io.provenance({"lr": 0.1}, device="cpu", wall_time_s=1.5)
    io.write_table(df, tmp_path / "t.parquet", meta)
    back = io.read_table(tmp_path / "t.parquet", ("metric", "value"))
    pd.testing.assert_frame_equal(back, df)
    got = io.read_meta(tmp_path / "t.parquet")
    assert got["config"] == {"lr": 0.1}
    assert got["device"] == "cpu"
    assert got["wall_time_s"] == 1.5
    assert got["torch_version"] and got["reprosuite_version"]
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]  # no temporary file left behind
    assert (tmp_path / "t.parquet").stat().st_mode & 0o044 == 0o044 & ~io._umask()  # readable as umask allows


def test_truncated_parquet_names_the_file(tmp_path):
    path = tmp_path / "runs.parquet"
    io.write_table(pd.DataFrame({"value": range(1000)}), path, {})
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(io.ResultError, match="cannot read result file .*runs.parquet"):
        io.read_table(path)


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "m.parquet"
    io.write_table(pd.DataFrame({"value": [1.0]}), path, {})
    with pytest.raises(io.ResultError, match=r"lacks columns \['metric'\]"):
        io.read_table(path, ("metric", "value"))


def test_atomic_path_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), io.atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]
