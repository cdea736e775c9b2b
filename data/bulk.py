"""Set-based generator of customers, accounts, numbers and lines.

Rows are built in Python from a seeded random source and written in large
batches: PostgreSQL COPY on PostgreSQL, multi-row INSERT on SQLite. Nothing
here goes through the ORM row by row, so a million lines take minutes, not
hours. Ids are allocated up front and the id sequences moved past them.
"""
import datetime as dt
import random
from decimal import Decimal

from sql import Table
from sql.aggregate import Max

from trytond import backend
from trytond.pool import Pool
from trytond.transaction import Transaction

from crm_telecom import identity

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉晨宇浩然子轩梓涵欣怡思远佳琪一鸣文博雨桐嘉怡俊杰"
PREFIXES = ['134', '135', '136', '137', '138', '139', '147', '150', '151',
    '152', '157', '158', '159', '178', '182', '183', '184', '187', '188',
    '195', '198']
LINE_STATES = [('active', 85), ('suspended', 6), ('terminated', 7),
    ('draft', 2)]
BATCH = 20000


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
        progress=None):
    """Write `subscribers` lines with their customers, identities, accounts
    and numbers; return a dict of row counts per table."""
    pool = Pool()
    Region = pool.get('telecom.region')
    Brand = pool.get('telecom.brand')
    Template = pool.get('product.template')
    rng = random.Random(seed)
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

    n_customers = max(1, (subscribers * 2) // 3)
    n_numbers = subscribers + int(subscribers * number_spare)
    first = {t: next_id(t) for t in ['party_party', 'party_identifier',
            'telecom_account', 'telecom_number', 'telecom_subscriber']}

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
        batch_a.append((first['telecom_account'] + n,
                'A%09d' % (first['telecom_account'] + n), pid,
                'postpaid' if postpaid else 'prepaid',
                Decimal(rng.randrange(-20000, 30000)) / 100,
                Decimal(200 if postpaid else 0), rng.choice([1, 1, 1, 15]),
                'active', True, user, now))
        if len(batch_p) >= BATCH:
            parties.write(batch_p)
            identifiers.write(batch_i)
            accounts.write(batch_a)
            batch_p, batch_i, batch_a = [], [], []
            if progress:
                progress('customers', n + 1, n_customers)
    parties.write(batch_p)
    identifiers.write(batch_i)
    accounts.write(batch_a)

    states = [s for s, w in LINE_STATES for _ in range(w)]
    number_values = rng.sample(range(10 ** 8), n_numbers)
    batch_n, batch_s = [], []
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
            batch_s.append((first['telecom_subscriber'] + n, nid,
                    '8986%016d' % (first['telecom_subscriber'] + n), pid,
                    first['telecom_account'] + customer, brand,
                    rng.choice(plans_by_brand[brand]), region, state,
                    'arrears' if state == 'suspended' else None,
                    activated if state != 'draft' else None,
                    today - dt.timedelta(days=rng.randrange(1, 90))
                    if state == 'terminated' else None, user, now))
        else:
            batch_n.append((nid, msisdn, 'premium' if premium else 'ordinary',
                    'available', rng.choice(district_ids), None, user, now))
        if len(batch_n) >= BATCH:
            numbers.write(batch_n)
            lines.write(batch_s)
            batch_n, batch_s = [], []
            if progress:
                progress('lines', n + 1, n_numbers)
    numbers.write(batch_n)
    lines.write(batch_s)

    counts = {}
    for writer in [parties, identifiers, accounts, numbers, lines]:
        if writer.rows:
            move_sequence(writer.table, first[writer.table] + writer.rows - 1)
        counts[writer.table] = writer.rows
    if parties.postgresql:
        cursor = Transaction().connection.cursor()
        for writer in [parties, identifiers, accounts, numbers, lines]:
            cursor.execute('ANALYZE "%s"' % writer.table)
    return counts
