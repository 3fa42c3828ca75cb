import torch
from torch.nn import functional as F

from reprosuite.engine.train import functional as fn


def test_cross_entropy_and_accuracy_per_member():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 8, 5, generator=g)
    y = torch.randint(0, 5, (8,), generator=g)
    ce = fn.cross_entropy(logits, y)
    assert ce.shape == (3,)
    for s in range(3):
        torch.testing.assert_close(ce[s], F.cross_entropy(logits[s], y))
    acc = fn.accuracy(logits, y)
    torch.testing.assert_close(acc[1], (logits[1].argmax(-1) == y).float().mean())


def test_batches_cover_each_index_at_most_once():
    idx = fn.batches(10, 3, torch.Generator().manual_seed(1))
    assert idx.shape == (3, 3) and len(set(idx.flatten().tolist())) == 9


def test_minibatch_stream_depends_on_seed_and_step_only():
    a = fn.MinibatchStream(20, 5, [3, 4, 3])
    b = fn.MinibatchStream(20, 5, [3, 4, 3])
    for step in (0, 3, 4, 9):  # 4 batches per epoch
        torch.testing.assert_close(a.at(step), b.at(step))
    first = a.at(0)
    torch.testing.assert_close(first[0], first[2])  # members sharing a seed share the order
    assert not torch.equal(first[0], first[1])
    epoch = torch.cat([a.at(i)[1] for i in range(4)])
    assert sorted(epoch.tolist()) == list(range(20))  # every example once per epoch
    assert not torch.equal(a.at(4)[1], a.at(0)[1])  # reshuffled in the next epoch
