"""``cordon sim generate|run``: the synthetic city and outbreak simulator from the command line (no database)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

KINDS = ("sealed", "controlled", "prevention")  # engine.zones.KINDS (not imported: the CLI loads lazily)
PRESET_HELP = "demo (about 20,000 residents), city-1m or beijing (21.9 million)"
# Settings of the interventions (engine.sim.strategy.Strategy), each replacing the bundle's default.
STRATEGY_FLAGS = {
    "isolation-days": "days a reported case stays in centralised isolation (isolate-cases; default 21)",
    "quarantine-days": "days a close contact stays in centralised quarantine (quarantine-contacts; default 7)",
    "lockdown-level": "area sealed around a new case: 2 district, 3 street, 4 community, 5 grid (default 4)",
    "screening-every": "days between city-wide screening rounds (screening; default 3)",
    "screening-from": "first day of screening, 0 being the run's first day (default 7)",
    "pool-size": "samples per pooled test in screening rounds (default 10)",
}


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("sim", help="synthetic city and outbreak simulator (writes Parquet or CSV files)")
    simsub = p.add_subparsers(dest="sim_command", metavar="SIM_COMMAND", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--preset", default="demo", help=PRESET_HELP)
        q.add_argument("--population", type=int, help="override the preset's number of residents")
        q.add_argument("--seed", type=int, default=1)
        q.add_argument("--out", required=True, help="output folder")
        q.add_argument("--format", choices=("parquet", "csv"), default="parquet")
        q.add_argument("--start", help="first day, YYYY-MM-DD (default: the preset's)")

    q = simsub.add_parser("generate", help="generate a city and (optionally) its check-in scans for N days")
    common(q)
    q.add_argument("--scan-days", type=int, default=0, help="also write the scans of this many ordinary days")
    q.set_defaults(func=cmd_generate)

    q = simsub.add_parser("run", help="generate a city and run an outbreak in it")
    common(q)
    q.add_argument("--days", type=int, default=60)
    q.add_argument("--profile", default="covid19-omicron", help="built-in pathogen profile id or a JSON file")
    q.add_argument("--r0", type=float, help="override the profile's R0")
    q.add_argument(
        "--interventions",
        default="none",
        help="none, isolate, basic or zero-covid; or isolate-cases, quarantine-contacts, lockdown-areas and "
        "screening joined by commas",
    )
    for flag, meaning in STRATEGY_FLAGS.items():
        q.add_argument(f"--{flag}", type=int, help=meaning)
    q.add_argument(
        "--lockdown-kind", choices=KINDS, help="the kind of zone a new case's area becomes (default sealed)"
    )
    q.add_argument(
        "--lockdown-outer", choices=KINDS,
        help="also make the area one level up a zone of this (less strict) kind; default none",
    )  # fmt: skip
    q.add_argument(
        "--zone-rules",
        help="the zone rules the lockdown follows: ninth-edition (default), sealed-then-monitored, or a JSON "
        "file with a rule set's definition (the zones app's form; its name is the file's stem)",
    )
    q.add_argument("--seed-infections", type=int, help="number of first infections (default: the preset's)")
    q.add_argument("--scans", action="store_true", help="also write every day's scans")
    q.add_argument("--no-city", action="store_true", help="do not write the city tables")
    q.set_defaults(func=cmd_run)


def _fail(message: str) -> int:
    print(f"cordon sim: {message}", file=sys.stderr)
    return 2


def _prepare(args: argparse.Namespace) -> tuple[Any, dt.date, Path]:
    """The validated configuration, its first day and the output folder (nothing is created yet)."""
    from cordon.engine.sim import SimConfigError, preset

    overrides: dict[str, Any] = {}
    if args.population is not None:
        overrides["population"] = args.population
    try:
        start = dt.date.fromisoformat(args.start) if args.start else None
    except ValueError as exc:
        raise SimConfigError(f"--start: expected YYYY-MM-DD, got {args.start!r}") from exc
    if start is not None:
        overrides["start_date"] = start.isoformat()
    config = preset(args.preset, **overrides)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise SimConfigError(f"--out: {out} exists and is not a folder")
    return config, dt.date.fromisoformat(config.start_date), out


def _city(config: Any, seed: int) -> Any:
    from tqdm import tqdm

    from cordon.engine.sim import generate_city

    steps = ["jurisdictions", "households", "persons", "venues", "workplaces and schools"]
    with tqdm(total=len(steps), desc="city", unit="step", file=sys.stderr) as bar:

        def step(name: str) -> None:
            bar.set_postfix_str(name)
            if name != steps[0]:
                bar.update(1)

        city = generate_city(config, seed=seed, progress=step)
        bar.update(1)
    return city


def cmd_generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from cordon.engine.sim import SimConfigError
    from cordon.engine.sim.output import generate_scans, write_city

    try:
        config, start, out = _prepare(args)
        if args.scan_days < 0:
            raise SimConfigError(f"--scan-days must not be negative, got {args.scan_days}")
    except SimConfigError as exc:
        return _fail(str(exc))
    city = _city(config, args.seed)
    write_city(city, out, args.format)
    rows = 0
    if args.scan_days:
        with tqdm(total=args.scan_days, desc="scans", unit="day", file=sys.stderr) as bar:

            def tick(_day: int, n: int) -> None:
                bar.update(1)
                bar.set_postfix_str(f"{n:,} scans")

            rows = generate_scans(city, args.scan_days, start, out, args.seed, args.format, tick)
    print(json.dumps({**city.summary(), "scans": rows, "out": str(out)}, ensure_ascii=False))
    return 0


def _scenario(args: argparse.Namespace) -> Any:
    """The run's scenario (engine.sim.strategy.Scenario): the same object the web's simulation jobs run."""
    from cordon.engine.sim import SimConfigError
    from cordon.engine.sim.strategy import Scenario, Strategy

    if args.start:
        try:
            dt.date.fromisoformat(args.start)
        except ValueError as exc:
            raise SimConfigError(f"--start: expected YYYY-MM-DD, got {args.start!r}") from exc
    settings = {
        flag.replace("-", "_"): getattr(args, flag.replace("-", "_"))
        for flag in STRATEGY_FLAGS
        if getattr(args, flag.replace("-", "_")) is not None
    }
    if args.lockdown_kind:
        settings["lockdown_kind"] = args.lockdown_kind
    if args.lockdown_outer:
        settings["lockdown_outer"] = args.lockdown_outer
    if args.zone_rules:
        settings.update(_zone_rules(args.zone_rules))
    return Scenario(
        preset=args.preset, population=args.population, days=args.days, seed=args.seed, profile=args.profile,
        r0=args.r0, seed_infections=args.seed_infections, start=args.start,
        strategy=Strategy.named(args.interventions, **settings),
    )  # fmt: skip


def _zone_rules(value: str) -> dict[str, Any]:
    """``--zone-rules``: a default rule set's code, or a JSON file holding a definition."""
    from cordon.engine.sim import SimConfigError

    if not value.endswith(".json"):
        return {"zone_rules": value}
    path = Path(value)
    try:
        definition = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SimConfigError(f"--zone-rules: cannot read {path}: {exc}") from exc
    name = path.stem
    if isinstance(definition, dict) and isinstance(definition.get("definition"), dict):
        # A rule set as the zones API gives it: named as the web names a stored version.
        name = f"{definition.get('code') or name} v{definition.get('version') or 1}"
        definition = definition["definition"]
    return {"zone_rules": name, "zone_rules_definition": definition}


def cmd_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from cordon.engine.sim import SimConfigError
    from cordon.engine.sim.output import ScanWriter, write_city, write_run
    from cordon.engine.sim.strategy import outcome

    try:
        _config, _start, out = _prepare(args)
        scenario = _scenario(args)
        scenario.check()
        began = time.perf_counter()
        steps = ["jurisdictions", "households", "persons", "venues", "workplaces and schools", "calibrating"]
        with tqdm(total=len(steps), desc="city", unit="step", file=sys.stderr) as bar:

            def step(name: str) -> None:
                bar.set_postfix_str(name)
                if name != steps[0]:
                    bar.update(1)

            sim = scenario.simulation(progress=step)
            bar.update(1)
    except SimConfigError as exc:
        return _fail(str(exc))
    city, profile = sim.city, sim.profile
    if not args.no_city:
        write_city(city, out, args.format)
    writer = ScanWriter(out, args.format) if args.scans else None
    with tqdm(total=args.days, desc="outbreak", unit="day", file=sys.stderr) as bar:

        def tick(r: Any) -> None:
            bar.update(1)
            bar.set_postfix_str(f"{r.date} infectious {r.infectious:,} new cases {r.new_cases:,}")

        sim.run(args.days, progress=tick, on_visits=writer)
    elapsed = time.perf_counter() - began
    write_run(sim, out, args.format)
    summary = outcome(sim).summary
    print(json.dumps({
        **summary, "persons": city.n_persons, "days": args.days, "profile": f"{profile.id} v{profile.version}",
        "r0": profile.r0, "interventions": scenario.strategy.active(),
        "scans": writer.rows if writer else 0, "seconds": round(elapsed, 1), "out": str(out),
    }, ensure_ascii=False))  # fmt: skip
    return 0
