"""A fit interrupted at any step and resumed from its checkpoint equals the fit that was never interrupted."""

import signal

import pytest
import torch

from reprosuite.engine.models import layers
from reprosuite.engine.train import checkpoint, functional, optim, trainer

SEEDS = [0, 1, 2]


class Killed(Exception):
    pass


def run(directory=None, kill_at=None, stop_at=None, fingerprint="f"):
    """Minibatch AdamW on random data with a study-owned data-order generator; optionally interrupted."""
    g = torch.Generator().manual_seed(5)
    x, y = torch.randn(64, 4, generator=g), torch.randn(64, 2, generator=g)
    net = layers.EnsembleMLP([4, 16, 2], SEEDS, activation="tanh")
    opt = optim.AdamW(list(net.parameters()), lr=1e-2, weight_decay=0.1)
    order = torch.Generator().manual_seed(7)

    def loss_fn(step):
        if step == kill_at:
            raise Killed
        if step == stop_at:
            checkpoint.active().stop_signal = signal.SIGTERM
        idx = torch.randint(0, 64, (16,), generator=order)
        noise = 1e-3 * torch.randn(())  # draws from torch's global generator too
        return functional.mse(net(x[idx]), y[idx]) + noise * 0

    def evaluate(step):
        return {("train", "loss"): functional.mse(net(x), y)}

    def fit():
        torch.manual_seed(11)
        return trainer.fit(loss_fn, opt, 40, evaluate, list(range(0, 41, 5)), generators=[order])

    if directory is None:
        return fit(), net
    with checkpoint.checkpointing(directory, fingerprint, every_s=0.0):
        return fit(), net


def test_resume_after_kill_is_identical(tmp_path):
    reference, ref_net = run()
    with pytest.raises(Killed):
        run(tmp_path, kill_at=23)
    assert (tmp_path / "fit0.pt").exists()
    resumed, net = run(tmp_path)
    assert resumed.frame(SEEDS).equals(reference.frame(SEEDS))
    for a, b in zip(net.parameters(), ref_net.parameters(), strict=True):
        assert torch.equal(a, b)


def test_sigterm_saves_and_stops_then_resumes(tmp_path):
    reference, _ = run()
    with pytest.raises(checkpoint.Preempted) as err:
        run(tmp_path, stop_at=17)
    assert err.value.code == 128 + signal.SIGTERM
    resumed, _ = run(tmp_path)
    assert resumed.frame(SEEDS).equals(reference.frame(SEEDS))


def test_checkpoint_of_another_config_is_ignored(tmp_path):
    reference, _ = run()
    with pytest.raises(Killed):
        run(tmp_path, kill_at=23, fingerprint="old config")
    resumed, _ = run(tmp_path, fingerprint="new config")
    assert resumed.frame(SEEDS).equals(reference.frame(SEEDS))


def test_checkpoint_loads_without_pickle(tmp_path):
    run(tmp_path)
    state = torch.load(tmp_path / "fit0.pt", weights_only=True)
    assert state["complete"] and state["step"] == 40 and state["fingerprint"] == "f"


def test_buffers_updated_in_place_are_checkpointed_and_restored(tmp_path):
    def run_counting(directory, kill_at=None):
        net = layers.EnsembleMLP([4, 8, 2], SEEDS)
        opt = optim.SGD(list(net.parameters()), lr=1e-2)
        x, y = torch.ones(8, 4), torch.zeros(8, 2)
        seen = torch.zeros(8)  # how often each example was presented, kept by the study

        def loss_fn(step):
            if step == kill_at:
                raise Killed
            seen[step % 8] += step
            return functional.mse(net(x), y)

        with checkpoint.checkpointing(directory, "f", every_s=0.0):
            trainer.fit(loss_fn, opt, 20, lambda s: {}, [], buffers=[seen])
        return seen

    reference = run_counting(tmp_path / "a")
    with pytest.raises(Killed):
        run_counting(tmp_path / "b", kill_at=13)
    assert torch.equal(run_counting(tmp_path / "b"), reference)
    assert reference.sum() == sum(range(20))


def test_slot_saves_a_custom_loop_state_and_stops_when_signalled(tmp_path):
    free = checkpoint.Slot()  # no checkpointing active: nothing is loaded or saved
    assert free.state is None
    free.save(lambda: {"i": 1}, force=True)
    with checkpoint.checkpointing(tmp_path, "f", every_s=3600.0) as ckpt:
        slot = checkpoint.Slot()
        assert slot.state is None and slot.path == tmp_path / "fit0.pt"
        slot.save(lambda: {"i": torch.tensor(1)})  # not due yet
        assert not slot.path.exists()
        slot.save(lambda: {"i": torch.tensor(2)}, force=True)
        ckpt.stop_signal = signal.SIGTERM
        with pytest.raises(checkpoint.Preempted):
            slot.save(lambda: {"i": torch.tensor(3)})  # a signal makes it due, saves, then stops
    with checkpoint.checkpointing(tmp_path, "f"):
        assert int(checkpoint.Slot().state["i"]) == 3
    with checkpoint.checkpointing(tmp_path, "other config"):
        assert checkpoint.Slot().state is None
