"""What the wheel carries besides the code (the examples ``annoplan demo`` reads, ``py.typed``), and the
suite's shared settings (hypothesis profiles, the ``slow`` marker)."""

from __future__ import annotations

import runpy
import tomllib
from pathlib import Path

import pytest
from hypothesis import settings
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


def test_the_suite_draws_hypothesis_examples_seeded_and_untimed(pytestconfig: pytest.Config) -> None:
    profile = settings.get_profile("annoplan")
    assert profile.derandomize and profile.deadline is None and profile.database is None
    assert settings.get_profile("quick").derandomize and settings.get_profile("quick").max_examples == 10
    assert any(line.startswith("slow:") for line in pytestconfig.getini("markers"))
