"Ownership, handlers, closing rules, repeats and merging"
import unittest

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
from crm_telecom.tests.tools import BEFORE, create_staff, line_since


class RequestTestCase(unittest.TestCase):
    "Service requests"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_service')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    @with_transaction()
    def test_owner_kept_through_transfer(self):
        "The taker owns the request; a transfer adds a handler"
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Handling = pool.get('telecom.service_request.handling')
        agent, supervisor, _, team = service_staff()
        other = create_staff('backoffice', 'group_call_centre',
            name="后台支撑")
        line = line_since(BEFORE)
        topic = create_topic()
        with as_user(agent):
            request = create_request(line, type='complaint',
                topic=topic.id)
            self.assertEqual(request.owner, agent.employee)
            self.assertEqual(request.team, team)
            self.assertTrue(request.code.startswith('SR'))
            handling, = Handling.create([{'request': request.id,
                        'handler': other.employee.id,
                        'question': "请核查短信业务开通状态"}])
            self.assertEqual(handling.kind, 'transfer')
            with self.assertRaises(ServiceError):
                Request.write([request], {'owner': other.employee.id})
            request.resolution = "已恢复"
            request.save()
            # the handler has not answered yet
            with self.assertRaises(ServiceError):
                Request.resolve([request])
        with as_user(other):
            with self.assertRaises(ServiceError):
                Handling.hand_back([handling])
            handling.answer = "已重新开通"
            handling.save()
            Handling.hand_back([handling])
        with as_user(agent):
            Request.resolve([request])
            # a complaint needs the customer's confirmation
            with self.assertRaises(ServiceError):
                Request.close([request])
            Request.confirm([request])
        request = Request(request.id)
        self.assertEqual(request.state, 'closed')
        self.assertEqual(request.owner, agent.employee)
        self.assertEqual([e.kind for e in request.events], [
                'created', 'transferred', 'answered', 'resolved',
                'confirmed', 'closed'])

    @with_transaction()
    def test_resolution_required(self):
        Request = Pool().get('telecom.service_request')
        agent, *_ = service_staff()
        line = line_since(BEFORE)
        with as_user(agent):
            request = create_request(line)
            with self.assertRaises(ServiceValidationError):
                Request.resolve([request])

    @with_transaction()
    def test_repeat_and_merge(self):
        "A second complaint on the topic is a repeat, raised; merged"
        Request = Pool().get('telecom.service_request')
        Contact = Pool().get('telecom.service_request.contact')
        agent, *_ = service_staff()
        topic = create_topic()
        bill_topic = create_topic('BILL', "账单")
        line = line_since(BEFORE)
        with as_user(agent):
            first = create_request(line, type='complaint', topic=topic.id)
            other_topic = create_request(line, type='complaint',
                topic=bill_topic.id)
            second = create_request(line, type='complaint', topic=topic.id,
                contacts=[('create', [{'note': "再次来电"}])])
        self.assertEqual(second.repeat_of, first)
        self.assertEqual(second.priority, 'high')
        self.assertFalse(other_topic.repeat_of)
        with as_user(agent):
            Request.merge([second], first)
        second, first = Request(second.id), Request(first.id)
        self.assertEqual(second.state, 'merged')
        self.assertEqual(second.merged_into, first)
        self.assertEqual([c.note for c in Contact.search(
                    [('request', '=', first.id)])], ["再次来电"])

    @with_transaction()
    def test_identity_masked_through_requests(self):
        "A call-centre agent reads and exports a request's customer masked"
        from crm_telecom import identity
        from crm_telecom.exceptions import IdentityAccessError
        Request = Pool().get('telecom.service_request')
        agent, *_ = service_staff()
        line = line_since(BEFORE)
        code = line.customer.identity_code
        with as_user(agent):
            request = create_request(line)
            rows = Request.export_data([Request(request.id)],
                ['code', 'customer/identity_code'])
            self.assertNotIn(code, str(rows))
            self.assertIn(identity.mask(code), str(rows))
            rows = Request.search_read([('id', '=', request.id)],
                fields_names=['customer.identity_code'])
            self.assertNotIn(code, str(rows))
            # only the full number may be searched
            with self.assertRaises(IdentityAccessError):
                Request.search([('customer.identity_code', 'like',
                            code[:6] + '%')])
            self.assertEqual(Request.search([
                        ('customer.identity_code', '=', code)]), [request])
