"""Rerun fingerprints: which code, config and grid point each job's result depends on.

Snakemake does not see the Python a job runs, so every rule passes the fingerprint of its stage as a param and
Snakemake reruns the job when it changes (workflow/rules/common.smk); a training job also resumes from its
checkpoint only under the same fingerprint (pipeline.train). A fingerprint is the hash of the resolved config,
the grid point and the code the stage runs, where "code" is:

- the pipeline function of the stage (``pipeline.train`` ...) and, within the study's module
  (``studies/<id>.py`` or ``studies/<id>/__init__.py``), the top-level statements reachable by name from the
  stage's roots (STUDY_ROOTS, plus every attribute the pipeline function reads, e.g. ``st.PAPER``);
  reachable: a reached statement names it (``x`` or ``x.attr``), transitively; a top-level statement that
  binds no name (a call run on import) is always included;
- the package modules that reached code imports (at the top or lazily inside a function, absolutely or
  relatively inside a study package), hashed whole and followed transitively, as far as the stage allows
  (_policy): training and data follow only the engine, the metrics and the study packages, so an edit to
  claims.py, study.py or a figure reruns no training. Two modules are hashed by name closure like the
  study's, from the members the reached code reads: io in training and data (its writers, not its readers)
  and reprosuite.config (its config resolution); this module is part of no fingerprint. reprosuite/__init__ (the version
  string) is never part of a fingerprint.

Code is hashed as its AST without docstrings (``ast.dump`` drops comments and positions), so editing a
docstring or a comment, or moving code, reruns nothing. What the analysis cannot resolve is included rather
than missed: a reached statement using ``globals()``, ``eval``, ``importlib`` ... includes its whole module (and
for a study package, all of the package's modules). The AST's text depends on the Python version: the Snakemake
process and the jobs run the same interpreter (the rules start ``sys.executable``), and a Python upgrade reruns
everything.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
from pathlib import Path
from typing import Any

from reprosuite.config import digest, to_dict

STAGES = ("data", "train", "extract", "figure", "claims", "suite")
# The pipeline function that runs each stage (the rules call it through the CLI).
PIPELINE_FUNCTIONS = {
    "data": "prepare",
    "train": "train",
    "extract": "extract",
    "figure": "figure",
    "claims": "check_claims",
    "suite": "summary",
}
# The names of the study's module each stage starts from; Config and TIERS because every stage resolves the
# typed config. A study's optional ``resources`` hook is not part of training's fingerprint: a job killed by its
# time limit must resume from its checkpoint after the hook raises the limit.
STUDY_ROOTS = {
    "data": ("Config", "TIERS", "make_data"),
    "train": ("Config", "TIERS", "grid", "train"),
    "extract": ("Config", "TIERS", "extract"),
    "figure": ("Config", "TIERS", "FIGURES"),
    # check_claims also writes the paper, the config's deviations from it (their reasons: WHY) and the amendments
    "claims": ("Config", "TIERS", "CLAIMS", "measure", "PAPER", "WHY", "AMENDMENTS"),
    "suite": (),
}
PACKAGE = "reprosuite"
# Training and data follow only these module trees: the code that computes their numbers.
_COMPUTE = ("reprosuite.engine", "reprosuite.metrics", "reprosuite.studies")
# Names that read module members or import modules by a name computed at run time: a reached statement using one
# makes its module hashed whole.
_DYNAMIC = frozenset({"globals", "vars", "eval", "exec", "__import__", "import_module"})
_DYNAMIC_ATTRS = frozenset({("importlib", "import_module"), ("sys", "modules")})
_WHOLE = None  # "every statement of the module", as opposed to a set of root names
# The nodes that hold statements (in body, orelse or finalbody), where docstrings are dropped.
_BODIES = (ast.Module, ast.stmt, ast.ExceptHandler, ast.match_case)


def _in(module: str, trees: tuple[str, ...]) -> bool:
    return any(module == t or module.startswith(t + ".") for t in trees)


def _is_study(module: str) -> bool:
    """A study's own module (``reprosuite.studies.<id>``, a file or a package's ``__init__``)."""
    parts = module.split(".")
    return len(parts) == 3 and parts[:2] == [PACKAGE, "studies"] and not parts[2].startswith("_")


def _policy(stage: str, module: str) -> str | None:
    """How ``stage`` hashes ``module``: by name closure ("names"), whole ("whole") or not at all (None)."""
    # reprosuite/__init__ holds only the version string, which result files record but which changes no result.
    if module == PACKAGE or not _in(module, (PACKAGE,)):
        return None
    if module == f"{PACKAGE}.pipeline" or _is_study(module):
        return "names"
    if stage in ("data", "train"):
        # io writes the run table and the dataset's provenance: its writing code (write_table, atomic_path,
        # provenance, by name closure) is part of what these stages produce, so a change to the on-disk format
        # reruns them. Its readers, and the version string in reprosuite/__init__ that provenance records (a
        # module this stage does not follow), are not.
        if module == f"{PACKAGE}.io":
            return "names"
        return "whole" if _in(module, _COMPUTE) and module != f"{PACKAGE}.studies" else None
    # config by name closure: the stages use its config resolution. This module is part of no fingerprint: a
    # change to how fingerprints are computed must not rerun every job.
    if module == f"{PACKAGE}.fingerprint":
        return None
    return "names" if module == f"{PACKAGE}.config" else "whole"


@dataclasses.dataclass(frozen=True)
class _Import:
    """One imported module or module member, as a statement binds it."""

    module: str  # absolute module name
    member: str | None  # ``from module import member`` where member is not a submodule; "*" for a star import
    bound: str | None  # the name bound where it is imported; None when unknown (``import a.b`` binds ``a``)
    top: bool  # at module scope (bound only when a reached statement uses the name), not inside a function


@dataclasses.dataclass(eq=False)
class _Stmt:
    """One top-level statement: the module-level names it binds and the names it reads; its AST text when hashed."""

    node: ast.stmt
    binds: frozenset[str]
    uses: frozenset[str]
    attrs: frozenset[tuple[str, str]]  # (name, attr) for every ``name.attr`` read
    bare: frozenset[str]  # names used other than as ``name.attr`` (a module passed around whole)
    members: frozenset[str]  # every attribute read, on any object (``st.PAPER`` gives "PAPER")
    imports: tuple[_Import, ...]
    dynamic: bool

    @functools.cached_property
    def text(self) -> str:
        return ast.dump(self.node)


class _Module:
    """A parsed module without docstrings (string-constant expression statements: elsewhere they do nothing
    either). Hashed whole it needs only its text and imports, found in the same pass that drops the docstrings;
    hashed by name closure, the analysis of each top-level statement, made on first use."""

    def __init__(self, name: str, path: Path, root: Path):
        self.name, self.path, self.root = name, path, root
        self.is_pkg = path.name == "__init__.py"
        self.tree = ast.parse(path.read_text(), filename=str(path))
        imports: list[_Import] = []
        self.dynamic = False  # a name or import resolved at run time, anywhere in the module
        for node in ast.walk(self.tree):
            kind = type(node)
            if kind is ast.Name:
                self.dynamic = self.dynamic or node.id in _DYNAMIC
            elif kind is ast.Attribute:
                base = node.value
                self.dynamic = self.dynamic or (
                    type(base) is ast.Name and (base.id, node.attr) in _DYNAMIC_ATTRS
                )
            elif kind is ast.Import or kind is ast.ImportFrom:
                imports.extend(_resolve(node, name, self.is_pkg, root, False))
            elif isinstance(node, _BODIES):
                for field in ("body", "orelse", "finalbody"):
                    body = getattr(node, field, None)
                    if body and isinstance(body, list):
                        kept = [
                            s
                            for s in body
                            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                            or not isinstance(s.value.value, str)
                        ]
                        if len(kept) < len(body):
                            setattr(node, field, kept or ([ast.Pass()] if field == "body" else []))
        self.imports = tuple(imports)  # every import, at any depth: a module hashed whole follows them all

    @functools.cached_property
    def text(self) -> str:
        return ast.dump(self.tree)

    @functools.cached_property
    def stmts(self) -> tuple[_Stmt, ...]:
        return tuple(_statement(node, self.name, self.is_pkg, self.root) for node in self.tree.body)


def _module_path(root: Path, module: str) -> Path | None:
    """The source file of ``module`` under the package directory ``root``, or None (not ours, or no file)."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = root.joinpath(*parts[1:])
    for candidate in (
        (base / "__init__.py", base.with_suffix(".py")) if parts[1:] else (root / "__init__.py",)
    ):
        if candidate.is_file():
            return candidate
    return None


def _scope(body: list[ast.stmt]) -> tuple[set[str], set[str]]:
    """The names statements bind (or delete) in their own scope, not inside their functions, and those they
    declare ``global``."""
    bound: set[str] = set()
    declared: set[str] = set()
    todo: list[ast.AST] = list(body)
    while todo:
        n = todo.pop()
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(n.name)
            continue
        if isinstance(n, ast.Lambda | ast.GeneratorExp | ast.ListComp | ast.SetComp | ast.DictComp):
            continue
        if isinstance(n, ast.Name):
            if isinstance(n.ctx, ast.Store | ast.Del):
                bound.add(n.id)
            continue
        if isinstance(n, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).partition(".")[0] for a in n.names if a.name != "*")
        elif isinstance(n, ast.Global):
            declared.update(n.names)
        elif isinstance(n, ast.ExceptHandler | ast.MatchAs | ast.MatchStar) and n.name:
            bound.add(n.name)
        todo.extend(ast.iter_child_nodes(n))
    return bound, declared


def _function_locals(fn: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """A function's parameters and the names its body binds, less those it declares ``global``."""
    args = fn.args
    params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg) if a}
    if isinstance(fn, ast.Lambda):
        return params
    bound, declared = _scope(fn.body)
    return (params | bound) - declared


class _Scan:
    """One pass over a top-level statement: the module-level names it reads (a function's parameters and
    locals are not module-level), ``name.attr`` reads, names used other than as ``name.attr``, every attribute
    name read, and its imports resolved to absolute module names."""

    def __init__(self, node: ast.stmt, module: str, is_pkg: bool, root: Path):
        self.module, self.is_pkg, self.root = module, is_pkg, root
        self.uses: set[str] = set()
        self.attrs: set[tuple[str, str]] = set()
        self.bare: set[str] = set()
        self.members: set[str] = set()
        self.imports: list[_Import] = []
        self.visit(node, frozenset(), True)

    def visit(self, n: ast.AST, local: frozenset[str], top: bool) -> None:
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            # decorators, defaults and annotations run in the enclosing scope, the body in the function's own
            for child in (*getattr(n, "decorator_list", ()), n.args, getattr(n, "returns", None)):
                if child is not None:
                    self.visit(child, local, top)
            inner = local | _function_locals(n)
            for child in n.body if isinstance(n.body, list) else [n.body]:
                self.visit(child, inner, False)
            return
        if isinstance(n, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
            local = local | {
                t.id for g in n.generators for t in ast.walk(g.target) if isinstance(t, ast.Name)
            }
        elif isinstance(n, ast.Global | ast.Nonlocal):
            self.uses.update(n.names)
        elif isinstance(n, ast.Import | ast.ImportFrom):
            self.imports.extend(_resolve(n, self.module, self.is_pkg, self.root, top))
        elif isinstance(n, ast.Attribute):
            self.members.add(n.attr)
            if isinstance(n.value, ast.Name):
                if n.value.id not in local:
                    self.uses.add(n.value.id)
                    self.attrs.add((n.value.id, n.attr))
                return
        elif isinstance(n, ast.Name):
            if n.id not in local:
                self.uses.add(n.id)
                self.bare.add(n.id)
            return
        for child in ast.iter_child_nodes(n):
            self.visit(child, local, top)


def _resolve(
    n: ast.Import | ast.ImportFrom, module: str, is_pkg: bool, root: Path, top: bool
) -> list[_Import]:
    """An import statement's modules and members, by absolute name. ``top``: at module scope, where it binds a name
    that matters only if a reached statement reads it; inside a function it runs whenever the function does."""
    if isinstance(n, ast.Import):
        return [_Import(a.name, None, a.asname or (None if "." in a.name else a.name), top) for a in n.names]
    if n.level:
        package = module if is_pkg else module.rpartition(".")[0]
        package = package.rsplit(".", n.level - 1)[0] if n.level > 1 else package
        base = f"{package}.{n.module}" if n.module else package
    else:
        base = n.module or ""
    found = []
    for a in n.names:
        sub = f"{base}.{a.name}"
        if a.name != "*" and _module_path(root, sub) is not None:
            found.append(_Import(sub, None, a.asname or a.name, top))
        else:
            found.append(_Import(base, a.name, None if a.name == "*" else a.asname or a.name, top))
    return found


def _statement(node: ast.stmt, module: str, is_pkg: bool, root: Path) -> _Stmt:
    scan = _Scan(node, module, is_pkg, root)
    return _Stmt(
        node=node,
        binds=frozenset(_scope([node])[0]),
        uses=frozenset(scan.uses),
        attrs=frozenset(scan.attrs),
        bare=frozenset(scan.bare),
        members=frozenset(scan.members),
        imports=tuple(scan.imports),
        dynamic=bool(scan.uses & _DYNAMIC or scan.attrs & _DYNAMIC_ATTRS),
    )


@functools.cache
def _parse_cached(path: Path, module: str, root: Path, stamp: tuple[int, int, int]) -> _Module:
    return _Module(module, path, root)


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size, st.st_ino


def _unchanged(path: Path, stamp: tuple[int, int, int]) -> bool:
    try:
        return _stamp(path) == stamp
    except OSError:
        return False


def _parse(path: Path, module: str, root: Path) -> _Module:
    """The module, parsed once per process and version of the file (a no-op rerun stays fast)."""
    return _parse_cached(path, module, root, _stamp(path))


def _reach(mod: _Module, roots: frozenset[str]) -> list[int] | None:
    """Indices of the statements reachable by name from ``roots``; None for all of them."""
    binders: dict[str, list[int]] = {}
    for i, s in enumerate(mod.stmts):
        for name in s.binds:
            binders.setdefault(name, []).append(i)
    reached = {i for i, s in enumerate(mod.stmts) if not s.binds}  # run on import whatever is used
    todo = [*roots, "__getattr__", *(n for i in reached for n in mod.stmts[i].uses)]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for i in binders.get(name, ()):
            if i not in reached:
                reached.add(i)
                todo.extend(mod.stmts[i].uses)
    if any(mod.stmts[i].dynamic for i in reached):
        return None
    return sorted(reached)


def _study_package(root: Path, module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 3 and parts[:2] == [PACKAGE, "studies"]:
        package = ".".join(parts[:3])
        if (root.joinpath(*parts[1:3]) / "__init__.py").is_file():
            return package
    return None


def _collect(stage: str, study: str | None, root: Path) -> dict[str, tuple[_Module, list[int] | None]]:
    """Every module the stage's code reaches, with the indices of the statements hashed (None: all)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    wanted: dict[str, frozenset[str] | None] = {}
    todo: list[str] = []
    paths: dict[str, Path | None] = {}

    def path_of(module: str) -> Path | None:
        if module not in paths:
            paths[module] = _module_path(root, module)
        return paths[module]

    def request(module: str, roots: frozenset[str] | None) -> None:
        policy = _policy(stage, module)
        if policy is None or path_of(module) is None:
            return
        if policy == "whole":
            roots = _WHOLE
        if module in wanted:
            old = wanted[module]
            if old is _WHOLE or (roots is not _WHOLE and roots <= old):
                return
            roots = _WHOLE if roots is _WHOLE else old | roots
        wanted[module] = roots
        todo.append(module)

    def load(module: str) -> _Module:
        return _parse(path_of(module), module, root)

    pipeline = f"{PACKAGE}.pipeline"
    function = frozenset({PIPELINE_FUNCTIONS[stage]})
    request(pipeline, function)
    if study is not None:
        if _module_path(root, f"{PACKAGE}.studies.{study}") is None:
            raise ValueError(f"no study module {study!r} under {root / 'studies'}")
        # The pipeline reads the study through a Study object (st.extract, st.PAPER ...): the attributes its
        # function reads join the stage's roots in the study's module.
        mod = load(pipeline)
        reached = _reach(mod, function)
        read = {
            a for i in (range(len(mod.stmts)) if reached is None else reached) for a in mod.stmts[i].members
        }
        request(f"{PACKAGE}.studies.{study}", frozenset(STUDY_ROOTS[stage]) | read)
    done: dict[str, list[int] | None] = {}
    while todo:
        module = todo.pop()
        mod = load(module)
        roots = wanted[module]
        reached = done[module] = None if roots is _WHOLE else _reach(mod, roots)
        if reached is None:
            # hashed whole: follow every import, each imported module whole (or the member named), but for a
            # module the stage hashes by name closure (io in training, via checkpoint): the members this one reads
            for imp in mod.imports:
                if imp.member is None and imp.bound is not None and _policy(stage, imp.module) == "names":
                    # bound at module scope only and read only as `name.attr`: those members
                    same = [
                        i
                        for st in mod.stmts
                        for i in st.imports
                        if (i.module, i.bound) == (imp.module, imp.bound)
                    ]
                    if all(i.top for i in same) and not any(imp.bound in st.bare for st in mod.stmts):
                        read = (a for st in mod.stmts for name, a in st.attrs if name == imp.bound)
                        request(imp.module, frozenset(read))
                        continue
                request(imp.module, _WHOLE if imp.member in (None, "*") else frozenset({imp.member}))
            dynamic = mod.dynamic
        else:
            stmts = [mod.stmts[i] for i in reached]
            # the names asked of this module count as used: a root bound by an import (``from .claims import
            # CLAIMS as CLAIMS``, a study package re-exporting a submodule's member) follows that import
            used = {n for s in stmts for n in s.uses} | roots
            bare = {n for s in stmts for n in s.bare}
            attrs = {pair for s in stmts for pair in s.attrs}
            for imp in (imp for s in stmts for imp in s.imports):
                if imp.top and imp.bound is not None and imp.bound not in used:
                    continue  # a module-level import whose name no reached statement uses
                if (
                    imp.member == "*"
                    or imp.bound is None
                    or (imp.member is None and (imp.bound in bare or not imp.top))
                ):
                    # a star import, or a module bound inside a function or passed around: all of it
                    request(imp.module, _WHOLE)
                elif imp.member is not None:
                    request(imp.module, frozenset({imp.member}))
                else:
                    request(imp.module, frozenset(a for name, a in attrs if name == imp.bound))
            dynamic = any(s.dynamic for s in stmts)
        package = _study_package(root, module)
        if package is not None and dynamic:
            # a study package that imports by name at run time: every module of it may run
            for path in sorted(root.joinpath(*package.split(".")[1:]).rglob("*.py")):
                rel = path.relative_to(root).with_suffix("").parts
                request(".".join((PACKAGE, *(rel[:-1] if rel[-1] == "__init__" else rel))), _WHOLE)
    return {m: (load(m), done[m]) for m in sorted(done)}


def _package_root() -> Path:
    return Path(__file__).resolve().parent


def fingerprint_sources(stage: str, study: str | None = None, root: Path | None = None) -> dict[str, Path]:
    """The source files a stage's fingerprint reads, by module name (for tests, and to answer "why did it rerun")."""
    return {m: mod.path for m, (mod, _) in _collect(stage, study, root or _package_root()).items()}


def code_digest(stage: str, study: str | None = None, root: Path | None = None) -> str:
    """A short hash of the code that ``stage`` runs for ``study`` (see the section comment above)."""
    root = root or _package_root()
    cached = _digests.get((stage, study, root))
    if cached is not None and all(_unchanged(path, stamp) for path, stamp in cached[1]):
        return cached[0]  # every training job of a study shares it: computed once per process
    h = hashlib.sha256()
    modules = _collect(stage, study, root)
    for module, (mod, reached) in modules.items():
        h.update(f"\0{module}\0".encode())
        h.update(
            mod.text.encode() if reached is None else "\n".join(mod.stmts[i].text for i in reached).encode()
        )
    value = h.hexdigest()[:16]
    _digests[(stage, study, root)] = (value, [(mod.path, _stamp(mod.path)) for mod, _ in modules.values()])
    return value


_digests: dict[tuple[str, str | None, Path], tuple[str, list[tuple[Path, tuple[int, int, int]]]]] = {}


def fingerprint(
    stage: str, study: str | None = None, cfg: Any = None, point: dict | None = None, root: Path | None = None
) -> str:
    """The rerun fingerprint of one job: its stage's code (:func:`code_digest`), the study's resolved config and
    the grid point. The rules pass it as a param, so Snakemake reruns the job when it changes; the training job
    resumes from a checkpoint only under the same fingerprint."""
    payload = {"stage": stage, "code": code_digest(stage, study, root)}
    if cfg is not None:
        payload["config"] = to_dict(cfg)
    if point is not None:
        payload["point"] = point
    return digest(payload)
