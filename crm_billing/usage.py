import zlib

from sql.aggregate import Max
from sql.operators import Exists

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.company import company_currency

from .exceptions import UsageImportError

USAGE_TYPES = [
    ('voice', "Voice"),
    ('sms', "SMS"),
    ('data', "Data"),
    ]
# PostgreSQL advisory lock: writers of usage share it, a bill run fixing
# its watermark takes it alone
WRITE_LOCK = zlib.crc32(b'telecom_usage')


class Usage(ModelSQL, ModelView):
    "Usage record (call, message or data session) of a line"
    __name__ = 'telecom.usage'

    subscriber = fields.Many2One('telecom.subscriber', "Line", required=True,
        ondelete='RESTRICT', readonly=True)
    type = fields.Selection(USAGE_TYPES, "Type", required=True,
        readonly=True)
    roaming = fields.Boolean("Roaming", readonly=True)
    other_party = fields.Char("Other Party", readonly=True)
    start = fields.DateTime("Start", required=True, readonly=True)
    duration = fields.Integer("Duration (s)", readonly=True)
    volume = fields.Integer("Volume (KB)", readonly=True)
    units = fields.Integer("Units", required=True, readonly=True,
        help="What rating counts: started minutes, messages or KB.")
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')
    charge = Monetary("Pre-Rated Charge", currency='currency',
        digits='currency',
        readonly=True, help="Set when the record arrived already rated.")
    source_key = fields.Char("Source Key", required=True, readonly=True,
        help="Record identity in the exchanged files: a re-import skips it.")
    bill_line = fields.Function(fields.Many2One('telecom.bill.line',
            "Bill Line"), 'get_bill_line', searcher='search_bill_line')
    billed = fields.Function(fields.Boolean("Billed"), 'get_billed',
        searcher='search_billed')
    import_ = fields.Many2One('telecom.usage.import', "Import",
        readonly=True, ondelete='RESTRICT',
        help="The file the record came from.")
    type_string = type.translated('type')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('subscriber')
        t = cls.__table__()
        cls._sql_constraints = [
            ('source_key_unique', Unique(t, t.source_key),
                'crm_billing.msg_usage_source_key_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.subscriber, Index.Range()),
                    (t.start, Index.Range())),
                Index(t, (t.import_, Index.Range())),
                })
        cls._order = [('start', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_roaming(cls):
        return False

    @fields.depends('subscriber', '_parent_subscriber.company')
    def on_change_with_currency(self, name=None):
        if self.subscriber:
            return company_currency(self.subscriber.company)

    @classmethod
    def _charged(cls, usage):
        "usage joined to the bill lines that charged it"
        from .rating import usage_of_line
        pool = Pool()
        line = pool.get('telecom.bill.line').__table__()
        bill = pool.get('telecom.bill').__table__()
        return line, usage.join(line, condition=usage.subscriber
            == line.subscriber).join(bill, condition=(bill.id == line.bill)
            & usage_of_line(usage, line, bill))

    @classmethod
    def get_bill_line(cls, usages, name):
        usage = cls.__table__()
        line, join = cls._charged(usage)
        cursor = Transaction().connection.cursor()
        result = dict.fromkeys((u.id for u in usages), None)
        for sub_ids in grouped_slice(list(result)):
            cursor.execute(*join.select(usage.id, line.id,
                    where=usage.id.in_(list(sub_ids))))
            result.update(cursor)
        return result

    @classmethod
    def search_bill_line(cls, name, clause):
        """The records a bill line charged: derived from the line (its
        line, kind and days) and its bill's watermarks"""
        Line = Pool().get('telecom.bill.line')
        usage = cls.__table__()
        line, join = cls._charged(usage)
        _, operator, value = clause[:3]
        nested = clause[0][len(name) + 1:]
        if not nested and value is None and operator in {'=', '!='}:
            outer = cls.__table__()
            charged = Exists(join.select(line.id, where=usage.id == outer.id))
            return [('id', 'in', outer.select(outer.id,
                        where=charged if operator == '!=' else ~charged))]
        domain = [((nested or 'id'),) + tuple(clause[1:])]
        lines = Line.search(domain, order=[], query=True)
        return [('id', 'in', join.select(usage.id,
                    where=line.id.in_(lines)))]

    def get_billed(self, name):
        return self.bill_line is not None

    @classmethod
    def search_billed(cls, name, clause):
        _, operator, value = clause
        if operator not in {'=', '!='}:
            return []
        billed = bool(value) == (operator == '=')
        return [('bill_line', '!=' if billed else '=', None)]

    @classmethod
    def create(cls, vlist):
        cls.lock_writing()
        return super().create(vlist)

    @classmethod
    def lock_writing(cls):
        "Writers of usage call this first: a bill run fixing its last record"
        if backend.name == 'postgresql':
            Transaction().connection.cursor().execute(
                'SELECT pg_advisory_xact_lock_shared(%s)', (WRITE_LOCK,))

    @classmethod
    def last_written(cls):
        """Id of the last usage record written: every record up to it is
        committed and every later one gets a greater id, since the writers
        wait for the caller's commit (lock_writing)"""
        cursor = Transaction().connection.cursor()
        if backend.name == 'postgresql':
            cursor.execute('SELECT pg_advisory_xact_lock(%s)', (WRITE_LOCK,))
            # the sequence, not the table: this transaction's snapshot may
            # predate the writers it waited for
            cursor.execute('SELECT pg_get_serial_sequence(%s, %s)',
                (cls._table, 'id'))
            sequence, = cursor.fetchone()
            cursor.execute('SELECT last_value, is_called FROM %s' % sequence)
            last, called = cursor.fetchone()
            return last if called else 0
        usage = cls.__table__()
        cursor.execute(*usage.select(Max(usage.id)))
        return cursor.fetchone()[0] or 0

    @classmethod
    def import_csv(cls, data, import_=None):
        """Import a switch's CSV file (bytes, UTF-8 with or without BOM, or
        GBK): every row, or none when a row is wrong; return (imported,
        skipped).

        Raise UsageImportError listing each problem (line, field, value).
        Records already imported or repeated in the file are skipped.
        With import_ (a draft telecom.usage.import holding the file) the
        records are linked to it and it records the outcome, in the
        caller's transaction (not through the queue)."""
        UsageImport = Pool().get('telecom.usage.import')
        if import_ is None:
            file = UsageImport(file=data, format='switch',
                state='draft').load()
            return file.imported, file.skipped
        if import_.state != 'draft':
            raise UsageImportError(gettext(
                    'crm_billing.msg_usage_import_done',
                    name=import_.rec_name))
        UsageImport.process([import_], commit=False)
        import_ = UsageImport(import_.id)
        if import_.state == 'failed':
            raise UsageImportError(import_.problems)
        return import_.imported, import_.skipped
