"""HTTP routes: requests and survey replies from the online hall, the app
and the SMS hall.

Both authenticate with a key of the user application crm_service_inbound
(Authorization: Bearer <key>), whose user is the online desk agent: the
requests taken are theirs (their employee owns them, in their company).

    POST /<database>/crm_service/requests
    {"channel": "online" | "app" | "sms_hall",
     "type": "consultation" | "complaint" | "suggestion" | "fault" |
         "business",
     "number": "<MSISDN of a line>" and/or "customer": "<customer code>",
     "subject": "...", "description": "...", "topic": "<topic code>",
     "contact_phone": "..."}
    -> 201 {"code": "SR...", "state": "open",
            "deadline": "2026-12-02T09:00:00+00:00" | null}

    POST /<database>/crm_service/survey
    {"request": "<request code>", "score": 1..5, "reason": "..."}
    or an SMS reply {"number": "<MSISDN>", "text": "5 very quick"}
    (the first digit of the text is the score; the reply answers the
    latest survey sent to the number that waits for one)
    -> 200 {"request": "SR...", "state": "closed", "result": "satisfied",
            "satisfaction": 5}

A bad body gets 400 and {"status": 400, "message": "<the reason>"};
nothing is stored then. 404 where the module is not activated."""
import datetime as dt
import json

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.protocols.wrappers import (
    HTTPStatus,
    Response,
    abort,
    user_application,
    with_pool,
    with_transaction,
)
from trytond.transaction import Transaction, without_check_access
from trytond.wsgi import app

from .exceptions import ServiceError
from .visit import SCORES, sms_score

APPLICATION = 'crm_service_inbound'
inbound_application = user_application(APPLICATION)
# the channels the endpoint takes requests from
INBOUND_CHANNELS = ['online', 'app', 'sms_hall']
# the lines a number is looked up among
LIVE_LINES = ['active', 'suspended']


class UserApplication(metaclass=PoolMeta):
    __name__ = 'res.user.application'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        application = (APPLICATION, "Customer Service Inbound")
        if application not in cls.application.selection:
            cls.application.selection.append(application)


def bad(message, **values):
    "A refused body: 400 with the reason (user_application answers it)"
    return ServiceError(gettext('crm_service.' + message, **values))


def _body(request):
    try:
        data = json.loads(request.data or b'null')
    except ValueError:
        raise bad('msg_inbound_not_json')
    if not isinstance(data, dict):
        raise bad('msg_inbound_not_object')
    return data


def _text(data, name, required=False):
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise bad('msg_inbound_required', field=name)
        return None
    if not isinstance(value, str):
        raise bad('msg_inbound_text', field=name,
            value=json.dumps(value, ensure_ascii=False))
    return value.strip()


def _choice(data, name, keys):
    value = data.get(name)
    if value is None:
        raise bad('msg_inbound_required', field=name)
    if value not in keys:
        raise bad('msg_inbound_choice', field=name,
            value=json.dumps(value, ensure_ascii=False),
            choices=', '.join(keys))
    return value


def _line(number):
    Subscriber = Pool().get('telecom.subscriber')
    lines = Subscriber.search([
            ('number.number', '=', number),
            ('state', 'in', LIVE_LINES),
            ], order=[('id', 'DESC')], limit=1)
    if not lines:
        raise bad('msg_inbound_number', number=number)
    return lines[0]


def _desk_context():
    "The context of the key's user: their company and employee"
    User = Pool().get('res.user')
    with without_check_access():
        return User.get_preferences(context_only=True)


def _module(pool, name):
    try:
        return pool.get(name)
    except KeyError:
        # the route exists in every database, the module is not activated
        # in all of them
        abort(HTTPStatus.NOT_FOUND)


def request_values(data):
    "The values of the request a body asks for; refused bodies raise"
    pool = Pool()
    Request = pool.get('telecom.service_request')
    Party = pool.get('party.party')
    Topic = pool.get('telecom.service.topic')
    channel = _choice(data, 'channel', INBOUND_CHANNELS)
    type_ = _choice(data, 'type',
        [t for t, _ in Request.fields_get(['type'])['type']['selection']])
    number = _text(data, 'number')
    code = _text(data, 'customer')
    if not number and not code:
        raise bad('msg_inbound_no_customer')
    line = _line(number) if number else None
    customer = None
    if code:
        customers = Party.search([('code', '=', code)], limit=1)
        if not customers:
            raise bad('msg_inbound_customer', customer=code)
        customer, = customers
        if line and line.customer != customer:
            raise bad('msg_inbound_number_customer', number=number,
                customer=code)
    subject = _text(data, 'subject', required=True)
    topic = _text(data, 'topic')
    if topic:
        topics = Topic.search([('code', '=', topic)], limit=1)
        if not topics:
            raise bad('msg_inbound_topic', topic=topic)
        topic, = topics
    return {
        'channel': channel,
        'type': type_,
        'customer': (customer or line.customer).id,
        'subscriber': line.id if line else None,
        'subject': subject,
        'description': _text(data, 'description'),
        'topic': topic.id if topic else None,
        'contact_phone': _text(data, 'contact_phone'),
        }


def request_answer(request):
    answer = {'code': request.code, 'state': request.state}
    deadline = request.deadline
    # stored naive in UTC: said so, for the app to show it in its own time
    answer['deadline'] = (deadline.replace(tzinfo=dt.timezone.utc).isoformat()
        if deadline else None)
    return answer


@app.route('/<database_name>/crm_service/requests', methods={'POST'})
@with_pool
@with_transaction()
@inbound_application
def inbound_request(request, pool):
    Request = _module(pool, 'telecom.service_request')
    data = _body(request)
    with Transaction().set_context(_desk_context()):
        values = request_values(data)
        service_request, = Request.create([values])
        answer = request_answer(service_request)
    return Response(json.dumps(answer), status=HTTPStatus.CREATED,
        content_type='application/json')


def survey_visit(data):
    "The survey a reply answers, with its score and reason"
    pool = Pool()
    Request = pool.get('telecom.service_request')
    Subscriber = pool.get('telecom.subscriber')
    Visit = pool.get('telecom.service_request.visit')
    if data.get('request') is not None:
        code = _text(data, 'request', required=True)
        requests = Request.search([('code', '=', code)], limit=1)
        if not requests:
            raise bad('msg_inbound_request', request=code)
        score = data.get('score')
        if score is None:
            raise bad('msg_inbound_required', field='score')
        if isinstance(score, bool) or score not in SCORES:
            raise bad('msg_inbound_score',
                score=json.dumps(score, ensure_ascii=False))
        reason = _text(data, 'reason')
        visit = Visit.pending_of_request(requests[0])
        if not visit:
            raise bad('msg_inbound_no_survey_request', request=code)
    elif data.get('number') is not None:
        number = _text(data, 'number', required=True)
        text = _text(data, 'text', required=True)
        score, reason = sms_score(text)
        if score is None:
            raise bad('msg_inbound_sms_no_score', text=text)
        if score not in SCORES:
            raise bad('msg_inbound_score', score=score)
        if not Subscriber.search([('number.number', '=', number)],
                limit=1):
            raise bad('msg_inbound_number', number=number)
        visit = Visit.pending_of_number(number)
        if not visit:
            raise bad('msg_inbound_no_survey_number', number=number)
    else:
        raise bad('msg_inbound_survey_body')
    return visit, score, reason


@app.route('/<database_name>/crm_service/survey', methods={'POST'})
@with_pool
@with_transaction()
@inbound_application
def inbound_survey(request, pool):
    Visit = _module(pool, 'telecom.service_request.visit')
    data = _body(request)
    with Transaction().set_context(_desk_context()):
        visit, score, reason = survey_visit(data)
        Visit.answer([visit], satisfaction=score, reason=reason)
        visit = Visit(visit.id)
        return {
            'request': visit.request.code,
            'state': visit.request.state,
            'result': visit.result,
            'satisfaction': visit.satisfaction,
            }
