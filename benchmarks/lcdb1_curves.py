"""LCDB 1.0's learning curves as JSON lines the curve model's build and cross-validation read.

Usage::

    pip download lcdb==0.1.0 --no-deps && tar xzf lcdb-0.1.0.tar.gz
    python benchmarks/lcdb1_curves.py lcdb-0.1.0/lcdb --exclude lcdb_curves_train.jsonl --out lcdb1.jsonl

LCDB 1.0 (Mohr, Viering, Loog, van Rijn, "LCDB 1.0: An Extensive Learning Curves Database for
Classification Tasks", ECML PKDD 2022; the ``lcdb`` package, MIT licence) holds, per OpenML dataset, learner,
training size and split (25 splits), the accuracy on the training, validation and test data
(``database-accuracy.csv``; dataset names in ``datasets.csv``). Each dataset and learner becomes one curve in
the shape of the LCDB 1.1 file (:func:`build_curve_model.load_lcdb`): per anchor with at least
:data:`MIN_SPLITS` splits the mean test error, its standard error and one split's spread, and the mean
training error with its standard error; learners are named as LCDB 1.1 names them (:data:`LEARNERS`), so
that they map to the same model families. Datasets of the ``--exclude`` corpora, by OpenML id or by dataset
group (:func:`build_curve_model.dataset_group`), are left out: the curves add dataset groups, never a second
measurement of one already there.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_curve_model import dataset_group

#: where the curves come from (each record's ``source``)
SOURCE = "LCDB 1.0 (Mohr, Viering, Loog, van Rijn, ECML PKDD 2022; the lcdb package 0.1.0, MIT licence)"
#: LCDB 1.0's learners by their LCDB 1.1 names (which ``build_curve_model.LEARNER_FAMILIES`` maps to families)
LEARNERS = {
    "SVC_linear": "SVM_Linear",
    "SVC_poly": "SVM_Poly",
    "SVC_rbf": "SVM_RBF",
    "SVC_sigmoid": "SVM_Sigmoid",
    "sklearn.discriminant_analysis.LinearDiscriminantAnalysis": "LDA",
    "sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis": "QDA",
    "sklearn.ensemble.ExtraTreesClassifier": "ens.ExtraTrees",
    "sklearn.ensemble.GradientBoostingClassifier": "ens.GradientBoosting",
    "sklearn.ensemble.RandomForestClassifier": "ens.RandomForest",
    "sklearn.linear_model.LogisticRegression": "LogisticRegression",
    "sklearn.linear_model.PassiveAggressiveClassifier": "PassiveAggressive",
    "sklearn.linear_model.Perceptron": "Perceptron",
    "sklearn.linear_model.RidgeClassifier": "RidgeClassifier",
    "sklearn.linear_model.SGDClassifier": "SGDClassifier",
    "sklearn.naive_bayes.BernoulliNB": "BernoulliNB",
    "sklearn.naive_bayes.MultinomialNB": "MultinomialNB",
    "sklearn.neighbors.KNeighborsClassifier": "KNN",
    "sklearn.neural_network.MLPClassifier": "MLP",
    "sklearn.tree.DecisionTreeClassifier": "Decision Tree",
    "sklearn.tree.ExtraTreeClassifier": "ExtraTree",
}
#: an anchor is kept where at least this many splits measured it (its spread needs a few)
MIN_SPLITS = 3
#: a curve is kept with at least this many anchors (as ``build_curve_model.load_lcdb`` asks)
MIN_ANCHORS = 8


#: columns the two files of the package must have
COLUMNS = {
    "datasets.csv": ("openmlid", "Name"),
    "database-accuracy.csv": ("openmlid", "learner", "size_train", "score_train", "score_test"),
}


def excluded(paths: list[Path]) -> tuple[set[int], set[str]]:
    """OpenML ids and dataset groups of the curves in ``paths`` (LCDB 1.1 shape); ValueError naming the file
    and line of a curve without them."""
    ids: set[int] = set()
    groups: set[str] = set()
    for path in paths:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if line.strip():
                d = json.loads(line)
                if not isinstance(d, dict) or "dataset_id" not in d or "dataset_name" not in d:
                    raise ValueError(
                        f"{path} line {number}: no dataset_id or dataset_name: --exclude takes curve files "
                        "in the LCDB 1.1 shape"
                    )
                ids.add(int(d["dataset_id"]))
                groups.add(dataset_group(str(d["dataset_name"])))
    return ids, groups


def rows(path: Path) -> Iterator[dict[str, str]]:
    """The rows of one of the package's files; ValueError naming the columns it lacks."""
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS[path.name] if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(
                f"{path} has no column {', '.join(missing)}: is it the lcdb package's {path.name}?"
            )
        yield from reader


def curves(folder: Path, exclude_ids: set[int], exclude_groups: set[str]) -> list[dict]:
    """The curves of LCDB 1.0's ``folder`` (``database-accuracy.csv``, ``datasets.csv``) whose datasets are
    neither in ``exclude_ids`` nor in ``exclude_groups``, as LCDB 1.1 records."""
    names = {int(row["openmlid"]): row["Name"] for row in rows(folder / "datasets.csv")}
    keep = {
        i for i, name in names.items() if i not in exclude_ids and dataset_group(name) not in exclude_groups
    }
    # per (dataset, learner), per training size: every split's (test error, training error)
    errors: dict[tuple[int, str], dict[int, list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows(folder / "database-accuracy.csv"):
        i = int(row["openmlid"])
        if i not in keep or row["learner"] not in LEARNERS:
            continue
        try:
            test, train = 1.0 - float(row["score_test"]), 1.0 - float(row["score_train"])
        except ValueError:  # a split that failed to measure
            continue
        if np.isfinite(test) and np.isfinite(train):
            errors[(i, row["learner"])][int(row["size_train"])].append((test, train))
    out = []
    for (i, learner), by_size in sorted(errors.items()):
        anchors = sorted(n for n, splits in by_size.items() if len(splits) >= MIN_SPLITS)
        if len(anchors) < MIN_ANCHORS:
            continue
        per_anchor = [np.array(by_size[n]) for n in anchors]  # (splits, 2): test and training errors
        out.append(
            {
                "source": SOURCE,
                "dataset_id": i,
                "dataset_name": names[i],
                "learner": LEARNERS[learner],
                "metric": "error_rate",
                "anchors": anchors,
                "values": [float(e[:, 0].mean()) for e in per_anchor],
                "values_sem": [float(e[:, 0].std(ddof=1) / np.sqrt(len(e))) for e in per_anchor],
                "values_std": [float(e[:, 0].std(ddof=1)) for e in per_anchor],
                "train_values": [float(e[:, 1].mean()) for e in per_anchor],
                "train_values_sem": [float(e[:, 1].std(ddof=1) / np.sqrt(len(e))) for e in per_anchor],
            }
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the lcdb package's data folder (database-accuracy.csv)")
    parser.add_argument(
        "--exclude",
        type=Path,
        nargs="*",
        default=[],
        help="curve files whose datasets and groups to leave out",
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    for name in ("database-accuracy.csv", "datasets.csv"):
        if not (args.folder / name).is_file():
            parser.error(
                f"{args.folder / name} not found: give the lcdb package's data folder (lcdb-0.1.0/lcdb)"
            )
    for path in args.exclude:
        if not path.is_file():
            parser.error(f"--exclude: {path} not found")
    try:
        found = curves(args.folder, *excluded(args.exclude))
    except ValueError as e:
        parser.error(str(e))
    with args.out.open("w") as f:
        for record in found:
            f.write(json.dumps(record) + "\n")
    groups = {dataset_group(r["dataset_name"]) for r in found}
    print(f"{len(found)} curves of {len({r['dataset_id'] for r in found})} datasets ({len(groups)} groups)")


if __name__ == "__main__":
    main()
