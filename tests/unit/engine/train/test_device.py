"""Process set-up for a CPU training job: the allocator keeps freed memory for the next step instead of faulting
it back in."""

import subprocess
import sys

import pytest

# training steps of a 64-member ensemble of 6×16 deep linear nets on batches of 128: activations of 512 KiB
STEPS = """
import resource, sys, torch
from reprosuite.engine.models import layers
from reprosuite.engine.train import device, optim
if sys.argv[1] == "setup":
    device.setup("cpu", 1)
else:
    torch.set_num_threads(1)
model = layers.EnsembleMLP((16,) * 7, range(64), activation="linear")
opt = optim.SGD(list(model.parameters()), lr=1e-3, momentum=0.9)
x, y = torch.randn(128, 16), torch.randn(128, 16)
def step():
    loss = ((model(x) - y) ** 2).mean(dim=(1, 2))
    opt.zero_grad()
    loss.sum().backward()
    opt.step()
for _ in range(30):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_cpu_job_reuses_freed_memory_instead_of_faulting_it_in_again():
    from reprosuite.engine.train import device

    if not device.keep_freed_memory():
        pytest.skip("the C library has no mallopt (not glibc)")
    plain, tuned = page_faults("plain"), page_faults("setup")
    assert plain > 50 * 20  # glibc's adaptive thresholds: freed activations faulted in again every step
    assert tuned * 10 < plain, f"{tuned} page faults in 50 steps after device.setup, {plain} without"
