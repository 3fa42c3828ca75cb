"""The official initialisation of the progress-measures transformer (torch: imported by ``train`` only)."""

from __future__ import annotations

import math


def official_init(model, seeds: list[int], p: int, d_model: int, d_mlp: int) -> None:
    """Redraw the weights as the official ``transformers.py``: W_E, W_Q/K/V, W_O, W_in, W_out ~ N(0, 1/d_model),
    W_U ~ N(0, 1/d_vocab) with d_vocab = p + 1 (its positions are learned, ours stay fixed sinusoids)."""
    import torch

    from reprosuite.engine.models.layers import generators, init_weight

    gens = generators(seeds)
    d, scale = d_model, 1 / math.sqrt(d_model)
    shapes = [
        (model.embed, (p + 1, d), scale),
        (model.wqkv[0], (3 * d, d), scale),
        (model.wo[0], (d, d), scale),
        (model.w_in[0], (d_mlp, d), scale),
        (model.w_out[0], (d, d_mlp), scale),
        (model.unembed, (p, d), 1 / math.sqrt(p + 1)),
    ]
    with torch.no_grad():
        for param, shape, sd in shapes:
            param.copy_(init_weight(shape, "gaussian", gens, sd).to(param.dtype))
