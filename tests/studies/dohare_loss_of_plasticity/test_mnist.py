import dataclasses

import numpy as np
import pandas as pd
import pytest

from reprosuite import claims, config
from reprosuite.studies import dohare_loss_of_plasticity as lop
from reprosuite.studies.dohare_loss_of_plasticity import mnist

FULL = config.resolve("dohare_loss_of_plasticity", "full")
# the full tier's MNIST code path at toy scale: 300 real images per task, a 2 × 32 net, 4 tasks
CFG = dataclasses.replace(
    FULL,
    seeds=2,
    mnist_tasks=4,
    mnist_examples=300,
    mnist_hidden=32,
    mnist_layers=2,
    mnist_lr=0.01,
    mnist_chunk=100,
    mnist_fit_tasks=0,
    mnist_window=2,
    mnist_probe=100,
    mnist_rank_every=2,
    mnist_replacement_rate=0.01,
    mnist_maturity=20,
)


@pytest.fixture(scope="module")
def data():
    from reprosuite.engine.data import official

    try:
        return lop.make_data(CFG)
    except official.DatasetMissing as err:
        pytest.skip(f"official MNIST files absent: {err}")


def test_full_tier_adds_the_mnist_points_and_the_other_tiers_do_not():
    points = lop.grid(FULL)
    assert set(points) == {"stream", "mnist_backprop", "mnist_l2", "mnist_cbp", "mnist_same"}
    assert points["mnist_same"] == {"kind": "mnist", "method": "same"}
    assert lop.datasets(FULL) == ("mnist",)
    for tier in ("quick", "smoke"):
        cfg = config.resolve("dohare_loss_of_plasticity", tier)
        assert set(lop.grid(cfg)) == {"stream"} and lop.datasets(cfg) == ()
    with pytest.raises(ValueError, match="overlap"):
        lop.grid(dataclasses.replace(CFG, mnist_window=3))
    with pytest.raises(ValueError, match="multiple of mnist_chunk"):
        lop.grid(dataclasses.replace(CFG, mnist_chunk=70))
    assert (
        lop.resources(FULL, points["mnist_cbp"])["mem_mb"] >= 4000
        and lop.resources(FULL, points["stream"]) == {}
    )


def test_task_orders_are_seeded_permutations_and_the_control_keeps_task_zeros_pixels():
    p0, o0 = mnist.task_order(3, 0, 50)
    p1, o1 = mnist.task_order(3, 1, 50)
    assert sorted(p0) == list(range(784)) and sorted(o0) == list(range(50))
    assert (p0 != p1).any() and (o0 != o1).any()
    np.testing.assert_array_equal(mnist.task_order(3, 1, 50)[0], p1)
    s0, t0 = mnist.task_order(3, 0, 50, same=True)
    s1, t1 = mnist.task_order(3, 1, 50, same=True)
    np.testing.assert_array_equal(s0, p0)
    np.testing.assert_array_equal(s1, p0)  # the same pixels every task …
    np.testing.assert_array_equal(t1, o1)  # … in a fresh example order
    np.testing.assert_array_equal(t0, o0)


def test_online_step_matches_torch_autograd_cross_entropy_with_weight_decay():
    torch = pytest.importorskip("torch")
    net = mnist.OnlineMLP(6, 2, [0, 1, 2], lr=0.05, weight_decay=0.01, dtype=torch.float64, n_in=5)
    ref = [p.clone().requires_grad_(True) for p in (*net.W, *net.b)]
    opt = torch.optim.SGD(ref, lr=0.05, weight_decay=0.01)
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        x = torch.rand(3, 5, generator=gen, dtype=torch.float64)
        y = torch.randint(0, 10, (3,), generator=gen)
        ws, bs = ref[:3], ref[3:]
        a = x
        for i in range(3):
            a = torch.einsum("soi,si->so", ws[i], a) + bs[i]
            a = torch.relu(a) if i < 2 else a
        loss = torch.nn.functional.cross_entropy(a, y, reduction="sum")  # members are independent
        opt.zero_grad()
        loss.backward()
        opt.step()
        correct = net.step(x, y)
        assert correct.tolist() == (a.argmax(1) == y).tolist()
    for ours, theirs in zip((*net.W, *net.b), ref, strict=True):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_continual_backprop_accumulates_replacements_and_picks_the_lowest_utility():
    torch = pytest.importorskip("torch")
    net = mnist.OnlineMLP(8, 2, [0, 1], lr=0.01, replacement_rate=0.05, maturity=3, n_in=5)
    gens = [torch.Generator().manual_seed(k) for k in (0, 1)]
    for _ in range(9):
        net.step(torch.rand(2, 5), torch.tensor([1, 2]), gens)
    # 8 mature units from step 4 add 0.4 a step: one unit at step 6 (1.2); then 7 mature: 0.2 + 3 × 0.35 at step 9
    assert net.replaced.tolist() == [[2, 2], [2, 2]]
    assert sorted(net.ages[0][0].tolist()) == [0, 3] + [9] * 6
    new, new_next = net.ages[0] == 0, net.ages[1] == 0
    # outgoing weights zeroed, except into a unit of the next layer re-initialised at the same step (as GnT)
    outgoing = net.W[1].transpose(1, 2)[new]  # (members' new units, next-layer units)
    assert (outgoing[~new_next] == 0).all() and (outgoing[new_next] != 0).all()
    assert (net.b[0][new] == 0).all()
    net.step(torch.rand(2, 5), torch.tensor([1, 2]), gens)  # step 10: 7 mature units, 0.25 + 0.35
    assert net.replaced.tolist() == [[2, 2], [2, 2]]
    # the choice: the lowest bias-corrected utility among mature units
    net.ages[1][:] = 50
    net.util[1][:] = 1.0
    net.util[1][1, 5] = 0.1
    net.util[1][1, 6] = 0.01
    net.ages[1][1, 6] = 2  # immature: never chosen
    w_in, w_out = net.W[1].clone(), net.W[2].clone()
    net.reinit(1, 1, 1, torch.Generator().manual_seed(0))
    changed = (net.W[1] != w_in).any(dim=2)
    assert changed.nonzero().tolist() == [[1, 5]]
    assert (net.W[2][1][:, 5] == 0).all() and (net.W[2][0] == w_out[0]).all() and net.ages[1][1, 5] == 0
    assert net.W[1][1, 5].abs().max() <= net.bounds[1]


def test_tiny_real_mnist_learns_and_the_control_gains_what_permutations_take(data):
    pytest.importorskip("torch")
    assert data["mnist_x"].shape == (300, 784) and data["mnist_x"].dtype == np.uint8
    runs = pd.concat(
        [lop.train(CFG, lop.grid(CFG)[f"mnist_{m}"], data, [0, 1], "cpu") for m in lop.MNIST_METHODS],
        ignore_index=True,
    )
    acc = runs[runs["metric"] == "accuracy"].pivot_table(index=["variant", "step"], values="value")["value"]
    same = acc["mnist_same"].to_numpy()
    # one permutation: the 300 images seen again each task, so online accuracy climbs well above chance
    assert same[-1] > same[0] + 0.1 and same[-1] > 0.7
    for m in ("backprop", "l2", "cbp"):
        assert (
            0.15 < acc[f"mnist_{m}"].to_numpy()[0] < 0.9
        )  # a first pass over 300 images: learning, far from done
    # backprop and the control read the same task 0: identical until the pixels change
    first = runs[(runs["metric"] == "accuracy") & (runs["step"] == 300)].pivot_table(
        index="seed", columns="variant", values="value"
    )
    np.testing.assert_array_equal(first["mnist_backprop"], first["mnist_same"])
    replaced = runs[runs["metric"] == "replaced_units"].groupby("variant")["value"].min()
    assert replaced["mnist_cbp"] > 0 and replaced["mnist_backprop"] == 0 and replaced["mnist_l2"] == 0
    probes = runs[runs["split"] == "mnist_probe"]
    assert sorted(probes[probes["metric"] == "dead_units"]["step"].unique()) == [0, 300, 600, 900]
    assert sorted(probes[probes["metric"] == "effective_rank"]["step"].unique()) == [600]
    ranks = probes[probes["metric"] == "effective_rank"]["value"]
    assert ((ranks > 1) & (ranks <= 2 * CFG.mnist_hidden)).all()
    values = lop.measure(lop.extract(runs, CFG), CFG)
    for c in [c for c in lop.CLAIMS if c.id in lop.MNIST_CLAIMS]:
        assert len(values[c.id]) == 2 and len(values[c.id + claims.CONTROL]) == 2
    change = values["mnist_backprop_loses_plasticity/control"]
    by_seed = runs[(runs["variant"] == "mnist_same") & (runs["metric"] == "accuracy")]
    by_seed = by_seed.pivot_table(index="seed", columns="step", values="value").to_numpy()
    np.testing.assert_allclose(change.to_numpy(), 100 * (by_seed[:, 2:].mean(1) - by_seed[:, :2].mean(1)))
    assert (change > 0).all()


def test_a_killed_mnist_run_resumes_to_the_identical_table(data, tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    from reprosuite.engine.train import checkpoint

    point = lop.grid(CFG)["mnist_cbp"]
    whole = lop.train(CFG, point, data, [0, 1], "cpu")
    with checkpoint.checkpointing(tmp_path / "a", "fp", every_s=1e9) as ck:
        ck.stop_signal = 15  # as if SIGTERM arrived: save at the next chunk boundary and stop
        with pytest.raises(checkpoint.Preempted):
            lop.train(CFG, point, data, [0, 1], "cpu")
    with checkpoint.checkpointing(tmp_path / "a", "fp", every_s=1e9):
        resumed = lop.train(CFG, point, data, [0, 1], "cpu")
    assert "at chunk 1" in capsys.readouterr().err
    pd.testing.assert_frame_equal(whole, resumed, check_exact=True)

    class Crashed(Exception):
        pass

    real = mnist.task_order

    def crash_in_task_two(seed, task, n, same=False):
        if task == 2:
            raise Crashed
        return real(seed, task, n, same)

    monkeypatch.setattr(mnist, "task_order", crash_in_task_two)
    with checkpoint.checkpointing(tmp_path / "b", "fp", every_s=0.0), pytest.raises(Crashed):
        lop.train(CFG, point, data, [0, 1], "cpu")
    monkeypatch.setattr(mnist, "task_order", real)
    capsys.readouterr()
    with checkpoint.checkpointing(tmp_path / "b", "fp", every_s=0.0):
        resumed = lop.train(CFG, point, data, [0, 1], "cpu")
    assert "at chunk 6" in capsys.readouterr().err  # 3 chunks a task: task 2 starts at chunk 6
    pd.testing.assert_frame_equal(whole, resumed, check_exact=True)


def _mnist_runs(changes: dict[str, float]) -> pd.DataFrame:
    """Accuracy 0.9 on the early tasks and 0.9 + change / 100 on the late ones, two seeds."""
    rows = []
    for method, change in changes.items():
        for seed in (0, 1):
            for task in range(1, CFG.mnist_tasks + 1):
                value = 0.9 + (change / 100 if task > CFG.mnist_tasks - CFG.mnist_window else 0.0)
                rows.append((f"mnist_{method}", seed, task * CFG.mnist_examples, "mnist", "accuracy", value))
    return pd.DataFrame(rows, columns=["variant", "seed", "step", "split", "metric", "value"])


def test_mnist_claims_pass_only_where_their_controls_fail():
    runs = _mnist_runs({"backprop": -1.2, "l2": -0.1, "cbp": 0.1, "same": 2.0})
    values = lop.measure(lop.extract(runs, CFG), CFG)
    assert list(values["mnist_backprop_loses_plasticity"]) == pytest.approx([-1.2, -1.2])
    assert list(values["mnist_l2_keeps_plasticity/control"]) == pytest.approx([-1.2, -1.2])
    mnist_claims = [c for c in lop.CLAIMS if c.id in lop.MNIST_CLAIMS]
    assert [c.tiers for c in mnist_claims] == [("full",)] * 3
    assert {claims.verdict(c.rule, values[c.id], c) for c in mnist_claims} == {"pass"}
    assert {claims.verdict(c.rule, values[c.id + claims.CONTROL], c) for c in mnist_claims} == {"fail"}
    flat = lop.measure(lop.extract(_mnist_runs({"backprop": -0.2, "l2": -0.6, "cbp": -1.0}), CFG), CFG)
    assert {claims.verdict(c.rule, flat[c.id], c) for c in mnist_claims} == {"fail"}
