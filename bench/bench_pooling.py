"""Expected tests per person of pool designs against the entropy bound and 10-in-1, verified by Monte Carlo.

For each prevalence: H(p) (no design can do better), the best Dorfman N-in-1, 10-in-1, 20-in-1 and the
advisor's designs (no pool limit and up to 7 rounds; pools of at most 20 and up to 3 rounds; each also with
the missed positives capped at 10-in-1's under the default dilution model). Every design is run through the
decoder on a random population, once with perfect tests and once under the dilution model, and the Monte Carlo
figures are printed beside the closed forms. Prints Markdown tables, then checks the targets (the advisor
within 1.6x H(p) with no pool limit and 7 rounds; at least 20% fewer tests than 10-in-1 with pools of at most
20 and 3 rounds).

    .venv/bin/python bench/bench_pooling.py                     # 1,000,000 people per run (a few minutes)
    .venv/bin/python bench/bench_pooling.py --people 100000     # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from cordon.engine.pooling import (
    DEFAULT_DILUTION,
    Design,
    Dorfman,
    advise,
    entropy_bound,
    monte_carlo,
    useful_pool_bound,
)


def best_dorfman(p: float) -> Dorfman:
    return min((Dorfman(n) for n in range(2, useful_pool_bound(p) + 1)), key=lambda d: d.expected_tests(p))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1_000_000, help="people per Monte Carlo run")
    parser.add_argument("--prevalence", type=float, nargs="+", default=[0.001, 0.005, 0.01, 0.02])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    dil = DEFAULT_DILUTION
    t0 = time.perf_counter()

    print(f"{dt.date.today()}, `--people {args.people:,}`; dilution model: Ct quantiles {dil.ct_quantiles},")
    print(f"limit of detection Ct {dil.limit_ct}, shift {dil.cycles_per_doubling} x log2(pool size).\n")
    print(
        "| prevalence | design | rounds | largest pool | tests/person | Monte Carlo | x H(p) | fewer than "
        "10-in-1 | with dilution: tests/person | Monte Carlo | missed per 1,000 positives | Monte Carlo |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")  # fmt: skip
    summary = []
    seed = args.seed
    for p in args.prevalence:
        h = entropy_bound(p)
        ten = Dorfman(10).expected_tests(p)
        cap = Dorfman(10).missed_share(p, dil)
        free = advise(p, max_rounds=7, dilution=None).design
        tight = advise(p, max_pool_size=20, max_rounds=3, dilution=None).design
        rows: list[tuple[str, Design]] = [
            (f"best Dorfman ({best_dorfman(p).label})", best_dorfman(p)),
            ("10-in-1", Dorfman(10)),
            ("20-in-1", Dorfman(20)),
            (f"advisor, <=7 rounds, no pool limit: {free.label}", free),
            (f"advisor, <=20 per pool, <=3 rounds: {tight.label}", tight),
            (
                f"advisor, <=7 rounds, no pool limit, misses <= 10-in-1: "
                f"{(d1 := advise(p, max_rounds=7, max_missed_share=cap).design).label}",
                d1,
            ),
            (
                f"advisor, <=20 per pool, <=3 rounds, misses <= 10-in-1: "
                f"{(d2 := advise(p, max_pool_size=20, max_rounds=3, max_missed_share=cap).design).label}",
                d2,
            ),
        ]
        print(f"| {100 * p:g}% | H(p) bound | | | {h:.4f} | | 1.00 | | | | | |")
        for name, design in rows:
            seed += 1
            exact = design.expected_tests(p)
            perfect = monte_carlo(design, p, people=args.people, seed=seed)
            noisy = monte_carlo(design, p, people=args.people, dilution=dil, seed=seed)
            assert perfect.missed == 0 and perfect.false_positives == 0 and noisy.false_positives == 0
            print(
                f"| {100 * p:g}% | {name} | {design.rounds} | {design.max_pool_size} | {exact:.4f} | "
                f"{perfect.tests_per_person:.4f} ± {perfect.tests_per_person_se:.4f} | {exact / h:.2f} | "
                f"{100 * (1 - exact / ten):.0f}% | {design.expected_tests(p, dil):.4f} | "
                f"{noisy.tests_per_person:.4f} ± {noisy.tests_per_person_se:.4f} | "
                f"{1000 * design.missed_share(p, dil):.0f} | {noisy.missed_per_1000_positives:.0f} "
                f"(of {noisy.positives:,}) |",
                flush=True,
            )
        summary.append((p, h, free, tight, ten))

    print(
        "\n| prevalence | H(p) | advisor, no pool limit, <=7 rounds | x H(p) (target <= 1.6) | advisor, <=20 per "
        "pool, <=3 rounds | fewer than 10-in-1 (target >= 20%) |"
    )
    print("|---|---:|---|---:|---|---:|")  # fmt: skip
    met = True
    for p, h, free, tight, ten in summary:
        ratio = free.expected_tests(p) / h
        fewer = 1 - tight.expected_tests(p) / ten
        met &= ratio <= 1.6 and fewer >= 0.2
        print(
            f"| {100 * p:g}% | {h:.4f} | {free.label} ({free.expected_tests(p):.4f}) | {ratio:.2f} "
            f"{'met' if ratio <= 1.6 else 'NOT met'} | {tight.label} ({tight.expected_tests(p):.4f}) | "
            f"{100 * fewer:.0f}% {'met' if fewer >= 0.2 else 'NOT met'} |"
        )
    print(f"\nTargets {'met' if met else 'NOT met'}; {time.perf_counter() - t0:.0f} s.", file=sys.stderr)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
