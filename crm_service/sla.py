"""SLA of service requests: the policies, the deadline of each request on
its business calendar, the pauses of its clock, and the escalation cron.

The clock of a request starts when it is taken. Its deadline is the
moment its resolve hours (the policy's, or the configuration's regulator
hours for a complaint the regulator passed on) plus the business hours its
clock stood still have gone by on the policy's calendar (else the
configuration's; around the clock without one), in the timezone of the
request's company.

- Waiting on the customer stops the clock; resuming adds the business time
  spent waiting, which pushes the deadline.
- Resolving stops the clock and says whether the deadline was met.
- Reopening picks the clock up where the resolution stopped it: the time
  between resolution and reopening does not count, the business time left
  at the resolution is what is left now. A request resolved late is
  overdue again at once and keeps its escalation level (people told stay
  told); one resolved in time gets back what it had left, and its
  reminder is sent again when the reminder moment lies ahead again.
- Changing the type, the customer (whose tier may differ) or the regulator
  flag of a live (open or waiting) request matches the policies again and
  recomputes the deadline from the same start. A change of the tier on
  the customer itself moves no deadline.

The moments of the reminder and of both escalations are computed with the
deadline and stored while the clock runs (empty while it stands still), so
the cron compares stored columns with the time, each step through a
partial index: on PostgreSQL one statement per step (the UPDATE and the
INSERT ... SELECT of its events as data-modifying WITH queries), whatever
the number of requests, then one batch of notifications, one per person
and step."""
import datetime as dt
from collections import Counter, defaultdict

from sql import Literal, Null, With
from sql.aggregate import Count
from sql.conditionals import Coalesce
from sql.functions import CurrentTimestamp
from sql.operators import Concat

from trytond import backend, config
from trytond.bus import Bus
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin,
    Index,
    ModelSQL,
    ModelView,
    fields,
    sequence_ordered,
)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from crm_telecom.bulk import BulkWriter
from crm_telecom.party import TELECOM_LEVELS
from crm_telecom.sql_tools import (
    clear_cache,
    execute_planned,
    in_ids,
    stored_values,
    without_jit,
)

from .calendar import Schedule, company_timezone
from .exceptions import ServiceValidationError

SLA_STATES = [
    (None, ""),
    ('running', "Running"),
    ('near', "Near Deadline"),
    ('overdue', "Overdue"),
    ('paused', "Paused"),
    ('met', "Met"),
    ('missed', "Missed"),
    ]
# escalation_level
NOT_ESCALATED, SUPERVISOR, DIRECTOR = 0, 1, 2
# fields of the request whose change while it is open moves its deadline
SLA_FIELDS = {'type', 'customer', 'regulator'}
# the moments of a running clock, empty while it stands still (waiting,
# resolved, closed, merged): the cron and the board look at running clocks
# only, and the statistics PostgreSQL plans them with are of those
STILL = {'remind_at': None, 'supervisor_at': None, 'director_at': None}
# placeholder of the employee's name in the texts of the cron's events
_NAME = '\x00'


def _id_chunks(ids):
    "ids in chunks one statement can take (one array on PostgreSQL)"
    if backend.name == 'postgresql':
        return [ids] if ids else []
    return [list(c) for c in grouped_slice(ids, 500)]


class SLA(DeactivableMixin, sequence_ordered(), ModelSQL, ModelView):
    "Service level agreement"
    __name__ = 'telecom.service.sla'

    name = fields.Char("Name", required=True, translate=True)
    request_type = fields.Selection('get_request_types', "Request Type",
        required=True)
    customer_level = fields.Selection([(None, "")] + TELECOM_LEVELS,
        "Customer Tier", sort=False,
        help="Empty: any tier. A policy naming the customer's tier wins "
        "over one that does not; among equals, the first in sequence.")
    resolve_hours = fields.Float("Resolve Within (Hours)", digits=(16, 2),
        required=True,
        help="Business hours from the moment the request is taken to its "
        "deadline.")
    remind_hours = fields.Float("Remind Before (Hours)", digits=(16, 2),
        help="Business hours before the deadline the owner is reminded; "
        "empty or 0: no reminder.")
    supervisor_hours = fields.Float("Supervisor After (Hours)",
        digits=(16, 2),
        help="Business hours after the deadline an unresolved request is "
        "escalated to its team's supervisor; empty: never.")
    director_hours = fields.Float("Director After (Hours)", digits=(16, 2),
        help="Business hours after the deadline an unresolved request is "
        "escalated to its team's director; empty: never.")
    calendar = fields.Many2One('telecom.service.calendar', "Calendar",
        ondelete='RESTRICT',
        help="The business hours the policy counts on; empty: the service "
        "calendar of the configuration (around the clock without one).")
    request_type_string = request_type.translated('request_type')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.append(('id', 'ASC'))

    @classmethod
    def get_request_types(cls):
        Request = Pool().get('telecom.service_request')
        return Request.fields_get(['type'])['type']['selection']

    @classmethod
    def default_remind_hours(cls):
        return 2

    @classmethod
    def default_supervisor_hours(cls):
        return 0

    @classmethod
    def default_director_hours(cls):
        return 8

    @classmethod
    def validate_fields(cls, policies, field_names):
        super().validate_fields(policies, field_names)
        if field_names & {'resolve_hours', 'remind_hours',
                'supervisor_hours', 'director_hours'}:
            for policy in policies:
                policy.check_hours()

    def _label(self, name):
        return self.fields_get([name])[name]['string']

    def check_hours(self):
        if self.resolve_hours <= 0:
            raise ServiceValidationError(gettext(
                    'crm_service.msg_sla_resolve_hours',
                    policy=self.rec_name, field=self._label('resolve_hours'),
                    hours=self.resolve_hours))
        if self.remind_hours and not (
                0 < self.remind_hours < self.resolve_hours):
            raise ServiceValidationError(gettext(
                    'crm_service.msg_sla_remind_hours',
                    policy=self.rec_name, field=self._label('remind_hours'),
                    hours=self.remind_hours, resolve=self.resolve_hours))
        for name in ['supervisor_hours', 'director_hours']:
            hours = getattr(self, name)
            if hours is not None and hours < 0:
                raise ServiceValidationError(gettext(
                        'crm_service.msg_sla_escalation_hours',
                        policy=self.rec_name, field=self._label(name),
                        hours=hours))
        if (self.supervisor_hours is not None
                and self.director_hours is not None
                and self.director_hours < self.supervisor_hours):
            raise ServiceValidationError(gettext(
                    'crm_service.msg_sla_director_hours',
                    policy=self.rec_name,
                    field=self._label('director_hours'),
                    hours=self.director_hours,
                    supervisor=self.supervisor_hours))

    @classmethod
    def matcher(cls):
        """A function (request type, customer tier) → the policy that
        applies, from the active policies read once"""
        policies = cls.search([])
        found = {}

        def match(type_, level):
            key = (type_, level)
            if key not in found:
                best = None
                for policy in policies:
                    if policy.request_type != type_ or (
                            policy.customer_level
                            and policy.customer_level != level):
                        continue
                    if best is None or (policy.customer_level
                            and not best.customer_level):
                        best = policy
                found[key] = best
            return found[key]
        return match


class Clocks:
    """What computing the deadlines of a batch of requests needs, loaded
    once: the configuration, the policies and each calendar's schedule in
    each company's timezone"""

    def __init__(self):
        pool = Pool()
        Configuration = pool.get('telecom.configuration')
        SLA = pool.get('telecom.service.sla')
        self.configuration = Configuration(1)
        self.match = SLA.matcher()
        self._schedules = {}
        self._zones = {}

    def schedule(self, policy, company):
        "The schedule a request of company under policy counts on"
        calendar = (policy.calendar if policy else None) or (
            self.configuration.service_calendar)
        if calendar is None:
            return Schedule.around_the_clock()
        company_id = company.id if company else None
        if company_id not in self._zones:
            self._zones[company_id] = company_timezone(company)
        zone = self._zones[company_id]
        key = (calendar.id, str(zone))
        if key not in self._schedules:
            self._schedules[key] = calendar.schedule(zone)
        return self._schedules[key]

    def policy(self, request):
        level = request.customer.telecom_level if request.customer else None
        return self.match(request.type, level)

    def resolve_hours(self, request, policy):
        if request.regulator and request.type == 'complaint':
            return self.configuration.regulator_hours
        return policy.resolve_hours if policy else None


class RequestSLAMixin:
    "The deadline of a request and the steps that move its clock"
    __slots__ = ()

    sla_policy = fields.Many2One('telecom.service.sla', "SLA Policy",
        readonly=True, ondelete='RESTRICT',
        loading='lazy')
    sla_hours = fields.Float("Resolve Within (Hours)", digits=(16, 2),
        readonly=True,
        help="Business hours from taking the request to its deadline: its "
        "policy's, or the configuration's for a regulator complaint.",
        loading='lazy')
    sla_started_at = fields.DateTime("Clock Started", readonly=True,
        loading='lazy')
    # kept to the second: the deadline is pushed by exactly this much
    sla_paused_hours = fields.Float("Clock Paused (Hours)", readonly=True,
        help="Business hours the clock stood still: waiting on the "
        "customer, and between a resolution and a reopening.",
        loading='lazy')
    paused_at = fields.DateTime("Clock Stopped At", readonly=True,
        help="When the clock stopped: waiting on the customer, resolved "
        "or merged.",
        loading='lazy')
    deadline = fields.DateTime("Deadline", readonly=True)
    remind_at = fields.DateTime("Reminder At", readonly=True,
        help="When the owner is reminded and the request counts as near "
        "its deadline (the deadline itself when the policy sends no "
        "reminder); empty while the clock stands still.")
    supervisor_at = fields.DateTime("Supervisor Escalation At",
        readonly=True, help="Empty while the clock stands still.",
        loading='lazy')
    director_at = fields.DateTime("Director Escalation At", readonly=True,
        help="Empty while the clock stands still.",
        loading='lazy')
    reminded = fields.Boolean("Reminded", readonly=True,
        help="The owner was reminded of the deadline.", loading='lazy')
    escalation_level = fields.Integer("Escalation Level", readonly=True,
        help="0: not escalated; 1: to the team's supervisor; 2: to its "
        "director.")
    escalated_to = fields.Many2One('company.employee', "Escalated to",
        readonly=True, ondelete='RESTRICT')
    escalated_at = fields.DateTime("Escalated At", readonly=True,
        loading='lazy')
    sla_met = fields.Boolean("SLA Met", readonly=True,
        help="Resolved by its deadline.")
    sla_state = fields.Function(fields.Selection(SLA_STATES, "SLA State",
            sort=False), 'get_sla_state', searcher='search_sla_state')

    # one when the request is in the state, for the board's graph to add
    # up by team
    sla_near = fields.Function(fields.Integer("Near Deadline"),
        'get_sla_counts')
    sla_overdue = fields.Function(fields.Integer("Overdue"),
        'get_sla_counts')
    sla_escalated = fields.Function(fields.Integer("Escalated"),
        'get_sla_counts')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                # the supervisor board: a team's running clocks past their
                # reminder moment (near or past the deadline), the tabs
                # told apart by the deadline within the index, with what
                # the counts filter on
                Index(t, (t.team, Index.Equality()),
                    (t.remind_at, Index.Range()),
                    (t.deadline, Index.Range()),
                    where=t.remind_at != Null,
                    include=[t.escalation_level, t.state, t.company, t.id]),
                # the cron's three steps
                Index(t, (t.remind_at, Index.Range()),
                    where=(t.state == 'open') & ~t.reminded
                    & (t.remind_at < t.deadline)),
                Index(t, (t.supervisor_at, Index.Range()),
                    where=(t.state == 'open')
                    & (t.escalation_level == NOT_ESCALATED)),
                Index(t, (t.director_at, Index.Range()),
                    where=(t.state == 'open')
                    & (t.escalation_level < DIRECTOR)),
                })

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ("/tree[field[@name='sla_state']]", 'visual',
                If(Eval('sla_state') == 'overdue', 'danger',
                    If(Eval('sla_state') == 'near', 'warning', '')),
                ['sla_state']),
            ]

    @classmethod
    def default_reminded(cls):
        return False

    @classmethod
    def default_escalation_level(cls):
        return NOT_ESCALATED

    @classmethod
    def default_sla_paused_hours(cls):
        return 0

    @classmethod
    def default_sla_met(cls):
        return False

    @classmethod
    def _sla_now(cls):
        "The time the clocks read (naive UTC)"
        return dt.datetime.now()

    # ------------------------------------------------------------ state

    # the columns the SLA state is read from
    _sla_clock = ['state', 'deadline', 'remind_at', 'sla_met']

    @staticmethod
    def _sla_state_of(state, deadline, remind_at, sla_met, now):
        if not deadline or state == 'merged':
            return None
        if state == 'waiting':
            return 'paused'
        if state in {'resolved', 'closed'}:
            return 'met' if sla_met else 'missed'
        if deadline <= now:
            return 'overdue'
        if remind_at and remind_at <= now:
            return 'near'
        return 'running'

    def _sla_state(self, now):
        return self._sla_state_of(
            *(getattr(self, n) for n in self._sla_clock), now)

    @classmethod
    def get_sla_state(cls, requests, name):
        # the four columns only: a list shows the state of many requests
        now = cls._sla_now()
        values = stored_values(cls, requests, cls._sla_clock)
        return {r.id: cls._sla_state_of(*values[r.id], now)
            for r in requests}

    @classmethod
    def get_sla_counts(cls, requests, names):
        now = cls._sla_now()
        result = {n: {} for n in names}
        for request in requests:
            state = request._sla_state(now)
            for name in names:
                if name == 'sla_escalated':
                    value = state in {'near', 'overdue'} and bool(
                        request.escalation_level)
                else:
                    value = state == name[len('sla_'):]
                result[name][request.id] = int(value)
        return result

    @classmethod
    def _sla_state_domain(cls, state, now):
        if state is None:
            return ['OR', ('deadline', '=', None), ('state', '=', 'merged')]
        live = [('deadline', '!=', None)]
        return {
            # the reminder moment is set while the clock runs, never
            # after the deadline: it leads to the requests through their
            # team's index
            'running': [('state', '=', 'open'), ('remind_at', '>', now)],
            'near': [('state', '=', 'open'), ('remind_at', '<=', now),
                ('deadline', '>', now)],
            'overdue': [('state', '=', 'open'), ('remind_at', '<=', now),
                ('deadline', '<=', now)],
            'paused': [('state', '=', 'waiting')] + live,
            'met': [('state', 'in', ['resolved', 'closed']),
                ('sla_met', '=', True)] + live,
            'missed': [('state', 'in', ['resolved', 'closed']),
                ('sla_met', '=', False)] + live,
            }[state]

    @classmethod
    def search_sla_state(cls, name, clause):
        _, operator, value = clause[:3]
        states = [s for s, _ in SLA_STATES]
        if operator in {'=', '!='}:
            values = [value or None]
        elif operator in {'in', 'not in'}:
            values = [v or None for v in (value or [])]
        else:
            raise ValueError("Unsupported operator %r on sla_state"
                % operator)
        if operator in {'!=', 'not in'}:
            values = [s for s in states if s not in values]
        values = [s for s in states if s in values]
        if not values:
            return [('id', '=', None)]
        now = cls._sla_now()
        domain = ['OR']
        if 'near' in values and 'overdue' in values:
            # the board: open and past the reminder moment
            values = [v for v in values if v not in {'near', 'overdue'}]
            domain.append([('state', '=', 'open'),
                    ('remind_at', '<=', now)])
        domain.extend(cls._sla_state_domain(v, now) for v in values)
        return domain if len(domain) > 2 else domain[1]

    # ------------------------------------------------------------ clock

    def _sla_values(self, clocks, now, started=None, paused_hours=None):
        """The SLA fields after the clock of the request changed: its
        policy matched again and its moments computed from its start"""
        policy = clocks.policy(self)
        hours = clocks.resolve_hours(self, policy)
        started = started or self.sla_started_at
        if paused_hours is None:
            paused_hours = self.sla_paused_hours or 0
        values = {
            'sla_policy': policy.id if policy else None,
            'sla_hours': hours,
            'deadline': None,
            'remind_at': None,
            'supervisor_at': None,
            'director_at': None,
            }
        if hours is not None and started:
            schedule = clocks.schedule(policy, self.company)
            deadline = schedule.add_hours(started, hours + paused_hours)
            values['deadline'] = deadline
            # without a reminder, the request is near its deadline when
            # past it
            values['remind_at'] = deadline
            if policy is None:
                # a regulator complaint no policy covers: its supervisor is
                # told at the deadline
                values['supervisor_at'] = deadline
            else:
                if policy.remind_hours:
                    values['remind_at'] = min(deadline, schedule.add_hours(
                            deadline, -policy.remind_hours))
                if policy.supervisor_hours is not None:
                    values['supervisor_at'] = schedule.add_hours(
                        deadline, policy.supervisor_hours)
                if policy.director_hours is not None:
                    values['director_at'] = schedule.add_hours(
                        deadline, policy.director_hours)
        # a reminder that lies ahead again is to be sent again
        if self.reminded and (values['remind_at'] is None
                or values['remind_at'] > now):
            values['reminded'] = False
        return values

    def _sla_schedule(self, clocks):
        "The schedule the clock of the request counted on so far"
        return clocks.schedule(self.sla_policy, self.company)

    @classmethod
    def _sla_write(cls, changes):
        "changes: (request, values) pairs; one write per distinct values"
        groups = defaultdict(list)
        for request, values in changes:
            groups[tuple(sorted(values.items()))].append(request)
        args = []
        for key, records in groups.items():
            args.extend([records, dict(key)])
        if args:
            cls.write(*args)

    @classmethod
    def _sla_start(cls, requests):
        "The clock starts when the request is taken"
        if not requests:
            return
        now, clocks = cls._sla_now(), Clocks()
        changes = []
        for request in cls.browse(requests):
            values = request._sla_values(clocks, now, started=now,
                paused_hours=0)
            values.update({
                    'sla_started_at': now,
                    'sla_paused_hours': 0,
                    'paused_at': None,
                    'reminded': False,
                    'escalation_level': NOT_ESCALATED,
                    'escalated_to': None,
                    'escalated_at': None,
                    'sla_met': False,
                    })
            changes.append((request, values))
        cls._sla_write(changes)

    @classmethod
    def _sla_recompute(cls, requests):
        "The policy matched again and the deadline computed again"
        if not requests:
            return
        now, clocks = cls._sla_now(), Clocks()
        changes = []
        for request in cls.browse(requests):
            if request.sla_started_at:
                values = request._sla_values(clocks, now)
                if request.state != 'open':
                    values.update(STILL)
                changes.append((request, values))
        cls._sla_write(changes)

    @classmethod
    def _sla_pause(cls, requests):
        "Waiting on the customer: the clock stops"
        if requests:
            cls.write(list(requests), {
                    'paused_at': cls._sla_now(),
                    **STILL,
                    })

    @classmethod
    def _sla_continue(cls, requests, extra=None):
        """The clock goes on: the business time since it stopped is added
        to the time paused, which pushes the deadline"""
        if not requests:
            return
        now, clocks = cls._sla_now(), Clocks()
        changes = []
        for request in cls.browse(requests):
            paused = request.sla_paused_hours or 0
            if request.paused_at:
                paused += request._sla_schedule(clocks).business_hours(
                    request.paused_at, now)
            values = {'paused_at': None, 'sla_paused_hours': paused,
                **(extra or {})}
            if request.sla_started_at:
                values.update(request._sla_values(clocks, now,
                        paused_hours=paused))
            changes.append((request, values))
        cls._sla_write(changes)

    @classmethod
    def _sla_resume(cls, requests):
        cls._sla_continue(requests)

    @classmethod
    def _sla_stop(cls, requests):
        """Resolved or merged: the clock stops; a resolution says whether
        it came by the deadline"""
        if not requests:
            return
        now = cls._sla_now()
        changes = []
        for request in cls.browse(requests):
            values = {'paused_at': request.paused_at or now, **STILL}
            if not request.merged_into:
                values['paused_at'] = now
                values['sla_met'] = bool(request.deadline
                    and now <= request.deadline)
            changes.append((request, values))
        cls._sla_write(changes)

    @classmethod
    def _sla_reopen(cls, requests):
        """Reopened: the clock goes on from where the resolution stopped
        it (see the module's docstring)"""
        cls._sla_continue(requests, {'sla_met': False})

    @classmethod
    def on_modification(cls, mode, requests, field_names=None):
        super().on_modification(mode, requests, field_names=field_names)
        if mode == 'write' and field_names and (
                set(field_names) & SLA_FIELDS):
            cls._sla_recompute([r for r in requests
                    if r.state in {'open', 'waiting'}])

    # ------------------------------------------------------------ cron

    @classmethod
    def escalate(cls, now=None):
        """Cron: reminds the owners of requests near their deadline, and
        escalates those past it to their team's supervisor, then director.
        Each step is an event on the request; each person told gets one
        notification per step. Returns the number of reminders and of
        escalations."""
        # to the second, as the ORM keeps date-times: the events sort in
        # the order they happened
        now = (now or cls._sla_now()).replace(microsecond=0)
        # each statement runs once: compiling it costs more than it saves
        without_jit()
        steps = [
            ('reminded', cls._sla_remind(now)),
            (SUPERVISOR, cls._sla_escalate(now, SUPERVISOR)),
            (DIRECTOR, cls._sla_escalate(now, DIRECTOR)),
            ]
        cls._sla_notify(steps)
        reminded, supervisor, director = [sum(c.values()) for _, c in steps]
        return reminded, supervisor + director

    @classmethod
    def _sla_step(cls, now, kind, message, changes, where, employee):
        """One step of the cron: UPDATE the requests where(table) holds
        with changes (column: value, or function of the table), and INSERT
        an event of kind on each, its text naming the employee of the
        column `employee` (after the update). Returns how many requests
        each employee got.

        On PostgreSQL one statement does it all (the update and the insert
        as data-modifying WITH queries); elsewhere the updated ids come
        back and the events are inserted for them."""
        pool = Pool()
        Event = pool.get('telecom.service_request.event')
        Employee = pool.get('company.employee')
        Party = pool.get('party.party')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table, event = cls.__table__(), Event.__table__()
        employee_t, party = Employee.__table__(), Party.__table__()
        columns = [getattr(table, c) for c in changes] + [
            table.write_uid, table.write_date]
        values = [v(table) if callable(v) else v
            for v in changes.values()] + [
            transaction.user, CurrentTimestamp()]
        returning = [table.id, getattr(table, employee), table.company]
        update = table.update(columns, values, where=where(table),
            returning=returning)
        prefix, suffix = gettext(message, employee=_NAME).split(_NAME, 1)
        name = Coalesce(party.name, gettext('crm_service.msg_sla_nobody'))
        event_columns = [event.request, event.date, event.kind,
            event.employee, event.company, event.description,
            event.create_uid, event.create_date]

        def events(source, request, employee_id, company, where=None):
            return source.join(employee_t, 'LEFT',
                condition=employee_t.id == employee_id).join(party, 'LEFT',
                condition=party.id == employee_t.party).select(
                request, Literal(now), Literal(kind), Literal(None), company,
                Concat(Concat(prefix, name), suffix),
                Literal(transaction.user), CurrentTimestamp(), where=where)

        counts = Counter()
        if cls._sla_one_statement():
            done = With('id', 'employee', 'company', query=update)
            inserted = With(query=event.insert(event_columns,
                    events(done, done.id, done.employee, done.company)))
            execute_planned(cursor, done.select(done.employee, Count(done.id),
                    group_by=[done.employee], with_=[done, inserted]))
            counts.update(dict(cursor))
        else:
            if transaction.database.has_returning():
                execute_planned(cursor, update)
                rows = cursor.fetchall()
            else:
                execute_planned(cursor, table.select(table.id, where=where(table)))
                ids, rows = [r for r, in cursor], []
                for chunk in _id_chunks(ids):
                    execute_planned(cursor, table.update(columns, values,
                            where=in_ids(table.id, chunk)))
                    # the employee after the update
                    execute_planned(cursor, table.select(*returning,
                            where=in_ids(table.id, chunk)))
                    rows.extend(cursor)
            request = cls.__table__()
            for chunk in _id_chunks([r[0] for r in rows]):
                execute_planned(cursor, event.insert(event_columns, events(
                            request, request.id, getattr(request, employee),
                            request.company,
                            where=in_ids(request.id, chunk))))
            counts.update(r[1] for r in rows)
        clear_cache(cls)
        return counts

    @classmethod
    def _sla_one_statement(cls):
        "Whether the database takes UPDATE ... RETURNING inside WITH"
        return backend.name == 'postgresql'

    @classmethod
    def _sla_remind(cls, now):
        """The owners of requests past their reminder moment are reminded
        (none when the moment is the deadline: the policy sends none)"""
        return cls._sla_step(now, 'reminded',
            'crm_service.msg_event_reminded', {'reminded': True},
            lambda t: ~t.reminded & (t.remind_at < t.deadline)
            & (t.remind_at <= now) & (t.state == 'open'),
            'owner')

    @classmethod
    def _sla_escalate(cls, now, level):
        """Requests past the moment of the level's escalation go to their
        team's supervisor (level 1) or director (level 2), to the other
        one when the team names only one"""
        Team = Pool().get('telecom.service.team')
        team = Team.__table__()
        if level == SUPERVISOR:
            moment, first, second = 'supervisor_at', 'supervisor', 'director'
            message = 'crm_service.msg_event_escalated_supervisor'
        else:
            moment, first, second = 'director_at', 'director', 'supervisor'
            message = 'crm_service.msg_event_escalated_director'

        def where(t):
            condition = (t.state == 'open') & (getattr(t, moment) <= now)
            if level == SUPERVISOR:
                return condition & (t.escalation_level == NOT_ESCALATED)
            return condition & (t.escalation_level < DIRECTOR)

        def employee(t):
            return team.select(
                Coalesce(getattr(team, first), getattr(team, second)),
                where=team.id == t.team)
        return cls._sla_step(now, 'escalated', message, {
                'escalation_level': level,
                'escalated_to': employee,
                'escalated_at': now,
                }, where, 'escalated_to')

    @classmethod
    def _sla_notify(cls, steps):
        """One notification per user and step, written in one batch: to
        the owners reminded, to the supervisors and directors escalated
        to. steps: (step, {employee: requests}) pairs."""
        pool = Pool()
        UserEmployee = pool.get('res.user-company.employee')
        User = pool.get('res.user')
        Lang = pool.get('ir.lang')
        Notification = pool.get('res.notification')
        ModelData = pool.get('ir.model.data')
        ActWindow = pool.get('ir.action.act_window')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        employees = sorted({e for _, counts in steps for e in counts if e})
        if not employees:
            return []
        user_employee, user = UserEmployee.__table__(), User.__table__()
        lang = Lang.__table__()
        users = defaultdict(list)
        for chunk in _id_chunks(employees):
            cursor.execute(*user_employee.join(user,
                    condition=user.id == user_employee.user).join(lang,
                    'LEFT', condition=lang.id == user.language).select(
                    user_employee.employee, user.id, lang.code,
                    where=in_ids(user_employee.employee, chunk)
                    & user.active,
                    order_by=[user.id]))
            for employee, user_id, language in cursor:
                users[employee].append((user_id, language))
        actions = {
            'reminded': ActWindow(ModelData.get_id(
                    'crm_service', 'act_request_mine')).action.id,
            'escalated': ActWindow(ModelData.get_id(
                    'crm_service', 'act_request_board')).action.id,
            }
        messages = {
            'reminded': 'crm_service.msg_notify_reminded',
            SUPERVISOR: 'crm_service.msg_notify_escalated_supervisor',
            DIRECTOR: 'crm_service.msg_notify_escalated_director',
            }
        texts = {}

        def text(language, message, **kwargs):
            key = (language, message, tuple(kwargs.items()))
            if key not in texts:
                with transaction.set_context(language=language):
                    texts[key] = gettext(message, **kwargs)
            return texts[key]

        rows = []
        for step, counts in steps:
            message = messages[step]
            icon, action = (('tryton-notification', actions['reminded'])
                if step == 'reminded'
                else ('tryton-info', actions['escalated']))
            for employee, count in sorted(counts.items(), key=str):
                for user_id, language in users.get(employee, []):
                    rows.append((user_id, text(language, message + '_label'),
                            text(language, message, count=count), icon,
                            action, True))
        BulkWriter(Notification, ['user', 'label', 'description', 'icon',
                'action', 'unread']).write(rows)
        clear_cache(Notification)
        cls._sla_publish(rows)
        return rows

    @classmethod
    def _sla_publish(cls, rows):
        """Tell the clients of the users notified, as res.notification
        does, when the bus is on (nobody listens otherwise)"""
        pool = Pool()
        Notification = pool.get('res.notification')
        transaction = Transaction()
        if not (rows and config.getboolean('bus', 'allow_subscribe')
                and transaction.database.has_channel()):
            return
        cursor = transaction.connection.cursor()
        notification = Notification.__table__()
        contents = defaultdict(list)
        for user_id, label, description, *_ in rows:
            contents[user_id].append('\n'.join([label, description]))
        for chunk in _id_chunks(sorted(contents)):
            cursor.execute(*notification.select(notification.user, Count(
                        notification.id),
                    where=in_ids(notification.user, chunk)
                    & notification.unread,
                    group_by=[notification.user]))
            for user_id, count in cursor.fetchall():
                Bus.publish('notification:%s' % user_id, {
                        'type': 'user-notification',
                        'count': count,
                        'content': contents[user_id][:4],
                        })
