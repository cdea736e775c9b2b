"""A usage file through its import: read, checked, resolved, written.

A file is read whole and every row is checked before anything is written:
the user gets every problem at once (line, column, value, what is wrong)
and a file with a problem imports nothing. What a row means depends on the
format of the file (the parse_<format> methods of telecom.usage.import);
this module holds what every format shares: the encodings, the header,
the checks of single cells, the line in service on the day of a record,
the source keys already imported and the bulk write."""
import codecs
import contextlib
import csv
import datetime as dt
import gc
import heapq
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from operator import attrgetter

from sql import Null

from trytond import backend
from trytond.i18n import gettext
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.bulk import BulkWriter
from crm_telecom.number import MSISDN, compact_msisdn

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
NUMBER_BATCH = 1000
# keys are sent as one array parameter on PostgreSQL: bigger batches cost
# nothing more and save round trips
KEY_BATCH = {'postgresql': 10_000}
# after a big import, the bill run and the next import must not be planned
# on statistics of the table before it (autovacuum may come minutes later)
ANALYZE_ROWS = 100_000


@dataclass(slots=True)
class UsageRow:
    "A checked record of a file, as it is written"
    line: int
    number: str
    type: str
    start: dt.datetime
    duration: int | None
    volume: int | None
    other_party: str | None
    roaming: bool
    charge: Decimal | None
    units: int
    source_key: str
    # the line that had the number on the day of use (resolve_lines)
    subscriber: int | None = None


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
            and value[10] in ' T'):
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


class Record:
    """The cells of one data row of a file, read column by column: each
    reader returns the value or None and records the problem, naming the
    column as the file's header names it"""
    __slots__ = ('file', 'line', 'cells', 'ok')

    def __init__(self, file, line, cells):
        self.file = file
        self.line = line
        self.cells = cells
        self.ok = True

    def value(self, column):
        "The cell as written ('' when the file has no such column)"
        return self.cells[self.file.index.get(column, -1)]

    def problem(self, column, message, **params):
        self.ok = False
        self.file.problems.add(self.line, self.file.names[column],
            self.value(column), message, **params)

    def text(self, column, required=None):
        "The cell without its surrounding spaces, None when empty"
        value = self.value(column).strip()
        if not value and required:
            self.problem(column, required)
        return value or None

    def number(self, column, international=False):
        """An 11-digit mobile number, written with spaces or +86 or not;
        international: also as E.164 without the plus (8613800138000)"""
        value = self.value(column)
        if len(value) == 11 and value.isdigit() and MSISDN.match(value):
            return value
        number = compact_msisdn(value)
        if international and len(number) == 13 and number.startswith('86'):
            number = number[2:]
        if not number:
            self.problem(column, 'msg_usage_problem_required')
        elif not MSISDN.match(number):
            self.problem(column, 'msg_usage_problem_number_format')
        else:
            return number

    def choice(self, column, choices, message):
        "The value choices gives for the cell (in any case)"
        value = self.value(column)
        choice = choices.get(value) or choices.get(value.strip().lower())
        if not choice:
            self.problem(column, message if value.strip()
                else 'msg_usage_problem_required')
        return choice

    def flag(self, column):
        "Yes or no: 0/1, true/false, 是/否, Y/N; empty is no"
        value = self.value(column)
        flag = FLAGS.get(value)
        if flag is None:
            flag = FLAGS.get(value.strip().lower())
            if flag is None:
                self.problem(column, 'msg_usage_problem_roaming')
        return flag

    def start(self, column, parse=parse_start,
            message='msg_usage_problem_start'):
        value = self.value(column)
        start = parse(value)
        if start is None:
            self.problem(column, message if value.strip()
                else 'msg_usage_problem_required')
        return start

    def whole(self, column, required=None):
        """A whole number, not negative; required names the problem of an
        empty cell. A file without the column is told once, on its header,
        if a row needs it."""
        if column not in self.file.index:
            if required:
                self.file.needed.add(column)
                self.ok = False
            return None
        value = self.value(column)
        if not value:
            if required:
                self.problem(column, required)
            return None
        try:
            amount = int(value)
        except ValueError:
            self.problem(column, 'msg_usage_problem_integer')
            return None
        if amount < 0:
            self.problem(column, 'msg_usage_problem_negative')
            return None
        return amount

    def amount(self, column, required=None):
        "An amount in yuan: zero or more, at most 2 decimals"
        value = self.value(column).strip()
        if not value:
            if required:
                self.problem(column, required)
            return None
        try:
            amount = Decimal(value)
            if (not amount.is_finite() or amount < 0
                    or amount != amount.quantize(CENT)):
                raise InvalidOperation
        except InvalidOperation:
            self.problem(column, 'msg_usage_problem_charge')
            return None
        return amount.quantize(CENT)


class UsageFile:
    """One file being imported: its rows checked against the columns of a
    format, the problems found, the rows to write and what became of them"""

    def __init__(self, data):
        self.data = data or b''
        self.encoding = detect_encoding(self.data)
        self.problems = Problems()
        self.header_ok = False
        self.rows = []          # UsageRow to write
        self.unchecked = []     # (line, number, start) of rows with problems
        self.keys = set()
        self.total = 0
        self.repeated = 0
        self.existing = 0
        self.imported = 0
        self.index = {}
        self.names = {}
        self.needed = set()

    @property
    def skipped(self):
        "Records already imported, or repeated in the file"
        return self.repeated + self.existing

    def records(self, columns, required):
        """A Record per data row of the file under its header; columns:
        {column: accepted header names}, required: the columns the header
        must have. Problems of the header or of the CSV end the rows."""
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
        try:
            for cells in reader:
                count = len(cells)
                if count != width:
                    if not any(c.strip() for c in cells):
                        continue   # blank line
                    self.total += 1
                    if count > width and any(
                            c.strip() for c in cells[width:]):
                        problems.add(reader.line_num, None, '',
                            'msg_usage_problem_cells', cells=count,
                            columns=width)
                        continue
                    cells = (cells + [''] * width)[:width]
                else:
                    self.total += 1
                # absent columns read this last, empty cell
                cells.append('')
                yield Record(self, reader.line_num, cells)
        except csv.Error as exception:
            problems.add(reader.line_num, None, '',
                'msg_usage_problem_csv', error=str(exception))
            return
        # a file with calls needs the duration column, one with data
        # the volume column: said once rather than on every row
        for column in sorted(self.needed):
            problems.add(header_line, None, '',
                'msg_usage_problem_column_missing',
                column=' / '.join(columns[column]))

    def add(self, row):
        "A checked row to write, unless its key came earlier in the file"
        if row.source_key in self.keys:
            self.repeated += 1
        else:
            self.keys.add(row.source_key)
            self.rows.append(row)

    def check_number(self, record, number, start):
        "A row with problems: still tell whether its number is known"
        if number is not None:
            self.unchecked.append((record.line, number, start))

    def resolve_lines(self):
        """The line (subscriber) of each row's number in service on the
        day of use, one query per NUMBER_BATCH distinct numbers"""
        pool = Pool()
        Number = pool.get('telecom.number')
        Subscriber = pool.get('telecom.subscriber')
        number = Number.__table__()
        subscriber = Subscriber.__table__()
        cursor = Transaction().connection.cursor()
        rows = [(r.line, r.number, r.start, r) for r in self.rows]
        rows.extend((line, n, start, None)
            for line, n, start in self.unchecked)
        lines = {}   # number -> [(activation, termination, subscriber)]
        for batch in grouped_slice(sorted({r[1] for r in rows}),
                NUMBER_BATCH):
            _lookup(cursor, number.join(subscriber, 'LEFT',
                    condition=(subscriber.number == number.id)
                    & (subscriber.activation_date != Null)
                    ).select(number.number, subscriber.activation_date,
                    subscriber.termination_date, subscriber.id,
                    where=SQL_OPERATORS['in'](number.number, list(batch))))
            for msisdn, activation, termination, sub_id in cursor:
                periods = lines.setdefault(msisdn, [])
                if sub_id is not None:
                    periods.append((activation, termination, sub_id))
        for periods in lines.values():
            # the latest activation wins on a day a number changed hands
            periods.sort(reverse=True)
        add = self.problems.add
        name = self.names['number']
        for line, msisdn, start, row in rows:
            periods = lines.get(msisdn)
            if periods is None:
                add(line, name, msisdn, 'msg_usage_problem_number_unknown')
                continue
            if start is None:
                continue
            day = start.date()
            for activation, termination, sub_id in periods:
                if activation <= day and (
                        termination is None or termination >= day):
                    if row is not None:
                        row.subscriber = sub_id
                    break
            else:
                add(line, name, msisdn, 'msg_usage_problem_not_in_service',
                    date=day.isoformat())

    def drop_existing(self):
        "Rows whose source key is already in the database are skipped"
        Usage = Pool().get('telecom.usage')
        usage = Usage.__table__()
        cursor = Transaction().connection.cursor()
        # in key order, the lookups and then the inserts into the unique
        # index of the keys touch neighbouring pages instead of random ones
        self.rows.sort(key=attrgetter('source_key'))
        existing = set()
        for batch in grouped_slice([r.source_key for r in self.rows],
                KEY_BATCH.get(backend.name, 1000)):
            _lookup(cursor, usage.select(usage.source_key,
                    where=SQL_OPERATORS['in'](usage.source_key,
                        list(batch))))
            existing.update(k for k, in cursor)
        if existing:
            self.rows = [r for r in self.rows
                if r.source_key not in existing]
            self.existing = len(existing)

    def write(self, import_id=None):
        "Insert the rows, set-based"
        Usage = Pool().get('telecom.usage')
        Usage.ensure_partitions(r.start for r in self.rows)
        Usage.lock_writing()
        writer = BulkWriter(Usage, ['subscriber', 'type', 'roaming',
                'other_party', 'start', 'duration', 'volume', 'units',
                'charge', 'source_key', 'import_'])
        try:
            writer.write([(r.subscriber, r.type, r.roaming, r.other_party,
                        r.start, r.duration, r.volume, r.units, r.charge,
                        r.source_key, import_id) for r in self.rows])
        except backend.DatabaseIntegrityError as exception:
            # another import wrote some of these records meanwhile
            raise UsageImportError(gettext(
                    'crm_billing.msg_usage_import_concurrent')) from exception
        if writer.rows >= ANALYZE_ROWS:
            writer.analyze()
        self.imported = writer.rows


def _lookup(cursor, query):
    "Execute a lookup by a batch of values"
    if backend.name == 'postgresql':
        # never a prepared statement: a generic plan made while the table
        # was empty stays a scan comparing every row with every value
        cursor.execute(*query, prepare=False)
    else:
        cursor.execute(*query)


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
