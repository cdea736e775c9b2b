"An account manager's monthly work plan and its tasks"
from collections import defaultdict
from itertools import chain

from sql.operators import Equal

from trytond.model import Exclude, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from crm_telecom.company import default_company


def first_of_month(date):
    return date.replace(day=1) if date else date


class WorkPlan(ModelSQL, ModelView):
    __name__ = 'telecom.group.work_plan'

    employee = fields.Many2One('company.employee', "Account Manager",
        required=True, ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))])
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', states={'readonly': True})
    month = fields.Date("Month", required=True,
        help="Any day of the month: the plan keeps its first day.")
    goals = fields.Text("Goals")
    tasks = fields.One2Many('telecom.group.task', 'plan', "Tasks")
    progress = fields.Function(fields.Char("Done"), 'get_progress')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('employee_month_unique',
                Exclude(t, (t.employee, Equal), (t.month, Equal)),
                'crm_group_customer.msg_work_plan_unique'),
            ]
        cls._order = [('month', 'DESC'), ('employee', 'ASC'),
            ('id', 'DESC')]

    @classmethod
    def default_company(cls):
        return default_company()

    @classmethod
    def default_employee(cls):
        return Transaction().context.get('employee')

    @classmethod
    def default_month(cls):
        return first_of_month(Pool().get('ir.date').today())

    def get_rec_name(self, name):
        return '%s %s' % (self.employee.rec_name,
            self.month.strftime('%Y-%m'))

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('employee.rec_name',) + tuple(clause[1:])]

    @classmethod
    def get_progress(cls, plans, name):
        Task = Pool().get('telecom.group.task')
        counts = {p.id: [0, 0] for p in plans}
        for row in Task.search_read([
                    ('plan', 'in', list(counts)),
                    ('state', '!=', 'cancelled'),
                    ], fields_names=['plan', 'state']):
            counts[row['plan']][1] += 1
            if row['state'] == 'done':
                counts[row['plan']][0] += 1
        return {id_: '%s/%s' % tuple(c) for id_, c in counts.items()}

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('month'):
            values['month'] = first_of_month(values['month'])
        return values


class Task(Workflow, ModelSQL, ModelView):
    __name__ = 'telecom.group.task'

    plan = fields.Many2One('telecom.group.work_plan', "Work Plan",
        required=True, ondelete='CASCADE')
    group = fields.Many2One('party.party', "Group", ondelete='CASCADE',
        domain=[('group_customer', '=', True)],
        states={'readonly': Eval('state') != 'open'})
    description = fields.Char("Description", required=True,
        states={'readonly': Eval('state') != 'open'})
    due_date = fields.Date("Due",
        states={'readonly': Eval('state') != 'open'})
    state = fields.Selection([
            ('open', "Open"),
            ('done', "Done"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True)
    done_date = fields.Date("Done On", readonly=True)
    visit = fields.Many2One('telecom.group.visit', "Visit",
        ondelete='SET NULL',
        domain=[('group', '=', Eval('group', -1))],
        help="The visit that did the task.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('plan')
        cls._order = [('due_date', 'ASC NULLS LAST'), ('id', 'ASC')]
        cls._transitions |= {
            ('open', 'done'),
            ('open', 'cancelled'),
            ('done', 'open'),
            ('cancelled', 'open'),
            }
        cls._buttons.update({
                'do': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': Eval('state') == 'open',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, tasks):
        today = Pool().get('ir.date').today()
        cls.write([t for t in tasks if not t.done_date],
            {'done_date': today})

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, tasks):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, tasks):
        cls.write(tasks, {'done_date': None})

    @classmethod
    def on_modification(cls, mode, tasks, field_names=None):
        super().on_modification(mode, tasks, field_names=field_names)
        # pointing an open task at the visit that did it completes it
        if mode in {'create', 'write'} and (
                field_names is None or 'visit' in field_names):
            by_date = defaultdict(list)
            for task in tasks:
                if task.visit and task.state == 'open':
                    by_date[task.visit.date].append(task)
            if by_date:
                cls.write(*chain(*(
                            (done, {'state': 'done', 'done_date': date})
                            for date, done in by_date.items())))
