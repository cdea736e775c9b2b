"""Dunning stages and dunning records, as Tryton's account_dunning has
procedure levels and dunnings.

A stage says after how many days overdue which action is taken. A dunning
records that one account reached one stage in one arrears episode (from
the day the account falls into arrears until its debt is paid): when, how
much was owed then, what the customer was told and which suspension orders
were placed. The daily run (telecom.account run_dunning) creates the
dunnings and carries out their action; the payment that clears the debt
clears them.

The action of a dunning is carried out by the classmethod
`_process_<action>` of telecom.dunning: another module adds an action by
extending the selection of telecom.dunning.stage's action and adding the
method.
"""
import datetime as dt
from collections import defaultdict

from sql import Null
from sql.conditionals import Case
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin,
    Exclude,
    Index,
    ModelSQL,
    ModelView,
    fields,
    sequence_ordered,
)
from trytond.model.fields import SQL_OPERATORS
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_billing.company import AccountMoneyMixin
from crm_telecom.money import format_money
from crm_telecom.sql_tools import clear_cache
from crm_telecom.workflow import BulkWorkflow

from . import sms
from .exceptions import DunningError

DUNNING_ACTIONS = [
    ('reminder', "Reminder SMS"),
    ('suspend', "Suspend Lines"),
    ]


class DunningStage(DeactivableMixin, sequence_ordered(), ModelSQL,
        ModelView):
    "Dunning stage: what happens after how many days overdue"
    __name__ = 'telecom.dunning.stage'

    name = fields.Char("Name", required=True, translate=True)
    days = fields.Integer("Days Overdue", required=True,
        domain=[('days', '>=', 0)],
        help="The stage is reached when the oldest unpaid bill is this "
        "many days past its due date.")
    action = fields.Selection(DUNNING_ACTIONS, "Action", required=True,
        help="Reminder: an SMS to the first line of the account. "
        "Suspend: every active line is suspended for arrears (and told "
        "by SMS); it comes back by itself when the debt is paid.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('days', 'ASC'), ('sequence', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_action(cls):
        return 'reminder'


class Dunning(AccountMoneyMixin, BulkWorkflow, ModelSQL, ModelView):
    """Dunning: a stage an account in arrears reached.

    Waiting until its action is carried out (a line busy with another
    order is suspended at the next run), then done; cleared with the date
    when the debt is paid. An account has at most one dunning per stage
    that is not cleared: it is not reminded twice for the same debt."""
    __name__ = 'telecom.dunning'

    account = fields.Many2One('telecom.account', "Account", required=True,
        readonly=True, ondelete='RESTRICT')
    stage = fields.Many2One('telecom.dunning.stage', "Stage", required=True,
        readonly=True, ondelete='RESTRICT')
    # kept as it was when the stage was reached, whatever the stage
    # becomes later
    action = fields.Selection('get_actions', "Action", required=True,
        readonly=True)
    date = fields.Date("Reached On", required=True, readonly=True)
    overdue_since = fields.Date("Overdue Since", readonly=True)
    days_overdue = fields.Integer("Days Overdue", readonly=True)
    amount = Monetary("Amount Owed", currency='currency', digits='currency',
        readonly=True, help="What the payer owed when the stage was reached.")
    balance = Monetary("Balance", currency='currency', digits='currency',
        readonly=True)
    message = fields.Text("SMS Text", readonly=True,
        help="What the customer was told.")
    notified_at = fields.DateTime("SMS Sent At", readonly=True)
    orders = fields.One2Many('telecom.order', 'dunning',
        "Suspension Orders", readonly=True)
    state = fields.Selection([
            ('waiting', "Waiting"),
            ('done', "Done"),
            ('cleared', "Cleared"),
            ], "State", required=True, readonly=True, sort=False)
    cleared_date = fields.Date("Cleared On", readonly=True,
        help="The day the payment cleared the debt.")
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # access per role of its own (dunning.xml), not that of whoever
        # reads the account; the company record rule stays
        cls.__access__.discard('account')
        t = cls.__table__()
        cls._sql_constraints += [
            # cleared_date rather than state: a condition without
            # parameters is a partial unique index on SQLite too
            ('account_stage_exclude', Exclude(t,
                    (t.account, Equal), (t.stage, Equal),
                    where=t.cleared_date == Null),
                'crm_dunning.msg_dunning_account_stage_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.account, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.cleared_date == Null),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('waiting', 'done'),
            ('waiting', 'cleared'),
            ('done', 'cleared'),
            }

    @classmethod
    def default_state(cls):
        return 'waiting'

    @classmethod
    def get_actions(cls):
        "The actions of the stages, with those other modules add"
        Stage = Pool().get('telecom.dunning.stage')
        return Stage.fields_get(['action'])['action']['selection']

    def get_rec_name(self, name):
        return '%s @ %s' % (self.stage.rec_name, self.account.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith('!') or operator.startswith(
            'not ') else 'OR'
        return [bool_op,
            ('stage.rec_name', operator, value),
            ('account.rec_name', operator, value),
            ]

    @classmethod
    def check_modification(cls, mode, dunnings, values=None,
            external=False):
        super().check_modification(
            mode, dunnings, values=values, external=external)
        if mode == 'delete':
            for dunning in dunnings:
                # the run would reach the stage again and remind again
                if dunning.state != 'cleared':
                    raise DunningError(gettext(
                            'crm_dunning.msg_dunning_delete_state',
                            dunning=dunning.rec_name,
                            state=dunning.state_string))

    # --- actions ----------------------------------------------------------

    @classmethod
    def process(cls, dunnings):
        """Carry out the action of the waiting dunnings: all those of one
        action in one call of its classmethod `_process_<action>`, which
        returns {dunning: SMS text or None} for the dunnings it carried
        out; the others stay waiting for the next run."""
        by_action = defaultdict(list)
        for dunning in dunnings:
            if dunning.state == 'waiting':
                by_action[dunning.action].append(dunning)
        done = {}
        for action, records in by_action.items():
            done.update(getattr(cls, '_process_%s' % action)(records))
        cls._set_done(done)

    @classmethod
    def _set_done(cls, texts):
        "Move to done, with what each told the customer"
        told = {d.id: t for d, t in texts.items() if t}
        cls.transition_rows('done', sorted(told),
            notified_at=dt.datetime.now())
        cls.transition_rows('done', sorted(
                d.id for d, t in texts.items() if not t))
        # one UPDATE for many rows although each has its own text
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for sub_ids in grouped_slice(sorted(told), 500):
            sub_ids = list(sub_ids)
            cursor.execute(*table.update([table.message],
                    [Case(*((table.id == i, told[i]) for i in sub_ids))],
                    where=SQL_OPERATORS['in'](table.id, sub_ids)))
        clear_cache(cls, list(told))

    @classmethod
    def _process_reminder(cls, dunnings):
        "One SMS per account, to its first line (like its bills)"
        Account = Pool().get('telecom.account')
        lines = Account._live_lines([d.account for d in dunnings],
            ['active', 'suspended'])
        messages, texts = [], {}
        for dunning in dunnings:
            texts[dunning] = None
            for line in lines.get(dunning.account.id, [])[:1]:
                texts[dunning] = gettext('crm_dunning.msg_sms_reminder',
                    number=line.rec_name, amount=format_money(dunning.amount),
                    date=dunning.overdue_since, days=dunning.days_overdue)
                messages.append({
                        'subscriber': line,
                        'event': 'reminder',
                        'text': texts[dunning],
                        })
        sms.notify(messages)
        return texts

    @classmethod
    def _process_suspend(cls, dunnings):
        """Suspend every active line of the accounts, each by its order and
        told by SMS; while a line has another order in progress the dunning
        waits for the next run"""
        pool = Pool()
        Account = pool.get('telecom.account')
        Order = pool.get('telecom.order')
        lines = Account._live_lines([d.account for d in dunnings], ['active'])
        busy = Account._busy_lines([l for ls in lines.values() for l in ls])
        orders, messages, texts = [], [], {}
        for dunning in dunnings:
            reason = dunning._owed_text()
            placed = []
            for line in lines.get(dunning.account.id, []):
                if line.id in busy:
                    continue
                placed.append(line)
                orders.append(Order(type='suspend', customer=line.customer,
                        subscriber=line, suspension_reason='arrears',
                        reason=reason, dunning=dunning))
                messages.append({
                        'subscriber': line,
                        'event': 'suspension',
                        'text': dunning._suspension_text(line),
                        })
            if len(placed) == len(lines.get(dunning.account.id, [])):
                # every line it suspended, in this run or an earlier one
                earlier = sorted(dunning.orders, key=lambda o: o.id)
                suspended = [o.subscriber for o in earlier] + placed
                texts[dunning] = '\n'.join(
                    dunning._suspension_text(l) for l in suspended) or None
        Account._run_orders(orders)
        sms.notify(messages)
        return texts

    def _owed_text(self):
        "The reason of the suspension orders"
        if self.account.payment_type == 'prepaid':
            return gettext('crm_dunning.msg_dunning_prepaid_reason',
                account=self.account.rec_name,
                balance=format_money(self.balance))
        return gettext('crm_dunning.msg_dunning_arrears_reason',
            account=self.account.rec_name, amount=format_money(self.amount),
            date=self.overdue_since)

    def _suspension_text(self, line):
        if self.account.payment_type == 'prepaid':
            return gettext('crm_dunning.msg_sms_suspension_prepaid',
                number=line.rec_name, balance=format_money(self.balance))
        return gettext('crm_dunning.msg_sms_suspension',
            number=line.rec_name, amount=format_money(self.amount))

    # --- clearing ---------------------------------------------------------

    @classmethod
    def clear(cls, account_ids, date):
        "The debt of the accounts is paid: clear their dunnings"
        for sub_ids in grouped_slice(account_ids, 1000):
            sub_ids = list(sub_ids)
            cls.transition_rows('cleared', where=lambda table:
                SQL_OPERATORS['in'](table.account, sub_ids),
                cleared_date=date)
