"""The architecture rules (tests/architecture/rules.py) hold over src/cordon, and each catches a violation."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from architecture import rules


@pytest.mark.parametrize("rule", rules.RULES, ids=lambda r: r.__name__)
def test_the_source_keeps_the_rule(rule: rules.Rule) -> None:
    found = [str(v) for m in rules.modules() for v in rule(m)]
    assert not found, "\n".join(found)


def _module(path: str, source: str) -> rules.Module:
    return rules.parse(Path(path), textwrap.dedent(source))


LONG_BODY = "\n".join(f"    x{i} = {i}" for i in range(90))

VIOLATIONS = {
    "no_queries_in_edges": (
        "apps/screening/views.py",
        """
        def station(request):
            return Tube.objects.filter(barcode=request.GET["tube"]).first()
        """,
    ),
    "no_broad_except_in_edges": (
        "apps/people/api.py",
        """
        def lookup(request, key):
            try:
                return selectors.get_person_for(request.user, key)
            except Exception:
                raise NotFound
        """,
    ),
    "module_size": ("apps/control/actions.py", "x = 1\n" * 700),
    "function_size": ("engine/tracing/core.py", "def _parts():\n" + LONG_BODY + "\n"),
    "no_signals": (
        "apps/control/handlers.py",
        """
        from django.db.models.signals import post_save
        """,
    ),
    "writes_are_actions": (
        "apps/control/actions/samples.py",
        """
        def record_samples(*, actor, tasks):
            SampleTask.objects.bulk_update(tasks, ["status"])
        """,
    ),
    "saves_name_their_fields": (
        "apps/control/actions/placement.py",
        """
        def _upgrade(order):
            order.save()
        """,
    ),
}


@pytest.mark.parametrize("rule", rules.RULES, ids=lambda r: r.__name__)
def test_each_rule_catches_a_deliberate_violation(rule: rules.Rule) -> None:
    path, source = VIOLATIONS[rule.__name__]
    assert rule(_module(path, source)), f"{rule.__name__} missed: {source}"


def test_a_long_function_may_say_why_it_is_one_piece() -> None:
    source = (
        "def kernel():\n    # One piece: a compiled loop over the scans, kept whole for cache locality.\n"
        + LONG_BODY
    )
    assert not rules.function_size(_module("engine/tracing/kernels.py", source))


def test_writes_elsewhere_than_actions_are_caught() -> None:
    source = """
    def close_round(request, code):
        rnd = selectors.get_round_for(request.user, code)
        rnd.status = "closed"
        rnd.save(update_fields=["status"])
    """
    assert rules.writes_are_actions(_module("apps/screening/views.py", source))
