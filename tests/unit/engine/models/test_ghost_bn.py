"""Ghost batch normalisation for ensembles equals torch's BatchNorm applied per member and per chunk."""

import pytest
import torch
from torch.nn import functional as F

from reprosuite.engine.models.ghost_bn import EnsembleGhostBatchNorm


def _reference(x, weight, bias, rm, rv, ghost, momentum=0.1, last=True):
    """Member by member, chunk by chunk, through F.batch_norm (running statistics updated in place); x has its
    channels last, F.batch_norm wants them second."""
    if x.dim() == 4 and last:
        return _reference(x.transpose(2, 3), weight, bias, rm, rv, ghost, momentum, False).transpose(2, 3)
    outs = []
    for s in range(x.shape[0]):
        chunks = []
        for chunk in x[s].split(ghost):
            chunks.append(F.batch_norm(chunk, rm[s], rv[s], weight[s], bias[s], True, momentum, 1e-5))
        outs.append(torch.cat(chunks))
    return torch.stack(outs)


@pytest.mark.parametrize("shape", [(3, 32, 5), (2, 24, 7, 4)])
@pytest.mark.parametrize("ghost", [None, 8])
def test_matches_batchnorm_per_chunk_with_running_stats(shape, ghost):
    torch.manual_seed(0)
    x = torch.randn(shape, dtype=torch.float64) * 3 + 1
    bn = EnsembleGhostBatchNorm(shape[0], shape[-1], dtype=torch.float64)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    rm, rv = bn.running_mean.clone(), bn.running_var.clone()
    for _ in range(2):  # running statistics accumulate over calls
        y = bn(x, ghost)
        ref = _reference(x, bn.weight.detach(), bn.bias.detach(), rm, rv, ghost or shape[1])
    assert torch.allclose(y, ref, atol=1e-10)
    assert torch.allclose(bn.running_mean, rm, atol=1e-12)
    assert torch.allclose(bn.running_var, rv, atol=1e-12)
    bn.eval()
    xt = x.transpose(2, 3) if x.dim() == 4 else x  # F.batch_norm wants the channels second
    ref_eval = torch.stack(
        [
            F.batch_norm(xt[s], rm[s], rv[s], bn.weight[s], bn.bias[s], False, 0.1, 1e-5)
            for s in range(shape[0])
        ]
    )
    ref_eval = ref_eval.transpose(2, 3) if x.dim() == 4 else ref_eval
    assert torch.allclose(bn(x), ref_eval, atol=1e-10)


def test_one_call_gradient_equals_chunked_loop():
    torch.manual_seed(1)
    x = torch.randn(2, 16, 6, dtype=torch.float64)
    w = torch.randn(2, 6, 3, dtype=torch.float64, requires_grad=True)
    bn = EnsembleGhostBatchNorm(2, 6, dtype=torch.float64)

    def loss(xb, ghost):
        return (torch.tanh(bn(xb, ghost)) @ w).pow(2).mean()

    g_full = torch.autograd.grad(loss(x, 4), [w, bn.weight, bn.bias])
    acc = [torch.zeros_like(t) for t in (w, bn.weight, bn.bias)]
    chunks = x.split(4, dim=1)
    for chunk in chunks:
        for a, g in zip(acc, torch.autograd.grad(loss(chunk, 4), [w, bn.weight, bn.bias]), strict=True):
            a += g / len(chunks)
    for a, g in zip(acc, g_full, strict=True):
        assert torch.allclose(a, g, atol=1e-12)


def test_refuses_a_batch_that_is_not_a_multiple_of_the_ghost_size():
    bn = EnsembleGhostBatchNorm(2, 3)
    with pytest.raises(ValueError, match="multiple"):
        bn(torch.randn(2, 10, 3), ghost=4)
    with pytest.raises(ValueError, match="expected"):
        bn(torch.randn(3, 10, 3))
