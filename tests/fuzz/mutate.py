"""Run the field-type mutation harness (tests/fuzz/mutations.py) from the command line.

    python tests/fuzz/mutate.py --count 100000 [--jobs 2] [--seed 0] [--start 0]

Prints the figures: mutations run, failures by site and cause (with one example
mutation each), time and rate. Exit status 1 if anything failed. `make fuzz` runs it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutations import MUTATION_VALUES, SITES, Mutation, Report, mutations, run_mutations

_CHUNK = 250


_SITES = frozenset(SITES)


def _run(chunk: list[Mutation]) -> Report:
    return run_mutations(chunk, sites=_SITES)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=100_000, help="mutations to run")
    p.add_argument("--jobs", type=int, default=1, help="worker processes")
    p.add_argument("--seed", type=int, default=0, help="order of the mutations")
    p.add_argument("--start", type=int, default=0, help="skip this many (to split a run)")
    p.add_argument(
        "--sites", default=",".join(SITES), help=f"comma-separated, of {','.join(SITES)}"
    )
    p.add_argument(
        "--values", help="comma-separated odd value names: of the run, only these mutations"
    )
    args = p.parse_args(argv)
    global _SITES
    _SITES = frozenset(args.sites.split(","))
    if _SITES - set(SITES):
        p.error(f"unknown sites: {sorted(_SITES - set(SITES))}")
    every = mutations(args.seed)
    chosen = [every[i % len(every)] for i in range(args.start, args.start + args.count)]
    if args.values:
        names = [name for name, _ in MUTATION_VALUES]
        wanted = {names.index(v) for v in args.values.split(",") if v in names}
        chosen = [m for m in chosen if m.value in wanted]
    start = time.monotonic()
    total = Report()
    chunks = [chosen[i : i + _CHUNK] for i in range(0, len(chosen), _CHUNK)]
    if args.jobs > 1:
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            results = pool.imap_unordered(_run, chunks)
            for n, report in enumerate(results, 1):
                _add(total, report)
                if n % 40 == 0:
                    print(f"  {total.mutations:,} done, {total.failed} failed", flush=True)
    else:
        for n, chunk in enumerate(chunks, 1):
            _add(total, _run(chunk))
            if n % 40 == 0:
                print(f"  {total.mutations:,} done, {total.failed} failed", flush=True)
    elapsed = time.monotonic() - start
    print(
        f"mutations: {total.mutations:,} (#{args.start:,} on, of {len(every):,} distinct;"
        f" seed {args.seed})"
    )
    print(f"failures: {total.failed}")
    by_site: Counter[str] = Counter()
    for key, count in total.failures.items():
        by_site[key.split(":", 1)[0]] += count
    for site, count in by_site.most_common():
        print(f"  {site}: {count}")
    for key, count in total.failures.most_common():
        print(f"  {count:6d}  {key}\n          e.g. {total.examples[key]}")
    print(f"sites: {', '.join(s for s in SITES if s in _SITES)}")
    print(f"time: {elapsed:.1f} s wall, {total.seconds:.1f} s in workers ({args.jobs} jobs)")
    print(f"rate: {total.mutations / elapsed:,.0f} mutations/s")
    return 1 if total.failed else 0


def _add(total: Report, report: Report) -> None:
    total.mutations += report.mutations
    total.seconds += report.seconds
    total.failures.update(report.failures)
    for key, example in report.examples.items():
        total.examples.setdefault(key, example)


if __name__ == "__main__":
    sys.exit(main())
