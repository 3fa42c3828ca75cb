import pandas as pd
import pytest
import torch

from reprosuite.engine.train import trainer


def history():
    h = trainer.History(3)
    h.log(0, "train", "loss", torch.tensor([1.0, 2.0, 3.0]))
    h.log(5, "train", "loss", torch.tensor([0.5, 1.0, 1.5]))
    h.diverged_at[2] = 4.0
    return h


def test_frame_is_tidy_with_typed_member_columns():
    df = history().frame([0, 1, 0], members={"wd": [0.0, 0.0, 1.0], "depth": [2, 2, 4]})
    loss = df[df.metric == "loss"]
    assert list(loss.columns) == ["variant", "wd", "depth", "seed", "step", "split", "metric", "value"]
    assert pd.api.types.is_float_dtype(loss.wd) and pd.api.types.is_integer_dtype(loss.depth)
    assert loss[(loss.step == 5) & (loss.wd == 1.0)].value.tolist() == [1.5]
    assert df[df.metric == "diverged_at"].set_index("depth").value.dropna().to_dict() == {4: 4.0}


def test_frame_needs_one_value_per_member():
    with pytest.raises(ValueError, match=r"member columns \['wd'\] need one value per member \(3\)"):
        history().frame([0, 1, 2], members={"wd": [0.0, 1.0]})


def test_merge_puts_each_group_at_its_members_and_fills_what_a_stopped_group_did_not_log():
    import math

    a, b = trainer.History(2), trainer.History(1)
    for step in (0, 10, 20):
        a.log(step, "train", "loss", torch.tensor([1.0, 2.0]) * (step + 1))
    b.log(0, "train", "loss", torch.tensor([5.0]))  # this group diverged and stopped after step 0
    b.diverged_at[0] = 3.0
    merged = trainer.merge([(a, [0, 2]), (b, [1])], 3, end=10)
    steps, values = merged.records["train", "loss"]
    assert steps == [0, 10]
    assert values[0].tolist() == [1.0, 5.0, 2.0]
    assert values[1][[0, 2]].tolist() == [11.0, 22.0] and math.isnan(values[1][1])
    assert math.isnan(merged.diverged_at[0]) and merged.diverged_at[1] == 3.0


def test_history_keeps_every_logged_value_through_buffer_growth_and_records_changed_from_outside():
    h = trainer.History(2)
    for step in range(40):  # past the first buffer's 16 rows, and its doubling
        h.log(step, "train", "loss", torch.tensor([step, -step], dtype=torch.float32) / 3)
    steps, values = h.records["train", "loss"]
    assert steps == list(range(40))
    expected = torch.stack([torch.tensor([s, -s], dtype=torch.float32) / 3 for s in range(40)]).double()
    assert torch.equal(torch.stack(values), expected)  # the float32 values cast to float64, bit for bit
    steps.append(40)  # a study extending the records itself (critical_periods_dln's completion)
    values.append(torch.tensor([7.0, 8.0], dtype=torch.float64))
    h.log(41, "train", "loss", torch.tensor([1.0, 2.0]))
    assert torch.equal(
        torch.stack(values[-3:]), torch.cat([expected[-1:], torch.tensor([[7.0, 8.0], [1.0, 2.0]])])
    )
    restored = trainer.History(2)
    restored.load_state_dict(h.state_dict())
    restored.log(42, "train", "loss", torch.tensor([3.0, 4.0]))
    assert torch.equal(torch.stack(restored.records["train", "loss"][1][:-1]), torch.stack(values))
    assert restored.records["train", "loss"][1][-1].tolist() == [3.0, 4.0]


def test_logging_after_large_temporaries_does_not_grow_the_heap():
    """An evaluation frees a 10 MB temporary, then its small result is logged: 300 evaluations in a fresh process
    (the training job's allocator settings) must not grow its resident memory by more than 150 MB; a small tensor
    per logged value grew it by ~3 GB."""
    import subprocess
    import sys

    code = """
import torch
from reprosuite.engine.train import device, trainer
device.setup("cpu", 1)
x, w = torch.randn(25, 1000, 100), torch.nn.Parameter(torch.randn(25, 500, 100))
h = trainer.History(25)
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
for i in range(301):
    with torch.no_grad():
        h.log(i, "test", "mse", (x * w[:, :1, :]).sum(-1).mean(-1))
    if i == 20:
        start = rss()
print(rss() - start)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) < 150, out.stdout
