"""Empirical neural tangent kernels of batched two-layer nets, kernel–target alignment, and the linearised model.

The two-layer net of an ensemble of S members is f_s(x) = Σ_i a_si φ(w_si · x) with hidden weights
w (S, N, D) and readouts a (S, N); inputs x are shared (B, D) or per member (S, B, D). A mean-field net
f = α · mean_i φ(w_i · x) with frozen readouts is a_si = α/N.

- :func:`quadratic_two_layer` is the same net for φ(z) = z + εz²/2 through its sufficient statistics.
- :func:`two_layer_ntk` is the empirical NTK with respect to the hidden weights (and the readouts when they are
  trained): K(x, x') = Σ_i a_i² φ'(h_i) φ'(h'_i) x·x' [+ Σ_i φ(h_i) φ(h'_i)], h_i = w_i·x, in closed form.
- :func:`empirical_ntk` is the generic J Jᵀ from autograd for one model (the reference the tests compare with).
- :func:`kernel_alignment` is the centred kernel–target alignment: yc = y − ȳ, Kc = K minus its column means,
  A = ycᵀ Kc yc / (‖Kc‖_F ‖yc‖²). It is 1 for K = yc ycᵀ and at most 1 (Cauchy–Schwarz).
- :func:`linearised_two_layer` is the first-order Taylor expansion of the net around w0 (the lazy model):
  f_lin(x; w0 + δ) − f(x; w0) = Σ_i a_i φ'(w0_i · x) (δ_i · x). Trained by gradient descent on δ, it is kernel
  regression with the initial NTK.
- :func:`lazy_gd_predictions` gives that training in closed form: full-batch GD with learning rate η on the
  centred loss mean((f_lin − f0 − y)²) over P points, from δ = 0, moves the train residual as
  r_t = (I − 2ηK/P)ᵗ r_0 with K the train NTK, so with K = U diag(λ) Uᵀ the centred predictions after t steps
  are U diag(1 − qᵗ) Uᵀ y on the train set and K(x, X) U diag((1 − qᵗ)/λ) Uᵀ y elsewhere, q = 1 − 2ηλ/P
  (the same trajectory as iterating GD on δ — checked in the tests — at the cost of one eigendecomposition).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


def _pre(x: Tensor, w: Tensor) -> Tensor:
    """Pre-activations h = x wᵀ: (S, B, N) for x (B, D) or (S, B, D) and w (S, N, D)."""
    return torch.matmul(x, w.transpose(-1, -2))


def two_layer(x: Tensor, w: Tensor, readout: Tensor, phi: Callable[[Tensor], Tensor]) -> Tensor:
    """Outputs (S, B) of f_s(x) = Σ_i a_si φ(w_si · x)."""
    return (phi(_pre(x, w)) * readout.unsqueeze(1)).sum(-1)


def quadratic_two_layer(x: Tensor, w: Tensor, readout: Tensor, eps: float) -> Tensor:
    """:func:`two_layer` for φ(z) = z + εz²/2, through its sufficient statistics (S, B).

    Σ_i a_i φ(w_i·x) = (Σ_i a_i w_i)·x + (ε/2) xᵀ (Wᵀ diag(a) W) x: the first moment and the a-weighted second
    moment of the hidden weights (D and D × D) replace the N hidden units, which costs D² instead of N·D per
    input. Same function, same gradients.
    """
    first = torch.matmul(readout.unsqueeze(1), w).squeeze(1)  # Σ_i a_i w_i (S, D)
    second = torch.matmul(w.transpose(-1, -2) * readout.unsqueeze(1), w)  # Wᵀ diag(a) W (S, D, D)
    linear = (x * first.unsqueeze(1)).sum(-1)
    quad = (torch.matmul(x, second) * x).sum(-1)
    return linear + 0.5 * eps * quad


def two_layer_ntk(
    x1: Tensor,
    x2: Tensor,
    w: Tensor,
    readout: Tensor,
    dphi: Callable[[Tensor], Tensor],
    phi: Callable[[Tensor], Tensor] | None = None,
) -> Tensor:
    """Empirical NTK (S, B1, B2) w.r.t. the hidden weights; with ``phi`` given, also w.r.t. the readouts."""
    h1, h2 = _pre(x1, w), _pre(x2, w)
    g1 = dphi(h1) * readout.unsqueeze(1)  # ∂f/∂(w_i · x) = a_i φ'(h_i)
    g2 = dphi(h2) * readout.unsqueeze(1)
    gram = torch.matmul(x1, x2.transpose(-1, -2))  # x·x' (B1, B2) or (S, B1, B2)
    kernel = torch.matmul(g1, g2.transpose(-1, -2)) * gram
    if phi is not None:
        kernel = kernel + torch.matmul(phi(h1), phi(h2).transpose(-1, -2))
    return kernel


def empirical_ntk(fn: Callable[[Tensor, Tensor], Tensor], params: Tensor, x1: Tensor, x2: Tensor) -> Tensor:
    """J(x1) J(x2)ᵀ (B1, B2) for one model ``fn(params, x) -> (B,)``, Jacobians by autograd."""
    from torch.func import jacrev

    j1 = jacrev(fn)(params, x1).reshape(x1.shape[0], -1)
    j2 = jacrev(fn)(params, x2).reshape(x2.shape[0], -1)
    return j1 @ j2.T


def kernel_alignment(kernel: Tensor, y: Tensor) -> Tensor:
    """Kernel–target alignment (S,) of kernels (S, B, B) with targets (S, B) or (B,) (official formula)."""
    y = y.expand(kernel.shape[0], -1) if y.dim() == 1 else y
    yc = y - y.mean(-1, keepdim=True)
    kc = kernel - kernel.mean(-2, keepdim=True)  # column means removed, as K - K.mean(axis=0)
    top = torch.einsum("sb,sbc,sc->s", yc, kc, yc)
    bottom = torch.linalg.matrix_norm(kc) * (yc * yc).sum(-1)
    return top / bottom


def linearised_two_layer(
    x: Tensor, w0: Tensor, delta: Tensor, readout: Tensor, dphi: Callable[[Tensor], Tensor]
) -> Tensor:
    """Centred output (S, B) of the net linearised at w0: f_lin(x; w0 + δ) − f(x; w0)."""
    g = dphi(_pre(x, w0)) * readout.unsqueeze(1)  # (S, B, N)
    return (g * _pre(x, delta)).sum(-1)


def linearised_features(x: Tensor, w0: Tensor, readout: Tensor, dphi: Callable[[Tensor], Tensor]) -> Tensor:
    """The frozen gates a_i φ'(w0_i · x) (S, B, N): with them precomputed the lazy model costs one matmul."""
    return dphi(_pre(x, w0)) * readout.unsqueeze(1)


def lazy_gd_predictions(
    k_train: Tensor, k_cross: Tensor, y: Tensor, lr: Tensor | float, steps: list[int]
) -> tuple[Tensor, Tensor]:
    """Centred predictions of the linearised model after each of ``steps`` GD steps (module docstring).

    ``k_train`` (S, P, P) is the initial NTK on the training inputs, ``k_cross`` (S, B, P) between other inputs
    and the training inputs, ``y`` (S, P) the targets, ``lr`` a number or (S,). Returns train predictions
    (S, T, P) and cross predictions (S, T, B) in float64.
    """
    k_train, k_cross, y = k_train.double(), k_cross.double(), y.double()
    n = k_train.shape[-1]
    lr = torch.as_tensor(lr, dtype=torch.float64, device=k_train.device).expand(k_train.shape[0])
    lam, u = torch.linalg.eigh(k_train)  # (S, P), (S, P, P)
    lam = lam.clamp_min(0.0)
    q = 1 - 2 * lr.unsqueeze(1) * lam / n  # (S, P)
    if bool((q.abs() > 1).any()):
        raise ValueError("learning rate too large for the kernel: GD on the linearised model diverges")
    t = torch.as_tensor(steps, dtype=torch.float64, device=k_train.device)  # (T,)
    decay = q.unsqueeze(1) ** t.view(1, -1, 1)  # (S, T, P)
    proj = torch.einsum("spk,sp->sk", u, y)  # Uᵀy (S, P)
    fitted = 1 - decay  # λ·c_t
    safe = torch.where(lam > 0, lam, torch.ones_like(lam)).unsqueeze(1)
    coef = torch.where(lam.unsqueeze(1) > 0, fitted / safe, 2 * lr.view(-1, 1, 1) * t.view(1, -1, 1) / n)
    train = torch.matmul(fitted * proj.unsqueeze(1), u.transpose(1, 2))  # (S, T, P)
    cross = torch.matmul(coef * proj.unsqueeze(1), torch.matmul(k_cross, u).transpose(1, 2))  # (S, T, B)
    return train, cross
