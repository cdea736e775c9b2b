"""Generate a large data set for benchmarks.

    python -m data.generate -c trytond.conf -d bench --subscribers 1000000
"""
import argparse
import sys
import time

from .cli import open_database


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('-c', '--config', default='trytond.conf')
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--subscribers', type=int, required=True)
    parser.add_argument('--seed', type=int, default=1)
    args = parser.parse_args(argv)

    def progress(stage, done, total):
        print('%s: %d / %d' % (stage, done, total), file=sys.stderr)
    with open_database(args.config, args.database) as transaction:
        from .bulk import generate
        from .reference import load_reference
        load_reference()
        start = time.perf_counter()
        counts = generate(args.subscribers, seed=args.seed,
            progress=progress)
        transaction.commit()
        elapsed = time.perf_counter() - start
    rows = sum(counts.values())
    print('%d rows in %.1f s: %.0f rows/s' % (rows, elapsed, rows / elapsed))


if __name__ == '__main__':
    sys.exit(main())
