"SLA: business calendar, policies, pauses, regulator deadline, escalation"
import datetime as dt
import unittest
from contextlib import contextmanager
from unittest.mock import patch

from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import (
    activate_module,
    drop_db,
    with_transaction,
)
from trytond.tools import timezone as tz
from trytond.transaction import Transaction

from crm_service.calendar import Schedule
from crm_service.exceptions import ServiceValidationError
from crm_service.tests.tools import (
    as_user,
    create_request,
    create_team,
    service_staff,
)
from crm_telecom.tests.tools import (
    create_customer,
    create_staff,
    setup_company,
)

SHANGHAI = 'Asia/Shanghai'


def local(*args):
    "A wall-clock time in Shanghai as stored: naive UTC"
    return dt.datetime(*args) - dt.timedelta(hours=8)


@contextmanager
def clock(when):
    "The SLA clocks read `when` (naive UTC)"
    Request = Pool().get('telecom.service_request')
    with patch.object(Request, '_sla_now', classmethod(lambda cls: when)):
        yield


def office_calendar():
    """Monday to Thursday 09:00-12:00 and 13:00-18:00, Friday 09:00-12:00
    and 13:00-17:00; National Day off on Thursday 1 and Friday 2 October
    2026; Sunday 11 October works Friday's hours (调休)"""
    Calendar = Pool().get('telecom.service.calendar')
    hours = []
    for weekday in '0123':
        hours += [
            {'weekday': weekday, 'from_time': dt.time(9),
                'to_time': dt.time(12)},
            {'weekday': weekday, 'from_time': dt.time(13),
                'to_time': dt.time(18)},
            ]
    hours += [
        {'weekday': '4', 'from_time': dt.time(9), 'to_time': dt.time(12)},
        {'weekday': '4', 'from_time': dt.time(13), 'to_time': dt.time(17)},
        ]
    calendar, = Calendar.create([{
                'name': "客服工作日",
                'hours': [('create', hours)],
                'holidays': [('create', [
                            {'date': dt.date(2026, 10, 1), 'name': "国庆节"},
                            {'date': dt.date(2026, 10, 2), 'name': "国庆节"},
                            ])],
                'working_days': [('create', [
                            {'date': dt.date(2026, 10, 11), 'weekday': '4',
                                'name': "国庆调休"},
                            ])],
                }])
    return calendar


def shanghai_company():
    company = setup_company()
    company.timezone = SHANGHAI
    company.save()
    return company


def configure(calendar=None, regulator_hours=None):
    Configuration = Pool().get('telecom.configuration')
    configuration = Configuration(1)
    configuration.service_calendar = calendar
    if regulator_hours:
        configuration.regulator_hours = regulator_hours
    configuration.save()


def create_policies(calendar=None):
    """Complaints: 16 business hours, gold customers 8 (reminded 2 hours
    before, supervisor at the deadline, director 4 hours after)"""
    SLA = Pool().get('telecom.service.sla')
    return SLA.create([{
                'name': "投诉", 'request_type': 'complaint',
                'resolve_hours': 16, 'remind_hours': 4,
                'supervisor_hours': 0, 'director_hours': 8,
                'calendar': calendar.id if calendar else None,
                }, {
                'name': "金卡投诉", 'request_type': 'complaint',
                'customer_level': 'gold', 'resolve_hours': 8,
                'remind_hours': 2, 'supervisor_hours': 0,
                'director_hours': 4,
                'calendar': calendar.id if calendar else None,
                }, {
                'name': "咨询", 'request_type': 'consultation',
                'resolve_hours': 4, 'remind_hours': None,
                'supervisor_hours': None, 'director_hours': None,
                }])


class ScheduleTestCase(unittest.TestCase):
    "Business time on a schedule (no database)"

    def setUp(self):
        office = ((9 * 3600, 12 * 3600), (13 * 3600, 18 * 3600))
        friday = ((9 * 3600, 12 * 3600), (13 * 3600, 17 * 3600))
        self.schedule = Schedule([office] * 4 + [friday, (), ()],
            holidays=[dt.date(2026, 10, 1), dt.date(2026, 10, 2)],
            working_days={dt.date(2026, 10, 11): friday},
            zone=tz.get_tzinfo(SHANGHAI))

    def test_night_and_lunch(self):
        add = self.schedule.add_hours
        # taken at 22:00: counted from 09:00 the next morning
        self.assertEqual(add(local(2026, 9, 29, 22), 1),
            local(2026, 9, 30, 10))
        # the lunch break does not count
        self.assertEqual(add(local(2026, 9, 29, 11), 2),
            local(2026, 9, 29, 14))
        # ending with the day: 18:00, not 09:00 the next morning
        self.assertEqual(add(local(2026, 9, 29, 13), 5),
            local(2026, 9, 29, 18))

    def test_holiday_and_weekend(self):
        add = self.schedule.add_hours
        # Wednesday 16:00 + 8 hours: 2 on Wednesday, National Day and the
        # weekend off, 6 on Monday
        self.assertEqual(add(local(2026, 9, 30, 16), 8),
            local(2026, 10, 5, 16))
        self.assertEqual(self.schedule.business_hours(
                local(2026, 9, 30, 16), local(2026, 10, 5, 16)), 8)
        # back from Monday 10:00: 1 hour on Monday, 1 on Wednesday
        self.assertEqual(add(local(2026, 10, 5, 10), -2),
            local(2026, 9, 30, 17))

    def test_make_up_day(self):
        add = self.schedule.add_hours
        # Saturday does not work; Sunday 11 October works Friday's hours
        self.assertEqual(add(local(2026, 10, 10, 10), 4),
            local(2026, 10, 11, 14))
        self.assertEqual(self.schedule.business_hours(
                local(2026, 10, 10, 0), local(2026, 10, 12, 0)), 7)

    def test_around_the_clock(self):
        schedule = Schedule.around_the_clock()
        start = dt.datetime(2026, 10, 1, 3)
        self.assertEqual(schedule.add_hours(start, 30),
            start + dt.timedelta(hours=30))
        self.assertEqual(schedule.business_hours(
                start, start + dt.timedelta(hours=30)), 30)


class SLATestCase(unittest.TestCase):
    "SLA of service requests"

    @classmethod
    def setUpClass(cls):
        activate_module('crm_service')

    @classmethod
    def tearDownClass(cls):
        drop_db()

    @with_transaction()
    def test_calendar_records(self):
        "The calendar's records as a schedule in the company's timezone"
        shanghai_company()
        calendar = office_calendar()
        with Transaction().set_context(company=setup_company().id):
            self.assertEqual(calendar.add_hours(local(2026, 9, 30, 16), 8),
                local(2026, 10, 5, 16))
            self.assertEqual(calendar.add_hours(local(2026, 10, 10, 10), 4),
                local(2026, 10, 11, 14))
            self.assertEqual(calendar.business_hours(
                    local(2026, 9, 30, 16), local(2026, 10, 5, 16)), 8)

    @with_transaction()
    def test_calendar_checks(self):
        Calendar = Pool().get('telecom.service.calendar')
        with self.assertRaises(ServiceValidationError):
            Calendar.create([{'name': "空"}])
        with self.assertRaises(ServiceValidationError):
            Calendar.create([{'name': "倒序", 'hours': [('create', [{
                                'weekday': '0', 'from_time': dt.time(18),
                                'to_time': dt.time(9)}])]}])
        with self.assertRaises(ServiceValidationError):
            Calendar.create([{'name': "冲突",
                        'hours': [('create', [{'weekday': '0',
                                        'from_time': dt.time(9),
                                        'to_time': dt.time(0)}])],
                        'holidays': [('create', [
                                    {'date': dt.date(2026, 10, 10)}])],
                        'working_days': [('create', [
                                    {'date': dt.date(2026, 10, 10)}])],
                        }])

    @with_transaction()
    def test_policy_checks(self):
        SLA = Pool().get('telecom.service.sla')
        for values in [
                {'resolve_hours': 0},
                {'resolve_hours': 8, 'remind_hours': 8},
                {'resolve_hours': 8, 'supervisor_hours': -1},
                {'resolve_hours': 8, 'supervisor_hours': 4,
                    'director_hours': 2},
                ]:
            with self.assertRaises(ValidationError):
                SLA.create([{'name': "错误", 'request_type': 'fault',
                            **values}])

    @with_transaction()
    def test_deadline_per_tier(self):
        "The tier's policy wins; a change of customer moves the deadline"
        Request = Pool().get('telecom.service_request')
        shanghai_company()
        calendar = office_calendar()
        configure(calendar)
        complaint, gold, consultation = create_policies()
        agent, *_ = service_staff()
        normal = create_customer("李四", sequence=2)
        vip = create_customer("王五", sequence=3, telecom_level='gold')
        taken = local(2026, 9, 30, 16)
        with clock(taken), as_user(agent):
            first = create_request(customer=normal, type='complaint')
            second = create_request(customer=vip, type='complaint')
            third = create_request(customer=vip, type='consultation')
            other = create_request(customer=vip, type='suggestion')
        self.assertEqual(first.sla_policy, complaint)
        # 2 hours on Wednesday, then Monday, Tuesday 09:00-10:00... 16 hours
        self.assertEqual(first.deadline, local(2026, 10, 6, 16))
        self.assertEqual(first.remind_at, local(2026, 10, 6, 11))
        self.assertEqual(second.sla_policy, gold)
        self.assertEqual(second.deadline, local(2026, 10, 5, 16))
        self.assertEqual(second.remind_at, local(2026, 10, 5, 14))
        self.assertEqual(second.supervisor_at, second.deadline)
        self.assertEqual(second.director_at, local(2026, 10, 6, 11))
        self.assertEqual(third.sla_policy, consultation)
        self.assertEqual(third.deadline, local(2026, 10, 5, 11))
        # no reminder: near its deadline when past it
        self.assertEqual(third.remind_at, third.deadline)
        self.assertIsNone(third.supervisor_at)
        self.assertIsNone(other.deadline)
        self.assertIsNone(other.sla_state)
        with clock(taken + dt.timedelta(minutes=5)):
            self.assertEqual(first.sla_state, 'running')
        # the customer was mistaken: the gold one complained
        with clock(taken + dt.timedelta(hours=1)), as_user(agent):
            first.customer = vip
            first.save()
        first = Request(first.id)
        self.assertEqual(first.sla_policy, gold)
        self.assertEqual(first.deadline, second.deadline)

        # the customer's own tier changes: his open requests follow it
        Party = Pool().get('party.party')
        with clock(taken + dt.timedelta(hours=1)):
            Party.write([vip], {'telecom_level': 'normal'})
        second = Request(second.id)
        self.assertEqual(second.sla_policy, complaint)
        self.assertEqual(second.deadline, local(2026, 10, 6, 16))

    @with_transaction()
    def test_pause_and_resolution(self):
        """Waiting on the customer pushes the deadline by the business time
        spent waiting; the resolution says whether it was met"""
        Request = Pool().get('telecom.service_request')
        shanghai_company()
        configure(office_calendar())
        create_policies()
        agent, *_ = service_staff()
        vip = create_customer("王五", sequence=3, telecom_level='gold')
        with clock(local(2026, 9, 29, 10)), as_user(agent):
            request = create_request(customer=vip, type='complaint')
        self.assertEqual(request.deadline, local(2026, 9, 30, 10))
        with clock(local(2026, 9, 29, 14)), as_user(agent):
            Request.wait([request])
        with clock(local(2026, 10, 4, 12)):
            # the weekend passes, the clock does not move
            self.assertEqual(Request(request.id).sla_state, 'paused')
            self.assertEqual(Request.search([
                        ('sla_state', '=', 'paused')]), [request])
        with clock(local(2026, 10, 5, 10)), as_user(agent):
            Request.resume([request])
        request = Request(request.id)
        # 13 business hours waited (Tuesday 14:00 to Monday 10:00): the 5
        # left at the pause go on from Monday 10:00
        self.assertEqual(request.sla_paused_hours, 13)
        self.assertEqual(request.deadline, local(2026, 10, 5, 16))
        self.assertIsNone(request.paused_at)
        with clock(local(2026, 10, 5, 15)), as_user(agent):
            self.assertEqual(request.sla_state, 'near')
            request.resolution = "已为客户恢复业务"
            request.save()
            Request.resolve([request])
        request = Request(request.id)
        self.assertTrue(request.sla_met)
        self.assertEqual(request.sla_state, 'met')

    @with_transaction()
    def test_reopen(self):
        """A reopened request goes on with the time it had left; a late one
        is overdue again at once"""
        Request = Pool().get('telecom.service_request')
        shanghai_company()
        configure(office_calendar())
        create_policies()
        agent, *_ = service_staff()
        vip = create_customer("王五", sequence=3, telecom_level='gold')
        with clock(local(2026, 9, 29, 10)), as_user(agent):
            early = create_request(customer=vip, type='complaint',
                resolution="已处理")
            late = create_request(customer=vip, type='complaint',
                resolution="已处理")
        # deadline Wednesday 10:00: early resolved with 1 business hour left
        # (09:00 to 10:00), late 1 hour after it
        with clock(local(2026, 9, 30, 8)), as_user(agent):
            Request.resolve([early])
        with clock(local(2026, 9, 30, 11)), as_user(agent):
            Request.resolve([late])
        early, late = Request(early.id), Request(late.id)
        self.assertTrue(early.sla_met)
        self.assertFalse(late.sla_met)
        self.assertEqual(late.sla_state, 'missed')
        with clock(local(2026, 10, 5, 9)), as_user(agent):
            Request.reopen([early, late], "客户反映仍未解决")
        early, late = Request(early.id), Request(late.id)
        # the hour left, from Monday 09:00
        self.assertEqual(early.deadline, local(2026, 10, 5, 10))
        self.assertFalse(early.sla_met)
        # still 1 business hour late
        self.assertEqual(late.deadline, local(2026, 9, 30, 17))
        with clock(local(2026, 10, 5, 9)):
            self.assertEqual(late.sla_state, 'overdue')

    @with_transaction()
    def test_regulator_deadline(self):
        "A regulator complaint takes the configuration's hours"
        shanghai_company()
        configure(office_calendar(), regulator_hours=4)
        create_policies()
        agent, *_ = service_staff()
        normal = create_customer("李四", sequence=2)
        with clock(local(2026, 9, 29, 16)), as_user(agent):
            request = create_request(customer=normal, type='complaint',
                regulator=True)
        self.assertEqual(request.sla_hours, 4)
        # 2 hours on Tuesday, 2 on Wednesday morning
        self.assertEqual(request.deadline, local(2026, 9, 30, 11))
        # the complaint policy's reminder and escalations still apply
        self.assertEqual(request.remind_at, local(2026, 9, 29, 16))
        # no longer the regulator's: the complaint policy's 16 hours
        with clock(local(2026, 9, 29, 17)), as_user(agent):
            request.regulator = False
            request.save()
        self.assertEqual(request.sla_hours, 16)
        self.assertEqual(request.deadline, local(2026, 10, 5, 16))

    @with_transaction()
    def test_escalation_cron(self):
        """The cron reminds the owner, then escalates to the supervisor,
        then to the director; waiting and resolved requests are left
        alone"""
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Event = pool.get('telecom.service_request.event')
        Notification = pool.get('res.notification')
        shanghai_company()
        configure(office_calendar())
        create_policies()
        agent, supervisor, director, team = service_staff()
        vip = create_customer("王五", sequence=3, telecom_level='gold')
        with clock(local(2026, 9, 29, 10)), as_user(agent):
            request, waiting, resolved = [
                create_request(customer=vip, type='complaint',
                    resolution="已处理") for _ in range(3)]
            Request.wait([waiting])
            Request.resolve([resolved])

        def events(kind):
            return [e.description for e in Event.search([
                        ('request', '=', request.id),
                        ('kind', '=', kind)])]

        def notified(user):
            return [n.label for n in Notification.search([
                        ('user', '=', user.id)])]

        # deadline Wednesday 10:00, reminder 2 business hours before
        self.assertEqual(Request.escalate(local(2026, 9, 29, 16)), (0, 0))
        self.assertEqual(Request.escalate(local(2026, 9, 29, 17)), (1, 0))
        request = Request(request.id)
        self.assertTrue(request.reminded)
        self.assertEqual(request.escalation_level, 0)
        self.assertEqual(events('reminded'), [
                "The deadline is near: 客服小李 reminded."])
        self.assertEqual(notified(agent), ["Requests near their deadline"])
        # not twice
        self.assertEqual(Request.escalate(local(2026, 9, 29, 18)), (0, 0))

        with clock(local(2026, 9, 30, 10, 30)):
            self.assertEqual(Request.search([
                        ('sla_state', '=', 'overdue')]), [request])
            board = self.board(supervisor)
            self.assertEqual(board, [request])
        self.assertEqual(Request.escalate(local(2026, 9, 30, 10, 30)),
            (0, 1))
        request = Request(request.id)
        self.assertEqual(request.escalation_level, 1)
        self.assertEqual(request.escalated_to, supervisor.employee)
        self.assertEqual(events('escalated'), [
                "Not resolved by the deadline: escalated to the supervisor "
                "班长老王."])
        self.assertEqual(notified(supervisor), ["Requests escalated to you"])
        self.assertEqual(notified(director), [])

        # director 4 business hours after the deadline: Wednesday 15:00
        self.assertEqual(Request.escalate(local(2026, 9, 30, 14)), (0, 0))
        self.assertEqual(Request.escalate(local(2026, 9, 30, 15)), (0, 1))
        request = Request(request.id)
        self.assertEqual(request.escalation_level, 2)
        self.assertEqual(request.escalated_to, director.employee)
        self.assertEqual(len(events('escalated')), 2)
        self.assertEqual(notified(director), ["Requests escalated to you"])
        self.assertEqual(Request.escalate(local(2026, 10, 9, 15)), (0, 0))

        for other in Request.browse([waiting, resolved]):
            self.assertFalse(other.reminded)
            self.assertEqual(other.escalation_level, 0)
            self.assertFalse([e for e in other.events
                    if e.kind in {'reminded', 'escalated'}])
        with clock(local(2026, 9, 30, 15)):
            self.assertEqual(self.board(supervisor), [request])
            self.assertEqual(self.board(supervisor, 'escalated'), [request])
            self.assertEqual(self.board(agent), [])
            self.assertEqual(self.board(director), [request])
            # what the board's graph adds up
            request = Request(request.id)
            self.assertEqual((request.sla_near, request.sla_overdue,
                    request.sla_escalated), (0, 1, 1))

    @with_transaction()
    def test_escalation_cron_without_returning(self):
        "A database without UPDATE ... RETURNING takes the same steps"
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Event = pool.get('telecom.service_request.event')
        shanghai_company()
        configure(office_calendar())
        create_policies()
        agent, supervisor, *_ = service_staff()
        vip = create_customer("王五", sequence=3, telecom_level='gold')
        with clock(local(2026, 9, 29, 10)), as_user(agent):
            request = create_request(customer=vip, type='complaint')
        database = Transaction().database
        with patch.object(database, 'has_returning', lambda: False), \
                patch.object(Request, '_sla_one_statement',
                    classmethod(lambda cls: False)):
            self.assertEqual(Request.escalate(local(2026, 9, 30, 10, 30)),
                (1, 1))
        request = Request(request.id)
        self.assertTrue(request.reminded)
        self.assertEqual(request.escalated_to, supervisor.employee)
        self.assertEqual(sorted(e.kind for e in Event.search([
                        ('request', '=', request.id),
                        ('kind', 'in', ['reminded', 'escalated'])])),
            ['escalated', 'reminded'])

    @with_transaction()
    def test_escalation_to_whom_there_is(self):
        """A team without supervisor escalates to its director; a request
        of no team escalates to nobody, and says so"""
        pool = Pool()
        Request = pool.get('telecom.service_request')
        Event = pool.get('telecom.service_request.event')
        shanghai_company()
        configure(office_calendar())
        create_policies()
        director = create_staff('director', 'group_call_centre',
            name="客服总监")
        agent = create_staff('agent', 'group_call_centre', name="客服小李")
        loner = create_staff('loner', 'group_call_centre', name="营业员")
        create_team(members=[agent], director=director)
        vip = create_customer("王五", sequence=3, telecom_level='gold')
        with clock(local(2026, 9, 29, 10)):
            with as_user(agent):
                directed = create_request(customer=vip, type='complaint')
            with as_user(loner):
                alone = create_request(customer=vip, type='complaint')
        self.assertFalse(alone.team)
        self.assertEqual(Request.escalate(local(2026, 9, 30, 10, 30)),
            (2, 2))
        directed, alone = Request.browse([directed, alone])
        self.assertEqual(directed.escalated_to, director.employee)
        self.assertIsNone(alone.escalated_to)
        self.assertEqual(alone.escalation_level, 1)
        event, = Event.search([('request', '=', alone.id),
                ('kind', '=', 'escalated')])
        self.assertIn("nobody", event.description)

    @with_transaction()
    def test_sla_state_search(self):
        "The searcher finds what the getter says"
        Request = Pool().get('telecom.service_request')
        shanghai_company()
        configure(office_calendar())
        create_policies()
        agent, *_ = service_staff()
        vip = create_customer("王五", sequence=3, telecom_level='gold')
        requests = []
        with as_user(agent):
            for day in [28, 29, 30]:
                with clock(local(2026, 9, day, 10)):
                    requests.append(create_request(customer=vip,
                            type='complaint'))
            requests.append(create_request(customer=vip,
                    type='suggestion'))
        with clock(local(2026, 9, 30, 9, 30)):
            states = {r.id: r.sla_state for r in Request.browse(requests)}
            self.assertEqual(sorted(states.values(), key=str),
                [None, 'near', 'overdue', 'running'])
            for state in ['running', 'near', 'overdue', None]:
                found = Request.search([('sla_state', '=', state)])
                self.assertEqual([r.id for r in found],
                    [i for i, s in states.items() if s == state], state)
                found = Request.search([('sla_state', '!=', state)])
                self.assertEqual(sorted(r.id for r in found),
                    sorted(i for i, s in states.items() if s != state))
            found = Request.search([('sla_state', 'in', ['near', 'overdue'])])
            self.assertEqual(len(found), 2)

    def board(self, user, tab=None):
        "The supervisor board as the user's client shows it"
        pool = Pool()
        Request = pool.get('telecom.service_request')
        ModelData = pool.get('ir.model.data')
        ActWindow = pool.get('ir.action.act_window')
        Domain = pool.get('ir.action.act_window.domain')
        action = ActWindow(ModelData.get_id('crm_service', 'act_request_board'))
        with as_user(user):
            context = Transaction().context
            decoder = PYSONDecoder({'context': context})
            domain = [decoder.decode(action.pyson_domain)]
            if tab:
                domain.append(decoder.decode(Domain(ModelData.get_id(
                                'crm_service',
                                'act_request_board_domain_%s' % tab)
                            ).domain))
            order = decoder.decode(action.pyson_order)
            return Request.search(domain, order=order, limit=80)
