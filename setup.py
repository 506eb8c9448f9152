"""One build step on top of pyproject.toml: the bundled examples (``examples/``) ship inside the wheel as
package data of ``api`` (``api/_examples/``), so that ``annoplan demo`` and the OpenAPI examples work where
annoplan is installed. A checkout (and an editable install) reads ``examples/`` itself (:mod:`api.examples`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

EXAMPLES = Path(__file__).resolve().parent / "examples"
#: where the examples go inside the built package tree
BUILT_EXAMPLES = Path("annoplan", "api", "_examples")


class BuildWithExamples(build_py):
    """``build_py`` that also copies ``examples/*`` into ``api/_examples/`` of the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / BUILT_EXAMPLES
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(EXAMPLES.iterdir()):
            if path.is_file():
                shutil.copy2(path, target / path.name)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        built = Path(self.build_lib) / BUILT_EXAMPLES
        examples = [str(built / path.name) for path in sorted(EXAMPLES.iterdir()) if path.is_file()]
        return [*super().get_outputs(include_bytecode), *examples]


if __name__ == "__main__":  # as the build backend and ``python setup.py`` run it; importing builds nothing
    setup(cmdclass={"build_py": BuildWithExamples})
