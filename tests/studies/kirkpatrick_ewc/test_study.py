import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import config, study
from reprosuite.studies import kirkpatrick_ewc as ke

CFG = dataclasses.replace(config.resolve("kirkpatrick_ewc", "smoke"), hidden=(32,), epochs=2)


def test_data_has_one_permutation_per_task_starting_with_identity():
    data = ke.make_data(CFG)
    assert data["x"].shape[1] == 64 and data["perms"].shape == (CFG.n_tasks, 64)
    assert data["perms"][0].tolist() == list(range(64))
    assert all(sorted(p) == list(range(64)) for p in data["perms"])
    assert set(ke.grid(config.resolve("kirkpatrick_ewc", "full"))) == {"permuted"}


def test_training_chains_tasks_and_logs_every_task_after_every_epoch():
    torch = pytest.importorskip("torch")
    data = ke.make_data(CFG)
    runs = ke.train(CFG, ke.grid(CFG)["permuted"], data, [0, 1], torch.device("cpu"))
    assert runs.groupby(["variant", "seed", "step", "split", "metric"]).size().max() == 1
    acc = ke.task_curves(runs)
    per_task = acc["step"].max() // CFG.n_tasks
    # epoch boundaries over the whole sequence, plus step 0
    assert acc["step"].nunique() == CFG.n_tasks * CFG.epochs + 1
    assert set(acc["task"]) == set(range(CFG.n_tasks)) and set(acc["variant"]) == set(ke.methods(CFG))
    # at step 0 every method of one seed is the same network (shared initialisation)
    start = acc[acc["step"] == 0].groupby(["seed", "task"])["accuracy"].nunique()
    assert (start == 1).all()
    # during task A no penalty is active: all methods train identically
    end_a = acc[(acc["step"] == per_task) & (acc["task"] == 0)].groupby("seed")["accuracy"]
    assert (end_a.max() - end_a.min()).max() < 1e-6
    # the strongest L2 anchor keeps task A at least as well as plain SGD
    final = acc[acc["step"] == acc["step"].max()].pivot_table(
        index="seed", columns=["variant", "task"], values="accuracy"
    )
    assert (final[("l2@1", 0)] >= final[("sgd", 0)] - 0.02).all()
    assert runs[runs["metric"] == "diverged_at"]["value"].isna().all()


def test_a_job_killed_in_the_second_task_resumes_to_the_identical_table(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    from reprosuite.engine.train import checkpoint, trainer

    class Killed(Exception):
        pass

    data = ke.make_data(CFG)
    point = ke.grid(CFG)["permuted"]
    reference = ke.train(CFG, point, data, [0, 1], "cpu")
    real_fit, calls = trainer.fit, []

    def killed_in_task_b(loss_fn, *args, **kwargs):
        calls.append(1)
        if len(calls) != 2:
            return real_fit(loss_fn, *args, **kwargs)

        def loss(step):
            if step == 30:
                raise Killed
            return loss_fn(step)

        return real_fit(loss, *args, **kwargs)

    monkeypatch.setattr(trainer, "fit", killed_in_task_b)
    with checkpoint.checkpointing(tmp_path, "fp", every_s=0.0), pytest.raises(Killed):
        ke.train(CFG, point, data, [0, 1], "cpu")
    assert (tmp_path / "fit1.pt").exists() and not (tmp_path / "fit2.pt").exists()
    monkeypatch.setattr(trainer, "fit", real_fit)
    capsys.readouterr()
    with checkpoint.checkpointing(tmp_path, "fp", every_s=0.0):
        resumed = ke.train(CFG, point, data, [0, 1], "cpu")
    assert "[ewc task 1] resumed from" in capsys.readouterr().err  # not retrained from the start of task B
    pd.testing.assert_frame_equal(resumed, reference, check_exact=True)


def test_tiers_deviate_from_the_paper_where_explained():
    st = study.get("kirkpatrick_ewc")
    full = {d.field: d.value for d in study.deviations(st, config.resolve(st, "full"), "full")}
    assert full == {}  # the full tier is the paper's protocol
    quick = {d.field for d in study.deviations(st, config.resolve(st, "quick"), "quick")}
    assert quick == {"dataset", "seeds", "hidden", "epochs"}
    assert ke.datasets(ke.Config()) == ("mnist",) and ke.datasets(ke.TIERS["full"]) == ("mnist",)
    assert ke.datasets(ke.TIERS["quick"]) == ()


def _synthetic_runs(cfg, accs):
    """accs[variant] = (acc_A after task A, final [A, B, C]); two seeds with an offset of 0.01."""
    rows = []
    total = cfg.n_tasks * 10
    for variant, (after_a, final) in accs.items():
        for seed in (0, 1):
            d = 0.01 * seed
            rows.append((variant, seed, 10, "task0", "accuracy", after_a + d))
            for k, v in enumerate(final):
                rows.append((variant, seed, total, f"task{k}", "accuracy", v + d))
            rows.append((variant, seed, total, "train", "diverged_at", np.nan))
    return pd.DataFrame(rows, columns=["variant", "seed", "step", "split", "metric", "value"])


def test_the_l2_strengths_span_frozen_to_free_and_the_penalties_consolidate_exactly():
    torch = pytest.importorskip("torch")
    from reprosuite.studies.kirkpatrick_ewc import ewc

    assert ke.methods(CFG) == ["sgd", "ewc", "l2@0.01", "l2@0.1", "l2@1"]
    assert [ke.strength(CFG, m) for m in ke.methods(CFG)] == [0.0, CFG.ewc_lambda, 0.01, 0.1, 1.0]
    gen = torch.Generator().manual_seed(0)
    shape = (2, 3, 4)
    anchors = [torch.randn(shape, generator=gen, dtype=torch.float64) for _ in range(3)]
    fishers = [torch.rand(shape, generator=gen, dtype=torch.float64) for _ in range(3)]
    fishers[1][0, 0, 0] = fishers[0][0, 0, 0] = fishers[2][0, 0, 0] = 0.0  # no importance anywhere
    merged = None
    for a, f in zip(anchors, fishers, strict=True):
        merged = ewc.consolidate(merged, [a], [f])
    theta = torch.randn(shape, generator=gen, dtype=torch.float64, requires_grad=True)
    strength = torch.tensor([1.0, 3.0], dtype=torch.float64)
    separate = sum(
        ewc.quadratic_penalty([theta], [a], [f], strength) for a, f in zip(anchors, fishers, strict=True)
    )
    (g_sep,) = torch.autograd.grad(separate.sum(), theta)
    (g_one,) = torch.autograd.grad(ewc.quadratic_penalty([theta], *merged, strength).sum(), theta)
    torch.testing.assert_close(g_one, g_sep)


L2_FREE, L2_FROZEN = (0.95, [0.60, 0.80, 0.90]), (0.95, [0.9, 0.2, 0.3])


def test_extract_and_measure_give_the_paired_claim_values():
    cfg = dataclasses.replace(CFG, n_tasks=3, l2_lambdas=(0.01, 1.0))
    accs = {"sgd": (0.95, [0.40, 0.5, 0.96]), "ewc": (0.95, [0.85, 0.7, 0.90])}
    runs = _synthetic_runs(cfg, accs | {"l2@0.01": L2_FREE, "l2@1": L2_FROZEN})
    runs.insert(0, "point", "permuted")
    metrics = ke.extract(runs, cfg)
    assert list(metrics.columns) == ["point", "seed", "method", "task", "metric", "value"]
    final = metrics[metrics["metric"] == "final_accuracy"].set_index(["method", "task", "seed"])["value"]
    assert final["l2@1", 2, 1] == pytest.approx(0.31) and len(final) == 4 * 3 * 2
    values = ke.measure(metrics, cfg)
    assert ke.best_l2(metrics) == "l2@0.01"  # task averages: .767 against .467
    assert values["ewc_keeps_old_task"] == pytest.approx([0.45, 0.45])
    assert values["ewc_keeps_old_task/control"] == pytest.approx([0.0, 0.0])
    assert values["ewc_learns_new_task"] == pytest.approx([0.05, 0.05])  # (.85+.7+.9)/3 − (.6+.8+.9)/3
    assert values["ewc_learns_new_task/control"] == pytest.approx([-0.44 / 3] * 2)  # .62 − .767
    assert values["sgd_forgets"] == pytest.approx([0.55, 0.55])
    assert values["sgd_forgets/control"] == pytest.approx([0.05, 0.05])  # the λ = 1 anchor
    from reprosuite import claims

    verdicts = {c.id: claims.verdict(c.rule, values[c.id]) for c in ke.CLAIMS}
    assert verdicts == {"ewc_keeps_old_task": "pass", "ewc_learns_new_task": "pass", "sgd_forgets": "pass"}
    controls = {c.id: claims.verdict(c.rule, values[c.id + claims.CONTROL]) for c in ke.CLAIMS}
    assert set(controls.values()) == {"fail"}
    # an L2 strength that keeps both tasks better than EWC fails the claim
    good_l2 = _synthetic_runs(cfg, accs | {"l2@0.01": (0.95, [0.9, 0.8, 0.9]), "l2@1": L2_FROZEN})
    good_l2.insert(0, "point", "permuted")
    v = ke.measure(ke.extract(good_l2, cfg), cfg)
    assert claims.verdict(ke.CLAIMS[1].rule, v["ewc_learns_new_task"]) == "fail"
    # an SGD that does not forget fails the forgetting claim
    calm = _synthetic_runs(
        cfg,
        {
            "sgd": (0.95, [0.94, 0.5, 0.96]),
            "ewc": (0.95, [0.85, 0.7, 0.9]),
            "l2@0.01": L2_FREE,
            "l2@1": L2_FROZEN,
        },
    )
    calm.insert(0, "point", "permuted")
    v = ke.measure(ke.extract(calm, cfg), cfg)
    assert claims.verdict(ke.CLAIMS[2].rule, v["sgd_forgets"]) == "fail"
    assert claims.verdict(ke.CLAIMS[0].rule, v["ewc_keeps_old_task"]) == "fail"


def test_members_trained_in_turn_give_each_member_its_result_and_resume(tmp_path, monkeypatch):
    """Where one member's step is large on a CPU (the full tier), the members are trained one after another: the
    same rows, each member's values as in the ensemble up to float rounding, and a killed job resumes exactly."""
    pytest.importorskip("torch")
    from reprosuite.engine.models import layers
    from reprosuite.engine.train import checkpoint

    data = ke.make_data(CFG)
    point = ke.grid(CFG)["permuted"]
    together = ke.train(CFG, point, data, [0, 1], "cpu")
    monkeypatch.setattr(layers, "TURN_BYTES", 0)  # every member in turn
    in_turn = ke.train(CFG, point, data, [0, 1], "cpu")
    keys = ["variant", "seed", "step", "split", "metric"]
    a, b = (f.sort_values(keys).reset_index(drop=True) for f in (together, in_turn))
    pd.testing.assert_frame_equal(b[keys], a[keys])
    np.testing.assert_allclose(b["value"], a["value"], rtol=1e-5, atol=1e-6)
    with checkpoint.checkpointing(tmp_path, "fp", every_s=0.0):
        first = ke.train(CFG, point, data, [0, 1], "cpu")
    n_fits = len(ke.methods(CFG)) * 2 * CFG.n_tasks
    assert (tmp_path / f"fit{n_fits - 1}.pt").exists()
    (tmp_path / f"fit{n_fits - 1}.pt").unlink()  # the last member's last task: lost, retrained on resume
    with checkpoint.checkpointing(tmp_path, "fp", every_s=0.0):
        resumed = ke.train(CFG, point, data, [0, 1], "cpu")
    pd.testing.assert_frame_equal(resumed, first, check_exact=True)
