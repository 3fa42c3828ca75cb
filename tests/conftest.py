"""One intra-op thread for in-process training in tests: two threads on a loaded 2-core machine were several
times slower for these model sizes, and the workflow's training jobs use one thread too."""

import torch

torch.set_num_threads(1)
