"""LCDB 1.0's curves in the build's shape: splits averaged, learners renamed, known datasets left out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.build_curve_model import LEARNER_FAMILIES, load_lcdb, sources
from benchmarks.lcdb1_curves import LEARNERS, SOURCE, main

SIZES = [16, 23, 32, 45, 64, 91, 128, 181, 256]


def lcdb1_folder(tmp: Path) -> Path:
    """Three datasets (ids 1-3; 3 shares its group with a known one), one learner, 4 splits per size; the
    last size measured by 2 splits only, one split failed at size 16."""
    folder = tmp / "lcdb"
    folder.mkdir()
    (folder / "datasets.csv").write_text("openmlid,Name\n1,alpha\n2,beta\n3,OVA_Lung\n")
    rows = [
        "openmlid,learner,size_train,size_test,outer_seed,inner_seed,traintime,score_train,score_valid,score_test"
    ]
    for dataset in (1, 2, 3):
        for n in [*SIZES, 362]:
            for split in range(2 if n == 362 else 4):
                test = "" if (n == 16 and split == 0) else f"{0.5 + 0.01 * split + 0.001 * n}"
                rows.append(
                    f"{dataset},sklearn.linear_model.LogisticRegression,{n},100,{split},0,0.01,"
                    f"{0.9 - 0.01 * split},0.6,{test}"
                )
    (folder / "database-accuracy.csv").write_text("\n".join(rows) + "\n")
    return folder


def test_each_dataset_and_learner_becomes_a_curve_the_build_reads(tmp_path: Path) -> None:
    known = tmp_path / "known.jsonl"
    lines = [{"dataset_id": 2, "dataset_name": "beta2"}, {"dataset_id": 9, "dataset_name": "OVA_Colon"}]
    known.write_text("".join(json.dumps(d | {"learner": "KNN"}) + "\n" for d in lines))
    out = tmp_path / "lcdb1.jsonl"
    main([str(lcdb1_folder(tmp_path)), "--exclude", str(known), "--out", str(out)])
    records = [json.loads(line) for line in out.read_text().splitlines()]
    # dataset 2 is known by its id, dataset 3 by its group (OVA_*): only dataset 1 is left
    assert [(r["dataset_id"], r["learner"]) for r in records] == [(1, "LogisticRegression")]
    r = records[0]
    # the size measured by 2 splits is dropped; size 16 keeps its 3 measured splits
    assert r["anchors"] == SIZES and r["source"] == SOURCE
    test_16 = 1 - np.array([0.5 + 0.01 * s + 0.016 for s in (1, 2, 3)])
    assert r["values"][0] == pytest.approx(test_16.mean())
    assert r["values_std"][0] == pytest.approx(test_16.std(ddof=1))
    assert r["values_sem"][0] == pytest.approx(test_16.std(ddof=1) / np.sqrt(3))
    assert r["train_values"][1] == pytest.approx(1 - np.mean([0.9 - 0.01 * s for s in range(4)]))
    (curve,) = load_lcdb(out)
    assert curve.family == "linear" and curve.group == "alpha"
    assert sources(out) == [SOURCE]


def test_every_learner_maps_to_a_known_family_or_other() -> None:
    families = {LEARNER_FAMILIES.get(name, "other") for name in LEARNERS.values()}
    # only QDA has no family of its own
    assert [name for name in LEARNERS.values() if name not in LEARNER_FAMILIES] == ["QDA"]
    # every family of the contract but foundation models (LCDB 1.0 has none)
    assert families == set(LEARNER_FAMILIES.values()) - {"foundation_model"} | {"other"}


def test_a_folder_without_the_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([str(tmp_path), "--out", str(tmp_path / "x.jsonl")])
    assert "give the lcdb package's data folder" in capsys.readouterr().err


def test_a_curve_file_without_ids_or_a_database_without_scores_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = lcdb1_folder(tmp_path)
    out = tmp_path / "lcdb1.jsonl"
    runs = tmp_path / "runs.jsonl"
    runs.write_text(json.dumps({"dataset_name": "alpha", "learner": "logreg"}) + "\n")
    with pytest.raises(SystemExit):
        main([str(folder), "--exclude", str(runs), "--out", str(out)])
    assert "runs.jsonl line 1: no dataset_id or dataset_name" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(folder), "--exclude", str(tmp_path / "none.jsonl"), "--out", str(out)])
    assert "--exclude: " in capsys.readouterr().err
    database = folder / "database-accuracy.csv"
    database.write_text(database.read_text().replace("score_test", "score"))
    with pytest.raises(SystemExit):
        main([str(folder), "--out", str(out)])
    assert "database-accuracy.csv has no column score_test" in capsys.readouterr().err
    # nothing was written
    assert not out.exists()
