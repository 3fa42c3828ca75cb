"""Finite groups from multiplication tables, their conjugacy classes, character tables and irrep projectors.

A :class:`Group` is its multiplication table ``table[x, y] = index of x·y`` (element 0 the identity). The
character table is computed numerically from the class algebra (Burnside's method): the class-sum structure
constants ``a_ijk`` define commuting matrices ``(A_i)_jk = a_ijk``; their common right eigenvectors, normalised to 1
on the identity class, are the central characters ``ω_χ(C_i) = |C_i| χ(g_i) / χ(1)``, and
``χ(1)² = |G| / Σ_i |ω(C_i)|² / |C_i|``. This needs nothing but the table, for any finite group.

Real irreducible representations (what a real-valued network can hold) follow from the Frobenius–Schur indicator
``ν = Σ_g χ(g²) / |G|``: ``ν = 1`` a real irrep with character χ; ``ν = 0`` a complex pair merged into one real
irrep with character χ + χ̄; ``ν = −1`` a quaternionic irrep, real character 2χ. The orthogonal projector onto
the span of a complex irrep's matrix coefficients (functions on G) is ``(d/|G|) χ(x y⁻¹)``; a real irrep's is the
sum over its complex constituents, and its trace (the span's dimension) is Σ d² over them.

Builders: :func:`symmetric`, :func:`alternating`, :func:`dihedral`, :func:`cyclic`, and :func:`from_permutations`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

TOL = 1e-6


class GroupError(ValueError):
    """A table that is not a group's, or a numerical character computation that failed its checks."""


@dataclass(frozen=True)
class RealIrrep:
    """A real irreducible representation: its name, real character per element, real dimension χ(1), and the
    dimension of the span of its matrix coefficients (Σ d² over its complex constituents)."""

    name: str
    character: np.ndarray = field(repr=False)  # (|G|,) real
    dim: int
    span: int
    indicator: int  # Frobenius–Schur: 1 real, 0 complex pair, -1 quaternionic

    @property
    def trivial(self) -> bool:
        return self.dim == 1 and bool(np.allclose(self.character, 1.0))


class Group:
    """A finite group given by its multiplication table (``table[x, y] = x·y``; element 0 the identity)."""

    def __init__(self, table: np.ndarray, name: str = "G"):
        t = np.asarray(table, dtype=np.int64)
        n = t.shape[0]
        if t.shape != (n, n) or t.min() < 0 or t.max() >= n:
            raise GroupError(f"{name}: a multiplication table is an n×n array of indices < n, got {t.shape}")
        if not (np.array_equal(t[0], np.arange(n)) and np.array_equal(t[:, 0], np.arange(n))):
            raise GroupError(f"{name}: element 0 must be the identity")
        if any(len(set(row)) != n for row in t) or any(len(set(col)) != n for col in t.T):
            raise GroupError(f"{name}: not a Latin square, so not a group")
        self.table, self.name, self.order = t, name, n
        if n <= 200:  # associativity, exhaustively for small groups: (xy)z = x(yz)
            left = t[t[:, :, None], np.arange(n)[None, None, :]]
            right = t[np.arange(n)[:, None, None], t[None, :, :]]
            if not np.array_equal(left, right):
                raise GroupError(f"{name}: the table is not associative")
        self.inverse = np.argmax(t == 0, axis=1)

    # ------------------------------------------------------------------------------------------ classes
    @cached_property
    def classes(self) -> list[np.ndarray]:
        """Conjugacy classes (sorted element indices), ordered by their smallest element (identity first)."""
        n, t, inv = self.order, self.table, self.inverse
        # conj[g, x] = x g x⁻¹
        conj = t[t[np.arange(n)[None, :], np.arange(n)[:, None]], inv[None, :]]
        seen = np.full(n, -1)
        out = []
        for g in range(n):
            if seen[g] < 0:
                members = np.unique(conj[g])
                seen[members] = len(out)
                out.append(members)
        return out

    @cached_property
    def class_of(self) -> np.ndarray:
        idx = np.empty(self.order, dtype=np.int64)
        for i, c in enumerate(self.classes):
            idx[c] = i
        return idx

    # ------------------------------------------------------------------------------------------ characters
    @cached_property
    def character_table(self) -> np.ndarray:
        """Complex irreducible characters, (k, k): row per irrep (trivial first, then by dimension), column per
        class, from the eigenvectors of the class algebra's structure-constant matrices."""
        n, k = self.order, len(self.classes)
        sizes = np.array([len(c) for c in self.classes], dtype=float)
        cls, t, inv = self.class_of, self.table, self.inverse
        a = np.zeros((k, k, k))  # a[i, j, l] = #{(x, y): x ∈ C_i, y ∈ C_j, x y = z_l}
        for j_l, c in enumerate(self.classes):
            z = c[0]
            ys = t[inv, z]  # y = x⁻¹ z for every x
            np.add.at(a, (cls, cls[ys], j_l), 1.0)
        rng = np.random.default_rng(0)
        m = np.tensordot(rng.standard_normal(k), a, axes=1)  # a generic element of the class algebra
        _, vecs = np.linalg.eig(m)
        if abs(np.linalg.det(vecs)) < 1e-10:
            raise GroupError(f"{self.name}: degenerate class-algebra eigenvectors")
        rows = []
        for v in vecs.T:
            w = v / v[0]  # central character, ω(identity class) = 1
            deg = math.sqrt(n / float(np.sum(np.abs(w) ** 2 / sizes)))
            rows.append(np.round(deg) * w / sizes)
        table = np.array(rows)
        table = self._clean(table)
        order = sorted(range(k), key=lambda r: (round(table[r, 0].real), not np.allclose(table[r], 1.0)))
        table = table[order]
        self._check(table, sizes)
        return table

    @staticmethod
    def _clean(table: np.ndarray) -> np.ndarray:
        re, im = table.real.copy(), table.imag.copy()
        re[np.abs(re - np.round(re)) < 1e-9] = np.round(re[np.abs(re - np.round(re)) < 1e-9])
        im[np.abs(im) < 1e-9] = 0.0
        return re + 1j * im

    def _check(self, table: np.ndarray, sizes: np.ndarray) -> None:
        gram = (table * sizes) @ table.conj().T / self.order
        if not np.allclose(gram, np.eye(len(table)), atol=TOL):
            raise GroupError(f"{self.name}: characters fail the orthogonality relations")
        if not math.isclose(float(np.sum(table[:, 0].real ** 2)), self.order, rel_tol=1e-9):
            raise GroupError(f"{self.name}: Σ χ(1)² ≠ |G|")

    def characters(self) -> np.ndarray:
        """Complex characters per element, (k, |G|)."""
        return self.character_table[:, self.class_of]

    @cached_property
    def real_irreps(self) -> list[RealIrrep]:
        """The real irreducible representations, trivial first, then by real dimension; named by real dimension
        and a letter (``1a``, ``1b``, ``2a`` …) in a deterministic order."""
        chars = self.characters()
        square = self.table[np.arange(self.order), np.arange(self.order)]
        done, found = set(), []
        for i, chi in enumerate(chars):
            if i in done:
                continue
            nu = int(round(float(np.mean(chi[square]).real)))
            d = int(round(chi[0].real))
            if nu == 1:
                found.append((chi.real, d, d * d, nu))
                done.add(i)
            elif nu == 0:
                j = next(j for j in range(len(chars)) if j not in done and np.allclose(chars[j], chi.conj()))
                done |= {i, j}
                found.append((2 * chi.real, 2 * d, 2 * d * d, nu))
            else:
                found.append((2 * chi.real, 2 * d, d * d, nu))
                done.add(i)
        found.sort(key=lambda f: (f[1], not np.allclose(f[0], 1.0), tuple(-np.round(f[0], 6))))
        out, counts = [], {}
        for chi, d, span, nu in found:
            counts[d] = counts.get(d, 0) + 1
            out.append(RealIrrep(f"{d}{chr(96 + counts[d])}", chi, d, span, nu))
        return out

    def projector(self, irrep: RealIrrep) -> np.ndarray:
        """The orthogonal projector (|G|, |G|) onto the span of ``irrep``'s matrix coefficients as functions on
        G: Σ over complex constituents of (d/|G|) χ(x y⁻¹)."""
        xy = self.table[:, self.inverse]  # xy[x, y] = x y⁻¹
        scale = {1: 1.0, 0: 1.0, -1: 0.5}[irrep.indicator]  # χ_R = χ + χ̄ (d each), or 2χ
        d_complex = irrep.dim if irrep.indicator == 1 else irrep.dim // 2
        return scale * d_complex / self.order * irrep.character[xy]

    def character_cube(self, irrep: RealIrrep) -> np.ndarray:
        """K[g, c] = χ(g c⁻¹): the logits of the representation algorithm as a function of (ab = g, c)."""
        return irrep.character[self.table[:, self.inverse]]


# ---------------------------------------------------------------------------------------------- builders
def from_permutations(perms: list[tuple[int, ...]], name: str) -> Group:
    """The group of the given permutations (closed under composition, identity first); x·y = x ∘ y."""
    index = {p: i for i, p in enumerate(perms)}
    if len(index) != len(perms) or perms[0] != tuple(range(len(perms[0]))):
        raise GroupError(f"{name}: permutations must be distinct, the identity first")
    table = np.array([[index[tuple(x[j] for j in y)] for y in perms] for x in perms])
    return Group(table, name)


def _sign(p: tuple[int, ...]) -> int:
    s, seen = 1, set()
    for i in range(len(p)):
        if i in seen:
            continue
        j, length = i, 0
        while j not in seen:
            seen.add(j)
            j, length = p[j], length + 1
        s *= -1 if length % 2 == 0 else 1
    return s


def symmetric(n: int) -> Group:
    return from_permutations(list(itertools.permutations(range(n))), f"S{n}")


def alternating(n: int) -> Group:
    return from_permutations([p for p in itertools.permutations(range(n)) if _sign(p) == 1], f"A{n}")


def cyclic(n: int) -> Group:
    x = np.arange(n)
    return Group((x[:, None] + x[None, :]) % n, f"C{n}")


def dihedral(n: int) -> Group:
    """D_n of order 2n: element r^k s^f at index f·n + k; (r^a s^f)(r^b s^g) = r^(a + (−1)^f b) s^(f+g)."""
    els = [(k, f) for f in (0, 1) for k in range(n)]
    table = np.array(
        [[((a + (b if f == 0 else -b)) % n) + n * ((f + g) % 2) for b, g in els] for a, f in els]
    )
    return Group(table, f"D{n}")


def by_name(name: str) -> Group:
    """``S5``, ``A5``, ``D59``, ``C113`` …"""
    kind, n = name[0], int(name[1:])
    builders = {"S": symmetric, "A": alternating, "D": dihedral, "C": cyclic}
    if kind not in builders:
        raise GroupError(f"unknown group {name!r}: S<n>, A<n>, D<n> or C<n>")
    return builders[kind](n)
