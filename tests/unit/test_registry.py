"""The claims registry: the committed lock matches the code, and a registered claim cannot change without an
amendment."""

import dataclasses
import json

import pytest

from reprosuite import cli, registry, study
from reprosuite.claims import Amendment, Rule


def test_the_committed_registry_matches_the_code():
    diff = registry.differences(registry.load(), registry.current())
    assert not diff, (
        "a registered claim changed: amend it and run `reprosuite registry update`:\n" + "\n".join(diff)
    )


@pytest.fixture
def changed_rule(monkeypatch):
    """grokking_modular's first claim with a looser rule, as an edit of the study would make it."""
    st = study.get("grokking_modular")
    first = dataclasses.replace(st.CLAIMS[0], rule=Rule.at_least(2.0))
    monkeypatch.setattr(st.module, "CLAIMS", (first, *st.CLAIMS[1:]))
    return st, first


def test_changing_a_rule_without_an_amendment_is_refused(tmp_path, changed_rule, capsys):
    lock = tmp_path / "lock.json"
    lock.write_text(registry.LOCK.read_text())
    assert any(
        "grokking_modular/grokking: rule" in d
        for d in registry.differences(registry.load(lock), registry.current())
    )
    with pytest.raises(registry.RegistryError, match="without an amendment.*grokking_modular/grokking"):
        registry.update(lock)
    assert lock.read_text() == registry.LOCK.read_text()  # nothing written
    assert cli.main(["registry", "check"]) == 2
    assert "grokking_modular/grokking: rule '>= 5' -> '>= 2'" in capsys.readouterr().err


def test_an_amended_change_is_registered_and_shown(tmp_path, changed_rule, monkeypatch):
    st, first = changed_rule
    amendment = Amendment("2026-12-06", (first.id,), "rule ≥ 5 → ≥ 2", "a test", "pass", "pass")
    before = len(registry.amendments(st, first.id))  # the study's own amendments of the claim
    monkeypatch.setattr(
        st.module, "AMENDMENTS", (*getattr(st.module, "AMENDMENTS", ()), amendment), raising=False
    )
    lock = tmp_path / "lock.json"
    lock.write_text(registry.LOCK.read_text())
    diff = registry.update(lock)
    assert "grokking_modular/grokking: rule '>= 5' -> '>= 2'" in diff
    entry = json.loads(lock.read_text())["grokking_modular"]["grokking"]
    assert entry["rule"] == ">= 2" and entry["amendments"] == before + 1
    assert registry.amendment_text(st, first.id).endswith(
        "2026-12-06: rule ≥ 5 → ≥ 2 — a test (verdict pass → pass)"
    )


def test_an_amendment_must_name_known_claims(monkeypatch):
    st = study.get("grokking_modular")
    bad = Amendment("2026-12-06", ("no_such_claim",), "x", "y", "pass", "fail")
    monkeypatch.setattr(st.module, "AMENDMENTS", (bad,), raising=False)
    with pytest.raises(registry.RegistryError, match="unknown claims"):
        registry.current()


def test_a_registered_claim_cannot_be_removed(tmp_path, monkeypatch):
    st = study.get("grokking_modular")
    monkeypatch.setattr(st.module, "CLAIMS", st.CLAIMS[1:])
    monkeypatch.setattr(st.module, "AMENDMENTS", ())  # an amendment may not name a claim that is gone
    lock = tmp_path / "lock.json"
    lock.write_text(registry.LOCK.read_text())
    with pytest.raises(registry.RegistryError, match="cannot be removed.*grokking_modular/grokking"):
        registry.update(lock)
    assert lock.read_text() == registry.LOCK.read_text()
