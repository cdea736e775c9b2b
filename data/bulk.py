"""Set-based generator of customers, accounts, numbers and lines, of their
plan history and services, and of the usage of a bill cycle.

Rows are built in Python from a seeded random source and written in large
batches: PostgreSQL COPY on PostgreSQL, multi-row INSERT on SQLite. Nothing
here goes through the ORM row by row, so a million lines take minutes, not
hours. Rows go through crm_telecom's bulk writer, which takes their ids
from the tables' sequences; customer and account codes are taken from
their sequences the same way, so records created afterwards in the client
get the next ones.
"""
import datetime as dt
import math
import random
from collections import defaultdict
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sql import Null
from sql.aggregate import Max, Min
from sql.conditionals import Coalesce

from trytond import backend
from trytond.pool import Pool
from trytond.tools import sqlite_apply_types
from trytond.transaction import Transaction

from crm_telecom import iccid, identity
from crm_telecom.bulk import BulkWriter, reserve_codes
from crm_telecom.company import default_company

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
IDENTIFIER_TYPE = identity.TYPE
BORN_FROM = dt.date(1950, 1, 1)
BORN_UNTIL = BORN_FROM + dt.timedelta(days=20000)
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


def premium_price(msisdn):
    "The premium number fee (yuan): the rarer the tail, the dearer"
    tail = msisdn[-4:]
    if tail == '8888' or tail == '6666' or tail == '9999':
        return Decimal(888)
    if tail == '1688':
        return Decimal(388)
    return Decimal(188)


def chinese_name(rng):
    given = ''.join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    return rng.choice(SURNAMES) + given


def first_birth_date(district):
    """First birth date from BORN_FROM with a valid resident ID of the
    district: stdnum refuses a division code before the year it was in use"""
    for year in range(BORN_FROM.year, BORN_UNTIL.year):
        if identity.is_valid(identity.make(district, dt.date(year, 1, 1), 0)):
            return dt.date(year, 1, 1)
    raise ValueError("no valid resident ID for district %s" % district)


def generate(subscribers, seed=1, today=None, number_spare=0.1,
        progress=None, cycle_day=None):
    """Write `subscribers` lines with their customers, identities, accounts,
    numbers, plan history and services; return a dict of row counts per
    table.

    Accounts get bill cycle day 1 or 15 (three in four on the 1st), or
    cycle_day for all of them when it is given. Customer and account codes
    come from their sequences, which are left past them."""
    pool = Pool()
    Region = pool.get('telecom.region')
    Brand = pool.get('telecom.brand')
    Template = pool.get('product.template')
    Party = pool.get('party.party')
    Identifier = pool.get('party.identifier')
    Account = pool.get('telecom.account')
    Number = pool.get('telecom.number')
    Subscriber = pool.get('telecom.subscriber')
    PlanPeriod = pool.get('telecom.subscriber.plan')
    Service = pool.get('telecom.subscriber.service')
    Configuration = pool.get('telecom.configuration')
    rng = random.Random(seed)
    # plan history and services draw from their own source so that the
    # other tables stay what they were for a seed
    history = random.Random('%s/history' % seed)
    today = today or dt.date.today()
    # the generated customers, accounts, numbers and lines belong to the
    # company of the context (or the user's)
    company = default_company()
    if company is None:
        raise ValueError("no company: set one in the context")

    districts = Region.search([('type', '=', 'district')])
    if not districts:
        raise ValueError("load the reference data first (regions)")
    district_ids = [r.id for r in districts]
    district_code = {r.id: r.code for r in districts}
    born_from = {r.id: first_birth_date(r.code) for r in districts}
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
    party_sequence = Party._code_sequence()
    account_sequence = Configuration(1).account_sequence
    # with crm_billing's ledger the accounts open at zero and their balance
    # is posted as an opening movement: the ledger writes every balance
    try:
        Movement = pool.get('telecom.account.movement')
    except KeyError:
        Movement = None

    parties = BulkWriter(Party, ['name', 'code', 'active', 'telecom_level',
            'credit_level', 'blacklisted', 'region', 'company'], ids=True)
    identifiers = BulkWriter(Identifier, ['party', 'type', 'code',
            'code_compact', 'active'])
    accounts = BulkWriter(Account, ['code', 'payer', 'payment_type',
            'balance', 'credit_limit', 'bill_cycle_day', 'state', 'active',
            'company'], ids=True)
    numbers = BulkWriter(Number, ['number', 'grade', 'state', 'region',
            'cooling_until', 'company', 'price'], ids=True)
    lines = BulkWriter(Subscriber, ['number', 'iccid', 'customer',
            'account', 'brand', 'plan', 'region', 'state',
            'suspension_reason', 'activation_date', 'termination_date',
            'company'], ids=True)
    periods = BulkWriter(PlanPeriod, ['subscriber', 'plan', 'start_date',
            'end_date'])
    services = BulkWriter(Service, ['subscriber', 'product', 'state',
            'start_date', 'end_date'])

    levels = ['normal'] * 6 + ['silver'] * 2 + ['gold', 'platinum']
    credits = ['a', 'b', 'b', 'c', 'c', 'c', 'd']
    # per customer: region, party id, account id
    customer_region, customer_party, customer_account = [], [], []
    movements = []   # (account, opening balance)
    for start in range(0, n_customers, BATCH):
        size = min(BATCH, n_customers - start)
        party_codes = (reserve_codes(party_sequence, size)
            if party_sequence else [None] * size)
        batch_p, codes, account_values = [], [], []
        for n, code in zip(range(start, start + size), party_codes):
            region = rng.choice(district_ids)
            customer_region.append(region)
            born = born_from[region] + dt.timedelta(days=rng.randrange(
                    (BORN_UNTIL - born_from[region]).days))
            codes.append(identity.make(district_code[region], born, n))
            batch_p.append((chinese_name(rng), code, True,
                    rng.choice(levels), rng.choice(credits), False, region,
                    company))
            postpaid = rng.random() < 0.35
            balance = Decimal(rng.randrange(-20000, 30000)) / 100
            day = rng.choice([1, 1, 1, 15])
            account_values.append(('postpaid' if postpaid else 'prepaid',
                    balance, Decimal(200 if postpaid else 0),
                    cycle_day or day))
        party_ids = parties.write(batch_p)
        customer_party.extend(party_ids)
        identifiers.write([(pid, IDENTIFIER_TYPE, code, code, True)
                for pid, code in zip(party_ids, codes)])
        account_ids = accounts.write([
                (code, pid, payment_type,
                    Decimal(0) if Movement else balance, limit, day,
                    'active', True, company)
                for code, pid, (payment_type, balance, limit, day) in zip(
                    reserve_codes(account_sequence, size), party_ids,
                    account_values)])
        customer_account.extend(account_ids)
        movements.extend((account, values[1])
            for account, values in zip(account_ids, account_values)
            if values[1])
        if progress:
            progress('customers', start + size, n_customers)

    states = [s for s, w in LINE_STATES for _ in range(w)]
    number_values = rng.sample(range(10 ** 8), n_numbers)
    for start in range(0, n_numbers, BATCH):
        batch_n, batch_s = [], []
        lives = []   # (brand, plan, state, activated, terminated) per line
        for n in range(start, min(start + BATCH, n_numbers)):
            msisdn = rng.choice(PREFIXES) + '%08d' % number_values[n]
            premium = msisdn[-4:] in {'8888', '6666', '9999', '1688'} or (
                msisdn[-3:] == msisdn[-1] * 3)
            grade = 'premium' if premium else 'ordinary'
            price = premium_price(msisdn) if premium else None
            if n >= subscribers:
                batch_n.append((msisdn, grade, 'available',
                        rng.choice(district_ids), None, company, price))
                continue
            state = rng.choice(states)
            customer = n % n_customers
            region = customer_region[customer]
            brand = rng.choice(brand_ids)
            activated = today - dt.timedelta(days=rng.randrange(1, 3650))
            number_state = {'terminated': 'cooling', 'draft': 'active'}.get(
                state, 'active')
            cooling = (today + dt.timedelta(days=rng.randrange(1, 90))
                if state == 'terminated' else None)
            batch_n.append((msisdn, grade, number_state, region, cooling,
                    company, price))
            plan = rng.choice(plans_by_brand[brand])
            terminated = None
            if state == 'terminated':
                # never before the activation
                terminated = max(activated,
                    today - dt.timedelta(days=rng.randrange(1, 90)))
            # the SIM card's number follows the line's phone number
            batch_s.append((len(batch_n) - 1, iccid.make(int(msisdn) * 100),
                    customer_party[customer], customer_account[customer],
                    brand, plan, region, state,
                    'arrears' if state == 'suspended' else None,
                    activated if state != 'draft' else None, terminated,
                    company))
            lives.append((brand, plan, state, activated, terminated))
        number_ids = numbers.write(batch_n)
        line_ids = lines.write([(number_ids[i], *values)
                for i, *values in batch_s])
        batch_h, batch_v = [], []
        for sid, (brand, plan, state, activated, terminated) in zip(
                line_ids, lives):
            if state == 'draft':
                continue
            batch_h.extend(_plan_history(history, sid, plan,
                    plans_by_brand[brand], activated, terminated, today))
            batch_v.extend(_services(history, sid, state,
                    addons[None] + addons[brand], vas[None] + vas[brand],
                    activated, terminated, today))
        periods.write(batch_h)
        services.write(batch_v)
        if progress:
            progress('lines', min(start + BATCH, n_numbers), n_numbers)
    if Movement:
        Movement.post({'account': account, 'kind': 'opening',
                'amount': balance} for account, balance in movements)
    return _finish([parties, identifiers, accounts, numbers, lines,
            periods, services])


def _finish(writers):
    "ANALYZE the tables written; row counts"
    for writer in writers:
        writer.analyze()
    return {w.table: w.rows for w in writers}


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
    query = period.join(subscriber,
        condition=period.subscriber == subscriber.id
        ).join(account, condition=subscriber.account == account.id
        ).select(subscriber.id, Min(period.start_date).as_('start'),
        Max(Coalesce(period.end_date, end)).as_('stop'),
        where=(account.bill_cycle_day == period_start.day)
        & (period.start_date < end)
        & ((period.end_date == Null) | (period.end_date > period_start)),
        group_by=[subscriber.id], order_by=[subscriber.id])
    if backend.name == 'sqlite':
        sqlite_apply_types(query, [None, 'DATE', 'DATE'])
    cursor = Transaction().connection.cursor()
    cursor.execute(*query)
    windows = []
    for sid, start, stop in cursor:
        start = max(start, period_start)
        stop = min(stop, end)
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
    Usage = Pool().get('telecom.usage')
    rng = random.Random('%s/usage/%s' % (seed, period_start))
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
    # keys like the record ids of a switch: the same seed and cycle give
    # the same records, which their keys then refuse to write twice
    key = 'G%s-%s-%%d' % (seed, period_start.strftime('%Y%m'))
    # the month(s) of the cycle have their partitions (PostgreSQL)
    Usage.before_writing([period_start, end - dt.timedelta(days=1)])
    usage = BulkWriter(Usage, ['subscriber', 'type', 'roaming',
            'other_party', 'start', 'duration', 'volume', 'units', 'charge',
            'source_key'])

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
        for i in range(0, len(records), BATCH):
            usage.write([(sid, type_, roaming, other, start, duration,
                        volume, units, charge, key % (usage.rows + n))
                    for n, (start, sid, type_, roaming, other, duration,
                        volume, units, charge)
                    in enumerate(records[i:i + BATCH])])
        if progress and (d % 7 == 6 or d == days - 1):
            progress('usage', usage.rows, count)
    return _finish([usage])


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
    pool = Pool()
    Account = pool.get('telecom.account')
    Adjustment = pool.get('telecom.bill.adjustment')
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
    adjustments = BulkWriter(Adjustment, ['account', 'amount', 'reason',
            'state', 'requested_by', 'approved_by', 'approved_at'])
    rows = []
    for n in range(count):
        reason, sign = rng.choice(ADJUSTMENT_REASONS)
        amount = sign * Decimal(rng.randrange(100, 15000 if sign < 0
                else 5000)) / 100
        state = rng.choice(states)
        approved = state == 'approved'
        rows.append((rng.choice(account_ids), amount, reason, state, user,
                user if approved else None, now if approved else None))
    for i in range(0, len(rows), BATCH):
        adjustments.write(rows[i:i + BATCH])
    return _finish([adjustments])
