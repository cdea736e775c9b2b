"""Import of usage record files (CSV) as operators exchange them.

A file is read whole and every row is checked before anything is written:
the user gets every problem at once (line, column, value, what is wrong)
and a file with a problem imports nothing. Valid files are then written
set-based, with COPY on PostgreSQL and multi-row INSERT on SQLite. Each
record has a source key (its record id, or a hash of its fields): keys
already in the database or repeated in the file are skipped, so importing
a file twice adds nothing the second time."""
import codecs
import contextlib
import csv
import datetime as dt
import gc
import hashlib
import heapq
import io
import re
from decimal import Decimal, InvalidOperation
from operator import itemgetter

from sql import Null, Table

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.model.fields import SQL_OPERATORS
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.number import MSISDN, compact_msisdn

from .exceptions import UsageImportError

ENCODINGS = [
    (None, ""),
    ('utf-8', "UTF-8"),
    ('utf-8-sig', "UTF-8 with BOM"),
    ('gb18030', "GBK / GB18030"),
    ]
# column of the file -> accepted header names (after normalisation)
COLUMNS = {
    'record_id': ('record_id', '话单编号'),
    'number': ('number', '号码'),
    'type': ('type', '类型'),
    'start': ('start', '开始时间'),
    'duration': ('duration', '时长'),
    'volume': ('volume', '流量'),
    'other_party': ('other_party', '对端号码'),
    'roaming': ('roaming', '漫游'),
    'charge': ('charge', '费用'),
    }
REQUIRED_COLUMNS = ['number', 'type', 'start']
HEADER_NAMES = {name: column
    for column, names in COLUMNS.items() for name in names}
TYPES = {
    'voice': 'voice', 'sms': 'sms', 'data': 'data',
    '语音': 'voice', '短信': 'sms', '流量': 'data', '上网': 'data',
    }
ROAMING = {
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


def _header_name(cell):
    name = HEADER_UNIT.sub('', cell.strip().lstrip('\ufeff')).strip().lower()
    return re.sub(r'[\s\-]+', '_', name)


def parse_start(value):
    "Start time of a record, or None"
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


class UsageFile:
    """One file checked row by row.

    rows: [line, number, type, start, duration, volume, other_party,
    roaming, charge, units, source_key, subscriber] of the rows to write
    (subscriber filled by resolve_lines)."""

    def __init__(self, data):
        self.data = data
        self.encoding = detect_encoding(data)
        self.problems = Problems()
        self.header_ok = False
        self.imported = 0
        self.rows = []
        self.total = 0
        self.repeated = 0
        self.existing = 0

    def parse(self):
        problems = self.problems
        text = io.TextIOWrapper(io.BytesIO(self.data),
            encoding=self.encoding, newline='')
        reader = csv.reader(text)
        header = None
        try:
            for cells in reader:
                if any(c.strip() for c in cells):
                    header = cells
                    break
        except csv.Error as exception:
            problems.add(reader.line_num, None, '',
                'msg_usage_problem_csv', error=str(exception))
            return self
        if header is None:
            problems.add(1, None, '', 'msg_usage_problem_no_header')
            return self
        header_line = reader.line_num
        index, names = {}, {}
        for i, cell in enumerate(header):
            column = HEADER_NAMES.get(_header_name(cell))
            if column is None:
                continue   # columns the import does not use
            if column in index:
                problems.add(header_line, None, '',
                    'msg_usage_problem_column_twice', column=cell.strip())
            index[column] = i
            names[column] = cell.strip()
        if not index:
            problems.add(header_line, None, '', 'msg_usage_problem_no_header')
            return self
        for column in REQUIRED_COLUMNS:
            if column not in index:
                problems.add(header_line, None, '',
                    'msg_usage_problem_column_missing',
                    column=' / '.join(COLUMNS[column]))
        if problems:
            return self
        self.header_ok = True
        width = len(header)
        # absent optional columns read the empty cell appended to each row
        get = {c: index.get(c, width) for c in COLUMNS}
        self.names = {c: names.get(c, COLUMNS[c][0]) for c in COLUMNS}
        problems.columns = {names[c]: i for c, i in index.items()}
        try:
            needed = self._parse_rows(reader, width, get)
        except csv.Error as exception:
            problems.add(reader.line_num, None, '',
                'msg_usage_problem_csv', error=str(exception))
        else:
            # a file with calls needs the duration column, one with data
            # the volume column: said once rather than on every row
            for column in needed:
                problems.add(header_line, None, '',
                    'msg_usage_problem_column_missing',
                    column=' / '.join(COLUMNS[column]))
        return self

    def _parse_rows(self, reader, width, get):
        problems = self.problems
        add = problems.add
        names = self.names
        rows = self.rows
        append = rows.append
        seen = set()
        i_record, i_number, i_type, i_start, i_duration, i_volume, \
            i_other, i_roaming, i_charge = [get[c] for c in COLUMNS]
        has_duration = i_duration != width
        has_volume = i_volume != width
        msisdn = MSISDN.match
        types = TYPES
        roamings = ROAMING
        sha1 = hashlib.sha1
        needed = set()
        total = 0

        def quantity(cells, line, type_, present, index, column, needed_by):
            """Seconds or KB of a row: a whole number, not negative, and
            required by one type; returns (value, ok)"""
            if not present:
                if type_ == needed_by:
                    needed.add(column)
                    return None, False
                return None, True
            value = cells[index]
            if not value:
                if type_ == needed_by:
                    add(line, names[column], value,
                        'msg_usage_problem_%s_required' % column)
                    return None, False
                return None, True
            try:
                amount = int(value)
            except ValueError:
                add(line, names[column], value, 'msg_usage_problem_integer')
                return None, False
            if amount < 0:
                add(line, names[column], value, 'msg_usage_problem_negative')
                return None, False
            return amount, True

        for cells in reader:
            line = reader.line_num
            count = len(cells)
            if count != width:
                if not any(c.strip() for c in cells):
                    continue   # blank line
                if count > width and any(c.strip() for c in cells[width:]):
                    add(line, None, '', 'msg_usage_problem_cells',
                        cells=count, columns=width)
                    total += 1
                    continue
                cells = (cells + [''] * width)[:width]
            cells.append('')
            total += 1
            ok = True

            value = cells[i_number]
            number = value
            if not (len(number) == 11 and number.isdigit()
                    and msisdn(number)):
                number = compact_msisdn(value)
                if not number:
                    add(line, names['number'], value,
                        'msg_usage_problem_required')
                    ok = False
                    number = None
                elif not msisdn(number):
                    add(line, names['number'], value,
                        'msg_usage_problem_number_format')
                    ok = False
                    number = None

            value = cells[i_type]
            type_ = types.get(value) or types.get(value.strip().lower())
            if not type_:
                add(line, names['type'], value,
                    'msg_usage_problem_required' if not value.strip()
                    else 'msg_usage_problem_type')
                ok = False

            value = cells[i_start]
            start = parse_start(value)
            if start is None:
                add(line, names['start'], value,
                    'msg_usage_problem_required' if not value.strip()
                    else 'msg_usage_problem_start')
                ok = False

            duration, duration_ok = quantity(cells, line, type_,
                has_duration, i_duration, 'duration', 'voice')
            volume, volume_ok = quantity(cells, line, type_,
                has_volume, i_volume, 'volume', 'data')
            ok = ok and duration_ok and volume_ok

            value = cells[i_roaming]
            roaming = roamings.get(value)
            if roaming is None:
                roaming = roamings.get(value.strip().lower())
                if roaming is None:
                    add(line, names['roaming'], value,
                        'msg_usage_problem_roaming')
                    ok = False

            charge = None
            value = cells[i_charge]
            if value and value.strip():
                try:
                    charge = Decimal(value.strip())
                    if (not charge.is_finite() or charge < 0
                            or charge != charge.quantize(CENT)):
                        raise InvalidOperation
                    charge = charge.quantize(CENT)
                except InvalidOperation:
                    add(line, names['charge'], value,
                        'msg_usage_problem_charge')
                    ok = False
                    charge = None

            other = cells[i_other].strip() or None
            if not ok:
                if number is not None:
                    # still tell whether the number is known
                    append([line, number, None, start])
                continue
            if type_ == 'voice':
                units = -(-duration // 60)
            elif type_ == 'sms':
                units = 1
            else:
                units = volume
            key = cells[i_record].strip()
            if not key:
                key = sha1(('%s|%s|%s|%s|%s|%s|%d' % (number, type_,
                            start.isoformat(' '),
                            '' if duration is None else duration,
                            '' if volume is None else volume,
                            other or '', roaming)).encode()).hexdigest()
            if key in seen:
                self.repeated += 1
                continue
            seen.add(key)
            append([line, number, type_, start, duration, volume, other,
                    roaming, charge, units, key, None])
        self.total = total
        return sorted(needed)

    def resolve_lines(self):
        """The line (subscriber) of each row's number in service on the
        day of use, one query per NUMBER_BATCH distinct numbers"""
        pool = Pool()
        Number = pool.get('telecom.number')
        Subscriber = pool.get('telecom.subscriber')
        number = Number.__table__()
        subscriber = Subscriber.__table__()
        cursor = Transaction().connection.cursor()
        numbers = sorted({r[1] for r in self.rows})
        lines = {}   # number -> [(activation, termination, subscriber)]
        for batch in grouped_slice(numbers, NUMBER_BATCH):
            _lookup(cursor, number.join(subscriber, 'LEFT',
                    condition=(subscriber.number == number.id)
                    & (subscriber.activation_date != Null)
                    ).select(number.number, subscriber.activation_date,
                    subscriber.termination_date, subscriber.id,
                    where=SQL_OPERATORS['in'](number.number, list(batch))))
            for msisdn, activation, termination, sub_id in cursor:
                periods = lines.setdefault(msisdn, [])
                if sub_id is not None:
                    if isinstance(activation, str):
                        activation = dt.date.fromisoformat(activation)
                    if isinstance(termination, str):
                        termination = dt.date.fromisoformat(termination)
                    periods.append((activation, termination, sub_id))
        for periods in lines.values():
            # the latest activation wins on a day a number changed hands
            periods.sort(reverse=True)
        add = self.problems.add
        name = self.names['number']
        for row in self.rows:
            periods = lines.get(row[1])
            if periods is None:
                add(row[0], name, row[1], 'msg_usage_problem_number_unknown')
                continue
            start = row[3]
            if start is None:
                continue
            day = start.date()
            for activation, termination, sub_id in periods:
                if activation <= day and (
                        termination is None or termination >= day):
                    if len(row) > 11:
                        row[11] = sub_id
                    break
            else:
                add(row[0], name, row[1],
                    'msg_usage_problem_not_in_service', date=day.isoformat())
        return self

    def drop_existing(self):
        "Rows whose source key is already in the database are skipped"
        Usage = Pool().get('telecom.usage')
        usage = Usage.__table__()
        cursor = Transaction().connection.cursor()
        # in key order, the lookups and then the inserts into the unique
        # index of the keys touch neighbouring pages instead of random ones
        self.rows.sort(key=itemgetter(10))
        keys = [r[10] for r in self.rows]
        existing = set()
        for batch in grouped_slice(keys, KEY_BATCH.get(backend.name, 1000)):
            _lookup(cursor, usage.select(usage.source_key,
                    where=SQL_OPERATORS['in'](usage.source_key,
                        list(batch))))
            existing.update(k for k, in cursor)
        if existing:
            self.rows = [r for r in self.rows if r[10] not in existing]
            self.existing = len(existing)
        return self

    def write(self, import_id=None):
        "Insert the rows, set-based; return how many"
        pool = Pool()
        Usage = pool.get('telecom.usage')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = Usage._table
        user = transaction.user
        now = dt.datetime.now()
        rows = self.rows
        columns = ['subscriber', 'type', 'roaming', 'other_party', 'start',
            'duration', 'volume', 'units', 'charge', 'source_key',
            'import_', 'create_uid', 'create_date']
        if not rows:
            return 0
        try:
            if backend.name == 'postgresql':
                ids = _allocate_ids(cursor, table, len(rows))
                sql = 'COPY "%s" (id, %s) FROM STDIN' % (
                    table, ', '.join('"%s"' % c for c in columns))
                with cursor.copy(sql) as copy:
                    write_row = copy.write_row
                    for id_, (_, number, type_, start, duration, volume,
                            other, roaming, charge, units, key,
                            subscriber) in zip(ids, rows):
                        write_row((id_, subscriber, type_, roaming, other,
                                start, duration, volume, units, charge, key,
                                import_id, user, now))
                if len(rows) >= ANALYZE_ROWS:
                    cursor.execute('ANALYZE "%s"' % table)
            else:
                sql_table = Table(table)
                sql_columns = [getattr(sql_table, c) for c in columns]
                step = 999 // len(columns)
                for i in range(0, len(rows), step):
                    cursor.execute(*sql_table.insert(sql_columns, [
                                (subscriber, type_, roaming, other, start,
                                    duration, volume, units, charge, key,
                                    import_id, user, now)
                                for (_, number, type_, start, duration,
                                    volume, other, roaming, charge, units,
                                    key, subscriber) in rows[i:i + step]]))
        except backend.DatabaseIntegrityError as exception:
            # another import wrote some of these records meanwhile
            raise UsageImportError(gettext(
                    'crm_billing.msg_usage_import_concurrent')) from exception
        return len(rows)


def _lookup(cursor, query):
    "Execute a lookup by a batch of values"
    if backend.name == 'postgresql':
        # never a prepared statement: a generic plan made while the table
        # was empty stays a scan comparing every row with every value
        cursor.execute(*query, prepare=False)
    else:
        cursor.execute(*query)


def _allocate_ids(cursor, table, count):
    "count ids from the table's sequence, in one round trip"
    # the sequence is looked up once: per row it would cost more than
    # the insert
    cursor.execute("SELECT pg_get_serial_sequence(format('%%I', %s::text), "
        "'id')", (table,))
    sequence, = cursor.fetchone()
    cursor.execute("SELECT array_agg(nextval(%s::regclass)) "
        "FROM generate_series(1, %s)", (sequence, count))
    ids, = cursor.fetchone()
    return ids


def import_csv(data, import_=None):
    """Check then write a usage file (bytes); return the checked file.
    Raise UsageImportError listing every problem, writing nothing."""
    ModelAccess = Pool().get('ir.model.access')
    ModelAccess.check('telecom.usage', 'create')
    if import_ is not None and import_.state != 'draft':
        raise UsageImportError(gettext(
                'crm_billing.msg_usage_import_done', name=import_.rec_name))
    with _no_gc():
        file = UsageFile(data or b'').parse()
        if file.header_ok:
            file.resolve_lines()
        if file.problems:
            raise file.problems.error()
        file.drop_existing()
        file.imported = file.write(import_.id if import_ else None)
    return file


@contextlib.contextmanager
def _no_gc():
    "Millions of rows hold no cycles: collecting would only rescan them"
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class UsageImport(Workflow, ModelSQL, ModelView):
    "Usage file import: one CSV file of usage records, imported whole"
    __name__ = 'telecom.usage.import'

    name = fields.Char("File Name", required=True,
        states={'readonly': Eval('state') != 'draft'})
    file = fields.Binary("File", filename='name', file_id='file_id',
        states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('state') == 'draft',
            })
    file_id = fields.Char("File ID", readonly=True)
    encoding = fields.Selection(ENCODINGS, "Encoding", readonly=True,
        help="Detected when the file is imported.")
    state = fields.Selection([
            ('draft', "Draft"),
            ('done', "Done"),
            ], "State", required=True, readonly=True, sort=False)
    rows = fields.Integer("Rows", readonly=True,
        help="Records in the file.")
    imported = fields.Integer("Imported", readonly=True)
    skipped = fields.Integer("Skipped", readonly=True,
        help="Records already imported, or repeated in the file.")
    imported_at = fields.DateTime("Imported At", readonly=True)
    imported_by = fields.Many2One('res.user', "Imported By", readonly=True,
        ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'done'),
            }
        cls._buttons.update({
                'import_': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-import',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def check_modification(cls, mode, imports, values=None, external=False):
        super().check_modification(
            mode, imports, values=values, external=external)
        if mode == 'delete':
            for import_ in imports:
                if import_.state != 'draft':
                    raise UsageImportError(gettext(
                            'crm_billing.msg_usage_import_delete',
                            name=import_.rec_name))

    @classmethod
    def copy(cls, imports, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('state', 'draft')
        for name in ['encoding', 'rows', 'imported', 'skipped',
                'imported_at', 'imported_by']:
            default.setdefault(name, None)
        return super().copy(imports, default=default)

    @classmethod
    @ModelView.button
    def import_(cls, imports):
        Usage = Pool().get('telecom.usage')
        for import_ in imports:
            Usage.import_csv(import_.file, import_=import_)

    def done(self, file):
        "Record the outcome of the import of its file"
        self.write([self], {
                'state': 'done',
                'encoding': file.encoding,
                'rows': file.total,
                'imported': file.imported,
                'skipped': file.repeated + file.existing,
                'imported_at': dt.datetime.now(),
                'imported_by': Transaction().user or None,
                })
