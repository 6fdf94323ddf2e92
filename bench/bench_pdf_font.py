"""The CJK font parsed once per process (``core/pdffont.py``) against a fresh parse per document (fpdf2's
``add_font``, as before): the PDFs a worker makes, timed alternately with ``pdffont.REUSE`` off and on in one
run so that both see the same machine load.

Loads the demo city into the database ``DATABASE_URL`` names (migrated first; a database that holds the demo
already is used as it is), then times, ``--repeat`` times each way: control's quarantine order for one order
(the order page's PDF), the order batch of up to ``--batch`` orders (the ``control.orders_pdf`` job) and the
city's daily report (``command.pdf.daily_report_pdf``; the figures are computed once, untimed). The first
document of the process with the kept font (the parse itself) is timed apart, after the imports. Prints a
markdown block for docs/benchmarks.md with the load average before and after (a loaded machine is slower: say
so).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cordon_x .venv/bin/python bench/bench_pdf_font.py
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch", type=int, default=20, help="orders in the batch PDF")
    args = parser.parse_args()
    os.environ.setdefault("CORDON_VAR", tempfile.mkdtemp(prefix="cordon-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from cordon.apps.command import pdf as command_pdf
    from cordon.apps.command import selectors
    from cordon.apps.control import pdf as control_pdf
    from cordon.apps.control.models import ControlOrder
    from cordon.apps.demo import actions as demo
    from cordon.apps.geo.models import Jurisdiction, Level
    from cordon.core import pdffont
    from cordon.core.actors import CityReader

    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    demo.load()
    say(f"demo city ready in {time.perf_counter() - t:.1f} s")
    orders = list(
        ControlOrder.objects.select_related("person", "case", "district", "plan").order_by("pk")[: args.batch]
    )
    if not orders:
        say("the demo has no control orders")
        return 1
    city = Jurisdiction.objects.get(level=Level.CITY)
    figures = selectors.daily_figures(CityReader(city), city, timezone.localdate())
    import fontTools.subset  # noqa: F401
    import fpdf  # noqa: F401  (the imports are not the font's cost)

    load_before = os.getloadavg()
    t = time.perf_counter()
    control_pdf.quarantine_orders(orders[:1], full_id=False)
    first = time.perf_counter() - t
    say(f"first order PDF of the process, font parsed and kept: {first:.2f} s")
    kinds: list[tuple[str, Callable[[], bytes]]] = [
        ("quarantine order, 1 order", lambda: control_pdf.quarantine_orders(orders[:1], full_id=False)),
        (
            f"order batch, {len(orders)} orders",
            lambda: control_pdf.quarantine_orders(orders, full_id=False),
        ),
        ("daily report, the city", lambda: command_pdf.daily_report_pdf(figures)),
    ]
    times: dict[tuple[str, bool], list[float]] = {}
    sizes: dict[tuple[str, bool], int] = {}
    for _ in range(args.repeat):
        for name, make in kinds:
            for reuse in (False, True):
                pdffont.REUSE = reuse
                t = time.perf_counter()
                data = make()
                times.setdefault((name, reuse), []).append(time.perf_counter() - t)
                sizes[(name, reuse)] = len(data)
        say(f"round done, load {os.getloadavg()[0]:.2f}")
    pdffont.REUSE = True
    load_after = os.getloadavg()
    print(
        f"CJK font kept per process, {timezone.localdate()}, {platform.node()} ({os.cpu_count()} cores), load "
        f"average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} before and "
        f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} after, {args.repeat} runs each way, "
        f"alternated, font {pdffont.font_path()}:\n"
    )
    print(f"The first document of the process with the kept font (the parse) took {first:.2f} s.\n")
    print("| document | parsed per document (median / worst) | kept (median / worst) | PDF size (same) |")
    print("|---|---:|---:|---:|")
    for name, _ in kinds:
        fresh, kept = times[(name, False)], times[(name, True)]
        same = "yes" if sizes[(name, False)] == sizes[(name, True)] else "NO"
        print(
            f"| {name} | {statistics.median(fresh):.2f} s / {max(fresh):.2f} s | "
            f"{statistics.median(kept):.2f} s / {max(kept):.2f} s | {sizes[(name, True)] // 1024} KB ({same}) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
