"""The engine's convolutional ensembles vs a loop over plain per-member nets, measured side by side in one run.

Workloads: the full tiers' convolutional jobs. For each, one training step (forward, cross-entropy, backward) of
S members on their own minibatches, (a) on the engine's ensemble (or, where a study trains its members as
one-member ensembles in turn, on those) and (b) on S plain ``nn.Module`` nets holding the same weights, one after
another (``EnsembleConv2dNet.member``; for the ResNet, the members' slices run as plain
``F.conv2d`` / ``F.batch_norm`` calls, so (a) and (b) differ only by the stacked parameters). Prints CPU seconds
per member-step of each arm (the fastest of ``--repeats`` rounds, arms alternating) and (b) / (a).

    .venv/bin/python benchmarks/bench_conv.py              # CPU, 1 thread
    .venv/bin/python benchmarks/bench_conv.py --device cuda
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from functools import partial

import torch
from torch.nn import functional as F

from reprosuite.engine.models import resnet
from reprosuite.engine.train import device as train_device
from reprosuite.studies import elu_bias_shift, toneva_forgetting
from reprosuite.studies.elu_bias_shift import cifar100
from reprosuite.studies.lr_batch_rmt import cifar100 as lr_cifar100
from reprosuite.studies.toneva_forgetting import training


def workloads(device):
    """(name, ensemble, plain members, inputs (S, B, ...), classes)."""
    out = []
    cfg = toneva_forgetting.Config()
    net = training.build_model(cfg, "cnn", list(range(10)), device, dropout=0.0)
    out.append(
        (
            "toneva full: MNIST CNN, S 10, B 64",
            net,
            [net.member(i) for i in range(10)],
            (10, 64, 1, 28, 28),
            10,
        )
    )
    cfg = elu_bias_shift.Config()
    net = cifar100.build_model(replace(cfg, cifar100_dropout=(0.0,) * 10), "elu", list(range(5)), device)
    out.append(
        (
            "elu full: CIFAR-100 CNN, S 5, B 100",
            net,
            [net.member(i) for i in range(5)],
            (5, 100, 3, 32, 32),
            100,
        )
    )
    for batch in (16, 128):  # lr_batch_rmt's smallest batch and the official code's
        net = lr_cifar100.build_model(lr_cifar100.VGG16, list(range(5)), device)
        plain = [net.member(i) for i in range(5)]
        out.append((f"VGG-16 grouped, S 5, B {batch}", net, plain, (5, batch, 3, 32, 32), 100))
        # as lr_batch_rmt trains them: one-member nets in turn
        ones = [lr_cifar100.build_model(lr_cifar100.VGG16, [s], device) for s in range(5)]
        plain = [one.member(0) for one in ones]
        out.append((f"lr_batch_rmt full: VGG-16 in turn, B {batch}", ones, plain, (5, batch, 3, 32, 32), 100))
    net = resnet.EnsembleResNet(list(range(2)), device=device)
    plain = [resnet_member(net, i) for i in range(2)]
    out.append(("ResNet-18 ensemble, S 2, B 128", net, plain, (2, 128, 3, 32, 32), 10))
    # as toneva trains them: one-member nets in turn
    ones = [resnet.EnsembleResNet([s], device=device) for s in range(2)]
    plain = [resnet_member(one, 0) for one in ones]
    out.append(("toneva full: ResNet-18 in turn, B 128", ones, plain, (2, 128, 3, 32, 32), 10))
    return out


def timed(fn, device) -> float:
    """Seconds of one call: CPU time on a CPU, wall time after synchronising on a GPU."""
    clock = time.process_time if device.type == "cpu" else time.perf_counter
    began = clock()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return clock() - began


def ensemble_step(net, x, y) -> None:
    if isinstance(net, list):  # one-member ensembles, one after another
        for i, one in enumerate(net):
            F.cross_entropy(one(x[i : i + 1])[0], y[i]).backward()
        return
    F.cross_entropy(net(x).flatten(0, 1), y.flatten()).backward()


def loop_step(plain, x, y) -> None:
    for i, member in enumerate(plain):
        F.cross_entropy(member(x[i]), y[i]).backward()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = train_device.setup(args.device, args.threads)
    print(f"{'workload':40s} {'ensemble s':>11s} {'plain s':>9s} {'plain/ens':>9s}")
    for name, net, plain, shape, classes in workloads(device):
        x = torch.randn(shape, device=device)
        y = torch.randint(0, classes, shape[:2], device=device)
        arms = {"ensemble": partial(ensemble_step, net, x, y), "loop": partial(loop_step, plain, x, y)}
        best = {arm: float("inf") for arm in arms}
        for fn in arms.values():  # warm-up
            fn()
        for _ in range(args.repeats):  # the arms in turn, the fastest of each
            for arm, fn in arms.items():
                best[arm] = min(best[arm], timed(fn, device) / shape[0])
        print(
            f"{name:40s} {best['ensemble']:11.3f} {best['loop']:9.3f} {best['loop'] / best['ensemble']:9.2f}"
        )


def resnet_member(net: resnet.EnsembleResNet, s: int):
    """Member ``s`` of ``net`` as a net of its own (a one-member ensemble holding a copy of its parameters)."""
    one = resnet.EnsembleResNet([0], device=net.lin_w.device)
    with torch.no_grad():
        for mine, theirs in zip(one.parameters(), net.parameters(), strict=True):
            mine.copy_(theirs[s : s + 1])
    return lambda x: one(x)[0]


if __name__ == "__main__":
    main()
