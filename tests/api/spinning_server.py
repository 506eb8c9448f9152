"""``annoplan serve`` whose plans never finish (``planner.make_plan`` spins), for the shutdown test:
``python -m tests.api.spinning_server --port P``."""

from __future__ import annotations

import importlib
import sys
from typing import Any


def spin(*args: Any, **kwargs: Any) -> None:
    while True:
        pass


if __name__ == "__main__":
    from annoplan import planner
    from annoplan.api.cli import main

    # by its module's real name, so that the worker processes can import it
    planner.make_plan = importlib.import_module("tests.api.spinning_server").spin
    sys.argv = ["annoplan", "serve", "--log-level", "warning", *sys.argv[1:]]
    main()
