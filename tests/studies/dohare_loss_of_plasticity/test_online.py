import numpy as np
import pytest

from reprosuite.studies.dohare_loss_of_plasticity import online


def test_effective_rank_of_identity_is_n_and_of_rank_one_is_one():
    assert online.effective_rank(np.eye(7)) == pytest.approx(7.0)
    assert online.effective_rank(np.outer(np.arange(1, 6), np.ones(4))) == pytest.approx(1.0)
    assert online.effective_rank(np.zeros((5, 3))) == 0.0
    # two singular values 3 and 1: p = (.75, .25)
    expected = np.exp(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)))
    assert online.effective_rank(np.diag([3.0, 1.0])) == pytest.approx(expected)
    stacked = online.effective_rank(np.stack([np.eye(3), np.diag([1.0, 0, 0])]))
    assert stacked.tolist() == pytest.approx([3.0, 1.0])


def test_dead_units_counts_units_zero_on_every_example():
    acts = np.array([[[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]], [[1.0, 1.0, 1.0], [0.0, 2.0, 0.0]]])
    assert online.dead_units(acts).tolist() == [2, 0]


def test_bit_flip_stream_flips_one_bit_per_period_and_is_chunk_deterministic():
    st = online.BitFlipStream(3, steps=50, m=6, f=4, flip_after=10, n_target_features=8, beta=0.7)
    x, y = st.chunk(0, 50, 0)
    flipping = x[:, :4].reshape(5, 10, 4)
    assert (flipping == flipping[:, :1]).all(), "constant within a period"
    changes = np.abs(np.diff(flipping[:, 0], axis=0)).sum(axis=1)
    assert changes.tolist() == [1, 1, 1, 1]
    assert set(np.unique(x)) <= {0.0, 1.0}
    x2, y2 = online.BitFlipStream(3, 50, 6, 4, 10, 8, 0.7).chunk(0, 50, 0)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    # redrawing all bits (flip_one=False) changes several bits at some boundary
    many = online.BitFlipStream(3, 200, 20, 15, 10, 8, 0.7, flip_one=False).chunk(0, 200, 0)[0][:, :15]
    assert np.abs(np.diff(many[::10], axis=0)).sum(axis=1).max() > 1


def test_ltu_target_matches_the_official_threshold_rule():
    t = online.LTUTarget(
        w1=np.array([[1.0, -1.0, 1.0]]), b1=np.array([-1.0]), w2=np.array([1.0]), b2=1.0, tau=np.array([0.0])
    )
    m, beta = 3, 0.7
    s = (m - t.w1.sum(axis=1) + t.b1) / 2  # = (3 − 1 − 1)/2 = 0.5
    target = online.LTUTarget(t.w1, t.b1, t.w2, t.b2, beta * (m + 1) - s)  # τ = 2.3
    x = np.array([[1.0, 0, 1], [1, 1, 1], [0, 0, 0]])  # pre-activations 1, 0, −1
    assert target(x).tolist() == [1.0, 1.0, 1.0]  # all below τ: output = bias
    hot = online.LTUTarget(t.w1, t.b1, t.w2, t.b2, np.array([0.5]))
    assert hot(x).tolist() == [2.0, 1.0, 1.0]
    rng = np.random.default_rng(0)
    made = online.ltu_target(5, 4, beta, rng)
    np.testing.assert_allclose(made.tau, beta * 6 - (5 - made.w1.sum(1) + made.b1) / 2)


def _net(rates, wd=(0.0, 0.0, 0.0)):
    return online.OnlineRegressor(
        6, 4, [0, 1, 2], lr=[0.05] * 3, weight_decay=list(wd), replacement_rate=list(rates), maturity=5
    )


def test_online_sgd_step_matches_torch_autograd_with_weight_decay():
    torch = pytest.importorskip("torch")
    net = _net([0, 0, 0], wd=(0.0, 0.01, 0.1))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(3, 3, 6)).astype(float)
    y = rng.normal(size=(3, 3))
    ref = [torch.tensor(getattr(net, k), requires_grad=True) for k in ("w1", "b1", "w2", "b2")]
    opts = [
        torch.optim.SGD([p for p in ref], lr=0.05, weight_decay=0.0)
    ]  # weight decay per member applied by hand below (torch SGD couples it to the gradient the same way)
    errors = net.train(x, y, online.cbp_generators([0, 1, 2], [0, 0, 0], 0))
    wd = torch.tensor([0.0, 0.01, 0.1], dtype=torch.float64)
    for t in range(3):
        w1, b1, w2, b2 = ref
        h = torch.relu(torch.einsum("shm,sm->sh", w1, torch.tensor(x[t])) + b1)
        pred = (h * w2).sum(1) + b2
        err = (pred - torch.tensor(y[t])) ** 2
        assert err.detach().numpy() == pytest.approx(errors[t])
        opts[0].zero_grad()
        err.sum().backward()
        with torch.no_grad():
            for p in ref:
                p.grad += wd.view(-1, *[1] * (p.dim() - 1)) * p
        opts[0].step()
    for name, p in zip(("w1", "b1", "w2", "b2"), ref, strict=True):
        np.testing.assert_allclose(getattr(net, name), p.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_reinit_touches_exactly_the_chosen_units():
    net = _net([0.1, 0.1, 0.1])
    net.ages[:] = 50
    net.util[:] = 1.0
    net.mean_act[:] = 0.3
    before = net.state()
    net.reinit(1, np.array([0, 2]), np.random.default_rng(5))
    after = net.state()
    for k in ("w1", "b1", "w2", "util", "mean_act", "ages"):
        untouched = np.ones(after[k].shape[:2], dtype=bool)
        untouched[1, [0, 2]] = False
        np.testing.assert_array_equal(after[k][untouched], before[k][untouched], err_msg=k)
    assert (after["w1"][1, [0, 2]] != before["w1"][1, [0, 2]]).all()
    assert np.abs(after["w1"][1, [0, 2]]).max() <= net.bound_in
    for k in ("b1", "w2", "util", "mean_act", "ages"):
        assert (after[k][1, [0, 2]] == 0).all(), k
    np.testing.assert_array_equal(after["b2"], before["b2"])
    assert after["replaced"].tolist() == [0, 2, 0]


def test_lazy_utilities_equal_the_per_step_official_update():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, size=(3000, 3, 6)).astype(float)
    y = rng.normal(size=(3000, 3))
    nets = []
    for lazy in (True, False):
        net = _net([0.0, 1e-2, 0.3])
        errors = net.train(x, y, online.cbp_generators([0, 1, 2], [0, 1, 2], 0), lazy=lazy)
        nets.append((net, errors))
    (a, ea), (b, eb) = nets
    assert a.replaced.tolist() == b.replaced.tolist() and a.replaced[0] == 0 and a.replaced[2] > 50
    np.testing.assert_allclose(ea, eb, rtol=1e-9, atol=1e-12)
    for k in ("w1", "util", "mean_act", "ages"):
        np.testing.assert_allclose(getattr(a, k), getattr(b, k), rtol=1e-9, atol=1e-12, err_msg=k)


def test_replacement_picks_the_lowest_bias_corrected_utility_among_mature_units():
    net = _net([0.0, 0.0, 0.0])
    net.rate[:] = [0.0, 0.4, 0.0]  # 3 eligible units × 0.4 = 1.2 → one unit, whatever the draw
    net.ages[:] = [6, 6, 6, 2]  # unit 3 immature
    net.util[1] = [0.5, 0.2, 0.9, 0.0]
    w1 = net.w1.copy()
    net._replace(np.array([1.0, 1.0, 1.0]), online.cbp_generators([0, 1, 2], [0, 1, 2], 0))
    changed = (net.w1 != w1).any(axis=2)
    assert changed.tolist() == [[False] * 4, [False, True, False, False], [False] * 4]
