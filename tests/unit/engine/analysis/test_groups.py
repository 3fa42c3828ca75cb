import numpy as np
import pytest

from reprosuite.engine.analysis import groups


def _table(g):
    return np.round(g.character_table.real, 6)


def test_s3_and_s4_character_tables_have_their_known_values():
    s3 = groups.symmetric(3)
    assert sorted(len(c) for c in s3.classes) == [1, 2, 3]
    # rows: trivial, sign, standard; the class of a transposition (size 3) and of a 3-cycle (size 2)
    sizes = [len(c) for c in s3.classes]
    t = _table(s3)
    col = {size: i for i, size in enumerate(sizes)}
    assert t[:, 0].tolist() == [1, 1, 2]
    assert t[:, col[3]].tolist() == [1, -1, 0]
    assert t[:, col[2]].tolist() == [1, 1, -1]
    s4 = groups.symmetric(4)
    assert sorted(len(c) for c in s4.classes) == [1, 3, 6, 6, 8]
    assert sorted(_table(s4)[:, 0].tolist()) == [1, 1, 2, 3, 3]
    # the 3-cycles (class of size 8) have characters 1, 1, -1, 0, 0
    i8 = [len(c) for c in s4.classes].index(8)
    assert sorted(_table(s4)[:, i8].tolist()) == [-1, 0, 0, 1, 1]
    assert [r.name for r in s4.real_irreps] == ["1a", "1b", "2a", "3a", "3b"]


@pytest.mark.parametrize("name", ["S3", "S4", "S5", "A4", "A5", "D5", "D6", "C5", "C8"])
def test_orthogonality_and_projectors(name):
    g = groups.by_name(name)
    sizes = np.array([len(c) for c in g.classes], dtype=float)
    t = g.character_table
    np.testing.assert_allclose((t * sizes) @ t.conj().T / g.order, np.eye(len(t)), atol=1e-9)
    np.testing.assert_allclose(t.T.conj() @ t, np.diag(g.order / sizes), atol=1e-8)
    projs = [g.projector(r) for r in g.real_irreps]
    np.testing.assert_allclose(sum(projs), np.eye(g.order), atol=1e-9)
    for i, p in enumerate(projs):
        np.testing.assert_allclose(p @ p, p, atol=1e-9)
        np.testing.assert_allclose(p, p.T, atol=1e-12)
        assert round(float(np.trace(p))) == g.real_irreps[i].span
        for q in projs[i + 1 :]:
            np.testing.assert_allclose(p @ q, 0, atol=1e-9)


def test_complex_pairs_merge_into_real_irreps():
    c5 = groups.cyclic(5)
    assert [(r.dim, r.span, r.indicator) for r in c5.real_irreps] == [(1, 1, 1), (2, 2, 0), (2, 2, 0)]
    # the real character of frequency k is 2 cos(2πkx/5)
    chars = sorted(tuple(np.round(r.character, 6)) for r in c5.real_irreps[1:])
    expect = sorted(tuple(np.round(2 * np.cos(2 * np.pi * k * np.arange(5) / 5), 6)) for k in (1, 2))
    assert chars == expect


def test_projector_keeps_matrix_coefficients_of_its_irrep():
    # the standard irrep of S3 is the sign of the permutation action's complement: its coefficient functions are
    # kept by its projector and removed by the others
    s3 = groups.symmetric(3)
    std = s3.real_irreps[2]
    f = std.character  # a class function in the span of its coefficients
    np.testing.assert_allclose(s3.projector(std) @ f, f, atol=1e-12)
    np.testing.assert_allclose(s3.projector(s3.real_irreps[1]) @ f, 0, atol=1e-12)


def test_a_broken_table_is_refused():
    t = groups.cyclic(4).table.copy()
    t[1, 1], t[1, 2] = t[1, 2], t[1, 1]
    with pytest.raises(groups.GroupError):
        groups.Group(t, "broken")
    with pytest.raises(groups.GroupError):
        groups.by_name("Q8")
