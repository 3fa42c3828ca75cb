"""The engine knows no paper: each engine module serves at least two studies, or is a textbook tool on the
allowlist below (with the reason it stays in the engine). One paper's model, data or analysis lives in its study."""

import ast
import pkgutil
from pathlib import Path

import reprosuite
from reprosuite import study

SRC = Path(reprosuite.__file__).parent

# Engine modules with fewer than two studies using them, kept because they are textbook tools that name no paper
# and that studies to come will need.
ALLOWLIST = {
    "reprosuite.engine.models.conv": "batched 1-D CNN (MNIST-1D's ConvBase generalised)",
    "reprosuite.engine.models.parametrization": "standard / NTK / maximal-update width parametrisations",
    "reprosuite.engine.analysis.hessian": "largest Hessian eigenvalue by power iteration",
    "reprosuite.engine.analysis.kernels": "empirical NTK, kernel alignment, linearised models",
    "reprosuite.engine.analysis.ibp": "interval bound propagation",
    "reprosuite.engine.analysis.robustness": "PGD attacks and local complexity of ReLU networks",
    "reprosuite.engine.analysis.lmc": "linear-mode-connectivity loss barrier between two parameter sets",
    "reprosuite.engine.analysis.emc": "effective-model-complexity search (doubling + bisection, censoring flags)",
    "reprosuite.engine.analysis.groups": "finite groups from multiplication tables: classes, character tables, "
    "real-irrep projectors",
    "reprosuite.engine.models.resnet": "batched CIFAR ResNets (basic blocks, BatchNorm statistics per member)",
    "reprosuite.engine.models.recurrent": "batched LSTM / vanilla / stack- and tape-augmented RNN cells",
    "reprosuite.engine.train.forward_forward": "layer-local forward-forward training: goodness, detached "
    "normalised layer inputs, local losses",
}


def engine_modules() -> list[str]:
    found = []
    for info in pkgutil.walk_packages([str(SRC / "engine")], "reprosuite.engine."):
        if not info.ispkg:
            found.append(info.name)
    return sorted(found)


def module_path(name: str) -> Path:
    rel = Path(*name.split(".")[1:])
    return rel.with_suffix(".py") if (SRC / rel.with_suffix(".py")).exists() else rel / "__init__.py"


def imports(path: Path, package: str) -> set[str]:
    """Modules imported anywhere in a file (lazy imports included), relative ones resolved against ``package``."""
    out = set()
    for node in ast.walk(ast.parse((SRC / path).read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.startswith("reprosuite.")}


def closure(start: set[str]) -> set[str]:
    """``start`` and every reprosuite module reachable from it by imports."""
    seen, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name in seen or not (SRC / module_path(name)).exists():
            continue
        seen.add(name)
        package = name if module_path(name).name == "__init__.py" else name.rsplit(".", 1)[0]
        todo.extend(imports(module_path(name), package))
    return seen


def users() -> dict[str, set[str]]:
    """Engine module -> the studies whose jobs reach it (through the study's code or the pipeline that runs it)."""
    out = {m: set() for m in engine_modules()}
    for name in study.names():
        for module in closure({f"reprosuite.studies.{name}", "reprosuite.pipeline"}):
            if module in out:
                out[module].add(name)
    return out


def test_every_engine_module_serves_two_studies_or_is_an_allowlisted_tool():
    single = {m: sorted(u) for m, u in users().items() if len(u) < 2 and m not in ALLOWLIST}
    assert not single, f"engine modules with fewer than two studies (move them into the study): {single}"


def test_the_allowlist_is_current():
    known = set(engine_modules())
    assert set(ALLOWLIST) <= known, f"allowlisted modules that do not exist: {set(ALLOWLIST) - known}"
    shared = [m for m, u in users().items() if m in ALLOWLIST and len(u) >= 2]
    assert not shared, f"{shared} serve two studies now: drop them from the allowlist"


def test_the_engine_imports_no_study():
    for module in engine_modules():
        package = module.rsplit(".", 1)[0]
        assert not {m for m in imports(module_path(module), package) if m.startswith("reprosuite.studies")}
