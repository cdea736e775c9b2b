import datetime as dt

from dateutil.relativedelta import relativedelta
from sql import Window
from sql.aggregate import Count, Max, Min
from sql.functions import Div, RowNumber
from sql.operators import Exists

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from crm_telecom.sql_tools import analyze, clear_cache, execute_planned

from .exceptions import BillingError
from .rating import Rating

BATCH_SIZE = 2000


class BillRun(Workflow, ModelSQL, ModelView):
    """Bill run: every account whose cycle starts on a date.

    Accounts are billed in batches, one transaction each: a run that stops
    half-way goes on from the first account without a bill, and a run that
    is done finds nothing left to bill. Started from the client, the run
    is handed to the queue as one task per slice of accounts, so that every
    trytond-worker process (on this machine or others sharing the
    database) takes slices side by side; the last slice done finishes it."""
    __name__ = 'telecom.bill.run'

    period_start = fields.Date("Cycle Start", required=True,
        states={'readonly': Eval('state') != 'draft'},
        help="Accounts whose bill cycle day is this day are billed for "
        "the month that starts here.")
    period_end = fields.Function(fields.Date("Cycle End"),
        'on_change_with_period_end')
    state = fields.Selection([
            ('draft', "Draft"),
            ('running', "Running"),
            ('done', "Done"),
            ], "State", required=True, readonly=True, sort=False)
    accounts_total = fields.Integer("Accounts", readonly=True)
    accounts_done = fields.Function(fields.Integer("Accounts Billed"),
        'get_accounts_done')
    progress = fields.Function(fields.Float("Progress"), 'get_progress')
    started_at = fields.DateTime("Started", readonly=True)
    finished_at = fields.DateTime("Finished", readonly=True)
    bills = fields.One2Many('telecom.bill', 'run', "Bills", readonly=True)
    usage_until = fields.Integer("Last Usage Record", readonly=True,
        help="The run bills the usage records up to this one; those that "
        "come later are billed on the next bill.")
    parts = fields.One2Many('telecom.bill.run.part', 'run', "Usage Parts",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('period_start_unique', Unique(t, t.period_start),
                'crm_billing.msg_bill_run_unique'),
            ]
        cls._order = [('period_start', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'running'),
            ('running', 'done'),
            }
        cls._buttons.update({
                'start': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-launch',
                    'depends': ['state'],
                    },
                'resume': {
                    'invisible': Eval('state') != 'running',
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_accounts_total(cls):
        return 0

    @fields.depends('period_start')
    def on_change_with_period_end(self, name=None):
        if self.period_start:
            return (self.period_start + relativedelta(months=1)
                - dt.timedelta(days=1))

    @classmethod
    def get_accounts_done(cls, runs, name):
        "The bills the run wrote (its workers write nothing else in common)"
        Bill = Pool().get('telecom.bill')
        bill = Bill.__table__()
        cursor = Transaction().connection.cursor()
        result = dict.fromkeys((r.id for r in runs), 0)
        cursor.execute(*bill.select(bill.run, Count(bill.id),
                where=bill.run.in_(list(result)), group_by=[bill.run]))
        result.update(cursor)
        return result

    def get_progress(self, name):
        if self.state == 'done':
            return 1.0
        if not self.accounts_total:
            return 0.0
        return self.accounts_done / self.accounts_total

    def get_rec_name(self, name):
        return '%s ~ %s' % (self.period_start, self.period_end or '')

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('period_start',) + tuple(clause[1:])]

    @classmethod
    def validate_fields(cls, runs, field_names):
        super().validate_fields(runs, field_names)
        for run in runs:
            if run.period_start and run.period_start.day > 28:
                raise BillingError(gettext(
                        'crm_billing.msg_bill_run_day',
                        date=run.period_start))

    @property
    def _end(self):
        "First day after the cycle"
        return self.period_start + relativedelta(months=1)

    def _accounts_query(self, pending=True, first=None, last=None):
        pool = Pool()
        Account = pool.get('telecom.account')
        Bill = pool.get('telecom.bill')
        account = Account.__table__()
        bill = Bill.__table__()
        where = account.bill_cycle_day == self.period_start.day
        if first is not None:
            where &= (account.id >= first) & (account.id <= last)
        if pending:
            where &= ~Exists(bill.select(bill.id,
                    where=(bill.account == account.id)
                    & (bill.period_start == self.period_start)))
        return account, where

    @classmethod
    @ModelView.button
    @Workflow.transition('running')
    def start(cls, runs):
        """Count the accounts and bill them in the background: the usage
        added up in parts side by side, then the slices"""
        Configuration = Pool().get('telecom.configuration')
        # a run started twice at once is billed by one task
        cls.lock(runs)
        cls._prepare(runs, Configuration(1).bill_run_workers, collect=False)
        cls._queue_parts(runs)

    @classmethod
    @Workflow.transition('running')
    def _prepare(cls, runs, parts=1, collect=True):
        """Count the accounts, fix the last usage record billed and split
        the lines in parts whose usage is added up: at once when collect
        (the transition of runs billed in the caller), by the queue
        otherwise"""
        pool = Pool()
        Usage = pool.get('telecom.usage')
        Part = pool.get('telecom.bill.run.part')
        cursor = Transaction().connection.cursor()
        for run in runs:
            account, where = run._accounts_query(pending=False)
            cursor.execute(*account.select(Count(account.id), where=where))
            run.accounts_total, = cursor.fetchone()
            run.started_at = dt.datetime.now()
            run.usage_until = Usage.last_written()
        cls.save(runs)
        for run in runs:
            Part.split(run, parts)
        if collect:
            cls._collect_parts(runs)

    @classmethod
    def _collect_parts(cls, runs):
        "Add up, in this transaction, the usage of the parts not added up"
        Part = Pool().get('telecom.bill.run.part')
        parts = [p for r in runs for p in r.parts if not p.collected]
        if parts:
            Part.collect(parts)

    @classmethod
    def _queue_parts(cls, runs):
        """A queue task per part whose usage is not added up yet, or the
        slices when none is left"""
        Queue = Pool().get('ir.queue')
        collected = []
        for run in runs:
            pending = [p for p in run.parts if not p.collected]
            for part in pending:
                cls.__queue__.collect_part([run], part.id)
            if not pending:
                collected.append(run)
        # _dispatch analyses the queue after its own tasks
        if collected:
            cls._dispatch(collected)
        else:
            analyze(Queue)

    @classmethod
    def collect_part(cls, runs, part_id):
        """The queue task: add up the usage of a part's lines, commit, then
        queue the slices when every part is added up"""
        Part = Pool().get('telecom.bill.run.part')
        transaction = Transaction()
        parts = Part.search([('id', '=', part_id)])
        for run in runs:
            if run.state != 'running':
                continue
            if not parts or parts[0].collected:
                # the queue running the task again: Resume queues what is
                # left
                continue
            Part.collect(parts)
            transaction.commit()
            # a fresh snapshot: of the parts committing last, one at least
            # sees every other (two that both do queue the slices twice,
            # which bill nothing twice)
            run = cls(run.id)
            if all(p.collected for p in run.parts):
                cls._dispatch([run])

    @classmethod
    @ModelView.button
    def resume(cls, runs):
        """Go on after a crash: parts not added up are queued again, then
        the slices; accounts already billed are left alone"""
        cls._queue_parts([r for r in runs if r.state == 'running'])

    @classmethod
    def _dispatch(cls, runs):
        """A queue task per slice of BATCH_SIZE accounts still to bill
        (first and last account id): the workers take them in any order"""
        Queue = Pool().get('ir.queue')
        cursor = Transaction().connection.cursor()
        for run in runs:
            account, where = run._accounts_query()
            # the bounds of the slices, counted by the database: the
            # accounts' ids stay there, however many they are
            numbered = account.select(account.id.as_('id'),
                Div(RowNumber(window=Window([], order_by=[account.id]))
                    - 1, BATCH_SIZE).as_('slice'),
                where=where)
            cursor.execute(*numbered.select(Min(numbered.id),
                    Max(numbered.id), group_by=[numbered.slice],
                    order_by=[Min(numbered.id)]))
            bounds = cursor.fetchall()
            if not bounds:
                cls._finish_billed([run])
            for first, last in bounds:
                cls.__queue__.bill_slice([run], first, last)
        # statistics that do not count these tasks waiting (a queue
        # analysed empty, or full of finished tasks) can make the
        # workers' pull mark every waiting task taken at once, and run one
        analyze(Queue)

    @classmethod
    def bill_slice(cls, runs, first, last):
        """The queue task: bill the pending accounts of ids first to last,
        commit, then finish the run when nothing is left to bill"""
        transaction = Transaction()
        for run in runs:
            if run.state != 'running':
                continue
            # a slice is one batch: its accounts were counted to fit
            run.bill_batch(None, first, last)
            transaction.commit()
            # a fresh snapshot: of the slices committing last, one at
            # least sees every other's bills
            cls._finish_billed([cls(run.id)])

    @classmethod
    def _finish_billed(cls, runs):
        cursor = Transaction().connection.cursor()
        for run in runs:
            account, where = run._accounts_query()
            # from the last account: the slices are taken in the order of
            # their accounts, so while any is left the last ones are
            cursor.execute(*account.select(account.id, where=where,
                    order_by=[account.id.desc], limit=1))
            if cursor.fetchone() is None:
                # two slices finishing at once: PostgreSQL refuses the
                # second update of the run, the queue runs that task again
                # and it finds the run done
                cls.finish([run])

    @classmethod
    def process(cls, runs, commit=True, batch_size=BATCH_SIZE):
        """Bill every pending account, one batch per transaction when
        commit is set (queue, cron and command line)"""
        transaction = Transaction()
        cls._prepare([r for r in runs if r.state == 'draft'])
        # a run started from the client may have parts not added up yet
        cls._collect_parts(runs)
        for run in runs:
            while run.bill_batch(batch_size):
                if commit:
                    transaction.commit()
            cls.finish([run])
            if commit:
                transaction.commit()

    def bill_batch(self, size=BATCH_SIZE, first=None, last=None):
        """Bill the next batch of size accounts without a bill (of ids
        first to last when given, all of them if size is None); returns
        how many"""
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        Bill = pool.get('telecom.bill')
        cursor = Transaction().connection.cursor()
        account, where = self._accounts_query(first=first, last=last)
        execute_planned(cursor, account.select(account.id, where=where,
                order_by=[account.id], limit=size))
        account_ids = [r[0] for r in cursor.fetchall()]
        if not account_ids:
            return 0
        end = self._end
        issue_date = pool.get('ir.date').today()
        due_date = max(end, issue_date) + dt.timedelta(
            days=Configuration(1).bill_due_days)
        bills = self._rating_class()(self, account_ids).bill(
            issue_date, due_date)
        Bill.notify_issued(list(bills))
        clear_cache(self.__class__, [self.id])
        return len(account_ids)

    @classmethod
    def _rating_class(cls):
        "The rating of a batch (modules extend it with their lines)"
        return Rating

    @classmethod
    @Workflow.transition('done')
    def finish(cls, runs):
        Pool().get('telecom.bill.run.usage').clear(runs)
        cls.write(runs, {'finished_at': dt.datetime.now()})
        if Transaction().user:
            for run in runs:
                # the bell of whoever pressed Start
                cls.notify_user([run], 'tryton-info',
                    gettext('crm_billing.msg_bill_run_done',
                        run=run.rec_name, count=run.accounts_total))

    @classmethod
    def run_due(cls, date=None, commit=True):
        """Cron and command line: bill the cycles that ended yesterday
        (cycle days 1 to 28)"""
        date = date or Pool().get('ir.date').today()
        if date.day > 28:
            return []
        period_start = date - relativedelta(months=1)
        runs = cls.search([('period_start', '=', period_start)])
        if not runs:
            runs = cls.create([{'period_start': period_start}])
        runs = [r for r in runs if r.state != 'done']
        cls.process(runs, commit=commit)
        return runs
