"""Device and thread set-up for a training process."""

from __future__ import annotations

import torch


def resolve(device: str) -> torch.device:
    """``auto`` picks CUDA when present; ``cuda`` without a GPU is an error rather than a silent CPU run."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available on this machine")
    return torch.device(device)


def _deterministic() -> None:
    """``torch.use_deterministic_algorithms(True)`` without its import of ``torch._inductor.config`` (1.4 s per
    training job here, ~90 s over the quick suite) to set the flag of a compiler the suite never uses."""
    set_flag = getattr(torch._C, "_set_deterministic_algorithms", None)
    if set_flag is None:  # a torch without the private setter: the public call, import and all
        torch.use_deterministic_algorithms(True)
    else:
        set_flag(True)


def setup(device: str = "auto", threads: int = 1, seed: int | None = None) -> torch.device:
    """Resolve the device and set threads, denormal flushing and determinism for this process.

    Denormals: collapsed features and memorised losses otherwise run ~20x slower on CPU. Threads come
    from Snakemake's ``threads``: two intra-op threads on a loaded 2-core machine were up to 100x slower than one
    for these model sizes.
    """
    dev = resolve(device)
    torch.set_num_threads(max(1, int(threads)))
    if dev.type == "cpu":
        torch.set_flush_denormal(True)
        _deterministic()
    if seed is not None:
        torch.manual_seed(seed)
    return dev
