"""Per-seed scalars from the run tables: key irreps, learning order, FVEs, the dimension-share null, the
restricted/excluded losses, and the across-seed comparisons (modal key set, modal order)."""

from __future__ import annotations

import math
import sys
from collections import Counter

import numpy as np
import pandas as pd


def _series(g: pd.DataFrame, split: str) -> pd.DataFrame:
    """(step × metric) values of one split of one seed's rows."""
    return g[g["split"] == split].pivot_table(index="step", columns="metric", values="value").sort_index()


def late_step(steps, total: int, late: float) -> int:
    """The logged step nearest ``late`` · ``total`` (the key-set stability check compares it with the end)."""
    steps = np.asarray(sorted(steps))
    return int(steps[np.argmin(np.abs(steps - late * total))])


def order_code(order: list[int], base: int) -> float:
    """An integer code of an ordered list of irrep indices (equal codes ⇔ equal orders)."""
    return float(sum((i + 1) * base**k for k, i in enumerate(order)))


def seed_values(g: pd.DataFrame, names: list[str], spans: list[int], order: int, cfg) -> dict[str, float]:
    """The per-seed metrics of one (point, seed) from its run rows; ``names``/``spans`` of the non-trivial
    irreps, in the group's order."""
    sims = _series(g, "sim")[names]
    steps = sims.index.to_numpy()
    total = int(steps.max())
    final = sims.loc[total].to_numpy()
    late = sims.loc[late_step(steps, total, cfg.late)].to_numpy()
    key = final > cfg.key_threshold  # official determine_key_reps
    key_late = late > cfg.key_threshold
    # official determine_key_rep_order: key irreps ordered by the first checkpoint with similarity > 0.05
    first = {}
    for i in np.flatnonzero(key):
        above = steps[sims.iloc[:, i].to_numpy() > cfg.order_threshold]
        first[i] = float(above[0]) if above.size else math.inf
    learned = sorted(first, key=lambda i: (first[i], i))
    out = {
        "logit_fve": float(np.sum(final**2)),  # official percent_logits_explained: all non-trivial irreps
        "n_key": float(key.sum()),
        "key_code": float(sum(2**i for i in np.flatnonzero(key))),
        "key_code_late": float(sum(2**i for i in np.flatnonzero(key_late))),
        "key_set_changed_late": float(not np.array_equal(key, key_late)),
        "order_code": order_code(learned, len(names) + 1),
        "first_learned": float(learned[0]) if learned else math.nan,
        "null": float(sum(s for s, k in zip(spans, key, strict=True) if k)) / order,
    }
    for name, s, k in zip(names, final, key, strict=True):
        out[f"sim_{name}"] = float(s)
        out[f"key_{name}"] = float(k)
    fin = g[g["step"] == total]
    fves = {}
    for split in ("fve_wa", "fve_wb", "fve_wu"):
        rows = fin[fin["split"] == split].set_index("metric")["value"]
        fves[split] = float(sum(rows.get(n, math.nan) for n, k in zip(names, key, strict=True) if k))
        out[split] = fves[split]
    out["excess"] = min(fves["fve_wa"], fves["fve_wb"]) - out["null"]
    loss = fin[fin["split"] == "final"].set_index("metric")["value"]
    for m in ("restricted_key", "excluded_key", "restricted_nonkey", "excluded_nonkey"):
        out[m] = float(loss.get(m, math.nan))
    for split in ("train", "test"):
        acc = _series(g, split)
        out[f"{split}_acc"] = float(acc["acc"].iloc[-1])
        out[f"{split}_loss"] = float(acc["loss"].iloc[-1])
    out["last_step"] = float(total)
    # per-seed margins of the claims (≥ 0 ⇔ the seed meets every condition of the rule)
    out["ch2_margin"] = min(out["excess"] - cfg.excess_min, min(fves["fve_wa"], fves["fve_wb"]) - cfg.fve_min)
    log_g = math.log(order)
    for which in ("key", "nonkey"):
        r, e = out[f"restricted_{which}"], out[f"excluded_{which}"]
        out[f"ch3_margin_{which}"] = (
            min(math.log10(cfg.restricted_max) - math.log10(max(r, 1e-300)), e - log_g)
            if math.isfinite(r) and math.isfinite(e)
            else math.nan
        )
    return out


def across_seeds(table: pd.DataFrame) -> pd.DataFrame:
    """Per point: whether each seed's final key set (and order) differs from the point's modal one (ties: the
    smallest code). A seed whose key set changed between the late checkpoint and the end gets NaN: its set had
    not settled, so the comparison is void, and a warning goes to the log."""
    rows = []
    for point, g in table.groupby("point"):
        wide = g.pivot_table(index="seed", columns="metric", values="value")
        for col, out in (("key_code", "key_differs"), ("order_code", "order_differs")):
            counts = Counter(wide[col].tolist())
            top = max(counts.values())
            modal = min(v for v, n in counts.items() if n == top)
            for seed, v in wide[col].items():
                value = float(v != modal)
                if out == "key_differs" and wide.loc[seed, "key_set_changed_late"] > 0:
                    print(
                        f"WARNING [{point} seed {seed}]: the key irrep set changed between the late checkpoint "
                        "and the end — the run is too short for its key set to settle; CH4 counts it as NaN",
                        file=sys.stderr,
                        flush=True,
                    )
                    value = math.nan
                rows.append({"point": point, "seed": int(seed), "metric": out, "value": value})
            rows += [
                {"point": point, "seed": int(seed), "metric": f"{out}_distinct", "value": float(len(counts))}
                for seed in wide.index
            ]
    return pd.DataFrame(rows)
