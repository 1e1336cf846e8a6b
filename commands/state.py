"""What the top-level options set for the command that runs (`--operator`); kept apart from `commands.session` so that
setting it imports nothing else."""

from __future__ import annotations

STATE = {"operator": False}
