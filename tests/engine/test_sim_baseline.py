"""The simulator's golden baseline: a short fixed-seed run of a small city, summed up in a few figures, against
the copy committed in ``baselines/sim.json`` (as Covasim's tests/test_baselines.py does).

Any change to what the simulator does (the city, mobility, transmission, the infection tree, cases, the
interventions, the scans) moves some figure, and the test names every figure that moved and by how much. When
the change is meant, rewrite the baseline and commit it with the change:

    scripts/update-baseline          # or: .venv/bin/python tests/engine/test_sim_baseline.py --update

Integers and checksums must match exactly; the calibrated rates, the only floats, to 1e-9 relative.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from cordon.engine.sim import SETTINGS, Simulation, Visits, built_in, generate_city, load_profile, preset
from cordon.engine.sim.interventions import FOUND_BY

BASELINE = Path(__file__).resolve().parent / "baselines" / "sim.json"
RUN = {"preset": "demo", "population": 3000, "seed": 7, "days": 28, "interventions": "zero-covid"}
FLOAT_TOLERANCE = 1e-9
CITY_ARRAYS = ("household", "age", "sex", "sector", "workplace", "unit", "klass", "venue_kind", "venue_building",
               "venue_subareas", "bld_lon", "bld_lat", "venue_popularity")  # fmt: skip
LAYOUT_ARRAYS = ("jur_level", "jur_parent", "jur_lon", "jur_lat", "bld_grid", "bld_footprint", "hh_building",
                 "special", "wp_venue", "wp_sector", "school_venue", "venue_capacity")  # fmt: skip


def _digest(*arrays: Any) -> str:
    """A short checksum of arrays' values (as little-endian 64-bit numbers, so the dtype does not matter)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.asarray(a)
        a = a.astype("<f8" if a.dtype.kind == "f" else "<i8")
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def summary() -> dict[str, Any]:
    """The figures of a fresh run of :data:`RUN`."""
    city = generate_city(preset(RUN["preset"], population=RUN["population"]), seed=RUN["seed"])
    sim = Simulation(city, load_profile(), built_in(RUN["interventions"]), seed=RUN["seed"])
    scans: list[int] = []
    scan_digests: list[str] = []

    def on_visits(_day: int, _date: Any, visits: Visits) -> None:
        scans.append(len(visits))
        scan_digests.append(_digest(visits.person, visits.venue, visits.subarea, visits.t_in, visits.t_out))

    sim.run(RUN["days"], on_visits=on_visits)
    tree = sim.infections.table()
    cases = sim.case_list()
    actions: dict[str, dict[str, int]] = {}
    for r in sim.reports:
        a = actions.setdefault(r.action, dict.fromkeys(("reports", "persons", "venues", "buildings", "tests",
                                                         "positives"), 0))  # fmt: skip
        a["reports"] += 1
        for k in ("persons", "venues", "buildings", "tests", "positives"):
            a[k] += getattr(r, k)
    results = sim.results
    # The demo city at full size (what `cordon demo` loads) without a run: its layout, names and people.
    demo = generate_city(preset(RUN["preset"]), seed=RUN["seed"])
    names = [*demo.jur_code, *demo.jur_name, *demo.jur_name_en, *demo.venue_name,
             *("/".join(s) for s in demo.venue_subarea_names)]  # fmt: skip
    return {
        "demo_city": {
            **demo.summary(),
            "arrays": _digest(*(getattr(demo, name) for name in (*CITY_ARRAYS, *LAYOUT_ARRAYS))),
            "names": hashlib.sha256("\n".join(names).encode()).hexdigest()[:16],
        },
        "city": city.summary(),
        "rates": {k: getattr(sim.rates, k) for k in ("household", "work", "school", "venue", "r0")},
        "daily": {
            "new_infections": [r.new_infections for r in results],
            "new_cases": [r.new_cases for r in results],
            "infectious": [r.infectious for r in results],
            "isolated": [r.isolated for r in results],
            "locked_down": [r.locked_down for r in results],
            "infectious_visits": [r.infectious_visits for r in results],
            "scans": scans,
        },
        "infections_by_setting": {name: int((tree["setting"] == i).sum()) for i, name in enumerate(SETTINGS)},
        "cases_by_found_by": {name: int((cases.found_by == i).sum()) for i, name in enumerate(FOUND_BY)},
        "cases_under_control": int(cases.under_control.sum()),
        "interventions": dict(sorted(actions.items())),
        "checksums": {
            "city": _digest(*(getattr(city, name) for name in CITY_ARRAYS)),
            "infections": _digest(*(tree[k] for k in sorted(tree))),
            "natural_history": _digest(sim.t_inf, sim.inf_start, sim.inf_end, sim.onset, sim.weight),
            "cases": _digest(cases.person, cases.sampled, cases.found_by, cases.under_control),
            "scans": hashlib.sha256("".join(scan_digests).encode()).hexdigest()[:16],
        },
    }


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        items = ((f"{path}.{key}" if path else key, item) for key, item in value.items())
        return {k: v for name, item in items for k, v in _flatten(item, name).items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _flatten(item, f"{path}[{i}]").items()}
    return {path: value}


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Every figure that moved, as ``name: old -> new (change)``; figures that appeared or vanished too."""
    old, new = _flatten(expected), _flatten(actual)
    out = []
    for key in [*old, *(k for k in new if k not in old)]:
        a, b = old.get(key, "(none)"), new.get(key, "(none)")
        if isinstance(a, float) and isinstance(b, float):
            if math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=1e-300):
                continue
            out.append(
                f"{key}: {a!r} -> {b!r} ({(b - a) / a:+.3g} relative)" if a else f"{key}: {a!r} -> {b!r}"
            )
        elif a != b or type(a) is not type(b):
            change = f" ({b - a:+d})" if isinstance(a, int) and isinstance(b, int) else ""
            out.append(f"{key}: {a!r} -> {b!r}{change}")
    return out


def test_a_fixed_seed_run_matches_the_baseline() -> None:
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert baseline["run"] == RUN, (
        "the baseline was made from another run; update it (scripts/update-baseline)"
    )
    moved = differences(baseline["figures"], summary())
    shown = "\n  ".join(moved[:40]) + (f"\n  ... and {len(moved) - 40} more" if len(moved) > 40 else "")
    assert not moved, (
        f"{len(moved)} figures of the fixed-seed simulator run moved from {BASELINE.name}:\n  {shown}\n"
        "If the simulator's behaviour was meant to change, run scripts/update-baseline and commit the file."
    )


def test_the_comparison_names_what_moved() -> None:
    before = {"daily": {"cases": [1, 2, 3]}, "rates": {"venue": 0.5}, "checksums": {"cases": "ab"}}
    after = {
        "daily": {"cases": [1, 4, 3]},
        "rates": {"venue": 0.5 * (1 + 1e-12)},
        "checksums": {"cases": "ac"},
    }
    assert differences(before, before) == []
    assert differences(before, after) == ["daily.cases[1]: 2 -> 4 (+2)", "checksums.cases: 'ab' -> 'ac'"]
    after["rates"]["venue"] = 0.6
    assert differences(before, after)[1] == "rates.venue: 0.5 -> 0.6 (+0.2 relative)"
    assert differences({"a": [1]}, {"a": [1, 2]}) == ["a[1]: '(none)' -> 2"]


def _write(figures: dict[str, Any]) -> None:
    text = json.dumps({"run": RUN, "figures": figures}, indent=2, ensure_ascii=False)
    # Lists of numbers on one line each, so the file stays short and a diff shows which series moved.
    one_line = lambda m: "[" + ", ".join(x.strip() for x in m[1].split(",")) + "]"  # noqa: E731
    text = re.sub(r"\[\s+([-0-9.e,\s]+?)\s+\]", one_line, text)
    BASELINE.parent.mkdir(exist_ok=True)
    BASELINE.write_text(text + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if argv != ["--update"]:
        print("usage: test_sim_baseline.py --update   (rewrites baselines/sim.json from a fresh run)")
        return 2
    figures = summary()
    if BASELINE.exists():
        old = json.loads(BASELINE.read_text(encoding="utf-8"))
        moved = (
            differences(old["figures"], figures) if old.get("run") == RUN else ["(the run itself changed)"]
        )
        print(f"{len(moved)} figures moved" + "".join(f"\n  {m}" for m in moved))
    _write(figures)
    print(f"wrote {BASELINE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
