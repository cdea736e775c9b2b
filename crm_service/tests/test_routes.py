"""The inbound endpoint: requests from the online hall and the app, and
the replies to the SMS survey, which goes out through the outbox of
crm_provisioning. Each request over HTTP commits, as it does in
production: the tests read what was stored in transactions of their own."""
import itertools
import json
from unittest.mock import patch

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from crm_service.tests.tools import as_user, create_topic
from crm_telecom.tests.tools import BEFORE, create_staff, line_since


class RoutesTestCase(RouteTestCase):
    "Inbound endpoint"
    module = 'crm_service'
    extras = ['crm_provisioning']
    _lines = itertools.count(1)

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        Application = pool.get('res.user.application')
        desk = create_staff('desk', 'group_call_centre',
            name="网上营业厅值班")
        cls.desk_id = desk.id
        cls.desk_employee_id = desk.employee.id
        application, = Application.create([{
                    'user': desk.id,
                    'application': 'crm_service_inbound',
                    'state': 'validated',
                    }])
        cls.key = application.key
        rest, = Application.create([{
                    'user': desk.id, 'application': 'rest',
                    'state': 'validated'}])
        cls.rest_key = rest.key
        create_topic('VAS', "增值业务")

    # --- helpers ----------------------------------------------------------

    def committed(self, func):
        "Run func in a transaction of its own and commit it"
        with Transaction().start(DB_NAME, 1) as transaction:
            result = func()
            transaction.commit()
            transaction.tasks.clear()
        return result

    def read(self, func):
        with Transaction().start(DB_NAME, 1):
            return func()

    def desk(self):
        return Pool().get('res.user')(self.desk_id)

    def new_line(self):
        "A line of a customer of its own: (line id, number, customer code)"
        def setup():
            i = next(self._lines)
            line = line_since(BEFORE, number='1390000%04d' % (100 + i))
            customer = line.customer
            if not customer.code:
                customer.code = 'C%06d' % line.id
                customer.save()
            return line.id, line.number.number, customer.code
        return self.committed(setup)

    def resolved_request(self, number, type_='complaint'):
        "A request of the line the desk took and resolved, surveyed by SMS"
        def setup():
            pool = Pool()
            Request = pool.get('telecom.service_request')
            Subscriber = pool.get('telecom.subscriber')
            line, = Subscriber.search([('number.number', '=', number)])
            with as_user(self.desk()):
                request, = Request.create([{
                            'type': type_,
                            'customer': line.customer.id,
                            'subscriber': line.id,
                            'subject': "短信发不出去",
                            'resolution': "已重置短信中心号码",
                            }])
                Request.resolve([request])
                Request.send_survey([Request(request.id)])
            return request.id, request.code
        return self.committed(setup)

    def post(self, path, body=None, key=None, data=None):
        headers = {}
        if key is not False:
            headers['Authorization'] = 'Bearer ' + (key or self.key)
        url = '/%s/crm_service/%s' % (self.db_name, path)
        if data is not None:
            return self.client().post(url, headers=headers, data=data,
                content_type='application/json')
        return self.client().post(url, headers=headers, json=body)

    def refused(self, path, body=None, words='', data=None):
        response = self.post(path, body, data=data)
        self.assertEqual(response.status_code, 400,
            (body, data, response.data))
        message = json.loads(response.data)['message']
        self.assertIn(words, message, (body, data))
        return message

    def counts(self):
        def count():
            pool = Pool()
            return tuple(pool.get(m).search_count([]) for m in [
                    'telecom.service_request',
                    'telecom.service_request.visit',
                    'telecom.service_request.event',
                    ])
        return self.read(count)

    # --- requests ---------------------------------------------------------

    def test_request_created(self):
        "A request from the online hall, owned by the desk's employee"
        line_id, number, code = self.new_line()
        response = self.post('requests', {
                'channel': 'online',
                'type': 'complaint',
                'number': number,
                'subject': "流量包未生效",
                'description': "昨天办理的10元流量包今天还不能用",
                'topic': 'VAS',
                'contact_phone': '020-12345678',
                })
        self.assertEqual(response.status_code, 201, response.data)
        answer = json.loads(response.data)
        self.assertEqual(answer['state'], 'open')
        self.assertTrue(answer['code'].startswith('SR'))
        # the moment in UTC, said so
        self.assertTrue(answer['deadline'] is None
            or answer['deadline'].endswith('+00:00'), answer['deadline'])

        def check():
            Request = Pool().get('telecom.service_request')
            request, = Request.search([('code', '=', answer['code'])])
            self.assertEqual((request.channel, request.type,
                    request.subscriber.id, request.customer.code,
                    request.topic.code, request.contact_phone,
                    request.owner.id, request.subject),
                ('online', 'complaint', line_id, code, 'VAS',
                    '020-12345678', self.desk_employee_id, "流量包未生效"))
            self.assertEqual(request.company, request.owner.company)
            event, = request.events
            self.assertEqual((event.kind, event.employee.id),
                ('created', self.desk_employee_id))
        self.read(check)

        # from the app with the customer's code only
        response = self.post('requests', {
                'channel': 'app', 'type': 'consultation',
                'customer': code, 'subject': "怎么查询积分"})
        self.assertEqual(response.status_code, 201, response.data)

        def check_app():
            Request = Pool().get('telecom.service_request')
            request, = Request.search([
                    ('code', '=', json.loads(response.data)['code'])])
            self.assertEqual((request.channel, request.customer.code,
                    request.subscriber), ('app', code, None))
        self.read(check_app)

    def test_request_refused(self):
        "Each bad body gets 400 and its reason; nothing is stored"
        _, number, code = self.new_line()
        _, other_number, _ = self.new_line()
        good = {'channel': 'sms_hall', 'type': 'fault', 'number': number,
            'subject': "信号差"}
        before = self.counts()
        self.assertEqual(self.post('requests', good, key=False).status_code,
            401)
        self.assertEqual(
            self.post('requests', good, key=self.rest_key).status_code, 401)
        self.refused('requests', data=b'{"channel": ', words="not JSON")
        self.refused('requests', data=b'["online"]', words="JSON object")
        for change, words in [
                ({'channel': 'call_centre'}, '"channel" cannot be'),
                ({'channel': None}, '"channel" is required'),
                ({'type': 'praise'}, '"type" cannot be "praise"'),
                ({'number': '19900000000'}, '"19900000000"'),
                ({'number': None}, "Give the customer"),
                ({'number': None, 'customer': 'NOBODY'}, '"NOBODY"'),
                ({'number': other_number, 'customer': code},
                    "is not a line of customer"),
                ({'subject': None}, '"subject" is required'),
                ({'subject': "   "}, '"subject" is required'),
                ({'subject': 42}, '"subject" must be text, not 42'),
                ({'topic': 'NOPE'}, '"NOPE"'),
                ]:
            self.refused('requests', {**good, **change}, words)
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.post('requests', good).status_code, 201)
        self.assertEqual(self.counts()[0], before[0] + 1)

    def test_not_activated(self):
        "Where the module is not activated the routes are not found"
        real = Pool.get

        def get(pool, name, type='model'):
            if name.startswith('telecom.service_request'):
                raise KeyError(name)
            return real(pool, name, type=type)
        with patch.object(Pool, 'get', get):
            self.assertEqual(self.post('requests', {}).status_code, 404)
            self.assertEqual(self.post('survey', {}).status_code, 404)

    # --- survey -----------------------------------------------------------

    def test_sms_survey_replied(self):
        """The survey goes out through the outbox; the SMS reply closes the
        complaint; bad replies change nothing"""
        _, number, _ = self.new_line()
        request_id, code = self.resolved_request(number)

        def outbox():
            Outbox = Pool().get('telecom.provisioning.request')
            sms, = Outbox.search([('action', '=', 'service_survey'),
                    ('number', '=', number)])
            self.assertEqual((sms.channel, sms.subscriber.number.number),
                ('sms', number))
            payload = json.loads(sms.payload)
            self.assertEqual((payload['to'], payload['event']),
                (number, 'service_survey'))
            self.assertIn(code, payload['text'])
            self.assertIn(('service_survey', "Satisfaction Survey"),
                Outbox.action.selection)
        self.read(outbox)

        before = self.counts()
        for body, words in [
                ({'number': number, 'text': "很满意"}, "has no score"),
                ({'number': number, 'text': "8"}, "not 8"),
                ({'number': number, 'text': "0分"}, "not 0"),
                ({'number': number}, '"text" is required'),
                ({'number': '19900000000', 'text': "5"}, '"19900000000"'),
                ({'request': 'SR-NONE', 'score': 5}, '"SR-NONE"'),
                ({'request': code, 'score': 6}, "not 6"),
                ({'request': code, 'score': "5"}, 'not "5"'),
                ({'request': code, 'score': True}, "not true"),
                ({'request': code, 'score': 4.5}, "not 4.5"),
                ({'request': code}, '"score" is required'),
                ({'score': 5}, '"request" and "score"'),
                ]:
            self.refused('survey', body, words)
        self.refused('survey', data=b'5', words="JSON object")
        self.assertEqual(self.counts(), before)

        def state():
            pool = Pool()
            Request = pool.get('telecom.service_request')
            request = Request(request_id)
            visit, = request.visits
            return (request.state, visit.state, visit.satisfaction,
                visit.reason, request.customer_confirmed)
        self.assertEqual(self.read(state)[:2], ('resolved', 'sent'))

        response = self.post('survey', {'number': number,
                'text': "5 谢谢，已经好了"})
        self.assertEqual(response.status_code, 200, response.data)
        self.assertEqual(json.loads(response.data), {
                'request': code, 'state': 'closed',
                'result': 'satisfied', 'satisfaction': 5})
        self.assertEqual(self.read(state),
            ('closed', 'done', 5, "谢谢，已经好了", True))
        # answered: nothing waits any more
        before = self.counts()
        self.refused('survey', {'number': number, 'text': "1"},
            "waits for a reply")
        self.refused('survey', {'request': code, 'score': 1},
            "no survey waiting")
        self.assertEqual(self.counts(), before)
        self.assertEqual(self.read(state)[0], 'closed')

    def test_survey_by_code_dissatisfied(self):
        "A low score from the app reopens the request with the reason"
        _, number, _ = self.new_line()
        request_id, code = self.resolved_request(number, 'fault')
        response = self.post('survey', {'request': code, 'score': 1,
                'reason': "还是没有信号"})
        self.assertEqual(response.status_code, 200, response.data)
        self.assertEqual(json.loads(response.data), {
                'request': code, 'state': 'open',
                'result': 'dissatisfied', 'satisfaction': 1})

        def check():
            request = Pool().get('telecom.service_request')(request_id)
            self.assertEqual(request.state, 'open')
            self.assertEqual(request.satisfaction, 1)
            self.assertEqual(request.owner.id, self.desk_employee_id)
            visit_event, reopened = request.events[-2:]
            self.assertEqual((visit_event.kind, reopened.kind),
                ('visit', 'reopened'))
            self.assertIn("还是没有信号", reopened.description)
            self.assertEqual(reopened.employee.id, self.desk_employee_id)
        self.read(check)


del RouteTestCase
