"""Return visits and satisfaction.

Once a request is resolved the customer is asked how it went: an agent
calls them, or the request's line gets an SMS survey whose reply (a score
from 1 to 5) comes back through the inbound endpoint (routes.py). The
answer moves the request:

- satisfied (a score of 3 or more) on a resolved request: the customer
  confirmed it, the request is closed;
- dissatisfied (a score of 2 or less): the request goes back to its owner
  (reopened, with the customer's reason);
- unreachable: the return visit failed, so the owner may close a
  complaint without the customer's confirmation."""
import datetime as dt
import re

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.company.model import employee_field
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .company import RequestCompanyMixin
from .exceptions import ServiceError, ServiceValidationError

METHODS = [
    ('call', "Call by an Agent"),
    ('sms', "SMS Survey"),
    ]
STATES = [
    ('sent', "Waiting for the Reply"),
    ('done', "Done"),
    ]
RESULTS = [
    (None, ""),
    ('satisfied', "Satisfied"),
    ('dissatisfied', "Dissatisfied"),
    ('unreachable', "Unreachable"),
    ]
# the request states a return visit is made in
VISITED = ['resolved', 'closed']
SCORES = range(1, 6)
# the lowest score of a satisfied customer
SATISFIED = 3
# the event of the survey's SMS in the outbox
SMS_EVENT = 'service_survey'


def score_result(score):
    "The result a score of 1 to 5 stands for"
    return 'satisfied' if score >= SATISFIED else 'dissatisfied'


def sms_score(text):
    "The score of an SMS reply (its first digit) and the rest, its reason"
    match = re.search(r'\d', text or '')
    if not match:
        return None, None
    reason = (text[:match.start()] + text[match.end():]).strip(
        ' \t\r\n,.;:!?，。；：！？、')
    return int(match.group()), reason or None


class Visit(RequestCompanyMixin, ModelSQL, ModelView):
    "Service request return visit"
    __name__ = 'telecom.service_request.visit'

    request = fields.Many2One('telecom.service_request', "Request",
        required=True, ondelete='CASCADE',
        states={'readonly': Eval('id', -1) >= 0})
    date = fields.DateTime("Date", required=True,
        states={'readonly': Eval('id', -1) >= 0},
        help="When the agent called, or the survey was sent.")
    employee = employee_field("Employee", states=['sent', 'done'])
    method = fields.Selection(METHODS, "Method", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    state = fields.Selection(STATES, "State", required=True, readonly=True,
        sort=False)
    subscriber = fields.Many2One('telecom.subscriber', "Line",
        readonly=True, ondelete='RESTRICT',
        states={'invisible': Eval('method') != 'sms'})
    number = fields.Char("Number", readonly=True,
        states={'invisible': Eval('method') != 'sms'},
        help="The number the survey was sent to.")
    result = fields.Selection(RESULTS, "Result",
        states={
            'readonly': Eval('id', -1) >= 0,
            'required': Eval('state') == 'done',
            },
        help="Given a score, the result follows from it: 3 or more is "
        "satisfied.")
    satisfaction = fields.Integer("Satisfaction",
        domain=['OR',
            ('satisfaction', '=', None),
            [('satisfaction', '>=', 1), ('satisfaction', '<=', 5)],
            ],
        states={
            'readonly': Eval('id', -1) >= 0,
            'invisible': Eval('result') == 'unreachable',
            },
        help="The customer's score, from 1 (very dissatisfied) to 5 (very "
        "satisfied).")
    reason = fields.Text("Reason",
        states={'readonly': Eval('id', -1) >= 0},
        help="What the customer said; a dissatisfied customer's reason "
        "goes back to the owner with the request.")
    answered_at = fields.DateTime("Answered At", readonly=True)
    resolution = fields.Many2One('telecom.service_request.event',
        "Resolution", readonly=True, ondelete='SET NULL',
        help="The resolution the customer was asked about (the request's "
        "last one when the visit was made).")
    method_string = method.translated('method')
    result_string = result.translated('result')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('request')
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.request, Index.Range())),
                Index(t, (t.number, Index.Equality(cardinality='high')),
                    where=t.state == 'sent'),
                })
        cls._order = [('date', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'no_reply': {
                    'invisible': Eval('state') != 'sent',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_date(cls):
        return dt.datetime.now()

    @classmethod
    def default_employee(cls):
        return Transaction().context.get('employee')

    @classmethod
    def default_method(cls):
        return 'call'

    @classmethod
    def default_state(cls):
        return 'done'

    @fields.depends('satisfaction', 'result')
    def on_change_satisfaction(self):
        if self.satisfaction in SCORES:
            self.result = score_result(self.satisfaction)

    def get_rec_name(self, name):
        return '%s %s' % (self.request.code or '', self.method_string)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        score = values.get('satisfaction')
        if (mode == 'create' and score in SCORES
                and not values.get('result')):
            values['result'] = score_result(score)
        if mode == 'create' and values.get('state', 'done') == 'done':
            values.setdefault('answered_at', dt.datetime.now())
        if mode == 'create' and values.get('request'):
            values.setdefault('resolution',
                cls.last_resolutions([values['request']]).get(
                    values['request']))
        return values

    @classmethod
    def last_resolutions(cls, request_ids):
        "The last 'resolved' event of each request"
        Event = Pool().get('telecom.service_request.event')
        result = {}
        for sub_ids in grouped_slice(list(request_ids), 1000):
            for event in Event.search_read([
                        ('request', 'in', list(sub_ids)),
                        ('kind', '=', 'resolved'),
                        ], order=[('id', 'ASC')],
                    fields_names=['request']):
                result[event['request']] = event['id']
        return result

    @classmethod
    def _validate(cls, visits, field_names=None):
        # before the fields' domains, whose message would say less
        for visit in visits:
            visit.check_answer()
        super()._validate(visits, field_names=field_names)

    def check_answer(self):
        request = self.request.rec_name
        if self.state == 'sent' and self.method != 'sms':
            raise ServiceValidationError(gettext(
                    'crm_service.msg_visit_sent_not_sms', request=request))
        if self.satisfaction is not None:
            if self.satisfaction not in SCORES:
                raise ServiceValidationError(gettext(
                        'crm_service.msg_visit_score_range',
                        request=request, score=self.satisfaction))
            if self.result and self.result != score_result(
                    self.satisfaction):
                raise ServiceValidationError(gettext(
                        'crm_service.msg_visit_score_result',
                        request=request, score=self.satisfaction,
                        result=self.result_string))
        if self.state == 'done' and not self.result:
            raise ServiceValidationError(gettext(
                    'crm_service.msg_visit_no_result', request=request))

    @classmethod
    def create(cls, vlist):
        visits = super().create(vlist)
        for visit in visits:
            if visit.request.state not in VISITED:
                raise ServiceError(gettext(
                        'crm_service.msg_visit_request_state',
                        request=visit.request.rec_name,
                        state=visit.request.state_string))
        cls._answered([v for v in visits if v.state == 'done'])
        return visits

    @classmethod
    def check_modification(cls, mode, visits, values=None, external=False):
        super().check_modification(
            mode, visits, values=values, external=external)
        if mode == 'write' and external and (values.keys() & {
                    'result', 'satisfaction', 'reason'}):
            for visit in visits:
                if visit.state == 'done':
                    # the answer moved the request: it is not rewritten
                    raise ServiceError(gettext(
                            'crm_service.msg_visit_done_kept',
                            visit=visit.rec_name))
        if mode == 'delete':
            for visit in visits:
                raise ServiceError(gettext(
                        'crm_service.msg_visit_delete',
                        visit=visit.rec_name))

    @classmethod
    def copy(cls, visits, default=None):
        if visits:
            raise ServiceError(gettext('crm_service.msg_visit_copy'))
        return super().copy(visits, default=default)

    @classmethod
    def survey(cls, requests):
        """Send the SMS survey to each request's line: the visits waiting
        for the reply"""
        pool = Pool()
        Subscriber = pool.get('telecom.subscriber')
        Event = pool.get('telecom.service_request.event')
        pending = {v.request for v in cls.search([
                    ('request', 'in', [r.id for r in requests]),
                    ('state', '=', 'sent'),
                    ])}
        for request in requests:
            if request.state not in VISITED:
                raise ServiceError(gettext(
                        'crm_service.msg_visit_request_state',
                        request=request.rec_name,
                        state=request.state_string))
            if not request.subscriber:
                raise ServiceError(gettext(
                        'crm_service.msg_survey_no_line',
                        request=request.rec_name))
            if request in pending:
                raise ServiceError(gettext(
                        'crm_service.msg_survey_pending',
                        request=request.rec_name))
        visits = cls.create([{
                    'request': r.id,
                    'method': 'sms',
                    'state': 'sent',
                    'subscriber': r.subscriber.id,
                    'number': r.subscriber.number.number,
                    } for r in requests])
        Subscriber.send_sms([{
                    'subscriber': v.subscriber,
                    'number': v.number,
                    'event': SMS_EVENT,
                    'text': gettext('crm_service.msg_sms_survey',
                        request=v.request.code),
                    } for v in visits])
        Event.record([Event.values(v.request, 'visit', gettext(
                        'crm_service.msg_event_survey_sent',
                        number=v.number)) for v in visits])
        return visits

    @classmethod
    def answer(cls, visits, satisfaction=None, result=None, reason=None):
        """The customer's reply to the surveys: a score of 1 to 5, or a
        result (unreachable when they never answered)"""
        for visit in visits:
            if visit.state != 'sent':
                raise ServiceError(gettext(
                        'crm_service.msg_visit_answered',
                        visit=visit.rec_name))
        if satisfaction is not None and not result:
            if satisfaction not in SCORES:
                raise ServiceValidationError(gettext(
                        'crm_service.msg_visit_score_range',
                        request=visits[0].request.rec_name if visits else '',
                        score=satisfaction))
            result = score_result(satisfaction)
        cls.write(visits, {
                'state': 'done',
                'satisfaction': satisfaction,
                'result': result,
                'reason': reason,
                'answered_at': dt.datetime.now(),
                })
        cls._answered(visits)

    @classmethod
    @ModelView.button
    def no_reply(cls, visits):
        "The customer never answered the survey"
        cls.answer([v for v in visits if v.state == 'sent'],
            result='unreachable')

    @classmethod
    def pending_of_number(cls, number):
        "The latest survey sent to a number that waits for its reply"
        visits = cls.search([
                ('number', '=', number),
                ('method', '=', 'sms'),
                ('state', '=', 'sent'),
                ], order=[('date', 'DESC'), ('id', 'DESC')], limit=1)
        return visits[0] if visits else None

    @classmethod
    def pending_of_request(cls, request):
        "The latest survey of a request that waits for its reply"
        visits = cls.search([
                ('request', '=', request.id),
                ('state', '=', 'sent'),
                ], order=[('date', 'DESC'), ('id', 'DESC')], limit=1)
        return visits[0] if visits else None

    @classmethod
    def _answered(cls, visits):
        """What the answers do to their requests: each answer an event,
        then the satisfied resolutions confirmed and the dissatisfied
        reopened"""
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Event = pool.get('telecom.service_request.event')
        if not visits:
            return
        events, confirm, reopen = [], [], []
        for visit in visits:
            request = visit.request
            events.append(Event.values(request, 'visit', visit.summary()))
            if visit.result == 'satisfied' and request.state == 'resolved':
                if request not in confirm:
                    confirm.append(request)
            elif (visit.result == 'dissatisfied'
                    and request.state in VISITED):
                if request not in [r for r, _ in reopen]:
                    reopen.append((request, visit.reopen_reason()))
        Event.record(events)
        confirm = [r for r in confirm if r not in [r for r, _ in reopen]]
        if confirm:
            Request.confirm(Request.browse(confirm))
        for request, reason in reopen:
            Request.reopen(Request.browse([request]), reason=reason)

    def summary(self):
        "The visit's answer in words, for the request's history"
        if self.result == 'unreachable':
            return gettext('crm_service.msg_event_visit_unreachable',
                method=self.method_string)
        text = gettext('crm_service.msg_event_visit',
            method=self.method_string, result=self.result_string,
            score=self.satisfaction if self.satisfaction is not None
            else '-')
        if self.reason:
            text += ' ' + self.reason
        return text

    def reopen_reason(self):
        return gettext('crm_service.msg_visit_reopen_reason',
            method=self.method_string,
            score=self.satisfaction if self.satisfaction is not None
            else '-',
            reason=self.reason or '')


class RequestVisitMixin:
    "The return visits of a request and the customer's satisfaction"
    __slots__ = ()
    visits = fields.One2Many('telecom.service_request.visit', 'request',
        "Return Visits",
        states={'readonly': ~Eval('state').in_(VISITED)},
        help="The customer asked how the request went, by an agent's "
        "call or an SMS survey.")
    satisfaction = fields.Function(fields.Integer("Satisfaction",
            help="The customer's last score, from 1 to 5."),
        'get_visit_outcome')
    return_visit_failed = fields.Function(fields.Boolean(
            "Return Visit Failed",
            help="The last return visit since the resolution could not "
            "reach the customer: a complaint may be closed without their "
            "confirmation."),
        'get_visit_outcome')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'send_survey': {
                    'invisible': (~Eval('state').in_(VISITED)
                        | ~Eval('subscriber')),
                    'icon': 'tryton-email',
                    'depends': ['state', 'subscriber'],
                    },
                })

    @classmethod
    def get_visit_outcome(cls, requests, names):
        """The last score, and whether the last answer about the request's
        current resolution is that the customer could not be reached"""
        Visit = Pool().get('telecom.service_request.visit')
        result = {n: {r.id: None for r in requests} for n in names}
        if 'return_visit_failed' in result:
            result['return_visit_failed'] = {r.id: False for r in requests}
        resolved = [r.id for r in requests if r.resolved_at]
        resolutions = Visit.last_resolutions(resolved)
        last_score, last_outcome = {}, {}
        for sub_ids in grouped_slice([r.id for r in requests], 1000):
            for row in Visit.search_read([
                        ('request', 'in', list(sub_ids)),
                        ('state', '=', 'done'),
                        ('result', '!=', None),
                        ], order=[('answered_at', 'ASC'), ('id', 'ASC')],
                    fields_names=['request', 'satisfaction', 'result',
                        'resolution']):
                request_id = row['request']
                if row['satisfaction'] is not None:
                    last_score[request_id] = row['satisfaction']
                if (row['resolution']
                        and row['resolution'] == resolutions.get(
                            request_id)):
                    last_outcome[request_id] = row['result']
        if 'satisfaction' in result:
            result['satisfaction'].update(last_score)
        if 'return_visit_failed' in result:
            result['return_visit_failed'].update({
                    i: outcome == 'unreachable'
                    for i, outcome in last_outcome.items()})
        return result

    @classmethod
    @ModelView.button
    def send_survey(cls, requests):
        "Ask the customer by SMS to score the request from 1 to 5"
        Visit = Pool().get('telecom.service_request.visit')
        Visit.survey(requests)

    @classmethod
    def copy(cls, requests, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('visits', None)
        return super().copy(requests, default=default)


class ProvisioningRequest(metaclass=PoolMeta):
    "The survey's SMS in the outbox of crm_provisioning"
    __name__ = 'telecom.provisioning.request'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        event = (SMS_EVENT, "Satisfaction Survey")
        if event not in cls.action.selection:
            cls.action.selection.append(event)
