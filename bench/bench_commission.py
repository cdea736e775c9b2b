#!/usr/bin/env python3
"""Dealer commission benchmark of the telecom CRM on PostgreSQL.

    bench/run.sh commission [--activations 100000] [--dealers 200] [...]

or, with a PostgreSQL server and TRYTOND_DATABASE_URI set:

    .venv/bin/python bench/bench_commission.py --activations 5000

The monthly commission run (telecom.commission.period compute: every
commission of the month, then one draft settlement per dealer with its
total) over --activations lines activated by dealers' outlets in the
month and their paid bills, against ONE hand-written SQL statement that
computes the same commissions and each dealer's total; the benchmark
checks every dealer's settlement against the statement to the cent, kind
by kind.

The data: bench_billing's generator writes the lines; then, in SQL, the
dealers' lines are given their dealer, outlet and activation day (a fifth
more of them activated the month before, whose period is computed first,
so that the measured run finds commissions of an earlier period to not
pay twice), one bill per account and month with a plan-fee line per line
(nine in ten paid), value-added services sold by the outlets, and lines
terminated, suspended for arrears or found fraudulent soon after their
activation (clawbacks, some beyond the plan's clawback days). The dealers,
their outlets and their three plans (one-off by plan, revenue share for
six months, volume tiers, service bonuses, instalments) go through the
ORM. See bench/README.md ("Commission benchmark").
"""
import argparse
import datetime as dt
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from dateutil.relativedelta import relativedelta

ROOT = Path(__file__).resolve().parent.parent
for path in [ROOT, ROOT / 'bench']:
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_billing import TUNED, last_cycle, settle  # noqa: E402
from bench_subscriber import (  # noqa: E402
    MODULES,
    Tryton,
    create_database,
    database_uri,
    describe_run,
    log,
    pg_connect,
    summary_records,
    write_config,
    write_results,
)

if 'crm_channel' not in MODULES:
    MODULES.append('crm_channel')

KINDS = ['activation', 'revenue_share', 'volume_tier', 'vas_bonus',
    'instalment', 'clawback']
WRITTEN_TABLES = ['telecom_subscriber', 'telecom_subscriber_event',
    'telecom_subscriber_service', 'telecom_order', 'telecom_bill',
    'telecom_bill_line', 'telecom_channel', 'commission_agent',
    'commission_plan', 'telecom_commission_rule']


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--activations', type=int, default=100_000,
        help="lines the dealers activate in the measured month")
    parser.add_argument('--earlier', type=float, default=0.2,
        help="lines activated the month before, as a share of "
        "--activations (their period is computed before the measure)")
    parser.add_argument('--dealers', type=int, default=200,
        help="dealers, each with two outlets")
    parser.add_argument('--month', type=dt.date.fromisoformat,
        default=last_cycle(),
        help="first day of the measured month")
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--repeat', type=int, default=2,
        help="times each side is measured (the last time is the figure; "
        "the period's run replaces what it built)")
    parser.add_argument('-d', '--database', default='bench_commission',
        help="PostgreSQL database to (re)create")
    parser.add_argument('--reuse', action='store_true',
        help="skip the set-up and the generators: measure again on the "
        "database of a previous run")
    parser.add_argument('--cprofile', action='store_true',
        help="run the period's last run under cProfile (its time is then "
        "no figure to compare)")
    parser.add_argument('--results', default=str(ROOT / 'bench' / 'results'))
    args = parser.parse_args(argv)
    if args.month.day != 1:
        parser.error("--month must be a month's first day")
    args.n_earlier = int(args.activations * args.earlier)
    return args


def month_range(first):
    return first, first + relativedelta(months=1) - dt.timedelta(days=1)


# ---------------------------------------------------------------- data

# the three plans: (name, clawback days, one-off by plan brand code and
# the default, revenue share %, months, tiers (minimum, per activation),
# service bonus, instalment (amount, months))
PLANS = [
    ("社会渠道标准酬金", 90, {'GOTONE': '80', None: '30'}, '5', 6,
        [(200, '2'), (500, '4')], '5', ('3', 6)),
    ("社会渠道星级酬金", 30, {'MZONE': '40', None: '35'}, '8', 6,
        [(300, '3')], '8', ('2', 12)),
    ("社会渠道普通酬金", 15, {None: '20'}, '3', 3, [], '3', None),
    ]


def generate(tryton, uri, args):
    """The lines (bench_billing's generator), then the dealers and plans
    (ORM), then the dealers' lines, bills, services and changes (SQL)"""
    from crm_telecom.tests.reference import load_reference
    from data import bulk
    from data.demo import create_companies
    started = time.perf_counter()
    n_lines = args.activations + args.n_earlier

    def progress(stage, done, total):
        log("generator %s: %d / %d (%.0f s)" % (
                stage, done, total, time.perf_counter() - started))

    with tryton.transaction() as transaction:
        company = create_companies()['gd']
        transaction.set_context(company=company.id)
        load_reference()
        transaction.commit()
        # a few more lines than the dealers sold: drafts stay out
        counts = bulk.generate(int(n_lines * 1.1) + 10, seed=args.seed,
            progress=progress, cycle_day=1)
        transaction.commit()
        dealers = create_dealers(tryton, args)
        transaction.commit()
        company_id = company.id
    log("lines, dealers and plans in %.0f s" % (
            time.perf_counter() - started))
    month, last = month_range(args.month)
    before = args.month - relativedelta(months=1)
    params = {
        'company': company_id, 'n_dealers': len(dealers),
        'activations': args.activations, 'earlier': args.n_earlier,
        'month': month, 'last': last, 'days': (last - month).days + 1,
        'before': before, 'before_days': (month - before).days,
        'next': last + dt.timedelta(days=1),
        'dealers': [d for d, _ in dealers],
        'outlets': [o for _, o in dealers],
        }
    with pg_connect(uri, args.database, autocommit=False) as conn:
        for statement in DATA_SQL:
            conn.execute(statement, params)
        conn.commit()
    settle(uri, args.database, WRITTEN_TABLES)
    with pg_connect(uri, args.database) as conn:
        for table in WRITTEN_TABLES:
            counts[table], = conn.execute(
                'SELECT COUNT(*) FROM "%s"' % table).fetchone()
    log("generated in %.0f s" % (time.perf_counter() - started))
    return {'rows_per_table': counts,
        'seconds': time.perf_counter() - started}


def create_dealers(tryton, args):
    """The plans and the dealers with their outlets, through the ORM:
    [(dealer id, [outlet ids])]"""
    pool = tryton.Pool()
    Party = pool.get('party.party')
    Agent = pool.get('commission.agent')
    Plan = pool.get('commission.plan')
    Template = pool.get('product.template')
    Product = pool.get('product.product')
    Channel = pool.get('telecom.channel')
    Region = pool.get('telecom.region')
    ModelData = pool.get('ir.model.data')
    Company = pool.get('company.company')
    company = Company(tryton.Transaction().context['company'])
    unit = ModelData.get_id('product', 'uom_unit')
    template, = Template.create([{'name': "代理商佣金", 'type': 'service',
                'default_uom': unit}])
    product = (template.products[0] if template.products
        else Product.create([{'template': template.id}])[0])
    plans_by_brand = {}
    for plan in Template.search([('telecom_type', '=', 'plan')],
            order=[('id', 'ASC')]):
        plans_by_brand.setdefault(plan.telecom_brand.code, []).append(plan)
    vas = Template.search([('telecom_type', '=', 'vas')],
        order=[('id', 'ASC')])
    plans = []
    for (name, clawback, one_off, rate, months, tiers, bonus,
            instalment) in PLANS:
        rules = []
        for brand, amount in one_off.items():
            for product_ in (plans_by_brand.get(brand, []) if brand
                    else [None]):
                rules.append({'kind': 'one_off', 'amount': Decimal(amount),
                        'product': product_.id if product_ else None})
        rules.append({'kind': 'revenue_share', 'rate': Decimal(rate),
                'months': months})
        rules.extend({'kind': 'volume_tier', 'min_activations': m,
                'amount': Decimal(a)} for m, a in tiers)
        # the first service pays double
        rules.append({'kind': 'vas_bonus', 'amount': Decimal(bonus) * 2,
                'product': vas[0].id})
        rules.append({'kind': 'vas_bonus', 'amount': Decimal(bonus)})
        if instalment:
            rules.append({'kind': 'instalment',
                    'amount': Decimal(instalment[0]),
                    'months': instalment[1]})
        for sequence, rule in enumerate(rules, 1):
            rule['sequence'] = sequence
        plans.append({'name': name, 'commission_product': product.id,
                'clawback_days': clawback,
                'telecom_rules': [('create', rules)]})
    plans = Plan.create(plans)
    cities = Region.search([('type', '=', 'city')], order=[('code', 'ASC')])
    parties = Party.create([{'name': "代理商%04d通讯有限公司" % n}
            for n in range(1, args.dealers + 1)])
    dealers = Agent.create([{
                'party': p.id, 'type_': 'agent', 'company': company.id,
                'currency': company.currency.id,
                'plan': plans[n % len(plans)].id,
                'dealer_code': 'BD%05d' % n,
                'region': cities[n % len(cities)].id if cities else None,
                } for n, p in enumerate(parties, 1)])
    outlets = Channel.create([{
                'name': "%s%d号店" % (d.party.name[:9], k), 'kind': 'outlet',
                'code': 'BO%05d-%d' % (n, k), 'company': company.id,
                'dealer': d.id, 'region': d.region.id if d.region else None,
                } for n, d in enumerate(dealers, 1) for k in (1, 2)])
    # a dealer's lines are sold at its first outlet
    return [(d.id, outlets[2 * i].id) for i, d in enumerate(dealers)]


# The dealers' lines in SQL: the first lines by id that are not drafts,
# numbered; line n is sold by dealer n % dealers at its first outlet. The
# first --activations lines are activated in the month, the next
# --earlier the month before.
DATA_SQL = [
    'CREATE TEMP TABLE bench_line AS SELECT id, n, '
    'CASE WHEN n < %(activations)s '
    'THEN %(month)s::date + (n %% %(days)s)::int '
    'ELSE %(before)s::date + (n %% %(before_days)s)::int END AS activated '
    'FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS n '
    "FROM telecom_subscriber WHERE state != 'draft' "
    'AND company = %(company)s) s '
    'WHERE n < %(activations)s + %(earlier)s',
    'CREATE UNIQUE INDEX ON bench_line (id)',
    # one line in 25 is terminated, one in 40 suspended for arrears and
    # one in 200 for fraud, 3 to 44 days after its activation (so within
    # some plans' clawback days and not others'), in the month; the others
    # are active
    'CREATE TEMP TABLE bench_change AS SELECT id, '
    "CASE WHEN n %% 25 = 0 THEN 'terminate' ELSE 'suspend' END AS type, "
    "CASE WHEN n %% 25 = 0 THEN NULL WHEN n %% 200 = 0 THEN 'fraud' "
    "ELSE 'arrears' END AS reason, "
    'LEAST(activated + (3 + n %% 42)::int, %(last)s::date) AS day '
    'FROM bench_line '
    'WHERE (n %% 25 = 0 OR n %% 40 = 0 OR n %% 200 = 0) '
    'AND activated + 3 <= %(last)s::date',
    'UPDATE telecom_subscriber s SET '
    '"dealer" = (%(dealers)s::int[])[1 + l.n %% %(n_dealers)s], '
    'channel = (%(outlets)s::int[])[1 + l.n %% %(n_dealers)s], '
    'activation_date = l.activated, '
    "state = CASE c.type WHEN 'terminate' THEN 'terminated' "
    "WHEN 'suspend' THEN 'suspended' ELSE 'active' END, "
    'suspension_reason = c.reason, '
    "termination_date = CASE WHEN c.type = 'terminate' THEN c.day END "
    'FROM bench_line l LEFT JOIN bench_change c ON c.id = l.id '
    'WHERE s.id = l.id',
    'INSERT INTO telecom_subscriber_event (subscriber, date, type, '
    'from_state, to_state, create_uid, create_date) '
    "SELECT id, day + TIME '10:30', type, 'active', "
    "CASE type WHEN 'terminate' THEN 'terminated' ELSE 'suspended' END, "
    '0, NOW() FROM bench_change',
    # one bill per account and month its dealer lines were active in:
    # the month before (the earlier lines) and the month
    'CREATE TEMP TABLE bench_bill_month AS '
    'SELECT DISTINCT s.account, m.first, '
    "(m.first + INTERVAL '1 month' - INTERVAL '1 day')::date AS last "
    'FROM bench_line l JOIN telecom_subscriber s ON s.id = l.id '
    'CROSS JOIN (VALUES (%(before)s::date), (%(month)s::date)) AS m(first) '
    "WHERE l.activated <= (m.first + INTERVAL '1 month' "
    "- INTERVAL '1 day')::date",
    # nine bills in ten are paid
    'INSERT INTO telecom_bill (account, payer, period_start, period_end, '
    'date, due_date, amount, state, create_uid, create_date) '
    'SELECT b.account, a.payer, b.first, b.last, b.last + 1, b.last + 20, '
    "0, CASE WHEN b.account %% 10 = 3 THEN 'issued' ELSE 'paid' END, 0, "
    'NOW() FROM bench_bill_month b '
    'JOIN telecom_account a ON a.id = b.account',
    # the plan fee, in whole for a whole month, pro rata from the
    # activation day otherwise
    'INSERT INTO telecom_bill_line (bill, subscriber, sequence, kind, '
    'product, start_date, end_date, days, cycle_days, amount, create_uid, '
    'create_date) '
    'SELECT b.id, s.id, 1, \'plan_fee\', s.plan, '
    'GREATEST(b.period_start, l.activated), b.period_end + 1, '
    'b.period_end + 1 - GREATEST(b.period_start, l.activated), '
    'b.period_end + 1 - b.period_start, '
    'ROUND(COALESCE(t.monthly_fee, 0) '
    '* (b.period_end + 1 - GREATEST(b.period_start, l.activated)) '
    '/ (b.period_end + 1 - b.period_start), 2), 0, NOW() '
    'FROM bench_line l JOIN telecom_subscriber s ON s.id = l.id '
    'JOIN telecom_bill b ON b.account = s.account '
    'AND b.period_end >= l.activated '
    'JOIN product_template t ON t.id = s.plan',
    'UPDATE telecom_bill b SET amount = x.amount FROM ('
    'SELECT bill, SUM(amount) AS amount FROM telecom_bill_line '
    'GROUP BY bill) x WHERE x.bill = b.id',
    # one line in eight buys a value-added service at its outlet in the
    # month (one in three of them the first service, which pays double)
    'CREATE TEMP TABLE bench_vas AS SELECT l.id, l.n, s.customer, s.company, '
    's.channel, GREATEST(l.activated, %(month)s::date) + (l.n %% 5)::int '
    'AS day, (SELECT ARRAY_AGG(id ORDER BY id) FROM product_template '
    "WHERE telecom_type = 'vas')[1 + l.n %% 3] AS product "
    'FROM bench_line l JOIN telecom_subscriber s ON s.id = l.id '
    'WHERE l.n %% 8 = 1 AND GREATEST(l.activated, %(month)s::date) '
    '+ (l.n %% 5)::int <= %(last)s::date',
    'INSERT INTO telecom_order (type, state, company, customer, subscriber, '
    'channel, create_uid, create_date) '
    "SELECT 'add_service', 'done', company, customer, id, channel, 0, "
    'NOW() FROM bench_vas',
    'INSERT INTO telecom_subscriber_service (subscriber, product, state, '
    '"order", start_date, create_uid, create_date) '
    "SELECT v.id, v.product, 'active', o.id, v.day, 0, NOW() "
    'FROM bench_vas v JOIN telecom_order o ON o.subscriber = v.id '
    "AND o.type = 'add_service' AND o.channel = v.channel",
    ]


def create_periods(tryton, args):
    """The month before (computed, not measured) and the month:
    (period ids)"""
    before = args.month - relativedelta(months=1)
    with tryton.transaction() as transaction:
        pool = tryton.Pool()
        Period = pool.get('telecom.commission.period')
        Agent = pool.get('commission.agent')
        # the dealers' company
        company = Agent.search([], limit=1)[0].company
        transaction.set_context(company=company.id)
        periods = Period.search([('company', '=', company.id)])
        if not periods:
            periods = Period.create([{
                        'name': first.strftime('%Y-%m'),
                        'company': company.id,
                        'start_date': first,
                        'end_date': month_range(first)[1],
                        } for first in [before, args.month]])
            transaction.commit()
        periods = sorted(periods, key=lambda p: p.start_date)
        first, measured = periods[0], periods[-1]
        if not first.computed_at:
            log("computing the month before (%s)" % first.name)
            start = time.perf_counter()
            Period.compute([first])
            transaction.commit()
            log("month before computed in %.1f s" % (
                    time.perf_counter() - start))
        return company.id, first.id, measured.id


# ---------------------------------------------------------------- baseline

# What the period's run pays each dealer, in one statement: the dealers'
# lines with their plan, the rule each line (or service) gets of each
# kind (the one naming its product, else the first naming none), then
# every kind of commission, each not paid by another period, and the
# clawbacks of the activation commissions paid before or now.
BASELINE_SQL = """
WITH line AS NOT MATERIALIZED (
    SELECT s.id, s.plan AS product, s.activation_date, s.state,
        s.suspension_reason, a.id AS agent, a.plan, p.clawback_days
    FROM telecom_subscriber s
    JOIN commission_agent a ON a.id = s.dealer
    JOIN commission_plan p ON p.id = a.plan
    JOIN product_product pp ON pp.id = p.commission_product
    WHERE s.company = %(company)s AND a.company = %(company)s
), rule AS (
    -- per plan, kind and product: the rule naming it, else the first
    -- naming none
    SELECT DISTINCT ON (r.plan, r.kind, t.id) r.plan, r.kind,
        t.id AS product, r.id, r.amount, r.rate, r.months
    FROM telecom_commission_rule r
    JOIN product_template t ON t.id = r.product OR r.product IS NULL
    ORDER BY r.plan, r.kind, t.id, r.product IS NULL,
        COALESCE(r.sequence, 0), r.id
), activation AS (
    SELECT l.agent, r.amount
    FROM line l
    JOIN rule r ON r.plan = l.plan AND r.kind = 'one_off'
        AND r.product = l.product
    WHERE l.activation_date BETWEEN %(start)s AND %(end)s
        AND NOT EXISTS (SELECT 1 FROM commission c
            WHERE c.subscriber = l.id AND c.kind = 'activation'
                AND c.period IS DISTINCT FROM %(period)s)
), revenue_share AS (
    SELECT l.agent, ROUND(SUM(bl.amount) * r.rate / 100, 2) AS amount
    FROM line l
    JOIN rule r ON r.plan = l.plan AND r.kind = 'revenue_share'
        AND r.product = l.product
    JOIN telecom_bill_line bl ON bl.subscriber = l.id
    JOIN telecom_bill b ON b.id = bl.bill
    WHERE b.state = 'paid' AND b.period_end <= %(end)s
        AND b.period_end >= l.activation_date
        AND (EXTRACT(YEAR FROM b.period_start) * 12
                + EXTRACT(MONTH FROM b.period_start))
            - (EXTRACT(YEAR FROM l.activation_date) * 12
                + EXTRACT(MONTH FROM l.activation_date)) < r.months
        AND NOT EXISTS (SELECT 1 FROM commission c
            WHERE c.subscriber = l.id AND c.kind = 'revenue_share'
                AND c.bill = b.id AND c.period IS DISTINCT FROM %(period)s)
    GROUP BY l.agent, l.id, b.id, r.rate
), instalment AS (
    SELECT l.agent, r.amount
    FROM line l
    JOIN rule r ON r.plan = l.plan AND r.kind = 'instalment'
        AND r.product = l.product
    CROSS JOIN LATERAL (SELECT (%(end_month)s
            - (EXTRACT(YEAR FROM l.activation_date) * 12
                + EXTRACT(MONTH FROM l.activation_date)) + 1)::int
            AS number) i
    WHERE l.state = 'active' AND l.activation_date <= %(end)s
        AND i.number <= r.months
        AND NOT EXISTS (SELECT 1 FROM commission c
            WHERE c.subscriber = l.id AND c.kind = 'instalment'
                AND c.instalment = i.number
                AND c.period IS DISTINCT FROM %(period)s)
), vas_bonus AS (
    -- the services sold in the month at the dealer's outlets first
    -- (OFFSET 0: not every line times every rule, as the estimates of
    -- the rule table would choose)
    SELECT v.agent, r.amount
    FROM (SELECT v.id, v.product, l.agent, l.plan
        FROM telecom_subscriber_service v
        JOIN line l ON l.id = v.subscriber
        JOIN telecom_order o ON o.id = v."order"
        JOIN telecom_channel ch ON ch.id = o.channel AND ch.dealer = l.agent
        WHERE v.start_date BETWEEN %(start)s AND %(end)s
        OFFSET 0) v
    JOIN rule r ON r.plan = v.plan AND r.kind = 'vas_bonus'
        AND r.product = v.product
    WHERE NOT EXISTS (SELECT 1 FROM commission c
            WHERE c.service = v.id AND c.kind = 'vas_bonus'
                AND c.period IS DISTINCT FROM %(period)s)
), counted AS (
    -- the month's activations per dealer and plan of a plan with tiers
    SELECT l.agent, l.plan, l.product, COUNT(*) AS n
    FROM line l
    WHERE l.activation_date BETWEEN %(start)s AND %(end)s
        AND l.plan IN (SELECT plan FROM telecom_commission_rule
            WHERE kind = 'volume_tier')
    GROUP BY l.agent, l.plan, l.product
), tier AS (
    -- the highest tier reached, per dealer and tier product
    SELECT DISTINCT ON (c.agent, r.product) c.agent, r.amount * c.n AS amount
    FROM (SELECT agent, plan, product, n FROM counted
        UNION ALL
        SELECT agent, plan, NULL, SUM(n) FROM counted
        GROUP BY agent, plan) c
    JOIN telecom_commission_rule r ON r.plan = c.plan
        AND r.kind = 'volume_tier'
        AND r.product IS NOT DISTINCT FROM c.product
        AND r.min_activations <= c.n
    ORDER BY c.agent, r.product, r.min_activations DESC, r.sequence, r.id
), clawback AS (
    -- the first termination, or suspension for arrears or fraud, of the
    -- period within the plan's clawback days of the activation gives back
    -- the activation commission: paid by an earlier period, or now
    SELECT DISTINCT ON (l.id) l.agent, -COALESCE(paid.amount,
            CASE WHEN l.activation_date BETWEEN %(start)s AND %(end)s
                THEN r.amount END) AS amount
    FROM telecom_subscriber_event e
    JOIN line l ON l.id = e.subscriber
    LEFT JOIN telecom_order o ON o.id = e."order"
    LEFT JOIN commission paid ON paid.subscriber = l.id
        AND paid.kind = 'activation'
        AND paid.period IS DISTINCT FROM %(period)s
    LEFT JOIN rule r ON r.plan = l.plan AND r.kind = 'one_off'
        AND r.product = l.product
    WHERE e.date >= %(start)s AND e.date < %(next)s
        AND (e.type = 'terminate' OR (e.type = 'suspend'
            AND COALESCE(o.suspension_reason, l.suspension_reason)
                IN ('arrears', 'fraud')))
        AND l.clawback_days IS NOT NULL
        AND e.date::date - l.activation_date <= l.clawback_days
        AND (paid.id IS NOT NULL OR (r.id IS NOT NULL
                AND l.activation_date BETWEEN %(start)s AND %(end)s))
        AND NOT EXISTS (SELECT 1 FROM commission c
            WHERE c.subscriber = l.id AND c.kind = 'clawback'
                AND c.period IS DISTINCT FROM %(period)s)
    ORDER BY l.id, e.date, e.id
)
SELECT agent, kind, COUNT(*), SUM(amount) FROM (
    SELECT agent, 'activation' AS kind, amount FROM activation
    UNION ALL SELECT agent, 'revenue_share', amount FROM revenue_share
        WHERE amount != 0
    UNION ALL SELECT agent, 'instalment', amount FROM instalment
    UNION ALL SELECT agent, 'vas_bonus', amount FROM vas_bonus
    UNION ALL SELECT agent, 'volume_tier', amount FROM tier
    UNION ALL SELECT agent, 'clawback', amount FROM clawback
    ) AS paid
GROUP BY agent, kind
"""


def baseline_params(company, period, start, end):
    return {'company': company, 'period': period, 'start': start,
        'end': end, 'next': end + dt.timedelta(days=1),
        'end_month': end.year * 12 + end.month}


def run_baseline(uri, database, params, settings=None, repeat=2):
    """The statement, executed and fetched `repeat` times on one
    connection; the last time is the figure. Returns
    {(dealer, kind): (count, amount)} and the figures"""
    times, result = [], None
    with pg_connect(uri, database) as conn:
        for name, value in (settings or {}).items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        for _ in range(repeat):
            start = time.perf_counter()
            rows = conn.execute(BASELINE_SQL, params).fetchall()
            times.append(time.perf_counter() - start)
            totals = {(a, k): (n, Decimal(s)) for a, k, n, s in rows}
            assert result is None or result == totals
            result = totals
            log("baseline%s: %d dealers in %.2f s" % (
                    ' (%s)' % ', '.join('%s %s' % i
                        for i in settings.items()) if settings else '',
                    len({a for a, _ in totals}), times[-1]))
        plan = conn.execute('EXPLAIN (ANALYZE, BUFFERS) ' + BASELINE_SQL,
            params).fetchall()
    return result, {
        'seconds': times[-1],
        'seconds_all': times,
        'settings': settings or {},
        'dealers': len({a for a, _ in result}),
        'commissions': sum(n for n, _ in result.values()),
        'total': sum(s for _, s in result.values()),
        'plan': [r[0] for r in plan],
        }


# ---------------------------------------------------------------- the run

def clear_period(uri, database, period_id):
    """The period as before its first run: what an earlier measure built
    goes, untimed, and the table is vacuumed"""
    with pg_connect(uri, database) as conn:
        conn.execute('DELETE FROM commission WHERE period = %s',
            (period_id,))
        conn.execute('DELETE FROM telecom_commission_settlement '
            'WHERE period = %s', (period_id,))
        conn.execute('VACUUM (ANALYZE) commission')


def period_run(tryton, uri, period_id, args):
    """Period.compute of the measured period, one transaction, committed:
    `repeat` times on the period as before its first run (the last time
    is the figure), then once more over its own commissions (a re-run
    replaces them)"""
    times = []
    for i in range(args.repeat + 1):
        rerun = i == args.repeat
        if not rerun:
            clear_period(uri, args.database, period_id)
        with tryton.transaction() as transaction:
            Period = tryton.Pool().get('telecom.commission.period')
            period = Period(period_id)
            transaction.set_context(company=period.company.id)
            start = time.perf_counter()
            if args.cprofile and i == args.repeat - 1:
                import cProfile
                import pstats
                profile = cProfile.Profile()
                profile.runcall(Period.compute, [period])
            else:
                Period.compute([period])
            transaction.commit()
            times.append(time.perf_counter() - start)
        log("period %s: %.2f s" % ('re-run' if rerun else 'run', times[-1]))
    if args.cprofile:
        pstats.Stats(profile).sort_stats('cumulative').print_stats(30)
    return {'seconds': times[-2], 'seconds_all': times[:-1],
        'rerun_seconds': times[-1]}


def check(uri, database, period_id, expected):
    """The period's commissions per dealer and kind, and each settlement's
    total, against the baseline"""
    with pg_connect(uri, database) as conn:
        got = {(a, k): (n, Decimal(s)) for a, k, n, s in conn.execute(
                'SELECT agent, kind, COUNT(*), SUM(amount) FROM commission '
                'WHERE period = %s GROUP BY agent, kind', (period_id,))}
        settlements = {a: Decimal(t) for a, t in conn.execute(
                'SELECT dealer, total FROM telecom_commission_settlement '
                'WHERE period = %s', (period_id,))}
        unsettled, = conn.execute('SELECT COUNT(*) FROM commission '
            'WHERE period = %s AND settlement IS NULL',
            (period_id,)).fetchone()
    mismatches = [{'dealer': a, 'kind': k, 'run': got.get((a, k)),
            'baseline': expected.get((a, k))}
        for a, k in sorted(set(got) | set(expected))
        if got.get((a, k)) != expected.get((a, k))]
    totals = {}
    for (a, _), (_, s) in expected.items():
        totals[a] = totals.get(a, Decimal(0)) + s
    settlement_mismatches = [{'dealer': a, 'settlement': settlements.get(a),
            'baseline': totals.get(a)}
        for a in sorted(set(settlements) | set(totals))
        if settlements.get(a) != totals.get(a)]
    by_kind = {}
    for (_, k), (n, s) in got.items():
        count, amount = by_kind.get(k, (0, Decimal(0)))
        by_kind[k] = (count + n, amount + s)
    return {
        'dealers': len(settlements),
        'commissions': sum(n for n, _ in got.values()),
        'total': sum(settlements.values(), Decimal(0)),
        'baseline_total': sum(totals.values(), Decimal(0)),
        'by_kind': {k: {'count': n, 'amount': s}
            for k, (n, s) in sorted(by_kind.items())},
        'unsettled': unsettled,
        'mismatches': len(mismatches),
        'mismatch_sample': mismatches[:20],
        'settlement_mismatches': len(settlement_mismatches),
        'settlement_mismatch_sample': settlement_mismatches[:20],
        }


def describe_month(conn, start, end):
    result = {}
    for name, query in [
            ('activations', 'SELECT COUNT(*) FROM telecom_subscriber '
                'WHERE dealer IS NOT NULL AND activation_date BETWEEN %s '
                'AND %s'),
            ('dealer_lines', 'SELECT COUNT(*) FROM telecom_subscriber '
                'WHERE dealer IS NOT NULL AND %s <= %s'),
            ('bills_paid', "SELECT COUNT(*) FROM telecom_bill "
                "WHERE state = 'paid' AND period_end BETWEEN %s AND %s"),
            ('bill_lines', 'SELECT COUNT(*) FROM telecom_bill_line l '
                'JOIN telecom_bill b ON b.id = l.bill '
                'WHERE b.period_end BETWEEN %s AND %s'),
            ('services_sold', 'SELECT COUNT(*) '
                'FROM telecom_subscriber_service v '
                'JOIN telecom_order o ON o.id = v."order" '
                'WHERE o.channel IS NOT NULL '
                'AND v.start_date BETWEEN %s AND %s'),
            ('changes', 'SELECT COUNT(*) FROM telecom_subscriber_event '
                'WHERE date::date BETWEEN %s AND %s'),
            ('earlier_commissions', 'SELECT COUNT(*) FROM commission c '
                'JOIN telecom_commission_period p ON p.id = c.period '
                'WHERE p.end_date < %s AND %s IS NOT NULL'),
            ]:
        result[name], = conn.execute(query, (start, end)).fetchone()
    return result


# ---------------------------------------------------------------- report

def summary_rows(results):
    run, base = results['period_run'], results['baseline']
    tuned = results.get('baseline_tuned')
    rows = [("monthly commission run (s)", run['seconds'],
            "one SQL statement", base['seconds'],
            run['seconds'] / base['seconds'],
            "run / SQL (1 = as fast as the statement)"),
        ("  re-run over its own commissions (s)", run['rerun_seconds'],
            "one SQL statement", base['seconds'],
            run['rerun_seconds'] / base['seconds'], "re-run / SQL")]
    if tuned:
        rows.append(("monthly commission run (s)", run['seconds'],
                "the statement, tuned", tuned['seconds'],
                run['seconds'] / tuned['seconds'], "run / tuned SQL"))
    return rows


def print_summary(results):
    rows = summary_rows(results)
    month, check_ = results['month'], results['check']
    print()
    print("Commission benchmark: %s activations in %s by %s dealers "
        "(%s dealer lines in all), %s, trytond %s, %s" % (
            format(month['activations'], ','), results['period_start'],
            format(results['dealers'], ','),
            format(month['dealer_lines'], ','), results['postgresql'],
            results['trytond'], results['started']))
    print("the month: %s paid bills, %s bill lines, %s services sold at "
        "outlets, %s terminations and suspensions; %s commissions of the "
        "month before" % tuple(format(month[k], ',') for k in [
                'bills_paid', 'bill_lines', 'services_sold', 'changes',
                'earlier_commissions']))
    header = ('figure', 'value', 'baseline', 'baseline value', 'ratio')
    table = [header] + [(f, '%.2f' % v, b, '%.2f' % bv, '%.3f' % r)
        for f, v, b, bv, r, _ in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    sep = '-+-'.join('-' * w for w in widths)
    for i, row in enumerate(table):
        print(' | '.join(c.ljust(w) if j in (0, 2) else c.rjust(w)
                for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print(sep)
    print()
    print("commissions written: %s" % ', '.join(
            '%s %s (%s)' % (k, format(v['count'], ','), v['amount'])
            for k, v in check_['by_kind'].items()))
    status = ('OK' if not check_['mismatches']
        and not check_['settlement_mismatches']
        and not check_['unsettled'] else 'MISMATCH')
    print("check %s: %s settlements totalling %s, baseline %s; %d dealer "
        "and kind figures differ, %d settlement totals differ, %d "
        "commissions without a settlement" % (status,
            format(check_['dealers'], ','), check_['total'],
            check_['baseline_total'], check_['mismatches'],
            check_['settlement_mismatches'], check_['unsettled']))
    for mismatch in check_['mismatch_sample']:
        print("  dealer %(dealer)s %(kind)s: run %(run)s, baseline "
            "%(baseline)s" % mismatch)
    for mismatch in check_['settlement_mismatch_sample']:
        print("  dealer %(dealer)s: settlement %(settlement)s, baseline "
            "%(baseline)s" % mismatch)
    print("ratio: run / statement (lower is better, 1 = the statement)")
    return status == 'OK'


def main(argv=None):
    args = parse_args(argv)
    uri = database_uri()
    start, end = month_range(args.month)
    results = describe_run(uri, 'commission', args,
        activations=args.activations, earlier=args.n_earlier,
        dealers=args.dealers, period_start=start, period_end=end)
    with tempfile.TemporaryDirectory(prefix='crm-bench-') as workdir:
        config_file = write_config(uri, workdir)
        if not args.reuse:
            results['activation_seconds'] = create_database(
                uri, args.database, config_file, workdir)
        tryton = Tryton(config_file, args.database)
        if not args.reuse:
            log("generating %d activations of %s by %d dealers" % (
                    args.activations, start, args.dealers))
            results['generator'] = generate(tryton, uri, args)
        company, first, period = create_periods(tryton, args)
        settle(uri, args.database, WRITTEN_TABLES + ['commission',
                'telecom_commission_settlement'])
        with pg_connect(uri, args.database) as conn:
            results['month'] = describe_month(conn, start, end)
            results['dealers'], = conn.execute(
                'SELECT COUNT(*) FROM commission_agent '
                'WHERE plan IS NOT NULL').fetchone()
        params = baseline_params(company, period, start, end)
        log("baseline statement")
        expected, results['baseline'] = run_baseline(uri, args.database,
            params, repeat=args.repeat)
        tuned, results['baseline_tuned'] = run_baseline(uri, args.database,
            params, settings=TUNED, repeat=args.repeat)
        assert tuned == expected
        log("period run")
        results['period_run'] = period_run(tryton, uri, period, args)
        results['check'] = check(uri, args.database, period, expected)

    results['summary'] = summary_records(summary_rows(results))
    ok = print_summary(results)
    write_results(results, args.results, 'commission')
    if not ok:
        return 1


if __name__ == '__main__':
    sys.exit(main())
