"""Jobs other than training and figures must not pay for heavy imports (~2.2 s for torch, ~1.6 s for
matplotlib + seaborn, ~0.9 s for scipy.stats, per job, over ~190 jobs of the quick suite)."""

import subprocess
import sys

from reprosuite import study as study_mod

HEAVY = ("torch", "matplotlib", "seaborn", "scipy")


def _imported_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_the_cli_and_every_study_module_import_without_torch_plotting_or_scipy():
    modules = [f"reprosuite.studies.{name}" for name in study_mod.names()]
    assert len(modules) >= 25
    code = "import reprosuite.cli, reprosuite.status\n" + "\n".join(f"import {m}" for m in modules)
    assert _imported_after(code) == []


def test_the_probe_sees_a_heavy_import():
    # the check above can fail: the plotting theme pulls matplotlib, seaborn and (through seaborn) scipy in
    drawn = _imported_after("from reprosuite import plotting; plotting.theme()")
    assert drawn == ["matplotlib", "seaborn", "scipy"]


def test_a_training_process_is_set_up_deterministic_without_importing_the_compiler():
    code = (
        "import torch\nfrom reprosuite.engine.train import device\ndevice.setup('cpu', 1)\n"
        "assert torch.are_deterministic_algorithms_enabled()\nassert 'torch._inductor' not in sys.modules"
    )
    assert _imported_after(code) == ["torch"]
