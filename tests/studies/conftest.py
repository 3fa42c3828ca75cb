import pytest

from reprosuite import config, study
from reprosuite.engine.data import official


@pytest.fixture
def full_tier():
    """``resolve(name)`` → (study, its full-tier config); skips the test where one of its datasets is absent, unless
    ``stand_in`` (a probe or check, which reads stand-in arrays for it)."""

    def resolve(name: str, stand_in: bool = False):
        st = study.get(name)
        cfg = config.resolve(st, "full")
        absent = official.missing(sorted(study.required_datasets(st, cfg)))
        if absent and not stand_in:
            pytest.skip(f"dataset {absent[0][0]} is not here ({absent[0][1]})")
        return st, cfg

    return resolve


class Killed(Exception):
    """A training job killed mid-fit (raised by the ``kill_fits`` fixture)."""


@pytest.fixture
def kill_fits(monkeypatch):
    """``kill_fits(matches, step)`` makes every ``trainer.fit`` whose keyword arguments ``matches`` raise
    ``kill_fits.Killed`` before the update of ``step`` (the other fits run as usual); ``kill_fits(None)`` restores
    ``trainer.fit``; ``kill_fits.resumed(run, matches, step, directory)`` kills a job so and resumes it."""
    from reprosuite.engine.train import trainer

    fit = trainer.fit

    def arm(matches, step: int = 0) -> None:
        if matches is None:
            monkeypatch.setattr(trainer, "fit", fit)
            return

        def maybe_killed(loss_fn, *args, **kwargs):
            if not matches(kwargs):
                return fit(loss_fn, *args, **kwargs)

            def loss_or_crash(s):
                if s == step:
                    raise Killed
                return loss_fn(s)

            return fit(loss_or_crash, *args, **kwargs)

        monkeypatch.setattr(trainer, "fit", maybe_killed)

    def resumed(run, matches, step: int, directory):
        """``run()`` under checkpointing in ``directory``, killed by the fit that ``matches`` before the update of
        ``step``, then run again to its end: what the resumed job returns."""
        from reprosuite.engine.train import checkpoint

        arm(matches, step)
        with checkpoint.checkpointing(directory, "killed", every_s=0.0), pytest.raises(Killed):
            run()
        arm(None)
        with checkpoint.checkpointing(directory, "killed", every_s=0.0):
            return run()

    arm.Killed = Killed
    arm.resumed = resumed
    return arm
