"""The form that starts a simulator run: a preset and its size, days and seed, the pathogen, and the strategy
(each built-in intervention on or off, with its settings)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from cordon.apps.zones.models import Kind
from cordon.engine.sim import PRESETS, available_profiles
from cordon.engine.sim.strategy import Scenario, Strategy

from . import selectors

PRESET_LABELS = {
    "demo": _("Demo city (about 20,000 residents)"),
    "city-1m": _("City of one million"),
    "beijing": _("Beijing-sized city (21.9 million)"),
}
LEVEL_CHOICES = [(2, _("District")), (3, _("Street")), (4, _("Community")), (5, _("Grid"))]
DEFAULT = Strategy()


def _int(label: Any, low: int, high: int, initial: int | None = None, **kw: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=low, max_value=high, initial=initial, **kw)


class RunForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120, required=False)
    preset = forms.ChoiceField(
        label=pgettext_lazy("simulator", "City"),
        choices=[(k, PRESET_LABELS.get(k, k)) for k in PRESETS],
        initial="demo",
    )
    population = _int(
        _("Residents"), 1, 100_000_000, required=False, help_text=_("Leave empty for the preset's own size.")
    )
    days = _int(_("Days"), 1, 365, 60)
    seed = _int(_("Seed"), 0, 2**31 - 1, 1, help_text=_("The same seed and settings give the same numbers."))
    profile = forms.ChoiceField(label=_("Pathogen"), choices=[], initial="covid19-omicron")
    r0 = forms.FloatField(
        label=_("R0"),
        min_value=0.1,
        max_value=30,
        required=False,
        help_text=_("Leave empty for the pathogen's."),
    )
    seed_infections = _int(
        _("First infections"), 0, 100_000, required=False, help_text=_("Leave empty for the preset's.")
    )
    isolate_cases = forms.BooleanField(label=_("Isolate every reported case"), required=False)
    isolation_days = _int(_("Isolation days"), 1, 60, DEFAULT.isolation_days)
    quarantine_contacts = forms.BooleanField(
        label=_("Quarantine each case's household and colleagues or classmates"), required=False
    )
    quarantine_days = _int(_("Quarantine days"), 1, 60, DEFAULT.quarantine_days)
    lockdown_areas = forms.BooleanField(
        label=_("Make the home area of each new case a zone, lifted by the zone rules"), required=False
    )
    lockdown_level = forms.TypedChoiceField(
        label=_("Area sealed"), choices=LEVEL_CHOICES, coerce=int, initial=DEFAULT.lockdown_level
    )
    lockdown_kind = forms.ChoiceField(
        label=_("Kind of zone"), choices=Kind.choices, initial=DEFAULT.lockdown_kind, required=False
    )
    lockdown_outer = forms.ChoiceField(
        label=_("Zone around it (the area one level up)"),
        choices=[
            ("", _("None")),
            (Kind.CONTROLLED, Kind.CONTROLLED.label),
            (Kind.PREVENTION, Kind.PREVENTION.label),
        ],
        required=False,
        help_text=_("Less strict than the zone of the case's area."),
    )
    zone_rules = forms.ChoiceField(
        label=_("Zone rules"),
        choices=[],
        required=False,
        help_text=_(
            "The rule sets of the zones app: a zone is lifted, downgraded or escalated as they say, and the "
            "commander's confirmation is taken as given."
        ),
    )
    screening = forms.BooleanField(label=_("City-wide screening rounds"), required=False)
    screening_every = _int(_("Every (days)"), 1, 30, DEFAULT.screening_every)
    screening_from = _int(_("From day"), 0, 365, DEFAULT.screening_from)
    pool_size = _int(_("Samples per pooled test"), 1, 50, DEFAULT.pool_size)

    STRATEGY = [f for f in Strategy.__dataclass_fields__ if f not in ("zone_rules", "zone_rules_definition")]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        profile = self.fields["profile"]
        assert isinstance(profile, forms.ChoiceField)
        profile.choices = [(p, p) for p in available_profiles()]
        self.rule_choices = {c.key: c for c in selectors.zone_rule_choices(get_language() or "")}
        rules = self.fields["zone_rules"]
        assert isinstance(rules, forms.ChoiceField)
        rules.choices = [(c.key, c.label) for c in self.rule_choices.values()]
        rules.initial = next((c.key for c in self.rule_choices.values() if c.in_force), None)

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        kind, outer = d.get("lockdown_kind"), d.get("lockdown_outer")
        if (
            kind
            and outer
            and Strategy(lockdown_kind=kind, lockdown_outer=outer).problems().get("lockdown_outer")
        ):
            self.add_error("lockdown_outer", _("Choose a kind less strict than the zone of the case's area."))
        return d

    def scenario(self) -> Scenario:
        d = {**self.cleaned_data}
        d["lockdown_kind"] = d["lockdown_kind"] or DEFAULT.lockdown_kind
        chosen = self.rule_choices[d["zone_rules"] or str(self.fields["zone_rules"].initial)]
        strategy = Strategy(
            **{name: d[name] for name in self.STRATEGY},
            zone_rules=chosen.name, zone_rules_definition=chosen.definition,
        )  # fmt: skip
        return Scenario(
            preset=d["preset"], population=d["population"], days=d["days"], seed=d["seed"],
            profile=d["profile"], r0=d["r0"], seed_infections=d["seed_infections"], strategy=strategy,
        )  # fmt: skip

    @staticmethod
    def initial_of(scenario: dict[str, Any], title: str = "") -> dict[str, Any]:
        """The form's values for a run's scenario (to run it again with a setting changed)."""
        values = {k: v for k, v in scenario.items() if k not in ("strategy", "start")}
        strategy = dict(scenario.get("strategy") or {})
        name = str(strategy.pop("zone_rules", "") or "")
        strategy.pop("zone_rules_definition", None)
        code, _sep, version = name.partition(" v")
        if code:
            chosen = selectors.zone_rule_choice(code, int(version) if version.isdigit() else None)
            if chosen is not None:
                strategy["zone_rules"] = chosen.key
        return {**values, **strategy, "title": title}
