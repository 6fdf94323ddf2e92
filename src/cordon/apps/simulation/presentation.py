"""How the simulator pages show a run: its scenario as rows, its summary as facts beside another run's, and its
daily figures as chart lines (plain values; the views and templates render them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

from cordon.apps.zones.models import Kind
from cordon.engine import zones as zone_rules

from .forms import PRESET_LABELS
from .models import SimulationRun

FIGURES = [
    ("new_infections", gettext_lazy("New infections")),
    ("new_cases", gettext_lazy("New reported cases")),
    ("infectious", gettext_lazy("Infectious")),
    ("isolated", gettext_lazy("In isolation or quarantine")),
    ("locked_down", gettext_lazy("Sealed at home")),
]
COMPARED = ("infectious", "new_cases", "isolated", "locked_down")
ZONE_DAYS = ("sealed", "controlled", "prevention", "guarded")  # the summary's zone_days, in this order
LEVELS = {
    2: gettext_lazy("district"),
    3: gettext_lazy("street"),
    4: gettext_lazy("community"),
    5: gettext_lazy("grid"),
}


def _n(value: Any) -> str:
    return number_format(value, force_grouping=True) if isinstance(value, int | float) else str(value or "—")


def name_of(run: SimulationRun) -> str:
    return run.title or _("Run #%(id)s") % {"id": run.pk}


def strategy_words(strategy: dict[str, Any]) -> list[str]:
    """The interventions of a strategy, each with its settings, as sentences."""
    out = []
    if strategy.get("isolate_cases"):
        out.append(_("isolate every reported case for %(n)s days") % {"n": strategy["isolation_days"]})
    if strategy.get("quarantine_contacts"):
        out.append(
            _("quarantine household and colleagues for %(n)s days") % {"n": strategy["quarantine_days"]}
        )
    if strategy.get("lockdown_areas"):
        level = LEVELS.get(strategy["lockdown_level"], strategy["lockdown_level"])
        if "zone_rules" not in strategy:  # a run from before the lockdown followed the zone rules
            out.append(
                _("seal the %(level)s of each new case for %(n)s days")
                % {"level": level, "n": strategy.get("lockdown_days")}
            )
        else:
            out.append(
                _("make the %(level)s of each new case a %(kind)s under the zone rules “%(rules)s”")
                % {
                    "level": level,
                    "kind": _kind(strategy.get("lockdown_kind")),
                    "rules": rules_name(strategy),
                }
            )
            if strategy.get("lockdown_outer"):
                out.append(
                    _("and the area around it a %(kind)s") % {"kind": _kind(strategy["lockdown_outer"])}
                )
    if strategy.get("screening"):
        out.append(
            _("screen the city every %(every)s days from day %(start)s, %(pool)s samples per test")
            % {
                "every": strategy["screening_every"],
                "start": strategy["screening_from"],
                "pool": strategy["pool_size"],
            }
        )
    return out or [_("no intervention")]


def _kind(kind: Any) -> str:
    return str(Kind(kind).label).lower() if kind in Kind.values else str(kind)


def rules_name(strategy: dict[str, Any]) -> str:
    """The zone rule set a strategy follows, by its name in the reader's language where it is a default one."""
    name = str(strategy.get("zone_rules") or "")
    code, _sep, version = name.partition(" v")
    names = zone_rules.RULE_NAMES.get(code)
    if names is None:
        return name
    shown = names[1] if (get_language() or "").startswith("zh") else names[0]
    return f"{shown} ({name})" if version else shown


def scenario_rows(scenario: dict[str, Any], persons: int) -> list[tuple[str, str]]:
    none = _("the default")
    return [
        (
            pgettext("simulator", "City"),
            str(PRESET_LABELS.get(scenario.get("preset", ""), scenario.get("preset", ""))),
        ),
        (_("Residents"), _n(persons)),
        (_("Days"), _n(scenario.get("days"))),
        (_("Seed"), str(scenario.get("seed"))),
        (_("Pathogen"), str(scenario.get("profile", ""))),
        (_("R0"), str(scenario["r0"]) if scenario.get("r0") is not None else none),
        (
            _("First infections"),
            _n(scenario["seed_infections"]) if scenario.get("seed_infections") is not None else none,
        ),
        (_("Strategy"), "; ".join(strategy_words(scenario.get("strategy") or {}))),
    ]


def facts(runs: Sequence[SimulationRun]) -> list[tuple[str, list[str]]]:
    """The summary's figures, one row each, a value per run (empty for a run not recorded yet)."""

    def row(label: str, shown: Any) -> tuple[str, list[str]]:
        return label, [shown(r.summary) if r.recorded else "—" for r in runs]

    def share(part: str, whole: str) -> Any:
        return lambda s: f"{_n(s[part])} ({100 * s[part] / s[whole]:.1f} %)" if s[whole] else _n(s[part])

    return [
        row(_("Infections"), lambda s: f"{_n(s['infections'])} ({100 * s['attack_rate']:.1f} %)"),
        row(_("Reported cases"), lambda s: _n(s["cases"])),
        row(_("Cases found already under control"), share("cases_under_control", "cases")),
        row(_("Cases found by screening"), lambda s: _n(s["cases_found_by"].get("screening", 0))),
        row(
            _("Peak of infectious people"), lambda s: f"{_n(s['peak_infectious'])} ({s['peak_date'] or '—'})"
        ),
        row(_("Person-days in isolation or quarantine"), lambda s: _n(s["isolation_person_days"])),
        row(_("Person-days sealed at home"), lambda s: _n(s["lockdown_person_days"])),
        row(
            _("Zone-days: sealed / controlled / prevention / lifted but guarded"),
            lambda s: (
                " / ".join(_n(s["zone_days"].get(k, 0)) for k in ZONE_DAYS) if "zone_days" in s else "—"
            ),
        ),
        row(
            _("Zones made / lifted / escalated"),
            lambda s: (
                f"{_n(s['zones'])} / {_n(s['zones_lifted'])} / {_n(s['zones_escalated'])}"
                if "zone_days" in s
                else "—"
            ),
        ),
        row(_("Tests used"), lambda s: _n(s["tests"])),
    ]


def chart_data(runs: Sequence[SimulationRun]) -> list[dict[str, Any]]:
    """Charts as plain values for ``simulation/charts.js``: one run, one chart with a line per figure; several
    runs, a chart per compared figure with a line per run. ``json_id`` names the page's JSON script of each."""
    charts = _charts(runs)
    for n, chart in enumerate(charts, start=1):
        chart["json_id"] = f"sim-chart-data-{n}"
    return charts


def _charts(runs: Sequence[SimulationRun]) -> list[dict[str, Any]]:
    if len(runs) == 1:
        s = runs[0].series
        return [
            {
                "title": name_of(runs[0]),
                "dates": s.get("date", []),
                "lines": [{"name": str(label), "data": s.get(key, [])} for key, label in FIGURES],
            }
        ]
    days = max(len(r.series.get("date", [])) for r in runs)
    return [
        {
            "title": str(label),
            "dates": [str(d) for d in range(1, days + 1)],
            "lines": [{"name": name_of(r), "data": r.series.get(key, [])} for r in runs],
        }
        for key, label in FIGURES
        if key in COMPARED and any(any(r.series.get(key, [])) for r in runs)  # not a line at zero for all
    ]
