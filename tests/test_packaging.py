"""What the wheel carries besides the code: the examples (``annoplan demo`` reads them) and ``py.typed``."""

from __future__ import annotations

import runpy
import tomllib
from pathlib import Path

from setuptools.dist import Distribution

from api.examples import EXAMPLES, load_example

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "planner", "reports", "simulators")


def test_the_build_copies_every_example_into_the_api_package(tmp_path: Path) -> None:
    build_py = runpy.run_path(str(ROOT / "setup.py"), run_name="annoplan_setup")["BuildWithExamples"]
    command = build_py(Distribution({"name": "annoplan", "packages": []}))
    command.initialize_options()
    command.build_lib = str(tmp_path)
    command.finalize_options()
    command.run()
    examples = sorted(path.name for path in (ROOT / "examples").iterdir() if path.is_file())
    built = tmp_path / "api" / "_examples"
    assert "plan.json" in examples
    assert sorted(path.name for path in built.iterdir()) == examples
    for name in examples:
        assert (built / name).read_bytes() == (ROOT / "examples" / name).read_bytes()
    assert {str(built / name) for name in examples} <= set(command.get_outputs())


def test_a_checkout_reads_the_examples_beside_the_packages() -> None:
    assert EXAMPLES == ROOT / "examples"
    assert load_example("plan.json") is not None


def test_every_package_is_marked_typed_and_ships_the_marker() -> None:
    for package in PACKAGES:
        assert (ROOT / package / "py.typed").is_file(), package
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["tool"]["setuptools"]["package-data"]["*"] == ["py.typed"]
