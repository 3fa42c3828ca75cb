"""The shared training engine: ensembles of small models trained in one set of batched matmuls."""
