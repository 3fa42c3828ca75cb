import torch

from reprosuite.studies.icl_linear_regression import model as icl


def model(seeds, layers=2):
    torch.manual_seed(0)
    return icl.EnsembleICLTransformer(
        d_in=4, max_len=64, d_model=16, heads=2, layers=layers, seeds=seeds, dtype=torch.float64
    )


def test_prompt_tokens_interleave():
    x = torch.arange(6.0).view(1, 2, 3)
    y = torch.tensor([[10.0, 20.0]])
    tok = icl.prompt_tokens(x, y)
    assert tok.shape == (1, 4, 4)
    torch.testing.assert_close(tok[0, 0], torch.tensor([0.0, 0, 1, 2]))
    torch.testing.assert_close(tok[0, 1], torch.tensor([10.0, 0, 0, 0]))
    torch.testing.assert_close(tok[0, 3], torch.tensor([20.0, 0, 0, 0]))


def test_output_is_causal():
    net = model([0])
    tok = torch.randn(1, 2, 6, 4, dtype=torch.float64)
    out = net(tok)
    changed = tok.clone()
    changed[:, :, 4:] += 1.0
    torch.testing.assert_close(net(changed)[:, :, :4], out[:, :, :4])


def test_probes_score_like_separate_prefix_prompts():
    net = model([0, 1])
    n, m, d = 3, 2, 3
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 1, n, d, generator=gen, dtype=torch.float64)
    y = torch.randn(2, 1, n, generator=gen, dtype=torch.float64)
    probes = torch.randn(2, 1, n * m, d, generator=gen, dtype=torch.float64)
    ctx = icl.prompt_tokens(x, y)
    probe_tok = icl.prompt_tokens(probes, torch.zeros(2, 1, n * m, dtype=torch.float64))[:, :, 0::2]
    pos, mask = icl.probe_layout(n, m)
    out = net(torch.cat([ctx, probe_tok], dim=2), pos, mask)[:, :, 2 * n :]  # (S, 1, n·m)
    for k in range(n):
        for j in range(m):
            seq = torch.cat([ctx[:, :, : 2 * k], probe_tok[:, :, k * m + j : k * m + j + 1]], dim=2)
            torch.testing.assert_close(out[:, :, k * m + j], net(seq)[:, :, -1])


def test_members_equal_single_models():
    both = model([3, 4])
    alone = model([4])
    tok = torch.randn(2, 3, 6, 4, dtype=torch.float64)
    torch.testing.assert_close(both(tok)[1], alone(tok[1:])[0])


def test_probe_outputs_in_chunks_equal_one_pass():
    """Chunking the evaluation prompts bounds memory only: every chunk size gives the one-pass outputs exactly.

    At the quick tier's sizes, where every product of a pass is one BLAS GEMM per member whatever the chunk (ATen
    multiplies tiny ones, K·M·N < 400, in a loop of its own that rounds differently)."""
    n, m, d, t = 16, 16, 4, 6
    net = icl.EnsembleICLTransformer(d + 1, 2 * n, 32, 2, 2, [0, 1])
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(t, n, d, generator=gen), torch.randn(2, t, n, generator=gen)
    probes = torch.randn(t, n * m, d, generator=gen)
    ctx = icl.prompt_tokens(x.expand(2, -1, -1, -1), y)
    probe_tok = icl.prompt_tokens(probes, torch.zeros(t, n * m))[:, 0::2].expand(2, -1, -1, -1)
    pos, mask = icl.probe_layout(n, m)
    with torch.no_grad():
        direct = net(torch.cat([ctx, probe_tok], dim=2), pos, mask)
        for chunk in (1, 4, t, 10):
            assert torch.equal(icl.probe_outputs(net, x, y, probes, m, chunk), direct)
