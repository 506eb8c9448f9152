"""The layers import only downward: ``annoplan.api`` > ``annoplan.reports`` > ``annoplan.planner`` >
``annoplan.simulators``, each importing only the layers below it. import-linter checks the contract of
``[tool.importlinter]`` in pyproject.toml (``lint-imports`` runs the same check by hand); its report names
each upward import with its file and line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]
LAYERS = ("api", "reports", "planner", "simulators")


def lint_imports(
    config: Path, *, cwd: Path, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` on ``config`` without a cache (it would write one into ``cwd``)."""
    beside = Path(sys.executable).with_name("lint-imports")
    executable = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert executable, "lint-imports is not installed (the test extra installs import-linter)"
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    return subprocess.run(
        [executable, "--no-cache", "--no-logo", str(config)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_contract_names_the_four_layers_top_to_bottom() -> None:
    assert CONFIG["root_package"] == "annoplan"
    [contract] = CONFIG["contracts"]
    assert contract["type"] == "layers"
    assert contract["layers"] == [f"annoplan.{layer}" for layer in LAYERS]


def test_the_layers_import_only_downward() -> None:
    result = lint_imports(ROOT / "pyproject.toml", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def throwaway_project(tmp_path: Path, imports: dict[str, str]) -> Path:
    """A package ``layered`` laid out as annoplan is (the layers are top-level folders that the package links
    in), under the contract of pyproject.toml with ``annoplan`` renamed; ``imports`` maps a layer to the
    source of its module ``core``. Returns the project's folder."""
    project = tmp_path / "project"
    package = project / "layered"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for layer in LAYERS:
        (project / layer).mkdir()
        (project / layer / "__init__.py").write_text("")
        (project / layer / "core.py").write_text(f"VALUE = {layer!r}\n" + imports.get(layer, ""))
        (package / layer).symlink_to(Path("..") / layer, target_is_directory=True)
    [contract] = CONFIG["contracts"]
    layers = [name.replace("annoplan.", "layered.", 1) for name in contract["layers"]]
    (project / "pyproject.toml").write_text(
        '[tool.importlinter]\nroot_package = "layered"\n\n[[tool.importlinter.contracts]]\n'
        f"name = {json.dumps(contract['name'])}\ntype = {json.dumps(contract['type'])}\n"
        f"layers = {json.dumps(layers)}\n"
    )
    return project


DOWNWARD = {
    "api": "from layered.reports import core\n",
    "reports": "from layered.planner.core import VALUE as PLANNER\nfrom layered.simulators import core\n",
    "planner": "import layered.simulators.core\n",
}


def test_a_throwaway_package_importing_only_downward_keeps_the_contract(tmp_path: Path) -> None:
    project = throwaway_project(tmp_path, DOWNWARD)
    result = lint_imports(project / "pyproject.toml", cwd=project, pythonpath=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("layer", "source", "upward"),
    [
        ("simulators", "from layered.planner.core import VALUE as PLANNER\n", "layered.planner.core"),
        ("planner", "from layered.reports import core\n", "layered.reports.core"),
        ("reports", "import layered.api.core\n", "layered.api.core"),
        # an import inside a function counts as much as one at the top of the module
        ("simulators", "\n\ndef late():\n    from layered.api import core\n    return core\n", "layered.api"),
    ],
)
def test_an_upward_import_breaks_the_contract(tmp_path: Path, layer: str, source: str, upward: str) -> None:
    project = throwaway_project(tmp_path, {**DOWNWARD, layer: DOWNWARD.get(layer, "") + source})
    result = lint_imports(project / "pyproject.toml", cwd=project, pythonpath=project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 kept, 1 broken" in result.stdout
    assert f"layered.{layer}.core -> {upward}" in result.stdout
