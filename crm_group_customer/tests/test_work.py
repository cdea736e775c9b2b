"Account managers' work: visits, work plans and tasks, care reminders"
import datetime as dt
import unittest

from trytond.model.exceptions import SQLConstraintError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.transaction import Transaction

from crm_group_customer.care import occurrences
from crm_group_customer.tests.tools import create_group, manager_staff


class WorkTestCase(unittest.TestCase):
    "Visits, work plans, tasks and care reminders"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_group_customer')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    @with_transaction()
    def test_visit_and_tasks(self):
        "A task pointed at the visit that did it is done on the visit's day"
        pool = Pool()
        Visit = pool.get('telecom.group.visit')
        Plan = pool.get('telecom.group.work_plan')
        Task = pool.get('telecom.group.task')
        manager, _ = manager_staff()
        group = create_group(manager=manager)
        with Transaction().set_context(employee=manager.employee.id):
            visit, = Visit.create([{'group': group.id,
                        'date': dt.date(2026, 10, 5), 'kind': 'regular',
                        'purpose': "季度回访"}])
            plan, = Plan.create([{'month': dt.date(2026, 10, 17),
                        'goals': "新增成员 20 个",
                        'tasks': [('create', [
                                    {'group': group.id,
                                        'description': "拜访信息部"},
                                    {'group': group.id,
                                        'description': "续签合同"},
                                    ])]}])
        self.assertEqual(visit.employee, manager.employee)
        self.assertEqual(plan.employee, manager.employee)
        self.assertEqual(plan.month, dt.date(2026, 10, 1))
        self.assertEqual(group.group_visits, (visit,))

        first, second = plan.tasks
        Task.write([first], {'visit': visit.id})
        self.assertEqual(first.state, 'done')
        self.assertEqual(first.done_date, dt.date(2026, 10, 5))
        self.assertEqual(Plan(plan.id).progress, '1/2')
        Task.cancel([second])
        self.assertEqual(Plan(plan.id).progress, '1/1')
        Task.reopen([second])
        Task.do([second])
        self.assertIsNotNone(second.done_date)

        with self.assertRaises(SQLConstraintError):
            Plan.create([{'employee': manager.employee.id,
                        'month': dt.date(2026, 10, 1)}])

    @with_transaction()
    def test_care_reminders(self):
        """Birthdays and anniversaries raise reminders once, for the
        group's manager; a care visit closes them"""
        pool = Pool()
        Care = pool.get('telecom.group.care')
        Visit = pool.get('telecom.group.visit')
        Configuration = pool.get('telecom.configuration')
        self.assertEqual(Configuration(1).care_reminder_days, 7)
        manager, _ = manager_staff()
        group = create_group(manager=manager, group_contacts=[('create', [
                        {'name': "王总", 'role': 'decision_maker',
                            'birthday': dt.date(1975, 12, 5)},
                        {'name': "李工", 'role': 'it',
                            'birthday': dt.date(1988, 12, 20)},
                        {'name': "赵会计", 'role': 'finance'},
                        ])])
        boss = next(c for c in group.group_contacts if c.name == "王总")

        cares = Care.generate(dt.date(2026, 12, 1))
        self.assertEqual([(c.contact, c.kind, c.date, c.employee)
                for c in cares],
            [(boss, 'birthday', dt.date(2026, 12, 5), manager.employee)])
        self.assertEqual(Care.generate(dt.date(2026, 12, 2)), [])
        self.assertEqual(group.group_cares, tuple(cares))

        visit, = Visit.create([{'group': group.id, 'contact': boss.id,
                    'employee': manager.employee.id,
                    'date': dt.date(2026, 12, 4), 'kind': 'care',
                    'purpose': "生日慰问"}])
        care, = cares
        self.assertEqual(care.state, 'done')
        self.assertEqual(care.visit, visit)

    def test_occurrences(self):
        "A birthday on 29 February falls on the 28th out of leap years"
        self.assertEqual(list(occurrences(dt.date(1992, 2, 29),
                    dt.date(2027, 2, 25), dt.date(2027, 3, 3))),
            [dt.date(2027, 2, 28)])
        self.assertEqual(list(occurrences(dt.date(2025, 12, 30),
                    dt.date(2025, 12, 28), dt.date(2026, 1, 3),
                    after=True)), [])
        self.assertEqual(list(occurrences(dt.date(2024, 12, 30),
                    dt.date(2026, 12, 28), dt.date(2027, 1, 3),
                    after=True)), [dt.date(2026, 12, 30)])

    @with_transaction()
    def test_crons(self):
        "The daily and monthly group jobs are offered to the scheduler"
        Cron = Pool().get('ir.cron')
        methods = dict(Cron.fields_get(['method'])['method']['selection'])
        for method in ['telecom.group.care|generate',
                'party.party|compute_value_levels',
                'telecom.group.contract|remind_expiring',
                'telecom.group.contract|end_due']:
            self.assertIn(method, methods)
