"""The study template follows the interface and runs end to end, so copying it is a working start."""

import importlib

import torch

from reprosuite import config, study


def test_the_template_is_a_working_study(monkeypatch):
    module = importlib.import_module("reprosuite.studies._template")
    st = study._check("_template", module)
    monkeypatch.setattr(study, "get", lambda name: st)
    cfg = config.resolve("_template", "smoke")
    assert [d.field for d in study.deviations(st, cfg, "smoke")] == ["seeds", "steps"]
    points = config.check_grid(st, cfg)
    data = st.make_data(cfg)
    runs = st.train(cfg, points["gd"], data, [0, 1], torch.device("cpu"))
    runs.insert(0, "point", "gd")
    assert set(runs["lr"]) == {cfg.lr}
    metrics = st.extract(runs, cfg)
    t = st.measure(metrics, cfg)["loss_falls"]
    assert list(t.index) == [0, 1] and (t > 0).all() and (t <= cfg.steps).all()
    assert "_template" not in study.names()
