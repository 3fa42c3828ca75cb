"""Training and range evaluation of one (task, architecture) grid point, all seeds as one batched model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import tasks

LENGTH_SALT, TRAIN_SALT, EVAL_SALT, DROPOUT_SALT = 71, 72, 73, 74
EVAL_BYTES = 2**28  # activations per evaluation chunk (ours): bounds the memory of long test strings


def lengths(cfg) -> tuple[list[int], list[int]]:
    """(training-range lengths 1..L_train, test lengths > L_train) of the range evaluation."""
    return list(range(1, cfg.l_train + 1)), list(range(cfg.test_start, cfg.test_stop + 1, cfg.test_stride))


def build(cfg, task: str, arch: str, seeds: list[int], device):
    from reprosuite.engine.models.recurrent import EnsembleRecurrent

    from .encoder import EnsembleEncoder

    vin, vout = tasks.VOCAB[task]
    if arch == "transformer":
        return EnsembleEncoder(
            vin + 1, vout, seeds, cfg.d_model, cfg.layers, cfg.heads, 4, cfg.dropout, device=device
        )
    # stack: as deep as the longest test input; tape: one cell per input-tape position (ours)
    depth = tasks.input_length(task, cfg.test_stop) if arch == "stack" else 0
    return EnsembleRecurrent(
        arch,
        vin + 1,
        cfg.hidden,
        vout,
        seeds,
        cfg.cell,
        depth,
        cfg.tape_mlp,
        device=device,
        fan_in_mode=cfg.init,
    )


def member_batch(task: str, seeds: list[int], step: int, length: int, size: int):
    """Per-member training batch of one step from stateless streams: (tokens (S, B, T), targets (S, B, O))."""
    xs, ys = [], []
    for s in seeds:
        x, y = tasks.sample(task, np.random.default_rng([TRAIN_SALT, int(s), step]), size, length)
        xs.append(tasks.encode(task, x))
        ys.append(y)
    return np.stack(xs), np.stack(ys)


def forward(model, task: str, tokens, n_out: int, entropy: bool = False):
    import torch
    from torch.nn import functional as F

    x = F.one_hot(tokens, tasks.VOCAB[task][0] + 1).float()
    n_in = tokens.shape[-1] - n_out
    if hasattr(model, "kind"):
        out = model(x, input_length=n_in, return_entropy=entropy)
        logits, ent = out if entropy else (out, None)
    else:
        logits, ent = model(x), torch.zeros(model.size, device=tokens.device)
    return logits[:, :, -n_out:], ent


def token_ce(logits, y):
    """Per-member (S, B) cross-entropy summed over output positions."""
    from torch.nn import functional as F

    S, B, O, C = logits.shape
    return F.cross_entropy(logits.reshape(-1, C), y.reshape(-1), reduction="none").view(S, B, O).sum(2)


def train_point(cfg, point: dict, seeds: list[int], device) -> pd.DataFrame:
    import torch

    from reprosuite.engine.train import gradients, optim, trainer

    task, arch, steps = point["task"], point["arch"], int(point["steps"])
    model = build(cfg, task, arch, seeds, device)
    inner = optim.AdamW(list(model.parameters()), lr=cfg.lr, weight_decay=0.0)  # Adam (official: optax.adam)
    opt = gradients.GradientTransform(inner, clip=cfg.clip)  # optax.clip_by_global_norm(1.0), per member
    train_lengths, test_lengths = lengths(cfg)
    S = len(seeds)

    def loss_fn(step: int):
        length = int(np.random.default_rng([LENGTH_SALT, int(seeds[0]), step]).integers(1, cfg.l_train + 1))
        tok, y = member_batch(task, seeds, step, length, cfg.batch)
        if arch == "transformer" and cfg.dropout > 0:  # dropout masks from a per-step stream: resumable
            torch.manual_seed(int(np.random.default_rng([DROPOUT_SALT, int(seeds[0]), step]).integers(2**31)))
        model.train()
        tok, y = torch.as_tensor(tok, device=device), torch.as_tensor(y, device=device)
        logits, _ = forward(model, task, tok, y.shape[-1])
        return token_ce(logits, y).mean(1)  # official loss: mean over the batch of the sum over positions

    rng = np.random.default_rng([EVAL_SALT, cfg.l_train])
    px, py = tasks.sample(task, rng, cfg.batch, cfg.l_train)
    probe_tok = torch.as_tensor(tasks.encode(task, px), device=device)
    probe_y = torch.as_tensor(py, device=device)

    def probe_loss():
        logits, _ = forward(model, task, probe_tok, probe_y.shape[-1])
        return token_ce(logits, probe_y.expand(S, *probe_y.shape)).mean(1) / probe_y.shape[-1]

    def range_eval() -> dict:
        out = {}
        ent_sum = torch.zeros(S, device=device)
        for L in train_lengths + test_lengths:
            x, y = tasks.sample(task, np.random.default_rng([EVAL_SALT, L]), cfg.eval_size, L)
            tok, y = torch.as_tensor(tasks.encode(task, x), device=device), torch.as_tensor(y, device=device)
            T = tok.shape[-1]
            # floats per (member, sequence, position) alive at once: attention rows, or gates and memory
            width = 4 * cfg.heads * T if arch == "transformer" else 4 * cfg.hidden + cfg.cell * min(L, T)
            chunk = max(1, min(len(tok), EVAL_BYTES // (4 * S * T * width)))
            correct = torch.zeros(S, device=device)
            ent = torch.zeros(S, device=device)
            for i in range(0, len(tok), chunk):
                logits, e = forward(model, task, tok[i : i + chunk], y.shape[-1], entropy=True)
                correct += (logits.argmax(-1) == y[i : i + chunk]).float().sum((1, 2))
                ent += e * len(tok[i : i + chunk])
            out[("eval", f"acc@{L}")] = correct / y.numel()
            if L in test_lengths:
                ent_sum += ent / len(tok)
        out[("eval", "action_entropy")] = ent_sum / len(test_lengths)
        return out

    def stopped(loss) -> bool:  # the stopping rule (ours): every member fits the training length
        return cfg.stop_loss > 0 and bool((loss <= cfg.stop_loss).all())

    def evaluate(step: int):
        model.eval()
        loss = probe_loss()
        out = {("train", "loss"): loss}
        if step == steps or stopped(loss):
            out.update(range_eval())
        return out

    def done(history) -> bool:
        _, values = history.records[("train", "loss")]
        return stopped(values[-1])

    history = trainer.fit(
        loss_fn,
        opt,
        steps,
        evaluate,
        trainer.log_schedule(steps, cfg.log_points),
        done=done,
        label=point["id"],
    )
    return history.frame(seeds, members={"task": [task] * S, "arch": [arch] * S})
