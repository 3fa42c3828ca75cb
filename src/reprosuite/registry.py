"""The registry of claims: rules, statistics and protocols fixed before results, and their amendments.

``registry.lock.json`` (beside this module, committed) holds, for every claim of every study, what decides its
verdict — kind, statistic, pass rule, per-seed criterion, negative control — and the fingerprint of each tier's
protocol (the resolved config and grid), as registered when the claim was first run. Changing any of them later
is an amendment: the study records it in ``AMENDMENTS`` (date, claims, what changed, why, verdict before and
after), and ``reprosuite registry update`` rewrites the lock only for entries whose amendment count grew.
``tests/unit/test_registry.py`` fails while the code and the lock disagree, so a rule cannot change silently.
"""

from __future__ import annotations

import json
from pathlib import Path

from reprosuite import config as config_mod
from reprosuite import study as study_mod
from reprosuite.claims import Amendment

LOCK = Path(__file__).with_name("registry.lock.json")


class RegistryError(ValueError):
    """A registered claim changed without an amendment, or the lock file is unreadable."""


def amendments(st: study_mod.Study, claim: str) -> list[Amendment]:
    """The study's amendments that name ``claim``."""
    return [a for a in getattr(st.module, "AMENDMENTS", ()) if claim in a.claims]


def entry(st: study_mod.Study, claim) -> dict:
    """What decides the claim's verdict, and the fingerprint of each tier's protocol."""
    protocol = {}
    for tier in study_mod.TIERS:
        cfg = config_mod.resolve(st, tier)
        protocol[tier] = config_mod.digest(
            {"config": config_mod.to_dict(cfg), "grid": config_mod.check_grid(st, cfg)}
        )
    return {
        "kind": claim.kind,
        "statistic": claim.statistic,
        "rule": str(claim.rule),
        "criterion": str(claim.criterion) if claim.criterion is not None else None,
        "control": claim.control,
        "tiers": list(claim.tiers),
        "protocol": protocol,
        "amendments": len(amendments(st, claim.id)),
    }


def current() -> dict[str, dict[str, dict]]:
    """The registry as the code defines it now: study -> claim -> entry."""
    out = {}
    for name in study_mod.names():
        st = study_mod.get(name)
        ids = {c.id for c in st.CLAIMS}
        for a in getattr(st.module, "AMENDMENTS", ()):
            unknown = set(a.claims) - ids
            if unknown:
                raise RegistryError(
                    f"study {name!r}: amendment of {a.date} names unknown claims {sorted(unknown)}"
                )
        out[name] = {c.id: entry(st, c) for c in st.CLAIMS}
    return out


def load(path: Path = LOCK) -> dict[str, dict[str, dict]]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise RegistryError(f"cannot read the claims registry {path}: {err}") from err


def differences(locked: dict, now: dict) -> list[str]:
    """Human-readable differences between the lock and the code: 'study/claim: field locked -> now'."""
    out = []
    for study in sorted(set(locked) | set(now)):
        a, b = locked.get(study, {}), now.get(study, {})
        for claim in sorted(set(a) | set(b)):
            if claim not in a:
                out.append(f"{study}/{claim}: new claim, not registered")
            elif claim not in b:
                out.append(f"{study}/{claim}: registered claim removed")
            else:
                for key in sorted(set(a[claim]) | set(b[claim])):
                    if a[claim].get(key) != b[claim].get(key):
                        out.append(f"{study}/{claim}: {key} {a[claim].get(key)!r} -> {b[claim].get(key)!r}")
    return out


def update(path: Path = LOCK) -> list[str]:
    """Write the code's registry to the lock; refuse (nothing written) if a registered claim changed without a new
    amendment, or if a registered claim is gone. New claims are registered as they are. Returns the differences
    written."""
    locked = load(path) if path.exists() else {}
    now = current()
    removed = [f"{s}/{c}" for s, claims in locked.items() if s in now for c in claims if c not in now[s]]
    if removed:
        raise RegistryError(
            "registered claims cannot be removed or renamed (keep the claim; change its kind or tiers with an "
            f"amendment): {', '.join(removed)}"
        )
    unamended = []
    for study, claims in now.items():
        for claim, new in claims.items():
            old = locked.get(study, {}).get(claim)
            if old is None or old == new:
                continue
            if new["amendments"] <= old.get("amendments", 0):
                unamended.append(f"{study}/{claim}")
    if unamended:
        raise RegistryError(
            "registered claims changed without an amendment (add one to the study's AMENDMENTS: what, why, "
            f"verdict before and after): {', '.join(unamended)}"
        )
    diff = differences(locked, now)
    path.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
    return diff


def amendment_text(st: study_mod.Study, claim: str) -> str:
    """The amendments of a claim as one line for the claims table."""
    return "; ".join(str(a) for a in amendments(st, claim))
