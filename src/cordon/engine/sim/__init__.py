"""Synthetic city and outbreak simulator (no Django).

- :func:`preset` / :class:`CityConfig` -> :func:`generate_city` -> :class:`City` (struct of arrays)
- :class:`Mobility` turns a city into each day's venue check-ins (scans)
- :class:`Simulation` runs an agent-based outbreak over the city with a :class:`PathogenProfile`
  (:func:`load_profile`) and interventions (:mod:`cordon.engine.sim.interventions`)
- :mod:`cordon.engine.sim.output` writes everything as Parquet or CSV
"""

from cordon.engine.sim.city import City, generate_city
from cordon.engine.sim.config import PRESETS, CityConfig, preset, validate
from cordon.engine.sim.errors import SimConfigError
from cordon.engine.sim.interventions import Controls, Intervention, Report, View, built_in
from cordon.engine.sim.mobility import Mobility, Visits
from cordon.engine.sim.outbreak import SETTINGS, DayResult, Simulation
from cordon.engine.sim.profile import PathogenProfile, available_profiles, load_profile

__all__ = [
    "PRESETS",
    "SETTINGS",
    "City",
    "CityConfig",
    "Controls",
    "DayResult",
    "Intervention",
    "Mobility",
    "PathogenProfile",
    "Report",
    "SimConfigError",
    "Simulation",
    "View",
    "Visits",
    "available_profiles",
    "built_in",
    "generate_city",
    "load_profile",
    "preset",
    "validate",
]
