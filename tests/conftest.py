"""One intra-op thread for in-process training in tests: two threads on a loaded 2-core machine were several
times slower for these model sizes, and the workflow's training jobs use one thread too.

The data directory is made absolute for the whole session (``$REPROSUITE_DATA``, else ``data/`` of the repository,
where ``make test`` fetches MNIST), so that workflows run from temporary copies find the same files."""

import os
from pathlib import Path

import torch

from reprosuite.engine.data import official

torch.set_num_threads(1)
os.environ.setdefault(official.ENV, str(Path(__file__).resolve().parent.parent / "data"))
