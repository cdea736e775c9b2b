import datetime as dt

from sql import Null
from sql.aggregate import Max, Min
from sql.conditionals import Coalesce

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.money import format_money
from crm_telecom.sql_tools import (
    UncheckedReferences,
    execute_planned,
    in_ids,
)
from crm_telecom.workflow import BulkWorkflow

from .company import AccountMoneyMixin

LINE_KINDS = [
    ('plan_fee', "Plan Fee"),
    ('addon_fee', "Add-on Fee"),
    ('vas_fee', "Value-Added Service Fee"),
    ('voice', "Voice"),
    ('sms', "SMS"),
    ('data', "Data"),
    ('roaming_voice', "Roaming Voice"),
    ('roaming_sms', "Roaming SMS"),
    ('roaming_data', "Roaming Data"),
    ('rated_voice', "Pre-Rated Voice"),
    ('rated_sms', "Pre-Rated SMS"),
    ('rated_data', "Pre-Rated Data"),
    ('adjustment', "Adjustment"),
    ]
FEE_KINDS = {'plan_fee', 'addon_fee', 'vas_fee'}


class Bill(AccountMoneyMixin, BulkWorkflow, ModelSQL, ModelView):
    """Bill of one account for one cycle.

    Issued bills are paid oldest first as the account's balance covers
    them, and issued again when a reversal uncovers them: the account
    settles them in bulk (telecom.account settle_bills)."""
    __name__ = 'telecom.bill'
    _rec_name = 'code'

    code = fields.Char("Code", readonly=True)
    account = fields.Many2One('telecom.account', "Account", required=True,
        ondelete='RESTRICT', readonly=True)
    payer = fields.Many2One('party.party', "Payer", required=True,
        ondelete='RESTRICT', readonly=True)
    run = fields.Many2One('telecom.bill.run', "Bill Run", readonly=True,
        ondelete='RESTRICT')
    period_start = fields.Date("From", required=True, readonly=True)
    period_end = fields.Date("To", required=True, readonly=True,
        help="Last day of the cycle.")
    date = fields.Date("Issued", required=True, readonly=True)
    due_date = fields.Date("Due", required=True, readonly=True)
    amount = Monetary("Amount", currency='currency', digits='currency',
        required=True,
        readonly=True)
    state = fields.Selection([
            ('issued', "Issued"),
            ('paid', "Paid"),
            ], "State", required=True, readonly=True)
    usage_after = fields.Integer("Usage After", readonly=True,
        help="Late usage on this bill came after this record.")
    usage_until = fields.Integer("Usage Until", readonly=True,
        help="The bill charges usage records up to this one.")
    lines = fields.One2Many('telecom.bill.line', 'bill', "Lines",
        readonly=True, order=[('subscriber', 'ASC'), ('sequence', 'ASC'),
            ('id', 'ASC')])
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('account_period_unique', Unique(t, t.account, t.period_start),
                'crm_billing.msg_bill_account_period_unique'),
            ('code_unique', Unique(t, t.code),
                'crm_billing.msg_bill_code_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.payer, Index.Range())),
                Index(t, (t.run, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state == 'issued'),
                })
        cls._order = [('period_start', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('issued', 'paid'),
            ('paid', 'issued'),
            }

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        Usage = pool.get('telecom.usage')
        table_h = cls.__table_handler__(module)
        watermarks = table_h.column_exist('usage_until')
        super().__register__(module)
        if not watermarks:
            # bills made when each record named its line: they saw every
            # record there was
            bill, usage = cls.__table__(), Usage.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*bill.update([bill.usage_until],
                    [usage.select(Coalesce(Max(usage.id), 0))]))

    @classmethod
    def default_state(cls):
        return 'issued'

    @classmethod
    def notify_issued(cls, bill_ids):
        "SMS to one line of each account that has something to pay"
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        Number = pool.get('telecom.number')
        bill = cls.__table__()
        subscriber = Subscriber.__table__()
        number = Number.__table__()
        cursor = Transaction().connection.cursor()
        # the first live line of each account and its number, in one query
        first_line = subscriber.select(Min(subscriber.id),
            where=(subscriber.account == bill.account)
            & subscriber.state.in_(['active', 'suspended']))
        bills = bill.select(bill.period_start, bill.period_end, bill.amount,
            bill.due_date, first_line.as_('line'),
            where=in_ids(bill.id, list(bill_ids))
            & (bill.amount > 0))
        # the number of each line through the indexes: a join would be
        # planned on a scan of every line whatever the batch's size
        of_line = Subscriber.__table__()
        msisdn = of_line.join(number, condition=number.id == of_line.number
            ).select(number.number, where=of_line.id == bills.line)
        query = bills.select(bills.period_start, bills.period_end,
            bills.amount, bills.due_date, bills.line, msisdn,
            where=bills.line != Null)
        # the text once, filled in for each bill
        template = gettext('crm_billing.msg_sms_bill_issued')
        messages = []
        for sub_ids in grouped_slice(bill_ids, 10000):
            bills.where = (in_ids(bill.id, list(sub_ids))
                & (bill.amount > 0))
            execute_planned(cursor, query)
            messages.extend({
                    'subscriber': line,
                    'number': msisdn,
                    'event': 'bill_issued',
                    'text': template % {
                        'period': '%s ~ %s' % (start, end),
                        'amount': format_money(amount), 'due': due},
                    } for start, end, amount, due, line, msisdn in cursor)
        Subscriber.send_sms(messages)


class BillLine(UncheckedReferences, ModelSQL, ModelView):
    "Bill line: one charge and the reason for it"
    __name__ = 'telecom.bill.line'
    # a bill run writes millions of lines (and then each bill, to give it
    # their sum)
    _unchecked_references = {'bill', 'subscriber', 'product', 'adjustment'}

    bill = fields.Many2One('telecom.bill', "Bill", required=True,
        ondelete='CASCADE', readonly=True)
    subscriber = fields.Many2One('telecom.subscriber', "Line",
        ondelete='RESTRICT', readonly=True)
    sequence = fields.Integer("Sequence", readonly=True)
    kind = fields.Selection(LINE_KINDS, "Kind", required=True,
        readonly=True)
    late = fields.Boolean("Late Usage", readonly=True,
        help="Usage of an earlier cycle that arrived after it was billed.")
    product = fields.Many2One('product.template', "Plan or Service",
        ondelete='RESTRICT', readonly=True)
    start_date = fields.Date("From", readonly=True)
    end_date = fields.Date("Until", readonly=True,
        help="First day not covered.")
    days = fields.Integer("Days", readonly=True)
    cycle_days = fields.Integer("Days in Cycle", readonly=True)
    quantity = fields.Integer("Used", readonly=True,
        help="Minutes, messages or KB used.")
    included = fields.Integer("Included in Plan", readonly=True)
    addon_included = fields.Integer("Included in Add-ons", readonly=True)
    billable = fields.Integer("Charged Units", readonly=True,
        help="Minutes, messages or MB charged.")
    currency = fields.Function(fields.Many2One('currency.currency',
            "Currency"), 'on_change_with_currency')
    rate = Monetary("Rate", currency='currency', digits=(16, 4),
        readonly=True)
    amount = Monetary("Amount", currency='currency', digits='currency',
        required=True, readonly=True)
    adjustment = fields.Many2One('telecom.bill.adjustment', "Adjustment",
        readonly=True, ondelete='RESTRICT')
    usages = fields.Function(fields.Many2Many('telecom.usage', None, None,
            "Usage"), 'get_usages', searcher='search_usages')
    description = fields.Function(fields.Char("Why"), 'get_description')
    kind_string = kind.translated('kind')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('bill')
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.bill, Index.Range())),
                Index(t, (t.subscriber, Index.Range())),
                })
        cls._order = [('bill', 'DESC'), ('sequence', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_late(cls):
        return False

    @fields.depends('bill', '_parent_bill.account')
    def on_change_with_currency(self, name=None):
        if self.bill:
            return self.bill.on_change_with_currency()

    @classmethod
    def search_usages(cls, name, clause):
        "The lines that charged the records the clause finds"
        Usage = Pool().get('telecom.usage')
        usage = Usage.__table__()
        line, join = Usage._charged(usage)
        nested = clause[0][len(name) + 1:]
        records = Usage.search([(nested or 'id',) + tuple(clause[1:])],
            order=[], query=True)
        return [('id', 'in', join.select(line.id,
                    where=usage.id.in_(records)))]

    @classmethod
    def get_usages(cls, lines, name):
        "The usage records each line charged, newest first"
        Usage = Pool().get('telecom.usage')
        usage = Usage.__table__()
        line, join = Usage._charged(usage)
        cursor = Transaction().connection.cursor()
        result = {l.id: [] for l in lines}
        for sub_ids in grouped_slice(list(result), 1000):
            cursor.execute(*join.select(line.id, usage.id,
                    where=line.id.in_(list(sub_ids)),
                    order_by=[usage.start.desc, usage.id.desc]))
            for line_id, usage_id in cursor:
                result[line_id].append(usage_id)
        return result

    def get_description(self, name):
        amount = format_money(self.amount)
        if self.kind in FEE_KINDS:
            if self.days is not None and self.days < self.cycle_days:
                return gettext('crm_billing.msg_line_fee_prorated',
                    label=self.kind_string, product=self.product.rec_name,
                    rate=format_money(self.rate), days=self.days,
                    cycle_days=self.cycle_days, amount=amount)
            return gettext('crm_billing.msg_line_fee',
                label=self.kind_string, product=self.product.rec_name,
                amount=amount)
        if self.kind == 'adjustment':
            return gettext('crm_billing.msg_line_adjustment',
                reason=self.adjustment.reason if self.adjustment else '',
                amount=amount)
        text = self._usage_description(amount)
        if self.late:
            text = gettext('crm_billing.msg_line_late',
                start=self.start_date,
                end=self.end_date - dt.timedelta(days=1)) + text
        return text

    def _usage_description(self, amount):
        type_ = self.kind.split('_')[-1]
        if self.kind.startswith('rated_'):
            return gettext('crm_billing.msg_line_rated',
                label=self.kind_string, count=self.billable, amount=amount)
        if self.kind.startswith('roaming_') or self.billable:
            label = (self.kind_string if self.kind.startswith('roaming_')
                else gettext('crm_billing.msg_label_%s_over' % type_))
            text = gettext('crm_billing.msg_line_charged', label=label,
                billable=self.billable, unit=_unit(type_),
                rate=format_money(self.rate), amount=amount)
        else:
            text = gettext('crm_billing.msg_line_within',
                label=self.kind_string,
                quantity=_quantity(type_, self.quantity),
                unit=_unit(type_))
        # the detail says which allowances covered the rest
        if not self.kind.startswith('roaming_') and (
                self.billable or self.addon_included):
            text += gettext('crm_billing.msg_line_usage_detail',
                quantity=_quantity(type_, self.quantity),
                included=_quantity(type_, self.included or 0),
                addon=_quantity(type_, self.addon_included or 0),
                unit=_unit(type_))
        return text


def _quantity(type_, units):
    "Data is counted in KB and shown in MB"
    if type_ == 'data':
        return '{:.1f}'.format((units or 0) / 1024)
    return str(units or 0)


def _unit(type_):
    return gettext('crm_billing.msg_unit_%s' % type_)
