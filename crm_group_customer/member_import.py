"""Import of a group's members from a CSV file: one number a row, with
optionally whether the group pays for the line (集团统付) and its monthly
cap.

All or nothing: every row is checked (the number's format, its live line,
the line's company, an active membership, a repetition in the file, the
payment values) and one failing row writes nothing; the user gets every
failing row with its reason, corrects the file and imports it again.
The numbers of the whole file are looked up with a few statements and the
members written in one bulk write (COPY on PostgreSQL)."""
import codecs
import csv
import io
from decimal import Decimal, InvalidOperation

from sql import Literal
from sql.functions import Function
from sql.operators import In

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from crm_telecom.bulk import BulkWriter
from crm_telecom.number import MSISDN, compact_msisdn
from crm_telecom.sql_tools import analyze_if_empty, clear_cache

from .exceptions import GroupError

# column -> accepted header names (a header row is optional: without it
# the columns are number, paid by group, monthly cap)
COLUMNS = {
    'number': ('number', 'msisdn', '号码', '手机号码', '手机号', '成员号码'),
    'paid_by_group': ('paid_by_group', 'paid by group', '集团统付', '统付',
        '是否统付'),
    'payment_cap': ('payment_cap', 'monthly cap', 'cap', '统付上限',
        '每月上限', '上限'),
    }
ORDER = ['number', 'paid_by_group', 'payment_cap']
FLAGS = {
    '': False, '0': False, '1': True,
    '否': False, '是': True,
    'n': False, 'y': True, 'no': False, 'yes': True,
    'false': False, 'true': True,
    }
# numbers looked up per statement on SQLite (bound parameters); one
# array parameter holds them all on PostgreSQL
SQLITE_SLICE = 500


class _Any(Function):
    __slots__ = ()
    _function = 'ANY'


def _decode(data):
    "The text of a file written in UTF-8 (with or without BOM) or GB18030"
    if data[:3] == codecs.BOM_UTF8:
        data = data[3:]
    for encoding in ['utf-8', 'gb18030']:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise GroupError(gettext('crm_group_customer.msg_member_import_encoding'))


def _header(cells):
    "{column: index} when cells are a header row, else None"
    names = {}
    for column, accepted in COLUMNS.items():
        for name in accepted:
            names[name] = column
    found = {}
    for i, cell in enumerate(cells):
        column = names.get(cell.strip().lower())
        if column and column not in found:
            found[column] = i
    if 'number' in found:
        return found


class Problem:
    "A failing row: its row in the file, the value and the reason"
    __slots__ = ('row', 'value', 'message', 'params')

    def __init__(self, row, value, message, **params):
        self.row, self.value = row, value
        self.message, self.params = message, params

    @property
    def text(self):
        return gettext('crm_group_customer.%s' % self.message,
            row=self.row, value=self.value, **self.params)


class MemberFile:
    """The rows of a member file (parse) and their check against the
    database (check); write adds them to the group"""

    def __init__(self, group, data):
        pool = Pool()
        Date = pool.get('ir.date')
        self.group = group
        self.company = group.company or Transaction().context.get('company')
        if self.company is not None and not isinstance(self.company, int):
            self.company = self.company.id
        self.data = data or b''
        self.today = Date.today()
        # (row, number, paid_by_group, payment_cap)
        self.rows = []
        self.problems = []
        self.subscribers = {}

    def parse(self):
        text = _decode(self.data)
        reader = csv.reader(io.StringIO(text))
        index = dict(zip(ORDER, range(len(ORDER))))
        first = {}
        problem = self.problems.append
        header = True
        for row, cells in enumerate(reader, 1):
            if not any(c.strip() for c in cells):
                continue
            # only the first row that is not empty may be a header
            if header:
                header = False
                columns = _header(cells)
                if columns is not None:
                    index = columns
                    continue
            cells = [c.strip() for c in cells]

            def cell(column):
                i = index.get(column)
                return cells[i] if i is not None and i < len(cells) else ''
            raw = cell('number')
            number = compact_msisdn(raw)
            good = True
            if not MSISDN.match(number):
                problem(Problem(row, raw, 'msg_member_import_number_format'))
                good = False
            elif number in first:
                problem(Problem(row, raw, 'msg_member_import_duplicate',
                        first=first[number]))
                good = False
            else:
                first[number] = row
            flag = cell('paid_by_group')
            paid = FLAGS.get(flag.lower())
            if paid is None:
                problem(Problem(row, flag,
                        'msg_member_import_paid_by_group'))
                good = False
            cap = cell('payment_cap')
            amount = None
            if cap:
                try:
                    amount = Decimal(cap.replace(',', ''))
                except InvalidOperation:
                    amount = None
                if (amount is None or not amount.is_finite() or amount <= 0
                        or amount.as_tuple().exponent < -2):
                    problem(Problem(row, cap,
                            'msg_member_import_payment_cap'))
                    good = False
                elif paid is False:
                    problem(Problem(row, cap,
                            'msg_member_import_cap_unpaid'))
                    good = False
            if good:
                self.rows.append((row, number, paid, amount))
        if not self.rows and not self.problems:
            raise GroupError(gettext(
                    'crm_group_customer.msg_member_import_empty'))

    def _lookup(self, numbers):
        """[(number, subscriber, company, member group)] of the numbers'
        live lines (not terminated), with their active membership"""
        pool = Pool()
        Number = pool.get('telecom.number')
        Subscriber = pool.get('telecom.subscriber')
        Member = pool.get('telecom.group.member')
        number, line = Number.__table__(), Subscriber.__table__()
        member = Member.__table__()
        cursor = Transaction().connection.cursor()
        query = number.join(line,
            condition=(line.number == number.id)
            & (line.state != 'terminated')
            ).join(member, 'LEFT',
            condition=(member.subscriber == line.id)
            & (member.state == 'active'))
        if backend.name == 'postgresql':
            # checked digits only: the array is safe as text
            array = Literal('{%s}' % ','.join(numbers)).cast('VARCHAR[]')
            cursor.execute(*query.select(number.number, line.id,
                    line.company, member.group,
                    where=number.number == _Any(array)), prepare=False)
            yield from cursor
            return
        for sub in grouped_slice(numbers, SQLITE_SLICE):
            cursor.execute(*query.select(number.number, line.id,
                    line.company, member.group,
                    where=In(number.number, list(sub))))
            yield from cursor

    def check(self):
        "Check the parsed rows against the lines and the memberships"
        found = {}
        for number, subscriber, company, group in self._lookup(
                [n for _, n, _, _ in self.rows]):
            found[number] = (subscriber, company, group)
        good = []
        for row, number, paid, cap in self.rows:
            line = found.get(number)
            if line is None:
                self.problems.append(Problem(row, number,
                        'msg_member_import_number_unknown'))
                continue
            subscriber, company, group = line
            if company != self.company:
                self.problems.append(Problem(row, number,
                        'msg_member_import_other_company',
                        group=self.group.rec_name))
            elif group == self.group.id:
                self.problems.append(Problem(row, number,
                        'msg_member_import_member_here',
                        group=self.group.rec_name))
            elif group is not None:
                self.problems.append(Problem(row, number,
                        'msg_member_import_member_other'))
            else:
                good.append((subscriber, paid, cap))
        self.problems.sort(key=lambda p: p.row)
        self.subscribers = good

    def write(self):
        "Add the checked lines to the group: one bulk write"
        Member = Pool().get('telecom.group.member')
        assert not self.problems
        writer = BulkWriter(Member, ['group', 'subscriber', 'company',
                'start_date', 'state', 'origin', 'paid_by_group',
                'payment_cap'])
        group, company, today = self.group.id, self.company, self.today
        writer.write([(group, subscriber, company, today, 'active',
                    'import', paid, cap)
                for subscriber, paid, cap in self.subscribers])
        analyze_if_empty(Member, len(self.subscribers))
        clear_cache(Member)
        return len(self.subscribers)


def import_members(group, data):
    """Import the members of a CSV file into group, all or nothing.
    Returns (members created, problems): nothing is written when there
    are problems. The user must be allowed to create members and to see
    the group."""
    pool = Pool()
    Party = pool.get('party.party')
    ModelAccess = pool.get('ir.model.access')
    transaction = Transaction()
    if transaction.user and transaction.check_access:
        ModelAccess.check('telecom.group.member', 'create')
        # the group as the user may see it (record rules)
        if not Party.search([('id', '=', group.id)], count=True):
            raise GroupError(gettext(
                    'crm_group_customer.msg_member_import_group',
                    group=group.id))
    if not group.group_customer:
        raise GroupError(gettext(
                'crm_group_customer.msg_member_import_group',
                group=group.rec_name))
    file = MemberFile(group, data)
    file.parse()
    file.check()
    if file.problems:
        return 0, file.problems
    return file.write(), []


class MemberImportStart(ModelView):
    "Import Group Members"
    __name__ = 'telecom.group.member.import.start'

    group = fields.Many2One('party.party', "Group", required=True,
        domain=[('group_customer', '=', True)])
    file = fields.Binary("File", filename='filename', required=True,
        help="A CSV file (UTF-8 or GBK) with one number a row, and "
        "optionally whether the group pays for the line (1/0 or 是/否) "
        "and its monthly cap; a header row is optional.")
    filename = fields.Char("File Name")


class MemberImportResult(ModelView):
    "Import Group Members"
    __name__ = 'telecom.group.member.import.result'

    imported = fields.Integer("Imported", readonly=True)
    failed = fields.Boolean("Failed", readonly=True)
    message = fields.Text("Result", readonly=True)
    problems = fields.Text("Problems", readonly=True,
        states={'invisible': ~Eval('failed', False)},
        help="Nothing was imported: correct these rows and import the "
        "file again.")


class MemberImport(Wizard):
    """Import Group Members: a CSV file of numbers become members of a
    group (origin: imported), or the failing rows are shown and nothing
    is written"""
    __name__ = 'telecom.group.member.import'

    start = StateView('telecom.group.member.import.start',
        'crm_group_customer.member_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateTransition()
    result = StateView('telecom.group.member.import.result',
        'crm_group_customer.member_import_result_view_form', [
            Button("Choose Another File", 'start', 'tryton-back',
                states={'invisible': ~Eval('failed', False)}),
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        context = Transaction().context
        defaults = {}
        if getattr(self.start, 'group', None):
            defaults['group'] = self.start.group.id
        elif (context.get('active_model') == 'party.party'
                and context.get('active_id') is not None):
            Party = Pool().get('party.party')
            party = Party(context['active_id'])
            if party.group_customer:
                defaults['group'] = party.id
        return defaults

    def transition_import_(self):
        with Transaction().set_context(_check_access=True):
            count, problems = import_members(self.start.group,
                self.start.file)
        self.start.file = None
        if problems:
            self.result.imported = 0
            self.result.failed = True
            self.result.message = gettext(
                'crm_group_customer.msg_member_import_failed',
                count=len(problems))
            self.result.problems = '\n'.join(p.text for p in problems)
        else:
            self.result.imported = count
            self.result.failed = False
            self.result.message = gettext(
                'crm_group_customer.msg_member_import_done',
                count=count, group=self.start.group.rec_name)
            self.result.problems = None
        return 'result'

    def default_result(self, fields):
        return {
            'imported': self.result.imported,
            'failed': self.result.failed,
            'message': self.result.message,
            'problems': self.result.problems,
            }
