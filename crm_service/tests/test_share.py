"""A request for help across companies: the company asked sees the request
and what it links to, and nothing else of the other company"""
import unittest

from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)

from crm_service.exceptions import ServiceError
from crm_service.tests.tools import (
    as_user,
    company_staff,
    create_request,
    create_topic,
    service_staff,
)
from crm_telecom.tests.tools import (
    BEFORE,
    create_payment,
    line_since,
    other_company,
)


class ShareTestCase(unittest.TestCase):
    "Cross-company help"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_service')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    @with_transaction()
    def test_asked_company_sees_only_the_shared_request(self):
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Handling = pool.get('telecom.service_request.handling')
        Party = pool.get('party.party')
        Subscriber = pool.get('telecom.subscriber')
        Account = pool.get('telecom.account')
        Payment = pool.get('telecom.payment')
        Movement = pool.get('telecom.account.movement')
        agent, *_ = service_staff()
        hong_kong = other_company()
        hk_agent = company_staff(hong_kong, 'hk_agent', 'group_call_centre',
            name="香港客服")
        topic = create_topic('TOPUP', "充值")
        line = line_since(BEFORE, number='13800138000')
        neighbour = line_since(BEFORE, number='13800138001')
        top_up = create_payment(line.account, '50', kind='top_up',
            reference='WX-1')
        earlier = create_payment(line.account, '20', kind='top_up',
            reference='WX-0')
        with as_user(agent):
            request = create_request(line, type='complaint', topic=topic.id,
                payment=top_up.id, subject="充值成功但余额未变")
            unrelated = create_request(neighbour, subject="咨询套餐")
            self.assertEqual(len(request.payment_movements), 1)
            with as_user(hk_agent):
                self.assertEqual(Request.search([]), [])
            handling, = Handling.create([{'request': request.id,
                        'company': hong_kong.id,
                        'question': "请核查一卡双号香港号码的余额"}])
            self.assertEqual(handling.kind, 'help')

        with as_user(hk_agent):
            self.assertEqual(Request.search([]), [request])
            self.assertEqual(Party.search([('id', 'in', [
                                line.customer.id,
                                neighbour.customer.id])]),
                [line.customer])
            self.assertEqual(Subscriber.search([]), [line])
            self.assertEqual(Account.search([]), [line.account])
            self.assertEqual(Payment.search([]), [top_up])
            shared = Request(request.id)
            self.assertEqual(shared.payment.amount, top_up.amount)
            self.assertEqual([m.id for m in Movement.search([])],
                [m.id for m in shared.payment_movements])
            for Model, record in [(Request, unrelated), (Payment, earlier),
                    (Subscriber, neighbour), (Party, neighbour.customer)]:
                with self.assertRaises(AccessError):
                    Model.read([record.id], ['rec_name'])
            # the asked side answers on the handling, not on the request
            with self.assertRaises(AccessError):
                Request.write([shared], {'subject': "改"})
            with self.assertRaises(ServiceError):
                Handling.hand_back([Handling(handling.id)])
            Handling.write([Handling(handling.id)], {
                    'answer': "充值误入内地号码账户，已转入香港号码"})
            Handling.hand_back([Handling(handling.id)])

        with as_user(agent):
            request = Request(request.id)
            self.assertEqual(request.handlings[0].state, 'answered')
            self.assertEqual(request.owner, agent.employee)
