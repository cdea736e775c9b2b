from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool

from crm_telecom.company import company_currency

from .exceptions import UsageImportError

USAGE_TYPES = [
    ('voice', "Voice"),
    ('sms', "SMS"),
    ('data', "Data"),
    ]


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
    bill_line = fields.Many2One('telecom.bill.line', "Bill Line",
        readonly=True, ondelete='SET NULL')
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
                # unbilled records (every new import) cost no index entry
                Index(t, (t.bill_line, Index.Range()),
                    where=t.bill_line != None),  # noqa: E711
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
