"""The paper's real-data experiment: an MLP of ReLU layers followed by M linear layers, on MNIST and CIFAR-10.

Official code (Fsoft-AIC/Neural-Collapse-in-Deep-Linear-Networks, commit 1869cb1): ``models/mlp.py`` (the net),
``datasets.py`` (MNIST as 3 × 32 × 32; CIFAR-10 as it comes, each normalised per colour channel with its
constants), ``train_1st_order.py`` + ``utils.py`` (loss, Adam, StepLR) and
``validate_NC.py`` (the NC metrics on the training set, BatchNorm in eval mode). Imported by ``train`` only
(torch at the top).

Net (``MLP(hidden, depth_relu=6, depth_linear=M, fc_bias)``): ``depth_relu`` blocks Linear → ReLU → BatchNorm1d,
one more BatchNorm1d whose output is the feature H, then ``fc`` = M − 1 bias-free Linear(d, d) and Linear(d, 10)
(with a bias unless ``--no-bias``). Initialisation as the official constructor leaves it: its loop
``for i in range(depth_relu)`` visits ``self.layers[0..5]`` = [Linear, ReLU, BN, Linear, ReLU, BN], so only the
first two Linear layers are orthogonal and the other four keep PyTorch's U(±1/√fan_in); every fc layer is
orthogonal; every bias is U(±1/√fan_in). MNIST's three input channels are the same grey image (``Grayscale(3)``),
so there the first layer is applied as its three channel blocks summed over one 32 × 32 image: the same function
and the same gradient per block, a third of the memory. CIFAR-10's 3,072 inputs are its colour image, channels
first (``ToTensor`` then ``view(N, -1)``, as the official net flattens it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from reprosuite.engine.models import layers
from reprosuite.engine.models.ghost_bn import EnsembleGhostBatchNorm

from . import collapse
from .mlp_claims import DATASETS as DATASETS

N_CLASSES, SIDE, CHANNELS = 10, 32, 3  # official: 3 × 32 × 32 inputs (MNIST: Resize(32) and Grayscale(3))
# official datasets.py: CIFAR-10 as ToTensor() (pixels / 255) then Normalize(mean, std) per colour channel
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
EVAL_CHUNK = 2000
# Bytes of training state (weights, gradients, Adam's two moments: 16 B per float32 parameter) per part of the
# ensemble: members beyond it train in further parts, one after another in the same job (a member's run does not
# depend on its part). Width 2048 with M = 6 or 9 (0.8–1.0 GB per member) runs in parts of 3 seeds.
STATE_BUDGET = 3 * 2**30
METRICS = ("nc1", "nc1_h", "nc2_i", "nc2_etf", "nc3_i", "nc3_etf")


def images(x: np.ndarray, device) -> Tensor:
    """Standardised 28 × 28 MNIST rows (N, 784) → the official 32 × 32 resize (N, 1024), float32 on ``device``.

    Bilinear with half-pixel centres on the standardised image (ours): torchvision resizes the uint8 image with
    PIL and standardises after; the two differ by PIL's uint8 rounding and its weights at the border.
    """
    t = torch.as_tensor(x, dtype=torch.float32, device=device).view(-1, 1, 28, 28)
    return F.interpolate(t, size=(SIDE, SIDE), mode="bilinear", align_corners=False).flatten(1)


def cifar_images(x: np.ndarray, device) -> Tensor:
    """CIFAR-10 uint8 rows (N, 3072), channels first → the official ``ToTensor`` and ``Normalize``, float32 on
    ``device`` (N, 3072)."""
    from reprosuite.engine.data import augment

    return augment.normalised(x, CIFAR10_MEAN, CIFAR10_STD, device).flatten(1)


def variant(dataset: str, bias: bool) -> str:
    """The run table's variant of an MLP member: ``mlp_bias`` / ``mlp_nobias`` on MNIST, ``mlp_cifar10_…``."""
    return f"mlp{'' if dataset == 'mnist' else '_' + dataset}_{'bias' if bias else 'nobias'}"


def _uniform(shape: tuple[int, ...], fan_in: int, gens) -> Tensor:
    return layers.init_weight(shape, "uniform", gens, 1.0 / math.sqrt(fan_in)).float()


class CollapseMLP(nn.Module):
    """S members of the official MLP; ``forward(x)`` on (B, in) or (S, B, in) → (outputs, features), where in is
    1024 with ``grey`` (three identical channels: MNIST) and 3072 otherwise."""

    def __init__(self, seeds: Sequence[int], width: int, relu_depth: int, depth: int, bias: bool, grey=True):
        super().__init__()
        gens = layers.generators(seeds)
        self.size, self.width, self.grey = len(seeds), width, grey
        dims = [CHANNELS * SIDE * SIDE] + [width] * relu_depth
        self.weights, self.biases, self.norms = nn.ParameterList(), nn.ParameterList(), nn.ModuleList()
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            w = layers.init_weight((b, a), "orthogonal", gens).float() if i < 2 else _uniform((b, a), a, gens)
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(_uniform((b,), a, gens)))
            self.norms.append(EnsembleGhostBatchNorm(self.size, b))
        self.norms.append(EnsembleGhostBatchNorm(self.size, width))  # the official self.batch_norm → H
        shapes = [(width, width)] * (depth - 1) + [(N_CLASSES, width)]
        self.fc = nn.ParameterList(
            nn.Parameter(layers.init_weight(s, "orthogonal", gens).float()) for s in shapes
        )
        self.fc_bias = nn.Parameter(_uniform((N_CLASSES,), width, gens)) if bias else None

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        w0 = self.weights[0]
        if self.grey:  # three identical channels: their blocks of the first layer summed
            w0 = w0.view(self.size, self.width, CHANNELS, -1).sum(2)
        h = x
        for i, b in enumerate(self.biases):
            w = w0 if i == 0 else self.weights[i]
            h = self.norms[i](torch.relu(torch.matmul(h, w.transpose(1, 2)) + b.unsqueeze(1)))
        h = self.norms[-1](h)
        out = h
        for w in self.fc:
            out = torch.matmul(out, w.transpose(1, 2))
        if self.fc_bias is not None:
            out = out + self.fc_bias.unsqueeze(1)
        return out, h

    def running(self) -> list[Tensor]:
        """The BatchNorm running statistics: buffers a resumed job must restore."""
        return [t for bn in self.norms for t in (bn.running_mean, bn.running_var)]


def objective(cfg, net: CollapseMLP, x: Tensor, y: Tensor) -> Tensor:
    """The official ``loss_compute`` with ``--sep_decay`` per member: nn.MSELoss against one-hot targets (the
    mean over batch and classes) + weight_decay/2 Σ‖W_fc‖² (fc weights only, not the bias) + feature_decay/2 Σ‖h‖²
    (summed over the batch)."""
    out, h = net(x)
    fit = (out - F.one_hot(y, N_CLASSES).to(out.dtype)).pow(2).mean((1, 2))
    decay = sum(w.pow(2).sum((1, 2)) for w in net.fc) * (cfg.mlp_weight_decay / 2)
    return fit + decay + h.pow(2).sum((1, 2)) * (cfg.mlp_feature_decay / 2)


@torch.no_grad()
def collapse_metrics(net: CollapseMLP, x: Tensor, y: Tensor) -> dict[str, Tensor]:
    """NC metrics on the whole training set, BatchNorm in eval mode (as ``validate_NC.py``), per member (S,).

    NC1 at the input of fc layer m is W_{m−1}⋯W_1 H; with C_m its centred class means (K, d),
    NC1_m = ‖(H − M_y)ᵀ-rows · A_m‖²_F / N with A_m = W_1ᵀ⋯W_{m−1}ᵀ C_m⁺ (:func:`collapse.nc1`'s identity), so two
    passes over the data (class means, then the projected deviations) give every layer's NC1 without a d × d
    matrix. ``nc1`` is the worst layer, ``nc1_h`` layer 1 (the official metric); NC2 of W_M⋯W_m (worst m) and NC3
    of W_M⋯W_1 on the means against both frames, I (bias-free theory) and the simplex ETF (centred means).
    """
    was = net.training
    net.eval()
    s, d, n = net.size, net.width, len(y)
    sums = torch.zeros(s, N_CLASSES, d, dtype=torch.float64, device=x.device)
    sq_err = torch.zeros(s, dtype=torch.float64, device=x.device)
    correct = torch.zeros_like(sq_err)
    for a in range(0, n, EVAL_CHUNK):
        out, h = net(x[a : a + EVAL_CHUNK])
        yb = y[a : a + EVAL_CHUNK]
        onehot = F.one_hot(yb, N_CLASSES).double()
        sums += torch.einsum("bk,sbd->skd", onehot, h.double())
        sq_err += (out.double() - onehot).pow(2).sum((1, 2))
        correct += (out.argmax(-1) == yb).double().sum(1)
    counts = torch.bincount(y, minlength=N_CLASSES).double()
    means = sums / counts[:, None]  # (S, K, d)
    mu_g = sums.sum(1) / n  # (S, d): the sample-weighted global mean
    fc = [w.double() for w in net.fc]
    # a diverged member (frozen at non-finite values) gets NaN, not an SVD error that would stop the job
    bad = ~(
        torch.isfinite(means).flatten(1).all(1)
        & torch.stack([torch.isfinite(w).flatten(1).all(1) for w in fc]).all(0)
    )
    means, fc = (
        torch.where(bad[:, None, None], 0.0, means),
        [torch.where(bad[:, None, None], 0.0, w) for w in fc],
    )
    mu_g = torch.where(bad[:, None], 0.0, mu_g)
    rcond = math.sqrt(d * torch.finfo(torch.float64).eps)  # collapse.nc1's cut-off
    projections, layer_means, layer_mu = [], means, mu_g
    for m in range(len(fc)):  # input of fc layer m + 1
        a_m = torch.linalg.pinv(layer_means - layer_mu[:, None], rtol=rcond)  # (S, d, K)
        for w in reversed(fc[:m]):
            a_m = w.transpose(1, 2) @ a_m
        projections.append(a_m)
        layer_means = layer_means @ fc[m].transpose(1, 2)
        layer_mu = torch.einsum("sd,sod->so", layer_mu, fc[m])
    a_all = torch.cat(projections, 2)  # (S, d, M·K)
    within = torch.zeros(s, len(fc), dtype=torch.float64, device=x.device)
    for a in range(0, n, EVAL_CHUNK):
        _, h = net(x[a : a + EVAL_CHUNK])
        dev = h.double() - means[:, y[a : a + EVAL_CHUNK]]  # (S, B, d)
        within += (dev @ a_all).pow(2).view(s, -1, len(fc), N_CLASSES).sum((1, 3))
    net.train(was)
    nc1 = torch.where(bad[:, None], math.nan, within / n)  # (S, M)
    classifiers = [fc[-1]]  # W_M ⋯ W_m, m = M … 1
    for w in reversed(fc[:-1]):
        classifiers.append(classifiers[-1] @ w)
    clfs = [c.cpu().numpy() for c in classifiers]
    means_np, mu_np = means.cpu().numpy(), mu_g.cpu().numpy()
    eye, etf = collapse.orthogonal_frame(N_CLASSES), collapse.simplex_etf(N_CLASSES)
    rows = []
    for i in range(s):
        if bad[i]:
            rows.append([math.nan] * 4)
            continue
        product = clfs[-1][i]
        rows.append(
            [
                max(collapse.nc2(c[i], eye) for c in clfs),
                max(collapse.nc2(c[i], etf) for c in clfs),
                collapse.nc3(product, means_np[i], eye),
                collapse.nc3(product, means_np[i] - mu_np[i], etf),
            ]
        )
    rows_t = torch.tensor(rows, dtype=torch.float64)
    return {
        "nc1": nc1.max(1).values.cpu(),
        "nc1_h": nc1[:, 0].cpu(),
        "nc2_i": rows_t[:, 0],
        "nc2_etf": rows_t[:, 1],
        "nc3_i": rows_t[:, 2],
        "nc3_etf": rows_t[:, 3],
        "mse": (sq_err / (n * N_CLASSES)).cpu(),
        "accuracy": (correct / n).cpu(),
    }


def parameter_count(width: int, relu_depth: int, depth: int, bias: bool) -> int:
    """Trained parameters of one member (BatchNorm's affine pairs included)."""
    backbone = CHANNELS * SIDE * SIDE * width + (relu_depth - 1) * width**2 + relu_depth * width
    return (
        backbone
        + 2 * width * (relu_depth + 1)
        + (depth - 1) * width**2
        + N_CLASSES * width
        + N_CLASSES * bias
    )


def parts(seeds: list[int], width: int, relu_depth: int, depth: int, bias: bool) -> list[list[int]]:
    """The seeds in parts of at most :data:`STATE_BUDGET` bytes of training state."""
    per_part = max(1, STATE_BUDGET // (16 * parameter_count(width, relu_depth, depth, bias)))
    return [seeds[i : i + per_part] for i in range(0, len(seeds), per_part)]


def train_mlp(cfg, point: dict, data: dict[str, np.ndarray], seeds: list[int], device) -> pd.DataFrame:
    """One (dataset, width, M, bias) point, every seed a member (in parts where the ensemble is large)."""
    dataset = point.get("dataset", "mnist")
    grey = dataset == "mnist"
    x = images(data["mnist_x"], device) if grey else cifar_images(data[f"{dataset}_x"], device)
    y = torch.as_tensor(data[f"{dataset}_y"], dtype=torch.int64, device=device)
    width, depth, bias = int(point["width"]), int(point["depth"]), bool(point["bias"])
    frames = [
        _train_part(cfg, dataset, width, depth, bias, x, y, part, device)
        for part in parts(list(seeds), width, cfg.mlp_relu_depth, depth, bias)
    ]
    return pd.concat(frames, ignore_index=True)


def _train_part(cfg, dataset: str, width: int, depth: int, bias: bool, x: Tensor, y: Tensor, seeds, device):
    """Adam on the official objective, StepLR per epoch; NC metrics every ``200 / mlp_log_points`` epochs."""
    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import optim, trainer

    net = CollapseMLP(seeds, width, cfg.mlp_relu_depth, depth, bias, grey=dataset == "mnist").to(device)
    net.train()
    # official: Adam(lr, betas (0.9, 0.999), eps 1e-8) with weight_decay 0 under --sep_decay = AdamW without decay
    opt = optim.AdamW(list(net.parameters()), lr=cfg.mlp_lr, weight_decay=0.0)
    stream = fn.MinibatchStream(len(y), cfg.mlp_batch, seeds, device)
    per_epoch = stream.per_epoch
    steps = per_epoch * cfg.mlp_epochs
    epochs = np.unique(np.round(np.linspace(0, cfg.mlp_epochs, cfg.mlp_log_points + 1)).astype(int))
    log_steps = [int(e) * per_epoch for e in epochs]

    def loss_fn(step: int) -> Tensor:
        idx = stream.at(step)  # (S, B)
        return objective(cfg, net, x[idx], y[idx])

    def lr_scale(step: int) -> float:  # StepLR(step_size=patience, gamma) stepped once per epoch
        return cfg.mlp_lr_gamma ** ((step // per_epoch) // cfg.mlp_lr_every)

    def evaluate(step: int) -> dict[tuple[str, str], Tensor]:
        return {("train", k): v for k, v in collapse_metrics(net, x, y).items()}

    history = trainer.fit(
        loss_fn,
        opt,
        steps,
        evaluate,
        log_steps,
        lr_scale=lr_scale,
        label=f"nc mlp {dataset} d={width} M={depth} bias={bias} seeds={seeds}",
        buffers=net.running(),
    )
    return history.frame(seeds, [variant(dataset, bias)] * len(seeds))
