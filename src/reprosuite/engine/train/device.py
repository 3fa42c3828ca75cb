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


# glibc malloc's thresholds (mallopt parameters): blocks from this size up are mmapped, and freed memory at the top
# of the heap beyond this size is returned to the system
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 64 * 2**20


def keep_freed_memory() -> bool:
    """Serve blocks below 32 MiB from the heap and keep up to 64 MiB of freed heap for reuse: the values glibc's
    own adaptive rule settles on once a 32 MiB block has been freed, set from the start. With the adaptive rule a
    job whose tensors are a few hundred KiB gives their pages back at each step's frees and faults them in again
    at the next (~90 page faults per step of a 64-member 6×16 deep linear net, 7 % of its step time on one
    thread). The numbers are unchanged: only where memory comes from. False where the C library has no
    ``mallopt`` (not glibc)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    # mmap first: setting either threshold freezes both at their current values
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def setup(device: str = "auto", threads: int = 1, seed: int | None = None) -> torch.device:
    """Resolve the device and set threads, denormal flushing, determinism and (CPU) the allocator for this process.

    Denormals: collapsed features and memorised losses otherwise run ~20x slower on CPU. Threads come
    from Snakemake's ``threads``: two intra-op threads on a loaded 2-core machine were up to 100x slower than one
    for these model sizes. Allocator: :func:`keep_freed_memory`.
    """
    dev = resolve(device)
    torch.set_num_threads(max(1, int(threads)))
    if dev.type == "cpu":
        torch.set_flush_denormal(True)
        _deterministic()
        keep_freed_memory()
    if seed is not None:
        torch.manual_seed(seed)
    return dev
