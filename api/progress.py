"""The command line's progress bars (rich), drawn on standard error only when it is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class ProgressBar:
    """A rich progress bar on ``stream``: a description, the bar, done of total, the time spent and left.

    The bar starts at the first :meth:`update` (so nothing is drawn for work refused before it starts) and is
    cleared by :meth:`close`.
    """

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.bar: Any = None
        self.task: Any = None

    def update(self, done: int, total: int, description: str) -> None:
        if self.bar is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(file=self.stream, force_terminal=True),
                transient=True,
                auto_refresh=False,
            )
            self.task = self.bar.add_task(description, total=total)
            self.bar.start()
        self.bar.update(self.task, completed=done, total=total, description=description)
        self.bar.refresh()

    def counter(self, total: int, description: str) -> Callable[[object], None]:
        """A callback that moves the bar one step of ``total`` each time it is called (with anything)."""
        done = 0

        def step(_: object) -> None:
            nonlocal done
            done += 1
            self.update(done, total, description)

        return step

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


@contextmanager
def progress_bar(stream: Any = None, kind: type[ProgressBar] = ProgressBar) -> Iterator[Any]:
    """A ``kind`` of :class:`ProgressBar` on ``stream`` (standard error by default) when it is a terminal,
    else None (piped or redirected output gets no bar); the bar is cleared on leaving, however that
    happens."""
    stream = sys.stderr if stream is None else stream
    if not stream.isatty():
        yield None
        return
    bar = kind(stream)
    try:
        yield bar
    finally:
        bar.close()
