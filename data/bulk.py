"""Set-based generator of customers, accounts, numbers and lines, of their
plan history and services, and of the usage of a bill cycle.

Rows are built in Python from a seeded random source and written in large
batches: PostgreSQL COPY on PostgreSQL, multi-row INSERT on SQLite. Nothing
here goes through the ORM row by row, so a million lines take minutes, not
hours. Ids are allocated up front and the id sequences moved past them.
"""
import datetime as dt
import math
import random
from collections import defaultdict
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sql import Null, Table
from sql.aggregate import Max, Min
from sql.conditionals import Coalesce

from trytond import backend
from trytond.pool import Pool
from trytond.transaction import Transaction

from crm_telecom import identity
from crm_telecom.sql_tools import as_date

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
    "彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金"
    "石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
    )
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红"
    "娥玲芬燕彬鹏辉晨宇浩然子轩梓涵欣怡思远佳琪一鸣文博雨桐嘉怡俊"
    "杰"
    )
PREFIXES = ['134', '135', '136', '137', '138', '139', '147', '150', '151',
    '152', '157', '158', '159', '178', '182', '183', '184', '187', '188',
    '195', '198']
LINE_STATES = [('active', 85), ('suspended', 6), ('terminated', 7),
    ('draft', 2)]
BATCH = 20000
# share of the lines that changed plan in the last PLAN_CHANGE_DAYS days
PLAN_CHANGE_SHARE = 0.03
PLAN_CHANGE_DAYS = 120
# share of the lines with one value-added service, with a second one, and
# with an add-on; share of the services of live lines removed since
VAS_SHARE = 0.30
SECOND_VAS_SHARE = 0.08
ADDON_SHARE = 0.12
REMOVED_SHARE = 0.10
# usage: mix of the records, roaming travellers and pre-rated records
USAGE_MIX = [('voice', 40), ('sms', 20), ('data', 40)]
TRAVELLER_SHARE = 0.10      # lines that roam during the cycle ...
TRAVELLER_ROAMING = 0.30    # ... for this share of their records: ~3 %
PRERATED_SHARE = 0.02
# records per hour of the day (busy evenings, quiet nights)
HOURLY = [2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 9, 9, 8, 8, 8, 9, 10, 11, 11,
    10, 7, 4]


def chinese_name(rng):
    given = ''.join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    return rng.choice(SURNAMES) + given


class Writer:
    "Writes batches of rows into one table with the backend's fastest path"

    def __init__(self, table, columns):
        self.table = table
        self.columns = columns
        transaction = Transaction()
        self.cursor = transaction.connection.cursor()
        self.postgresql = backend.name == 'postgresql'
        self.rows = 0

    def write(self, rows):
        if not rows:
            return
        if self.postgresql:
            cols = ', '.join('"%s"' % c for c in self.columns)
            with self.cursor.copy(
                    'COPY "%s" (%s) FROM STDIN' % (self.table, cols)) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            table = Table(self.table)
            columns = [getattr(table, c) for c in self.columns]
            step = max(1, 999 // len(self.columns))
            for i in range(0, len(rows), step):
                self.cursor.execute(*table.insert(columns, rows[i:i + step]))
        self.rows += len(rows)


def next_id(table_name):
    cursor = Transaction().connection.cursor()
    table = Table(table_name)
    cursor.execute(*table.select(Max(table.id)))
    current, = cursor.fetchone()
    return (current or 0) + 1


def move_sequence(table_name, last_id):
    transaction = Transaction()
    transaction.database.setnextid(
        transaction.connection, table_name, last_id + 1)


def generate(subscribers, seed=1, today=None, number_spare=0.1,
        progress=None, cycle_day=None):
    """Write `subscribers` lines with their customers, identities, accounts,
    numbers, plan history and services; return a dict of row counts per
    table.

    Accounts get bill cycle day 1 or 15 (three in four on the 1st), or
    cycle_day for all of them when it is given."""
    pool = Pool()
    Region = pool.get('telecom.region')
    Brand = pool.get('telecom.brand')
    Template = pool.get('product.template')
    rng = random.Random(seed)
    # plan history and services draw from their own source so that the
    # other tables stay what they were for a seed
    history = random.Random('%s/history' % seed)
    today = today or dt.date.today()
    now = dt.datetime.now()
    user = Transaction().user

    districts = Region.search([('type', '=', 'district')])
    if not districts:
        raise ValueError("load the reference data first (regions)")
    district_ids = [r.id for r in districts]
    district_code = {r.id: r.code for r in districts}
    brands = {b.id: b for b in Brand.search([])}
    plans_by_brand = {}
    for plan in Template.search([('telecom_type', '=', 'plan')]):
        plans_by_brand.setdefault(plan.telecom_brand.id, []).append(plan.id)
    brand_ids = [b for b in brands if b in plans_by_brand]
    addons, vas = defaultdict(list), defaultdict(list)
    for product in Template.search(
            [('telecom_type', 'in', ['addon', 'vas'])], order=[('id', 'ASC')]):
        kind = addons if product.telecom_type == 'addon' else vas
        kind[product.telecom_brand.id if product.telecom_brand
            else None].append(product.id)

    n_customers = max(1, (subscribers * 2) // 3)
    n_numbers = subscribers + int(subscribers * number_spare)
    first = {t: next_id(t) for t in ['party_party', 'party_identifier',
            'telecom_account', 'telecom_number', 'telecom_subscriber',
            'telecom_subscriber_plan', 'telecom_subscriber_service']}

    parties = Writer('party_party', ['id', 'name', 'code', 'active',
            'telecom_level', 'credit_level', 'blacklisted', 'region',
            'create_uid', 'create_date'])
    identifiers = Writer('party_identifier', ['id', 'party', 'type', 'code',
            'code_compact', 'active', 'create_uid', 'create_date'])
    accounts = Writer('telecom_account', ['id', 'code', 'payer',
            'payment_type', 'balance', 'credit_limit', 'bill_cycle_day',
            'state', 'active', 'create_uid', 'create_date'])
    numbers = Writer('telecom_number', ['id', 'number', 'grade', 'state',
            'region', 'cooling_until', 'create_uid', 'create_date'])
    lines = Writer('telecom_subscriber', ['id', 'number', 'iccid',
            'customer', 'account', 'brand', 'plan', 'region', 'state',
            'suspension_reason', 'activation_date', 'termination_date',
            'create_uid', 'create_date'])
    periods = Writer('telecom_subscriber_plan', ['id', 'subscriber', 'plan',
            'start_date', 'end_date', 'create_uid', 'create_date'])
    services = Writer('telecom_subscriber_service', ['id', 'subscriber',
            'product', 'state', 'start_date', 'end_date', 'create_uid',
            'create_date'])

    levels = ['normal'] * 6 + ['silver'] * 2 + ['gold', 'platinum']
    credits = ['a', 'b', 'b', 'c', 'c', 'c', 'd']
    customer_region = []
    batch_p, batch_i, batch_a = [], [], []
    for n in range(n_customers):
        pid = first['party_party'] + n
        region = rng.choice(district_ids)
        customer_region.append(region)
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20000))
        code = identity.make(district_code[region], born, n)
        batch_p.append((pid, chinese_name(rng), 'C%08d' % pid, True,
                rng.choice(levels), rng.choice(credits), False, region,
                user, now))
        batch_i.append((first['party_identifier'] + n, pid, 'cn_id', code,
                code, True, user, now))
        postpaid = rng.random() < 0.35
        balance = Decimal(rng.randrange(-20000, 30000)) / 100
        day = rng.choice([1, 1, 1, 15])
        batch_a.append((first['telecom_account'] + n,
                'A%09d' % (first['telecom_account'] + n), pid,
                'postpaid' if postpaid else 'prepaid', balance,
                Decimal(200 if postpaid else 0), cycle_day or day, 'active',
                True, user, now))
        if len(batch_p) >= BATCH:
            parties.write(batch_p)
            identifiers.write(batch_i)
            _write_accounts(accounts, batch_a)
            batch_p, batch_i, batch_a = [], [], []
            if progress:
                progress('customers', n + 1, n_customers)
    parties.write(batch_p)
    identifiers.write(batch_i)
    _write_accounts(accounts, batch_a)

    states = [s for s, w in LINE_STATES for _ in range(w)]
    number_values = rng.sample(range(10 ** 8), n_numbers)
    batch_n, batch_s, batch_h, batch_v = [], [], [], []
    for n in range(n_numbers):
        nid = first['telecom_number'] + n
        msisdn = rng.choice(PREFIXES) + '%08d' % number_values[n]
        premium = msisdn[-4:] in {'8888', '6666', '9999', '1688'} or (
            msisdn[-3:] == msisdn[-1] * 3)
        if n < subscribers:
            state = rng.choice(states)
            customer = n % n_customers
            pid = first['party_party'] + customer
            region = customer_region[customer]
            brand = rng.choice(brand_ids)
            activated = today - dt.timedelta(days=rng.randrange(1, 3650))
            number_state = {'terminated': 'cooling', 'draft': 'active'}.get(
                state, 'active')
            cooling = (today + dt.timedelta(days=rng.randrange(1, 90))
                if state == 'terminated' else None)
            batch_n.append((nid, msisdn, 'premium' if premium else 'ordinary',
                    number_state, region, cooling, user, now))
            plan = rng.choice(plans_by_brand[brand])
            terminated = None
            if state == 'terminated':
                # never before the activation
                terminated = max(activated,
                    today - dt.timedelta(days=rng.randrange(1, 90)))
            sid = first['telecom_subscriber'] + n
            batch_s.append((sid, nid, '8986%016d' % sid, pid,
                    first['telecom_account'] + customer, brand, plan,
                    region, state,
                    'arrears' if state == 'suspended' else None,
                    activated if state != 'draft' else None, terminated,
                    user, now))
            if state != 'draft':
                for values in _plan_history(history, sid, plan,
                        plans_by_brand[brand], activated, terminated, today):
                    batch_h.append((first['telecom_subscriber_plan']
                            + periods.rows + len(batch_h),) + values
                        + (user, now))
                for values in _services(history, sid, state,
                        addons[None] + addons[brand], vas[None] + vas[brand],
                        activated, terminated, today):
                    batch_v.append((first['telecom_subscriber_service']
                            + services.rows + len(batch_v),) + values
                        + (user, now))
        else:
            batch_n.append((nid, msisdn, 'premium' if premium else 'ordinary',
                    'available', rng.choice(district_ids), None, user, now))
        if len(batch_n) >= BATCH:
            numbers.write(batch_n)
            lines.write(batch_s)
            periods.write(batch_h)
            services.write(batch_v)
            batch_n, batch_s, batch_h, batch_v = [], [], [], []
            if progress:
                progress('lines', n + 1, n_numbers)
    numbers.write(batch_n)
    lines.write(batch_s)
    periods.write(batch_h)
    services.write(batch_v)
    return _finish(first, [parties, identifiers, accounts, numbers, lines,
            periods, services])


def _write_accounts(writer, rows):
    """Accounts open at zero and their generated balance is posted as an
    opening movement: crm_billing's ledger is the one writer of balances
    (the core alone keeps no ledger and stores the balance as it is)"""
    try:
        Movement = Pool().get('telecom.account.movement')
    except KeyError:
        writer.write(rows)
        return
    balance = writer.columns.index('balance')
    writer.write([r[:balance] + (Decimal(0),) + r[balance + 1:]
            for r in rows])
    Movement.post({'account': r[0], 'kind': 'opening', 'amount': r[balance]}
        for r in rows if r[balance])


def _finish(first, writers):
    "Move the id sequences past the rows written, ANALYZE; row counts"
    counts = {}
    for writer in writers:
        if writer.rows:
            move_sequence(writer.table, first[writer.table] + writer.rows - 1)
        counts[writer.table] = writer.rows
    if writers[0].postgresql:
        cursor = Transaction().connection.cursor()
        for writer in writers:
            cursor.execute('ANALYZE "%s"' % writer.table)
    return counts


def _plan_history(rng, subscriber, plan, brand_plans, activated, terminated,
        today):
    """Plan periods of a line, as order application writes them: from the
    activation to the day after the termination (end exclusive), some with
    a recent change from another plan of the brand;
    rows of (subscriber, plan, start, end)"""
    end = terminated + dt.timedelta(days=1) if terminated else None
    last = terminated or today
    others = [p for p in brand_plans if p != plan]
    if others and rng.random() < PLAN_CHANGE_SHARE:
        low = max(activated + dt.timedelta(days=1),
            last - dt.timedelta(days=PLAN_CHANGE_DAYS))
        if low <= last:
            change = low + dt.timedelta(
                days=rng.randrange((last - low).days + 1))
            return [(subscriber, rng.choice(others), activated, change),
                (subscriber, plan, change, end)]
    return [(subscriber, plan, activated, end)]


def _services(rng, subscriber, state, addons, vas, activated, terminated,
        today):
    """Value-added services and add-ons of a line: started some day of its
    life; removed with the line (end = termination day, as a termination
    order does) or now and then before; suspended with it;
    rows of (subscriber, product, state, start, end)"""
    chosen = []
    if vas and rng.random() < VAS_SHARE:
        chosen.extend(rng.sample(vas,
                2 if len(vas) > 1 and rng.random() < SECOND_VAS_SHARE else 1))
    if addons and rng.random() < ADDON_SHARE:
        chosen.append(rng.choice(addons))
    last = terminated or today
    rows = []
    span = (last - activated).days
    for product in chosen:
        start = activated + dt.timedelta(
            days=rng.randrange(span) if span else 0)
        if state == 'terminated':
            rows.append((subscriber, product, 'removed', start, terminated))
        elif start < today and rng.random() < REMOVED_SHARE:
            rows.append((subscriber, product, 'removed', start,
                    start + dt.timedelta(
                        days=rng.randrange(1, (today - start).days + 1))))
        else:
            rows.append((subscriber, product,
                    'suspended' if state == 'suspended' else 'active',
                    start, None))
    return rows


def cycle_windows(period_start):
    """Lines billed in the cycle that starts on period_start (their account's
    bill cycle day is its day) with the part of the cycle their plan history
    covers: [(subscriber id, first day, first day after)]"""
    pool = Pool()
    Subscriber = pool.get('telecom.subscriber')
    Account = pool.get('telecom.account')
    PlanPeriod = pool.get('telecom.subscriber.plan')
    subscriber = Subscriber.__table__()
    account = Account.__table__()
    period = PlanPeriod.__table__()
    end = period_start + relativedelta(months=1)
    cursor = Transaction().connection.cursor()
    cursor.execute(*period.join(subscriber,
            condition=period.subscriber == subscriber.id
            ).join(account, condition=subscriber.account == account.id
            ).select(subscriber.id, Min(period.start_date),
            Max(Coalesce(period.end_date, end)),
            where=(account.bill_cycle_day == period_start.day)
            & (period.start_date < end)
            & ((period.end_date == Null) | (period.end_date > period_start)),
            group_by=[subscriber.id], order_by=[subscriber.id]))
    windows = []
    for sid, start, stop in cursor:
        start = max(as_date(start), period_start)
        stop = min(as_date(stop), end)
        if start < stop:
            windows.append((sid, start, stop))
    return windows


def generate_usage(count, period_start, seed=1, progress=None):
    """Write `count` usage records of the cycle [period_start, +1 month) as
    the import would: for the lines billed in that cycle, on the days their
    plan history covers, in time order (as daily files arrive); return
    {'telecom_usage': rows}.

    Voice 40 %, SMS 20 %, data 40 % of the records; one line in ten roams
    for 30 % of its records (~3 % of all); 2 % arrive pre-rated. A few lines
    use a lot: activity is log-normal per line. Units as the import computes
    them: started minutes, 1 per message, KB."""
    rng = random.Random('%s/usage/%s' % (seed, period_start))
    user = Transaction().user
    now = dt.datetime.now()
    end = period_start + relativedelta(months=1)
    windows = cycle_windows(period_start)
    if not windows:
        raise ValueError("no line is billed in the cycle of %s" % period_start)
    weights = [rng.lognormvariate(0, 1) for _ in windows]
    travellers = [rng.random() < TRAVELLER_SHARE for _ in windows]
    types = [t for t, _ in USAGE_MIX]
    type_weights = [w for _, w in USAGE_MIX]
    hours = list(range(24))
    data_mu = math.log(20 * 1024)  # median data session: 20 MB
    first_id = next_id('telecom_usage')
    month = period_start.strftime('%Y%m')
    usage = Writer('telecom_usage', ['id', 'subscriber', 'type', 'roaming',
            'other_party', 'start', 'duration', 'volume', 'units', 'charge',
            'source_key', 'create_uid', 'create_date'])

    days = (end - period_start).days
    for d in range(days):
        day = period_start + dt.timedelta(days=d)
        per_day = count // days + (1 if d < count % days else 0)
        eligible = [i for i, (_, start, stop) in enumerate(windows)
            if start <= day < stop]
        if not per_day or not eligible:
            continue
        cum, total = [], 0.0
        for i in eligible:
            total += weights[i]
            cum.append(total)
        midnight = dt.datetime.combine(day, dt.time())
        records = []
        for i, type_, hour in zip(
                rng.choices(eligible, cum_weights=cum, k=per_day),
                rng.choices(types, weights=type_weights, k=per_day),
                rng.choices(hours, weights=HOURLY, k=per_day)):
            start = midnight + dt.timedelta(
                seconds=hour * 3600 + rng.randrange(3600))
            roaming = travellers[i] and rng.random() < TRAVELLER_ROAMING
            charge = (Decimal(rng.randrange(10, 2000)) / 100
                if rng.random() < PRERATED_SHARE else None)
            duration = volume = other = None
            if type_ == 'voice':
                duration = min(7200, 1 + int(rng.expovariate(1 / 120)))
                units = -(-duration // 60)
            elif type_ == 'sms':
                units = 1
            else:
                volume = units = max(1, int(rng.lognormvariate(data_mu, 1.6)))
            if type_ != 'data':
                other = rng.choice(PREFIXES) + '%08d' % rng.randrange(10 ** 8)
            records.append((start, windows[i][0], type_, roaming, other,
                    duration, volume, units, charge))
        records.sort(key=lambda r: r[0])
        rows = []
        for start, sid, type_, roaming, other, duration, volume, units, \
                charge in records:
            uid = first_id + usage.rows + len(rows)
            rows.append((uid, sid, type_, roaming, other, start, duration,
                    volume, units, charge, 'G%s-%d' % (month, uid), user,
                    now))
            if len(rows) >= BATCH:
                usage.write(rows)
                rows = []
        usage.write(rows)
        if progress and (d % 7 == 6 or d == days - 1):
            progress('usage', usage.rows, count)
    return _finish({'telecom_usage': first_id}, [usage])


ADJUSTMENT_REASONS = [
    ("网络故障补偿", -1), ("套餐资费调整退费", -1), ("国际漫游争议减免", -1),
    ("客户投诉赠送话费", -1), ("重复扣费退还", -1), ("补收上月漏计费用", 1),
    ("终端分期补收", 1),
    ]
ADJUSTMENT_STATES = [('approved', 75), ('waiting', 10), ('refused', 5),
    ('draft', 10)]


def generate_adjustments(count, period_start, seed=1):
    """Write `count` credits and debits on the accounts billed in the cycle
    of period_start, not billed yet, three in four approved;
    return {'telecom_bill_adjustment': rows}"""
    rng = random.Random('%s/adjustments/%s' % (seed, period_start))
    Account = Pool().get('telecom.account')
    account = Account.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*account.select(account.id,
            where=account.bill_cycle_day == period_start.day,
            order_by=[account.id]))
    account_ids = [a for a, in cursor]
    if not account_ids:
        raise ValueError("no account is billed in the cycle of %s"
            % period_start)
    user = Transaction().user
    now = dt.datetime.now()
    states = [s for s, w in ADJUSTMENT_STATES for _ in range(w)]
    first = {'telecom_bill_adjustment': next_id('telecom_bill_adjustment')}
    adjustments = Writer('telecom_bill_adjustment', ['id', 'account',
            'amount', 'reason', 'state', 'requested_by', 'approved_by',
            'approved_at', 'create_uid', 'create_date'])
    rows = []
    for n in range(count):
        reason, sign = rng.choice(ADJUSTMENT_REASONS)
        amount = sign * Decimal(rng.randrange(100, 15000 if sign < 0
                else 5000)) / 100
        state = rng.choice(states)
        approved = state == 'approved'
        rows.append((first['telecom_bill_adjustment'] + n,
                rng.choice(account_ids), amount, reason, state, user,
                user if approved else None, now if approved else None, user,
                now))
    for i in range(0, len(rows), BATCH):
        adjustments.write(rows[i:i + BATCH])
    return _finish(first, [adjustments])
