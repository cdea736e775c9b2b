"""Handlers of a request: another team of the company (a transfer) or
another company (a request for help). The owner stays accountable; the
asked side gives the request back only with an answer."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.company.model import employee_field, set_employee
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import ServiceError

_open = Eval('state') != 'open'


class Handling(Workflow, ModelSQL, ModelView):
    "Service request handler"
    __name__ = 'telecom.service_request.handling'

    request = fields.Many2One('telecom.service_request', "Request",
        required=True, ondelete='CASCADE',
        states={'readonly': Eval('id', -1) >= 0})
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', states={'readonly': Eval('id', -1) >= 0},
        help="The company asked: another one than the request's is a "
        "request for help.")
    team = fields.Many2One('telecom.service.team', "Team",
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={'readonly': Eval('id', -1) >= 0})
    handler = fields.Many2One('company.employee', "Handler",
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={'readonly': _open},
        help="Who on the asked side works on it.")
    kind = fields.Function(fields.Selection([
                ('transfer', "Transfer"),
                ('help', "Help from Another Company"),
                ], "Kind"), 'on_change_with_kind')
    question = fields.Text("Question", required=True,
        states={'readonly': Eval('id', -1) >= 0},
        help="What the owner asks the handler to do.")
    # of the request's company, which the handling's need not be
    asked_by = fields.Many2One('company.employee', "Asked by",
        readonly=True, ondelete='RESTRICT')
    asked_at = fields.DateTime("Asked At", readonly=True)
    state = fields.Selection([
            ('open', "Open"),
            ('answered', "Answered"),
            ], "State", required=True, readonly=True, sort=False)
    answer = fields.Text("Answer", states={'readonly': _open},
        help="What the handler found and did: required to hand back.")
    answered_by = employee_field("Answered by", states=['answered'])
    answered_at = fields.DateTime("Answered At", readonly=True)
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.request, Index.Range())),
                Index(t, (t.company, Index.Range())),
                Index(t, (t.handler, Index.Range()),
                    where=t.state == 'open'),
                })
        cls._order = [('id', 'ASC')]
        cls._transitions |= {('open', 'answered')}
        cls._buttons.update({
                'hand_back': {
                    'invisible': Eval('state') != 'open',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_asked_by(cls):
        return Transaction().context.get('employee')

    @classmethod
    def default_asked_at(cls):
        return dt.datetime.now()

    @fields.depends('company', 'request', '_parent_request.company')
    def on_change_with_kind(self, name=None):
        if self.request and self.company and (
                self.company != self.request.company):
            return 'help'
        return 'transfer'

    def get_rec_name(self, name):
        names = [self.company.rec_name]
        if self.team:
            names.append(self.team.rec_name)
        if self.handler:
            names.append(self.handler.rec_name)
        return ' / '.join(names)

    @classmethod
    def create(cls, vlist):
        Event = Pool().get('telecom.service_request.event')
        handlings = super().create(vlist)
        for handling in handlings:
            if handling.request.state not in {'open', 'waiting'}:
                raise ServiceError(gettext(
                        'crm_service.msg_handling_request_done',
                        request=handling.request.rec_name,
                        state=handling.request.state_string))
        Event.record([Event.values(h.request,
                    'help_asked' if h.kind == 'help' else 'transferred',
                    gettext('crm_service.msg_event_handling',
                        handler=h.rec_name, question=h.question))
                for h in handlings])
        return handlings

    @classmethod
    def check_modification(cls, mode, handlings, values=None,
            external=False):
        super().check_modification(
            mode, handlings, values=values, external=external)
        if mode == 'delete':
            for handling in handlings:
                # what was asked stays on the record
                raise ServiceError(gettext(
                        'crm_service.msg_handling_delete',
                        handler=handling.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('answered')
    @set_employee('answered_by')
    def hand_back(cls, handlings):
        "Back to the owner, with the answer: never without one"
        Event = Pool().get('telecom.service_request.event')
        for handling in handlings:
            if not (handling.answer or '').strip():
                raise ServiceError(gettext(
                        'crm_service.msg_handling_no_answer',
                        handler=handling.rec_name,
                        request=handling.request.rec_name))
        cls.write(handlings, {'answered_at': dt.datetime.now()})
        Event.record([Event.values(h.request, 'answered',
                    gettext('crm_service.msg_event_answered',
                        handler=h.rec_name, answer=h.answer))
                for h in handlings])
