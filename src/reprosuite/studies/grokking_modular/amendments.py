"""The grokking study's amendments: each change to a registered claim after it was first run, with its reason
and the quick-tier verdict before and after (``reprosuite.registry``)."""

from __future__ import annotations

from reprosuite.claims import Amendment

_P_LR = "quick: modulus p raised from 31 to 47 and the embedding-MLP's AdamW lr from 3e-3 (the first specified protocol) to 1e-2"
_P_LR_WHY = (
    "after the MLP on p = 31 failed to grok at fraction 0.4: validation accuracy never reached 99 % in 25 000 "
    "steps (0.17–0.54 at lr 3e-3, 0.94–0.98 at lr 1e-2)"
)
_FRACTION = (
    "quick: the fraction of claims 1–2 (grok_fraction, also the only one trained with wd 0) set to 0.4, the "
    "smallest of {0.4, 0.5, 0.6}, not the Fig. 1 fraction 0.5"
)
AMENDMENTS = (
    Amendment(
        "2026-11-22",
        ("grokking",),
        _P_LR,
        f"{_P_LR_WHY}; under the rule every seed then scores 0 (verdict inferred; that run's claims table "
        "was not recorded). After: 33.6 [6.2, 60.9]",
        "fail",
        "pass",
    ),
    Amendment(
        "2026-11-22",
        ("weight_decay", "train_fraction"),
        _P_LR,
        _P_LR_WHY + "; this claim's value at p = 31 was not recorded (verdict before unknown)",
        "unknown",
        "pass",
    ),
    Amendment(
        "2026-11-22",
        ("grokking", "weight_decay"),
        _FRACTION,
        "chosen after seeing t_val / t_train at each fraction: 24–39 at 0.4, 7–10 at 0.5, 3–4 at 0.6. At 0.5 every "
        "seed is still ≥ 5, but its 3-seed interval (and wd 0 at 0.5) was not recorded: verdict before unknown",
        "unknown",
        "pass",
    ),
)

_GRID = (
    "quick grid: fraction 0.8 added ({0.4, 0.5, 0.6} → {0.4, 0.5, 0.6, 0.8}) and a second wd-1 member per seed at "
    "the grok fraction (an independent initialisation and data order)"
)
_GEOMEAN_WHY = (
    "t_val / t_train and t_val(wd 0) / t_val(wd 1) are ratios of times, positive and spread over decades (the "
    "paper's delays are 10–1000×): a Student-t interval on raw ratios is driven by the largest seed and crosses "
    "the threshold on a rounding change between CPUs; the geometric mean takes the interval on the log scale, "
    "where the rule and the paper's numbers live"
)
AMENDMENTS += (
    Amendment(
        "2026-12-06",
        ("grokking",),
        f"statistic mean → geometric mean; negative control: the largest fraction, 0.8; {_GRID}",
        f"{_GEOMEAN_WHY}; a seed that never generalises has no delay (value 0), so the claim is then inconclusive. "
        "The control is the configuration where Fig. 1 centre shows no delay: at a large fraction generalisation "
        "follows memorisation",
        "inconclusive",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("weight_decay",),
        "statistic mean → geometric mean; a wd 0 member that never reaches 99 % is censored at its budget (was ∞); "
        f"negative control: wd 1 against a second wd-1 member of the same seed; {_GRID}",
        f"{_GEOMEAN_WHY}; ∞ stood for 'at least the budget' and overstated the effect; comparing weight decay "
        "with itself shows how the comparison behaves without any weight-decay difference",
        "pass",
        "pass",
    ),
    Amendment(
        "2026-12-06",
        ("train_fraction",),
        f"{_GRID} (the rank correlation now spans four fractions); negative control: the same correlation for "
        "t_train; statement reworded as the mean over seeds",
        "fraction 0.8 is the grokking claim's control and the largest fraction of Fig. 1 centre; memorisation time "
        "is where the paper's mechanism (more data, earlier generalisation) plays no role",
        "pass",
        "pass",
    ),
)
