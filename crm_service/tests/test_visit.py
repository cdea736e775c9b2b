"Return visits and satisfaction: what the customer's answer does"
import unittest
from unittest.mock import patch

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
from crm_service.visit import sms_score
from crm_telecom.tests.tools import BEFORE, line_since


class VisitTestCase(unittest.TestCase):
    "Return visits"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_service')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    def resolved(self, agent, line, type='complaint'):
        "A request of the line the agent took and resolved"
        Request = Pool().get('telecom.service_request')
        topic = create_topic()
        with as_user(agent):
            request = create_request(line, type=type, topic=topic.id,
                resolution="已为客户重新开通短信功能")
            Request.resolve([request])
        return Request(request.id)

    def visit(self, agent, request, **values):
        "The agent records a call on the request form (its visits)"
        Request = Pool().get('telecom.service_request')
        with as_user(agent):
            Request.write([request], {'visits': [('create', [values])]})
        request = Request(request.id)
        return request, request.visits[-1]

    def kinds(self, request):
        return [e.kind for e in request.events]

    @with_transaction()
    def test_satisfied_confirms(self):
        "A satisfied customer confirms the resolution: the request closes"
        agent, *_ = service_staff()
        line = line_since(BEFORE)
        request = self.resolved(agent, line)
        request, visit = self.visit(agent, request, satisfaction=4,
            reason="处理及时")
        self.assertEqual((visit.state, visit.result, visit.method),
            ('done', 'satisfied', 'call'))
        self.assertEqual(visit.employee, agent.employee)
        self.assertTrue(visit.answered_at)
        self.assertEqual(request.state, 'closed')
        self.assertTrue(request.customer_confirmed)
        self.assertEqual(request.satisfaction, 4)
        self.assertEqual(request.closed_by, agent.employee)
        self.assertEqual(self.kinds(request)[-3:],
            ['visit', 'confirmed', 'closed'])
        self.assertIn("4/5", request.events[-3].description)

    @with_transaction()
    def test_dissatisfied_reopens(self):
        "A dissatisfied customer sends the request back to its owner"
        Request = Pool().get('telecom.service_request')
        agent, *_ = service_staff()
        line = line_since(BEFORE)
        request = self.resolved(agent, line)
        request, visit = self.visit(agent, request, satisfaction=2,
            reason="短信仍然发不出去")
        self.assertEqual(visit.result, 'dissatisfied')
        self.assertEqual(request.state, 'open')
        self.assertIsNone(request.resolved_at)
        self.assertEqual(request.owner, agent.employee)
        self.assertEqual(request.satisfaction, 2)
        reopened = request.events[-1]
        self.assertEqual(reopened.kind, 'reopened')
        self.assertIn("短信仍然发不出去", reopened.description)
        # 'dissatisfied' alone does the same, on a closed request too
        with as_user(agent):
            Request.resolve([request])
            Request.confirm([request])
        request = Request(request.id)
        self.assertEqual(request.state, 'closed')
        request, visit = self.visit(agent, request, result='dissatisfied')
        self.assertEqual(request.state, 'open')
        self.assertIsNone(visit.satisfaction)

    @with_transaction()
    def test_unreachable_lets_complaint_close(self):
        "A return visit that failed lets the owner close a complaint"
        Request = Pool().get('telecom.service_request')
        agent, *_ = service_staff()
        line = line_since(BEFORE)
        request = self.resolved(agent, line)
        self.assertFalse(request.return_visit_failed)
        with as_user(agent), self.assertRaises(ServiceError):
            Request.close([request])
        request, visit = self.visit(agent, request, result='unreachable')
        self.assertEqual(request.state, 'resolved')
        self.assertTrue(request.return_visit_failed)
        self.assertIsNone(request.satisfaction)
        with as_user(agent):
            Request.close([request])
        request = Request(request.id)
        self.assertEqual(request.state, 'closed')
        self.assertFalse(request.customer_confirmed)
        # reopened and resolved again: that failed visit no longer counts
        with as_user(agent):
            Request.reopen([request], reason="客户再次来电")
            request = Request(request.id)
            self.assertFalse(request.return_visit_failed)
            Request.resolve([request])
            request = Request(request.id)
            self.assertFalse(request.return_visit_failed)
            with self.assertRaises(ServiceError):
                Request.close([request])

    @with_transaction()
    def test_visit_rules(self):
        "Scores from 1 to 5 matching the result; answers stay as given"
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Visit = pool.get('telecom.service_request.visit')
        agent, *_ = service_staff()
        line = line_since(BEFORE)
        with as_user(agent):
            open_ = create_request(line, subject="话费查询")
            with self.assertRaises(ServiceError) as cm:
                Visit.create([{'request': open_.id, 'satisfaction': 5}])
            self.assertIn("resolved or closed", cm.exception.message)
        request = self.resolved(agent, line, type='consultation')
        with as_user(agent):
            for values, words in [
                    ({'satisfaction': 7}, "from 1 to 5, not 7"),
                    ({'satisfaction': 1, 'result': 'satisfied'},
                        "does not match"),
                    ({}, "needs a result"),
                    ({'method': 'call', 'state': 'sent'}, "SMS survey"),
                    ]:
                with self.assertRaises(ServiceValidationError) as cm:
                    Visit.create([{'request': request.id, **values}])
                self.assertIn(words, cm.exception.message)
            self.assertEqual(Request(request.id).state, 'resolved')
            visit, = Visit.create([{'request': request.id,
                        'result': 'unreachable'}])
            with self.assertRaises(ServiceError):
                Visit.write([visit], {'result': 'satisfied'})
            with self.assertRaises(AccessError):
                Visit.delete([visit])
        with self.assertRaises(ServiceError):
            Visit.delete([visit])

    @with_transaction()
    def test_sms_survey(self):
        """The SMS survey names the request and asks for a score; the
        reply answers it, one survey waiting at a time"""
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Subscriber = pool.get('telecom.subscriber')
        Visit = pool.get('telecom.service_request.visit')
        agent, *_ = service_staff()
        line = line_since(BEFORE)
        request = self.resolved(agent, line, type='fault')
        sent = []
        with patch.object(Subscriber, 'send_sms',
                side_effect=lambda messages: sent.extend(messages)):
            with as_user(agent):
                Request.send_survey([request])
                with self.assertRaises(ServiceError) as cm:
                    Request.send_survey([request])
                self.assertIn("still waits", cm.exception.message)
        message, = sent
        self.assertEqual(message['subscriber'], line)
        self.assertEqual(message['number'], '13800138000')
        self.assertEqual(message['event'], 'service_survey')
        self.assertIn(request.code, message['text'])
        self.assertIn("1", message['text'])
        self.assertIn("5", message['text'])
        visit, = Request(request.id).visits
        self.assertEqual((visit.method, visit.state, visit.number,
                visit.subscriber, visit.result),
            ('sms', 'sent', '13800138000', line, None))
        self.assertEqual(Visit.pending_of_number('13800138000'), visit)
        self.assertEqual(Visit.pending_of_request(request), visit)
        self.assertEqual(Request(request.id).events[-1].kind, 'visit')

        with as_user(agent):
            Visit.answer([visit], satisfaction=5, reason="很好")
            with self.assertRaises(ServiceError):
                Visit.answer([visit], satisfaction=1)
        request, visit = Request(request.id), Visit(visit.id)
        self.assertEqual((visit.state, visit.result, visit.satisfaction),
            ('done', 'satisfied', 5))
        self.assertEqual(request.state, 'closed')
        self.assertEqual(request.satisfaction, 5)
        self.assertIsNone(Visit.pending_of_number('13800138000'))

    @with_transaction()
    def test_sms_no_reply(self):
        "A survey never answered: No Reply, the complaint may close"
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Subscriber = pool.get('telecom.subscriber')
        Visit = pool.get('telecom.service_request.visit')
        agent, *_ = service_staff()
        line = line_since(BEFORE)
        request = self.resolved(agent, line)
        with patch.object(Subscriber, 'send_sms'), as_user(agent):
            visit, = Visit.survey([request])
            Visit.no_reply([visit])
            request = Request(request.id)
            self.assertTrue(request.return_visit_failed)
            Request.close([request])
        self.assertEqual(Visit(visit.id).result, 'unreachable')
        self.assertEqual(Request(request.id).state, 'closed')

    @with_transaction()
    def test_survey_needs_line_and_resolution(self):
        Request = Pool().get('telecom.service_request')
        Visit = Pool().get('telecom.service_request.visit')
        agent, *_ = service_staff()
        line = line_since(BEFORE)
        with as_user(agent):
            request = create_request(line)
            # the button is not offered on an open request
            with self.assertRaises(AccessButtonError):
                Request.send_survey([request])
            with self.assertRaises(ServiceError) as cm:
                Visit.survey([request])
            self.assertIn("resolved or closed", cm.exception.message)
            no_line = create_request(customer=line.customer,
                resolution="已解答")
            Request.resolve([no_line])
            with self.assertRaises(ServiceError) as cm:
                Visit.survey([Request(no_line.id)])
            self.assertIn("no line", cm.exception.message)

    def test_sms_score(self):
        "The first digit of a reply is its score, the rest its reason"
        self.assertEqual(sms_score("5"), (5, None))
        self.assertEqual(sms_score(" 2 还是不能上网"), (2, "还是不能上网"))
        self.assertEqual(sms_score("满意4分"), (4, "满意分"))
        self.assertEqual(sms_score("满意"), (None, None))
        self.assertEqual(sms_score("9"), (9, None))
