"""VGG-16 on CIFAR-100 (the full tier): the paper's network and data (§7), set up as the official code trains it.

Read at diegogranziol/GadamX (``BatchHess_Code``: ``Readme.MD``, ``run_sgd.py``, ``curvature/data.py``) and
diegogranziol/rmt_damping_dl (``curvature/models/vgg.py``, the VGG of the same code base):

- the network: ``VGG16`` of the README's SGD and Adam commands, without BatchNorm: 13 convolutions 3 × 3
  (padding 1, ReLU) of 64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M channels
  (M = 2 × 2 max-pooling), then Dropout(0.5), Linear 512 → 512, ReLU, Dropout(0.5), Linear 512 → 512, ReLU,
  Linear 512 → 100; convolution weights N(0, 2 / (9 · out_channels)) and biases 0, the linear layers PyTorch's
  default: 15,291,300 parameters;
- the data: the first 45,000 training images (``data.loaders`` keeps the last 5,000 for validation unless
  ``--use_test``, which the README's CIFAR-100 commands do not pass); training transform: horizontal flip, 4 pixels
  of zero padding and a random 32 × 32 crop, ``ToTensor``, ``Normalize((0.485, 0.456, 0.406), (0.229, 0.224,
  0.225))``;
- the optimisers: SGD with momentum 0.9 (``run_sgd.py``'s default) and weight decay 0 for VGG16 (README); Adam
  with decoupled weight decay 0 (README); the README scales the learning rate linearly in B for SGD (0.05 at
  B = 128, 0.1 at 256, 0.2 at 512) and as √B for Adam (4e-4 at 128, 5.6e-4 at 256);
- the schedule: ``run_sgd.py`` holds the initial rate for the first half of its 300 epochs, then decays it
  linearly to 0.01× at 90 %: the first epochs of a run, all that the stability sweep trains, run at the initial
  rate;
- batch Hessian spectra (``spectrum.py``): 100 Lanczos iterations on B training examples drawn with 10 subsample
  seeds, on checkpoints from epoch 0 on.

Ours: η_max from a sweep of the first ``epochs`` epochs at each rate of the grid (the paper trains at the rule's
rates and does not sweep); λ_max by power iteration (``power_iters``) rather than Lanczos, at initialisation (the
code's epoch-0 checkpoint), with dropout off so that Hessian-vector products are deterministic, on the normalised
training images without augmentation; the full-batch Hessian over all 45,000 images in chunks of
:data:`HESSIAN_CHUNK`; the last partial batch of an epoch dropped (the code's loader keeps it); crops drawn after the
flip rather than before (the same distribution). Every (rate, seed) member is a one-member
:class:`~reprosuite.engine.models.conv2d.EnsembleConv2dNet` of its own, trained in turn (on a CPU a grouped ensemble
of VGG-16s ran at 0.5–0.7× the speed of a loop over plain nets, ``benchmarks/bench_conv.py``), and so is every seed's
Hessian; run ``s`` of every rate starts from seed ``s``'s weights and sees its data order, crops, flips and dropout
masks.
"""

from __future__ import annotations

import numpy as np

MEAN = (0.485, 0.456, 0.406)  # the official vgg.py's Normalize
STD = (0.229, 0.224, 0.225)
TRAIN_IMAGES = 45_000  # the official data.py: the last 5,000 training images are its validation split
PADDING = 4  # RandomCrop(32, padding=4)
VGG16 = (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)  # vgg.py cfg[16] without the Ms
POOLED = (1, 3, 6, 9, 12)  # the convolutions followed by an M (2 × 2 max-pooling)
HIDDEN, DROPOUT = 512, 0.5  # the classifier: Dropout, Linear 512, ReLU, Dropout, Linear 512, ReLU, Linear
SHAPE = (3, 32, 32)
CLASSES = 100
AUGMENT_OFFSET = 90_000  # the crop and flip seed of a member: its seed + this
DROPOUT_OFFSET = 91_000  # its dropout seed: its seed + this
EVAL_CHUNK = 500  # images per forward pass of the stability test's loss
HESSIAN_CHUNK = 250  # images per double-backward pass of the full-batch Hessian


def make_data() -> dict[str, np.ndarray]:
    """The official training split's first :data:`TRAIN_IMAGES` images as uint8 rows (N, 3072), channels first,
    and their fine labels."""
    from reprosuite.engine.data import official

    c = official.load("cifar100")
    x, y = c.x_train[:TRAIN_IMAGES], c.y_train[:TRAIN_IMAGES]
    return {"x": x.reshape(len(x), -1), "y": y.astype(np.int64)}


def tensors(data: dict[str, np.ndarray], device):
    """Normalised images (N, 3, 32, 32) and labels on ``device``."""
    import torch

    from reprosuite.engine.data import augment

    x = augment.normalised(data["x"], MEAN, STD, device).view(-1, *SHAPE)
    return x, torch.as_tensor(data["y"], device=device)


def build_model(channels, seeds, device):
    """VGG-16 (``channels`` per convolution; :data:`VGG16` is the paper's), a member per seed, in training
    mode."""
    from reprosuite.engine.models import conv2d

    n = len(channels)
    if n != len(VGG16):
        raise ValueError(f"VGG-16 has {len(VGG16)} convolutions; vgg_channels lists {n}")
    return conv2d.EnsembleConv2dNet(
        SHAPE,
        CLASSES,
        seeds,
        channels=channels,
        kernels=[3] * n,
        pools=[2 if i in POOLED else 1 for i in range(n)],
        paddings=[1] * n,
        hidden=(HIDDEN, HIDDEN),
        # Dropout before the first linear layer = element dropout of the last convolution's 1 × 1 output
        conv_dropout=[0.0] * (n - 1) + [DROPOUT],
        hidden_dropout=(DROPOUT, 0.0),
        conv_dropout_kind="element",
        dropout_seeds=[int(s) + DROPOUT_OFFSET for s in seeds],
        init="fan_out",
        device=device,
    )


def hessian_losses(cfg, seeds, x, y):
    """The Hessian point's model (dropout off) with the loss of a batch ``idx`` (S, B) of the images ``x`` and
    labels ``y`` (:func:`tensors`) and the full-batch loss in parts (images, closure) of :data:`HESSIAN_CHUNK`
    images, each weighted by its share."""
    from reprosuite.engine.train import functional as fn

    model = build_model(cfg.vgg_channels, seeds, x.device).train(False)

    def batch_loss(idx):
        return fn.cross_entropy(model(x[idx]), y[idx])

    def part(a: int):
        b = min(a + HESSIAN_CHUNK, len(y))
        return b - a, lambda: fn.cross_entropy(model(x[a:b]), y[a:b]) * ((b - a) / len(y))

    return model, batch_loss, [part(a) for a in range(0, len(y), HESSIAN_CHUNK)]


def lr_point(cfg, opt_name: str, batch: int, rates: list[float], x, y, seeds):
    """Every (rate, seed) member at batch size ``batch`` on the images ``x`` and labels ``y`` (:func:`tensors`), a
    one-member fit each, in turn (under a probe the first only, its cost counted for all: the fits differ only in
    the rate and the seed)."""
    import pandas as pd

    from reprosuite.engine.train import probe

    members = [(k, s) for k in rates for s in seeds]  # rate-major, seeds within
    frames = [
        _fit_rate(cfg, opt_name, batch, log2_lr, x, y, [seed])
        for log2_lr, seed in members[: probe.alike(len(members))]
    ]
    return pd.concat(frames, ignore_index=True)


def _fit_rate(cfg, opt_name: str, batch: int, log2_lr: float, x, y, seeds):
    import torch

    from reprosuite.engine.data import augment
    from reprosuite.engine.models import layers
    from reprosuite.engine.train import functional as fn
    from reprosuite.engine.train import optim, trainer

    model = build_model(cfg.vgg_channels, seeds, x.device)
    params, lrs = list(model.parameters()), [2.0**log2_lr] * len(seeds)
    if opt_name == "sgd":
        opt = optim.SGD(params, lr=lrs, momentum=cfg.momentum, weight_decay=0.0)
    else:
        opt = optim.AdamW(params, lr=lrs, weight_decay=0.0)
    stream = fn.MinibatchStream(len(y), batch, seeds, x.device)
    gens = layers.generators([int(s) + AUGMENT_OFFSET for s in seeds]) if cfg.augment else []
    fill = -torch.tensor(MEAN) / torch.tensor(STD)  # a zero pixel, normalised
    n_eval = min(cfg.eval_examples, len(y))

    def loss_fn(step: int):
        idx = stream.at(step)
        inputs = augment.augment(x[idx], gens, fill, PADDING) if gens else x[idx]
        return fn.cross_entropy(model(inputs), y[idx])

    def evaluate(step: int):
        model.train(False)
        logits = fn.logits_in_chunks(model, x[:n_eval], EVAL_CHUNK)  # under a probe the first chunk
        model.train(True)
        return {("train", "loss"): fn.cross_entropy(logits, y[: logits.shape[1]])}

    steps = cfg.epochs * stream.per_epoch
    label = f"{opt_name} B={batch} lr 2^{log2_lr:g} seed {', '.join(map(str, seeds))}"
    history = trainer.fit(
        loss_fn, opt, steps, evaluate, [0, steps], label=label, generators=[*gens, *model.generators]
    )
    labels = [f"{opt_name}|{log2_lr:g}"] * len(seeds)
    typed = {"optimizer": [opt_name] * len(seeds), "log2_lr": [log2_lr] * len(seeds)}
    return history.frame(list(seeds), labels, members=typed)
