"""The slowly-changing regression problem, the online learner with continual backprop, plasticity probes.

Task streams (numpy, usable in ``make_data``):

- the **slowly-changing regression** problem of Dohare et al. 2024 (arXiv:2306.13812; official code
  shibhansh/loss-of-plasticity, ``lop/slowly_changing_regression/slowly_changing_regression.py`` and
  ``lop/nets/fix_ltu_net.py``): inputs are ``m`` bits, the first ``f`` of which stay fixed for ``flip_after``
  steps ("flipping bits"; with ``flip_one`` one of them, chosen at random, flips at each period boundary, else
  all ``f`` are redrawn) and the other ``m − f`` are fresh random bits at every step; the target is a fixed
  one-hidden-layer net of linear threshold units (LTU) with ±1 weights and biases and per-unit thresholds
  τ = β(m + 1) − S, S = (m − Σ w + b)/2;

Learners and probes:

- :class:`OnlineRegressor`: an ensemble of one-hidden-layer ReLU regressors trained online (one example per
  step) by SGD with coupled L2 weight decay (``torch.optim.SGD`` semantics) and, per member, **continual
  backprop** (official ``lop/algos/gnt.py`` ``GnT``): each hidden unit's utility is a running average (decay η,
  Adam-style bias correction by the unit's age) of its instantaneous utility; every step, among units older than
  the maturity threshold, ``replacement_rate × n_eligible`` units (a fraction turned into one unit with that
  probability) with the lowest bias-corrected utility are re-initialised: input weights redrawn from the
  Kaiming-uniform bound, input bias and outgoing weights zeroed, utility, mean activation and age reset. The
  step loop is written in numpy with hand-derived gradients: online learning of a 20-5-1 net is bound by
  per-operation overhead — measured for 30 members, one example per step, no continual backprop: 39 CPU-µs
  per step here against 824 for an ``EnsembleMLP`` trained through ``trainer.fit`` (autograd and the engine's
  SGD); see :meth:`OnlineRegressor.train`.
- :func:`effective_rank` (Roy & Vetterli 2007, as in the official ``lop/utils/miscellaneous.py``:
  exp of the entropy of the normalised singular values) and :func:`dead_units`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

STREAM_TAG = 104_729  # tags the per-chunk random-bit streams apart from other seeded streams
CBP_TAG = 130_363  # tags continual backprop's per-chunk random streams
UTIL_TYPES = ("contribution", "adaptable_contribution")


# --- task streams -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LTUTarget:
    """A fixed LTU network m → n → 1 (official ``FixLTUNet``)."""

    w1: np.ndarray  # (n, m) in {−1, +1}
    b1: np.ndarray  # (n,)
    w2: np.ndarray  # (n,)
    b2: float
    tau: np.ndarray  # (n,) thresholds

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """x (..., m) → y (...,)."""
        hidden = ((x @ self.w1.T + self.b1) > self.tau).astype(np.float64)
        return hidden @ self.w2 + self.b2


def ltu_target(m: int, n_features: int, beta: float, rng: np.random.Generator) -> LTUTarget:
    w1 = rng.integers(0, 2, size=(n_features, m)).astype(np.float64) * 2 - 1
    b1 = rng.integers(0, 2, size=n_features).astype(np.float64) * 2 - 1
    w2 = rng.integers(0, 2, size=n_features).astype(np.float64) * 2 - 1
    b2 = float(rng.integers(0, 2) * 2 - 1)
    s = (m - w1.sum(axis=1) + b1) / 2  # official: number of −1 input weights (plus half the bias)
    return LTUTarget(w1, b1, w2, b2, beta * (m + 1) - s)


def flip_schedule(n_periods: int, f: int, rng: np.random.Generator, flip_one: bool = True) -> np.ndarray:
    """(n_periods, f) values of the flipping bits per period; ``flip_one`` flips one random bit per period."""
    bits = rng.integers(0, 2, size=(n_periods, f)).astype(np.float64)
    if flip_one:
        for i in range(1, n_periods):
            bits[i] = bits[i - 1]
            j = rng.integers(f)
            bits[i, j] = 1 - bits[i, j]
    return bits


class BitFlipStream:
    """The slowly-changing regression stream of one seed; any chunk of steps is a function of the seed alone."""

    def __init__(
        self,
        seed: int,
        steps: int,
        m: int = 20,
        f: int = 15,
        flip_after: int = 10_000,
        n_target_features: int = 100,
        beta: float = 0.7,
        flip_one: bool = True,
    ):
        if not 0 <= f <= m:
            raise ValueError(f"{f} flipping bits out of {m} inputs")
        self.seed, self.steps, self.m, self.f, self.flip_after = int(seed), steps, m, f, flip_after
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, STREAM_TAG]))
        self.target = ltu_target(m, n_target_features, beta, rng)
        self.schedule = flip_schedule(steps // flip_after + 1, f, rng, flip_one)

    def chunk(self, start: int, size: int, chunk_index: int) -> tuple[np.ndarray, np.ndarray]:
        """Inputs (size, m) and targets (size,) of steps ``start … start + size − 1``."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, STREAM_TAG, int(chunk_index)]))
        steps = np.arange(start, start + size)
        x = np.empty((size, self.m))
        x[:, : self.f] = self.schedule[steps // self.flip_after]
        x[:, self.f :] = rng.integers(0, 2, size=(size, self.m - self.f))
        return x, self.target(x)


# --- plasticity probes -----------------------------------------------------------------------------------


def effective_rank(features: np.ndarray) -> np.ndarray:
    """exp(entropy of σ/Σσ) of (..., n_examples, n_units) matrices (Roy & Vetterli 2007); 0 for a zero matrix."""
    sv = np.linalg.svd(np.asarray(features, dtype=np.float64), compute_uv=False)
    total = sv.sum(axis=-1, keepdims=True)
    p = np.divide(sv, total, out=np.zeros_like(sv), where=total > 0)
    entropy = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)
    return np.where(total[..., 0] > 0, np.exp(entropy), 0.0)


def dead_units(activations: np.ndarray) -> np.ndarray:
    """Number of units (last axis) that are zero on every example (second-to-last axis)."""
    return np.all(np.asarray(activations) == 0, axis=-2).sum(axis=-1)


# --- the online learner with continual backprop ----------------------------------------------------------


class OnlineRegressor:
    """S one-hidden-layer ReLU regressors m → H → 1 trained online, with per-member L2 and continual backprop.

    Hyperparameters are per member: ``lr``, ``weight_decay`` (coupled, on every parameter as in
    ``torch.optim.SGD``), ``replacement_rate`` (0 = plain backprop). Shared: utility ``decay``,
    ``maturity`` threshold and ``util_type``. Initialisation follows the official ``FFNN``: Kaiming-uniform input
    weights (ReLU gain), Kaiming-uniform output weights (linear gain), zero biases.
    """

    def __init__(
        self,
        m: int,
        hidden: int,
        seeds: Sequence[int],
        lr: Sequence[float],
        weight_decay: Sequence[float],
        replacement_rate: Sequence[float],
        decay: float = 0.99,
        maturity: int = 100,
        util_type: str = "adaptable_contribution",
        streams: Sequence[int] | None = None,
    ):
        if util_type not in UTIL_TYPES:
            raise ValueError(f"unknown utility {util_type!r}; choose from {UTIL_TYPES}")
        self.size, self.m, self.hidden = len(seeds), m, hidden
        self.seeds = [int(s) for s in seeds]
        # a member's random stream (for continual backprop's draws); defaults to its index
        self.streams = list(range(self.size)) if streams is None else [int(s) for s in streams]
        self.lr = np.asarray(lr, dtype=np.float64)
        self.wd = np.asarray(weight_decay, dtype=np.float64)
        self.rate = np.asarray(replacement_rate, dtype=np.float64)
        self.decay, self.maturity, self.util_type = float(decay), int(maturity), util_type
        self.bound_in = math.sqrt(2.0) * math.sqrt(3.0 / m)  # Kaiming uniform, ReLU gain
        self.bound_out = math.sqrt(3.0 / hidden)  # Kaiming uniform, linear gain
        w1, w2 = [], []
        for s in self.seeds:
            rng = np.random.default_rng(np.random.SeedSequence([s, 2_718]))
            w1.append(rng.uniform(-self.bound_in, self.bound_in, size=(hidden, m)))
            w2.append(rng.uniform(-self.bound_out, self.bound_out, size=hidden))
        self.w1, self.w2 = np.stack(w1), np.stack(w2)
        self.b1, self.b2 = np.zeros((self.size, hidden)), np.zeros(self.size)
        self.util = np.zeros((self.size, hidden))
        self.mean_act = np.zeros((self.size, hidden))
        self.ages = np.zeros((self.size, hidden))
        self.replaced = np.zeros(self.size)

    # state for checkpoints
    NAMES = ("w1", "b1", "w2", "b2", "util", "mean_act", "ages", "replaced")

    def state(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k).copy() for k in self.NAMES}

    def load(self, state: dict[str, np.ndarray]) -> None:
        for k in self.NAMES:
            setattr(self, k, np.array(state[k], dtype=np.float64))

    def hidden_activations(self, x: np.ndarray) -> np.ndarray:
        """x (B, m) shared → ReLU features (S, B, H)."""
        return np.maximum(np.einsum("bm,shm->sbh", x, self.w1) + self.b1[:, None, :], 0.0)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """x (B, m) shared → (S, B)."""
        return np.einsum("sbh,sh->sb", self.hidden_activations(x), self.w2) + self.b2[:, None]

    def train(
        self, x: np.ndarray, y: np.ndarray, rngs: Sequence[np.random.Generator], lazy: bool = True
    ) -> np.ndarray:
        """Online steps over one chunk: x (K, S, m), y (K, S) → squared errors (K, S) before each update.

        ``rngs`` (one per member) draw continual backprop's replacement decisions and new weights. The update is
        SGD on e² (``F.mse_loss`` of one example) with coupled weight decay, p ← p(1 − lr·wd) − lr·∇p, written
        with as few numpy operations per step as we could (the loop is bound by per-operation overhead).

        Continual backprop's utilities are linear filters of per-step quantities, and they matter only when a
        unit is replaced, which a per-step draw decides before any utility is looked at. With ``lazy`` the
        step loop only stores the features and weights; the utilities are brought up to date in one vectorised
        pass (:meth:`_sync`) when a draw may trigger a replacement, when the buffer is full, and at the end of
        the chunk. ``lazy=False`` updates them at every step like the official code (the reference the tests
        compare against; ~2.5× slower).
        """
        k = x.shape[0]
        errors = np.empty((k, self.size))
        w1, b1, w2, b2 = self.w1, self.b1, self.w2, self.b2
        lr2 = 2.0 * self.lr  # d(e²)/dŷ = 2e
        shrink = 1.0 - self.lr * self.wd
        decay = bool(np.any(self.wd != 0))
        shrink_col, shrink_mat = shrink[:, None], shrink[:, None, None]
        cbp = bool(np.any(self.rate > 0))
        if cbp:
            draws = np.stack([r.random(k) for r in rngs], axis=1)  # (K, S)
            # no replacement is possible at a step where every draw exceeds rate × H
            maybe = (draws <= self.rate * self.hidden).any(axis=1).tolist()
            if lazy:
                buf = min(k, self.BUFFER)
                self._buf_h = np.empty((buf, self.size, self.hidden))
                self._buf_w2 = np.empty((buf, self.size, self.hidden))
                self._buf_w1 = np.empty((buf, self.size, self.hidden, self.m))
                n = 0
        for t in range(k):
            xt = x[t]  # (S, m)
            z = np.matmul(w1, xt[:, :, None])[:, :, 0]
            z += b1
            h = np.maximum(z, 0.0)
            e = (h * w2).sum(axis=1)
            e += b2
            e -= y[t]
            errors[t] = e * e
            gl = lr2 * e  # learning rate × d(e²)/dŷ, (S,)
            dh = (gl[:, None] * w2) * (z > 0)  # with the pre-update output weights
            if decay:
                w1 *= shrink_mat
                b1 *= shrink_col
                w2 *= shrink_col
                b2 *= shrink
            w1 -= dh[:, :, None] * xt[:, None, :]
            b1 -= dh
            w2 -= gl[:, None] * h
            b2 -= gl
            if not cbp:
                continue
            if not lazy:
                self._update_utility(h)
                if maybe[t]:
                    self._replace(draws[t], rngs)
                continue
            self._buf_h[n] = h
            self._buf_w2[n] = w2
            self._buf_w1[n] = w1
            n += 1
            if maybe[t]:
                self._sync(n)
                n = 0
                self._replace(draws[t], rngs)
            elif n == self._buf_h.shape[0]:
                self._sync(n)
                n = 0
        if cbp and lazy and n:
            self._sync(n)
        return errors

    BUFFER = 1000  # steps of features and weights kept between utility updates (lazy mode)

    def _new_utility(self, h, w1, w2, mean_act, ages):
        """Instantaneous utility (official ``update_utility``); works on (S, H) or stacked (n, S, H) arrays."""
        if self.util_type == "contribution":
            return np.abs(w2) * np.abs(h)
        # adaptable_contribution: |w_out| · |h − bias-corrected mean h| / mean |w_in|
        corrected_act = mean_act / (1.0 - self.decay**ages)
        return np.abs(w2) * np.abs(h - corrected_act) / np.abs(w1).mean(axis=-1)

    def _update_utility(self, h: np.ndarray) -> None:
        """One step of the official ``test_features`` utility update, for every member."""
        eta = self.decay
        self.ages += 1
        self.mean_act *= eta
        self.mean_act += (1 - eta) * h
        new = self._new_utility(h, self.w1, self.w2, self.mean_act, self.ages)
        self.util *= eta
        self.util += (1 - eta) * new

    def _sync(self, n: int) -> None:
        """Apply :meth:`_update_utility` for the ``n`` buffered steps at once (two running averages)."""
        eta = self.decay
        h = self._buf_h[:n]
        ages = self.ages[None] + np.arange(1, n + 1).reshape(-1, 1, 1)
        mean_act = running_average(h, self.mean_act, eta)
        new = self._new_utility(h, self._buf_w1[:n], self._buf_w2[:n], mean_act, ages)
        util = running_average(new, self.util, eta)
        self.mean_act, self.util, self.ages = mean_act[-1].copy(), util[-1].copy(), ages[-1].copy()

    def _replace(self, draw: np.ndarray, rngs) -> None:
        """The replacement half of the official ``test_features`` and ``gen_new_features``."""
        eligible = self.ages > self.maturity
        expected = self.rate * eligible.sum(axis=1)
        replace = (expected > 0) & ((expected >= 1) | (draw <= expected))
        for s in np.flatnonzero(replace):
            # official (accumulate=False): a fraction below one becomes one unit with that probability
            n = max(int(expected[s]), 1)
            idx = np.flatnonzero(eligible[s])
            corrected = self.util[s, idx] / (1.0 - self.decay ** self.ages[s, idx])
            chosen = idx[np.argsort(corrected, kind="stable")[:n]]
            self.reinit(s, chosen, rngs[s])

    def reinit(self, member: int, units: np.ndarray, rng: np.random.Generator) -> None:
        """Re-initialise ``units`` of one member (official ``gen_new_features``; see the module docstring)."""
        # Official order: utility and mean activation are zeroed in test_features *before* gen_new_features
        # uses the mean activation to correct the output bias, so that correction is always zero; we keep it so.
        self.util[member, units] = 0.0
        self.mean_act[member, units] = 0.0
        self.w1[member, units] = rng.uniform(-self.bound_in, self.bound_in, size=(len(units), self.m))
        self.b1[member, units] = 0.0
        self.w2[member, units] = 0.0
        self.ages[member, units] = 0.0
        self.replaced[member] += len(units)


def running_average(x: np.ndarray, previous: np.ndarray, eta: float, block: int = 128) -> np.ndarray:
    """y_j = η y_{j−1} + (1 − η) x_j along axis 0 from y_{−1} = ``previous``, vectorised in closed form.

    y_j = η^{j+1} y_{−1} + (1 − η) Σ_{i≤j} η^{j−i} x_i, evaluated in blocks short enough that η^{−block} stays
    far from overflow (it equals the step-by-step recursion to rounding).
    """
    out = np.empty_like(x)
    prev = previous
    for start in range(0, x.shape[0], block):
        xb = x[start : start + block]
        p = (eta ** np.arange(1, xb.shape[0] + 1)).reshape(-1, *[1] * (x.ndim - 1))
        out[start : start + block] = p * (prev + ((1 - eta) / eta) * np.cumsum(xb / (p / eta), axis=0))
        prev = out[start + xb.shape[0] - 1]
    return out


def cbp_generators(
    seeds: Sequence[int], streams: Sequence[int], chunk_index: int
) -> list[np.random.Generator]:
    """One numpy generator per member for one chunk, a function of (seed, stream, chunk) only."""
    return [
        np.random.default_rng(np.random.SeedSequence([int(s), int(k), CBP_TAG, int(chunk_index)]))
        for s, k in zip(seeds, streams, strict=True)
    ]
