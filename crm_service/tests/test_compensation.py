"Compensation on complaints: approval and the credit on the next bill"
import datetime as dt
import unittest
from decimal import Decimal as D

from trytond.model.exceptions import AccessButtonError, AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

from crm_service.exceptions import ServiceError, ServiceValidationError
from crm_service.tests.tools import (
    as_user,
    create_request,
    create_topic,
    service_staff,
)
from crm_telecom.tests.tools import (
    BEFORE,
    CYCLE,
    create_account,
    create_customer,
    create_staff,
    line_since,
    setup_company,
)


def bill_run(period_start=CYCLE):
    "A bill run of the cycle, processed as the cron's task does"
    BillRun = Pool().get('telecom.bill.run')
    runs = BillRun.search([('period_start', '=', period_start)])
    if not runs:
        runs = BillRun.create([{'period_start': period_start}])
    BillRun.process(runs, commit=False)
    return runs[0]


def bill_of(account, period_start=CYCLE):
    Bill = Pool().get('telecom.bill')
    bill, = Bill.search([
            ('account', '=', account.id),
            ('period_start', '=', period_start),
            ])
    return bill


class CompensationTestCase(unittest.TestCase):
    "Compensation"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_service')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def complaint(self, agent, line, **values):
        topic = create_topic()
        with as_user(agent):
            return create_request(line, type='complaint', topic=topic.id,
                **values)

    def compensation(self, request, amount, reason="短信业务中断三天", **values):
        Compensation = Pool().get('telecom.service_request.compensation')
        compensation, = Compensation.create([{'request': request.id,
                    'amount': D(amount), 'reason': reason, **values}])
        return compensation

    def reload(self, *records):
        return [r.__class__(r.id) for r in records]

    @with_transaction()
    def test_small_approved_at_once_large_by_another_supervisor(self):
        """At or under the amount the credit is approved on proposal; above
        it neither the agent nor the proposing supervisor may approve it,
        another supervisor does; each lands on the next bill"""
        pool = Pool()
        Compensation = pool.get('telecom.service_request.compensation')
        agent, supervisor, director, _ = service_staff()
        line = line_since(BEFORE)
        account = line.account
        request = self.complaint(agent, line)
        with as_user(agent):
            small = self.compensation(request, '10.00')
            # the request's line and its account by default
            self.assertEqual((small.account, small.subscriber),
                (account, line))
            self.assertEqual(small.state, 'draft')
            Compensation.propose([small])
        small, = self.reload(small)
        self.assertEqual(small.state, 'approved')
        self.assertEqual(small.proposed_by, agent.employee)
        self.assertEqual(small.approved_by, agent.employee)
        adjustment = small.adjustment
        self.assertEqual((adjustment.state, adjustment.amount,
                adjustment.account, adjustment.subscriber,
                adjustment.service_request),
            ('approved', D('-10.00'), account, line, request))
        self.assertEqual(adjustment.requested_employee, agent.employee)
        self.assertIn(request.code, adjustment.reason)

        with as_user(supervisor):
            large = self.compensation(request, '60.00',
                reason="多次投诉未解决")
            Compensation.propose([large])
        large, = self.reload(large)
        self.assertEqual(large.state, 'waiting')
        self.assertIsNone(large.adjustment)
        # not by an agent, nor by who proposed it
        with as_user(agent), self.assertRaises(AccessButtonError):
            Compensation.approve([large])
        with as_user(supervisor), self.assertRaises(ServiceError) as cm:
            Compensation.approve([large])
        self.assertIn("other than the person who proposed it",
            cm.exception.message)
        self.assertEqual(self.reload(large)[0].state, 'waiting')

        # the bill run takes the approved credit only
        bill_run()
        bill = bill_of(account)
        credit, = [l for l in bill.lines if l.kind == 'adjustment']
        self.assertEqual(credit.amount, D('-10.00'))
        self.assertEqual(credit.adjustment, adjustment)
        self.assertEqual(credit.adjustment.service_request, request)
        self.assertEqual(credit.subscriber, line)
        self.assertEqual(bill.amount, D('8.00'))
        self.assertEqual(self.reload(small)[0].bill, bill)

        with as_user(director):
            Compensation.approve([large])
        large, = self.reload(large)
        self.assertEqual(large.state, 'approved')
        self.assertEqual(large.approved_by, director.employee)
        self.assertEqual(large.proposed_by, supervisor.employee)
        self.assertEqual(large.adjustment.amount, D('-60.00'))
        self.assertEqual(large.adjustment.approved_employee,
            director.employee)
        december = dt.date(2026, 12, 1)
        bill_run(december)
        credit, = [l for l in bill_of(account, december).lines
            if l.kind == 'adjustment']
        self.assertEqual(credit.amount, D('-60.00'))
        self.assertEqual(credit.adjustment.service_request, request)

        # each step in the request's history, by whoever took it
        request = request.__class__(request.id)
        steps = [(e.employee, e.description) for e in request.events
            if e.kind == 'compensation']
        self.assertEqual([e for e, _ in steps], [agent.employee,
                agent.employee, supervisor.employee, director.employee])
        self.assertIn("10.00 yuan", steps[0][1])
        self.assertIn("approved", steps[1][1])
        self.assertIn("waiting for a supervisor", steps[2][1])
        self.assertIn("60.00 yuan", steps[3][1])
        self.assertIn("approved", steps[3][1])

    @with_transaction()
    def test_refused(self):
        "A supervisor refuses: no credit"
        Compensation = Pool().get('telecom.service_request.compensation')
        agent, supervisor, *_ = service_staff()
        line = line_since(BEFORE)
        request = self.complaint(agent, line)
        with as_user(agent):
            compensation = self.compensation(request, '200')
            Compensation.propose([compensation])
            with self.assertRaises(AccessButtonError):
                Compensation.refuse([compensation])
        with as_user(supervisor):
            Compensation.refuse([compensation])
        compensation, = self.reload(compensation)
        self.assertEqual(compensation.state, 'refused')
        self.assertEqual(compensation.refused_by, supervisor.employee)
        self.assertIsNone(compensation.adjustment)
        self.assertFalse(Pool().get('telecom.bill.adjustment').search([
                    ('service_request', '=', request.id)]))
        with as_user(agent), self.assertRaises(ServiceError):
            Compensation.delete([compensation])

    @with_transaction()
    def test_rules(self):
        "On complaints, a positive credit, to an account of the customer"
        pool = Pool()
        Compensation = pool.get('telecom.service_request.compensation')
        agent, *_ = service_staff()
        line = line_since(BEFORE)
        with as_user(agent):
            consultation = create_request(line, subject="套餐咨询")
            with self.assertRaises(ServiceValidationError) as cm:
                self.compensation(consultation, '5')
            self.assertIn("complaints only", cm.exception.message)
        request = self.complaint(agent, line)
        stranger = create_account(create_customer("李四", sequence=77))
        own = create_account(line.customer)
        with as_user(agent):
            for amount in ['0', '-5']:
                with self.assertRaises(ServiceValidationError) as cm:
                    self.compensation(request, amount)
                self.assertIn("positive amount", cm.exception.message)
            with self.assertRaises(ServiceValidationError) as cm:
                self.compensation(request, '5', account=stranger.id,
                    subscriber=None)
            self.assertIn(stranger.rec_name, cm.exception.message)
            # the line is not on that account
            with self.assertRaises(ServiceValidationError):
                self.compensation(request, '5', account=own.id,
                    subscriber=line.id)
            # another account of the customer, without a line
            other = self.compensation(request, '5', account=own.id,
                subscriber=None)
            self.assertEqual(other.account, own)
            Compensation.delete([other])

    @with_transaction()
    def test_closed_request_and_access(self):
        """Not on a closed complaint; billing reads the credits, does not
        propose them"""
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Compensation = pool.get('telecom.service_request.compensation')
        agent, *_ = service_staff()
        billing = create_staff('biller', 'group_billing', name="账务员")
        line = line_since(BEFORE)
        request = self.complaint(agent, line)
        with as_user(agent):
            compensation = self.compensation(request, '20')
            Compensation.propose([compensation])
        with as_user(billing):
            self.assertEqual(Compensation.search([]), [compensation])
            self.assertEqual(
                Compensation(compensation.id).adjustment.service_request,
                request)
            with self.assertRaises(AccessError):
                self.compensation(request, '5')
        with as_user(agent):
            request.resolution = "已补偿并恢复"
            request.save()
            Request.resolve([request])
            Request.confirm([request])
            with self.assertRaises(ServiceError) as cm:
                self.compensation(request, '5')
            self.assertIn("Closed", cm.exception.message)

    @with_transaction()
    def test_other_company(self):
        "Another province's staff see neither the compensation nor visits"
        pool = Pool()
        Compensation = pool.get('telecom.service_request.compensation')
        Visit = pool.get('telecom.service_request.visit')
        User = pool.get('res.user')
        Employee = pool.get('company.employee')
        Party = pool.get('party.party')
        ModelData = pool.get('ir.model.data')
        agent, *_ = service_staff()
        line = line_since(BEFORE)
        request = self.complaint(agent, line)
        with as_user(agent):
            compensation = self.compensation(request, '20')
            Compensation.propose([compensation])
        other = setup_company("中国移动通信集团浙江有限公司")
        party, = Party.create([{'name': "浙江客服"}])
        employee, = Employee.create([{'party': party.id,
                    'company': other.id}])
        stranger, = User.create([{'login': 'zhejiang',
                    'groups': [('add', [ModelData.get_id(
                                    'crm_service',
                                    'group_service_supervisor')])],
                    'companies': [('add', [other.id])],
                    'company': other.id,
                    'employees': [('add', [employee.id])],
                    'employee': employee.id}])
        setup_company()
        with as_user(stranger):
            self.assertEqual(Compensation.search([]), [])
            self.assertEqual(Visit.search([]), [])
            with self.assertRaises(AccessError):
                Compensation.read([compensation.id], ['amount'])
        with as_user(agent):
            self.assertEqual(Compensation.search([]), [compensation])

    @with_transaction()
    def test_views(self):
        "The request form shows the compensation, the adjustment its request"
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Adjustment = pool.get('telecom.bill.adjustment')
        form = Request.fields_view_get(view_type='form')
        self.assertIn('compensations', form['fields'])
        self.assertIn('visits', form['fields'])
        self.assertIn('send_survey', form['arch'])
        form = Adjustment.fields_view_get(view_type='form')
        self.assertIn('service_request', form['fields'])
