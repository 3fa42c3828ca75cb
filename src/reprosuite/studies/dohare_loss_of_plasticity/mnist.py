"""Online permuted MNIST (official ``lop/permuted_mnist/online_expr.py``): a deep ReLU MLP trained online, one
example per step, on a sequence of pixel-permuted MNIST tasks, with backprop, L2 or continual backprop.

Members (seeds) of one method are one batched network: every weight matrix is stacked over members and a step is
a few ``bmm`` calls with hand-written gradients (softmax cross-entropy of one example, SGD with coupled weight
decay as in ``torch.optim.SGD``), the weight update an in-place rank-one ``baddbmm_`` (no gradient tensor is
materialised). Continual backprop is the official ``GnT`` with ``accumulate=True``: per hidden layer the
fraction rate × (number of mature units) accumulates and its integer part is replaced at once. The stream is cut
into chunks whose data and random draws are functions of (seed, task, chunk), so a ``checkpoint.Slot`` saved at a
chunk boundary resumes bit-identically.
"""

from __future__ import annotations

import math
import sys
from collections import deque

import numpy as np
import pandas as pd

TASK_TAG = 271_829  # tags a task's pixel permutation and example order
INIT_TAG = 161_803  # tags a member's initial weights
CBP_TAG = 141_421  # tags continual backprop's new weights per chunk
N_PIXELS, N_CLASSES = 784, 10


def task_order(seed: int, task: int, n: int, same: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(pixel permutation (784,), example order (n,)) of one task; ``same``: every task reuses task 0's pixels."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), TASK_TAG, int(task)]))
    perm = rng.permutation(N_PIXELS)
    order = rng.permutation(n)
    if same and task:
        perm = task_order(seed, 0, n)[0]
    return perm, order


def _generator(*key: int):
    import torch

    g = torch.Generator()
    g.manual_seed(int(np.random.SeedSequence([int(k) for k in key]).generate_state(1, np.uint64)[0] >> 1))
    return g


def effective_rank(features) -> float:
    """exp(entropy of σ/Σσ) of a (n_examples, n_units) torch matrix (Roy & Vetterli 2007); 0 for a zero matrix."""
    import torch

    sv = torch.linalg.svdvals(features.double())
    total = sv.sum()
    if total <= 0:
        return 0.0
    p = sv[sv > 0] / total
    return float(torch.exp(-(p * p.log()).sum()))


class OnlineMLP:
    """S networks 784 → H × ``layers`` (ReLU) → 10, trained online one example per step (official ``DeepFFNN``:
    Kaiming-uniform weights, ReLU gain on hidden layers and linear gain on the output layer, zero biases)."""

    def __init__(
        self,
        hidden: int,
        layers: int,
        seeds,
        lr: float,
        weight_decay: float = 0.0,
        replacement_rate: float = 0.0,
        decay: float = 0.99,
        maturity: int = 100,
        util_type: str = "adaptable_contribution",
        device="cpu",
        dtype=None,
        n_in: int = N_PIXELS,
    ):
        import torch

        self.seeds = [int(s) for s in seeds]
        self.size, self.hidden, self.layers = len(self.seeds), hidden, layers
        self.lr, self.wd, self.rate = float(lr), float(weight_decay), float(replacement_rate)
        self.decay, self.maturity, self.util_type = float(decay), int(maturity), util_type
        dtype = dtype or torch.float32
        sizes = [n_in] + [hidden] * layers + [N_CLASSES]
        # official GnT bounds: gain · sqrt(3 / fan_in), gain √2 (ReLU) for hidden layers, 1 for the output layer
        self.bounds = [
            (math.sqrt(2.0) if i < layers else 1.0) * math.sqrt(3.0 / sizes[i]) for i in range(layers + 1)
        ]
        self.W, self.b = [], []
        gens = [_generator(s, INIT_TAG) for s in self.seeds]
        for i in range(layers + 1):
            w = torch.empty(self.size, sizes[i + 1], sizes[i], dtype=dtype)
            for k, g in enumerate(gens):
                w[k].uniform_(-self.bounds[i], self.bounds[i], generator=g)
            self.W.append(w.to(device))
            self.b.append(torch.zeros(self.size, sizes[i + 1], dtype=dtype, device=device))
        zeros = [torch.zeros(self.size, hidden, dtype=dtype, device=device) for _ in range(layers)]
        self.util, self.mean_act = zeros, [z.clone() for z in zeros]
        self.ages = [z.clone() for z in zeros]
        self.replaced = np.zeros((self.size, layers))
        self.acc = np.zeros(
            (self.size, layers)
        )  # accumulated fraction of a unit to replace (accumulate=True)
        self.young = np.full((self.size, layers), hidden)  # units not yet mature (age ≤ maturity)
        self.births: deque = deque([(0, np.full((self.size, layers), hidden))])  # (step, units born then)
        self.t = 0  # steps taken

    # --- checkpoint state ---
    def state(self) -> dict:
        """Everything a resumed run needs, as torch tensors and plain Python (``torch.load(weights_only=True)``)."""
        import torch

        tensors = {
            f"{k}{i}": getattr(self, k)[i].cpu().clone() for k in ("W", "b") for i in range(self.layers + 1)
        }
        for k in ("util", "mean_act", "ages"):
            tensors.update({f"{k}{i}": getattr(self, k)[i].cpu().clone() for i in range(self.layers)})
        host = {k: torch.from_numpy(getattr(self, k).copy()) for k in ("replaced", "acc", "young")}
        births = [[int(s), torch.from_numpy(c.copy())] for s, c in self.births]
        return {"tensors": tensors, "host": host, "births": births, "t": self.t}

    def load(self, state: dict) -> None:
        for key in ("W", "b", "util", "mean_act", "ages"):
            for i, tensor in enumerate(getattr(self, key)):
                tensor.copy_(state["tensors"][f"{key}{i}"])
        for key, value in state["host"].items():
            setattr(self, key, value.numpy().copy())
        self.births = deque((int(s), c.numpy().copy()) for s, c in state["births"])
        self.t = int(state["t"])

    # --- forward, probes ---
    def features(self, x):
        """x (S, B, 784) → hidden activations per layer, each (S, B, H), and the logits (S, B, 10)."""
        acts, a = [], x
        for i in range(self.layers):
            a = (a @ self.W[i].transpose(1, 2) + self.b[i][:, None]).clamp_min_(0)
            acts.append(a)
        return acts, a @ self.W[-1].transpose(1, 2) + self.b[-1][:, None]

    # --- one online step ---
    def step(self, x, y, gens=None):
        """One SGD step on one example per member: x (S, 784), y (S,) → (S,) bool, correct before the update."""
        import torch

        hs, zs, a = [x], [], x
        for i in range(self.layers):
            z = torch.baddbmm(self.b[i][:, :, None], self.W[i], a[:, :, None])[:, :, 0]
            a = z.clamp_min(0)
            zs.append(z)
            hs.append(a)
        logits = torch.baddbmm(self.b[-1][:, :, None], self.W[-1], a[:, :, None])[:, :, 0]
        correct = logits.argmax(dim=1) == y
        delta = torch.softmax(logits, dim=1)  # d(cross-entropy)/d logits = softmax − one-hot
        delta[torch.arange(self.size, device=y.device), y] -= 1
        deltas = [delta]
        for i in range(self.layers, 0, -1):  # gradients first, with the pre-update weights
            d = torch.bmm(self.W[i].transpose(1, 2), deltas[0][:, :, None])[:, :, 0]
            deltas.insert(0, d * (zs[i - 1] > 0))
        shrink = 1.0 - self.lr * self.wd  # p ← p − lr (∇p + wd p)
        for i in range(self.layers + 1):
            self.W[i].baddbmm_(deltas[i][:, :, None], hs[i][:, None, :], beta=shrink, alpha=-self.lr)
            if shrink != 1.0:
                self.b[i].mul_(shrink)
            self.b[i].add_(deltas[i], alpha=-self.lr)
        self.t += 1
        if self.rate > 0:
            self._generate_and_test(hs[1:], gens)
        return correct

    # --- continual backprop (official GnT.test_features / gen_new_features, accumulate=True) ---
    def _generate_and_test(self, features, gens) -> None:
        import torch

        eta = self.decay
        for i, h in enumerate(features):
            self.ages[i] += 1
            self.mean_act[i].mul_(eta).add_(h, alpha=1 - eta)
            # mean |outgoing| and mean |incoming| weight, post-update (one read of each matrix, no temporary)
            out_mag = torch.linalg.vector_norm(self.W[i + 1], ord=1, dim=1) / self.W[i + 1].shape[1]
            if self.util_type == "contribution":
                new = out_mag * h.abs()
            else:  # adaptable_contribution
                corrected = self.mean_act[i] / (1 - torch.pow(eta, self.ages[i]))
                in_mag = torch.linalg.vector_norm(self.W[i], ord=1, dim=2) / self.W[i].shape[2]
                new = out_mag * (h - corrected).abs() / in_mag
            self.util[i].mul_(eta).add_(new, alpha=1 - eta)
        # maturity bookkeeping on the host: a unit born at step r is mature once t − r > maturity
        while self.births and self.births[0][0] < self.t - self.maturity:
            self.young -= self.births.popleft()[1]
        eligible = self.hidden - self.young
        self.acc += self.rate * eligible
        count = np.floor(self.acc).astype(np.int64)
        self.acc -= count
        if count.any():
            self.births.append((self.t, count.copy()))
            self.young += count
            for s, i in zip(*np.nonzero(count), strict=True):
                self.reinit(int(s), int(i), int(count[s, i]), gens[s])

    def reinit(self, member: int, layer: int, n: int, gen) -> None:
        """Replace the ``n`` mature units of lowest bias-corrected utility of one member's hidden layer."""
        import torch

        ages = self.ages[layer][member]
        util = self.util[layer][member] / (1 - torch.pow(self.decay, ages))
        util = torch.where(ages > self.maturity, util, torch.full_like(util, math.inf))
        units = torch.topk(-util, n).indices
        # official order: utility and mean activation are zeroed before the outgoing bias is corrected with the
        # mean activation, so that correction is zero; we keep it so
        self.util[layer][member, units] = 0
        self.mean_act[layer][member, units] = 0
        w = self.W[layer]
        new = torch.empty(n, w.shape[2], dtype=w.dtype).uniform_(
            -self.bounds[layer], self.bounds[layer], generator=gen
        )
        w[member, units] = new.to(w.device)
        self.b[layer][member, units] = 0
        self.W[layer + 1][member, :, units] = 0
        ages[units] = 0
        self.replaced[member, layer] += n


def train(cfg, point: dict, data: dict, seeds: list[int], device) -> pd.DataFrame:
    """All ``seeds`` of one method on online permuted MNIST; rows per task (accuracy) and probes."""
    import torch

    from reprosuite.engine.train import checkpoint as ckpt_mod
    from reprosuite.engine.train import trainer

    method = point["method"]
    dev = torch.device(device if device not in (None, "") else "cpu")
    x_all = torch.as_tensor(np.asarray(data["mnist_x"]), device=dev).reshape(-1, N_PIXELS).float().div_(255)
    y_all = torch.as_tensor(np.asarray(data["mnist_y"]), device=dev).long()
    n, per_task, chunk = x_all.shape[0], cfg.mnist_examples, cfg.mnist_chunk
    if per_task % chunk:
        raise ValueError("mnist_examples must be a multiple of mnist_chunk")
    net = OnlineMLP(
        cfg.mnist_hidden,
        cfg.mnist_layers,
        seeds,
        cfg.mnist_lr,
        weight_decay=cfg.mnist_l2 if method == "l2" else 0.0,
        replacement_rate=cfg.mnist_replacement_rate if method == "cbp" else 0.0,
        decay=cfg.decay,
        maturity=cfg.mnist_maturity,
        util_type=cfg.util_type,
        device=dev,
    )
    S, L, T = len(seeds), cfg.mnist_layers, cfg.mnist_tasks
    per, n_chunks = per_task // chunk, T * (per_task // chunk)
    correct = np.zeros((T, S))
    dead = np.full((T, S, L), np.nan)
    ranks: dict[int, np.ndarray] = {}

    slot = ckpt_mod.Slot()
    first = 0
    if slot.state is not None:
        st = slot.state
        net.load(st["net"])
        correct, dead = st["correct"].numpy().copy(), st["dead"].numpy().copy()
        ranks = {int(k): v.numpy().copy() for k, v in st["ranks"].items()}
        first = int(st["chunk"])
        print(f"[lop-mnist] resumed from {slot.path} at chunk {first}", file=sys.stderr, flush=True)

    def snapshot(ci):
        return {
            "chunk": ci,
            "complete": ci == n_chunks,
            "net": net.state(),
            "correct": torch.from_numpy(correct.copy()),
            "dead": torch.from_numpy(dead.copy()),
            "ranks": {int(k): torch.from_numpy(v.copy()) for k, v in ranks.items()},
        }

    def take_probe(task, perms, orders):
        p = min(cfg.mnist_probe, n)
        idx = torch.as_tensor(orders[:, :p], device=dev)
        x = torch.gather(x_all[idx], 2, perms[:, None, :].expand(S, p, N_PIXELS))
        with torch.no_grad():
            acts, _ = net.features(x)
        dead[task] = np.stack([(a.sum(dim=1) == 0).sum(dim=1).cpu().numpy() for a in acts], axis=1)
        if task % cfg.mnist_rank_every == 0 and task:
            ranks[task] = np.array([[effective_rank(a[s]) for a in acts] for s in range(S)])

    progress = None
    for ci in range(first, n_chunks):
        if ci > first:
            slot.save(lambda ci=ci: snapshot(ci))
        task, part = divmod(ci, per)
        pairs = [task_order(s, task, n, same=method == "same") for s in seeds]
        perms = torch.as_tensor(np.stack([p for p, _ in pairs]), device=dev)
        orders = np.stack([o for _, o in pairs])  # (S, n)
        if part == 0:
            take_probe(task, perms, orders)
        if progress is None:
            progress = trainer.Progress((n_chunks - first) * chunk, f"lop-mnist-{method}")
        steps = (part * chunk + np.arange(chunk)) % n  # one pass over the task's examples, then around again
        idx = torch.as_tensor(orders[:, steps].T.copy(), device=dev)  # (K, S)
        gens = [_generator(s, CBP_TAG, ci) for s in seeds]
        hits = torch.zeros(S, dtype=torch.long, device=dev)
        with torch.no_grad():
            for k in range(chunk):
                x = torch.gather(x_all[idx[k]], 1, perms)
                hits += net.step(x, y_all[idx[k]], gens)
                progress.update((ci - first) * chunk + k + 1)
        correct[task] += hits.cpu().numpy()
    slot.save(lambda: snapshot(n_chunks), force=True)
    return frame(cfg, method, seeds, correct / per_task, dead, ranks, net.replaced)


def frame(cfg, method, seeds, accuracy, dead, ranks, replaced) -> pd.DataFrame:
    """Tidy rows: per task the online accuracy (split ``mnist``) and, at its start, dead units and ranks."""
    variant, T, S = f"mnist_{method}", accuracy.shape[0], len(seeds)
    rows = {
        "split": ["mnist"] * (T * S),
        "metric": ["accuracy"] * (T * S),
        "step": np.repeat((np.arange(T) + 1) * cfg.mnist_examples, S),
        "seed": np.tile(seeds, T),
        "value": accuracy.reshape(-1),
    }
    parts = [pd.DataFrame(rows)]
    for t in range(T):
        for metric, values in (("dead_units", dead[t].sum(axis=1)), ("effective_rank", ranks.get(t))):
            if values is None:
                continue
            if values.ndim == 2:  # effective rank per layer: summed, as the official plots
                values = values.sum(axis=1)
            parts.append(
                pd.DataFrame(
                    {
                        "split": "mnist_probe",
                        "metric": metric,
                        "step": t * cfg.mnist_examples,
                        "seed": seeds,
                        "value": values,
                    }
                )
            )
    parts.append(
        pd.DataFrame(
            {
                "split": "mnist_probe",
                "metric": "replaced_units",
                "step": T * cfg.mnist_examples,
                "seed": seeds,
                "value": replaced.sum(axis=1),
            }
        )
    )
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "variant", variant)
    out["seed"] = out["seed"].astype(np.int64)
    out["step"] = out["step"].astype(np.int64)
    out["value"] = out["value"].astype(np.float64)
    return out[["variant", "seed", "step", "split", "metric", "value"]]


def accuracy_change(runs: pd.DataFrame, cfg) -> pd.DataFrame:
    """Per (variant, seed): mean online accuracy (%) of the early tasks (fit, fit + window] and of the last
    ``window`` tasks, and their difference late − early in percentage points."""
    acc = runs[(runs["split"] == "mnist") & (runs["metric"] == "accuracy")].copy()
    if acc.empty:
        return pd.DataFrame(columns=["variant", "seed", "early", "late", "change"])
    acc["task"] = acc["step"] // cfg.mnist_examples  # 1-based
    total = int(acc["task"].max())
    early = acc[(acc["task"] > cfg.mnist_fit_tasks) & (acc["task"] <= cfg.mnist_fit_tasks + cfg.mnist_window)]
    late = acc[acc["task"] > total - cfg.mnist_window]
    out = pd.DataFrame(
        {
            "early": 100 * early.groupby(["variant", "seed"])["value"].mean(),
            "late": 100 * late.groupby(["variant", "seed"])["value"].mean(),
        }
    ).reset_index()
    out["change"] = out["late"] - out["early"]
    return out
