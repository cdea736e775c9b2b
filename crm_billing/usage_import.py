"""Import of usage record files as operators exchange them.

An import record keeps the file, its format and the outcome; the wizard
creates one from a file the user chooses and presses Import. Import hands
the file to the queue (queued): the task reads it (running, the rows read
written every PROGRESS_ROWS rows in a short transaction of their own, so
the form shows them while the import runs) and writes the usage as it
reads (PostgreSQL), the usage and the outcome one transaction (done), or
records the problems (failed) and writes nothing; the user who pressed
Import is notified either way. Each
format has its parse_<format> method, which reads the rows of a file by
chunks (UsageFile.chunks), checks them column by column (the readers of
Cells) and hands the values to UsageFile.add (a module adds a format by
extending the selection and adding its method). Whatever the format, the
import is all or nothing: every problem is listed (line, field, value) and
nothing is written.
Each record has a source key (its record id, or a hash of its fields):
keys already in the database or repeated in the file are skipped, so
importing a file twice adds nothing the second time."""
import datetime as dt
import hashlib

from trytond import backend, config
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateView, Wizard

from crm_telecom.sql_tools import clear_cache
from crm_telecom.workflow import BulkWorkflow

from .exceptions import UsageImportError
from .usage_file import ENCODINGS, UsageFile, no_gc, parse_start

# rows read between two writes of the progress of a running import
PROGRESS_ROWS = 20_000

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


def parse_compact_start(value):
    "A start time like 20261103140509 (or as a switch writes it), or None"
    value = value.strip()
    if len(value) == 14 and value.isdigit():
        try:
            return dt.datetime.strptime(value, '%Y%m%d%H%M%S')
        except ValueError:
            return None
    return parse_start(value)


class ProgressFile(UsageFile):
    """A usage file that calls report(rows read) every step rows read
    (whatever the format: its parse method reads through chunks)"""

    def __init__(self, data, report=None, step=None, stream=True):
        super().__init__(data)
        self.stream = self.stream and stream
        self.report = report
        self.step = step or PROGRESS_ROWS
        self.chunk_rows = min(self.chunk_rows, self.step)

    def chunks(self, columns, required):
        chunks = super().chunks(columns, required)
        if self.report is None:
            yield from chunks
            return
        next_report = self.step
        for cells in chunks:
            if self.total >= next_report:
                self.report(self.total)
                next_report = (self.total // self.step + 1) * self.step
            yield cells


def count_lines(data):
    "The rows of a file before it is read: its lines but the header"
    data = data or b''
    lines = data.count(b'\n') + (1 if data and not data.endswith(b'\n')
        else 0)
    return max(lines - 1, 0)


class UsageImport(BulkWorkflow, ModelSQL, ModelView):
    "Usage file import: one file of usage records, imported whole"
    __name__ = 'telecom.usage.import'

    name = fields.Char("File Name", required=True,
        states={'readonly': ~Eval('state').in_(['draft', 'failed'])})
    file = fields.Binary("File", filename='name', file_id='file_id',
        states={
            'readonly': ~Eval('state').in_(['draft', 'failed']),
            'required': Eval('state').in_(['draft', 'failed']),
            },
        help="A failed import takes a corrected file and is imported "
        "again.")
    file_id = fields.Char("File ID", readonly=True)
    format = fields.Selection(FORMATS, "Format", required=True,
        states={'readonly': ~Eval('state').in_(['draft', 'failed'])},
        help="Who wrote the file, which decides its columns.")
    encoding = fields.Selection(ENCODINGS, "Encoding", readonly=True,
        help="Detected when the file is imported.")
    state = fields.Selection([
            ('draft', "Draft"),
            ('queued', "Queued"),
            ('running', "Running"),
            ('done', "Done"),
            ('failed', "Failed"),
            ], "State", required=True, readonly=True, sort=False)
    rows = fields.Integer("Rows", readonly=True,
        help="Records in the file (while it is read: its lines).")
    rows_read = fields.Integer("Rows Read", readonly=True,
        help="Records read so far.")
    progress = fields.Function(fields.Float("Progress"), 'get_progress')
    problems = fields.Text("Problems", readonly=True,
        states={'invisible': ~Eval('problems')},
        help="Why the file was not imported: correct the file and import "
        "it again.")
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
            ('draft', 'queued'),
            ('failed', 'queued'),
            # run again: a task that died left the import running or queued
            ('running', 'queued'),
            ('queued', 'queued'),
            # a task takes it; the command line and the demo run a draft
            ('queued', 'running'),
            ('draft', 'running'),
            ('failed', 'running'),
            ('running', 'done'),
            ('running', 'failed'),
            }
        cls._buttons.update({
                'import_': {
                    'invisible': ~Eval('state').in_(['draft', 'failed']),
                    'icon': 'tryton-import',
                    'depends': ['state'],
                    },
                'run_again': {
                    'invisible': ~Eval('state').in_(['queued', 'running']),
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_format(cls):
        return 'switch'

    def get_progress(self, name):
        if self.state == 'done':
            return 1.0
        if not self.rows or not self.rows_read:
            return 0.0
        return min(self.rows_read / self.rows, 1.0)

    @classmethod
    def check_modification(cls, mode, imports, values=None, external=False):
        super().check_modification(
            mode, imports, values=values, external=external)
        if mode == 'delete':
            for import_ in imports:
                if import_.state not in {'draft', 'failed'}:
                    raise UsageImportError(gettext(
                            'crm_billing.msg_usage_import_delete',
                            name=import_.rec_name))

    @classmethod
    def copy(cls, imports, default=None):
        default = default.copy() if default is not None else {}
        for name in ['encoding', 'rows', 'rows_read', 'imported', 'skipped',
                'imported_at', 'imported_by', 'problems']:
            default.setdefault(name, None)
        return super().copy(imports, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('queued')
    def import_(cls, imports):
        "Hand the files to the queue: the request returns at once"
        ModelAccess = Pool().get('ir.model.access')
        ModelAccess.check('telecom.usage', 'create')
        # the same import pressed twice at once is queued once
        cls.lock(imports)
        cls.write(imports, {
                'encoding': None,
                'rows': None,
                'rows_read': 0,
                'imported': None,
                'skipped': None,
                'imported_at': None,
                'problems': None,
                'imported_by': Transaction().user or None,
                })
        cls.__queue__.process(imports)

    @classmethod
    @ModelView.button
    @Workflow.transition('queued')
    def run_again(cls, imports):
        """Queue again an import whose task died: it wrote no usage, and a
        task still running it is left alone"""
        ModelAccess = Pool().get('ir.model.access')
        ModelAccess.check('telecom.usage', 'create')
        cls.__queue__.process(imports)

    @classmethod
    def process(cls, imports, commit=True):
        """Import each file: the queue's task (commit), or the caller's
        transaction for the command line and the demo (commit=False).

        With commit, the import is taken (running) in a commit of its own,
        the rows read are written in short transactions of their own while
        the file is read, and the usage and the outcome are one transaction:
        a crash leaves no usage and the import can be run again; a file
        with problems rolls back whatever was written and ends failed. An
        import someone else took, or already done, is left alone."""
        pool = Pool()
        User = pool.get('res.user')
        transaction = Transaction()
        # the caller's imports may be drafts; a task only takes queued ones
        claimable = ['queued'] if commit else ['draft', 'queued', 'failed']
        for import_ in imports:
            import_ = cls(import_.id)
            language = transaction.context.get('language')
            if not language:
                # the queue drops the language: problems and notification
                # in the language of whoever pressed Import
                user = import_.imported_by or User(transaction.user)
                language = (user.language.code if user.language
                    else config.get('database', 'language'))
            with transaction.set_context(language=language):
                cls._process_one(import_, claimable, commit)
            if commit:
                transaction.commit()

    @classmethod
    def _process_one(cls, import_, claimable, commit):
        transaction = Transaction()
        data = import_.file
        # the first to take it imports it: another task waits for the
        # commit of the claim, then finds it taken
        if not cls.transition_rows('running', ids=[import_.id],
                from_states=claimable, rows=count_lines(data), rows_read=0,
                problems=None):
            return
        if commit:
            # others see it running; no usage is written yet
            transaction.commit()
            if backend.name == 'postgresql':
                # the rows read are committed by transactions of their own
                # while this one writes the usage: the outcome is written
                # over them, not refused as a concurrent update
                transaction.connection.cursor().execute(
                    'SET TRANSACTION ISOLATION LEVEL READ COMMITTED')
        import_ = cls(import_.id)
        file = None
        try:
            # streamed in a transaction of its own only: in the caller's,
            # the usage is written once the whole file is checked
            file = ProgressFile(data, import_._progress_writer(commit),
                stream=commit)
            import_.load(file)
        except UsageImportError as error:
            if commit:
                transaction.rollback()
            elif file is not None and not file.problems:
                # the writing failed half-way in the caller's transaction
                raise
            import_ = cls(import_.id)
            cls.fail([import_], file, error.message)
        except Exception:
            if commit:
                # queued again, in case the queue runs it again
                transaction.rollback()
                cls.transition_rows('queued', ids=[import_.id],
                    from_states=['running'])
                transaction.commit()
            raise
        else:
            cls.finish([import_], file)

    def _progress_writer(self, commit):
        """A function writing the rows read: in a short transaction of its
        own when commit (seen at once by other transactions)"""
        table = self.__table__()
        id_ = self.id

        def write(cursor, count):
            cursor.execute(*table.update([table.rows_read], [count],
                    where=table.id == id_))

        def report(count):
            if commit:
                with Transaction().new_transaction() as transaction:
                    write(transaction.connection.cursor(), count)
            else:
                write(Transaction().connection.cursor(), count)
                clear_cache(self.__class__, [id_])
        return report

    @classmethod
    @Workflow.transition('done')
    def finish(cls, imports, file):
        for import_ in imports:
            import_.encoding = file.encoding
            import_.rows = file.total
            import_.rows_read = file.total
            import_.imported = file.imported
            import_.skipped = file.skipped
            import_.imported_at = dt.datetime.now()
        cls.save(imports)
        for import_ in imports:
            import_.notify(
                'tryton-ok', gettext('crm_billing.msg_usage_import_done_label',
                    name=import_.rec_name),
                gettext('crm_billing.msg_usage_import_done_description',
                    rows=import_.rows, imported=import_.imported,
                    skipped=import_.skipped))

    @classmethod
    @Workflow.transition('failed')
    def fail(cls, imports, file, problems):
        for import_ in imports:
            import_.encoding = file.encoding if file else None
            import_.rows = file.total if file else None
            import_.rows_read = file.total if file else 0
            import_.imported = 0
            import_.skipped = None
            import_.problems = problems
        cls.save(imports)
        for import_ in imports:
            import_.notify(
                'tryton-warning',
                gettext('crm_billing.msg_usage_import_failed_label',
                    name=import_.rec_name),
                problems.splitlines()[0])

    def notify(self, icon, label, description):
        "The bell of whoever pressed Import, opening the import"
        if self.imported_by:
            self.__class__.notify_user([self], icon, label, description,
                user=self.imported_by.id)

    def load(self, file=None):
        """Check then write the file; return the UsageFile.
        Raise UsageImportError listing every problem, writing nothing."""
        ModelAccess = Pool().get('ir.model.access')
        ModelAccess.check('telecom.usage', 'create')
        if self.state not in {'draft', 'running'}:
            raise UsageImportError(gettext(
                    'crm_billing.msg_usage_import_done', name=self.rec_name))
        with no_gc():
            if file is None:
                file = UsageFile(self.file)
            file.import_id = self.id
            with file.atomic():
                getattr(self, 'parse_%s' % self.format)(file)
                if file.problems:
                    raise file.problems.error()
                file.write(self.id)
        return file

    def parse_switch(self, file):
        """A switch's CSV: number, type, start, duration (s), volume (KB),
        other party, roaming flag, pre-rated charge and the switch's record
        id, in any order, headers in Chinese or English"""
        sha1 = hashlib.sha1
        for cells in file.chunks(SWITCH_COLUMNS, SWITCH_REQUIRED):
            number = cells.number('number')
            type_ = cells.choice('type', SWITCH_TYPES,
                'msg_usage_problem_type')
            start = cells.start('start')
            duration = cells.whole('duration',
                'msg_usage_problem_duration_required',
                where=[t == 'voice' for t in type_])
            volume = cells.whole('volume',
                'msg_usage_problem_volume_required',
                where=[t == 'data' for t in type_])
            roaming = cells.flag('roaming')
            charge = cells.amount('charge')
            other = cells.text('other_party')
            key = cells.text('record_id')
            if None in key:
                # no record id: the key is a hash of the record
                for i in cells.good():
                    if key[i] is None:
                        key[i] = sha1(('%s|%s|%s|%s|%s|%s|%d' % (number[i],
                                    type_[i], start[i].isoformat(' '),
                                    '' if duration[i] is None
                                    else duration[i],
                                    '' if volume[i] is None else volume[i],
                                    other[i] or '', roaming[i])
                                ).encode()).hexdigest()
            file.add(cells, number, type_, start, duration, volume, other,
                roaming, charge, key)

    def parse_partner(self, file):
        """A partner network's CSV of roaming usage it rated: partner code,
        its record id, number (MSISDN, 86 first or not), service (MOC, MTC,
        SMS, GPRS), start (20261103140509), duration (s), bytes, other
        party, charge (yuan). Every record is roaming and keeps the
        partner's charge."""
        for cells in file.chunks(PARTNER_COLUMNS, PARTNER_REQUIRED):
            partner = cells.text('partner',
                required='msg_usage_problem_required')
            record_id = cells.text('record_id',
                required='msg_usage_problem_required')
            number = cells.number('number', international=True)
            type_ = cells.choice('service', PARTNER_SERVICES,
                'msg_usage_problem_service')
            start = cells.start('start', parse=parse_compact_start,
                message='msg_usage_problem_compact_start')
            duration = cells.whole('duration',
                'msg_usage_problem_duration_required',
                where=[t == 'voice' for t in type_])
            size = cells.whole('bytes', 'msg_usage_problem_bytes_required',
                where=[t == 'data' for t in type_])
            charge = cells.amount('charge',
                required='msg_usage_problem_charge_required')
            other = cells.text('other_party')
            # bytes are kept as started KB
            volume = [-(-s // 1024) if s is not None else None for s in size]
            file.add(cells, number, type_, start, duration, volume, other,
                [True] * len(cells), charge,
                ['%s/%s' % k for k in zip(partner, record_id)])


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
    """Import Usage File: the file becomes an import record handed to the
    queue, which the wizard opens: its form shows the progress, then the
    outcome (done, or failed with the problems of the file)"""
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
