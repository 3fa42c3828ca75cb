"""The study's claims (rules, statistics, controls) and their amendments."""

from __future__ import annotations

from reprosuite.claims import Amendment, Claim, Rule

from .mlp_claims import MLP_CLAIMS

_THEORY = "0 at the global minimum (theory); the synthetic runs show it falling towards 0"
_WD0 = "weight decay λ_W = λ_H = 0 (every variant, at the control depths: 3)"
_PROTOCOL = (
    "negative controls added: every variant also trained with λ_W = λ_H = 0 in the depth-3 job "
    "(control_depths); quick iterations 4000 → 5000"
)
_PROTOCOL_WHY = (
    "every empirical claim is judged against a configuration without the paper's mechanism: the collapse is that "
    "of the weight-decayed loss's global minimum, and without weight decay nothing selects it; 5000 iterations is "
    "the least of the quick tier's specified 5k–30k (official 30k), which 4000 fell short of"
)
AMENDMENTS = (
    Amendment(
        "2026-12-06",
        ("nc1_balanced", "nc2_orthogonal", "nc2_etf"),
        _PROTOCOL,
        _PROTOCOL_WHY,
        "pass",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("nc3_orthogonal", "nc3_etf"),
        "kind empirical → sanity; " + _PROTOCOL,
        "holds by construction once the net fits its targets: the official NC3 compares W_M⋯W_1 H̄, the "
        "network's outputs on the class means, with the frame, and fitting one-hot targets makes them so with or "
        "without weight decay (measured with weight decay 0 it passes too). " + _PROTOCOL_WHY,
        "pass",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("imbalanced_rank_order",),
        "negative control: balanced runs (equal class sizes) ranked against the imbalanced sizes; "
        + _PROTOCOL,
        "with equal class sizes the closed form gives equal row norms, so no rank order by size may pass. "
        + _PROTOCOL_WHY,
        "pass",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("imbalanced_closed_form",),
        "kind empirical → analytic; " + _PROTOCOL,
        "it compares our simulation with the closed form the paper derives (official compute_s), and the distance "
        "is scale-invariant: the absolute lengths s_k^M are checked by the added analytic claim "
        "imbalanced_closed_form_norms. " + _PROTOCOL_WHY,
        "pass",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("nc1_balanced", "nc2_orthogonal", "nc3_orthogonal", "nc2_etf", "nc3_etf", "imbalanced_rank_order")
        + ("imbalanced_closed_form", "imbalanced_closed_form_norms"),
        "full tier: the official synthetic experiment → the same plus the paper's MLP on MNIST (6 ReLU + M "
        "linear layers, widths 512/1024/2048, M ∈ {1, 3, 6, 9}, with and without last-layer bias, Adam 1e-4, 200 "
        "epochs, 5 seeds: 24 grid points); these claims stay measured on the synthetic runs, whose thresholds "
        "(NC1 1e-3, NC2/NC3 0.05) are the free-features model's, and the MLP is judged by the full-only claims "
        "mlp_* (NC1 ≤ 0.1: ≈ K × the within-class squared residual per output, ≲ 1e-2 for a net fitting its "
        "training set, random features ≳ 1; NC2/NC3 ≤ 0.1: under a third of the 0.32 between I and the ETF at "
        "K = 10; fixed before any MLP run); quick and smoke: new Config fields with the MLP off (mlp_depths = ()), "
        "their runs unchanged",
        "the paper's protocol: the official README's multilayer perceptron experiment (train_1st_order.py, "
        "validate_NC.py, models/mlp.py, args.py)",
        "not run at the full tier",
        "not run at the full tier",
    ),
    Amendment(
        "2026-12-07",
        ("nc1_balanced", "nc2_orthogonal", "nc3_orthogonal", "nc2_etf", "nc3_etf", "imbalanced_rank_order")
        + ("imbalanced_closed_form", "imbalanced_closed_form_norms")
        + tuple(c.id for c in MLP_CLAIMS if not c.id.startswith("mlp_cifar10_")),
        "full tier: 24 grid points added, the same MLP trained on CIFAR-10 (mlp_cifar10_*); these claims are "
        "measured on the same runs as before (synthetic, MNIST), their rules and statistics unchanged",
        "the paper's protocol: the official README runs the multilayer perceptron experiment on CIFAR-10",
        "not run at the full tier",
        "not run at the full tier",
    ),
    Amendment(
        "2026-12-07",
        tuple(c.id for c in MLP_CLAIMS if c.id.startswith("mlp_cifar10_")),
        "claims added (full tier): the same MLP trained on CIFAR-10 as well (24 more grid points "
        "mlp_cifar10_*: the MNIST points' widths, depths and bias settings, 390 updates per epoch), judged by "
        "five claims mlp_cifar10_* with the MNIST claims' statistics, rules (NC1, NC2, NC3 ≤ 0.1) and controls, "
        "fixed before any CIFAR-10 run",
        "the paper's protocol: the official README runs the multilayer perceptron experiment on CIFAR-10 "
        "(--dataset cifar10), the paper on MNIST and CIFAR-10; the suite can read the official CIFAR-10 files",
        "not in the suite",
        "not run at the full tier",
    ),
)

CLAIMS = (
    Claim(
        id="nc1_balanced",
        statement="balanced, with or without bias: features collapse to their class means at every layer",
        metric="max NC1 over depths, layers and bias/no bias",
        rule=Rule.at_most(1e-3),
        paper_value=0.0,
        paper_text=_THEORY,
        control=_WD0,
    ),
    Claim(
        id="nc2_orthogonal",
        statement="balanced, bias-free: every classifier W_M⋯W_m forms an orthogonal frame (NC2 vs I)",
        metric="max NC2 over depths and layers",
        rule=Rule.at_most(0.05),
        paper_value=0.0,
        paper_text=_THEORY,
        control=_WD0,
    ),
    Claim(
        id="nc3_orthogonal",
        statement="balanced, bias-free: classifier and class means align in an orthogonal frame (NC3 vs I)",
        metric="max NC3 over depths",
        rule=Rule.at_most(0.05),
        paper_value=0.0,
        paper_text=_THEORY,
        kind="sanity",
    ),
    Claim(
        id="nc2_etf",
        statement="balanced, last-layer bias: every classifier W_M⋯W_m forms a simplex ETF (NC2 vs ETF)",
        metric="max NC2 over depths and layers",
        rule=Rule.at_most(0.05),
        paper_value=0.0,
        paper_text=_THEORY,
        control=_WD0,
    ),
    Claim(
        id="nc3_etf",
        statement="balanced, last-layer bias: classifier and centred means align in a simplex ETF (NC3)",
        metric="max NC3 over depths",
        rule=Rule.at_most(0.05),
        paper_value=0.0,
        paper_text=_THEORY,
        kind="sanity",
    ),
    Claim(
        id="imbalanced_rank_order",
        statement="imbalanced, bias-free: classifier row lengths are rank-ordered by class size",
        metric="min over depths of Spearman(class size, row norm of W_M⋯W_1)",
        rule=Rule.at_least(1.0),
        paper_value=1.0,
        paper_text="lengths s_k^M increase with n_k (closed form)",
        control="balanced classes (equal sizes), ranked against the imbalanced sizes",
    ),
    Claim(
        id="imbalanced_closed_form",
        statement="imbalanced, bias-free: W_M⋯W_m (W_M⋯W_m)ᵀ ∝ diag(s_k^{2(M−m+1)}) with s_k from compute_s",
        metric="max over depths and layers of the official NC2 distance to the closed form (scale-invariant)",
        rule=Rule.at_most(0.05),
        paper_value=0.0,
        paper_text=_THEORY,
        kind="analytic",
    ),
    Claim(
        id="imbalanced_closed_form_norms",
        statement="imbalanced, bias-free: the row norms of W_M⋯W_1 equal the closed form's s_k^M (absolute scale)",
        metric="max over depths and classes of |‖row k of W_M⋯W_1‖ / s_k^M − 1|",
        rule=Rule.at_most(0.05),
        paper_value=0.0,
        paper_text="row k of W_M⋯W_1 has norm s_k^M at the global minimum (closed form)",
        kind="analytic",
    ),
    *MLP_CLAIMS,
)
