"""Errors of the simulator. A configuration is checked completely before any work starts."""

from __future__ import annotations


class SimConfigError(ValueError):
    """A configuration, preset, profile or intervention the simulator refuses; ``problems`` lists every reason."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))
