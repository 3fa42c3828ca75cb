"""The slowly-changing regression experiment: every method × seed of the ``stream`` point in one numpy loop."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from . import online


def train(cfg, point: dict, data: dict, seeds: list[int]) -> pd.DataFrame:
    """All seeds × the point's methods on the slowly-changing regression stream (see the package docstring)."""
    import torch

    from reprosuite.engine.train import checkpoint as ckpt_mod
    from reprosuite.engine.train import trainer

    methods = list(point["methods"])
    members = [(m, s) for m in methods for s in seeds]
    member_seeds = [s for _, s in members]
    streams_of = [methods.index(m) for m, _ in members]
    # each member reads its seed's stream; the stationary members read that stream without its bit flips
    seed_index = np.array([seeds.index(s) + (len(seeds) if m == "stationary" else 0) for m, s in members])
    value = {
        "backprop": (0.0, 0.0),
        "l2": (cfg.l2, 0.0),
        "cbp": (0.0, cfg.replacement_rate),
        "stationary": (0.0, 0.0),
    }
    net = online.OnlineRegressor(
        cfg.n_inputs,
        cfg.hidden,
        member_seeds,
        lr=[cfg.lr] * len(members),
        weight_decay=[value[m][0] for m, _ in members],
        replacement_rate=[value[m][1] for m, _ in members],
        decay=cfg.decay,
        maturity=cfg.maturity,
        util_type=cfg.util_type,
        streams=streams_of,
    )
    streams = [
        online.BitFlipStream(
            s,
            cfg.steps,
            cfg.n_inputs,
            cfg.n_flipping,
            flip_after,
            cfg.n_target_features,
            cfg.beta,
            cfg.flip_one,
        )
        for flip_after in (cfg.flip_after, cfg.steps)  # flipping every T steps; never (stationary)
        for s in seeds
    ]
    probe = np.asarray(data["probe"], dtype=np.float64)
    n_chunks = cfg.steps // cfg.chunk
    errors = np.full((n_chunks, len(members)), np.nan)
    probes: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []

    def take_probe(step):
        feats = net.hidden_activations(probe)
        probes.append((step, online.effective_rank(feats), online.dead_units(feats), net.replaced.copy()))

    slot = ckpt_mod.Slot()
    state = slot.state
    first = 0
    if state is not None:
        net.load({k: v.numpy() for k, v in state["net"].items()})
        errors = state["errors"].numpy().copy()
        probes = [(int(st), r.numpy(), d.numpy(), n.numpy()) for st, r, d, n in state["probes"]]
        first = int(state["chunk"])
        print(f"[lop] resumed from {slot.path} at chunk {first}", file=sys.stderr, flush=True)

    def snapshot(chunk):
        return {
            "chunk": chunk,
            "complete": chunk == n_chunks,
            "net": {k: torch.from_numpy(v.copy()) for k, v in net.state().items()},
            "errors": torch.from_numpy(errors.copy()),
            "probes": [
                [st, torch.from_numpy(r), torch.from_numpy(d), torch.from_numpy(n)] for st, r, d, n in probes
            ],
        }

    if first == 0:
        take_probe(0)
    progress = trainer.Progress(cfg.steps - first * cfg.chunk, "lop")
    for ci in range(first, n_chunks):
        if ci > first:
            slot.save(lambda ci=ci: snapshot(ci))
        xs, ys = zip(*(st.chunk(ci * cfg.chunk, cfg.chunk, ci) for st in streams), strict=True)
        x = np.stack(xs, axis=1)[:, seed_index]  # (K, S, m)
        y = np.stack(ys, axis=1)[:, seed_index]  # (K, S)
        errors[ci] = net.train(x, y, online.cbp_generators(member_seeds, streams_of, ci)).mean(axis=0)
        done = (ci + 1) * cfg.chunk
        if done % cfg.probe_every == 0:
            take_probe(done)
        progress.update(done - first * cfg.chunk, force=ci == n_chunks - 1)
    slot.save(lambda: snapshot(n_chunks), force=True)
    return _frame(cfg, members, errors, probes)


def _frame(cfg, members, errors: np.ndarray, probes) -> pd.DataFrame:
    variants = [m for m, _ in members]
    seeds = [s for _, s in members]
    n = len(members)
    parts = [
        pd.DataFrame(
            {
                "variant": np.tile(variants, errors.shape[0]),
                "seed": np.tile(seeds, errors.shape[0]),
                "step": np.repeat((np.arange(errors.shape[0]) + 1) * cfg.chunk, n),
                "split": "train",
                "metric": "error",
                "value": errors.reshape(-1),
            }
        )
    ]
    for step, rank, dead, replaced in probes:
        for metric, values in (("effective_rank", rank), ("dead_units", dead), ("replaced_units", replaced)):
            parts.append(
                pd.DataFrame(
                    {
                        "variant": variants,
                        "seed": seeds,
                        "step": step,
                        "split": "probe",
                        "metric": metric,
                        "value": np.asarray(values, dtype=np.float64),
                    }
                )
            )
    out = pd.concat(parts, ignore_index=True)
    out["seed"] = out["seed"].astype(np.int64)
    out["step"] = out["step"].astype(np.int64)
    return out


def window_errors(runs: pd.DataFrame, cfg) -> pd.DataFrame:
    """Per (variant, seed): mean error over the early window [window, 2·window) and the last window."""
    err = runs[(runs["split"] == "train") & (runs["metric"] == "error")]
    if err.empty:  # only MNIST points in the table
        return pd.DataFrame(columns=["variant", "seed", "early", "late", "ratio"])
    total = int(err["step"].max())
    # a chunk logged at step s covers (s − chunk, s]
    early = err[(err["step"] > cfg.window) & (err["step"] <= 2 * cfg.window)]
    late = err[err["step"] > total - cfg.window]
    out = pd.DataFrame(
        {
            "early": early.groupby(["variant", "seed"])["value"].mean(),
            "late": late.groupby(["variant", "seed"])["value"].mean(),
        }
    ).reset_index()
    out["ratio"] = out["late"] / out["early"]
    return out
