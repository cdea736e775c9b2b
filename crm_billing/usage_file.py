"""A usage file through its import: read, checked, resolved, written.

Every row of a file is checked and the file is written whole or not at all:
the user gets every problem at once (line, column, value, what is wrong)
and a file with a problem imports nothing. What a row means depends on the
format of the file (the parse_<format> methods of telecom.usage.import);
this module holds what every format shares: the encodings, the header,
the checks of the cells, the line in service on the day of a record, the
source keys already imported and the bulk write.

The rows are read by chunks (Cells) and checked column by column: each
check runs over the cells of a column at once and looks at a cell alone
only when it is not as files mostly write it. Each chunk's checked rows
get their lines and lose their known keys, then, on PostgreSQL, go into a
COPY the server runs while the next chunk is read (a file found wrong
later is undone to a savepoint); elsewhere they are kept field by field
(UsageFile.rows) and written once the whole file is checked."""
import codecs
import contextlib
import csv
import datetime as dt
import gc
import heapq
import io
import re
from decimal import Decimal, InvalidOperation
from itertools import compress, repeat

from sql import Null

from trytond import backend
from trytond.i18n import gettext
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.bulk import BulkWriter
from crm_telecom.number import MSISDN, compact_msisdn
from crm_telecom.sql_tools import execute_planned

from .exceptions import UsageImportError

ENCODINGS = [
    (None, ""),
    ('utf-8', "UTF-8"),
    ('utf-8-sig', "UTF-8 with BOM"),
    ('gb18030', "GBK / GB18030"),
    ]
FLAGS = {
    '': False, '0': False, 'false': False, 'n': False, 'no': False,
    '否': False,
    '1': True, 'true': True, 'y': True, 'yes': True, '是': True,
    }
START = re.compile(r'^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T]'
    r'(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?$')
# '时长(秒)', 'volume (KB)': the unit in brackets is not part of the name
HEADER_UNIT = re.compile(r'\s*[(（\[【][^)）\]】]*[)）\]】]\s*$')
CENT = Decimal('0.01')
CHUNK = 1 << 20
SHOWN = 20
# rows of a file checked at once, column by column
ROWS = 10_000
# numbers looked up per query. A file's numbers are a good part of the
# number pool: PostgreSQL scans the pool and the lines once per batch, so a
# batch of a thousand costs as much as one of ten thousand (91,000 numbers
# of a pool of 110,000: 1.7 s by thousands, 0.27 s by ten thousands)
NUMBER_BATCH = {'postgresql': 10_000}
# a chunk bringing numbers of at least 1/POOL_SHARE of the pool: the lines
# of the whole pool are read at once, not by a scan of it per chunk
POOL_SHARE = 20
# keys looked up per query. PostgreSQL probes the unique index for each key
# of a batch of a thousand; for ten thousand it plans a scan of the whole
# table unless the table is far bigger (600,000 rows: 60 ms a batch,
# against 8 ms to probe the same keys)
KEY_BATCH = {'postgresql': 1000}
# between the keys of a chunk sent as one text (a key holding it is
# looked up as the others)
KEY_SEPARATOR = '\x1f'
# after a big import, the bill run and the next import must not be planned
# on statistics of the table before it (autovacuum may come minutes later)
ANALYZE_ROWS = 100_000
# the columns of telecom_usage a checked row fills, as written
WRITTEN = ['subscriber', 'type', 'roaming', 'other_party', 'start',
    'duration', 'volume', 'units', 'charge', 'source_key']
# the fields of a checked row: those written and the line of the file
FIELDS = ['line', 'number'] + WRITTEN


class Problems:
    "Every problem of a file; the first SHOWN by line are kept to show"

    def __init__(self):
        self.count = 0
        self.columns = {}   # field -> its position in the file
        self._heap = []   # max-heap on (line, column, order) of the first

    def __bool__(self):
        return bool(self.count)

    def add(self, line, field, value, message, **params):
        self.count += 1
        item = (-line, -self.columns.get(field, -1), -self.count, field,
            value, message, params)
        if len(self._heap) < SHOWN:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def first(self):
        return [(-line, field, value, message, params)
            for line, _, _, field, value, message, params
            in sorted(self._heap, reverse=True)]

    def error(self):
        lines = []
        for line, field, value, message, params in self.first():
            problem = gettext('crm_billing.%s' % message, **params)
            if field is None:
                lines.append(gettext('crm_billing.msg_usage_import_row',
                        line=line, problem=problem))
            else:
                value = value if len(value) <= 40 else value[:39] + '…'
                lines.append(gettext('crm_billing.msg_usage_import_field',
                        line=line, field=field, value=value,
                        problem=problem))
        if self.count > SHOWN:
            lines.append(gettext('crm_billing.msg_usage_import_more',
                    count=self.count - SHOWN))
        return UsageImportError(gettext(
                'crm_billing.msg_usage_import_problems',
                count=self.count, problems='\n'.join(lines)))


def detect_encoding(data):
    """The encoding a file was written in: UTF-8 (with or without BOM) if
    it decodes strictly as such, else GB18030 (a superset of GBK)"""
    view = memoryview(data)
    for encoding in ['utf-8', 'gb18030']:
        # decoded by chunks and thrown away: only validity matters here
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for i in range(0, len(view), CHUNK):
                decoder.decode(view[i:i + CHUNK])
            decoder.decode(b'', final=True)
        except UnicodeDecodeError as exception:
            position = i + exception.start
            continue
        if encoding == 'utf-8' and view[:3] == codecs.BOM_UTF8:
            return 'utf-8-sig'
        return encoding
    raise UsageImportError(gettext(
            'crm_billing.msg_usage_import_encoding', position=position))


def header_name(cell):
    "A header cell as a column name: no BOM, case, spaces or unit"
    name = HEADER_UNIT.sub('', cell.strip().lstrip('\ufeff')).strip().lower()
    return re.sub(r'[\s\-]+', '_', name)


def parse_start(value):
    "A start time like 2026-11-03 14:05:09 (or 2026/11/3 14:05), or None"
    if (len(value) == 19 and value[4] == '-' and value[7] == '-'
            and value[10] in ' T' and value[13] == ':' and value[16] == ':'):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    match = START.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second = match.groups()
    try:
        return dt.datetime(int(year), int(month), int(day), int(hour),
            int(minute), int(second or 0))
    except ValueError:
        return None


class Cells:
    """Data rows of a file (at most ROWS of them) read column by column:
    each reader checks the cells of a column and returns their values,
    None for an empty or wrong cell; it records each problem under the
    name the file's header gives the column, and the row as bad"""
    __slots__ = ('file', 'lines', 'rows', 'bad', '_columns')

    def __init__(self, file, lines, rows):
        self.file = file
        self.lines = lines      # the line of each row in the file
        self.rows = rows        # the cells of each row, as many as columns
        self.bad = set()        # the rows with a problem
        self._columns = None

    def __len__(self):
        return len(self.rows)

    def cells(self, column):
        "The cells of the column as written ('' when the file has none)"
        i = self.file.index.get(column)
        if i is None:
            return ('',) * len(self.rows)
        if self._columns is None:
            self._columns = list(zip(*self.rows))
        return self._columns[i]

    def problem(self, i, column, message, **params):
        self.bad.add(i)
        self.file.problems.add(self.lines[i], self.file.names[column],
            self.cells(column)[i], message, **params)

    def good(self):
        "The rows without a problem"
        bad = self.bad
        return [i for i in range(len(self.rows)) if i not in bad]

    def text(self, column, required=None):
        "The cells without their surrounding spaces, None when empty"
        values = [c.strip() or None for c in self.cells(column)]
        if required and None in values:
            for i, value in enumerate(values):
                if value is None:
                    self.problem(i, column, required)
        return values

    def number(self, column, international=False):
        """11-digit mobile numbers, written with spaces or +86 or not;
        international: also as E.164 without the plus (8613800138000)"""
        cells = self.cells(column)
        match = MSISDN.match
        # 11 digits, as files mostly write them, are taken as they are
        values = [c if len(c) == 11 and match(c) else None for c in cells]
        if None in values:
            for i, value in enumerate(values):
                if value is None:
                    values[i] = self._number(i, column, cells[i],
                        international)
        return values

    def _number(self, i, column, value, international):
        number = compact_msisdn(value)
        if international and len(number) == 13 and number.startswith('86'):
            number = number[2:]
        if not number:
            self.problem(i, column, 'msg_usage_problem_required')
        elif not MSISDN.match(number):
            self.problem(i, column, 'msg_usage_problem_number_format')
        else:
            return number

    def choice(self, column, choices, message):
        "The values choices gives for the cells (in any case)"
        cells = self.cells(column)
        values = list(map(choices.get, cells))
        if None in values:
            for i, value in enumerate(values):
                if value is None:
                    value = cells[i].strip()
                    values[i] = choices.get(value.lower())
                    if not values[i]:
                        self.problem(i, column, message if value
                            else 'msg_usage_problem_required')
        return values

    def flag(self, column):
        "Yes or no: 0/1, true/false, 是/否, Y/N; empty is no"
        cells = self.cells(column)
        values = list(map(FLAGS.get, cells))
        if None in values:
            for i, value in enumerate(values):
                if value is None:
                    values[i] = FLAGS.get(cells[i].strip().lower())
                    if values[i] is None:
                        self.problem(i, column, 'msg_usage_problem_roaming')
        return values

    def start(self, column, parse=parse_start,
            message='msg_usage_problem_start'):
        "The dates and times parse reads in the cells"
        cells = self.cells(column)
        values = list(map(parse, cells))
        if None in values:
            for i, value in enumerate(values):
                if value is None:
                    self.problem(i, column, message if cells[i].strip()
                        else 'msg_usage_problem_required')
        return values

    def whole(self, column, required=None, where=None):
        """Whole numbers, not negative; required names the problem of an
        empty cell in the rows where says (a boolean per row; default:
        every row). A file without the column is told once, on its header,
        if a row needs it."""
        needed = (range(len(self.rows)) if where is None
            else [i for i, w in enumerate(where) if w]) if required else ()
        if column not in self.file.index:
            if needed:
                self.file.needed.add(column)
                self.bad.update(needed)
            return [None] * len(self.rows)
        cells = self.cells(column)
        try:
            values = [int(c) if c else None for c in cells]
            # int() takes a minus: told below, with the other problems
            wrong = min(filter(None, values), default=0) < 0
        except ValueError:
            wrong = True
        if wrong:
            values = [self._whole(i, column, c) if c else None
                for i, c in enumerate(cells)]
        for i in needed:
            if not cells[i]:
                self.problem(i, column, required)
        return values

    def _whole(self, i, column, value):
        try:
            amount = int(value)
        except ValueError:
            self.problem(i, column, 'msg_usage_problem_integer')
            return None
        if amount < 0:
            self.problem(i, column, 'msg_usage_problem_negative')
            return None
        return amount

    def amount(self, column, required=None):
        "Amounts in yuan: zero or more, at most 2 decimals"
        cells = self.cells(column)
        values = [None] * len(cells)
        if not required and not any(cells):
            return values
        for i, value in enumerate(cells):
            value = value.strip()
            if not value:
                if required:
                    self.problem(i, column, required)
                continue
            try:
                amount = Decimal(value)
                if (not amount.is_finite() or amount < 0
                        or amount != amount.quantize(CENT)):
                    raise InvalidOperation
            except InvalidOperation:
                self.problem(i, column, 'msg_usage_problem_charge')
                continue
            values[i] = amount.quantize(CENT)
        return values


def started_units(types, durations, volumes):
    """What rating counts of each record: started minutes, one per
    message, KB"""
    return [-(-d // 60) if t == 'voice' else 1 if t == 'sms' else v
        for t, d, v in zip(types, durations, volumes)]


class UsageFile:
    """One file being imported: its rows checked against the columns of a
    format, the problems found, the rows to write and what became of them"""

    def __init__(self, data):
        self.data = data or b''
        self.encoding = detect_encoding(self.data)
        self.problems = Problems()
        self.header_ok = False
        # PostgreSQL: the checked rows of each chunk stream into a COPY the
        # server runs while the next chunk is read; a file with a problem
        # is undone (atomic). Otherwise they are kept (rows) and written
        # once the whole file is checked.
        self.stream = backend.name == 'postgresql'
        # the checked rows kept to write at the end, field by field
        self.rows = {f: [] for f in FIELDS}
        self.import_id = None
        self.writer = None      # BulkWriter of the rows streamed
        self.months = set()     # months streamed into
        self.attached = None    # months whose partition is attached
        self.services = {}      # lines of the numbers looked up
        self.whole_pool = False     # services has every number
        # the numbers of services with one line, not terminated, active
        # since current_since (the first day of the first rows): its id
        self.current = {}
        self.current_since = None
        self.keys = set()
        self.total = 0
        self.repeated = 0
        self.existing = 0
        self.imported = 0
        self.index = {}
        self.names = {}
        self.needed = set()
        self.chunk_rows = ROWS

    @property
    def skipped(self):
        "Records already imported, or repeated in the file"
        return self.repeated + self.existing

    def chunks(self, columns, required):
        """The data rows of the file under its header, as Cells of at most
        chunk_rows rows; columns: {column: accepted header names},
        required: the columns the header must have. Problems of the
        header or of the CSV end the rows."""
        problems = self.problems
        reader = csv.reader(io.TextIOWrapper(io.BytesIO(self.data),
                encoding=self.encoding, newline=''))
        header_names = {name: column
            for column, names in columns.items() for name in names}
        try:
            header = next((cells for cells in reader
                    if any(c.strip() for c in cells)), None)
        except csv.Error as exception:
            problems.add(reader.line_num, None, '',
                'msg_usage_problem_csv', error=str(exception))
            return
        header_line = reader.line_num or 1
        for i, cell in enumerate(header or []):
            column = header_names.get(header_name(cell))
            if column is None:
                continue   # columns the import does not use
            if column in self.index:
                problems.add(header_line, None, '',
                    'msg_usage_problem_column_twice', column=cell.strip())
            self.index[column] = i
            self.names[column] = cell.strip()
        if not self.index:
            problems.add(header_line, None, '', 'msg_usage_problem_no_header')
            return
        for column in required:
            if column not in self.index:
                problems.add(header_line, None, '',
                    'msg_usage_problem_column_missing',
                    column=' / '.join(columns[column]))
        if problems:
            return
        self.header_ok = True
        width = len(header)
        for column, names in columns.items():
            self.names.setdefault(column, names[0])
        problems.columns = {self.names[c]: i for c, i in self.index.items()}
        size = self.chunk_rows
        lines, rows = [], []
        total = 0
        try:
            for cells in reader:
                count = len(cells)
                if count != width:
                    if not any(c.strip() for c in cells):
                        continue   # blank line
                    total += 1
                    if count > width and any(
                            c.strip() for c in cells[width:]):
                        problems.add(reader.line_num, None, '',
                            'msg_usage_problem_cells', cells=count,
                            columns=width)
                        continue
                    cells = (cells + [''] * width)[:width]
                else:
                    total += 1
                lines.append(reader.line_num)
                rows.append(cells)
                if len(rows) == size:
                    self.total = total
                    yield Cells(self, lines, rows)
                    lines, rows = [], []
        except csv.Error as exception:
            problems.add(reader.line_num, None, '',
                'msg_usage_problem_csv', error=str(exception))
            self.total = total
            if rows:
                # the rows before are checked all the same
                yield Cells(self, lines, rows)
            return
        self.total = total
        if rows:
            yield Cells(self, lines, rows)
        # a file with calls needs the duration column, one with data
        # the volume column: said once rather than on every row
        for column in sorted(self.needed):
            problems.add(header_line, None, '',
                'msg_usage_problem_column_missing',
                column=' / '.join(columns[column]))

    def add(self, cells, number, type_, start, duration, volume,
            other_party, roaming, charge, source_key):
        """The checked rows of cells, given as a list of values per field
        (one per row; those of the rows with a problem are ignored), but
        the rows whose key came earlier in the file: their lines are looked
        up, those already imported dropped, the others written (stream) or
        kept to write once the whole file is checked"""
        keep = bytearray(b'\x01') * len(cells)
        unchecked = []  # (line, number, start) of rows with problems
        for i in cells.bad:
            keep[i] = 0
            # a row with problems: still tell whether its number is known
            if number[i] is not None:
                unchecked.append((cells.lines[i], number[i], start[i]))
        keys = self.keys
        if (not keys.isdisjoint(source_key)
                or len(set(source_key)) != len(source_key)):
            # some keys came earlier, or twice in these rows
            for i, key in enumerate(source_key):
                if keep[i]:
                    if key in keys:
                        keep[i] = 0
                        self.repeated += 1
                    else:
                        keys.add(key)
        else:
            keys.update(compress(source_key, keep))
        rows = {}
        for field, values in [('line', cells.lines), ('number', number),
                ('type', type_), ('start', start), ('duration', duration),
                ('volume', volume), ('other_party', other_party),
                ('roaming', roaming), ('charge', charge),
                ('source_key', source_key)]:
            rows[field] = list(compress(values, keep))
        if not self.problems:
            rows['units'] = started_units(rows['type'], rows['duration'],
                rows['volume'])
            # in key order, the lookups and then the inserts into the unique
            # index of the keys touch neighbouring pages, not random ones
            keys = rows['source_key']
            if keys != sorted(keys):
                order = sorted(range(len(keys)), key=keys.__getitem__)
                for field, values in rows.items():
                    rows[field] = [values[i] for i in order]
        # the lookups wait for the server to end the COPY of the rows before
        self._pause()
        self._resolve(rows, unchecked)
        if self.problems:
            # nothing of the file is written: only its problems matter
            return
        self._drop_existing(rows)
        if self.stream:
            self._send(rows)
        else:
            for field, values in self.rows.items():
                values.extend(rows[field])

    def _resolve(self, rows, unchecked):
        """The line (subscriber) of each row's number in service on the
        day of use, one query per batch of numbers not looked up before
        (NUMBER_BATCH)"""
        pool = Pool()
        Number = pool.get('telecom.number')
        Subscriber = pool.get('telecom.subscriber')
        number = Number.__table__()
        subscriber = Subscriber.__table__()
        # number -> [(activation, termination, subscriber)], None: unknown
        services = self.services
        numbers = set(rows['number'])
        numbers.update(n for _, n, _ in unchecked)
        starts = rows['start']
        if starts and self.current_since is None:
            self.current_since = min(starts).date()
        missing = numbers.difference(services)
        if missing and not self.whole_pool:
            cursor = Transaction().connection.cursor()
            query = number.join(subscriber, 'LEFT',
                condition=(subscriber.number == number.id)
                & (subscriber.activation_date != Null)
                ).select(number.number, subscriber.activation_date,
                subscriber.termination_date, subscriber.id)
            size = _pool_size(cursor, Number)
            if size is not None and len(missing) * POOL_SHARE >= size:
                # numbers of a good part of the pool, which PostgreSQL
                # scans for each chunk: the whole pool read once instead
                self.whole_pool = True
                batches = [None]
            else:
                batches = grouped_slice(sorted(missing),
                    NUMBER_BATCH.get(backend.name, 1000))
            found = {}
            for batch in batches:
                if batch is not None:
                    query.where = SQL_OPERATORS['in'](number.number,
                        list(batch))
                execute_planned(cursor, query)
                for msisdn, activation, termination, sub_id in cursor:
                    periods = found.setdefault(msisdn, [])
                    if sub_id is not None:
                        periods.append((activation, termination, sub_id))
            current = self.current
            for msisdn, periods in found.items():
                # the latest activation wins on a day a number changed hands
                periods.sort(reverse=True)
                if services.setdefault(msisdn, periods) is not periods:
                    continue
                if (len(periods) == 1 and periods[0][1] is None
                        and self.current_since is not None
                        and periods[0][0] <= self.current_since):
                    current[msisdn] = periods[0][2]
        for msisdn in missing:
            services.setdefault(msisdn, None)   # unknown
        add = self.problems.add
        name = self.names['number']

        def in_service(line, msisdn, start):
            "The line of the number on the day of start, or None (told)"
            periods = services.get(msisdn)
            if periods is None:
                add(line, name, msisdn, 'msg_usage_problem_number_unknown')
                return None
            if start is None:
                return None
            day = start.date()
            for activation, termination, sub_id in periods:
                if activation <= day and (
                        termination is None or termination >= day):
                    return sub_id
            add(line, name, msisdn, 'msg_usage_problem_not_in_service',
                date=day.isoformat())

        subscribers = []
        if starts:
            # a number that had one line, in service on every day of the
            # rows, has that line on the day of each of its rows
            first, last = min(starts).date(), max(starts).date()
            if first >= self.current_since:
                # mostly: the numbers with one line, not terminated, active
                # since the first day of the file's first rows
                always = self.current
            else:
                always = {}
                for msisdn in set(rows['number']):
                    periods = services[msisdn]
                    if (periods and len(periods) == 1
                            and periods[0][0] <= first
                            and (periods[0][1] is None
                                or periods[0][1] >= last)):
                        always[msisdn] = periods[0][2]
            subscribers = list(map(always.get, rows['number']))
            for i, sub_id in enumerate(subscribers):
                if sub_id is None:
                    subscribers[i] = in_service(rows['line'][i],
                        rows['number'][i], starts[i])
        rows['subscriber'] = subscribers
        for line, msisdn, start in unchecked:
            in_service(line, msisdn, start)

    def _drop_existing(self, rows):
        """Rows whose source key is already in the database are skipped
        (rows in key order)"""
        Usage = Pool().get('telecom.usage')
        usage = Usage.__table__()
        cursor = Transaction().connection.cursor()
        keys = rows['source_key']
        if not keys:
            return
        existing = set()
        if backend.name == 'postgresql':
            # the partition being written has the statistics of an empty
            # table: PostgreSQL would scan the rows already streamed once
            # per batch instead of probing the index of the keys
            cursor.execute("SELECT current_setting('enable_seqscan'), "
                "set_config('enable_seqscan', 'off', true)")
            seqscan, _ = cursor.fetchone()
        bounds = _bounds(cursor, keys)
        if bounds is not None:
            # new records mostly have keys of their own range: when the
            # database has no key in it, no key needs a lookup
            least, greatest = bounds
            execute_planned(cursor, usage.select(usage.source_key,
                    where=(usage.source_key >= least)
                    & (usage.source_key <= greatest), limit=1))
            if cursor.fetchone() is None:
                keys = []
        for batch in grouped_slice(keys, KEY_BATCH.get(backend.name, 1000)):
            execute_planned(cursor, usage.select(usage.source_key,
                    where=SQL_OPERATORS['in'](usage.source_key,
                        list(batch))))
            existing.update(k for k, in cursor)
        if backend.name == 'postgresql':
            cursor.execute("SELECT set_config('enable_seqscan', %s, true)",
                (seqscan,))
        if existing:
            keep = [k not in existing for k in rows['source_key']]
            for field, values in rows.items():
                rows[field] = list(compress(values, keep))
            self.existing += len(existing)

    def _send(self, rows):
        """Stream the rows into the COPY of the file, but those of months
        without their partition, kept for the end: the partitions are made
        once the whole file is checked, and their DDL would hold the
        transactions writing the progress"""
        Usage = Pool().get('telecom.usage')
        if not rows['start']:
            return
        if self.attached is None:
            self.attached = {month for month, _, attached
                in Usage.partitions() if attached}
        starts = rows['start']
        first, last = min(starts), max(starts)
        if (first.year, first.month) == (last.year, last.month):
            months = {dt.date(first.year, first.month, 1)}
        else:
            months = {dt.date(s.year, s.month, 1) for s in starts}
        if not months <= self.attached:
            later = [dt.date(s.year, s.month, 1) not in self.attached
                for s in rows['start']]
            for field, values in self.rows.items():
                values.extend(compress(rows[field], later))
            now = [not w for w in later]
            for field, values in rows.items():
                rows[field] = list(compress(values, now))
            months &= self.attached
        if months - self.months:
            Usage.before_writing(months - self.months)
            self.months |= months
        if self.writer is None:
            self.writer = BulkWriter(Usage, WRITTEN + ['import_'])
        self.writer.send(zip(*(rows[f] for f in WRITTEN),
                repeat(self.import_id)))

    def _pause(self):
        "Wait for the COPY of the rows sent: the connection is free again"
        if self.writer is not None:
            self.writer.end()

    @contextlib.contextmanager
    def atomic(self):
        """The file is written whole or not at all: the rows streamed
        while it is read are undone (to a savepoint) if it fails"""
        cursor = Transaction().connection.cursor()
        if self.stream:
            cursor.execute('SAVEPOINT usage_file')
        try:
            yield
        except BaseException as exception:
            if self.writer is not None:
                try:
                    self.writer.end()
                except Exception:
                    pass    # the rows are undone: the first error is told
            concurrent = isinstance(exception,
                backend.DatabaseIntegrityError)
            if self.stream and (concurrent
                    or isinstance(exception, UsageImportError)):
                cursor.execute('ROLLBACK TO SAVEPOINT usage_file')
            if concurrent:
                # another import wrote some of these records meanwhile
                raise UsageImportError(gettext(
                        'crm_billing.msg_usage_import_concurrent')
                    ) from exception
            raise
        if self.stream:
            cursor.execute('RELEASE SAVEPOINT usage_file')

    def write(self, import_id=None):
        """Once the whole file is checked: end the COPY of the rows
        streamed, insert those kept (set-based), analyse what was written"""
        Usage = Pool().get('telecom.usage')
        if import_id is not None:
            self.import_id = import_id
        self._pause()
        rows = self.rows
        months = {dt.date(s.year, s.month, 1) for s in rows['start']}
        written = self.writer.rows if self.writer is not None else 0
        if rows['start']:
            Usage.before_writing(sorted(months))
            writer = BulkWriter(Usage, WRITTEN + ['import_'])
            writer.write(list(zip(*(rows[f] for f in WRITTEN),
                        repeat(self.import_id))))
            written += writer.rows
        months |= self.months
        if written >= ANALYZE_ROWS and backend.name == 'postgresql':
            # the partitions written: ANALYZE of the table would sample
            # every month it holds again
            cursor = Transaction().connection.cursor()
            for month in sorted(months):
                cursor.execute('ANALYZE "%s"' % Usage.partition_name(month))
        self.imported = written


def _pool_size(cursor, Number):
    "The numbers of the pool as PostgreSQL estimates them, or None"
    if backend.name != 'postgresql':
        return None
    cursor.execute('SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)',
        ('"%s"' % Number._table,))
    row = cursor.fetchone()
    return row[0] if row and row[0] > 0 else None


def _bounds(cursor, keys):
    """The least and the greatest of keys (in Python's order) as the
    database orders them, or None"""
    if backend.name == 'sqlite':
        # it compares text as bytes, in the order of Python's strings
        return keys[0], keys[-1]
    if backend.name != 'postgresql':
        return None
    # the keys as one text: a parameter of millions of strings costs more
    # to send as an array than the lookups it spares
    text = KEY_SEPARATOR.join(keys)
    if text.count(KEY_SEPARATOR) != len(keys) - 1:
        return None
    cursor.execute('SELECT min(k), max(k) '
        'FROM unnest(string_to_array(%s, %s)) AS k',
        (text, KEY_SEPARATOR), prepare=False)
    return cursor.fetchone()


@contextlib.contextmanager
def no_gc():
    "Millions of rows hold no cycles: collecting would only rescan them"
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
