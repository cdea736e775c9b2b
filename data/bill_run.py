"""Run the bill cycles that are due, for a system cron.

    python -m data.bill_run -c trytond.conf -d crm              # cycles that ended yesterday
    python -m data.bill_run -c trytond.conf -d crm --cycle 2026-11-01

Accounts are billed in batches, one transaction each: running it again after
a crash goes on where it stopped, and running it on a finished cycle changes
nothing.
"""
import argparse
import datetime as dt
import sys
import time

from .cli import open_database


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', default='trytond.conf')
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--cycle', type=dt.date.fromisoformat,
        help="first day of the cycle to bill (default: the cycles that "
        "ended yesterday)")
    parser.add_argument('--batch', type=int, default=2000)
    args = parser.parse_args(argv)

    with open_database(args.config, args.database) as transaction:
        from trytond.pool import Pool
        BillRun = Pool().get('telecom.bill.run')
        start = time.perf_counter()
        if args.cycle:
            runs = BillRun.search([('period_start', '=', args.cycle)])
            if not runs:
                runs = BillRun.create([{'period_start': args.cycle}])
                transaction.commit()
            BillRun.process(runs, batch_size=args.batch)
        else:
            runs = BillRun.run_due()
        for run in BillRun.browse(runs):
            print('%s: %s/%s accounts billed, %s' % (run.rec_name,
                    run.accounts_done, run.accounts_total, run.state))
        print('%.1f s' % (time.perf_counter() - start))


if __name__ == '__main__':
    sys.exit(main())
