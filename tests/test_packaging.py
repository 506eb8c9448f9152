"""What the wheel carries (one ``annoplan`` namespace, the examples ``annoplan demo`` reads, ``py.typed``),
and the suite's shared settings (hypothesis profiles, the ``slow`` marker)."""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from hypothesis import settings
from setuptools.dist import Distribution

from annoplan.api.examples import EXAMPLES, load_example

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
    built = tmp_path / "annoplan" / "api" / "_examples"
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


@pytest.mark.slow
def test_the_wheel_installs_one_annoplan_namespace_that_runs_without_the_checkout(tmp_path: Path) -> None:
    # built from a copy of the source tree: an in-tree build would leave build/ in the checkout
    source = tmp_path / "source"
    skip = shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__", "*.xlsx")
    shutil.copytree(ROOT, source, symlinks=True, ignore=skip)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            tmp_path,
            source,
        ],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("annoplan-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"annoplan"}  # no stray top-level api, planner, reports or simulators
    for name in (
        "annoplan/planner/plans.py",
        "annoplan/api/_examples/plan.json",
        "annoplan/simulators/py.typed",
    ):
        assert name in names
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, wheel],
        check=True,
    )
    # the installed copy comes first on the path; the run happens away from the checkout
    env = {**os.environ, "PYTHONPATH": str(target), "OPENBLAS_NUM_THREADS": "1"}
    script = (
        "import annoplan, json, pathlib, sys\n"
        "from annoplan.api.cli import main\n"
        f"assert pathlib.Path(annoplan.__file__).is_relative_to({str(target)!r}), annoplan.__file__\n"
        "sys.argv = ['annoplan', 'demo', '--xlsx', 'demo.xlsx']\n"
        "main()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "demo.xlsx").stat().st_size > 0
