"""The official dataset files: small files written in the real formats, the failures each gets a named error for,
the ``reprosuite data`` commands, and the real MNIST where the data directory holds it."""

import ast
import dataclasses
import gzip
import hashlib
import io
import os
import struct
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

from reprosuite import cli
from reprosuite.engine.data import datasets, official
from reprosuite.engine.data.official import DatasetCorrupt, DatasetError, DatasetMissing

IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
IDX_FILES += ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def idx_bytes(array: np.ndarray) -> bytes:
    magic = {3: official.IMAGES_MAGIC, 1: official.LABELS_MAGIC}[array.ndim]
    return struct.pack(f">{1 + array.ndim}i", magic, *array.shape) + array.astype(np.uint8).tobytes()


def write_gz(path: Path, payload: bytes) -> Path:
    path.write_bytes(gzip.compress(payload))
    return path


def tiny_mnist(folder: Path, n_train: int = 5, n_test: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    """The four IDX gzip files of an MNIST of a few random images, and the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for file, key in zip(IDX_FILES, arrays, strict=True):
        write_gz(folder / file, idx_bytes(arrays[key]))
    return arrays


def use_tiny_spec(monkeypatch, root: Path, name: str = "mnist", **sizes) -> official.Spec:
    """Make ``name``'s official spec describe the tiny files under ``root``: their counts and md5 sums."""
    sp = official.SPECS[name]
    files = tuple(
        dataclasses.replace(d, md5=hashlib.md5((root / name / d.file).read_bytes()).hexdigest())
        for d in sp.files
    )
    tiny = dataclasses.replace(sp, files=files, **sizes)
    monkeypatch.setitem(official.SPECS, name, tiny)
    return tiny


def cifar_records(labels: np.ndarray, images: np.ndarray) -> bytes:
    """Binary CIFAR records: the label byte(s), then the 3072 pixel bytes (R, G, B planes, row-major)."""
    labels = labels.reshape(len(images), -1)
    return b"".join(bytes(lab.tolist()) + img.tobytes() for lab, img in zip(labels, images, strict=True))


def write_tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return path


def tiny_cifar10(folder: Path, per_batch: int = 2, n_test: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    n_train = 5 * per_batch
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 3, 32, 32), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 3, 32, 32), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    members = {
        f"cifar-10-batches-bin/data_batch_{i + 1}.bin": cifar_records(
            arrays["y_train"][i * per_batch : (i + 1) * per_batch],
            arrays["x_train"][i * per_batch : (i + 1) * per_batch],
        )
        for i in range(5)
    }
    members["cifar-10-batches-bin/test_batch.bin"] = cifar_records(arrays["y_test"], arrays["x_test"])
    members["cifar-10-batches-bin/batches.meta.txt"] = b"airplane\n"  # in the real archive too; not read
    folder.mkdir(parents=True, exist_ok=True)
    write_tar(folder / "cifar-10-binary.tar.gz", members)
    return arrays


# --- the formats ---------------------------------------------------------------------------------------------


def test_idx_files_read_back_with_values_shapes_and_dtypes(tmp_path):
    written = tiny_mnist(tmp_path)
    images = official.read_idx(tmp_path / IDX_FILES[0], official.IMAGES_MAGIC, count=5)
    labels = official.read_idx(tmp_path / IDX_FILES[1], official.LABELS_MAGIC)
    assert images.shape == (5, 28, 28) and images.dtype == np.uint8 and labels.shape == (5,)
    assert np.array_equal(images, written["x_train"]) and np.array_equal(labels, written["y_train"])
    images[0, 0, 0] = 7  # callers get writable arrays, not views of the decompressed bytes


def test_a_tiny_mnist_loads_as_the_official_split(tmp_path, monkeypatch):
    written = tiny_mnist(tmp_path / "mnist")
    use_tiny_spec(monkeypatch, tmp_path, n_train=5, n_test=3)
    got = official.load("mnist", tmp_path)
    for key, array in written.items():
        assert np.array_equal(getattr(got, key), array) and getattr(got, key).dtype == np.uint8
    assert got.y_train_coarse is None


def test_the_official_counts_are_required(tmp_path):
    tiny_mnist(tmp_path / "mnist")
    with pytest.raises(DatasetCorrupt, match="holds 5 records, expected 60000"):
        official.load("mnist", tmp_path)


def test_a_truncated_gzip_file_is_named(tmp_path):
    data = gzip.compress(idx_bytes(np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)))
    (tmp_path / "t.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetCorrupt, match=r"t\.gz is truncated"):
        official.read_idx(tmp_path / "t.gz", official.IMAGES_MAGIC)


def test_a_file_shorter_than_its_header_says_is_truncated(tmp_path):
    payload = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    write_gz(tmp_path / "short.gz", payload[:-100])
    with pytest.raises(DatasetCorrupt, match="truncated: 3052 bytes, the header"):
        official.read_idx(tmp_path / "short.gz", official.IMAGES_MAGIC)
    write_gz(tmp_path / "header.gz", payload[:6])
    with pytest.raises(DatasetCorrupt, match="shorter than its IDX header"):
        official.read_idx(tmp_path / "header.gz", official.IMAGES_MAGIC)


@pytest.mark.parametrize(
    "damage",
    [
        lambda gz: b"not gzip at all" + gz,
        lambda gz: gz[:12] + bytes(b ^ 0xFF for b in gz[12:40]) + gz[40:],  # damaged deflate stream
        lambda gz: gz[:-8] + bytes(4) + gz[-4:],  # wrong CRC
    ],
    ids=["not-gzip", "damaged-stream", "bad-crc"],
)
def test_a_corrupt_gzip_file_is_named(tmp_path, damage):
    gz = gzip.compress(idx_bytes(np.random.default_rng(0).integers(0, 10, 2000, dtype=np.uint8)))
    (tmp_path / "bad.gz").write_bytes(damage(gz))
    with pytest.raises(DatasetCorrupt, match=r"bad\.gz is not a valid gzip file"):
        official.read_idx(tmp_path / "bad.gz", official.LABELS_MAGIC)


def test_a_wrong_magic_number_is_named(tmp_path):
    write_gz(tmp_path / "labels.gz", idx_bytes(np.arange(4, dtype=np.uint8)))
    with pytest.raises(DatasetCorrupt, match="magic number 2049, expected 2051"):
        official.read_idx(tmp_path / "labels.gz", official.IMAGES_MAGIC)


def test_a_label_outside_the_classes_is_named(tmp_path, monkeypatch):
    tiny_mnist(tmp_path / "mnist")
    write_gz(tmp_path / "mnist" / IDX_FILES[3], idx_bytes(np.array([1, 2, 12], np.uint8)))
    use_tiny_spec(monkeypatch, tmp_path, n_train=5, n_test=3)
    with pytest.raises(DatasetCorrupt, match="has label 12, outside 0..9"):
        official.load("mnist", tmp_path)


def test_a_missing_file_names_the_file_and_the_fetch_command(tmp_path):
    tiny_mnist(tmp_path / "mnist")
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DatasetMissing) as err:
        official.load("mnist", tmp_path)
    assert "t10k-images-idx3-ubyte.gz is missing" in str(err.value)
    assert "reprosuite data fetch mnist" in str(err.value)
    assert isinstance(err.value, ValueError)  # the CLI and the stage jobs report it as a one-line error


def test_a_missing_dataset_reads_as_stand_in_arrays_only_where_asked(tmp_path, monkeypatch):
    """``$REPROSUITE_STAND_IN`` = 1 (the cost probe and the checks): arrays of the official shapes, no data."""
    monkeypatch.delenv(official.STAND_IN_ENV, raising=False)
    with pytest.raises(DatasetMissing, match="reprosuite data fetch cifar100"):
        official.load("cifar100", tmp_path)
    monkeypatch.setenv(official.STAND_IN_ENV, "1")
    got = official.load("cifar100", tmp_path)
    assert got.x_train.shape == (50_000, 3, 32, 32) and got.x_test.shape == (10_000, 3, 32, 32)
    assert got.x_train.dtype == got.y_train.dtype == np.uint8
    assert np.array_equal(np.bincount(got.y_train), [500] * 100)  # every class, equally often
    assert got.y_train_coarse.max() == 19 and np.array_equal(got.y_test_coarse, got.y_test // 5)
    assert np.array_equal(got.x_train, official.stand_in("cifar100").x_train)  # a fixed seed
    mnist = official.load("mnist", tmp_path)
    assert mnist.x_train.shape == (60_000, 28, 28) and mnist.y_train_coarse is None
    written = tiny_mnist(tmp_path / "mnist")  # files present: read, never stood in for
    use_tiny_spec(monkeypatch, tmp_path, n_train=5, n_test=3)
    assert np.array_equal(official.load("mnist", tmp_path).x_train, written["x_train"])


def test_cifar10_reads_from_the_binary_tarball(tmp_path, monkeypatch):
    written = tiny_cifar10(tmp_path / "cifar10")
    use_tiny_spec(monkeypatch, tmp_path, "cifar10", n_train=10, n_test=3)
    got = official.load("cifar10", tmp_path)
    for key, array in written.items():
        assert np.array_equal(getattr(got, key), array) and getattr(got, key).dtype == np.uint8
    assert got.x_train.shape == (10, 3, 32, 32) and got.x_train.flags.writeable


def test_cifar10_reads_from_an_extracted_folder(tmp_path, monkeypatch):
    written = tiny_cifar10(tmp_path / "cifar10")
    with tarfile.open(tmp_path / "cifar10" / "cifar-10-binary.tar.gz") as tar:
        tar.extractall(tmp_path / "cifar10", filter="data")  # the user's own extraction, not the loader's
    (tmp_path / "cifar10" / "cifar-10-binary.tar.gz").unlink()
    monkeypatch.setitem(
        official.SPECS, "cifar10", dataclasses.replace(official.CIFAR10, n_train=10, n_test=3)
    )
    got = official.load("cifar10", tmp_path)
    assert np.array_equal(got.x_test, written["x_test"]) and np.array_equal(got.y_train, written["y_train"])
    statuses = official.check("cifar10", tmp_path)
    assert [s.state for s in statuses] == ["present"] * 6 and "extracted" in statuses[0].detail


def test_cifar100_records_carry_coarse_then_fine_labels(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    x, xt = (rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8) for n in (4, 2))
    coarse, fine = np.array([0, 19, 3, 7], np.uint8), np.array([99, 0, 42, 5], np.uint8)
    coarse_t, fine_t = np.array([1, 2], np.uint8), np.array([10, 20], np.uint8)
    (tmp_path / "cifar100").mkdir()
    write_tar(
        tmp_path / "cifar100" / "cifar-100-binary.tar.gz",
        {
            "cifar-100-binary/train.bin": cifar_records(np.stack([coarse, fine], 1), x),
            "cifar-100-binary/test.bin": cifar_records(np.stack([coarse_t, fine_t], 1), xt),
        },
    )
    use_tiny_spec(monkeypatch, tmp_path, "cifar100", n_train=4, n_test=2)
    got = official.load("cifar100", tmp_path)
    assert np.array_equal(got.y_train, fine) and np.array_equal(got.y_train_coarse, coarse)
    assert np.array_equal(got.y_test, fine_t) and np.array_equal(got.y_test_coarse, coarse_t)
    assert np.array_equal(got.x_train, x) and np.array_equal(got.x_test, xt)


def test_cifar_wrong_record_counts_and_truncated_archives_are_named(tmp_path, monkeypatch):
    tiny_cifar10(tmp_path / "cifar10")
    with pytest.raises(DatasetCorrupt, match=r"data_batch_1\.bin holds 2 records, expected 10000"):
        official.load("cifar10", tmp_path)
    monkeypatch.setitem(
        official.SPECS, "cifar10", dataclasses.replace(official.CIFAR10, n_train=10, n_test=3)
    )
    tarball = tmp_path / "cifar10" / "cifar-10-binary.tar.gz"
    whole = tarball.read_bytes()
    tarball.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DatasetCorrupt, match="is truncated"):
        official.load("cifar10", tmp_path)
    tarball.write_bytes(b"\x00" * 100 + whole)
    with pytest.raises(DatasetCorrupt, match="not a valid tar.gz archive"):
        official.load("cifar10", tmp_path)


def test_a_record_cut_short_is_named():
    with pytest.raises(DatasetCorrupt, match="not a whole number of 3073-byte records"):
        official.parse_cifar(bytes(3073 * 2 - 5), 1, "batch")


def test_cifar_members_are_taken_by_name_only(tmp_path, monkeypatch):
    """A member outside the wanted names (here one that would escape the folder) is never read or written."""
    written = tiny_cifar10(tmp_path / "cifar10")
    tarball = tmp_path / "cifar10" / "cifar-10-binary.tar.gz"
    with tarfile.open(tarball) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}
    members["../escape.bin"] = b"x"
    write_tar(tarball, members)
    use_tiny_spec(monkeypatch, tmp_path, "cifar10", n_train=10, n_test=3)
    assert np.array_equal(official.load("cifar10", tmp_path).y_test, written["y_test"])
    assert (
        not (tmp_path / "escape.bin").exists()
        and not (tmp_path / "cifar10" / "cifar-10-batches-bin").exists()
    )


# --- the feature dict of datasets.load ------------------------------------------------------------------------


def test_datasets_load_gives_standardised_flat_features(tmp_path, monkeypatch):
    written = tiny_cifar10(tmp_path / "cifar10")
    use_tiny_spec(monkeypatch, tmp_path, "cifar10", n_train=10, n_test=3)
    monkeypatch.setenv(official.ENV, str(tmp_path))
    d = datasets.load("cifar10")
    assert set(d) == {"x", "y", "x_test", "y_test"}
    assert d["x"].shape == (10, 3072) and d["x"].dtype == np.float32 and d["y"].dtype == np.int64
    per_channel = d["x"].reshape(10, 3, -1)
    assert np.allclose(per_channel.mean(axis=(0, 2)), 0, atol=1e-5)
    assert np.allclose(per_channel.std(axis=(0, 2)), 1, atol=1e-5)
    # the same affine map for the test split, in channel-first order
    red = written["x_train"][:, 0].astype(np.float64)
    want = (written["x_test"][:, 0].astype(np.float64) - red.mean()) / red.std()
    assert np.allclose(d["x_test"].reshape(3, 3, 32, 32)[:, 0], want, atol=1e-4)
    assert np.array_equal(d["y_test"], written["y_test"])
    with pytest.raises(ValueError, match="fixed official test split"):
        datasets.load("cifar10", n_test=2)


def test_datasets_load_of_an_absent_official_dataset_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv(official.ENV, str(tmp_path))
    with pytest.raises(DatasetMissing, match="reprosuite data fetch fashion_mnist"):
        datasets.load("fashion_mnist")


# --- the data directory and the tables ------------------------------------------------------------------------


def test_the_data_directory_is_the_env_var_then_the_config_then_data(monkeypatch, tmp_path):
    monkeypatch.delenv(official.ENV, raising=False)
    assert official.data_dir() == Path("data")
    assert official.data_dir("/srv/datasets") == Path("/srv/datasets")
    monkeypatch.setenv(official.ENV, str(tmp_path))
    assert official.data_dir("/srv/datasets") == tmp_path


def test_the_download_table_is_the_official_one():
    assert official.NAMES == ("mnist", "fashion_mnist", "cifar10", "cifar100")
    mnist = {d.file: d.md5 for d in official.MNIST.files}
    assert mnist["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert mnist["t10k-labels-idx1-ubyte.gz"] == "ec29112dd5afa0611ce80d1b7f02629c"
    assert official.CIFAR10.files[0].md5 == "c32a1d4ab5d03f1284b67883e8d87530"
    assert official.CIFAR100.files[0].md5 == "03b5dce01913d631647c71ecec9e9cb8"
    for sp in official.SPECS.values():
        for d in sp.files:
            assert len(d.md5) == 32 and int(d.md5, 16) >= 0
            assert d.urls and all(
                u.startswith(("https://", "http://")) and u.endswith(d.file) for u in d.urls
            )
    assert official.MNIST.files[0].urls[0] == "https://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz"
    assert official.CIFAR100.files[0].urls == ("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",)
    assert (official.CIFAR10.n_train, official.CIFAR100.n_test, official.FASHION_MNIST.n_train) == (
        50_000,
        10_000,
        60_000,
    )


def test_the_loaders_import_numpy_and_the_standard_library_only_and_never_unpickle():
    """They run in torch-free data jobs; and a pickle (CIFAR's "python version") runs code when it is loaded."""
    tree = ast.parse(Path(official.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert {m.split(".")[0] for m in imported} - set(sys.stdlib_module_names) == {"numpy"}
    assert not {"pickle", "shelve", "marshal"} & imported
    calls = {
        n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    }
    assert (
        not {"extractall", "extract", "load"} & calls
    )  # members are read by name; no np.load, no pickle.load
    assert not any("python" in d.file for sp in official.SPECS.values() for d in sp.files)


# --- reprosuite data check / fetch ----------------------------------------------------------------------------


def test_data_check_of_an_empty_directory_names_the_file_and_the_fetch_command(tmp_path, capsys):
    assert cli.main(["data", "check", "mnist", "--data-dir", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "mnist: absent" in out and "missing       train-images-idx3-ubyte.gz" in out
    assert err.count("\n") == 1 and "train-images-idx3-ubyte.gz is missing" in err
    assert "`reprosuite data fetch mnist`" in err


def test_data_check_reads_the_env_var(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(official.ENV, str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no config.yaml here
    assert cli.main(["data", "check", "cifar10"]) == 2
    assert f"{tmp_path / 'cifar10' / 'cifar-10-binary.tar.gz'} is missing" in capsys.readouterr().err


def test_data_check_passes_files_with_the_official_checksums(tmp_path, monkeypatch, capsys):
    tiny_mnist(tmp_path / "mnist")
    use_tiny_spec(monkeypatch, tmp_path)
    assert cli.main(["data", "check", "mnist", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "mnist: complete" in out and out.count("present") == 4
    # with no name, datasets absent altogether pass; one partly there fails
    assert cli.main(["data", "check", "--data-dir", str(tmp_path)]) == 0
    assert "cifar100: absent" in capsys.readouterr().out
    (tmp_path / "cifar10").mkdir()
    (tmp_path / "cifar10" / "cifar-10-binary.tar.gz").write_bytes(b"partial download")
    assert cli.main(["data", "check", "--data-dir", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "bad checksum  cifar-10-binary.tar.gz" in out and "checksum that is not the official one" in err


def test_data_check_fails_on_a_bad_checksum(tmp_path, monkeypatch, capsys):
    tiny_mnist(tmp_path / "mnist")
    use_tiny_spec(monkeypatch, tmp_path)
    write_gz(tmp_path / "mnist" / IDX_FILES[1], idx_bytes(np.zeros(5, np.uint8)))
    assert cli.main(["data", "check", "mnist", "--data-dir", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert (
        "bad checksum  train-labels-idx1-ubyte.gz" in out
        and "train-labels-idx1-ubyte.gz has a checksum" in err
    )


def test_fetch_moves_only_verified_downloads_into_place(tmp_path, monkeypatch):
    """``fetch`` against file:// addresses (no network): a download with the wrong md5 leaves nothing behind and the
    next address is tried; a verified one lands under its official name; a file already verified is kept."""
    source = tmp_path / "source"
    tiny_mnist(source / "mnist")
    sp = use_tiny_spec(monkeypatch, source, n_train=5, n_test=3)
    bogus = tmp_path / "bogus.gz"
    bogus.write_bytes(b"not the file")
    files = tuple(
        dataclasses.replace(d, urls=(bogus.as_uri(), (source / "mnist" / d.file).as_uri())) for d in sp.files
    )
    monkeypatch.setitem(official.SPECS, "mnist", dataclasses.replace(sp, files=files))
    lines = []
    got = official.fetch("mnist", tmp_path / "data", log=lines.append)
    folder = tmp_path / "data" / "mnist"
    assert got == [folder / f for f in IDX_FILES]
    assert sorted(p.name for p in folder.iterdir()) == sorted(IDX_FILES)  # no temporary file left
    assert all(
        (folder / f).stat().st_mode & 0o044 for f in IDX_FILES
    )  # readable by others, not mkstemp's 0600
    assert any("checksum mismatch" in line for line in lines) and any("%" in line for line in lines)
    assert [s.state for s in official.check("mnist", tmp_path / "data")] == ["present"] * 4
    lines.clear()
    official.fetch("mnist", tmp_path / "data", log=lines.append)
    assert lines == [f"{folder / f}: present, checksum ok" for f in IDX_FILES]
    files = tuple(dataclasses.replace(d, urls=(bogus.as_uri(),)) for d in sp.files)
    monkeypatch.setitem(official.SPECS, "mnist", dataclasses.replace(sp, files=files))
    with pytest.raises(DatasetError, match="could not download train-images-idx3-ubyte.gz"):
        official.fetch("mnist", tmp_path / "other", log=lines.append)
    assert list((tmp_path / "other" / "mnist").iterdir()) == []  # no partial file left


@pytest.mark.parametrize("command", ["check", "fetch"])
def test_data_commands_refuse_an_unknown_dataset(tmp_path, capsys, command):
    assert cli.main(["data", command, "imagenet", "--data-dir", str(tmp_path)]) == 2
    assert "unknown dataset 'imagenet'" in capsys.readouterr().err
    assert not (tmp_path / "imagenet").exists()
    with pytest.raises(DatasetError):
        official.fetch("imagenet", tmp_path)


# --- the real MNIST --------------------------------------------------------------------------------------------


def real_mnist_root() -> Path:
    root = os.environ.get(official.ENV)
    if not root:
        pytest.skip(f"${official.ENV} is not set: no data directory with the official MNIST files")
    absent = official.missing(["mnist"], root)
    if absent:
        pytest.skip(f"the official MNIST is not in ${official.ENV}: {absent[0][1]} is absent")
    return Path(root)


def test_the_real_mnist_loads_end_to_end():
    root = real_mnist_root()
    start = time.perf_counter()
    m = official.load("mnist", root)
    seconds = time.perf_counter() - start
    assert m.x_train.shape == (60_000, 28, 28) and m.x_test.shape == (10_000, 28, 28)
    assert m.y_train.shape == (60_000,) and m.y_test.shape == (10_000,)
    assert np.bincount(m.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(m.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert abs(m.x_train.mean(dtype=np.float64) - 33.318421) < 1e-3  # on the 0-255 scale
    assert seconds < 3.0, f"reading MNIST took {seconds:.2f} s"
    assert [s.state for s in official.check("mnist", root)] == ["present"] * 4


def test_the_real_mnist_as_features(monkeypatch):
    monkeypatch.setenv(official.ENV, str(real_mnist_root()))
    d = datasets.load("mnist")
    assert d["x"].shape == (60_000, 784) and d["x_test"].shape == (10_000, 784) and d["x"].dtype == np.float32
    # one affine map for all pixels: the training set's mean 33.318 and standard deviation 78.567 on the 0-255
    # scale (the usual 0.1307 and 0.3081 on [0, 1]); blank and full ink map to -0.424 and 2.822, in both splits
    mean, std = 33.318421, 78.567490
    for x in (d["x"], d["x_test"]):
        assert x.min() == pytest.approx(-mean / std, abs=1e-5) and x.max() == pytest.approx(
            (255 - mean) / std, abs=1e-5
        )
    assert abs(d["x"].sum(dtype=np.float64)) / d["x"].size < 1e-5
