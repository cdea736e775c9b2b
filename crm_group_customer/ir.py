from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

# the models whose rows an account manager sees for themself and a
# director for their subordinates
EMPLOYEE_RULE_MODELS = {'telecom.group.performance'}


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('telecom.group.care|generate', "Raise Group Care Reminders"),
                ('telecom.group.contract|remind_expiring',
                    "Remind Expiring Group Contracts"),
                ('telecom.group.contract|end_due', "End Due Group Contracts"),
                ('party.party|compute_value_levels',
                    "Compute Group Value Levels"),
                ])


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "managed_employees" as list of ids of the user\'s employees '
            'and of those they supervise')

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        if model_name in EMPLOYEE_RULE_MODELS:
            context['managed_employees'] = cls._managed_employees()
        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        if model_names & EMPLOYEE_RULE_MODELS:
            key = (*key, Transaction().user)
        return key

    @classmethod
    def _managed_employees(cls):
        "The user's employees and everyone under them"
        pool = Pool()
        User = pool.get('res.user')
        Employee = pool.get('company.employee')
        employees = list(User.get_employees())
        if not employees:
            return []
        with Transaction().set_context(_check_access=False):
            return [e.id for e in Employee.search([
                        ('supervisor', 'child_of', employees, 'supervisor'),
                        ])]
