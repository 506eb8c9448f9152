"""The error every simulator raises on invalid input.

:class:`SimulatorInputError` is raised by the simulators' inputs that the planner uses too (the rate
card, acceptance sampling) as well as by the pool replay, the sweep, the pilot and the data-set readers.
It is a ``ValueError`` whose ``field`` names the offending parameter, so that the command line and the
HTTP layer can point the caller at the right option.
"""

from __future__ import annotations

__all__ = ["SimulatorInputError"]


class SimulatorInputError(ValueError):
    """Invalid input to a simulator; ``field`` names the parameter (e.g. ``batch_size``).

    Parameters
    ----------
    field : str
        Name of the offending parameter or input (``"costs.review"``, ``"y"``, ...).
    message : str
        What is wrong and, where it helps, what to do instead.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")
