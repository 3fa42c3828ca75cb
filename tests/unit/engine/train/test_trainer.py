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
