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
