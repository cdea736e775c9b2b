"""Business calendars: the hours of each weekday, the public holidays and
the make-up working days (调休) the SLA deadlines are counted on.

Datetimes are stored naive in UTC, as Tryton stores them; the hours of a
calendar are the wall-clock hours of the company, in its timezone
(company.timezone, e.g. Asia/Shanghai). A calendar is turned once into a
Schedule (plain Python data), which then answers any number of
computations without a query: a batch of requests loads each calendar
once."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.tools import timezone as tz
from trytond.transaction import Transaction

from .exceptions import ServiceError, ServiceValidationError

WEEKDAYS = [
    ('0', "Monday"),
    ('1', "Tuesday"),
    ('2', "Wednesday"),
    ('3', "Thursday"),
    ('4', "Friday"),
    ('5', "Saturday"),
    ('6', "Sunday"),
    ]
DAY = 24 * 60 * 60
ONE_DAY = dt.timedelta(days=1)
# a calendar finding no business hour within this many days is broken
MAX_DAYS = 3 * 366


def _seconds(time):
    "Seconds since midnight of a time (or of a datetime's time)"
    return (time.hour * 3600 + time.minute * 60 + time.second
        + time.microsecond / 1e6)


def _merge(intervals):
    "Sorted intervals of seconds, the overlapping and touching ones merged"
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


class Schedule:
    """Business hours of a calendar in a timezone, as plain data.

    weekdays: for Monday (0) to Sunday (6), the day's intervals in seconds
    since local midnight; holidays: dates without business hours;
    working_days: dates that work, with their intervals (a make-up day).
    Every method takes and returns naive UTC datetimes."""

    __slots__ = ('name', 'zone', 'weekdays', 'holidays', 'working_days',
        'always')

    def __init__(self, weekdays, holidays=(), working_days=None, zone=None,
            name=''):
        self.name = name
        self.zone = zone if zone not in {None, tz.UTC} else None
        self.weekdays = tuple(_merge(w) for w in weekdays)
        self.holidays = frozenset(holidays)
        self.working_days = {d: _merge(i)
            for d, i in (working_days or {}).items()}
        self.always = (not self.holidays and not self.working_days
            and all(w == ((0, DAY),) for w in self.weekdays))

    @classmethod
    def around_the_clock(cls):
        "Every hour of every day: business hours are wall-clock hours"
        return cls([((0, DAY),)] * 7, name='24×7')

    def intervals(self, date):
        "The business intervals of a local date"
        if date in self.working_days:
            return self.working_days[date]
        if date in self.holidays:
            return ()
        return self.weekdays[date.weekday()]

    def local(self, value):
        if self.zone is None:
            return value
        return value.replace(tzinfo=tz.UTC).astimezone(self.zone).replace(
            tzinfo=None)

    def utc(self, value):
        if self.zone is None:
            return value
        return value.replace(tzinfo=self.zone).astimezone(tz.UTC).replace(
            tzinfo=None)

    def _broken(self, start):
        raise ServiceError(gettext('crm_service.msg_calendar_no_hours_found',
                calendar=self.name, days=MAX_DAYS, date=start))

    def add(self, start, seconds):
        """The moment `seconds` business seconds after start (before it
        when negative): the earliest such moment going forward, the latest
        going back; start itself for 0"""
        if start is None:
            return None
        if not seconds:
            return start
        if self.always:
            return start + dt.timedelta(seconds=seconds)
        local = self.local(start)
        day, now = local.date(), _seconds(local)
        remaining = abs(seconds)
        if seconds > 0:
            for _ in range(MAX_DAYS):
                for begin, end in self.intervals(day):
                    if end <= now:
                        continue
                    begin = max(begin, now)
                    if remaining <= end - begin:
                        return self.utc(dt.datetime.combine(day, dt.time())
                            + dt.timedelta(seconds=begin + remaining))
                    remaining -= end - begin
                day, now = day + ONE_DAY, 0
        else:
            for _ in range(MAX_DAYS):
                for begin, end in reversed(self.intervals(day)):
                    if begin >= now:
                        continue
                    end = min(end, now)
                    if remaining <= end - begin:
                        return self.utc(dt.datetime.combine(day, dt.time())
                            + dt.timedelta(seconds=end - remaining))
                    remaining -= end - begin
                day, now = day - ONE_DAY, DAY
        self._broken(start)

    def between(self, start, end):
        "Business seconds from start to end (negative when end is before)"
        if start is None or end is None:
            return 0
        if end < start:
            return -self.between(end, start)
        if self.always:
            return (end - start).total_seconds()
        start, end = self.local(start), self.local(end)
        first, last = start.date(), end.date()
        total, day = 0, first
        while day <= last:
            low = _seconds(start) if day == first else 0
            high = _seconds(end) if day == last else DAY
            for begin, finish in self.intervals(day):
                begin, finish = max(begin, low), min(finish, high)
                if finish > begin:
                    total += finish - begin
            day += ONE_DAY
        return total

    def add_hours(self, start, hours):
        return self.add(start, float(hours) * 3600)

    def business_hours(self, start, end):
        return self.between(start, end) / 3600


def company_timezone(company=None):
    "The timezone of a company (of the context's by default), else UTC"
    if company is None:
        company_id = Transaction().context.get('company')
        if company_id is None or company_id < 0:
            return tz.UTC
        company = Pool().get('company.company')(company_id)
    if company and company.timezone:
        return tz.get_tzinfo(company.timezone)
    return tz.UTC


class Calendar(ModelSQL, ModelView):
    "Service calendar"
    __name__ = 'telecom.service.calendar'

    name = fields.Char("Name", required=True, translate=True)
    hours = fields.One2Many('telecom.service.calendar.hours', 'calendar',
        "Business Hours",
        help="The hours each weekday works; a weekday without a line is "
        "a day off.")
    holidays = fields.One2Many('telecom.service.calendar.holiday',
        'calendar', "Holidays",
        help="Days off whatever their weekday: nothing counts on them.")
    working_days = fields.One2Many('telecom.service.calendar.working_day',
        'calendar', "Make-up Working Days",
        help="Days that work whatever their weekday (调休), with the hours "
        "of the weekday they name.")

    @classmethod
    def validate_fields(cls, calendars, field_names):
        super().validate_fields(calendars, field_names)
        if field_names & {'hours', 'holidays', 'working_days'}:
            for calendar in calendars:
                calendar.check_days()

    def check_days(self):
        if not self.hours:
            raise ServiceValidationError(gettext(
                    'crm_service.msg_calendar_no_hours',
                    calendar=self.rec_name))
        holidays = {h.date: h for h in self.holidays}
        for day in self.working_days:
            if day.date in holidays:
                raise ServiceValidationError(gettext(
                        'crm_service.msg_calendar_day_both',
                        calendar=self.rec_name, date=day.date,
                        holiday=holidays[day.date].name or '',
                        working_day=day.name or ''))

    def schedule(self, timezone=None):
        """The calendar as a Schedule in timezone (the context company's
        by default)"""
        if timezone is None:
            timezone = company_timezone()
        weekdays = [[] for _ in range(7)]
        for line in self.hours:
            weekdays[int(line.weekday)].append(line.interval)
        first = next((w for w in weekdays if w), [])
        working_days = {}
        for day in self.working_days:
            working_days[day.date] = (weekdays[int(day.weekday)]
                if day.weekday else first)
        return Schedule(weekdays, [h.date for h in self.holidays],
            working_days, zone=timezone, name=self.rec_name)

    def add_hours(self, start, hours, timezone=None):
        """The moment `hours` business hours after start (naive UTC, as
        stored), counted in timezone (the context company's by default)"""
        return self.schedule(timezone).add_hours(start, hours)

    def business_hours(self, start, end, timezone=None):
        "Business hours between two naive UTC datetimes"
        return self.schedule(timezone).business_hours(start, end)


class CalendarHours(ModelSQL, ModelView):
    "Service calendar business hours"
    __name__ = 'telecom.service.calendar.hours'

    calendar = fields.Many2One('telecom.service.calendar', "Calendar",
        required=True, ondelete='CASCADE')
    weekday = fields.Selection(WEEKDAYS, "Weekday", required=True,
        sort=False)
    from_time = fields.Time("From", required=True)
    to_time = fields.Time("To", required=True,
        help="00:00 means until midnight.")
    weekday_string = weekday.translated('weekday')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('calendar')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.calendar, Index.Range())))
        cls._order = [('calendar', 'ASC'), ('weekday', 'ASC'),
            ('from_time', 'ASC'), ('id', 'ASC')]

    @property
    def interval(self):
        "Seconds since midnight of the start and the end"
        end = _seconds(self.to_time) or DAY
        return (_seconds(self.from_time), end)

    @classmethod
    def validate_fields(cls, lines, field_names):
        super().validate_fields(lines, field_names)
        if field_names & {'from_time', 'to_time'}:
            for line in lines:
                start, end = line.interval
                if start >= end:
                    raise ServiceValidationError(gettext(
                            'crm_service.msg_calendar_hours_order',
                            calendar=line.calendar.rec_name,
                            weekday=line.weekday_string,
                            from_time=line.from_time.strftime('%H:%M'),
                            to_time=line.to_time.strftime('%H:%M')))


class CalendarDay:
    "A date of a calendar, once in it (a holiday or a make-up working day)"
    __slots__ = ()
    _unique_message = None

    calendar = fields.Many2One('telecom.service.calendar', "Calendar",
        required=True, ondelete='CASCADE')
    date = fields.Date("Date", required=True)
    name = fields.Char("Name", translate=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('calendar')
        t = cls.__table__()
        cls._sql_constraints = [
            ('date_unique', Unique(t, t.calendar, t.date),
                cls._unique_message),
            ]
        cls._order = [('calendar', 'ASC'), ('date', 'ASC'), ('id', 'ASC')]


class CalendarHoliday(CalendarDay, ModelSQL, ModelView):
    "Service calendar holiday"
    __name__ = 'telecom.service.calendar.holiday'
    _unique_message = 'crm_service.msg_calendar_holiday_unique'


class CalendarWorkingDay(CalendarDay, ModelSQL, ModelView):
    "Service calendar make-up working day"
    __name__ = 'telecom.service.calendar.working_day'
    _unique_message = 'crm_service.msg_calendar_working_day_unique'

    weekday = fields.Selection([(None, "")] + WEEKDAYS, "Hours of",
        sort=False,
        help="The weekday whose hours the day works; empty: the hours of "
        "the calendar's first working weekday (Monday's in most).")
