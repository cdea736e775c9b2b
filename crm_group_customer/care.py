"""Care reminders: an account manager's prompts to look after a group's
key contacts (birthdays) and its contracts (anniversaries), raised a few
days ahead by a daily cron"""
import datetime as dt

from sql import Null
from sql.operators import Equal

from trytond.model import Exclude, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from crm_telecom.company import default_company

CARE_KINDS = [
    ('birthday', "Birthday"),
    ('anniversary', "Contract Anniversary"),
    ('other', "Other"),
    ]
CONTRACT_LIVE_STATES = ['active', 'expiring']


def anniversary(date, year):
    "The day of date in year (28 February for 29 February out of leap years)"
    try:
        return date.replace(year=year)
    except ValueError:
        return date.replace(year=year, day=28)


def occurrences(date, start, end, after=False):
    """The days of the yearly event of date in [start, end]; after: only
    those after the first (an anniversary, not the day itself)"""
    for year in range(start.year, end.year + 1):
        day = anniversary(date, year)
        if start <= day <= end and (not after or day.year > date.year):
            yield day


class Configuration(metaclass=PoolMeta):
    __name__ = 'telecom.configuration'

    care_reminder_days = fields.Integer("Care Reminder Days",
        required=True, domain=[('care_reminder_days', '>=', 0)],
        help="How many days ahead care reminders are raised for key "
        "contacts' birthdays and contract anniversaries.")

    @classmethod
    def default_care_reminder_days(cls):
        return 7


class Care(Workflow, ModelSQL, ModelView):
    __name__ = 'telecom.group.care'

    group = fields.Many2One('party.party', "Group", required=True,
        ondelete='CASCADE', domain=[('group_customer', '=', True)],
        states={'readonly': Eval('state') != 'open'})
    contact = fields.Many2One('telecom.group.contact', "Contact",
        ondelete='CASCADE', domain=[('group', '=', Eval('group', -1))],
        states={'readonly': Eval('state') != 'open'})
    company = fields.Many2One('company.company', "Company", required=True,
        ondelete='RESTRICT', states={'readonly': True})
    kind = fields.Selection(CARE_KINDS, "Kind", required=True, sort=False,
        states={'readonly': Eval('state') != 'open'})
    date = fields.Date("Date", required=True,
        states={'readonly': Eval('state') != 'open'})
    employee = fields.Many2One('company.employee', "Account Manager",
        ondelete='RESTRICT',
        states={'readonly': Eval('state') != 'open'})
    origin = fields.Reference("Origin", selection='get_origins',
        readonly=True)
    note = fields.Char("Note")
    state = fields.Selection([
            ('open', "Open"),
            ('done', "Done"),
            ], "State", required=True, readonly=True)
    visit = fields.Many2One('telecom.group.visit', "Visit", readonly=True,
        ondelete='SET NULL')
    kind_string = kind.translated('kind')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('origin_date_unique',
                Exclude(t, (t.kind, Equal), (t.origin, Equal),
                    (t.date, Equal), where=t.origin != Null),
                'crm_group_customer.msg_care_unique'),
            ]
        cls._order = [('date', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('open', 'done'),
            ('done', 'open'),
            }
        cls._buttons.update({
                'do': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': Eval('state') != 'done',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return default_company()

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def default_kind(cls):
        return 'other'

    @classmethod
    def _origin_models(cls):
        pool = Pool()
        models = ['telecom.group.contact']
        try:
            pool.get('telecom.group.contract')
        except KeyError:
            pass
        else:
            models.append('telecom.group.contract')
        return models

    @classmethod
    def get_origins(cls):
        IrModel = Pool().get('ir.model')
        return [(None, '')] + [(m, IrModel.get_name(m))
            for m in cls._origin_models()]

    @fields.depends('group', 'employee', 'company')
    def on_change_group(self):
        if self.group:
            if self.group.account_manager and not self.employee:
                self.employee = self.group.account_manager
            if self.group.company:
                self.company = self.group.company

    def get_rec_name(self, name):
        return '%s %s (%s)' % (self.date, self.group.rec_name,
            self.kind_string)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('group.rec_name',) + tuple(clause[1:])]

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, cares):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, cares):
        cls.write(cares, {'visit': None})

    @classmethod
    def reminder_days(cls):
        return Pool().get('telecom.configuration')(1).care_reminder_days

    @classmethod
    def close_by_visits(cls, visits):
        """Close the reminders care visits answer: the one a visit names,
        else the open reminders of its group (and contact) within the
        reminder days of the visit"""
        if not visits:
            return
        days = dt.timedelta(days=cls.reminder_days())
        named = [v for v in visits if v.care]
        others = [v for v in visits if not v.care]
        found = {}
        for visit in named:
            if visit.care.state == 'open':
                found[visit.care] = visit
        if others:
            cares = cls.search([
                    ('state', '=', 'open'),
                    ('group', 'in', list({v.group.id for v in others})),
                    ('date', '>=', min(v.date for v in others) - days),
                    ('date', '<=', max(v.date for v in others) + days),
                    ])
            for care in cares:
                for visit in others:
                    if (visit.group == care.group
                            and abs(visit.date - care.date) <= days
                            and (not visit.contact or not care.contact
                                or visit.contact == care.contact)):
                        found.setdefault(care, visit)
                        break
        if not found:
            return
        by_visit = {}
        for care, visit in found.items():
            by_visit.setdefault(visit, []).append(care)
        args = []
        for visit, cares in by_visit.items():
            args.extend((cares, {'visit': visit.id}))
        cls.write(*args)
        cls.do(list(found))

    @classmethod
    def generate(cls, date=None):
        """Raise the reminders of the events from date (today) to the
        reminder days ahead that have none yet: key contacts' birthdays and
        anniversaries of live contracts; returns the reminders created"""
        pool = Pool()
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        end = date + dt.timedelta(days=cls.reminder_days())
        events = cls._birthday_events(date, end)
        events += cls._anniversary_events(date, end)
        if not events:
            return []
        existing = set()
        for row in cls.search_read([
                    ('date', '>=', date), ('date', '<=', end),
                    ('origin', '!=', None),
                    ], fields_names=['kind', 'origin', 'date']):
            existing.add((row['kind'], row['origin'], row['date']))
        to_create = [e for e in events
            if (e['kind'], e['origin'], e['date']) not in existing]
        if not to_create:
            return []
        return cls.create(to_create)

    @classmethod
    def _groups(cls, table):
        "The join of the party table for the groups' company and manager"
        Party = Pool().get('party.party')
        party = Party.__table__()
        return party, table.join(party, condition=(table.group == party.id)
            & (party.group_customer == True))  # noqa: E712

    @classmethod
    def _birthday_events(cls, start, end):
        "One query: the contacts with a birthday, matched to the days here"
        pool = Pool()
        Contact = pool.get('telecom.group.contact')
        contact = Contact.__table__()
        party, from_ = cls._groups(contact)
        cursor = Transaction().connection.cursor()
        cursor.execute(*from_.select(contact.id, contact.group,
                contact.birthday, party.company, party.account_manager,
                where=contact.birthday != Null))
        events = []
        for id_, group, birthday, company, manager in cursor:
            if isinstance(birthday, str):
                birthday = dt.date.fromisoformat(birthday)
            for day in occurrences(birthday, start, end):
                events.append({
                        'group': group, 'contact': id_, 'kind': 'birthday',
                        'date': day, 'company': company or default_company(),
                        'employee': manager,
                        'origin': 'telecom.group.contact,%s' % id_,
                        })
        return events

    @classmethod
    def _anniversary_events(cls, start, end):
        """One query: the live contracts matched to their anniversaries
        here (only when contracts are installed)"""
        pool = Pool()
        try:
            Contract = pool.get('telecom.group.contract')
        except KeyError:
            return []
        contract = Contract.__table__()
        party, from_ = cls._groups(contract)
        cursor = Transaction().connection.cursor()
        cursor.execute(*from_.select(contract.id, contract.group,
                contract.start_date, party.company, party.account_manager,
                where=contract.state.in_(CONTRACT_LIVE_STATES)
                & (contract.start_date != Null)
                & (contract.start_date < start)
                & ((contract.end_date == Null)
                    | (contract.end_date >= start))))
        events = []
        for id_, group, start_date, company, manager in cursor:
            if isinstance(start_date, str):
                start_date = dt.date.fromisoformat(start_date)
            for day in occurrences(start_date, start, end, after=True):
                events.append({
                        'group': group, 'kind': 'anniversary',
                        'date': day, 'company': company or default_company(),
                        'employee': manager,
                        'origin': 'telecom.group.contract,%s' % id_,
                        })
        return events


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    group_cares = fields.One2Many('telecom.group.care', 'group',
        "Care Reminders", readonly=True,
        states={'invisible': ~Eval('group_customer')})

    @classmethod
    def copy(cls, parties, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('group_cares', None)
        return super().copy(parties, default=default)
