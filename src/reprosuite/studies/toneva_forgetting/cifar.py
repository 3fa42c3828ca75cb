"""The CIFAR-10 runs of the full tier: ResNet-18 trained as the official ``run_cifar.py`` trains it.

Official code read (mtoneva/example_forgetting at d51c1aa: ``run_cifar.py``, ``Cutout/model/resnet.py``,
``Cutout/util/cutout.py``, the README's commands): ResNet-18 of pytorch-cifar (:mod:`reprosuite.engine.models.resnet`);
SGD lr 0.1, momentum 0.9, Nesterov, weight decay 5e-4 on every parameter, batch 128 (the last partial batch kept),
200 epochs, ``MultiStepLR(milestones=[60, 120, 160], gamma=0.2)`` stepped with the epoch after each epoch, so epoch
``e`` (from 0) trains at 0.1 · 0.2^(number of milestones < e); images normalised with mean (125.3, 123.0, 113.9) / 255
and std (63.0, 62.1, 66.7) / 255; ``--data_augmentation``: random 32 × 32 crops of the image padded with 4 black
pixels, and horizontal flips (:mod:`reprosuite.engine.data.augment`); the removal runs of Fig. 5 add ``--cutout``
(one 16 × 16 hole); the forgetting runs do not. Correctness is recorded from the training forward pass on the
augmented batch, in training mode; test accuracy after every epoch in eval mode. Seeds 1–5 (the README).
"""

from __future__ import annotations

import numpy as np

from . import training

MEAN = tuple(v / 255 for v in (125.3, 123.0, 113.9))  # official run_cifar.py's Normalize
STD = tuple(v / 255 for v in (63.0, 62.1, 66.7))
SHAPE = (3, 32, 32)
AUGMENT_OFFSET = 60_000  # the augmentation seed of a member: its init seed + this


def images(x: np.ndarray, device):
    """CIFAR uint8 rows (N, 3072), channels first → ``ToTensor`` and ``Normalize``: float32 (N, 3, 32, 32)."""
    from reprosuite.engine.data import augment

    return augment.normalised(x, MEAN, STD, device).view(-1, *SHAPE)


def tensors(data: dict, device) -> dict:
    import torch

    return {
        "x": images(data["cifar10_x"], device),
        "y": torch.as_tensor(data["cifar10_y"], device=device),
        "x_test": images(data["cifar10_x_test"], device),
        "y_test": torch.as_tensor(data["cifar10_y_test"], device=device),
    }


def lr_factor(cfg, epoch: int) -> float:
    """The schedule's factor in epoch ``epoch`` (from 0): ``MultiStepLR.step(epoch)`` after each epoch."""
    return cfg.cifar10_gamma ** sum(m < epoch for m in cfg.cifar10_milestones)


def fit_ensemble(cfg, tensors: dict, keep, init_seeds, order_seeds, record: bool, label: str, labels=None,
                 removal: bool = False):  # fmt: skip
    """Train ResNet-18 members on CIFAR-10 over each member's kept examples, the removal runs with Cutout: each
    member a one-member ensemble of its own (:func:`fit_member`), one after another, so that a step's backward
    frees its activations before the next member's forward (an ensemble of ResNet-18s keeps them all until its
    one backward and ran at 0.80–0.98× a loop over plain nets, ``benchmarks/bench_conv.py``). Returns what
    :func:`training.fit` returns for all members; under a probe the first member only runs, its cost counted for
    all, and the others' records are zeros."""
    from reprosuite.engine.train import probe, trainer

    size = len(init_seeds)
    histories, records, per_epoch = [], [], 0
    for s in range(probe.alike(size)):
        history, per_epoch, rec = fit_member(
            cfg,
            tensors,
            keep[s : s + 1],
            init_seeds[s],
            order_seeds[s],
            record,
            f"{label} member {s}",
            None if labels is None else labels[s : s + 1],
            removal,
        )
        histories.append((history, [s]))
        records.append(rec)
    correct = None
    if record:
        correct = np.concatenate(records + [np.zeros_like(records[0])] * (size - len(records)))
    return trainer.merge(histories, size), per_epoch, correct


def fit_member(cfg, tensors: dict, keep, init_seed: int, order_seed: int, record: bool, label: str, labels=None,
               removal: bool = False):  # fmt: skip
    """One member's fit (:func:`training.fit`): a one-member ResNet-18 from ``init_seed``, its crops, flips and
    Cutout from ``init_seed`` + :data:`AUGMENT_OFFSET`, its data order from ``order_seed``."""
    import torch

    from reprosuite.engine.data import augment
    from reprosuite.engine.models import layers, resnet
    from reprosuite.engine.train import optim

    device = tensors["x"].device
    model = resnet.EnsembleResNet(
        [init_seed], 10, blocks=cfg.cifar10_blocks, widths=cfg.cifar10_widths, device=device
    )
    opt = optim.SGD(
        list(model.parameters()),
        lr=cfg.cifar10_lr,
        momentum=cfg.cifar10_momentum,
        weight_decay=cfg.cifar10_weight_decay,
        nesterov=True,
    )
    gens = layers.generators([init_seed + AUGMENT_OFFSET])
    fill = -torch.tensor(MEAN) / torch.tensor(STD)  # black, normalised
    cutout = cfg.cifar10_cutout if removal else 0

    def inputs(x):
        return augment.augment(x, gens, fill, cfg.cifar10_padding, cutout)

    return training.fit(
        model,
        opt,
        tensors,
        keep,
        [order_seed],
        cfg.cifar10_epochs,
        cfg.cifar10_batch_size,
        record,
        label,
        labels,
        inputs=inputs,
        lr_scale=lambda epoch: lr_factor(cfg, epoch),
        generators=gens,
        buffers=model.running_stats(),
    )
