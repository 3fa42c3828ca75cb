"""The papers' image datasets, read from their official distribution files (numpy and the standard library only:
they are read in torch-free data jobs).

- ``mnist``: LeCun, Cortes & Burges (LeCun et al. 1998), the four IDX gzip files.
- ``fashion_mnist``: Xiao, Rasul & Vollgraf 2017 (arXiv:1708.07747), the same four files in the same format.
- ``cifar10``, ``cifar100``: Krizhevsky 2009, the *binary* distributions, read from the tarball as downloaded or
  from its extracted folder. Never the "python version": its batches are pickles, and unpickling a file runs
  whatever code it names.

Each dataset lives in ``<data_dir>/<name>/`` under the file names of the official download
(e.g. ``data/mnist/train-images-idx3-ubyte.gz``). :func:`data_dir` resolves the directory: ``$REPROSUITE_DATA``,
else the suite config's ``data_dir``, else ``data`` (relative to the working directory). ``reprosuite data fetch
NAME`` downloads the files and verifies them against the official checksums; ``reprosuite data check`` verifies
files already there. :func:`load` returns the official split as uint8 arrays; ``engine.data.datasets.load(name)``
turns them into the suite's float feature dict.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
import tempfile
import urllib.request
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

ENV = "REPROSUITE_DATA"
DEFAULT_DIR = "data"
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049  # IDX: 0x08 (unsigned byte) in the third byte, the rank in the fourth
CIFAR_PIXELS = 3 * 32 * 32


class DatasetError(ValueError):
    """A dataset is unknown, or its files are not the official ones."""


class DatasetMissing(DatasetError):
    """A file of a dataset is not in the data directory."""


class DatasetCorrupt(DatasetError):
    """A file of a dataset is there but is not what the official distribution holds (truncated, not gzip, wrong
    magic number, record count or checksum)."""


@dataclass(frozen=True)
class Download:
    """One file of an official distribution: its name in ``<data_dir>/<dataset>/``, the md5 of the download as
    published, and where to get it (the official address first; mirrors serve the same bytes, checked by md5)."""

    file: str
    md5: str
    urls: tuple[str, ...]


@dataclass(frozen=True)
class Spec:
    """An official dataset: its downloads, split sizes and array shapes."""

    name: str
    title: str
    files: tuple[Download, ...]
    n_train: int
    n_test: int
    shape: tuple[int, ...]  # of one image in the uint8 arrays: (28, 28) or (3, 32, 32), channels first
    n_classes: int
    # the CIFAR binary members: the folder inside the tarball and the train / test member files
    folder: str = ""
    train_members: tuple[str, ...] = ()
    test_members: tuple[str, ...] = ()
    label_bytes: int = 1  # CIFAR-100 records carry a coarse and a fine label


class Arrays(NamedTuple):
    """The official split. Images uint8 (N, 28, 28) or (N, 3, 32, 32), labels uint8 (N,). For CIFAR-100 ``y`` is
    the fine label (100 classes) and ``y_*_coarse`` the superclass (20); ``None`` for the other datasets."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    y_train_coarse: np.ndarray | None = None
    y_test_coarse: np.ndarray | None = None


def _idx(base_urls: tuple[str, ...], md5s: dict[str, str]) -> tuple[Download, ...]:
    return tuple(Download(f, md5, tuple(u + f for u in base_urls)) for f, md5 in md5s.items())


# MNIST: md5 sums as published with torchvision's MNIST.resources (pytorch/vision, torchvision/datasets/mnist.py);
# the official site yann.lecun.com/exdb/mnist/ publishes none. The second address is torchvision's mirror.
MNIST = Spec(
    name="mnist",
    title="MNIST (LeCun et al. 1998)",
    files=_idx(
        ("https://yann.lecun.com/exdb/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/"),
        {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    n_train=60_000,
    n_test=10_000,
    shape=(28, 28),
    n_classes=10,
)

# Fashion-MNIST: addresses and md5 sums from the "Get the Data" table of zalandoresearch/fashion-mnist's README
# (the same sums as torchvision's FashionMNIST.resources). The bucket serves plain HTTP only; the md5 check is
# what vouches for the bytes.
FASHION_MNIST = Spec(
    name="fashion_mnist",
    title="Fashion-MNIST (Xiao et al. 2017)",
    files=_idx(
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    ),
    n_train=60_000,
    n_test=10_000,
    shape=(28, 28),
    n_classes=10,
)

# CIFAR: md5 sums of the binary versions from the download table of https://www.cs.toronto.edu/~kriz/cifar.html
# (CIFAR-100's also in datasets-mila/datasets--cifar100's md5sums). Layout from the same page: records of
# <label byte(s)><3072 pixel bytes>, the 1024 red, then green, then blue values of a 32x32 image, row-major.
CIFAR10 = Spec(
    name="cifar10",
    title="CIFAR-10 (Krizhevsky 2009)",
    files=(
        Download(
            "cifar-10-binary.tar.gz",
            "c32a1d4ab5d03f1284b67883e8d87530",
            ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
        ),
    ),
    n_train=50_000,
    n_test=10_000,
    shape=(3, 32, 32),
    n_classes=10,
    folder="cifar-10-batches-bin",
    train_members=tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
    test_members=("test_batch.bin",),
)

CIFAR100 = Spec(
    name="cifar100",
    title="CIFAR-100 (Krizhevsky 2009)",
    files=(
        Download(
            "cifar-100-binary.tar.gz",
            "03b5dce01913d631647c71ecec9e9cb8",
            ("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",),
        ),
    ),
    n_train=50_000,
    n_test=10_000,
    shape=(3, 32, 32),
    n_classes=100,
    folder="cifar-100-binary",
    train_members=("train.bin",),
    test_members=("test.bin",),
    label_bytes=2,
)

SPECS: dict[str, Spec] = {s.name: s for s in (MNIST, FASHION_MNIST, CIFAR10, CIFAR100)}
NAMES = tuple(SPECS)


def spec(name: str) -> Spec:
    if name not in SPECS:
        raise DatasetError(f"unknown dataset {name!r}; choose from {', '.join(NAMES)}")
    return SPECS[name]


def data_dir(config_value: str | os.PathLike | None = None) -> Path:
    """The data directory: ``$REPROSUITE_DATA`` (so one machine's data serves every checkout), else the suite
    config's ``data_dir``, else ``data`` relative to the working directory."""
    value = os.environ.get(ENV) or config_value or DEFAULT_DIR
    return Path(value).expanduser()


def fetch_hint(name: str) -> str:
    return f"get it with `reprosuite data fetch {name}`"


def absent_line(name: str, path: str | os.PathLike) -> str:
    """The one line that names a dataset's missing file and the command that gets it."""
    return f"dataset {name}: {path} is missing; {fetch_hint(name)}"


# --- reading the formats ---------------------------------------------------------------------------------------


def read_idx(path: str | os.PathLike, magic: int, count: int | None = None) -> np.ndarray:
    """A gzip IDX file of unsigned bytes as a writable uint8 array: (count, rows, cols) for images (magic 2051),
    (count,) for labels (magic 2049). ``count``, when given, is the record count the header must state."""
    path = Path(path)
    rank = {IMAGES_MAGIC: 3, LABELS_MAGIC: 1}[magic]
    header_len = 4 * (1 + rank)
    if not path.is_file():
        raise DatasetMissing(f"{path} is missing")
    with open(
        path, "rb"
    ) as fh:  # outside the try: an unreadable file is an OSError of its own, not corruption
        try:
            raw = gzip.GzipFile(fileobj=fh).read()
        except EOFError as err:  # the gzip stream stops before its end marker
            raise DatasetCorrupt(f"{path} is truncated ({err})") from None
        except (OSError, zlib.error) as err:  # not gzip at all, a damaged deflate stream or a CRC mismatch
            raise DatasetCorrupt(f"{path} is not a valid gzip file ({err})") from None
    # the magic number first: a labels file read as images is "wrong file", not "too short"
    found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if found is not None and found != magic:
        raise DatasetCorrupt(f"{path} has IDX magic number {found}, expected {magic}")
    if len(raw) < header_len:
        raise DatasetCorrupt(f"{path} is truncated: {len(raw)} bytes, shorter than its IDX header")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">i4", count=rank, offset=4))
    if count is not None and dims[0] != count:
        raise DatasetCorrupt(f"{path} holds {dims[0]} records, expected {count}")
    expected = header_len + int(np.prod(dims))
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise DatasetCorrupt(f"{path} is {what}: {len(raw)} bytes, the header {dims} implies {expected}")
    # a copy, so that callers get writable arrays (a view of the bytes object would be read-only)
    return np.frombuffer(raw, np.uint8, offset=header_len).reshape(dims).copy()


def parse_cifar(raw: bytes, label_bytes: int, where: str, count: int | None = None):
    """CIFAR binary records: images (N, 3, 32, 32) and labels (N, label_bytes), read-only uint8 views of ``raw``
    (the caller's concatenation makes the one copy)."""
    record = label_bytes + CIFAR_PIXELS
    if len(raw) % record:
        raise DatasetCorrupt(
            f"{where} is truncated: {len(raw)} bytes is not a whole number of {record}-byte records"
        )
    n = len(raw) // record
    if count is not None and n != count:
        raise DatasetCorrupt(f"{where} holds {n} records, expected {count}")
    rows = np.frombuffer(raw, np.uint8).reshape(n, record)
    return rows[:, label_bytes:].reshape(n, 3, 32, 32), rows[:, :label_bytes]


def _check_labels(labels: np.ndarray, n_classes: int, where: str) -> None:
    if labels.size and labels.max() >= n_classes:
        raise DatasetCorrupt(f"{where} has label {labels.max()}, outside 0..{n_classes - 1}")


# --- loading a dataset -----------------------------------------------------------------------------------------


def load(name: str, root: str | os.PathLike | None = None) -> Arrays:
    """The official train and test split of ``name`` from ``<root>/<name>/`` (root: :func:`data_dir`), checked
    for format, record counts and label range (the checksums are ``check``'s job: md5 of CIFAR's 170 MB costs
    more than the read). Where a file is missing and ``$REPROSUITE_STAND_IN`` is 1 (set by ``reprosuite probe``
    and the paper-scale checks, never by the workflow), :func:`stand_in` arrays instead."""
    sp = spec(name)
    folder = (data_dir() if root is None else Path(root)) / name
    try:
        return _load_idx(sp, folder) if not sp.folder else _load_cifar(sp, folder)
    except DatasetMissing as err:
        if os.environ.get(STAND_IN_ENV) == "1":
            return stand_in(name)
        raise DatasetMissing(f"dataset {name}: {err}; {fetch_hint(name)}") from None


# set to 1 by the cost probe and the paper-scale checks: a dataset whose files are absent is read as stand_in()
STAND_IN_ENV = "REPROSUITE_STAND_IN"
# set to 1 where the workflow is only planned (`reprosuite plan`, a dry run): absent files do not stop it
PLAN_ONLY_ENV = "REPROSUITE_PLAN_ONLY"


def stand_in(name: str) -> Arrays:
    """Arrays of ``name``'s official shapes, dtypes and split sizes holding no data: uniform random pixels (a fixed
    seed) and labels cycling through the classes. A job's cost and its tensors' shapes do not depend on the
    pixels, so a probe or check of a study whose files are absent runs on these; nothing measured on them is a
    result."""
    sp = spec(name)
    rng = np.random.default_rng(0)
    out = []
    for n in (sp.n_train, sp.n_test):
        out += [
            rng.integers(0, 256, (n, *sp.shape), dtype=np.uint8),
            (np.arange(n) % sp.n_classes).astype(np.uint8),
        ]
    if sp.label_bytes == 2:  # CIFAR-100's superclasses: 5 fine classes each
        out += [(y // 5).astype(np.uint8) for y in out[1::2]]
    return Arrays(*out)


def _load_idx(sp: Spec, folder: Path) -> Arrays:
    missing = [d.file for d in sp.files if not (folder / d.file).is_file()]
    if missing:  # name the first missing file before reading 50 MB of the others
        raise DatasetMissing(f"{folder / missing[0]} is missing")
    out = []
    for split, n in (("train", sp.n_train), ("t10k", sp.n_test)):
        images, labels = folder / f"{split}-images-idx3-ubyte.gz", folder / f"{split}-labels-idx1-ubyte.gz"
        x, y = read_idx(images, IMAGES_MAGIC, n), read_idx(labels, LABELS_MAGIC, n)
        if x.shape[1:] != sp.shape:
            raise DatasetCorrupt(f"{images} has images of {x.shape[1:]} pixels, expected {sp.shape}")
        _check_labels(y, sp.n_classes, str(labels))
        out += [x, y]
    return Arrays(*out)


def _load_cifar(sp: Spec, folder: Path) -> Arrays:
    raw, where = _cifar_members(sp, folder)
    splits = []
    for members, n in ((sp.train_members, sp.n_train), (sp.test_members, sp.n_test)):
        parts = [
            parse_cifar(raw[m], sp.label_bytes, f"{where}{sp.folder}/{m}", n // len(members)) for m in members
        ]
        x = np.concatenate([p[0] for p in parts])
        labels = np.concatenate([p[1] for p in parts])
        if sp.label_bytes == 2:
            _check_labels(labels[:, 0], 20, f"{where}{sp.folder}/{'+'.join(members)} (coarse labels)")
        _check_labels(labels[:, -1], sp.n_classes, f"{where}{sp.folder}/{'+'.join(members)}")
        splits.append((x, labels))
    (x, lab), (xt, labt) = splits
    if sp.label_bytes == 2:
        return Arrays(x, lab[:, 1].copy(), xt, labt[:, 1].copy(), lab[:, 0].copy(), labt[:, 0].copy())
    return Arrays(x, lab[:, 0].copy(), xt, labt[:, 0].copy())


def _cifar_members(sp: Spec, folder: Path) -> tuple[dict[str, bytes], str]:
    """The bytes of the binary members, from the tarball as downloaded or else from its extracted folder, and
    where they came from (for messages)."""
    wanted = (*sp.train_members, *sp.test_members)
    tarball = folder / sp.files[0].file
    extracted = folder / sp.folder
    if not tarball.is_file():
        if not extracted.is_dir():
            raise DatasetMissing(f"{tarball} is missing (nor is it extracted in {extracted})")
        absent = [m for m in wanted if not (extracted / m).is_file()]
        if absent:
            raise DatasetMissing(f"{extracted / absent[0]} is missing")
        return {m: (extracted / m).read_bytes() for m in wanted}, f"{folder}/"
    names = {f"{sp.folder}/{m}": m for m in wanted}
    found: dict[str, bytes] = {}
    # one streaming pass ("r|gz"), taking the wanted regular files by exact name: nothing is extracted to disk,
    # and a random-access read would decompress the 170 MB archive once per member
    with open(tarball, "rb") as fh:
        try:
            with tarfile.open(fileobj=fh, mode="r|gz") as tar:
                for member in tar:
                    if member.name in names and member.isfile():
                        found[names[member.name]] = tar.extractfile(member).read()
        except (EOFError, tarfile.TarError, OSError, zlib.error) as err:
            what = (
                "truncated"
                if "end of" in str(err) or isinstance(err, EOFError)
                else "not a valid tar.gz archive"
            )
            raise DatasetCorrupt(f"{tarball} is {what} ({err})") from None
    absent = [m for m in wanted if m not in found]
    if absent:
        raise DatasetCorrupt(f"{tarball} lacks {sp.folder}/{absent[0]}: not the official archive")
    return found, f"{tarball}:"


# --- checking and fetching -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileStatus:
    """What :func:`check` found for one file: ``present`` (with the official checksum; for an extracted CIFAR
    folder, whose members have no published checksums, with the official size), ``missing``, ``bad checksum``
    or ``bad size``."""

    dataset: str
    path: Path
    state: str
    detail: str = ""


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check(name: str, root: str | os.PathLike | None = None) -> list[FileStatus]:
    """The state of each file of ``name`` in ``<root>/<name>/``, verified against the official checksums."""
    sp = spec(name)
    folder = (data_dir() if root is None else Path(root)) / name
    out = []
    for d in sp.files:
        path = folder / d.file
        if path.is_file():
            got = md5sum(path)
            state = "present" if got == d.md5 else "bad checksum"
            out.append(
                FileStatus(name, path, state, f"md5 {got}" + ("" if got == d.md5 else f", official {d.md5}"))
            )
        elif sp.folder and (folder / sp.folder).is_dir():
            out.extend(_check_extracted(sp, folder / sp.folder))
        else:
            out.append(FileStatus(name, path, "missing"))
    return out


def _check_extracted(sp: Spec, extracted: Path) -> list[FileStatus]:
    record = sp.label_bytes + CIFAR_PIXELS
    per_file = {m: sp.n_train // len(sp.train_members) for m in sp.train_members}
    per_file.update({m: sp.n_test // len(sp.test_members) for m in sp.test_members})
    out = []
    for member, n in per_file.items():
        path = extracted / member
        if not path.is_file():
            out.append(FileStatus(sp.name, path, "missing"))
            continue
        size, want = path.stat().st_size, n * record
        state = "present" if size == want else "bad size"
        out.append(FileStatus(sp.name, path, state, f"extracted, {size} bytes (official {want})"))
    return out


def report(names: Iterable[str], root: str | os.PathLike, named: bool) -> tuple[str, DatasetError | None]:
    """The text of ``reprosuite data check``, and the error that makes it fail, if any: a dataset that is not
    complete with the official files when ``named``; otherwise only a dataset that is partly there or bad (one
    absent altogether passes: a machine needs only the datasets of the studies it runs)."""
    names = list(names)
    for name in names:
        spec(name)  # an unknown name fails before any file is hashed
    root = Path(root)
    lines, failed = [], []
    for name in names:
        files = check(name, root)
        absent = all(f.state == "missing" for f in files)
        complete = all(f.state == "present" for f in files)
        verdict = "complete" if complete else "absent" if absent else "INCOMPLETE OR INVALID"
        hint = "" if complete else f"; {fetch_hint(name)}"
        lines.append(f"{name}: {verdict} ({root / name}){hint}")
        lines += [f"  {f.state:<13} {f.path.relative_to(root / name)}  {f.detail}".rstrip() for f in files]
        if not complete and (named or not absent):
            failed.append(next(f for f in files if f.state != "present"))
    if not failed:
        return "\n".join(lines), None
    first = failed[0]
    more = f" ({len(failed) - 1} more dataset(s) failed, listed above)" if len(failed) > 1 else ""
    if first.state == "missing":
        err: DatasetError = DatasetMissing(
            f"dataset {first.dataset}: {first.path} is missing; {fetch_hint(first.dataset)}{more}"
        )
    else:
        err = DatasetCorrupt(
            f"dataset {first.dataset}: {first.path} has a {first.state.removeprefix('bad ')} that is not the "
            f"official one; delete it and {fetch_hint(first.dataset)}{more}"
        )
    return "\n".join(lines), err


def missing(names: Iterable[str], root: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """``(dataset, first missing file)`` for each of ``names`` that cannot be read: a cheap existence check (no
    checksum) for the moment the workflow is planned."""
    out = []
    root = data_dir() if root is None else Path(root)
    for name in names:
        sp = spec(name)
        folder = root / name
        absent = [folder / d.file for d in sp.files if not (folder / d.file).is_file()]
        if absent and sp.folder and (folder / sp.folder).is_dir():  # an extracted CIFAR folder instead
            members = (*sp.train_members, *sp.test_members)
            absent = [folder / sp.folder / m for m in members if not (folder / sp.folder / m).is_file()]
        if absent:
            out.append((name, absent[0]))
    return out


def fetch(
    name: str,
    root: str | os.PathLike | None = None,
    log: Callable[[str], None] = print,
    timeout: float = 60.0,
) -> list[Path]:
    """Download the official files of ``name`` into ``<root>/<name>/``, each verified against its md5 and moved
    into place only then (a temporary file in the same folder, renamed), so that an interrupted or bad download
    never leaves a file that looks complete. Files already there with the official checksum are kept."""
    sp = spec(name)
    folder = (data_dir() if root is None else Path(root)) / name
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    for d in sp.files:
        path = folder / d.file
        if path.is_file() and md5sum(path) == d.md5:
            log(f"{path}: present, checksum ok")
            done.append(path)
            continue
        errors = []
        for url in d.urls:
            try:
                _download(url, path, d.md5, log, timeout)
                break
            except (OSError, DatasetCorrupt) as err:  # URLError and timeouts are OSErrors
                errors.append(f"{url}: {err}")
                log(f"{url}: failed ({err})")
        else:
            raise DatasetError(f"could not download {d.file} for {name}: {'; '.join(errors)}")
        done.append(path)
    return done


def _download(url: str, path: Path, md5: str, log: Callable[[str], None], timeout: float) -> None:
    log(f"downloading {url}")
    digest = hashlib.md5(usedforsecurity=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0)
            step = total / 10 if total else 10e6  # a line per tenth, or per 10 MB when the size is not sent
            got, next_report = 0, step
            while block := resp.read(1 << 20):
                out.write(block)
                digest.update(block)
                got += len(block)
                if got >= next_report:
                    of = f" / {total / 1e6:.1f} MB ({100 * got / total:.0f} %)" if total else " MB"
                    log(f"  {path.name}: {got / 1e6:.1f}{of}")
                    next_report += step
        if digest.hexdigest() != md5:
            raise DatasetCorrupt(f"checksum mismatch: md5 {digest.hexdigest()}, official {md5}")
        # mkstemp makes the file private (0600); a data directory is often shared, so give it the usual mode
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
        log(f"{path}: done, checksum ok")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
