"""The probe: a fit runs its first steps only, timed apart from its evaluations, and knows its full length; a
study's own loop is timed by its progress lines and stopped at the time limit; outside a probe nothing changes."""

import time

import pytest
import torch

from reprosuite.engine.train import optim, probe, trainer


def quadratic_fit(steps: int, log_steps):
    w = torch.ones(2, 3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    return trainer.fit(
        lambda step: (w**2).sum(1),
        opt,
        steps,
        lambda step: {("train", "loss"): (w**2).sum(1)},
        log_steps,
        label="quadratic",
    )


def test_a_probed_fit_runs_its_first_steps_and_knows_its_length():
    with probe.probing(steps=4) as p:
        history = quadratic_fit(1000, [0, 2, 10, 500])
    (fit,) = p.fits
    assert (fit.steps, fit.ran_steps, fit.evals) == (1000, 4, 5)  # logs 0, 2, 10, 500 and the last step
    assert fit.ran_evals == 2  # 0 and 2, on schedule before the probe stopped at 4
    assert sorted(history.records[("train", "loss")][0]) == [0, 2]
    assert len(fit.step_times) == 4 and fit.step_s() > 0
    per_eval = fit.eval_s / fit.ran_evals
    assert fit.projected_s() == pytest.approx(1000 * fit.step_s() + 5 * per_eval)
    assert probe.active() is None


def test_a_probed_fit_evaluates_where_it_stopped_when_no_evaluation_was_scheduled_before():
    with probe.probing(steps=3) as p:
        history = quadratic_fit(1000, [10, 500])
    (fit,) = p.fits
    assert (fit.ran_steps, fit.ran_evals, fit.evals) == (3, 1, 3)
    assert sorted(history.records[("train", "loss")][0]) == [3]


def test_without_a_probe_a_fit_runs_to_its_end():
    history = quadratic_fit(20, [0, 10])
    assert sorted(history.records[("train", "loss")][0]) == [0, 10, 20]


def test_a_studys_own_loop_is_timed_and_stopped_at_the_limit():
    with probe.probing(steps=1, limit_s=0.0) as p:
        progress = trainer.Progress(50, "own loop", every_s=1e9)
        with pytest.raises(probe.ProbeStop, match="own loop"):
            progress.update(5)
    (loop,) = p.loops
    assert (loop.label, loop.total, loop.done) == ("own loop", 50, 5) and loop.seconds >= 0


def test_a_check_runs_the_first_fits_first_steps_without_evaluating_and_stops_the_job():
    with probe.probing(steps=2, evaluate=False, fits=1) as p:
        history = quadratic_fit(1000, [0, 1, 2, 500])
        with pytest.raises(probe.ProbeStop, match="first 1 fit"):
            quadratic_fit(1000, [0])
    (fit,) = p.fits  # the second fit stopped before its first step
    assert (fit.ran_steps, fit.ran_evals, len(fit.step_times)) == (2, 0, 2)
    assert history.records == {}


def test_a_check_does_not_count_a_fit_without_updates():
    with probe.probing(steps=1, evaluate=False, fits=1) as p:
        quadratic_fit(0, [0])  # e.g. zero epochs of pretraining
        quadratic_fit(1000, [0])
        with pytest.raises(probe.ProbeStop):
            quadratic_fit(1000, [0])
    assert [(f.steps, f.ran_steps) for f in p.fits] == [(0, 0), (1000, 1)]


def test_fits_alike_run_once_under_a_probe_and_count_for_all():
    assert probe.alike(4) == 4  # outside a probe: every fit
    with probe.probing(steps=2) as p:
        runs = probe.alike(4)
        for _ in range(runs):
            quadratic_fit(1000, [0, 500])
        quadratic_fit(10, [0])  # a fit after them stands for itself only
    assert runs == 1
    (group, other) = p.fits
    assert (group.repeats, other.repeats) == (4, 1)
    per_eval = group.eval_s / group.ran_evals
    assert group.projected_s() == pytest.approx(4 * (1000 * group.step_s() + 3 * per_eval))
    with pytest.raises(ValueError, match="at least one fit"):
        probe.alike(0)


def test_a_probe_runs_at_least_one_step():
    with pytest.raises(ValueError, match="at least one step"), probe.probing(steps=0):
        pass
    with pytest.raises(ValueError, match="at least one fit"), probe.probing(steps=1, fits=0):
        pass


@pytest.mark.parametrize("cpu_clock", [True, False])
def test_a_cpu_probe_counts_the_jobs_cpu_seconds_not_the_time_it_waited(cpu_clock):
    """On a busy machine a CPU job waits for a core; its CPU seconds are what it takes on a core of its own."""
    import time

    w = torch.ones(2, 3, requires_grad=True)

    def waiting_loss(step):
        time.sleep(0.05)  # waits, as a job does when the machine's cores are taken
        return (w**2).sum(1)

    with probe.probing(steps=3, cpu_clock=cpu_clock) as p:
        trainer.fit(waiting_loss, optim.SGD([w], lr=0.1), 100, lambda s: {}, [0], label="waiting")
        progress = trainer.Progress(10, "own loop", every_s=1e9)
        time.sleep(0.05)
        progress.update(1)
    (fit,), (loop,) = p.fits, p.loops
    if cpu_clock:
        assert fit.step_s() < 0.025 and loop.seconds < 0.025
    else:
        assert fit.step_s() >= 0.05 and loop.seconds >= 0.05


def test_an_evaluation_in_chunks_runs_its_first_under_a_probe_timed_for_all():
    assert list(probe.chunks(range(0, 10_000, 1000))) == list(range(0, 10_000, 1000))  # outside: all
    w = torch.ones(1, 3, requires_grad=True)
    seen = []

    def evaluate(step):
        for start in probe.chunks(range(0, 10_000, 1000)):
            seen.append(start)
            time.sleep(0.05)  # each chunk's work
        return {("test", "loss"): (w**2).sum(1)}

    with probe.probing(steps=2) as p:
        trainer.fit(lambda step: (w**2).sum(1), optim.SGD([w], lr=0.1), 100, evaluate, [0], label="chunks")
    (fit,) = p.fits
    assert seen == [0] and fit.ran_evals == 1 and p.eval_scale == 1
    assert 10 * 0.05 <= fit.eval_s < 10 * 0.05 * 1.5  # one chunk's wall time, counted for ten
    assert list(probe.chunks(range(0, 500, 1000))) == [0]  # one chunk: itself


def test_logits_in_chunks_are_the_whole_forward_and_the_first_chunk_under_a_probe():
    from reprosuite.engine.train import functional as fn

    w = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(0))

    def model(x):
        return torch.einsum("bi,sio->sbo", x, w)

    x = torch.randn(25, 3, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(fn.logits_in_chunks(model, x, 10), model(x))
    with probe.probing(steps=1):
        first = fn.logits_in_chunks(model, x, 10)
    torch.testing.assert_close(first, model(x[:10]))
