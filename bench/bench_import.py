"""How fast a district's resident register comes in from a spreadsheet.

Times ``cordon import persons`` (the all-or-nothing file import: read, check every row and reference, one
bulk transaction with one audit row per person) against the naive baseline of the same rows created one at a
time through ``people.actions.create_person`` (one transaction and one uniqueness query per person), side by
side in one process on fresh databases of the same shape. Also times the scoped CSV and XLSX export.

    .venv/bin/python bench/bench_import.py --rows 20000

Both paths validate with the same ``clean_person``; the ratio is what the batch design buys.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import platform
import random
import sys
import tempfile
import time


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="cordon-bench-")
    os.environ["CORDON_VAR"] = tmp
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.site.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from cordon.apps.accounts import actions as accounts
    from cordon.apps.dataio import actions, selectors
    from cordon.apps.geo import actions as geo
    from cordon.apps.geo.models import Building, Level
    from cordon.apps.people import actions as people
    from cordon.apps.people.models import Person
    from cordon.engine import identity

    call_command("migrate", verbosity=0)
    city = geo.create_jurisdiction(actor=None, code="110000", name="基准城市", level=Level.CITY)
    district = geo.create_jurisdiction(
        actor=None, code="110101", name="第一区", level=Level.DISTRICT, parent=city
    )
    street = geo.create_jurisdiction(
        actor=None, code="110101001", name="街道", level=Level.STREET, parent=district
    )
    community = geo.create_jurisdiction(
        actor=None, code="110101001001", name="社区", level=Level.COMMUNITY, parent=street
    )
    grid = geo.create_jurisdiction(
        actor=None, code="110101001001-01", name="网格", level=Level.GRID, parent=community
    )
    Building.objects.bulk_create(
        [Building(code=f"B{b:04d}", address=f"地址 {b}", jurisdiction=grid) for b in range(500)]
    )
    admin = accounts.create_user(
        actor=None, username="admin", password="bench-pw-1", role="administrator", jurisdiction_code="110000"
    )

    rng = random.Random(11)
    rows = []
    for i in range(args.rows):
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(30000))
        rows.append(
            [
                f"居民{i}",
                identity.make("110101", birth, i % 1000),
                f"13{rng.randrange(10**9):09d}",
                f"B{rng.randrange(500):04d}",
                "pregnant" if rng.random() < 0.01 else "",
            ]
        )
    # identity.make with i % 1000 repeats for equal birth dates; keep the first of each.
    seen: set[str] = set()
    rows = [r for r in rows if not (r[1] in seen or seen.add(r[1]))]  # type: ignore[func-returns-value]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名", "身份证号", "手机号", "居住楼栋编码", "特殊人群"])
    writer.writerows(rows)
    data = buffer.getvalue().encode()

    t0 = time.perf_counter()
    result = actions.import_file(actor=admin, kind="persons", data=data, filename="persons.csv")
    t_import = time.perf_counter() - t0
    assert result.ok and result.created == len(rows), result.describe()

    # Baseline: the same rows one by one through the single-person action, on a clean register.
    with transaction.atomic():
        Person.objects.all().delete()
    buildings = {b.code: b for b in Building.objects.all()}
    t0 = time.perf_counter()
    for name, nid, phone, building, tag in rows:
        people.create_person(
            actor=admin,
            data=people.PersonData(
                name=name,
                national_id=nid,
                phone=phone,
                home_building=buildings[building],
                tags=[tag] if tag else [],
            ),
            source="bench",
        )
    t_naive = time.perf_counter() - t0
    assert Person.objects.count() == len(rows)

    exports = {}
    for fmt in ("csv", "xlsx"):
        out = io.BytesIO()
        t0 = time.perf_counter()
        count = selectors.write_export(admin, "persons", fmt, out)
        exports[fmt] = (time.perf_counter() - t0, count, len(out.getvalue()))

    n = len(rows)
    print(f"\nCordon import/export — {n:,} persons, {connection.vendor}, {dt.datetime.now():%Y-%m-%d %H:%M}")
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}\n")
    print("| path | seconds | rows/s |\n|---|---:|---:|")
    print(f"| file import (check all, one bulk transaction) | {t_import:.1f} | {n / t_import:,.0f} |")
    print(f"| baseline: create_person one by one | {t_naive:.1f} | {n / t_naive:,.0f} |")
    for fmt, (secs, count, size) in exports.items():
        print(f"| export {fmt} ({size / 1e6:.1f} MB, access-logged) | {secs:.1f} | {count / secs:,.0f} |")
    print(f"\nimport is {t_naive / t_import:.1f}x the one-by-one baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
