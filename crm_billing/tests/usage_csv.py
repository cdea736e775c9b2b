"""Usage record files as operators exchange them (CSV).

    python -m crm_billing.tests.usage_csv OUT.csv --numbers 13800138000,13900139000 \\
        --start 2026-11-01 --end 2026-11-30 --rows 100000 [--encoding gbk]

`generate_rows` draws a realistic mix of calls, messages and data sessions
for given numbers over a period (some roaming, some already rated by a
partner network); `write_csv` writes any rows, good or bad, with English or
Chinese headers in UTF-8, UTF-8 with BOM or GBK. Both are deterministic for
a seed, so tests, the demo and the benchmark read the same files.
"""
import argparse
import csv
import datetime as dt
import io
import math
import random
import sys

COLUMNS = ['record_id', 'number', 'type', 'start', 'duration', 'volume',
    'other_party', 'roaming', 'charge']
CHINESE = {
    'record_id': '话单编号',
    'number': '号码',
    'type': '类型',
    'start': '开始时间',
    'duration': '时长',
    'volume': '流量',
    'other_party': '对端号码',
    'roaming': '漫游',
    'charge': '费用',
    }
CHINESE_TYPES = {'voice': '语音', 'sms': '短信', 'data': '流量'}
ENCODINGS = ['utf-8', 'utf-8-sig', 'gbk']
PREFIXES = ['134', '135', '136', '137', '138', '139', '150', '151', '152',
    '157', '158', '159', '178', '182', '183', '187', '188', '198']
SERVICE_NUMBERS = ['10086', '10010', '95588', '95533', '12306', '10000']


def _value(value, chinese, column):
    if value is None:
        return ''
    if isinstance(value, bool):
        if chinese:
            return '是' if value else '否'
        return '1' if value else '0'
    if isinstance(value, dt.datetime):
        return value.strftime('%Y-%m-%d %H:%M:%S')
    if chinese and column == 'type':
        return CHINESE_TYPES.get(value, value)
    return str(value)


def _table(rows, columns, chinese):
    "Header and cells of rows (dicts keyed by English column names)"
    rows = iter(rows)
    first = next(rows, None)
    if columns is None:
        columns = [c for c in COLUMNS if first is not None and c in first]
    yield [CHINESE.get(c, c) if chinese else c for c in columns]
    if first is None:
        return
    yield [_value(first.get(c), chinese, c) for c in columns]
    for row in rows:
        yield [_value(row.get(c), chinese, c) for c in columns]


def write_csv(path, rows, encoding='utf-8', chinese=False, columns=None):
    """Write rows (dicts keyed by English column names; values str, int,
    bool, datetime, Decimal or None) to path with a header row.
    chinese: Chinese column names and Chinese type and roaming values.
    columns: the columns in order (default: those of the first row).
    Returns the number of data rows."""
    count = -1
    with open(path, 'w', encoding=encoding, newline='') as f:
        writer = csv.writer(f, lineterminator='\r\n')
        for cells in _table(rows, columns, chinese):
            writer.writerow(cells)
            count += 1
    return count


def csv_bytes(rows, encoding='utf-8', chinese=False, columns=None):
    "The file write_csv would write, as bytes"
    buffer = io.StringIO(newline='')
    writer = csv.writer(buffer, lineterminator='\r\n')
    writer.writerows(_table(rows, columns, chinese))
    return buffer.getvalue().encode(encoding)


def generate_rows(numbers, start, end, count, seed=1, record_ids=True,
        roaming=0.05, rated=0.03, id_prefix='CDR'):
    """count usage rows for numbers (MSISDN strings) between the dates
    start and end (inclusive), in order of time.

    About half are calls (mostly short, a few long), a quarter messages
    and a quarter data sessions; `roaming` of them are roaming and
    `rated` arrive with a charge set by the partner network. Without
    record_ids the files carry no record id, as some switches send them."""
    if not numbers:
        raise ValueError("no numbers")
    rng = random.Random(seed)
    span = int((dt.datetime.combine(end, dt.time()) + dt.timedelta(days=1)
            - dt.datetime.combine(start, dt.time())).total_seconds())
    origin = dt.datetime.combine(start, dt.time())
    offsets = sorted(rng.randrange(span) for _ in range(count))
    random_ = rng.random
    choice = rng.choice
    for n, offset in enumerate(offsets):
        number = choice(numbers)
        draw = random_()
        duration = volume = None
        if draw < 0.5:
            type_ = 'voice'
            # call lengths are roughly log-normal: mostly a minute or two
            duration = min(int(math.exp(rng.gauss(4.2, 1.1))), 7200)
            if random_() < 0.03:
                duration = 0   # unanswered
            other = _other_party(rng, number)
        elif draw < 0.75:
            type_ = 'sms'
            other = _other_party(rng, number)
        else:
            type_ = 'data'
            volume = max(1, min(int(math.exp(rng.gauss(7.5, 2.0))),
                    4 * 1024 * 1024))
            duration = rng.randrange(1, 3600)
            other = None
        is_roaming = random_() < roaming
        charge = None
        if random_() < rated:
            units = {'voice': -(-(duration or 0) // 60), 'sms': 1,
                'data': -(-(volume or 0) // 1024)}[type_]
            rate = {'voice': 99, 'sms': 39, 'data': 29}[type_] \
                if is_roaming else {'voice': 19, 'sms': 10, 'data': 3}[type_]
            charge = '%d.%02d' % divmod(units * rate, 100)
        yield {
            'record_id': '%s%d%010d' % (id_prefix, seed, n)
            if record_ids else None,
            'number': number,
            'type': type_,
            'start': origin + dt.timedelta(seconds=offset),
            'duration': duration,
            'volume': volume,
            'other_party': other,
            'roaming': is_roaming,
            'charge': charge,
            }


def _other_party(rng, own):
    draw = rng.random()
    if draw < 0.8:
        return rng.choice(PREFIXES) + '%08d' % rng.randrange(10 ** 8)
    elif draw < 0.9:
        return '0%d-%d' % (rng.choice([10, 20, 21, 755, 571, 28]),
            rng.randrange(10 ** 7, 10 ** 8))
    return rng.choice(SERVICE_NUMBERS)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('path')
    parser.add_argument('--numbers', required=True,
        help="comma-separated numbers, or @file with one number a line")
    parser.add_argument('--start', required=True,
        type=dt.date.fromisoformat)
    parser.add_argument('--end', required=True, type=dt.date.fromisoformat)
    parser.add_argument('--rows', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--encoding', choices=ENCODINGS, default='utf-8')
    parser.add_argument('--chinese', action='store_true',
        help="Chinese column names and values")
    parser.add_argument('--no-record-id', action='store_true')
    args = parser.parse_args(argv)
    if args.numbers.startswith('@'):
        with open(args.numbers[1:]) as f:
            numbers = [n.strip() for n in f if n.strip()]
    else:
        numbers = [n.strip() for n in args.numbers.split(',') if n.strip()]
    rows = generate_rows(numbers, args.start, args.end, args.rows,
        seed=args.seed, record_ids=not args.no_record_id)
    count = write_csv(args.path, rows, encoding=args.encoding,
        chinese=args.chinese, columns=COLUMNS)
    print('%d rows written to %s' % (count, args.path))


if __name__ == '__main__':
    sys.exit(main())
