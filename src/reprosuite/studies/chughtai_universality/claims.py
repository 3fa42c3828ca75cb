"""The claims of the study (see the package docstring for each rule's source) and the CH0 sanity checks."""

from __future__ import annotations

import numpy as np

from reprosuite.claims import Claim, Rule

SANITY_GROUPS = ("S3", "S4", "S5", "A5", "D5", "D6", "C5", "C6")
_WD0 = "weight decay 0 (same net, split and seeds): the net memorises and keeps every irrep"

CLAIMS = (
    Claim(
        "CH0",
        "GCR is a correct algorithm: character orthogonality, irrep projectors orthogonal idempotents summing to "
        "I, and hand-built logits χ_ρ(abc⁻¹) (faithful ρ; and Σ over non-trivial ρ) classify 100 % of pairs on "
        + ", ".join(SANITY_GROUPS),
        metric="1 if every check holds",
        rule=Rule.at_least(1.0),
        paper_value=1.0,
        paper_text="Thm D.7, D.9 (GCR computes ab via tr ρ(a)ρ(b)ρ(c⁻¹))",
        kind="sanity",
    ),
    Claim(
        "CH1",
        "The trained MLP's logits are a sum of a few irreps' characters χ_ρ(abc⁻¹): logit FVE (Σ squared "
        "logit similarities) ≥ 0.30 on average over seeds.",
        metric="logit FVE per seed (official percent_logits_explained)",
        rule=Rule.at_least(0.30),
        paper_value=0.345,
        paper_text="logit FVE 34.5–98.3 % over 28 MLP runs; S5 seeds 39–85 % (mlp_all.csv)",
        control=_WD0,
    ),
    Claim(
        "CH2",
        "The embeddings hold ρ(a), ρ(b) of exactly the key irreps: min(W_a, W_b FVE) ≥ 0.95 and ≥ 0.25 above the "
        "key irreps' dimension share Σ span/|G|, in most seeds.",
        metric="per seed min(excess − 0.25, FVE − 0.95); share of seeds ≥ 0",
        rule=Rule.at_least(0.5),
        paper_value=1.0,
        paper_text="W_a FVE 98.5–100 % on all 28 MLP runs vs null 0.14–0.48 at S5 (mlp_all.csv)",
        tiers=("full",),
        statistic="share",
        criterion=Rule.at_least(0.0),
        control=_WD0,
    ),
    Claim(
        "CH3",
        "The key irreps' ρ(ab) part of the hidden layer carries the computation: restricted loss ≤ 1e-3 on all "
        "pairs and excluded loss ≥ ln|G| on the training pairs, in most seeds of the many-seed group.",
        metric="per seed min(log10(1e-3 / restricted), excluded − ln|G|); share of seeds ≥ 0",
        rule=Rule.at_least(0.5),
        paper_value=1.0,
        paper_text="S5: restricted 2e-9…7e-7, excluded 7.6–17.2 (mlp_all.csv)",
        tiers=("full",),
        statistic="share",
        criterion=Rule.at_least(0.0),
        control="the same restriction to the non-key non-trivial irreps (they carry nothing)",
    ),
    Claim(
        "CH4",
        "Strong universality fails: seeds learn different key irrep sets — the share of seeds whose final key set "
        "differs from the modal set has a Clopper–Pearson lower bound > 0.",
        metric="per seed 1 if its key set ≠ the modal set (NaN if the set changed after 0.75·T)",
        rule=Rule.at_least(1e-9),
        paper_value=0.6,
        paper_text="S5: 30/50 seeds differ from the modal {sign, standard}, CP [0.45, 0.74] (key_reps_in_order)",
        statistic="share",
        criterion=Rule.at_least(0.5),
        control=_WD0,
    ),
)


def group_checks(name: str) -> bool:
    """Every CH0 check on one group."""
    from reprosuite.engine.analysis import groups

    from .gcr import gcr_logits

    g = groups.by_name(name)
    n = g.order
    sizes = np.array([len(c) for c in g.classes], dtype=float)
    table = g.character_table
    ok = np.allclose((table * sizes) @ table.conj().T / n, np.eye(len(table)), atol=1e-8)
    ok &= np.allclose(table.T.conj() @ table, np.diag(n / sizes), atol=1e-8)  # column orthogonality
    irreps = g.real_irreps
    projs = [g.projector(r) for r in irreps]
    ok &= np.allclose(sum(projs), np.eye(n), atol=1e-9)
    for i, p in enumerate(projs):
        ok &= np.allclose(p @ p, p, atol=1e-9) and np.allclose(p, p.T, atol=1e-12)
        ok &= round(float(np.trace(p))) == irreps[i].span
        for q in projs[i + 1 :]:
            ok &= np.allclose(p @ q, 0, atol=1e-9)
    a, b = np.divmod(np.arange(n * n), n)
    target = g.table[a, b]
    nontrivial = [r for r in irreps if not r.trivial]
    ok &= bool((gcr_logits(g, nontrivial, a, b).argmax(1) == target).all())
    for r in nontrivial:
        faithful = int(np.sum(np.isclose(r.character, r.dim))) == 1  # kernel = {e}
        if faithful:
            ok &= bool((gcr_logits(g, [r], a, b).argmax(1) == target).all())
    return bool(ok)


def sanity_value() -> float:
    return float(all(group_checks(name) for name in SANITY_GROUPS))
