"""A district's daily report (疫情日报): the figures computed and the bilingual PDF drawn, as the report job does
(target: under 5 s per district).

Loads the demo city into the database ``DATABASE_URL`` names (migrated first; a database that holds the demo
already is used as it is), optionally adds ``--extra-cases`` synthetic cases spread over the last 60 days in
each district (persons and cases bulk-created, as a larger outbreak), then, timed, for each district and for the
city, ``--repeat`` times: ``selectors.daily_figures`` (as a district commander of that district; the city's as
its commander) and ``pdf.daily_report_pdf``, after one report made first and timed apart (a worker's first
report also imports fpdf2 and fontTools and reads the font file). Prints a markdown block for docs/benchmarks.md
with the machine's load average (the numbers are slower on a loaded machine: say so).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cordon_x .venv/bin/python bench/bench_daily_report.py
    DATABASE_URL=... .venv/bin/python bench/bench_daily_report.py --extra-cases 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from typing import Any


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _extra_cases(n: int, districts: list[Any]) -> int:
    """``n`` cases per district over the last 60 days, a quarter found under control, on new persons in the
    district's grids."""
    from django.utils import timezone

    from cordon.apps.geo.models import Jurisdiction, Level
    from cordon.apps.people.models import Person
    from cordon.apps.tracing.models import Case

    rng = random.Random(7)
    now = timezone.now()
    made = 0
    for d in districts:
        grids = list(
            Jurisdiction.objects.filter(path__startswith=d.path, level=Level.GRID).values_list(
                "pk", flat=True
            )
        )
        if not grids:
            continue
        persons = Person.objects.bulk_create(
            [Person(name=f"基准病例{d.code}-{i}", jurisdiction_id=rng.choice(grids)) for i in range(n)],
            batch_size=2000,
        )
        cases = []
        for i, p in enumerate(persons):
            ago = dt.timedelta(days=60 * rng.random() ** 2, hours=rng.random() * 3)
            reported = now - ago
            cases.append(
                Case(
                    code=f"B{d.code}-{i:06d}", person=p, sampled_at=reported - dt.timedelta(hours=12),
                    reported_at=reported, found_by="screening",
                    control="community" if rng.random() < 0.75 else "quarantine",
                    jurisdiction_id=p.jurisdiction_id, district=d,
                    onset_date=(reported - dt.timedelta(days=rng.randint(0, 4))).date(),
                )
            )  # fmt: skip
        Case.objects.bulk_create(cases, batch_size=2000)
        made += len(cases)
    return made


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--extra-cases", type=int, default=0, help="synthetic cases added per district")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("CORDON_VAR", tempfile.mkdtemp(prefix="cordon-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from cordon.apps.command import pdf, selectors
    from cordon.apps.demo import actions as demo
    from cordon.apps.geo.models import Jurisdiction, Level
    from cordon.apps.tracing.models import Case
    from cordon.core.actors import CityReader

    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    demo.load()
    say(f"demo city ready in {time.perf_counter() - t:.1f} s")
    districts = list(Jurisdiction.objects.filter(level=Level.DISTRICT).order_by("code"))
    if args.extra_cases:
        t = time.perf_counter()
        say(f"added {_extra_cases(args.extra_cases, districts):,} cases in {time.perf_counter() - t:.1f} s")
    city = Jurisdiction.objects.get(level=Level.CITY)
    today = timezone.localdate()
    t = (
        time.perf_counter()
    )  # the first report of a process also imports fpdf2 and fontTools and reads the font
    pdf.daily_report_pdf(selectors.daily_figures(CityReader(city), city, today))
    cold = time.perf_counter() - t
    say(f"first report in this process (cold): {cold:.2f} s")
    rows = []
    for area in [*districts, city]:
        reader = CityReader(area)
        cases = Case.objects.filter(jurisdiction__path__startswith=area.path).count()
        figures_s, pdf_s = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            figures = selectors.daily_figures(reader, area, today)
            t2 = time.perf_counter()
            data = pdf.daily_report_pdf(figures)
            figures_s.append(t2 - t)
            pdf_s.append(time.perf_counter() - t2)
        total = [a + b for a, b in zip(figures_s, pdf_s, strict=True)]
        rows.append(
            (area, cases, statistics.median(figures_s), statistics.median(pdf_s), max(total), len(data))
        )
        say(f"{area.code} {area.name}: {cases:,} cases, worst {max(total):.2f} s")
    load = os.getloadavg()
    print(f"Daily report, {today} ({connection.vendor}), {platform.node()} ({os.cpu_count()} cores), "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {args.repeat} runs each:\n")  # fmt: skip
    print(
        f"The first report of the process (the city's, untimed below) took {cold:.2f} s (imports, font read).\n"
    )
    print("| area | cases | figures (median) | PDF (median) | figures + PDF (worst) | PDF size |")
    print("|---|---:|---:|---:|---:|---:|")
    for area, cases, f_s, p_s, worst, size in rows:
        print(
            f"| {area.name} ({area.code}) | {cases:,} | {f_s:.2f} s | {p_s:.2f} s | {worst:.2f} s | {size // 1024} KB |"
        )
    worst_district = max(r[4] for r in rows[:-1]) if len(rows) > 1 else 0.0
    print(
        f"\nWorst district: {worst_district:.2f} s (target 5 s): {'met' if worst_district < 5 else 'NOT met'}."
    )
    return 0 if worst_district < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
