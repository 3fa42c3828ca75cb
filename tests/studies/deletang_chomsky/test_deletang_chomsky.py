"""Delétang et al. 2023: generators against brute force, hand-wired stack/tape machines (DC0), encoding, metrics
and the gate of DC4."""

import numpy as np
import pandas as pd
import pytest
import torch

from reprosuite import claims, study
from reprosuite.engine.models.recurrent import stack_update, tape_update
from reprosuite.studies import deletang_chomsky as dc
from reprosuite.studies.deletang_chomsky import tasks

ST = study.get("deletang_chomsky")
OPS = {tasks.PLUS: "+", tasks.MINUS: "-", tasks.TIMES: "*"}


@pytest.mark.parametrize("length", [1, 2, 5, 12])
def test_generators_match_brute_force(length):
    rng = np.random.default_rng(length)
    for task in ("parity", "reverse", "duplicate", "odds_first"):
        x, y = tasks.sample(task, rng, 50, length)
        assert x.shape == (50, length) and y.shape == (50, tasks.out_len(task, length))
        for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
            expect = {
                "parity": [sum(xi) % 2],
                "reverse": xi[::-1],
                "duplicate": xi + xi,
                "odds_first": [xi[i] for i in range(1, length, 2)] + [xi[i] for i in range(0, length, 2)],
            }[task]
            assert yi == expect


@pytest.mark.parametrize("length", [1, 2, 3, 8, 15])
def test_modular_arithmetic_matches_eval(length):
    x, y = tasks.sample("modular", np.random.default_rng(length), 200, length)
    assert x.shape[1] == (length if length % 2 else length - 1)
    for xi, yi in zip(x.tolist(), y[:, 0].tolist(), strict=True):
        expr = "".join(OPS[t] if i % 2 else str(t) for i, t in enumerate(xi))
        assert yi == eval(expr) % 5, expr


def test_encoding_appends_one_empty_token_per_output():
    x = np.array([[0, 1, 1]])
    assert tasks.encode("reverse", x).tolist() == [[0, 1, 1, 2, 2, 2]]
    assert tasks.encode("parity", x).tolist() == [[0, 1, 1, 2]]
    assert tasks.encode("duplicate", x).shape == (1, 9)
    with pytest.raises(ValueError, match="unknown task"):
        tasks.sample("sorting", np.random.default_rng(0), 2, 3)


@pytest.mark.parametrize("n", [1, 7, 40, 200])
def test_hand_wired_stack_reverses_any_length(n):
    """Push every input symbol, pop one per output position: the output read off the top is the reverse."""
    x = np.random.default_rng(n).integers(0, 2, (3, n))
    stack = torch.zeros(3, n, 2)
    push, pop = torch.tensor([1.0, 0, 0]).expand(3, 3), torch.tensor([0, 1.0, 0]).expand(3, 3)
    for t in range(n):
        stack = stack_update(stack, push, torch.nn.functional.one_hot(torch.as_tensor(x[:, t]), 2).float())
    out = []
    for _ in range(n):
        out.append(stack[:, 0].argmax(-1))
        stack = stack_update(stack, pop, torch.zeros(3, 2))
    assert torch.stack(out, 1).tolist() == tasks.targets("reverse", x).tolist()


@pytest.mark.parametrize("n", [1, 7, 40, 200])
def test_hand_wired_tape_duplicates_and_reverses_any_length(n):
    """Write the input moving right; on a circular tape of n cells, reading on to the right twice duplicates it.
    On a tape of 2n cells, reading back to the left reverses it."""
    x = np.random.default_rng(n).integers(0, 2, (3, n))
    onehot = torch.nn.functional.one_hot(torch.as_tensor(x), 2).float()
    stay, left, right = (torch.eye(5)[k].expand(3, 5) for k in range(3))
    for cells, task in ((n, "duplicate"), (2 * n, "reverse")):
        tape = torch.zeros(3, cells, 2)
        for t in range(n):
            tape = tape_update(tape, right, onehot[:, t], jump=n)
        out = []
        if task == "reverse":
            for _ in range(n):
                tape = tape_update(tape, left, tape[:, 0], jump=n)
                out.append(tape[:, 0].argmax(-1))
        else:
            for _ in range(2 * n):
                out.append(tape[:, 0].argmax(-1))
                tape = tape_update(tape, right, tape[:, 0], jump=n)
        assert torch.stack(out, 1).tolist() == tasks.targets(task, x).tolist()
    assert torch.equal(tape_update(tape, stay, tape[:, 0], jump=n), tape)


def _runs(point, accs, l_train=3):
    rows = [
        (point, s, 10, "eval", f"acc@{L}", a) for s, per_len in enumerate(accs) for L, a in per_len.items()
    ]
    rows += [(point, s, 10, "train", "loss", 0.1) for s in range(len(accs))]
    return pd.DataFrame(rows, columns=["point", "seed", "step", "split", "metric", "value"])


def test_extract_and_the_fit_gate():
    cfg = ST.TIERS["smoke"]
    fit = {L: 1.0 for L in range(1, cfg.l_train + 1)}
    runs = pd.concat(
        [
            _runs("parity_transformer", [{**fit, 6: 0.5, 8: 0.6}, {**fit, 6: 0.5, 8: 0.5}]),
            _runs("parity_lstm", [{**fit, 6: 1.0, 8: 0.9}, {**fit, 1: 0.2, 6: 1.0, 8: 1.0}]),
        ]
    )
    m = ST.extract(runs, cfg)
    ood = claims.per_seed(m, "ood", "parity_transformer")
    assert ood.tolist() == pytest.approx([0.55, 0.5])
    assert claims.per_seed(m, "in_dist", "parity_lstm").tolist() == pytest.approx([1.0, 1 - 0.8 / 5])
    out = ST.measure(m, cfg)
    assert out["DC4"].tolist() == pytest.approx([0.55, 0.5])  # every seed fits: the OOD score is judged
    assert out["DC4/control"].isna().all()  # one LSTM seed does not fit: not applicable
    assert out["DC1/control"].tolist() == pytest.approx([0.55, 0.5])


def test_grid_refuses_bad_points():
    cfg = ST.TIERS["smoke"]
    with pytest.raises(ValueError, match="grid point"):
        ST.grid(dc.replace(cfg, runs=("parity_gru",)))
    with pytest.raises(ValueError, match="test lengths"):
        ST.grid(dc.replace(cfg, test_start=cfg.l_train))


def test_tiers_and_claims():
    assert set(ST.grid(ST.TIERS["full"])) == {f"{t}_{a}" for t in dc.TASKS for a in dc.ARCHS}
    by_id = {c.id: c for c in dc.CLAIMS}
    assert by_id["DC1"].rule.lo == 0.90 and by_id["DC1_full"].rule.lo == 0.95
    assert by_id["DC3"].tiers == ("full",) and by_id["DC4"].tiers == ("full",)
    assert all(c.control for c in dc.CLAIMS)
