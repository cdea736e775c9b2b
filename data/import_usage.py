"""Import usage record files (CSV, UTF-8 or GBK) into a database.

    python -m data.import_usage -d DATABASE [-c trytond.conf] \\
        [--format switch|partner] FILE...

Each file is imported in its own transaction, whole or not at all, and
recorded as a usage import (telecom.usage.import) like an import from the
client's wizard, in the format given (default: a switch's CSV), but
directly rather than through the queue; a refused file leaves nothing. Records
already imported are skipped, so a file can be given again. Prints rows
imported and skipped and the rate per file; the exit status is 1 when a
file was refused.
"""
import argparse
import os
import sys
import time

from .cli import open_database


def import_file(path, format='switch'):
    "Import one file in the current transaction: (rows, imported, skipped)"
    from trytond.pool import Pool

    from crm_billing.exceptions import UsageImportError
    UsageImport = Pool().get('telecom.usage.import')
    with open(path, 'rb') as f:
        data = f.read()
    import_, = UsageImport.create([{'name': os.path.basename(path),
                'file': data, 'format': format}])
    UsageImport.process([import_], commit=False)
    import_ = UsageImport(import_.id)
    if import_.state == 'failed':
        raise UsageImportError(import_.problems)
    return import_.rows, import_.imported, import_.skipped


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', default='trytond.conf')
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--format', default='switch',
        help="format of the files: switch (default) or partner")
    parser.add_argument('files', nargs='+', metavar='FILE')
    args = parser.parse_args(argv)

    failed = 0
    with open_database(args.config, args.database) as transaction:
        from trytond.exceptions import UserError
        for path in args.files:
            start = time.perf_counter()
            try:
                rows, imported, skipped = import_file(path, args.format)
                transaction.commit()
            except (UserError, OSError) as exception:
                transaction.rollback()
                failed += 1
                message = getattr(exception, 'message', None) \
                    or str(exception)
                print('%s: not imported\n%s' % (path, message),
                    file=sys.stderr)
                continue
            elapsed = time.perf_counter() - start
            print('%s: %d rows, %d imported, %d skipped in %.1f s '
                '(%.0f rows/s)' % (path, rows, imported, skipped, elapsed,
                    rows / elapsed if elapsed else 0))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
