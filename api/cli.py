"""The ``annoplan`` command line: a thin shell over ``planner`` and ``simulators``.

Responses go to standard output as JSON; progress and warnings to standard error; bad input exits 2 with a
one-line message naming the field.
"""

from __future__ import annotations

import typer

from api.replay_cli import replay_command

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="annoplan: forecast what labeling strategies cost from a few pilot rounds.",
)
app.command("replay")(replay_command)


def main() -> None:
    """Console-script entry point."""
    app()
