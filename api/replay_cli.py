"""Placeholder: the ``annoplan replay`` command is being written (pool replay issue)."""

from __future__ import annotations


def replay_command() -> None:
    """Replay a labeling policy on a real dataset (not yet implemented)."""
    raise NotImplementedError("annoplan replay is not implemented yet")
