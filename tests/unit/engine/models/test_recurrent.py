"""Batched recurrent ensembles: shapes, member independence, and the stack/tape memories with hard actions."""

import pytest
import torch

from reprosuite.engine.models.recurrent import EnsembleRecurrent, stack_update, tape_update


@pytest.mark.parametrize("kind", ["rnn", "lstm", "stack", "tape"])
def test_member_equals_model_built_alone(kind):
    torch.manual_seed(0)
    x = torch.nn.functional.one_hot(torch.randint(0, 3, (5, 7)), 3).float()
    ens = EnsembleRecurrent(kind, 3, 6, 2, seeds=[4, 9], cell=3, depth=5, mlp=(4,))
    alone = EnsembleRecurrent(kind, 3, 6, 2, seeds=[9], cell=3, depth=5, mlp=(4,))
    out, ent = ens(x, input_length=3, return_entropy=True)
    assert out.shape == (2, 5, 7, 2) and ent.shape == (2,)
    torch.testing.assert_close(out[1:], alone(x, input_length=3))
    assert not torch.allclose(out[0], out[1])
    if kind in ("rnn", "lstm"):
        assert torch.all(ent == 0)
    else:
        assert torch.all(ent > 0)


def test_members_have_independent_gradients():
    x = torch.nn.functional.one_hot(torch.randint(0, 3, (4, 6)), 3).float()
    ens = EnsembleRecurrent("stack", 3, 5, 2, seeds=[0, 1], cell=2, depth=4)
    ens(x)[1].sum().backward()
    assert all(float(p.grad[0].abs().sum()) == 0.0 for p in ens.parameters() if p.grad is not None)


def test_hard_stack_is_a_stack():
    stack = torch.zeros(1, 4, 1)
    push, pop = torch.tensor([[1.0, 0, 0]]), torch.tensor([[0, 1.0, 0]])
    for v in (1.0, 2.0, 3.0):
        stack = stack_update(stack, push, torch.tensor([[v]]))
    assert stack[0, :, 0].tolist() == [3.0, 2.0, 1.0, 0.0]
    popped = []
    for _ in range(3):
        popped.append(float(stack[0, 0, 0]))
        stack = stack_update(stack, pop, torch.tensor([[9.0]]))
    assert popped == [3.0, 2.0, 1.0] and stack.abs().sum() == 0
    noop = stack_update(stack + 5, torch.tensor([[0, 0, 1.0]]), torch.tensor([[7.0]]))
    assert torch.all(noop == 5)


def test_hard_tape_moves_and_jumps():
    tape = torch.zeros(1, 6, 1)
    right = torch.tensor([[0, 0, 1.0, 0, 0]])
    for v in (1.0, 2.0, 3.0):  # write 1, 2, 3 moving right each time
        tape = tape_update(tape, right, torch.tensor([[v]]), jump=3)
    left = torch.tensor([[0, 1.0, 0, 0, 0]])
    read = []
    for _ in range(3):  # move back left, reading 3, 2, 1 (write back what is read)
        tape = tape_update(tape, left, tape[:, 0], jump=3)
        read.append(float(tape[0, 0, 0]))
    assert read == [3.0, 2.0, 1.0]
    jumped = tape_update(tape, torch.tensor([[0, 0, 0, 0, 1.0]]), tape[:, 0], jump=3)  # jump right by 3
    assert float(jumped[0, 3, 0]) == 1.0


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown recurrent kind"):
        EnsembleRecurrent("gru", 3, 4, 2, seeds=[0])


def test_fan_in_modes():
    """joint: one N(0, 1/(in + memory)) matrix split in blocks; blocks: each block N(0, 1/its own fan-in)."""
    kw = dict(kind="stack", input_size=400, hidden=300, output_size=2, seeds=[0], cell=100)
    joint, blocks = EnsembleRecurrent(**kw), EnsembleRecurrent(**kw, fan_in_mode="blocks")
    assert joint.w_x.shape == blocks.w_x.shape == (1, 400, 300) and joint.w_m.shape == (1, 100, 300)
    assert float(joint.w_x.detach().var()) == pytest.approx(1 / 500, rel=0.05)
    assert float(joint.w_m.detach().var()) == pytest.approx(1 / 500, rel=0.05)
    assert float(blocks.w_x.detach().var()) == pytest.approx(1 / 400, rel=0.05)
    assert float(blocks.w_m.detach().var()) == pytest.approx(1 / 100, rel=0.05)
    with pytest.raises(ValueError, match="fan_in_mode"):
        EnsembleRecurrent(**kw, fan_in_mode="xavier")
