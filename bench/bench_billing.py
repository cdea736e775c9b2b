#!/usr/bin/env python3
"""Billing benchmark of the telecom CRM on PostgreSQL.

    bench/run.sh billing [--subscribers 100000] [--usage 3000000] [...]

or, with a PostgreSQL server and TRYTOND_DATABASE_URI set:

    .venv/bin/python bench/bench_billing.py --subscribers 2000 --usage 60000

Measures, each against a baseline measured in the same run on the same
database:

1. a bill run (telecom.bill.run process: batches of accounts, one
   transaction each) over every line of a cycle and its usage, against ONE
   hand-written SQL aggregation that computes the same bill totals; the
   benchmark checks that every bill amount equals the baseline's total of
   its account and prints the differences;
2. the usage CSV import (telecom.usage import_csv) in rows per second,
   against PostgreSQL COPY of the same file into an empty table with the
   file's columns, COPY followed by one INSERT ... SELECT into an empty
   clone of telecom_usage, and COPY of the validated rows (what the import
   writes) into an empty clone of telecom_usage, into the same clone with
   the foreign keys of telecom_usage, and into telecom_usage itself.

See bench/README.md for what each figure means.
"""
import argparse
import collections
import configparser
import contextlib
import cProfile
import datetime as dt
import importlib
import io
import json
import os
import pstats
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

from dateutil.relativedelta import relativedelta

ROOT = Path(__file__).resolve().parent.parent
# seconds trytond-worker processes get to load their pool before Start
WORKER_WARMUP = 10
for path in [ROOT, ROOT / 'bench']:
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_subscriber import (  # noqa: E402
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


def last_cycle(today=None):
    "First day of the last whole month: a cycle that has ended"
    today = today or dt.date.today()
    return today.replace(day=1) - relativedelta(months=1)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--subscribers', type=int, default=100_000,
        help="lines to generate, all billed on the cycle's day")
    parser.add_argument('--usage', type=int, default=3_000_000,
        help="usage records to generate in the cycle")
    parser.add_argument('--adjustments', type=int, default=None,
        help="adjustments to generate (default: one per 100 lines)")
    parser.add_argument('--cycle', type=dt.date.fromisoformat,
        default=last_cycle(),
        help="first day of the cycle to bill (day 1 to 28)")
    parser.add_argument('--seed', type=int, default=1,
        help="seed of the generators")
    parser.add_argument('--batch', type=int, default=None,
        help="accounts per batch of the bill run (default: the module's)")
    parser.add_argument('--import-rows', type=int, default=None,
        help="rows of the usage file imported in step 2 (default: a "
        "tenth of --usage, at least 20,000; 0 skips step 2)")
    parser.add_argument('-d', '--database', default='bench_billing',
        help="PostgreSQL database to (re)create")
    parser.add_argument('--explain', action='store_true',
        help="EXPLAIN ANALYZE the first execution of each SQL statement of "
        "the bill run (runs those statements twice: the time grows)")
    parser.add_argument('--cprofile', action='store_true',
        help="run the bill run under cProfile (slows it down a lot: its "
        "time is then no figure to compare)")
    parser.add_argument('--workers', type=int, default=0,
        help="bill through the queue with this many trytond-worker "
        "processes (default 0: BillRun.process in this process)")
    parser.add_argument('--parts', type=int, default=None,
        help="with --workers: parts the usage is added up in side by side "
        "(the configuration's bill run workers; default: --workers)")
    parser.add_argument('--reuse', action='store_true',
        help="skip the set-up and the generator: undo the cycle's bill run "
        "and the imported file on the database of a previous run, then "
        "measure again (for developing the benchmark and the bill run)")
    parser.add_argument('--skip-bill-run', action='store_true',
        help="skip step 1 (the baseline aggregation, the bill run and its "
        "check): only the usage import of step 2 is measured")
    parser.add_argument('--results', default=str(ROOT / 'bench' / 'results'),
        help="directory of the JSON results")
    args = parser.parse_args(argv)
    if not 1 <= args.cycle.day <= 28:
        parser.error("--cycle must be on day 1 to 28")
    if args.adjustments is None:
        args.adjustments = max(1, args.subscribers // 100)
    if args.import_rows is None:
        args.import_rows = max(20_000, args.usage // 10)
    return args


# ---------------------------------------------------------------- data

def generate(tryton, args):
    from crm_telecom.tests.reference import load_reference
    from data import bulk
    from data.demo import create_companies
    started = time.perf_counter()

    def progress(stage, done, total):
        log("generator %s: %d / %d (%.0f s)" % (
                stage, done, total, time.perf_counter() - started))

    with tryton.transaction() as transaction:
        company = create_companies()['gd']
        transaction.set_context(company=company.id)
        load_reference()
        transaction.commit()
        counts = {}
        start = time.perf_counter()
        counts.update(bulk.generate(args.subscribers, seed=args.seed,
                progress=progress, cycle_day=args.cycle.day))
        transaction.commit()
        lines_seconds = time.perf_counter() - start
        start = time.perf_counter()
        counts.update(bulk.generate_usage(args.usage, args.cycle,
                seed=args.seed, progress=progress))
        transaction.commit()
        usage_seconds = time.perf_counter() - start
        counts.update(bulk.generate_adjustments(args.adjustments, args.cycle,
                seed=args.seed))
        transaction.commit()
    log("generated %s rows in %.0f s" % (format(sum(counts.values()), ','),
            time.perf_counter() - started))
    return {
        'rows_per_table': counts,
        'lines_seconds': lines_seconds,
        'usage_seconds': usage_seconds,
        'usage_rows_per_s': counts['telecom_usage'] / usage_seconds,
        }


def settle(uri, database, tables):
    """VACUUM ANALYZE what was just written, as autovacuum would have done
    long before a bill run: neither measured side pays for hint bits or
    missing statistics"""
    with pg_connect(uri, database) as conn:
        for table in tables:
            conn.execute('VACUUM (ANALYZE) "%s"' % table)


BILLED_TABLES = ['telecom_usage', 'telecom_bill', 'telecom_bill_line',
    'telecom_bill_adjustment', 'telecom_account_movement',
    'telecom_account', 'telecom_bill_run']


def undo_run(uri, database, cycle):
    "--reuse: the database as it was before the cycle's run and the import"
    statements = [
        "DELETE FROM telecom_usage WHERE source_key LIKE 'BENCH%%'",
        'UPDATE telecom_bill_adjustment SET bill = NULL WHERE bill IN '
        '(SELECT id FROM telecom_bill WHERE period_start = %(cycle)s)',
        "DELETE FROM telecom_account_movement WHERE kind = 'bill'",
        "DELETE FROM telecom_provisioning_request "
        "WHERE action = 'bill_issued'",
        'DELETE FROM telecom_bill_line WHERE bill IN '
        '(SELECT id FROM telecom_bill WHERE period_start = %(cycle)s)',
        'DELETE FROM telecom_bill WHERE period_start = %(cycle)s',
        'DELETE FROM telecom_bill_run_usage WHERE run IN '
        '(SELECT id FROM telecom_bill_run WHERE period_start = %(cycle)s)',
        'DELETE FROM telecom_bill_run WHERE period_start = %(cycle)s',
        'DELETE FROM ir_queue WHERE name = %(queue)s',
        ]
    with pg_connect(uri, database, autocommit=False) as conn:
        for statement in statements:
            conn.execute(statement, {'cycle': cycle, 'queue': 'default'})
        conn.commit()
    with pg_connect(uri, database) as conn:
        # back to the order the records were written in (by time), without
        # the row versions the run and its undoing left
        conn.execute('CLUSTER telecom_usage USING telecom_usage_pkey')
    settle(uri, database, BILLED_TABLES + ['telecom_provisioning_request'])


def describe_cycle(conn, cycle, end):
    "What the bill run has to do, counted with plain SQL"
    params = {'start': cycle, 'end': end, 'day': cycle.day}
    result = {}
    for name, query in [
            ('accounts', 'SELECT COUNT(*) FROM telecom_account '
                'WHERE bill_cycle_day = %(day)s'),
            ('lines', 'SELECT COUNT(*) FROM telecom_subscriber s '
                'JOIN telecom_account a ON a.id = s.account '
                'WHERE a.bill_cycle_day = %(day)s'),
            ('lines_with_plan_in_cycle', 'SELECT COUNT(DISTINCT p.subscriber) '
                'FROM telecom_subscriber_plan p '
                'JOIN telecom_subscriber s ON s.id = p.subscriber '
                'JOIN telecom_account a ON a.id = s.account '
                'WHERE a.bill_cycle_day = %(day)s '
                'AND p.start_date < %(end)s '
                'AND (p.end_date IS NULL OR p.end_date > %(start)s)'),
            ('plan_changes_in_cycle', 'SELECT COUNT(*) '
                'FROM telecom_subscriber_plan p '
                'WHERE p.start_date > %(start)s AND p.start_date < %(end)s '
                'AND EXISTS (SELECT 1 FROM telecom_subscriber_plan q '
                'WHERE q.subscriber = p.subscriber AND q.id != p.id)'),
            ('services_in_cycle', 'SELECT COUNT(*) '
                'FROM telecom_subscriber_service v '
                'WHERE (v.start_date IS NULL OR v.start_date < %(end)s) '
                'AND (v.end_date IS NULL OR v.end_date > %(start)s)'),
            ('usage', 'SELECT COUNT(*) FROM telecom_usage '
                'WHERE start >= %(start)s AND start < %(end)s'),
            ('usage_roaming', 'SELECT COUNT(*) FROM telecom_usage '
                'WHERE start >= %(start)s AND start < %(end)s AND roaming '
                'AND charge IS NULL'),
            ('usage_prerated', 'SELECT COUNT(*) FROM telecom_usage '
                'WHERE start >= %(start)s AND start < %(end)s '
                'AND charge IS NOT NULL'),
            ('adjustments_approved', "SELECT COUNT(*) "
                "FROM telecom_bill_adjustment WHERE state = 'approved' "
                "AND bill IS NULL"),
            ]:
        result[name], = conn.execute(query, params).fetchone()
    return result


# ---------------------------------------------------------------- baseline

# The bill totals of every account of the cycle in one statement: plan fees
# prorated by days, add-on and value-added service fees, domestic usage
# beyond the prorated plan allowance then beyond the add-ons' (drawn in the
# order of the plan periods), roaming at roaming rates, pre-rated charges
# and approved adjustments; each amount rounded to cents as a bill line is.
BASELINE_SQL = """
WITH acc AS (
    SELECT a.id FROM telecom_account a
    WHERE a.bill_cycle_day = %(day)s
        AND NOT EXISTS (SELECT 1 FROM telecom_bill b
            WHERE b.account = a.id AND b.period_start = %(start)s)
), plan AS (
    SELECT s.account, p.id AS period, p.subscriber, p.plan,
        GREATEST(p.start_date, %(start)s) AS day_from,
        LEAST(COALESCE(p.end_date, %(end)s), %(end)s) AS day_to,
        LEAST(COALESCE(p.end_date, %(end)s), %(end)s)
            - GREATEST(p.start_date, %(start)s) AS days
    FROM telecom_subscriber_plan p
    JOIN telecom_subscriber s ON s.id = p.subscriber
    JOIN acc ON acc.id = s.account
    WHERE p.start_date < %(end)s
        AND (p.end_date IS NULL OR p.end_date > %(start)s)
), line AS (
    SELECT DISTINCT subscriber, account FROM plan WHERE days > 0
), service AS (
    SELECT line.account, v.subscriber, t.telecom_type, t.monthly_fee,
        t.voice_minutes, t.sms_count, t.data_mb,
        LEAST(COALESCE(v.end_date, %(end)s), %(end)s)
            - GREATEST(COALESCE(v.start_date, %(start)s), %(start)s) AS days
    FROM telecom_subscriber_service v
    JOIN line ON line.subscriber = v.subscriber
    JOIN product_template t ON t.id = v.product
    WHERE (v.start_date IS NULL OR v.start_date < %(end)s)
        AND (v.end_date IS NULL OR v.end_date > %(start)s)
), addon AS (
    -- (SUM of bigint is numeric: cast back for the integer divisions)
    SELECT subscriber,
        SUM(COALESCE(voice_minutes, 0)::bigint
            * LEAST(days, %(cycle_days)s) / %(cycle_days)s)::bigint AS voice,
        SUM(COALESCE(sms_count, 0)::bigint
            * LEAST(days, %(cycle_days)s) / %(cycle_days)s)::bigint AS sms,
        SUM(COALESCE(data_mb, 0)::bigint * 1024
            * LEAST(days, %(cycle_days)s) / %(cycle_days)s)::bigint AS data
    FROM service WHERE days > 0 AND telecom_type = 'addon'
    GROUP BY subscriber
), used AS (
    SELECT plan.account, plan.subscriber, plan.period, plan.plan,
        plan.days, plan.day_from, u.type,
        CASE WHEN u.charge IS NOT NULL THEN 'rated'
            WHEN u.roaming THEN 'roaming' ELSE 'domestic' END AS class,
        SUM(u.units)::bigint AS units, SUM(u.charge) AS charge
    -- OFFSET 0 keeps the planner from reading the cycle's usage through
    -- 100,000 index scans (random reads of 3 million rows): one
    -- sequential scan, then a hash join
    FROM (SELECT * FROM telecom_usage
        WHERE start >= %(start)s AND start < %(end)s
        OFFSET 0) AS u
    JOIN plan ON plan.subscriber = u.subscriber
        AND u.start >= plan.day_from AND u.start < plan.day_to
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
), priced AS (
    SELECT used.*,
        COALESCE(CASE WHEN used.class = 'roaming' THEN
                CASE used.type WHEN 'voice' THEN t.roaming_voice_rate
                    WHEN 'sms' THEN t.roaming_sms_rate
                    ELSE t.roaming_data_rate END
            ELSE CASE used.type WHEN 'voice' THEN t.voice_rate
                    WHEN 'sms' THEN t.sms_rate ELSE t.data_rate END
            END, 0) AS rate,
        GREATEST(used.units - COALESCE(CASE used.type
                    WHEN 'voice' THEN t.voice_minutes::bigint
                    WHEN 'sms' THEN t.sms_count::bigint
                    ELSE t.data_mb::bigint * 1024 END, 0)
                * LEAST(used.days, %(cycle_days)s) / %(cycle_days)s, 0)
            AS beyond
    FROM used JOIN product_template t ON t.id = used.plan
), drawn AS (
    SELECT priced.*,
        COALESCE(CASE priced.type WHEN 'voice' THEN a.voice
            WHEN 'sms' THEN a.sms ELSE a.data END, 0) AS addon,
        SUM(priced.beyond) OVER (PARTITION BY priced.subscriber,
            priced.type, priced.class
            ORDER BY priced.day_from, priced.period)::bigint AS drawn_to
    FROM priced LEFT JOIN addon a ON a.subscriber = priced.subscriber
), charge AS (
    SELECT plan.account, ROUND(CASE WHEN plan.days >= %(cycle_days)s
                THEN COALESCE(t.monthly_fee, 0)
                ELSE COALESCE(t.monthly_fee, 0) * plan.days
                    / %(cycle_days)s END, 2) AS amount
    FROM plan JOIN product_template t ON t.id = plan.plan
    WHERE plan.days > 0
    UNION ALL
    SELECT account, ROUND(CASE WHEN days >= %(cycle_days)s
                THEN COALESCE(monthly_fee, 0)
                ELSE COALESCE(monthly_fee, 0) * days / %(cycle_days)s END,
            2)
    FROM service WHERE days > 0
    UNION ALL
    SELECT account, CASE class
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
    SELECT j.account, ROUND(j.amount, 2)
    FROM telecom_bill_adjustment j JOIN acc ON acc.id = j.account
    WHERE j.state = 'approved' AND j.bill IS NULL
)
SELECT acc.id, COALESCE(SUM(charge.amount), 0)
FROM acc LEFT JOIN charge ON charge.account = acc.id
GROUP BY acc.id
"""


def baseline_params(cycle, end):
    return {'start': cycle, 'end': end, 'day': cycle.day,
        'cycle_days': (end - cycle).days}


# session settings of the tuned baseline: the sorts and hashes of 3 million
# rows fit in memory, and no time goes to compiling the plan
TUNED = {'work_mem': '256MB', 'jit': 'off'}


def run_baseline(uri, database, cycle, end, settings=None, repeat=2):
    """The hand-written aggregation, executed and fetched `repeat` times on
    one connection (with the session settings given); the first run warms
    the cache the bill run will find warm too, so the last time is the
    figure"""
    times, totals = [], None
    with pg_connect(uri, database) as conn:
        for name, value in (settings or {}).items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        for _ in range(repeat):
            start = time.perf_counter()
            rows = conn.execute(BASELINE_SQL,
                baseline_params(cycle, end)).fetchall()
            times.append(time.perf_counter() - start)
            result = {a: Decimal(t) for a, t in rows}
            assert totals is None or totals == result
            totals = result
            log("baseline%s: %d accounts in %.2f s" % (
                    ' (%s)' % _settings(settings) if settings else '',
                    len(rows), times[-1]))
        plan = conn.execute('EXPLAIN (ANALYZE, BUFFERS) ' + BASELINE_SQL,
            baseline_params(cycle, end)).fetchall()
    return totals, {
        'seconds': times[-1],
        'seconds_all': times,
        'settings': settings or {},
        'accounts': len(totals),
        'total': totals and sum(totals.values()),
        'plan': [r[0] for r in plan],
        }


def _settings(settings):
    return ', '.join('%s %s' % i for i in settings.items())


# ---------------------------------------------------------------- bill run

class Watch(threading.Thread):
    "Logs how many bills the run has committed, every `every` seconds"

    def __init__(self, uri, database, cycle, every=30):
        super().__init__(daemon=True)
        self.uri, self.database, self.cycle = uri, database, cycle
        self.every = every
        self.stop = threading.Event()

    def run(self):
        started = time.perf_counter()
        with pg_connect(self.uri, self.database) as conn:
            while not self.stop.wait(self.every):
                count, = conn.execute('SELECT COUNT(*) FROM telecom_bill '
                    'WHERE period_start = %s', (self.cycle,)).fetchone()
                log("bill run: %s bills after %.0f s" % (
                        format(count, ','), time.perf_counter() - started))


USAGE_TABLE = '"telecom_usage"'
USAGE_PARTITION = re.compile(r'^telecom_usage_[0-9]{6}$')


def plan_relations(plan):
    "The tables an EXPLAIN (FORMAT JSON) plan reads or writes"
    found = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if 'Relation Name' in node:
                found.add(node['Relation Name'])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


class StatementTimer:
    """Times every SQL statement trytond executes, by the innermost line of
    crm_telecom that issued it (a few microseconds per statement); with
    explain, EXPLAIN ANALYZEs the first execution of each of those lines
    (inside a savepoint that is rolled back, so the statement then runs as
    usual on the same data).

    The first execution of each line whose statement reads or changes
    telecom_usage is EXPLAINed too (planned, not run: a few milliseconds
    each), to list the partitions of the usage table its plan touches."""

    def __init__(self, explain=False):
        self.explain = explain
        self.sites = collections.OrderedDict()

    @staticmethod
    def usage_partitions(original, cursor, query, params, kwargs):
        """The usage partitions in the plan of a statement, or None when it
        does not touch telecom_usage"""
        text = str(query)
        if USAGE_TABLE not in text or not text.lstrip().upper().startswith(
                ('SELECT', 'WITH', 'UPDATE', 'DELETE', 'INSERT')):
            return None
        original(cursor, 'SAVEPOINT bench_usage_plan')
        try:
            original(cursor, 'EXPLAIN (FORMAT JSON) ' + text, params,
                **kwargs)
            plan = cursor.fetchone()[0]
        except Exception as exception:
            original(cursor, 'ROLLBACK TO SAVEPOINT bench_usage_plan')
            return ['(EXPLAIN failed: %s)' % str(exception).splitlines()[0]]
        finally:
            original(cursor, 'RELEASE SAVEPOINT bench_usage_plan')
        if isinstance(plan, str):
            plan = json.loads(plan)
        return sorted(r for r in plan_relations(plan)
            if USAGE_PARTITION.match(r) or r == 'telecom_usage')

    @staticmethod
    def site():
        frame = sys._getframe(2)
        while frame:
            code = frame.f_code
            if '/crm_' in code.co_filename:
                return '%s:%d %s()' % (Path(code.co_filename).name,
                    frame.f_lineno, code.co_name)
            frame = frame.f_back
        return '(trytond)'

    @contextlib.contextmanager
    def installed(self):
        from trytond.backend.postgresql import database
        cls = database.LoggingCursor
        original = cls.execute
        timer = self

        def execute(cursor, query, params=None, **kwargs):
            site = timer.site()
            entry = timer.sites.get(site)
            if entry is None:
                entry = timer.sites[site] = {'site': site, 'calls': 0,
                    'seconds': 0.0, 'rows': 0, 'query': str(query)[:3000]}
                partitions = timer.usage_partitions(original, cursor, query,
                    params, kwargs)
                if partitions is not None:
                    entry['usage_partitions'] = partitions
                if (timer.explain and site != '(trytond)'
                        and str(query).lstrip().upper().startswith(
                            ('SELECT', 'UPDATE', 'INSERT', 'DELETE',
                                'WITH'))):
                    original(cursor, 'SAVEPOINT bench_explain')
                    start = time.perf_counter()
                    original(cursor, 'EXPLAIN (ANALYZE, BUFFERS) '
                        + str(query), params, **kwargs)
                    entry['explain_seconds'] = time.perf_counter() - start
                    entry['plan'] = [r[0] for r in cursor.fetchall()]
                    original(cursor, 'ROLLBACK TO SAVEPOINT bench_explain')
                    original(cursor, 'RELEASE SAVEPOINT bench_explain')
            start = time.perf_counter()
            try:
                return original(cursor, query, params, **kwargs)
            finally:
                entry['seconds'] += time.perf_counter() - start
                entry['calls'] += 1
                if cursor.rowcount and cursor.rowcount > 0:
                    entry['rows'] += cursor.rowcount

        cls.execute = execute
        try:
            yield self
        finally:
            cls.execute = original

    def report(self):
        return sorted(self.sites.values(), key=lambda e: e['seconds'],
            reverse=True)

    def usage_report(self, attached):
        """Which partitions of telecom_usage the run's statements on it
        read, beside the partitions the table has"""
        statements = [{'site': e['site'], 'calls': e['calls'],
                'partitions': e['usage_partitions'],
                'query': e['query'][:300]}
            for e in self.sites.values() if 'usage_partitions' in e]
        read = sorted({p for e in statements for p in e['partitions']
                if USAGE_PARTITION.match(p)})
        return {'attached': attached, 'read': read,
            'statements': statements}


def usage_partitions(uri, database):
    "The partitions of telecom_usage, by month"
    with pg_connect(uri, database) as conn:
        return [n for n, in conn.execute('SELECT c.relname '
                'FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid '
                "WHERE i.inhparent = 'telecom_usage'::regclass "
                'ORDER BY c.relname')]


class PhaseTimer:
    """Wall time spent in the steps of a run (inclusive: bill() contains
    the inserts), measured by wrapping the methods for the run"""
    RATING = ['bill', '_insert_bills', '_insert_fees',
        '_insert_usage_lines', '_insert_late_lines',
        '_insert_adjustments', '_link_adjustments']
    # the rating's steps other modules add, when they are installed:
    # (module, class, methods)
    EXTRA_RATING = [('crm_group_customer.billing', 'GroupRatingMixin',
            ['_insert_group_products', '_insert_group_discounts',
                '_insert_group_payments'])]
    MODELS = [('telecom.bill.run.usage', 'collect'),
        ('telecom.bill', 'notify_issued'),
        ('telecom.provisioning.request', 'notify'),
        ('telecom.account.movement', 'update_balances'),
        ('telecom.bill.run', '_charge_groups')]

    def __init__(self):
        self.phases = collections.OrderedDict()

    def _wrap(self, name, function):
        phases = self.phases

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                entry = phases.setdefault(name, {'phase': name, 'calls': 0,
                        'seconds': 0.0})
                entry['calls'] += 1
                entry['seconds'] += time.perf_counter() - start
        return wrapper

    @contextlib.contextmanager
    def installed(self, pool):
        from crm_billing import rating
        restore = []
        for name in self.RATING:
            original = rating.Rating.__dict__[name]
            restore.append((rating.Rating, name, original))
            setattr(rating.Rating, name,
                self._wrap('Rating.' + name, original))
        for module, class_name, names in self.EXTRA_RATING:
            try:
                owner = getattr(importlib.import_module(module), class_name)
            except ImportError:
                continue
            for name in names:
                original = owner.__dict__[name]
                restore.append((owner, name, original))
                setattr(owner, name, self._wrap(
                        '%s.%s' % (class_name, name), original))
        for model, name in self.MODELS:
            try:
                Model = pool.get(model)
            except KeyError:
                continue
            if not hasattr(Model, name):
                continue
            function = getattr(Model, name).__func__
            restore.append((Model, name, Model.__dict__.get(name)))
            setattr(Model, name, classmethod(
                    self._wrap('%s.%s' % (model, name), function)))
        try:
            yield self
        finally:
            for owner, name, original in reversed(restore):
                if original is None:
                    delattr(owner, name)
                else:
                    setattr(owner, name, original)

    def report(self):
        return sorted(self.phases.values(), key=lambda e: e['seconds'],
            reverse=True)


def descendants(pid):
    "Process ids of the children of pid, and theirs (Linux /proc)"
    found, stack = [], [pid]
    while stack:
        parent = stack.pop()
        try:
            with open('/proc/%d/task/%d/children' % (parent, parent)) as fp:
                children = [int(c) for c in fp.read().split()]
        except OSError:
            children = []
        found.extend(children)
        stack.extend(children)
    return found


def peak_memory(pid):
    """Peak resident memory (VmHWM, KB) of the processes billing: the
    trytond-worker processes that took the tasks, largest first"""
    peaks = []
    for child in [pid] + descendants(pid):
        try:
            with open('/proc/%d/status' % child) as fp:
                for line in fp:
                    if line.startswith('VmHWM:'):
                        peaks.append(int(line.split()[1]))
        except OSError:
            pass
    return sorted(peaks, reverse=True)


def start_with_workers(BillRun, transaction, uri, args, config_file):
    """--workers N: N trytond-worker processes on the database, given
    WORKER_WARMUP seconds to load their pool (as long-running workers
    have); then the Start button (counts, watermark, usage totals, one
    queue task per slice of accounts), committed, and the workers bill
    until the run is done. The figure runs from the button to the run
    done. Returns the time the button was pressed and how long the start
    took, and the run."""
    from crm_billing.bill_run import BATCH_SIZE
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # the workers' configuration: the bench's, with the queue run by
    # workers (without it trytond-worker has nothing to do and stops)
    config = configparser.RawConfigParser()
    config.read(config_file)
    if not config.has_section('queue'):
        config.add_section('queue')
    config.set('queue', 'worker', 'True')
    worker_config = str(Path(config_file).with_name('worker.conf'))
    with open(worker_config, 'w') as fp:
        config.write(fp)
    worker = subprocess.Popen([str(ROOT / '.venv' / 'bin' / 'trytond-worker'),
            '-c', worker_config, '-d', args.database,
            '-n', str(args.workers), '-t', '1', '-v'], env=env,
        start_new_session=True)
    try:
        time.sleep(WORKER_WARMUP)
        # the usage added up in as many parts as there are workers (the
        # first write of the configuration locks its table: retried so)
        from trytond.pool import Pool
        from trytond.transaction import Transaction, TransactionError
        extras = {}
        while True:
            with Transaction().new_transaction(**extras) as configuring:
                try:
                    Configuration = Pool().get('telecom.configuration')
                    configuration = Configuration(1)
                    configuration.bill_run_workers = (
                        args.parts or args.workers)
                    configuration.save()
                    configuring.commit()
                    break
                except TransactionError as exception:
                    configuring.rollback()
                    exception.fix(extras)
        start = time.perf_counter()
        # created and started in one transaction, which holds its lock
        runs = BillRun.create([{'period_start': args.cycle}])
        BillRun.start(runs)
        transaction.commit()
        started = time.perf_counter() - start
        log("bill run: started in %.1f s, %d usage parts queued, "
            "%d worker(s)" % (started, len(runs[0].parts), args.workers))
        collected = None
        with pg_connect(uri, args.database) as conn:
            while True:
                state, = conn.execute('SELECT state FROM telecom_bill_run '
                    'WHERE id = %s', (runs[0].id,)).fetchone()
                if state == 'done':
                    break
                if collected is None and conn.execute(
                        'SELECT bool_and(collected) FROM '
                        'telecom_bill_run_part WHERE run = %s',
                        (runs[0].id,)).fetchone()[0]:
                    collected = time.perf_counter() - start
                    log("bill run: usage added up after %.1f s, %d slices "
                        "queued" % (collected,
                            -(-runs[0].accounts_total // BATCH_SIZE)))
                if worker.poll() is not None:
                    raise RuntimeError("trytond-worker stopped (%s)"
                        % worker.returncode)
                time.sleep(0.1)
        peak = peak_memory(worker.pid)
    finally:
        # the worker and its processes
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait()
    log("bill run: peak memory of the worker processes: %s" % ', '.join(
            '%.0f MB' % (kb / 1024) for kb in peak))
    return start, (started, collected), runs[0].id, peak


def plan_collect(pool, run, transaction):
    """Run the usage statements of the workers' parts once more in a
    savepoint, rolled back: the statement timer lists the partitions of
    telecom_usage they read (partitions are chosen by the cycle's days,
    whatever the part's lines)"""
    RunUsage = pool.get('telecom.bill.run.usage')
    cursor = transaction.connection.cursor()
    cursor.execute('SAVEPOINT bench_plan_collect')
    try:
        RunUsage.collect(run)
    finally:
        cursor.execute('ROLLBACK TO SAVEPOINT bench_plan_collect')


def bill_run(tryton, uri, args, end, config_file):
    """BillRun.process of a new run of the cycle, committing batch by batch
    as the cron and data/bill_run.py do; with --workers, the Start button
    and trytond-worker processes taking its slices from the queue"""
    with tryton.transaction() as transaction:
        BillRun = tryton.Pool().get('telecom.bill.run')
        if args.workers:
            run_id = None
        else:
            run, = BillRun.create([{'period_start': args.cycle}])
            transaction.commit()
            run_id = run.id
    watch = Watch(uri, args.database, args.cycle)
    watch.start()
    timer = StatementTimer(explain=args.explain)
    phases = PhaseTimer()
    profiler = cProfile.Profile() if args.cprofile else None
    kwargs = {} if args.batch is None else {'batch_size': args.batch}
    try:
        with tryton.transaction() as transaction, \
                timer.installed(), phases.installed(tryton.Pool()):
            BillRun = tryton.Pool().get('telecom.bill.run')
            runs = BillRun.browse([run_id]) if run_id else None
            if profiler:
                profiler.enable()
            if args.workers:
                # from the button, not the workers' warm-up
                start, prepared, run_id, peak = start_with_workers(
                    BillRun, transaction, uri, args, config_file)
            else:
                start = time.perf_counter()
                BillRun.process(runs, commit=True, **kwargs)
            if profiler:
                profiler.disable()
            elapsed = time.perf_counter() - start
            transaction.rollback()
            run = BillRun(run_id)
            if args.workers:
                # the workers added the usage up: the plans of those
                # statements, made here (the timer EXPLAINs each first
                # execution; the statements are rolled back)
                plan_collect(tryton.Pool(), run, transaction)
            result = {
                'seconds': elapsed,
                'run_id': run_id,
                'state': run.state,
                'accounts_total': run.accounts_total,
                'accounts_done': run.accounts_done,
                'batch_size': args.batch,
                'workers': args.workers,
                'start_seconds': prepared[0] if args.workers else None,
                'collected_seconds': prepared[1] if args.workers else None,
                'parts': (args.parts or args.workers) if args.workers
                else None,
                'peak_memory_kb': peak if args.workers else [
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss],
                'explain': args.explain,
                'cprofile': args.cprofile,
                }
    finally:
        watch.stop.set()
    log("bill run: %d accounts in %.1f s" % (result['accounts_done'],
            elapsed))
    result['statements'] = timer.report()
    result['usage_partitions'] = timer.usage_report(
        usage_partitions(uri, args.database))
    log("bill run: usage partitions read: %s (the table has %s)" % (
            ', '.join(result['usage_partitions']['read']) or 'none',
            ', '.join(result['usage_partitions']['attached'])))
    result['explain_seconds'] = sum(e.get('explain_seconds', 0)
        for e in result['statements'])
    result['phases'] = phases.report()
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats('cumulative').print_stats(45)
        result['cprofile_stats'] = out.getvalue()
    return result


def check_bills(uri, database, cycle, end, totals):
    """Every bill of the cycle against the baseline's total of its account:
    same accounts, same amounts, same sum; and what the run wrote"""
    with pg_connect(uri, database) as conn:
        bills = {a: Decimal(m) for a, m in conn.execute(
                'SELECT account, amount FROM telecom_bill '
                'WHERE period_start = %s', (cycle,))}
        written = {}
        for name, query in [
                ('bill_lines', 'SELECT COUNT(*) FROM telecom_bill_line l '
                    'JOIN telecom_bill b ON b.id = l.bill '
                    'WHERE b.period_start = %(start)s'),
                # billed: up to the run's watermark (the bills say which
                # records they charged; nothing is written per record)
                ('usage_billed', 'SELECT COUNT(*) FROM telecom_usage '
                    'WHERE start >= %(start)s AND start < %(end)s '
                    'AND id <= (SELECT usage_until FROM telecom_bill_run '
                    'WHERE period_start = %(start)s)'),
                ('usage_not_billed', 'SELECT COUNT(*) FROM telecom_usage '
                    'WHERE start >= %(start)s AND start < %(end)s '
                    'AND id > (SELECT usage_until FROM telecom_bill_run '
                    'WHERE period_start = %(start)s)'),
                # what the data made the rating go through
                ('fee_lines_prorated', 'SELECT COUNT(*) '
                    'FROM telecom_bill_line l JOIN telecom_bill b '
                    'ON b.id = l.bill WHERE b.period_start = %(start)s '
                    'AND l.days < l.cycle_days'),
                ('lines_drawing_on_addons', 'SELECT COUNT(*) '
                    'FROM telecom_bill_line l JOIN telecom_bill b '
                    'ON b.id = l.bill WHERE b.period_start = %(start)s '
                    'AND l.addon_included > 0'),
                ('lines_beyond_allowances', "SELECT COUNT(*) "
                    "FROM telecom_bill_line l JOIN telecom_bill b "
                    "ON b.id = l.bill WHERE b.period_start = %(start)s "
                    "AND l.kind IN ('voice', 'sms', 'data') "
                    "AND l.billable > 0"),
                ('movements', "SELECT COUNT(*) FROM telecom_account_movement "
                    "WHERE kind = 'bill'"),
                ('sms_notifications', "SELECT COUNT(*) "
                    "FROM telecom_provisioning_request "
                    "WHERE action = 'bill_issued'"),
                ]:
            try:
                written[name], = conn.execute(query,
                    {'start': cycle, 'end': end}).fetchone()
            except Exception as exception:  # a table of another helper
                written[name] = str(exception).splitlines()[0]
        mismatches = []
        for account in sorted(set(bills) | set(totals)):
            bill, total = bills.get(account), totals.get(account)
            if bill != total:
                mismatches.append({'account': account, 'bill': bill,
                        'baseline': total})
        details = {}
        for mismatch in mismatches[:5]:
            details[mismatch['account']] = conn.execute(
                'SELECT l.subscriber, l.kind, l.product, l.start_date, '
                'l.end_date, l.days, l.quantity, l.included, '
                'l.addon_included, l.billable, l.rate, l.amount '
                'FROM telecom_bill_line l JOIN telecom_bill b '
                'ON b.id = l.bill WHERE b.account = %s '
                'AND b.period_start = %s ORDER BY l.subscriber, l.sequence, '
                'l.start_date', (mismatch['account'], cycle)).fetchall()
    bills_sum = sum(bills.values(), Decimal(0))
    baseline_sum = sum(totals.values(), Decimal(0))
    return {
        'bills': len(bills),
        'baseline_accounts': len(totals),
        'bills_sum': bills_sum,
        'baseline_sum': baseline_sum,
        'sum_equal': bills_sum == baseline_sum,
        'mismatches': len(mismatches),
        'mismatch_sample': mismatches[:50],
        'mismatch_lines': {str(a): [[str(c) for c in r] for r in rows]
            for a, rows in details.items()},
        'written': written,
        }


# ---------------------------------------------------------------- import

def usage_file(uri, database, start, days, rows, seed):
    """A usage file as an operator sends it (crm_billing/tests/usage_csv.py) for lines
    in service on every day it covers; returns its bytes"""
    from crm_billing.tests.usage_csv import COLUMNS, csv_bytes, generate_rows
    last = start + dt.timedelta(days=days - 1)
    with pg_connect(uri, database) as conn:
        numbers = [n for n, in conn.execute(
                'SELECT n.number FROM telecom_subscriber s '
                'JOIN telecom_number n ON n.id = s.number '
                'WHERE s.activation_date <= %s '
                'AND (s.termination_date IS NULL '
                'OR s.termination_date >= %s) ORDER BY s.id', (start, last))]
    return csv_bytes(generate_rows(numbers, start, last, rows, seed=seed,
            id_prefix='BENCH'), columns=COLUMNS), len(numbers)


FILE_TABLE = """CREATE TABLE usage_file_copy (
    record_id varchar, number varchar, type varchar, start timestamp(0),
    duration integer, volume integer, other_party varchar, roaming boolean,
    charge numeric)"""
COPY_FILE = 'COPY %s FROM STDIN (FORMAT csv, HEADER true)'
# what the import ends with, in SQL: each row on the line in service on its
# day, its units, its record id as source key, a known key skipped
RESOLVE_SQL = """
INSERT INTO usage_clone (subscriber, type, roaming, other_party, start,
    duration, volume, units, charge, source_key, create_uid, create_date)
SELECT s.id, f.type, f.roaming, f.other_party, f.start, f.duration, f.volume,
    CASE f.type WHEN 'voice' THEN (f.duration + 59) / 60 WHEN 'sms' THEN 1
        ELSE f.volume END,
    f.charge, f.record_id, 0, now()
FROM usage_file_staging f
JOIN telecom_number n ON n.number = f.number
JOIN telecom_subscriber s ON s.number = n.id
    AND s.activation_date <= f.start::date
    AND (s.termination_date IS NULL OR s.termination_date >= f.start::date)
ON CONFLICT DO NOTHING
"""


def _copy(cursor, sql, data):
    view = memoryview(data)
    with cursor.copy(sql) as copy:
        for i in range(0, len(view), 1 << 20):
            copy.write(view[i:i + (1 << 20)])


# the columns the import writes, in the order of its COPY
ROW_COLUMNS = ('subscriber, type, roaming, other_party, start, duration, '
    'volume, units, charge, source_key, import_, create_uid, create_date')
# what the import wrote against the validated rows: rows in one and not in
# the other (create_date differs by construction)
SAME_ROWS_SQL = """
SELECT COUNT(*) FROM (
    (SELECT subscriber, type, roaming, other_party, start, duration, volume,
        units, charge, source_key, import_, create_uid FROM telecom_usage
    WHERE source_key LIKE 'BENCH%%'
    EXCEPT ALL
    SELECT subscriber, type, roaming, other_party, start, duration, volume,
        units, charge, source_key, import_, create_uid FROM usage_rows_clone)
    UNION ALL
    (SELECT subscriber, type, roaming, other_party, start, duration, volume,
        units, charge, source_key, import_, create_uid FROM usage_rows_clone
    EXCEPT ALL
    SELECT subscriber, type, roaming, other_party, start, duration, volume,
        units, charge, source_key, import_, create_uid FROM telecom_usage
    WHERE source_key LIKE 'BENCH%%')) AS d
"""


def copy_baselines(uri, database, data, rows):
    """COPY of the file into an empty table of its columns; COPY into a
    staging table and one INSERT ... SELECT into an empty clone of
    telecom_usage (LIKE ... INCLUDING ALL: same columns, defaults, indexes
    and unique source key; no foreign keys), ANALYZE as the import does for
    big files; then COPY of the rows that INSERT wrote (the validated rows:
    line resolved, units, source key, in key order, as the import writes
    them) into an empty clone (kept as usage_rows_clone for the check of
    the import, same_rows), into an empty clone with the foreign keys of
    telecom_usage too, and into telecom_usage itself (rolled back: the
    write the import makes, with the foreign keys, the partitions and the
    usage already there)"""
    result = {}
    with pg_connect(uri, database) as conn:
        for table in ['usage_file_copy', 'usage_file_staging', 'usage_clone',
                'usage_rows_clone', 'usage_rows_fk']:
            conn.execute('DROP TABLE IF EXISTS %s' % table)
        conn.execute(FILE_TABLE)
        for table in ['usage_clone', 'usage_rows_clone', 'usage_rows_fk']:
            conn.execute('CREATE TABLE %s '
                '(LIKE telecom_usage INCLUDING ALL)' % table)
        foreign_keys = [d for d, in conn.execute(
                'SELECT pg_get_constraintdef(oid) FROM pg_constraint '
                "WHERE conrelid = 'telecom_usage'::regclass "
                "AND contype = 'f' ORDER BY conname")]
        for definition in foreign_keys:
            conn.execute('ALTER TABLE usage_rows_fk ADD ' + definition)
    with pg_connect(uri, database, autocommit=False) as conn:
        cursor = conn.cursor()
        start = time.perf_counter()
        _copy(cursor, COPY_FILE % 'usage_file_copy', data)
        conn.commit()
        seconds = time.perf_counter() - start
        loaded, = cursor.execute(
            'SELECT COUNT(*) FROM usage_file_copy').fetchone()
        assert loaded == rows, (loaded, rows)
        result['copy'] = {'rows': loaded, 'seconds': seconds,
            'rows_per_s': loaded / seconds}
        log("COPY of the file: %d rows in %.2f s" % (loaded, seconds))
        conn.commit()

        start = time.perf_counter()
        cursor.execute('CREATE TEMPORARY TABLE usage_file_staging '
            '(LIKE usage_file_copy) ON COMMIT DROP')
        _copy(cursor, COPY_FILE % 'usage_file_staging', data)
        cursor.execute(RESOLVE_SQL)
        inserted = cursor.rowcount
        if inserted >= 100_000:
            cursor.execute('ANALYZE usage_clone')
        conn.commit()
        seconds = time.perf_counter() - start
        result['copy_resolve'] = {'rows': rows, 'inserted': inserted,
            'seconds': seconds, 'rows_per_s': rows / seconds}
        log("COPY + INSERT ... SELECT into the clone: %d rows in %.2f s"
            % (inserted, seconds))

        # the validated rows, as COPY text, made before the clock starts
        validated = io.BytesIO()
        with cursor.copy('COPY (SELECT %s FROM usage_clone '
                'ORDER BY source_key) TO STDOUT' % ROW_COLUMNS) as copy:
            for chunk in copy:
                validated.write(chunk)
        validated = validated.getvalue()
        cursor.execute('DROP TABLE usage_file_copy')
        cursor.execute('DROP TABLE usage_clone')
        conn.commit()
        for name, table, end, what in [
                ('copy_rows', 'usage_rows_clone', conn.commit,
                    "into a clone"),
                ('copy_rows_fk', 'usage_rows_fk', conn.commit,
                    "into a clone with the foreign keys"),
                ('copy_rows_usage', 'telecom_usage', conn.rollback,
                    "into telecom_usage (rolled back)"),
                ]:
            start = time.perf_counter()
            _copy(cursor, 'COPY %s (%s) FROM STDIN' % (table, ROW_COLUMNS),
                validated)
            loaded = cursor.rowcount
            end()
            seconds = time.perf_counter() - start
            assert loaded == inserted, (table, loaded, inserted)
            result[name] = {'rows': rows, 'inserted': loaded,
                'seconds': seconds, 'rows_per_s': rows / seconds}
            log("COPY of the validated rows %s: %d rows in %.2f s"
                % (what, loaded, seconds))
        result['copy_rows']['bytes'] = len(validated)
        result['copy_rows_fk']['foreign_keys'] = foreign_keys
        cursor.execute('DROP TABLE usage_rows_fk')
        conn.commit()
    with pg_connect(uri, database) as conn:
        # the import finds the table as it was: no rolled-back rows
        conn.execute('VACUUM telecom_usage')
    return result


def same_rows(uri, database):
    """Rows the import wrote that differ from the validated rows of the
    baseline (0: the baseline wrote what the import writes); drops the
    baseline's clone"""
    with pg_connect(uri, database) as conn:
        differ, = conn.execute(SAME_ROWS_SQL).fetchone()
        conn.execute('DROP TABLE usage_rows_clone')
    return differ


def run_import(tryton, data):
    "telecom.usage import_csv of the file and the commit, as one request"
    with tryton.transaction() as transaction:
        Usage = tryton.Pool().get('telecom.usage')
        start = time.perf_counter()
        result = Usage.import_csv(data)
        transaction.commit()
        elapsed = time.perf_counter() - start
    imported, skipped = result
    log("import: %d rows imported, %d skipped in %.2f s" % (
            imported, skipped, elapsed))
    return {'imported': imported, 'skipped': skipped, 'seconds': elapsed}


def bench_import(tryton, uri, args, end):
    """Step 2: the usage file of the first week after the billed cycle,
    imported, beside COPY of the same file"""
    days = 7
    data, numbers = usage_file(uri, args.database, end, days,
        args.import_rows, args.seed)
    log("usage file: %s rows, %d MB, %d numbers" % (
            format(args.import_rows, ','), len(data) // 2 ** 20, numbers))
    result = {'rows': args.import_rows, 'bytes': len(data),
        'numbers': numbers, 'days': days, 'first_day': end}
    with tryton.transaction() as transaction:
        # the month(s) of the file have their partitions before either side
        # writes, as the daily cron makes them
        tryton.Pool().get('telecom.usage').ensure_partitions(
            [end, end + dt.timedelta(days=days - 1)])
        transaction.commit()
    result.update(copy_baselines(uri, args.database, data, args.import_rows))
    result['import'] = run_import(tryton, data)
    result['import']['rows_per_s'] = args.import_rows / \
        result['import']['seconds']
    assert result['import']['imported'] == \
        result['copy_resolve']['inserted'], result
    result['import']['rows_differing'] = same_rows(uri, args.database)
    assert not result['import']['rows_differing'], result
    return result


# ---------------------------------------------------------------- report

def summary_rows(results):
    rows = []
    run, base = results['bill_run'], results['baseline']
    usage = results['cycle']['usage']
    rows.append(("bill run (s)", run['seconds'], "one SQL aggregation",
            base['seconds'], run['seconds'] / base['seconds'],
            "bill run / SQL (1 = as fast as the aggregation)"))
    tuned = results.get('baseline_tuned')
    if tuned:
        rows.append(("bill run (s)", run['seconds'],
                "  same, " + _settings(tuned['settings']),
                tuned['seconds'], run['seconds'] / tuned['seconds'],
                "bill run / tuned SQL"))
    rows.append(("usage records per second billed", usage / run['seconds'],
            "one SQL aggregation", usage / base['seconds'],
            base['seconds'] / run['seconds'],
            "bill run / SQL (1 = as fast as the aggregation)"))
    rows.append(("accounts billed per second",
            run['accounts_done'] / run['seconds'], "one SQL aggregation",
            base['accounts'] / base['seconds'],
            base['seconds'] / run['seconds'], "bill run / SQL"))
    rows.append(("bill run, µs per usage record", run['seconds'] / usage
            * 1e6, "one SQL aggregation", base['seconds'] / usage * 1e6,
            run['seconds'] / base['seconds'],
            "compare between runs of different sizes"))
    rows.extend(import_summary_rows(results))
    return rows


def import_summary_rows(results):
    rows = []
    imp = results.get('import')
    if imp:
        rows.append(("usage import (rows/s)", imp['import']['rows_per_s'],
                "COPY of the file", imp['copy']['rows_per_s'],
                imp['import']['rows_per_s'] / imp['copy']['rows_per_s'],
                "import / COPY (1 = as fast as COPY)"))
        for key, baseline, means in [
                ('copy_rows', "COPY of the rows into a clone",
                    "import / COPY of the validated rows into an empty "
                    "clone of telecom_usage (indexes, unique key)"),
                ('copy_rows_fk', "  same, with the foreign keys",
                    "import / same, the clone with the foreign keys of "
                    "telecom_usage"),
                ('copy_rows_usage', "  same, into telecom_usage",
                    "import / COPY of the validated rows into telecom_usage "
                    "itself (rolled back)"),
                ]:
            rows.append(("usage import (rows/s)",
                    imp['import']['rows_per_s'], baseline,
                    imp[key]['rows_per_s'],
                    imp['import']['rows_per_s'] / imp[key]['rows_per_s'],
                    means))
        rows.append(("usage import (rows/s)", imp['import']['rows_per_s'],
                "COPY + INSERT...SELECT", imp['copy_resolve']['rows_per_s'],
                imp['import']['rows_per_s']
                / imp['copy_resolve']['rows_per_s'],
                "import / COPY + SQL resolve"))
    return rows


def _fmt(value):
    return '%.2f' % value if value < 10_000 else format(round(value), ',')


def print_summary(results):
    cycle, check = results['cycle'], results['check']
    print()
    print("Billing benchmark: %s subscribers, %s usage records, cycle %s "
        "(%d days), %s, trytond %s, %s" % (
            format(results['subscribers'], ','),
            format(cycle['usage'], ','), results['period_start'],
            results['cycle_days'], results['postgresql'],
            results['trytond'], results['started']))
    print("cycle: %s accounts, %s lines (%s with a plan in the cycle, %s "
        "plan changes in it), %s services, %s usage records (%s roaming, "
        "%s pre-rated), %s approved adjustments" % tuple(
            format(cycle[k], ',') for k in ['accounts', 'lines',
                'lines_with_plan_in_cycle', 'plan_changes_in_cycle',
                'services_in_cycle', 'usage', 'usage_roaming',
                'usage_prerated', 'adjustments_approved']))
    header = ('figure', 'value', 'baseline', 'baseline value', 'ratio')
    table = [header] + [(f, _fmt(v), b, _fmt(bv), '%.3f' % r)
        for f, v, b, bv, r, _ in summary_rows(results)]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print(' | '.join(c.ljust(w) if j in (0, 2) else c.rjust(w)
                for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print('-+-'.join('-' * w for w in widths))
    print()
    print("ratio: bill run time / aggregation time (lower is better, "
        "1 = the aggregation); import / COPY throughput (higher is better, "
        "1 = COPY)")
    print()
    status = 'OK' if not check['mismatches'] and check['sum_equal'] else \
        'MISMATCH'
    print("check %s: %s bills, %s accounts in the baseline; sum of bills "
        "%s, baseline %s; %d accounts differ" % (status,
            format(check['bills'], ','),
            format(check['baseline_accounts'], ','), check['bills_sum'],
            check['baseline_sum'], check['mismatches']))
    for mismatch in check['mismatch_sample'][:20]:
        print("  account %(account)s: bill %(bill)s, baseline %(baseline)s"
            % mismatch)
        for line in check['mismatch_lines'].get(str(mismatch['account']),
                []):
            print("    line " + ' '.join(line))
    print("written by the run: %s" % ', '.join('%s %s' % (k, format(v, ',')
                if isinstance(v, int) else v)
            for k, v in check['written'].items()))
    run = results['bill_run']
    if run.get('workers'):
        print("billed by %d trytond-worker process(es): Start (counts, "
            "watermark, %d usage parts queued) %.1f s; usage added up by "
            "the workers after %s s, then %s slices; peak memory of the "
            "processes %s" % (run['workers'], run['parts'],
                run['start_seconds'],
                '%.1f' % run['collected_seconds']
                if run['collected_seconds'] is not None else '?',
                format(-(-run['accounts_total'] // (run['batch_size']
                            or 2000)), ','),
                ', '.join('%.0f MB' % (kb / 1024)
                    for kb in run['peak_memory_kb'])))
        print("(the figures below are those of this process: the Start)")
    print()
    print("Where the bill run spends its %.1f s%s:" % (run['seconds'],
            " (of which %.1f s of EXPLAIN ANALYZE)" % run['explain_seconds']
            if run['explain'] else ''))
    for e in run['phases']:
        print("  %8.2f s %6d calls  %s" % (e['seconds'], e['calls'],
                e['phase']))
    total = sum(e['seconds'] for e in run['statements'])
    print("SQL statements by the line of crm_telecom that ran them (%d "
        "statements, %.1f s, time to execute including psycopg's client "
        "side):" % (sum(e['calls'] for e in run['statements']), total))
    for e in run['statements'][:12]:
        print("  %8.2f s %6d calls %10s rows  %s" % (e['seconds'],
                e['calls'], format(e['rows'], ','), e['site']))
    usage = run.get('usage_partitions')
    if usage:
        print()
        print("Usage partitions the bill run reads: %s, of the %d of "
            "telecom_usage (%s)" % (', '.join(usage['read']) or 'none',
                len(usage['attached']), ', '.join(usage['attached'])))
        for e in usage['statements']:
            print("  %6d calls  %s: %s" % (e['calls'], e['site'],
                    ', '.join(e['partitions'])))
    if run.get('cprofile_stats'):
        print()
        print(run['cprofile_stats'][:6000])


def import_only(tryton, uri, args, end, results):
    "--skip-bill-run: step 2 alone, its figures printed and written"
    log("step 1: skipped")
    if args.import_rows:
        log("step 2: usage import")
        results['import'] = bench_import(tryton, uri, args, end)
    results['summary'] = summary_records(import_summary_rows(results))
    print()
    for row in results['summary']:
        print("%s %s | %s %s | %.3f" % (row['figure'], _fmt(row['value']),
                row['baseline'], _fmt(row['baseline_value']), row['ratio']))
    write_results(results, args.results, 'billing')


def main(argv=None):
    args = parse_args(argv)
    uri = database_uri()
    end = args.cycle + relativedelta(months=1)
    results = describe_run(uri, 'billing', args,
        subscribers=args.subscribers, usage=args.usage,
        adjustments=args.adjustments, period_start=args.cycle,
        cycle_days=(end - args.cycle).days)

    with tempfile.TemporaryDirectory(prefix='crm-bench-') as workdir:
        config_file = write_config(uri, workdir)
        if args.reuse:
            log("undoing the bill run of %s" % args.cycle)
            undo_run(uri, args.database, args.cycle)
            tryton = Tryton(config_file, args.database)
        else:
            results['activation_seconds'] = create_database(
                uri, args.database, config_file, workdir)
            tryton = Tryton(config_file, args.database)
            log("generating %d subscribers, %d usage records of the cycle %s"
                % (args.subscribers, args.usage, args.cycle))
            results['generator'] = generate(tryton, args)
            settle(uri, args.database,
                list(results['generator']['rows_per_table']))
        with pg_connect(uri, args.database) as conn:
            results['cycle'] = describe_cycle(conn, args.cycle, end)
            if args.reuse:
                results['subscribers'], = conn.execute(
                    'SELECT COUNT(*) FROM telecom_subscriber').fetchone()
                results['usage'] = results['cycle']['usage']
        if args.skip_bill_run:
            return import_only(tryton, uri, args, end, results)
        log("step 1: baseline aggregation")
        totals, results['baseline'] = run_baseline(uri, args.database,
            args.cycle, end)
        tuned, results['baseline_tuned'] = run_baseline(uri, args.database,
            args.cycle, end, settings=TUNED)
        assert tuned == totals
        log("step 1: bill run")
        results['bill_run'] = bill_run(tryton, uri, args, end, config_file)
        results['check'] = check_bills(uri, args.database, args.cycle, end,
            totals)
        if args.import_rows:
            log("step 2: usage import")
            results['import'] = bench_import(tryton, uri, args, end)

    results['summary'] = summary_records(summary_rows(results))
    print_summary(results)
    write_results(results, args.results, 'billing')
    if results['check']['mismatches'] or not results['check']['sum_equal']:
        return 1


if __name__ == '__main__':
    sys.exit(main())
