"""Opening the zone map in a browser on a reused Beijing-scale database: from navigation to the zones drawn.

Starts ``cordon serve --no-worker`` on the database named by ``--reuse`` (kept by ``bench_board.py --keep
--build-only``, its zones added by ``bench_zone_map.py --reuse``; neither rebuilt nor changed here), signs in as
Beijing's city commander (``bench-city``) in Debian's chromium through Playwright, then ``--repeat`` times in a
fresh browser context: ``/zones/map/`` opened, timed from ``page.goto`` to the map's ``data-drawn`` mark (set by
``zonemap.js`` on the first frame after the whole area's zones were added to the map). The first open after the
server starts builds the kept payload (``zones.maps.map_zones_gzip``) unless a file kept for the same zones is
there; the later ones are served from it. Then a zone's version is bumped (a change of the zones: a new mark)
and the map opened once, its answer built on request, and after another bump once more after
``maps.warm_whole_areas()`` ran here as a worker would (timed), the answer read from the file it wrote.
Prints a Markdown table for docs/benchmarks.md with the load average.

    .venv/bin/python bench/bench_zone_map_browser.py --reuse "$(cat BEIJING_DB)"
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))

CHROMIUM = os.environ.get("CORDON_CHROMIUM", "/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reuse", metavar="DB", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    os.environ["DATABASE_URL"] = f"{admin_url.rsplit('/', 1)[0]}/{args.reuse}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    os.environ.setdefault("CORDON_VAR", tempfile.mkdtemp(prefix="cordon-bench-"))
    import django

    django.setup()
    from bench_board import beijing_users
    from django.db import connections
    from django.db.models import F

    from cordon.apps.zones import maps
    from cordon.apps.zones.models import Zone

    def change() -> None:
        first = Zone.objects.filter(state="in_force").order_by("pk").values_list("pk", flat=True).first()
        Zone.objects.filter(pk=first).update(version=F("version") + 1)
        connections.close_all()

    beijing_users()  # the bench users (created once, kept)
    zones = Zone.objects.filter(state="in_force").count()
    connections.close_all()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "cordon.cli", "serve", "--no-worker", "--port", str(port), "--threads",
         str(args.threads)],
        env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).read()
                break
            except OSError:
                time.sleep(0.2)
        times, sizes, asked, arrived = measure(base, args.repeat)
        # A change of the zones (a zone's version bumped, as every zone action does: a new mark), then one open
        # with the answer built on request, and after another change one open once a worker built it.
        change()
        cold = measure(base, 1)
        change()
        t = time.perf_counter()
        built = maps.warm_whole_areas()
        warm_seconds = time.perf_counter() - t
        connections.close_all()
        warm = measure(base, 1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    load = os.getloadavg()
    print(
        f"\n{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average at the end "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; `{args.reuse}` (reused), {zones:,} zones in force; "
        f"Debian's chromium (headless) against `cordon serve --threads {args.threads}`, as the city commander; "
        f"the zones' answer {sizes[0] / 1e6:.1f} MB sent ({sizes[1] / 1e6:.1f} MB of JSON).\n"
    )
    print("| open | zones asked for | their answer arrived | zones drawn (the open) |")
    print("|---|---:|---:|---:|")
    print(f"| the first after the server started | {asked[0] * 1000:,.0f} ms | {arrived[0] * 1000:,.0f} ms | "
          f"{times[0] * 1000:,.0f} ms |")  # fmt: skip
    if len(times) > 1:

        def bmw(xs: list[float]) -> str:
            return " / ".join(f"{v * 1000:,.0f}" for v in (min(xs), statistics.median(xs), max(xs))) + " ms"

        print(f"| the next {len(times) - 1}: best / median / worst | {bmw(asked[1:])} | {bmw(arrived[1:])} | "
              f"{bmw(times[1:])} |")  # fmt: skip
    for label, (t_, _s, a_, r_) in (
        ("the first after a change of the zones, built on request", cold),
        ("the first after a change, once a worker built it (`warm_whole_areas`)", warm),
    ):
        print(f"| {label} | {a_[0] * 1000:,.0f} ms | {r_[0] * 1000:,.0f} ms | {t_[0] * 1000:,.0f} ms |")
    print(
        f"\nThe worker's `maps.warm_whole_areas()` after the change: {built} areas built in {warm_seconds:.1f} s."
    )
    return 0


def measure(base: str, repeat: int) -> tuple[list[float], tuple[int, int], list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    sizes = (0, 0)
    asked: list[float] = []  # when the zones were asked for, seconds after navigation started
    arrived: list[float] = []  # when their answer had arrived
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
        )  # fmt: skip
        for _ in range(repeat):
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{base}/login/")
            page.fill("input[name=username]", "bench-city")
            page.fill("input[name=password]", "bench-pw-1")
            page.click("main button[type=submit]")
            page.wait_for_url(f"{base}/")
            t = time.perf_counter()
            page.goto(f"{base}/zones/map/")
            page.wait_for_function("document.getElementById('map').dataset.drawn !== undefined")
            times.append(time.perf_counter() - t)
            entry = page.evaluate(
                "performance.getEntriesByType('resource').filter(e => e.name.includes('/zones/map/zones/'))"
                ".map(e => [e.transferSize, e.decodedBodySize, e.requestStart, e.responseEnd])[0] || [0, 0, 0, 0]"
            )
            sizes = (int(entry[0]), int(entry[1]))
            arrived.append(entry[3] / 1000)
            asked.append(entry[2] / 1000)
            drawn = page.evaluate("document.getElementById('map').dataset.drawn")
            print(f"open: {times[-1] * 1000:.0f} ms ({drawn} zones drawn; asked at {asked[-1] * 1000:.0f} ms, "
                  f"arrived at {arrived[-1] * 1000:.0f} ms)", file=sys.stderr)  # fmt: skip
            context.close()
        browser.close()
    return times, sizes, asked, arrived


if __name__ == "__main__":
    raise SystemExit(main())
