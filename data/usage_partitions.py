"""The monthly partitions of the usage table (PostgreSQL), for an administrator.

    python -m data.usage_partitions -c trytond.conf -d crm                    # list them
    python -m data.usage_partitions -c trytond.conf -d crm --create 2027-02  # make a month
    python -m data.usage_partitions -c trytond.conf -d crm --detach 2026-10  # detach a month

A detached month leaves telecom_usage (bill runs, imports and the client no
longer see it) and stays in its own table, telecom_usage_YYYYMM: archive it
(pg_dump -t telecom_usage_202610) then drop it. Only a month before the
current one whose bill cycles are all billed may be detached. Detaching
locks the usage table until the command commits (a change of the catalogue,
no data is copied): run it when no import or bill run is writing. The daily
cron "Create Usage Partitions" makes the current and the next month; imports
and the generator make the months they write.
"""
import argparse
import datetime as dt
import sys

from .cli import open_database


def month(value):
    "A month written 2026-10 (or any date in it)"
    if len(value) == 7:
        value += '-01'
    return dt.date.fromisoformat(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', default='trytond.conf')
    parser.add_argument('-d', '--database', required=True)
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--create', type=month, nargs='+', metavar='MONTH',
        help="make the partitions of these months (2027-02)")
    group.add_argument('--detach', type=month, metavar='MONTH',
        help="detach the partition of this month (2026-10)")
    args = parser.parse_args(argv)

    with open_database(args.config, args.database) as transaction:
        from trytond.exceptions import UserError
        from trytond.pool import Pool
        Usage = Pool().get('telecom.usage')
        try:
            if args.create:
                Usage.ensure_partitions(args.create)
            elif args.detach:
                table = Usage.detach_partition(args.detach)
                print("%s detached: its records are in table %s" % (
                        args.detach.strftime('%Y-%m'), table))
        except UserError as exception:
            transaction.rollback()
            print(exception.message, file=sys.stderr)
            return 1
        transaction.commit()
        partitions = Usage.partitions()
        if not partitions:
            print("no partition: the usage table is partitioned by month "
                "only on PostgreSQL")
        cursor = transaction.connection.cursor()
        for first, name, attached in partitions:
            # the planner's estimate (no scan of millions of rows), -1 until
            # the partition is first analysed
            cursor.execute('SELECT reltuples::bigint '
                'FROM pg_class WHERE oid = to_regclass(%s)', (name,))
            rows, = cursor.fetchone()
            print('%s  %-22s %-9s %s' % (first.strftime('%Y-%m'),
                    name, 'attached' if attached else 'detached',
                    'about %s records' % format(rows, ',') if rows >= 0
                    else 'not analysed yet'))


if __name__ == '__main__':
    sys.exit(main())
