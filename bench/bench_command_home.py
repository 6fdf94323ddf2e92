"""The commanders' home (``/`` for a city and a district commander, and ``GET /api/command/home``): its headline
figures read from kept counts against the same figures counted live, and what the workers pay to keep them.

Builds the Beijing-shaped city of ``bench_board.py`` (``_board_city.build``: the same tree, cases over the last 10
days, contacts, control orders, a screening round) in a throwaway PostgreSQL database, then, for the city
commander and Chaoyang's commander, times through Django's test client, warm: the home (``/``) and the API,
counted live (the kept counts treated as stale) and kept (after ``tallies.actions.refresh`` and
``geo.actions.refresh_rollups``), and the workers' ``command.actions.take_day_figures`` (every city and district).
The load average is printed: on a loaded machine the times are an upper bound.

    .venv/bin/python bench/bench_command_home.py --persons 21900000 --contacts 1000000
    .venv/bin/python bench/bench_command_home.py --reuse cordon_bench_board_N   # a city kept by bench_board.py

``--reuse DB`` measures in a database kept by ``bench_board.py --keep --build-only`` (migrated first, not
rebuilt): the same users as ``bench_board.py`` (``bench-city``, ``bench-district``), a city-wide screening round
running today added when none runs (as the build makes one), then the same refreshes and series. ``--modes kept``
skips the live series (minutes each at Beijing scale).

Prints a markdown block for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import tempfile
import time
from typing import Any

from _board_city import build, say
from _pgdb import throwaway_database
from bench_board import fmt, page_getter, series


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=21_900_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--controlled", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=20, help="timed requests per series (after one warm-up)")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds at most per series (min 3 runs)")
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/postgres", help="admin connection"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument(
        "--reuse",
        metavar="DB",
        help="measure in a database kept by bench_board.py --keep (migrated, not rebuilt)",
    )
    parser.add_argument("--modes", default="live,kept", help="live,kept (default) or one of them")
    args = parser.parse_args()
    if not args.reuse and args.persons < 2 * (args.contacts + args.controlled + args.cases):
        parser.error("--persons must be at least twice the cases, contacts and controlled persons")
    os.environ["CORDON_VAR"] = tempfile.mkdtemp(prefix="cordon-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    if args.reuse:
        os.environ["DATABASE_URL"] = f"{args.pg.rsplit('/', 1)[0]}/{args.reuse}"
        return run(args)
    with throwaway_database(args.pg, "cordon_cmd_home_bench", keep=args.keep):
        return run(args)


def _users() -> dict[str, Any]:
    from cordon.apps.accounts import actions as accounts

    return {
        label: accounts.create_user(
            actor=None, username=f"bench-{label}", password="bench-pw-1", role=role, jurisdiction_code=code
        )
        for label, role, code in (
            ("city", "city_commander", "110000"),
            ("district (朝阳区)", "district_commander", "110105"),
        )
    }


def _reused_users() -> dict[str, Any]:
    """The city and Chaoyang's commanders of a city kept by ``bench_board.py`` (its users, made if missing)."""
    from bench_board import beijing_users

    return {k: v for k, v in beijing_users().items() if k.split()[0] in ("city", "district")}


def _round_today() -> str:
    """A city-wide screening round running now, as the build makes one: the one found, or a new one (its code
    names the day). Returns what was done."""
    from django.utils import timezone

    from cordon.apps.geo.models import Jurisdiction
    from cordon.apps.screening import actions
    from cordon.apps.screening.models import ScreeningRound

    now = timezone.now()
    found = ScreeningRound.objects.filter(starts_at__lte=now, ends_at__gte=now).order_by("pk").first()
    if found is not None:
        return f"screening round {found.code} running"
    code = f"RB{timezone.localdate():%Y%m%d}"
    actions.create_round(
        actor=None,
        data=actions.RoundData(
            code=code, name="全员核酸", owner=Jurisdiction.objects.get(code="110000"),
            starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=12), design="10-in-1",
            jurisdictions=[Jurisdiction.objects.get(code="110000")],
        ),
    )  # fmt: skip
    return f"screening round {code} added"


def measure(users: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    from django.test import override_settings
    from django.utils import timezone

    from cordon.apps.command import actions as command
    from cordon.apps.command import figures
    from cordon.apps.geo import actions as geo
    from cordon.apps.tallies import actions as tallies

    get = page_getter(users)
    res: dict[str, Any] = {"pages": {}, "workers": {}, "equal": True, "differ": {}}
    seen: dict[str, Any] = {}
    modes = [m for m in (("live", -1.0), ("kept", 1e9)) if m[0] in args.modes.split(",")]
    for mode, stale in modes:
        with override_settings(CORDON_TALLY_STALE_SECONDS=stale, CORDON_ROLLUP_STALE_SECONDS=stale):
            if mode == "kept":
                res["workers"]["tallies.refresh (every 10 s)"] = series(tallies.refresh, 3, args.budget, 2)
                res["workers"]["geo.refresh_rollups (every 60 s, with command_control)"] = series(
                    geo.refresh_rollups, 3, args.budget, 2
                )
                res["workers"]["command.take_day_figures (every 300 s)"] = series(
                    command.take_day_figures, 3, args.budget, 2
                )
                for k, v in res["workers"].items():
                    say(f"{k}: {fmt(v)}")
            for label, user in users.items():
                values = {
                    k: f["value"] for k, f in figures.headline(user, timezone.localdate())["figures"].items()
                }
                if label in seen:
                    differ = {k: (seen[label][k], v) for k, v in values.items() if seen[label][k] != v}
                    res["differ"][label] = differ  # (live, kept)
                    res["equal"] = res["equal"] and not differ
                seen[label] = values
                day, now = timezone.localdate(), timezone.now()
                for part, fn in (
                    ("cases_on", lambda u=user, d=day: figures.cases_on(u, d)),
                    ("open items (to judge, overdue)", lambda u=user, t=now: figures._open_items(u, t)),
                    ("control stages", lambda u=user: figures._control(u)),
                    ("zones", lambda u=user: figures._zones(u)),
                    ("screening", lambda u=user, d=day: figures._screening(u, d)),
                ):
                    res["pages"][(label, f"part: {part}", mode)] = series(fn, args.runs, args.budget)
                for what, url in (("home /", "/"), ("GET /api/command/home", "/api/command/home")):
                    xs = series(get(label, url), args.runs, args.budget)
                    res["pages"][(label, what, mode)] = xs
                    say(f"{mode} {label} {what}: {fmt(xs)}")
    res["figures"] = seen
    return res


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from cordon.apps.control.models import ControlOrder
    from cordon.apps.people.models import Person
    from cordon.apps.tracing.models import Case, Contact

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    say(f"migrated in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    if args.reuse:
        say(_round_today())
        users = _reused_users()
    else:
        build(args)
        users = _users()
    t_build = time.perf_counter() - t0
    say(f"built in {t_build:.0f} s")
    say(f"load average before measuring: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    res = measure(users, args)
    load = os.getloadavg()
    version = connection.cursor().connection.info.server_version
    persons = Person.objects.count()
    data = (
        f"{Case.objects.count():,} cases, {Contact.objects.count():,} contacts, "
        f"{ControlOrder.objects.count():,} control orders (reused {args.reuse}, not built)"
        if args.reuse
        else f"{args.cases:,} cases, {args.contacts:,} contacts, {args.controlled:,} controlled; built in "
        f"{t_build:.0f} s"
    )
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"### The commanders' home at {persons:,} residents ({when})",
        "",
        f"{machine}, PostgreSQL {version // 10000}; load average at the end {load[0]:.2f} / {load[1]:.2f} / "
        f"{load[2]:.2f}. {data}. Times in ms, median / p95 / max (n); live = counted per request (kept counts stale), "
        f"kept = from the kept counts. Kept figures equal to live: "
        f"{('yes' if res['equal'] else 'NO') if len(args.modes.split(',')) == 2 else 'not compared (one mode)'}.",
        "",
        "| user | what | live | kept |",
        "|---|---|---:|---:|",
    ]
    rows = res["pages"]
    for label, what in dict.fromkeys((k[0], k[1]) for k in rows):
        cells = [fmt(rows[(label, what, m)]) if (label, what, m) in rows else "–" for m in ("live", "kept")]
        out.append(f"| {label} | {what} | {cells[0]} | {cells[1]} |")
    out += ["", "| what a worker pays | ms, median / p95 / max (n) |", "|---|---:|"]
    out += [f"| {k} | {fmt(v)} |" for k, v in res["workers"].items()]
    out += ["", f"Figures that differ, (live, kept): {res['differ']}"]
    out += ["", "The city's figures: " + ", ".join(f"{k} {v}" for k, v in res["figures"]["city"].items())]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
