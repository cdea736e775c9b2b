"""Import of usage record files as operators exchange them.

An import record keeps the file, its format and the outcome; the wizard
creates one from a file the user chooses and imports it at once. Each
format has its parse_<format> method, which turns the rows of a file into
UsageRow records (a module adds a format by extending the selection and
adding its method). Whatever the format, the import is all or nothing:
every problem is listed (line, field, value) and nothing is written.
Each record has a source key (its record id, or a hash of its fields):
keys already in the database or repeated in the file are skipped, so
importing a file twice adds nothing the second time."""
import datetime as dt
import hashlib

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateView, Wizard

from .exceptions import UsageImportError
from .usage_file import ENCODINGS, UsageFile, UsageRow, no_gc, parse_start

FORMATS = [
    ('switch', "Switch CSV"),
    ('partner', "Partner Network CSV"),
    ]

# a switch (mediation) file: column -> accepted header names
SWITCH_COLUMNS = {
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
SWITCH_REQUIRED = ['number', 'type', 'start']
SWITCH_TYPES = {
    'voice': 'voice', 'sms': 'sms', 'data': 'data',
    '语音': 'voice', '短信': 'sms', '流量': 'data', '上网': 'data',
    }

# a partner network's file of our subscribers' roaming, rated by the
# partner: its own record ids, service codes, compact times and bytes
PARTNER_COLUMNS = {
    'partner': ('partner', '合作方'),
    'record_id': ('record_id', '话单编号'),
    'number': ('msisdn', 'number', '号码'),
    'service': ('service', '业务'),
    'start': ('start', '开始时间'),
    'duration': ('duration', '时长'),
    'bytes': ('bytes', '字节数'),
    'other_party': ('other_party', '对端号码'),
    'charge': ('charge', '费用'),
    }
PARTNER_REQUIRED = ['partner', 'record_id', 'number', 'service', 'start',
    'charge']
PARTNER_SERVICES = {
    'moc': 'voice', 'mtc': 'voice', 'voice': 'voice', '语音': 'voice',
    'sms': 'sms', 'smsmo': 'sms', '短信': 'sms',
    'gprs': 'data', 'data': 'data', '流量': 'data',
    }


def started_units(type_, duration, volume):
    "What rating counts: started minutes, one per message, KB"
    if type_ == 'voice':
        return -(-duration // 60)
    if type_ == 'sms':
        return 1
    return volume


def parse_compact_start(value):
    "A start time like 20261103140509 (or as a switch writes it), or None"
    value = value.strip()
    if len(value) == 14 and value.isdigit():
        try:
            return dt.datetime.strptime(value, '%Y%m%d%H%M%S')
        except ValueError:
            return None
    return parse_start(value)


class UsageImport(Workflow, ModelSQL, ModelView):
    "Usage file import: one file of usage records, imported whole"
    __name__ = 'telecom.usage.import'

    name = fields.Char("File Name", required=True,
        states={'readonly': Eval('state') != 'draft'})
    file = fields.Binary("File", filename='name', file_id='file_id',
        states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('state') == 'draft',
            })
    file_id = fields.Char("File ID", readonly=True)
    format = fields.Selection(FORMATS, "Format", required=True,
        states={'readonly': Eval('state') != 'draft'},
        help="Who wrote the file, which decides its columns.")
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
    def default_format(cls):
        return 'switch'

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
        for name in ['encoding', 'rows', 'imported', 'skipped',
                'imported_at', 'imported_by']:
            default.setdefault(name, None)
        return super().copy(imports, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def import_(cls, imports):
        # the same import pressed twice at once is imported once
        cls.lock(imports)
        for import_ in imports:
            file = import_.load()
            import_.encoding = file.encoding
            import_.rows = file.total
            import_.imported = file.imported
            import_.skipped = file.skipped
            import_.imported_at = dt.datetime.now()
            import_.imported_by = Transaction().user or None
        cls.save(imports)

    def load(self):
        """Check then write the file; return the UsageFile.
        Raise UsageImportError listing every problem, writing nothing."""
        ModelAccess = Pool().get('ir.model.access')
        ModelAccess.check('telecom.usage', 'create')
        if self.state != 'draft':
            raise UsageImportError(gettext(
                    'crm_billing.msg_usage_import_done', name=self.rec_name))
        with no_gc():
            file = UsageFile(self.file)
            getattr(self, 'parse_%s' % self.format)(file)
            if file.header_ok:
                file.resolve_lines()
            if file.problems:
                raise file.problems.error()
            file.drop_existing()
            file.write(self.id)
        return file

    def parse_switch(self, file):
        """A switch's CSV: number, type, start, duration (s), volume (KB),
        other party, roaming flag, pre-rated charge and the switch's record
        id, in any order, headers in Chinese or English"""
        add, check_number = file.add, file.check_number
        sha1 = hashlib.sha1
        for record in file.records(SWITCH_COLUMNS, SWITCH_REQUIRED):
            number = record.number('number')
            type_ = record.choice('type', SWITCH_TYPES,
                'msg_usage_problem_type')
            start = record.start('start')
            duration = record.whole('duration', required=(
                    'msg_usage_problem_duration_required'
                    if type_ == 'voice' else None))
            volume = record.whole('volume', required=(
                    'msg_usage_problem_volume_required'
                    if type_ == 'data' else None))
            roaming = record.flag('roaming')
            charge = record.amount('charge')
            other = record.text('other_party')
            if not record.ok:
                check_number(record, number, start)
                continue
            key = record.text('record_id') or sha1(
                ('%s|%s|%s|%s|%s|%s|%d' % (number, type_,
                        start.isoformat(' '),
                        '' if duration is None else duration,
                        '' if volume is None else volume,
                        other or '', roaming)).encode()).hexdigest()
            add(UsageRow(record.line, number, type_, start, duration, volume,
                    other, roaming, charge,
                    started_units(type_, duration, volume), key))

    def parse_partner(self, file):
        """A partner network's CSV of roaming usage it rated: partner code,
        its record id, number (MSISDN, 86 first or not), service (MOC, MTC, SMS, GPRS), start
        (20261103140509), duration (s), bytes, other party, charge (yuan).
        Every record is roaming and keeps the partner's charge."""
        add, check_number = file.add, file.check_number
        for record in file.records(PARTNER_COLUMNS, PARTNER_REQUIRED):
            partner = record.text('partner',
                required='msg_usage_problem_required')
            record_id = record.text('record_id',
                required='msg_usage_problem_required')
            number = record.number('number', international=True)
            type_ = record.choice('service', PARTNER_SERVICES,
                'msg_usage_problem_service')
            start = record.start('start', parse=parse_compact_start,
                message='msg_usage_problem_compact_start')
            duration = record.whole('duration', required=(
                    'msg_usage_problem_duration_required'
                    if type_ == 'voice' else None))
            size = record.whole('bytes', required=(
                    'msg_usage_problem_bytes_required'
                    if type_ == 'data' else None))
            charge = record.amount('charge',
                required='msg_usage_problem_charge_required')
            other = record.text('other_party')
            if not record.ok:
                check_number(record, number, start)
                continue
            volume = -(-size // 1024) if size is not None else None
            add(UsageRow(record.line, number, type_, start, duration, volume,
                    other, True, charge,
                    started_units(type_, duration, volume),
                    '%s/%s' % (partner, record_id)))


class UsageImportFileStart(ModelView):
    "Import Usage File"
    __name__ = 'telecom.usage.import_file.start'

    file = fields.Binary("File", filename='name', required=True)
    name = fields.Char("File Name", required=True)
    format = fields.Selection('get_formats', "Format", required=True,
        help="Who wrote the file, which decides its columns.")

    @classmethod
    def get_formats(cls):
        UsageImport = Pool().get('telecom.usage.import')
        return UsageImport.fields_get(['format'])['format']['selection']

    @classmethod
    def default_format(cls):
        return Pool().get('telecom.usage.import').default_format()


class UsageImportFile(Wizard):
    """Import Usage File: the file becomes an import record, imported at
    once; a file with a problem leaves nothing behind"""
    __name__ = 'telecom.usage.import_file'

    start = StateView('telecom.usage.import_file.start',
        'crm_billing.usage_import_file_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateAction('crm_billing.act_usage_import_form')

    def do_import_(self, action):
        UsageImport = Pool().get('telecom.usage.import')
        import_, = UsageImport.create([{
                    'name': self.start.name,
                    'file': self.start.file,
                    'format': self.start.format,
                    }])
        UsageImport.import_([import_])
        self.start.file = None
        action['views'].reverse()
        return action, {'res_id': [import_.id]}
