"""The open-items board and the home page at Beijing scale: counted per request against kept counts, side by side.

Builds, in a throwaway PostgreSQL database (created and dropped by the script), a Beijing-shaped city with bulk
SQL (``INSERT ... SELECT`` over ``generate_series`` and ``COPY``, not per-row actions): 16 districts sized like
Beijing's (2020 census shares), about 336 streets, 21 communities a street, 3 grids a community, one building per
100 residents, ``--persons`` residents (21.9 million by default), ``--cases`` cases over the last 10 days (5%
not traced), ``--contacts`` open contacts (70% candidates to judge, 30% confirmed and not yet under control:
waiting, room reserved or in transfer), ``--controlled`` persons under control (half in centralised isolation
with a room, half at home) with two sample tasks each (a third of the first missed) and health alerts, transfer
tasks with their members, handovers between districts, persons of positive pools under temporary control and
overdue re-samples: every kind of open item has rows. Then, in one process, for the city commander, a district
commander, a street officer and community and grid workers: the board page (``/control/``) and the home page
(``/``) through Django's test client, warm, counted live (the kept counts treated as stale) and from kept counts
(after ``tallies.actions.refresh`` and ``control.actions.refresh_board_tables``, themselves timed), the
``open_items`` selector alone in both modes, and the board's tables counted now and kept.

    .venv/bin/python bench/bench_board.py                              # 21.9 million residents
    .venv/bin/python bench/bench_board.py --persons 2000000            # a quick run
    .venv/bin/python bench/bench_board.py --demo                       # the demo city (demo.actions.load)
    .venv/bin/python bench/bench_board.py --keep --build-only          # build once, keep the database ...
    .venv/bin/python bench/bench_board.py --reuse cordon_bench_board_N # ... and measure in it again
    .venv/bin/python bench/bench_board.py --reuse cordon_bench_board_N --users city,district  # only those

Prints a markdown block for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from _board_city import Steps, build, say
from _pgdb import throwaway_database

SLOW = 5.0  # seconds: a series of calls this slow has no separate warm-up


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=21_900_000)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--controlled", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=20, help="timed requests per series (after one warm-up)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds at most per series (min 3 runs)")
    parser.add_argument("--demo", action="store_true", help="the demo city instead of the Beijing-shaped one")
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/postgres", help="admin connection"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    parser.add_argument(
        "--reuse", metavar="DB", help="measure again in a database kept by --keep (migrated, not rebuilt)"
    )
    parser.add_argument("--build-only", action="store_true", help="build (with --keep), do not measure")
    parser.add_argument(
        "--users", help="measure only these users (comma-separated: city,district,street,community,grid)"
    )
    args = parser.parse_args()
    if not args.demo and args.persons < 2 * (args.contacts + args.controlled + args.cases):
        parser.error("--persons must be at least twice the cases, contacts and controlled persons")

    os.environ["CORDON_VAR"] = tempfile.mkdtemp(prefix="cordon-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    if args.reuse:
        os.environ["DATABASE_URL"] = f"{args.pg.rsplit('/', 1)[0]}/{args.reuse}"
        return run(args)
    with throwaway_database(args.pg, "cordon_bench_board", keep=args.keep):
        return run(args)


# --- Measuring -----------------------------------------------------------------------------------------------


def series(fn: Callable[[], Any], runs: int, budget: float, least: int = 3, warm: bool = True) -> list[float]:
    """Up to ``runs`` timed calls (after a warm-up), fewer when they take more than ``budget`` seconds in all
    (at least ``least``)."""
    out: list[float] = []
    if warm:
        t = time.perf_counter()
        fn()
        if time.perf_counter() - t > SLOW:  # a slow call is its own warm-up: it counts
            out.append((time.perf_counter() - t) * 1000)
    start = time.perf_counter()
    while len(out) < runs and (len(out) < least or time.perf_counter() - start < budget):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, math.ceil(0.95 * len(s)) - 1)]


def fmt(xs: list[float]) -> str:
    return f"{statistics.median(xs):,.0f} / {p95(xs):,.0f} / {max(xs):,.0f} (n={len(xs)})"


def page_getter(users: dict[str, Any]) -> Callable[[str, str], Callable[[], None]]:
    """A signed-in test client per labelled user; ``get(label, url)`` is a call that GETs ``url`` as that user
    and checks the 200 (what ``series`` times)."""
    from django.test import Client

    clients = {}
    for label, user in users.items():
        c = Client()
        c.force_login(user)
        clients[label] = c

    def get(label: str, url: str) -> Callable[[], None]:
        def go() -> None:
            r = clients[label].get(url)
            assert r.status_code == 200, (label, url, r.status_code)

        return go

    return get


def measure(users: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:  # One piece: the runs
    from django.test import override_settings

    from cordon.apps.control import actions as control_actions
    from cordon.apps.control import selectors as control
    from cordon.apps.geo import actions as geo_actions
    from cordon.apps.geo import selectors as geo
    from cordon.apps.tallies import actions as tallies
    from cordon.core import openitems, rollups
    from cordon.core.scoping import Scope

    get = page_getter(users)

    res: dict[str, Any] = {
        "pages": {},
        "selector": {},
        "parts": {},
        "kinds": {},
        "home_parts": {},
        "profiles": {},
    }
    for mode, stale in (("live", -1.0), ("kept", 1e9)):
        with override_settings(CORDON_TALLY_STALE_SECONDS=stale, CORDON_ROLLUP_STALE_SECONDS=stale):
            if mode == "kept":
                res["refresh"] = series(lambda: tallies.refresh(), 3, args.budget, 2)
                say(f"refresh: {fmt(res['refresh'])}")
                res["tables"] = series(lambda: control_actions.refresh_board_tables(), 3, args.budget, 2)
                say(f"board tables refresh: {fmt(res['tables'])}")
                res["rollups"] = series(lambda: geo_actions.refresh_rollups(), 3, args.budget, 2)
                say(f"roll-ups refresh: {fmt(res['rollups'])}")
                res["fast_rollups"] = series(lambda: geo_actions.refresh_fast_rollups(), 3, args.budget, 2)
                say(f"fast roll-ups refresh: {fmt(res['fast_rollups'])}")
            for label, user in users.items():
                for page, url in (("board", "/control/"), ("home", "/")):
                    xs = series(get(label, url), args.runs, args.budget)
                    res["pages"][(label, page, mode)] = xs
                    say(f"{mode} {label} {page}: {fmt(xs)}")
                xs = series(lambda u=user: control.open_items(u), args.runs, args.budget)
                res["selector"][(label, mode)] = xs
                say(f"{mode} {label} open_items: {fmt(xs)}")
    with override_settings(CORDON_TALLY_STALE_SECONDS=1e9, CORDON_ROLLUP_STALE_SECONDS=1e9):
        for label in users:
            for url in ("/control/", "/"):
                res["profiles"][(label, url)] = profile(get(label, url))
                say(f"profile {label} {url}: {res['profiles'][(label, url)]}")
    for label, user in users.items():
        parts: dict[str, list[float]] = {}
        for mode, stale in (("live", -1.0), ("kept", 1e9)):
            with override_settings(CORDON_TALLY_STALE_SECONDS=stale):
                parts[f"site table ({mode})"] = series(
                    lambda u=user: control.board._sites(u, _now()), 5, args.budget
                )
                parts[f"capacity ({mode})"] = series(
                    lambda u=user: control.capacity_by_district(u, kept=True), 5, args.budget
                )
        parts["case clocks (board: newest 20)"] = series(
            lambda u=user: control.recent_cases_with_clocks(u, limit=control.CLOCKS_ON_BOARD), 5, args.budget
        )
        parts["case clocks (clocks page: up to 500)"] = series(
            lambda u=user: control.recent_cases_with_clocks(u), 5, args.budget
        )
        parts["team table"] = series(lambda u=user: control.team_items(u, _now()), 5, args.budget)
        res["parts"][label] = parts
        scope = Scope.of(user)
        res["kinds"][label] = {
            k.key: series(lambda k=k, u=user: k.count(u, _now()), 3, args.budget / 4, 1)
            for k in openitems.kinds()
            if scope.can(k.capability)
        }
        root = geo.root_for(user)
        res["home_parts"][label] = {
            f.key: series(lambda f=f, u=user, r=root: f.count(u, r.path), 3, args.budget / 4, 1)
            for f in rollups.figures()
            if scope.can(f.capability)
        }
        say(f"parts {label}: " + ", ".join(f"{k} {statistics.median(v):.0f}" for k, v in parts.items()))
    return res


def profile(fn: Callable[[], Any]) -> dict[str, float]:
    """One call, split (ms): in total, waiting for SQL, and the slowest of Cordon's own functions (cumulative,
    from cProfile, so nested ones overlap)."""
    import cProfile
    import pstats

    from django.db import connection

    sql = [0.0]

    def timed(execute: Any, query: str, params: Any, many: bool, context: Any) -> Any:
        t = time.perf_counter()
        try:
            return execute(query, params, many, context)
        finally:
            sql[0] += time.perf_counter() - t

    prof = cProfile.Profile()
    with connection.execute_wrapper(timed):
        t = time.perf_counter()
        prof.enable()
        fn()
        prof.disable()
        total = time.perf_counter() - t
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    ours = sorted(
        ((f"{fn_name}", ct) for (path, _, fn_name), (_, _, _, ct, _) in stats.items()
         if "/cordon/" in path and "/core/access" not in path and fn_name not in ("go", "<lambda>")),
        key=lambda x: -x[1],
    )[:8]  # fmt: skip
    render = sum(v[3] for k, v in stats.items() if k[0].endswith("django/shortcuts.py") and k[2] == "render")
    out = {"total (profiled)": total * 1000, "SQL": sql[0] * 1000, "template render": render * 1000}
    out.update({name: ct * 1000 for name, ct in ours})
    return out


def _med(runs: dict[str, list[float]], key: str) -> str:
    return f"{statistics.median(runs[key]):,.0f}" if key in runs else "–"


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def beijing_users() -> dict[str, Any]:
    from cordon.apps.accounts import actions as accounts
    from cordon.apps.accounts.models import User
    from cordon.apps.geo.models import Jurisdiction

    street = Jurisdiction.objects.filter(level=3, path__startswith="/110000/110105/").order_by("code").first()
    community = Jurisdiction.objects.filter(level=4, path__startswith=street.path).order_by("code").first()
    grid = Jurisdiction.objects.filter(level=5, path__startswith=community.path).order_by("code").first()
    return {
        label: User.objects.filter(username=f"bench-{label.split()[0]}").first()
        or accounts.create_user(
            actor=None,
            username=f"bench-{label.split()[0]}",
            password="bench-pw-1",
            role=role,
            jurisdiction_code=code,
        )
        for label, role, code in (
            ("city", "city_commander", "110000"),
            ("district (朝阳区)", "district_commander", "110105"),
            ("street", "street_officer", street.code),
            ("community", "grid_worker", community.code),
            ("grid", "grid_worker", grid.code),
        )
    }


def demo_users() -> dict[str, Any]:
    from cordon.apps.accounts.models import User

    out = {}
    for label, role in (
        ("city", "city_commander"),
        ("district", "district_commander"),
        ("street", "street_officer"),
    ):
        u = User.objects.filter(role=role).order_by("username").first()
        if u is not None:
            out[f"{label} ({u.jurisdiction.name})"] = u
    return out


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
    steps: Steps | None = None
    if args.reuse:
        users = beijing_users() if not args.demo else demo_users()
    elif args.demo:
        from cordon.apps.demo import actions as demo

        demo.load()
        users = demo_users()
    else:
        steps, _ = build(args)
        users = beijing_users()
    t_build = time.perf_counter() - t0
    say(f"built in {t_build:.0f} s")
    if args.build_only:
        return 0
    if args.users:
        users = {k: v for k, v in users.items() if k.split()[0] in args.users.split(",")}
    res = measure(users, args)
    load = os.getloadavg()
    version = connection.cursor().connection.info.server_version
    counts = {
        "persons": Person.objects.count(),
        "cases": Case.objects.count(),
        "contacts": Contact.objects.count(),
        "orders": ControlOrder.objects.count(),
    }
    report(args, res, steps, t_build, counts, load, version)
    return 0


def report(
    args: argparse.Namespace,
    res: dict[str, Any],
    steps: Steps | None,
    t_build: float,
    counts: dict[str, int],
    load: tuple[float, float, float],
    version: int,
) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = "the demo city" if args.demo else f"{counts['persons']:,} residents"
    out = [
        f"### Open-items board at {title} ({when})",
        "",
        f"{machine}, PostgreSQL {version // 10000}; load average at the end {load[0]:.2f} / {load[1]:.2f} / "
        f"{load[2]:.2f}. Data: {counts['persons']:,} persons, {counts['cases']:,} cases, "
        f"{counts['contacts']:,} contacts, {counts['orders']:,} control orders; built in {t_build:.0f} s.",
        "",
    ]
    if steps is not None:
        out += ["| table | rows | seconds |", "|---|---:|---:|"]
        out += [f"| {t} | {n:,} | {s:.1f} |" for t, n, s in steps.times]
        out.append("")
    out += [
        "Times in ms, median / p95 / max (n = timed runs after one warm-up); live = counted per request (kept "
        "counts stale), kept = after `tallies.actions.refresh()`, `control.actions.refresh_board_tables()`, "
        "`geo.actions.refresh_rollups()` and `geo.actions.refresh_fast_rollups()`.",
        "",
        "| user | what | live | kept | live/kept (median) | target (p95, kept) |",
        "|---|---|---:|---:|---:|---|",
    ]
    users = list(dict.fromkeys(k[0] for k in res["pages"]))
    for label in users:
        limit = 200 if args.demo else (300 if label == "city" else 150)
        for page in ("board", "home"):
            live, kept = res["pages"][(label, page, "live")], res["pages"][(label, page, "kept")]
            ratio = statistics.median(live) / statistics.median(kept)
            target = ""
            if label.split()[0] in ("city", "district") and (
                not args.demo or (page == "board" and label.startswith("city"))
            ):
                ok = p95(kept) < limit and (args.demo or ratio >= 50)
                target = (
                    f"< {limit} ms"
                    + ("" if args.demo else ", >= 50x")
                    + (": **met**" if ok else ": **not met**")
                )
            out.append(f"| {label} | `/{'control/' if page == 'board' else ''}` | {fmt(live)} | {fmt(kept)} | "
                       f"{ratio:,.1f}x | {target} |")  # fmt: skip
        live, kept = res["selector"][(label, "live")], res["selector"][(label, "kept")]
        out.append(f"| {label} | `open_items` alone | {fmt(live)} | {fmt(kept)} | "
                   f"{statistics.median(live) / statistics.median(kept):,.1f}x | |")  # fmt: skip
    out += ["", f"`tallies.actions.refresh()` (what a worker pays every 10 s): {fmt(res['refresh'])} ms."]
    out += [f"`control.actions.refresh_board_tables()` (every 10 s): {fmt(res['tables'])} ms."]
    out += [f"`geo.actions.refresh_rollups()` (every 60 s): {fmt(res['rollups'])} ms."]
    out += [f"`geo.actions.refresh_fast_rollups()` (every 10 s): {fmt(res['fast_rollups'])} ms.", ""]
    out += ["The board's tables, counted now (live) and from the kept tables (kept) (median ms):", ""]
    kinds = list(next(iter(res["kinds"].values())))
    figures = list(next(iter(res["home_parts"].values())))
    parts = list(next(iter(res["parts"].values())))
    out += ["| user | " + " | ".join(parts) + " | " + " | ".join(f"home: {f}" for f in figures) + " |"]
    out += ["|---|" + "---:|" * (len(parts) + len(figures))]
    for label in users:
        out.append(f"| {label} | " + " | ".join(f"{statistics.median(res['parts'][label][p]):,.0f}" for p in parts)
                   + " | " + " | ".join(_med(res['home_parts'][label], f) for f in figures)
                   + " |")  # fmt: skip
    out += [
        "",
        "One kept-count request profiled (cProfile, so slower than above; ms; Cordon's functions cumulative):",
        "",
    ]
    for (label, url), prof in res["profiles"].items():
        out.append(f"- {label} `{url}`: " + ", ".join(f"{k} {v:,.0f}" for k, v in prof.items()))
    out += ["", "Each kind's live count (median ms; what the kept counts replace):", ""]
    out += ["| user | " + " | ".join(kinds) + " |", "|---|" + "---:|" * len(kinds)]
    for label in users:
        out.append(f"| {label} | " + " | ".join(_med(res['kinds'][label], k) for k in kinds)
                   + " |")  # fmt: skip
    print("\n".join(out))


if __name__ == "__main__":
    sys.exit(main())
