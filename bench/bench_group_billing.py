#!/usr/bin/env python3
"""Group billing benchmark of the telecom CRM on PostgreSQL.

    bench/run.sh group_billing [--groups 10000] [--members 10] [...]

or, with a PostgreSQL server and TRYTOND_DATABASE_URI set:

    .venv/bin/python bench/bench_group_billing.py --groups 200 --usage 60000

A bill run (telecom.bill.run process, or --workers trytond-worker
processes) over the lines of bench_billing's generator, of which groups x
members belong to group customers paying for them (集团统付, half of them
with a monthly cap), each group with a group product and one approved
tariff (its members' plans and its group product, 5 to 30 % off), against
ONE hand-written SQL statement computing the same bills: every account's
total after the discounts and the group's payment, and what each group's
account is charged for its members. The benchmark checks both to the cent.
See bench/README.md ("Group billing benchmark").
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

import bench_billing  # noqa: E402
from bench_billing import (  # noqa: E402
    BILLED_TABLES,
    TUNED,
    baseline_params,
    bill_run,
    check_bills,
    describe_cycle,
    last_cycle,
    print_summary,
    settle,
    summary_rows,
    undo_run,
)
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

if 'crm_group_customer' not in MODULES:
    MODULES.append('crm_group_customer')

GROUP_TABLES = ['party_party', 'telecom_account',
    'telecom_group_member', 'telecom_group_product', 'telecom_group_tariff',
    'telecom_group_tariff_line']
# the group products the groups subscribe: name, kind, fee per unit
GROUP_PRODUCTS = [
    ("集团V网", 'cug_voice', Decimal('10')),
    ("企信通", 'enterprise_sms', Decimal('50')),
    ]
# half of the paying members have a cap
PAYMENT_CAP = Decimal('30')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--groups', type=int, default=10_000,
        help="group customers")
    parser.add_argument('--members', type=int, default=10,
        help="members of each group, all paid by the group")
    parser.add_argument('--others', type=float, default=0.1,
        help="lines outside groups, as a share of the members")
    parser.add_argument('--usage', type=int, default=3_000_000,
        help="usage records to generate in the cycle")
    parser.add_argument('--cycle', type=dt.date.fromisoformat,
        default=last_cycle(),
        help="first day of the cycle to bill (day 1 to 28)")
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--batch', type=int, default=None,
        help="accounts per batch of the bill run (default: the module's)")
    parser.add_argument('-d', '--database', default='bench_group_billing',
        help="PostgreSQL database to (re)create")
    parser.add_argument('--explain', action='store_true',
        help="EXPLAIN ANALYZE the first execution of each statement")
    parser.add_argument('--cprofile', action='store_true',
        help="run the bill run under cProfile")
    parser.add_argument('--workers', type=int, default=0,
        help="bill through the queue with this many trytond-worker "
        "processes (default 0: BillRun.process in this process)")
    parser.add_argument('--parts', type=int, default=None,
        help="with --workers: parts the usage is added up in")
    parser.add_argument('--reuse', action='store_true',
        help="skip the set-up and the generators: undo the cycle's bill "
        "run on the database of a previous run, then measure again")
    parser.add_argument('--groups-only', action='store_true',
        help="skip the set-up and bench_billing's generator (a database "
        "they made, e.g. by a run stopped while generating the groups): "
        "generate the groups, then measure")
    parser.add_argument('--results', default=str(ROOT / 'bench' / 'results'))
    args = parser.parse_args(argv)
    if not 1 <= args.cycle.day <= 28:
        parser.error("--cycle must be on day 1 to 28")
    members = args.groups * args.members
    # what bench_billing's generator and bill run read
    args.subscribers = members + int(members * args.others)
    args.adjustments = max(1, args.subscribers // 100)
    args.import_rows = 0
    return args


# ---------------------------------------------------------------- data

def generate_groups(tryton, uri, args):
    """The groups, in SQL: as many group customers as --groups (those
    already there count), each with its own billing account on the cycle's
    day set as its group account; their members (the first lines by id),
    group products and approved tariffs. The group product templates go
    through the ORM."""
    started = time.perf_counter()
    with tryton.transaction() as transaction:
        pool = tryton.Pool()
        Template = pool.get('product.template')
        Subscriber = pool.get('telecom.subscriber')
        ModelData = pool.get('ir.model.data')
        company = Subscriber.search([], limit=1)[0].company
        # the templates' currency is the company's
        transaction.set_context(company=company.id)
        unit = ModelData.get_id('product', 'uom_unit')
        templates = {t.name: t for t in Template.search([
                    ('telecom_type', '=', 'group')])}
        templates.update((t.name, t) for t in Template.create([{
                        'name': name, 'type': 'service',
                        'default_uom': unit, 'telecom_type': 'group',
                        'group_product_kind': kind, 'monthly_fee': fee}
                    for name, kind, fee in GROUP_PRODUCTS
                    if name not in templates]))
        transaction.commit()
        template_ids = [templates[n].id for n, _, _ in GROUP_PRODUCTS]
        company_id = company.id
    members = args.groups * args.members
    params = {'groups': args.groups, 'members': args.members,
        'count': members, 'company': company_id,
        'since': dt.date(2020, 1, 1), 'day': args.cycle.day,
        'cap': PAYMENT_CAP, 'products': template_ids,
        'n_products': len(template_ids)}
    statements = [
        'INSERT INTO party_party (code, name, active, group_customer, '
        'group_code, group_scope, company, telecom_level, credit_level, '
        'blacklisted, create_uid, create_date) '
        "SELECT 'BG' || LPAD(n::text, 8, '0'), "
        "'集团客户' || LPAD(n::text, 5, '0'), TRUE, TRUE, "
        "'BJT' || LPAD(n::text, 8, '0'), 'province', %(company)s, "
        "'normal', 'c', FALSE, 0, NOW() "
        'FROM generate_series((SELECT COUNT(*) + 1 FROM party_party '
        'WHERE group_customer), %(groups)s) AS n',
        'INSERT INTO telecom_account (code, name, active, balance, company, '
        'payer, payment_type, credit_limit, bill_cycle_day, state, '
        'create_uid, create_date) '
        "SELECT 'BGA' || LPAD(p.id::text, 9, '0'), p.name, TRUE, 0, "
        "%(company)s, p.id, 'postpaid', 0, %(day)s, 'active', 0, NOW() "
        'FROM party_party p WHERE p.group_customer AND p.group_account IS NULL '
        'AND NOT EXISTS (SELECT 1 FROM telecom_account a '
        'WHERE a.payer = p.id)',
        'UPDATE party_party p SET group_account = a.id '
        'FROM telecom_account a WHERE a.payer = p.id AND p.group_customer '
        'AND p.group_account IS NULL',
        # the groups numbered from 0, their members the lines numbered so
        'CREATE TEMP TABLE bench_group AS SELECT id, '
        'ROW_NUMBER() OVER (ORDER BY id) - 1 AS n FROM party_party '
        'WHERE group_customer',
        'INSERT INTO telecom_group_member ("group", subscriber, company, '
        'start_date, state, origin, paid_by_group, payment_cap, create_uid, '
        'create_date) '
        'SELECT g.id, s.id, s.company, %(since)s, \'active\', \'import\', '
        'TRUE, CASE WHEN g.n %% 2 = 0 THEN %(cap)s END, 0, NOW() '
        'FROM (SELECT id, company, ROW_NUMBER() OVER (ORDER BY id) - 1 AS n '
        'FROM telecom_subscriber) s '
        'JOIN bench_group g ON g.n = s.n / %(members)s '
        'WHERE s.n < %(count)s',
        'INSERT INTO telecom_group_product ("group", product, company, '
        'quantity, monthly_fee, start_date, state, create_uid, create_date) '
        'SELECT g.id, t.id, %(company)s, 1 + g.n %% 5, t.monthly_fee, '
        '%(since)s, \'active\', 0, NOW() FROM bench_group g '
        'JOIN product_template t '
        'ON t.id = (%(products)s::int[])[1 + g.n %% %(n_products)s]',
        'INSERT INTO telecom_group_tariff ("group", company, name, '
        'valid_from, monthly_amount, create_uid, create_date) '
        'SELECT g.id, %(company)s, \'集团资费\', %(since)s, 10000, 0, NOW() '
        'FROM bench_group g',
        # the plans of its members and its group product, 5 to 30 % off
        'INSERT INTO telecom_group_tariff_line (tariff, product, discount, '
        'approved_discount, state, create_uid, create_date) '
        'SELECT t.id, p.product, 5 + 5 * (g.n %% 6), 5 + 5 * (g.n %% 6), '
        '\'approved\', 0, NOW() FROM telecom_group_tariff t '
        'JOIN bench_group g ON g.id = t."group" '
        'JOIN (SELECT DISTINCT m."group", s.plan AS product '
        'FROM telecom_group_member m '
        'JOIN telecom_subscriber s ON s.id = m.subscriber '
        'UNION SELECT "group", product FROM telecom_group_product) p '
        'ON p."group" = t."group"',
        ]
    with pg_connect(uri, args.database, autocommit=False) as conn:
        for statement in statements:
            conn.execute(statement, params)
        conn.commit()
    settle(uri, args.database, GROUP_TABLES)
    log("groups generated in %.0f s" % (time.perf_counter() - started))
    return {'seconds': time.perf_counter() - started}


def describe_groups(conn):
    result = {}
    for name, query in [
            ('groups', 'SELECT COUNT(*) FROM party_party '
                'WHERE group_customer'),
            ('members', 'SELECT COUNT(*) FROM telecom_group_member'),
            ('members_capped', 'SELECT COUNT(*) FROM telecom_group_member '
                'WHERE payment_cap IS NOT NULL'),
            ('group_products', 'SELECT COUNT(*) FROM telecom_group_product'),
            ('tariff_lines', 'SELECT COUNT(*) '
                'FROM telecom_group_tariff_line '
                'WHERE approved_discount IS NOT NULL'),
            ]:
        result[name], = conn.execute(query).fetchone()
    return result


def undo_group_run(uri, database, cycle):
    "--reuse: the group payments of the cycle's run go before the run"
    with pg_connect(uri, database, autocommit=False) as conn:
        conn.execute('DELETE FROM telecom_bill_adjustment WHERE group_run IN '
            '(SELECT id FROM telecom_bill_run WHERE period_start = %s)',
            (cycle,))
        conn.commit()
    undo_run(uri, database, cycle)


# ---------------------------------------------------------------- baseline

# bench_billing's statement up to its charges (accounts, plan periods,
# services, add-ons, usage drawn on the allowances), then the charges per
# line with the groups' fees and discounts, and the groups' payment
_HEAD = bench_billing.BASELINE_SQL.split('), charge AS (')[0]
GROUP_BASELINE_SQL = _HEAD + """
), plan_fee AS (
    SELECT plan.account, plan.subscriber, plan.plan AS product,
        ROUND(CASE WHEN plan.days >= %(cycle_days)s
                THEN COALESCE(t.monthly_fee, 0)
                ELSE COALESCE(t.monthly_fee, 0) * plan.days
                    / %(cycle_days)s END, 2) AS amount
    FROM plan JOIN product_template t ON t.id = plan.plan
    WHERE plan.days > 0
), member AS (
    SELECT m.subscriber, m."group", m.paid_by_group, m.payment_cap,
        g.group_account
    FROM telecom_group_member m JOIN party_party g ON g.id = m."group"
    WHERE m.start_date < %(end)s
        AND (m.end_date IS NULL OR m.end_date >= %(start)s)
), tariff AS (
    SELECT t."group", l.product, l.approved_discount AS discount
    FROM telecom_group_tariff_line l
    JOIN telecom_group_tariff t ON t.id = l.tariff
    WHERE l.approved_discount > 0 AND t.valid_from < %(end)s
        AND (t.valid_to IS NULL OR t.valid_to >= %(start)s)
), group_fee AS (
    SELECT g.group_account AS account, p."group", p.product,
        ROUND(p.monthly_fee * p.quantity
            * (LEAST(COALESCE(p.end_date, %(end)s), %(end)s)
                - GREATEST(p.start_date, %(start)s)) / %(cycle_days)s, 2)
            AS amount
    FROM telecom_group_product p JOIN party_party g ON g.id = p."group"
    JOIN acc ON acc.id = g.group_account
    WHERE p.state IN ('active', 'ended') AND p.start_date < %(end)s
        AND (p.end_date IS NULL OR p.end_date > %(start)s)
), charge AS (
    SELECT account, subscriber, amount FROM plan_fee
    UNION ALL
    SELECT account, subscriber, ROUND(CASE WHEN days >= %(cycle_days)s
                THEN COALESCE(monthly_fee, 0)
                ELSE COALESCE(monthly_fee, 0) * days / %(cycle_days)s END,
            2)
    FROM service WHERE days > 0
    UNION ALL
    SELECT account, subscriber, CASE class
        WHEN 'rated' THEN ROUND(charge, 2)
        WHEN 'roaming' THEN ROUND(CASE WHEN type = 'data'
                THEN (units + 1023) / 1024 ELSE units END * rate, 2)
        ELSE ROUND(CASE WHEN type = 'data'
                THEN (billable + 1023) / 1024 ELSE billable END * rate, 2)
        END
    FROM (SELECT drawn.*, beyond - (LEAST(drawn_to, addon)
                - LEAST(drawn_to - beyond, addon)) AS billable
        FROM drawn) AS d
    UNION ALL
    SELECT j.account, j.subscriber, ROUND(j.amount, 2)
    FROM telecom_bill_adjustment j JOIN acc ON acc.id = j.account
    WHERE j.state = 'approved' AND j.bill IS NULL
    UNION ALL
    -- the members' fees first (OFFSET 0: not the fees of a plan times
    -- every group's tariff of it, which the estimates would choose)
    SELECT f.account, f.subscriber, -ROUND(f.amount * t.discount / 100, 2)
    FROM (SELECT plan_fee.*, m."group" FROM plan_fee
        JOIN member m ON m.subscriber = plan_fee.subscriber OFFSET 0) AS f
    JOIN tariff t ON t."group" = f."group" AND t.product = f.product
    UNION ALL
    SELECT account, NULL, amount FROM group_fee
    UNION ALL
    SELECT f.account, NULL, -ROUND(f.amount * t.discount / 100, 2)
    FROM group_fee f
    JOIN tariff t ON t."group" = f."group" AND t.product = f.product
), by_line AS (
    SELECT account, subscriber, SUM(amount) AS amount FROM charge
    GROUP BY account, subscriber
), paid AS (
    SELECT b.account, m.group_account,
        LEAST(GREATEST(b.amount, 0),
            COALESCE(m.payment_cap, GREATEST(b.amount, 0))) AS share
    FROM by_line b JOIN member m ON m.subscriber = b.subscriber
    WHERE m.paid_by_group AND m.group_account IS NOT NULL
), total AS (
    SELECT account, amount FROM by_line
    UNION ALL
    SELECT account, -share FROM paid
)
SELECT 'bill', acc.id, COALESCE(SUM(total.amount), 0)
FROM acc LEFT JOIN total ON total.account = acc.id
GROUP BY acc.id
UNION ALL
SELECT 'group_paid', group_account, SUM(share) FROM paid
WHERE share > 0 GROUP BY group_account
"""


def run_baseline(uri, database, cycle, end, settings=None, repeat=2):
    """The statement, executed and fetched `repeat` times on one
    connection; the last time is the figure. Returns the bills' totals,
    what each group's account is charged, and the figures"""
    times, result = [], None
    with pg_connect(uri, database) as conn:
        for name, value in (settings or {}).items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        for _ in range(repeat):
            start = time.perf_counter()
            rows = conn.execute(GROUP_BASELINE_SQL,
                baseline_params(cycle, end)).fetchall()
            times.append(time.perf_counter() - start)
            totals = ({a: Decimal(t) for k, a, t in rows if k == 'bill'},
                {a: Decimal(t) for k, a, t in rows if k == 'group_paid'})
            assert result is None or result == totals
            result = totals
            log("baseline%s: %d accounts in %.2f s" % (
                    ' (%s)' % ', '.join('%s %s' % i
                        for i in settings.items()) if settings else '',
                    len(totals[0]), times[-1]))
        plan = conn.execute('EXPLAIN (ANALYZE, BUFFERS) '
            + GROUP_BASELINE_SQL, baseline_params(cycle, end)).fetchall()
    return result, {
        'seconds': times[-1],
        'seconds_all': times,
        'settings': settings or {},
        'accounts': len(result[0]),
        'total': sum(result[0].values()),
        'group_paid_total': sum(result[1].values()),
        'plan': [r[0] for r in plan],
        }


def check_group_payments(uri, database, cycle, expected):
    """What the run charged each group's account (its adjustments) against
    the baseline's payments, and the lines the groups gave"""
    with pg_connect(uri, database) as conn:
        charged = {a: Decimal(t) for a, t in conn.execute(
                'SELECT j.account, SUM(j.amount) '
                'FROM telecom_bill_adjustment j '
                'JOIN telecom_bill_run r ON r.id = j.group_run '
                'WHERE r.period_start = %s GROUP BY j.account', (cycle,))}
        lines = dict(conn.execute('SELECT l.kind, COUNT(*) '
                'FROM telecom_bill_line l JOIN telecom_bill b '
                'ON b.id = l.bill WHERE b.period_start = %s '
                "AND l.kind IN ('group_product', 'group_discount', "
                "'group_paid') GROUP BY l.kind", (cycle,)).fetchall())
        # each group's adjustment is the sum of its members' lines
        adding_up, = conn.execute('SELECT COUNT(*) '
            'FROM telecom_bill_adjustment j '
            'JOIN telecom_bill_run r ON r.id = j.group_run '
            'WHERE r.period_start = %s AND j.amount = ('
                'SELECT -SUM(l.amount) FROM telecom_bill_line l '
                'JOIN telecom_bill b ON b.id = l.bill '
                'JOIN telecom_group_member m ON m.id = l.group_member '
                "WHERE b.run = j.group_run AND m.\"group\" = j.\"group\" "
                "AND l.kind = 'group_paid')", (cycle,)).fetchone()
    mismatches = [{'account': a, 'charged': charged.get(a),
            'baseline': expected.get(a)}
        for a in sorted(set(charged) | set(expected))
        if charged.get(a) != expected.get(a)]
    return {
        'group_accounts': len(charged),
        'charged_sum': sum(charged.values(), Decimal(0)),
        'baseline_sum': sum(expected.values(), Decimal(0)),
        'mismatches': len(mismatches),
        'mismatch_sample': mismatches[:20],
        'lines': lines,
        'adjustments_adding_up': adding_up,
        }


def main(argv=None):
    args = parse_args(argv)
    uri = database_uri()
    end = args.cycle + relativedelta(months=1)
    results = describe_run(uri, 'group_billing', args,
        groups=args.groups, members=args.members,
        subscribers=args.subscribers, usage=args.usage,
        period_start=args.cycle, cycle_days=(end - args.cycle).days)
    with tempfile.TemporaryDirectory(prefix='crm-bench-') as workdir:
        config_file = write_config(uri, workdir)
        if args.reuse:
            log("undoing the bill run of %s" % args.cycle)
            undo_group_run(uri, args.database, args.cycle)
            tryton = Tryton(config_file, args.database)
        elif args.groups_only:
            tryton = Tryton(config_file, args.database)
            results['group_generator'] = generate_groups(tryton, uri, args)
            settle(uri, args.database, BILLED_TABLES)
        else:
            results['activation_seconds'] = create_database(
                uri, args.database, config_file, workdir)
            tryton = Tryton(config_file, args.database)
            log("generating %d lines, %d usage records of the cycle %s" % (
                    args.subscribers, args.usage, args.cycle))
            results['generator'] = bench_billing.generate(tryton, args)
            settle(uri, args.database,
                list(results['generator']['rows_per_table']))
            log("generating %d groups of %d members" % (args.groups,
                    args.members))
            results['group_generator'] = generate_groups(tryton, uri, args)
            settle(uri, args.database, BILLED_TABLES)
        with pg_connect(uri, args.database) as conn:
            results['cycle'] = describe_cycle(conn, args.cycle, end)
            results['groups'] = describe_groups(conn)
            if args.reuse or args.groups_only:
                results['subscribers'], = conn.execute(
                    'SELECT COUNT(*) FROM telecom_subscriber').fetchone()
                results['usage'] = results['cycle']['usage']
        log("baseline statement")
        (totals, paid), results['baseline'] = run_baseline(uri,
            args.database, args.cycle, end)
        tuned, results['baseline_tuned'] = run_baseline(uri, args.database,
            args.cycle, end, settings=TUNED)
        assert tuned == (totals, paid)
        log("bill run")
        results['bill_run'] = bill_run(tryton, uri, args, end, config_file)
        results['check'] = check_bills(uri, args.database, args.cycle, end,
            totals)
        results['group_check'] = check_group_payments(uri, args.database,
            args.cycle, paid)

    results['summary'] = summary_records(summary_rows(results))
    print_summary(results)
    groups, check = results['groups'], results['group_check']
    print("groups: %s groups, %s members (%s with a cap), %s group "
        "products, %s approved tariff lines" % tuple(format(groups[k], ',')
            for k in ['groups', 'members', 'members_capped',
                'group_products', 'tariff_lines']))
    print("group lines written: %s" % ', '.join('%s %s' % (k, format(v, ','))
            for k, v in sorted(check['lines'].items())))
    status = 'OK' if not check['mismatches'] else 'MISMATCH'
    print("group payment check %s: %s group accounts charged %s, baseline "
        "%s; %d accounts differ; %s adjustments equal to their members' "
        "lines" % (status, format(check['group_accounts'], ','),
            check['charged_sum'], check['baseline_sum'],
            check['mismatches'], format(check['adjustments_adding_up'], ',')))
    for mismatch in check['mismatch_sample']:
        print("  account %(account)s: charged %(charged)s, baseline "
            "%(baseline)s" % mismatch)
    write_results(results, args.results, 'group_billing')
    if (results['check']['mismatches'] or not results['check']['sum_equal']
            or check['mismatches']
            or check['adjustments_adding_up'] != check['group_accounts']):
        return 1


if __name__ == '__main__':
    sys.exit(main())
