"""Analyses of trained ensembles: Hessian spectra, neural tangent kernels, interval bounds, robustness."""
