#!/usr/bin/env python3
"""Subscriber benchmark of the telecom CRM on PostgreSQL.

    bench/run.sh [--subscribers 1000000] [--seed 1] [...]

or, with a PostgreSQL server and TRYTOND_DATABASE_URI set:

    .venv/bin/python bench/bench_subscriber.py --subscribers 20000

Measures, each against a baseline measured in the same run on the same
database:

1. the suite's synthetic data generator (data/bulk.py::generate) in rows/s,
   against PostgreSQL COPY FROM STDIN of the same rows into empty clones;
2. finding a line by its number through the ORM (search + read of the list
   view fields, one transaction per call as an RPC does), against one plain
   SQL query (psycopg, same schema);
3. opening the customer 360° form through the ORM (read of the form fields,
   then of the rows of each One2Many list, as the web client does), against
   the equivalent handful of plain SQL queries.

See bench/README.md for what each figure means.
"""
import argparse
import configparser
import contextlib
import datetime as dt
import io
import json
import logging
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ADMIN_PASSWORD = 'bench-admin-password'
ADMIN_EMAIL = 'admin@bench.example.com'
# sao: Sao.config.limit = 1000 records per read, divided by the number of
# fields read (at most 10)
CLIENT_LIMIT = 1000


# every module of the suite: the generator writes opening movements
MODULES = ['crm_telecom', 'crm_provisioning', 'crm_billing', 'crm_dunning',
    'crm_service', 'crm_group_customer']

def log(message):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), message), file=sys.stderr,
        flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--subscribers', type=int, default=1_000_000,
        help="lines to generate")
    parser.add_argument('--seed', type=int, default=1,
        help="seed of the generator and of the samples")
    parser.add_argument('-d', '--database', default='crm_bench',
        help="PostgreSQL database to (re)create")
    parser.add_argument('--lookups', type=int, default=200,
        help="numbers looked up (step 3)")
    parser.add_argument('--customers', type=int, default=100,
        help="customers whose 360° view is opened (step 4)")
    parser.add_argument('--warmup', type=int, default=10,
        help="untimed iterations before steps 3 and 4")
    parser.add_argument('--reuse', action='store_true',
        help="skip steps 1 and 2 and measure lookups on the existing "
        "database (for developing the benchmark only)")
    parser.add_argument('--results', default=str(ROOT / 'bench' / 'results'),
        help="directory of the JSON results")
    return parser.parse_args(argv)


def database_uri():
    uri = os.environ.get('TRYTOND_DATABASE_URI')
    if not uri or not uri.startswith('postgresql'):
        sys.exit("TRYTOND_DATABASE_URI must be a postgresql:// URI "
            "(bench/run.sh sets it from bin/pg-up)")
    return uri


def pg_connect(uri, dbname, autocommit=True):
    return psycopg.connect(make_conninfo(uri, dbname=dbname),
        autocommit=autocommit)


def write_config(uri, directory):
    "The repository's trytond.conf with the database URI replaced"
    config = configparser.RawConfigParser()
    config.read(ROOT / 'trytond.conf')
    if not config.has_section('database'):
        config.add_section('database')
    config.set('database', 'uri', uri)
    config.remove_option('database', 'path')
    path = Path(directory) / 'trytond.conf'
    with open(path, 'w') as fp:
        config.write(fp)
    return str(path)


def summary_records(rows):
    "The summary rows (figure, value, baseline, its value, ratio, meaning)"
    return [{'figure': f, 'value': v, 'baseline': b, 'baseline_value': bv,
            'ratio': r, 'ratio_means': m} for f, v, b, bv, r, m in rows]


def write_results(results, directory, benchmark):
    "Every figure of a run, as JSON in directory, named by the time"
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    path = out / ('%s-%s.json'
        % (benchmark, dt.datetime.now().strftime('%Y%m%d-%H%M%S')))
    with open(path, 'w') as fp:
        json.dump(results, fp, indent=2, ensure_ascii=False, default=str)
    print("results written to %s" % path)


def percentile(values, p):
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    k = (len(values) - 1) * p / 100
    f = int(k)
    c = min(f + 1, len(values) - 1)
    return values[f] + (values[c] - values[f]) * (k - f)


def latency(values):
    "median and p95 in milliseconds"
    ms = [v * 1000 for v in values]
    return {
        'median_ms': statistics.median(ms),
        'p95_ms': percentile(ms, 95),
        'mean_ms': statistics.fmean(ms),
        'max_ms': max(ms),
        'n': len(ms),
        }


# ---------------------------------------------------------------- step 1

def create_database(uri, database, config_file, workdir):
    log("dropping and creating database %s" % database)
    with pg_connect(uri, 'postgres') as conn:
        conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % database)
        conn.execute("CREATE DATABASE \"%s\" TEMPLATE template0 "
            "ENCODING 'unicode'" % database)
    passfile = Path(workdir) / 'admin-password'
    passfile.write_text(ADMIN_PASSWORD + '\n')
    # the modules of this tree, ahead of those the virtualenv's editable
    # install points to (a worktree sharing another tree's virtualenv)
    pythonpath = os.pathsep.join(p for p in [str(ROOT),
            os.environ.get('PYTHONPATH')] if p)
    env = dict(os.environ, TRYTONPASSFILE=str(passfile),
        TRYTOND_DATABASE_URI=uri, PYTHONPATH=pythonpath)
    admin = Path(sys.executable).with_name('trytond-admin')
    command = [str(admin), '-c', config_file, '-d', database,
        '-u', *MODULES, '--activate-dependencies',
        '--email', ADMIN_EMAIL]
    log("activating the suite: %s" % ' '.join(command))
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, cwd=ROOT)
    return time.perf_counter() - start


def first_ids(conn, tables):
    result = {}
    for table in tables:
        value, = conn.execute(
            'SELECT COALESCE(MAX(id), 0) + 1 FROM "%s"' % table).fetchone()
        result[table] = value
    return result


GENERATED_TABLES = ['party_party', 'party_identifier', 'telecom_account',
    'telecom_number', 'telecom_subscriber', 'telecom_subscriber_plan',
    'telecom_subscriber_service']


def run_generator(config_file, database, subscribers, seed):
    from data.cli import open_database
    started = time.perf_counter()

    def progress(stage, done, total):
        log("generator %s: %d / %d (%.0f s)" % (
                stage, done, total, time.perf_counter() - started))

    with open_database(config_file, database) as transaction:
        from crm_telecom.tests.reference import load_reference
        from data.bulk import generate
        from data.demo import create_companies
        start = time.perf_counter()
        company = create_companies()['gd']
        transaction.set_context(company=company.id)
        load_reference()
        transaction.commit()
        reference_time = time.perf_counter() - start
        log("reference data loaded in %.1f s" % reference_time)
        started = start = time.perf_counter()
        counts = generate(subscribers, seed=seed, progress=progress)
        transaction.commit()
        elapsed = time.perf_counter() - start
    rows = sum(counts.values())
    log("generator: %d rows in %.1f s" % (rows, elapsed))
    return {
        'rows': rows,
        'rows_per_table': counts,
        'seconds': elapsed,
        'rows_per_s': rows / elapsed,
        'reference_seconds': reference_time,
        }


# ---------------------------------------------------------------- step 2

def copy_baseline(uri, database, first, counts):
    """Dump the generated rows to in-memory CSV, then time COPY FROM STDIN
    of all of them into empty clones (LIKE ... INCLUDING ALL), ANALYZE and
    COMMIT, as the generator ends with ANALYZE and its caller commits."""
    buffers = {}
    with pg_connect(uri, database) as conn:
        cursor = conn.cursor()
        for table in counts:
            buf = io.BytesIO()
            with cursor.copy('COPY (SELECT * FROM "%s" WHERE id >= %d '
                    'ORDER BY id) TO STDOUT (FORMAT csv)'
                    % (table, first[table])) as copy:
                for data in copy:
                    buf.write(data)
            buffers[table] = buf.getvalue()
            cursor.execute('DROP TABLE IF EXISTS "%s_copy"' % table)
            cursor.execute('CREATE TABLE "%s_copy" (LIKE "%s" INCLUDING ALL)'
                % (table, table))
        size = sum(len(b) for b in buffers.values())
        log("COPY baseline: %d MB of CSV in memory" % (size // 2 ** 20))

    with pg_connect(uri, database, autocommit=False) as conn:
        cursor = conn.cursor()
        start = time.perf_counter()
        for table, data in buffers.items():
            view = memoryview(data)
            with cursor.copy('COPY "%s_copy" FROM STDIN (FORMAT csv)'
                    % table) as copy:
                for i in range(0, len(view), 1 << 20):
                    copy.write(view[i:i + (1 << 20)])
        for table in buffers:
            cursor.execute('ANALYZE "%s_copy"' % table)
        conn.commit()
        elapsed = time.perf_counter() - start
        loaded = 0
        for table in buffers:
            value, = cursor.execute(
                'SELECT COUNT(*) FROM "%s_copy"' % table).fetchone()
            loaded += value
        for table in buffers:
            cursor.execute('DROP TABLE "%s_copy"' % table)
        conn.commit()
    rows = sum(counts.values())
    assert loaded == rows, (loaded, rows)
    log("COPY baseline: %d rows in %.1f s" % (rows, elapsed))
    return {
        'rows': rows,
        'seconds': elapsed,
        'rows_per_s': rows / elapsed,
        'csv_bytes': size,
        }


# ---------------------------------------------------------------- ORM side

class Tryton:
    """The suite's pool, loaded once; transactions as user 0 (a command)
    unless another user is given"""

    def __init__(self, config_file, database):
        from trytond import config
        config.update_etc(config_file)
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        self.Pool = Pool
        self.Transaction = Transaction
        self.database = database
        Pool.start()
        Pool(database).init()

    def transaction(self, user=0, readonly=False, context=None):
        return self.Transaction().start(self.database, user,
            readonly=readonly, context=context or {})


class Client:
    """Calls model methods the way trytond's RPC dispatcher does: one
    transaction per call, as the admin user, with access checks on and the
    user's preferences as context."""

    def __init__(self, config_file, database):
        from trytond import config
        config.update_etc(config_file)
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        self.Pool = Pool
        self.Transaction = Transaction
        self.database = database
        Pool.start()
        Pool(database).init()
        with Transaction().start(database, 0, readonly=True):
            User = Pool().get('res.user')
            self.user, = User.search([('login', '=', 'admin')])
            self.user = self.user.id
        with Transaction().start(database, self.user, readonly=True):
            User = Pool().get('res.user')
            self.context = User.get_preferences(context_only=True)
        self.context['_check_access'] = True
        self.views = {}

    def transaction(self, readonly=True):
        return self.Transaction().start(self.database, self.user,
            readonly=readonly, context=dict(self.context))

    def __call__(self, model, method, *args):
        with self.transaction():
            Model = self.Pool().get(model)
            result = getattr(Model, method)(*args)
            if method == 'search':
                result = [r.id for r in result]
            return result

    def view_fields(self, model, view_id=None, view_type='tree'):
        """Names the web client (sao Record.load) reads for a view: its
        fields, rec_name of relations, labels of eager selections, rec_name,
        _timestamp, _write and _delete; and the view itself."""
        key = (model, view_id, view_type)
        if key not in self.views:
            with self.transaction():
                Model = self.Pool().get(model)
                view = Model.fields_view_get(view_id=view_id,
                    view_type=view_type)
            names = []
            for name, desc in view['fields'].items():
                names.append(name)
                if desc['type'] in {'many2one', 'one2one', 'reference'}:
                    names.append(name + '.rec_name')
                elif (desc['type'] in {'selection', 'multiselection'}
                        and desc.get('loading', 'lazy') == 'eager'):
                    names.append(name + ':string')
            if 'rec_name' not in names:
                names.append('rec_name')
            names += ['_timestamp', '_write', '_delete']
            self.views[key] = (names, view)
        return self.views[key]

    def model_data(self, fs_id):
        module, name = fs_id.split('.')
        with self.transaction():
            ModelData = self.Pool().get('ir.model.data')
            return ModelData.get_id(module, name)

    def customer_view(self):
        """Fields of the 360° form and, for each One2Many/Many2Many of it,
        the relation and the fields of the list shown in it."""
        form_id = self.model_data('crm_telecom.customer_view_form')
        names, view = self.view_fields('party.party', form_id, 'form')
        arch = ET.fromstring(view['arch'])
        view_ids = {}
        for node in arch.iter('field'):
            if node.get('view_ids'):
                view_ids[node.get('name')] = node.get('view_ids').split(',')[0]
        lists = {}
        for name, desc in view['fields'].items():
            if desc['type'] not in {'one2many', 'many2many'}:
                continue
            relation = desc['relation']
            if name in view_ids:
                # fields_view_get has turned the XML ids into database ids
                sub_id = view_ids[name]
                sub_id = (int(sub_id) if sub_id.isdigit()
                    else self.model_data(sub_id))
                sub_names, _ = self.view_fields(relation, sub_id, 'tree')
            else:
                sub_names, _ = self.view_fields(relation, None, 'tree')
            lists[name] = (relation, sub_names)
        return names, lists


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


# ---------------------------------------------------------------- step 3

def sample_numbers(conn, count, rng):
    low, high = conn.execute(
        'SELECT MIN(id), MAX(id) FROM telecom_subscriber').fetchone()
    ids = rng.sample(range(low, high + 1), min(count, high - low + 1))
    rows = conn.execute('SELECT s.id, n.number FROM telecom_subscriber s '
        'JOIN telecom_number n ON n.id = s.number WHERE s.id = ANY(%s)',
        (ids,)).fetchall()
    by_id = dict(rows)
    return [(i, by_id[i]) for i in ids if i in by_id]


SQL_FIND = ('SELECT s.id FROM telecom_subscriber s '
    'JOIN telecom_number n ON n.id = s.number WHERE n.number = %s')


def bench_find(client, conn, samples, warmup):
    list_id = client.model_data('crm_telecom.subscriber_view_list')
    list_fields, _ = client.view_fields('telecom.subscriber', list_id, 'tree')

    def orm(number):
        ids = client('telecom.subscriber', 'search',
            [('rec_name', '=', number)], 0, CLIENT_LIMIT, None)
        search_done = time.perf_counter()
        rows = client('telecom.subscriber', 'read', ids, list_fields)
        return ids, rows, search_done

    def sql(number):
        return [r[0] for r in conn.execute(SQL_FIND, (number,))]

    for _, number in samples[:warmup]:
        orm(number)
        sql(number)
    orm_times, search_times, sql_times = [], [], []
    for i, (sid, number) in enumerate(samples[warmup:]):
        # alternate which side runs first so neither always gets the
        # buffers the other warmed
        order = [0, 1] if i % 2 == 0 else [1, 0]
        for side in order:
            if side == 0:
                start = time.perf_counter()
                ids, rows, search_done = orm(number)
                orm_times.append(time.perf_counter() - start)
                search_times.append(search_done - start)
                assert sid in ids, (number, sid, ids)
                assert any(r['id'] == sid
                    and r['number.']['rec_name'] == number
                    for r in rows), (number, rows)
            else:
                elapsed, ids = timed(sql, number)
                sql_times.append(elapsed)
                assert sid in ids, (number, sid, ids)
    return orm, {
        'orm': latency(orm_times),
        'orm_search_only': latency(search_times),
        'sql': latency(sql_times),
        'domain': "[('rec_name', '=', number)]",
        'list_fields': list_fields,
        'sql_query': SQL_FIND,
        }


# ---------------------------------------------------------------- step 4

def sample_customers(conn, count, rng):
    low, high = conn.execute(
        'SELECT MIN(id), MAX(id) FROM telecom_subscriber').fetchone()
    ids = rng.sample(range(low, high + 1), min(count * 2, high - low + 1))
    rows = conn.execute('SELECT DISTINCT customer FROM telecom_subscriber '
        'WHERE id = ANY(%s)', (ids,)).fetchall()
    customers = sorted(r[0] for r in rows)
    rng.shuffle(customers)
    return customers[:count]


# The equivalent of the 360° form in plain SQL: the header with its computed
# fields, then the rows of each list with the names of what they point to.
SQL_360 = [
    ('party', 'SELECT p.id, p.name, p.code, p.telecom_level, p.credit_level, '
        'p.region, r.name, p.blacklisted, p.blacklist_reason, p.extra, '
        'p.create_date, p.write_date '
        'FROM party_party p LEFT JOIN telecom_region r ON r.id = p.region '
        'WHERE p.id = %(party)s'),
    ('identity_code', "SELECT code FROM party_identifier "
        "WHERE party = %(party)s AND type = 'cn_ric' ORDER BY id DESC LIMIT 1"),
    ('line_count', "SELECT COUNT(*) FROM telecom_subscriber "
        "WHERE customer = %(party)s AND state != 'terminated'"),
    ('total_balance', "SELECT SUM(balance) FROM telecom_account "
        "WHERE payer = %(party)s AND state != 'closed' "
        "AND balance IS NOT NULL"),
    ('subscribers', 'SELECT s.id, n.number, c.name, b.name, t.name, a.code, '
        'r.name, s.activation_date, s.state '
        'FROM telecom_subscriber s '
        'JOIN telecom_number n ON n.id = s.number '
        'JOIN party_party c ON c.id = s.customer '
        'JOIN telecom_brand b ON b.id = s.brand '
        'JOIN product_template t ON t.id = s.plan '
        'JOIN telecom_account a ON a.id = s.account '
        'LEFT JOIN telecom_region r ON r.id = s.region '
        'WHERE s.customer = %(party)s ORDER BY s.id DESC LIMIT 100'),
    ('telecom_accounts', 'SELECT a.id, a.code, a.name, p.name, '
        'a.payment_type, a.balance, a.credit_limit, a.bill_cycle_day, '
        'a.state FROM telecom_account a '
        'JOIN party_party p ON p.id = a.payer '
        'WHERE a.payer = %(party)s ORDER BY a.code DESC, a.id LIMIT 100'),
    ('open_orders', "SELECT o.id, o.code, o.type, c.name, o.subscriber, "
        "n.number, t.name, o.submitted_at, o.state FROM telecom_order o "
        "JOIN party_party c ON c.id = o.customer "
        "LEFT JOIN telecom_number n ON n.id = o.number "
        "LEFT JOIN product_template t ON t.id = o.plan "
        "WHERE o.customer = %(party)s "
        "AND o.state IN ('draft', 'submitted', 'provisioning') "
        "ORDER BY o.id DESC LIMIT 100"),
    ('subscriber_events', 'SELECT e.id, e.date, n.number, e.type, '
        'e.from_state, e.to_state, e.service, u.name, e."order", e.reason '
        'FROM telecom_subscriber_event e '
        'JOIN telecom_subscriber s ON s.id = e.subscriber '
        'JOIN telecom_number n ON n.id = s.number '
        'LEFT JOIN res_user u ON u.id = e."user" '
        'WHERE s.customer = %(party)s '
        'ORDER BY e.date DESC, e.id DESC LIMIT 100'),
    ('identifiers', 'SELECT id, type, code FROM party_identifier '
        'WHERE party = %(party)s ORDER BY sequence, id'),
    ('contact_mechanisms', 'SELECT id, type, value, name, comment '
        'FROM party_contact_mechanism WHERE party = %(party)s '
        'ORDER BY sequence, id'),
    ('addresses', 'SELECT a.id, a.party_name, a.street_unstructured, '
        'a.postal_code, a.city, a.country, a.subdivision FROM party_address a '
        'WHERE a.party = %(party)s ORDER BY a.sequence, a.id'),
    ]


def bench_customer(client, conn, customers, warmup):
    form_fields, lists = client.customer_view()

    def orm(party_id):
        row, = client('party.party', 'read', [party_id], form_fields)
        reads = 0
        for name, (relation, fields) in lists.items():
            ids = row.get(name) or []
            limit = CLIENT_LIMIT // min(len(fields), 10)
            if ids:
                client(relation, 'read', ids[:limit], fields)
                reads += 1
        return row, reads

    def sql(party_id):
        result = {}
        for name, query in SQL_360:
            result[name] = conn.execute(query, {'party': party_id}).fetchall()
        return result

    for party_id in customers[:warmup]:
        orm(party_id)
        sql(party_id)
    orm_times, sql_times, list_reads = [], [], []
    for i, party_id in enumerate(customers[warmup:]):
        order = [0, 1] if i % 2 == 0 else [1, 0]
        for side in order:
            if side == 0:
                elapsed, (row, reads) = timed(orm, party_id)
                orm_times.append(elapsed)
                list_reads.append(reads)
            else:
                elapsed, result = timed(sql, party_id)
                sql_times.append(elapsed)
        # both sides saw the same customer
        assert row['line_count'] == result['line_count'][0][0], (
            party_id, row['line_count'], result['line_count'])
        assert len(row['subscribers']) == len(result['subscribers'])
    return orm, {
        'orm': latency(orm_times),
        'sql': latency(sql_times),
        'orm_calls_per_view': 1 + statistics.fmean(list_reads),
        'sql_queries_per_view': len(SQL_360),
        'form_fields': form_fields,
        'lists': {k: {'model': m, 'fields': f}
            for k, (m, f) in lists.items()},
        }


# ---------------------------------------------------------------- diagnostics

class _QueryLog(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.queries = []

    def emit(self, record):
        self.queries.append(record.getMessage())


@contextlib.contextmanager
def capture_queries():
    "Collect the SQL statements trytond's cursor executes (debug log)"
    logger = logging.getLogger('trytond.backend.postgresql.database')
    handler = _QueryLog()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield handler.queries
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


SCAN_NODES = {'Seq Scan', 'Index Scan', 'Index Only Scan',
    'Bitmap Heap Scan'}


def explain(conn, query, threshold):
    """Execution time of a SELECT and the scans in its plan that read at
    least `threshold` rows of one table"""
    plan, = conn.execute(
        'EXPLAIN (ANALYZE, FORMAT JSON) ' + query).fetchone()[0]
    scans = []

    def walk(node):
        if node['Node Type'] in SCAN_NODES:
            rows = (node.get('Actual Rows', 0)
                + node.get('Rows Removed by Filter', 0)
                + node.get('Rows Removed by Index Recheck', 0)
                ) * node.get('Actual Loops', 1)
            if rows >= threshold:
                scans.append({'node': node['Node Type'],
                        'table': node.get('Relation Name'),
                        'index': node.get('Index Name'),
                        'rows_read': int(rows)})
        for child in node.get('Plans', []):
            walk(child)
    walk(plan['Plan'])
    return plan['Execution Time'], scans


def diagnose(conn, queries, threshold):
    """Count the statements, EXPLAIN ANALYZE the SELECTs and keep the slow
    ones and those that read many rows"""
    selects = [q for q in queries
        if q.lstrip().upper().startswith(('SELECT', 'WITH'))]
    explained = []
    for query in selects:
        try:
            ms, scans = explain(conn, query, threshold)
        except psycopg.Error as exception:
            # e.g. a statement that only makes sense inside its transaction
            explained.append({'query': query, 'error': str(exception)})
            continue
        explained.append({'query': query, 'ms': ms, 'scans': scans})
    timed_ = [e for e in explained if 'ms' in e]
    timed_.sort(key=lambda e: e['ms'], reverse=True)
    return {
        'statements': len(queries),
        'selects': len(selects),
        'sql_ms_total': sum(e['ms'] for e in timed_),
        'slowest': [dict(e, query=e['query'][:2000]) for e in timed_[:5]],
        'large_scans': [dict(e, query=e['query'][:2000])
            for e in timed_ if e['scans']],
        }


def run_diagnostics(client, conn, number, party_id, find_call, view_call):
    """One find and one 360° view again with the SQL captured: how many
    statements the ORM runs and which of them read many rows"""
    threshold = 1000
    result = {'threshold_rows': threshold}
    with capture_queries() as queries:
        find_call(number)
    result['find_subscriber'] = diagnose(conn, queries, threshold)
    with capture_queries() as queries:
        view_call(party_id)
    result['customer_360'] = diagnose(conn, queries, threshold)
    result['sql_baseline'] = {}
    for name, query, params in (
            [('find_subscriber', SQL_FIND, (number,))]
            + [('360_' + n, q, {'party': party_id}) for n, q in SQL_360]):
        query = psycopg.ClientCursor(conn).mogrify(query, params)
        ms, scans = explain(conn, query, threshold)
        result['sql_baseline'][name] = {'ms': ms, 'scans': scans}
    return result


def _from_clause(query, size=400):
    "The query from its first FROM on (the column list is long and dull)"
    query = ' '.join(query.split())
    index = query.find(' FROM "')
    return ('... ' + query[index + 1:] if index > 0 else query)[:size]


def print_diagnostics(diagnostics):
    print()
    print("Diagnostics (one more call of each, SQL captured and EXPLAIN "
        "ANALYZEd; scans reading >= %d rows are listed):"
        % diagnostics['threshold_rows'])
    for key, label in [('find_subscriber', 'find line by number'),
            ('customer_360', 'open customer 360° view')]:
        d = diagnostics[key]
        print("- %s (ORM): %d SQL statements, %d SELECTs taking %.1f ms in "
            "PostgreSQL" % (label, d['statements'], d['selects'],
                d['sql_ms_total']))
        for e in d['large_scans']:
            for scan in e['scans']:
                print("    %s on %s%s read %s rows (%.1f ms): %s" % (
                        scan['node'], scan['table'],
                        ' using ' + scan['index'] if scan['index'] else '',
                        format(scan['rows_read'], ','), e['ms'],
                        _from_clause(e['query'])))
    for name, d in diagnostics['sql_baseline'].items():
        for scan in d['scans']:
            print("- baseline %s: %s on %s read %s rows (%.1f ms)" % (
                    name, scan['node'], scan['table'],
                    format(scan['rows_read'], ','), d['ms']))


# ---------------------------------------------------------------- report

def summary_rows(results):
    rows = []
    gen, copy = results.get('generator'), results.get('copy_baseline')
    if gen and copy:
        rows.append(("generator throughput (rows/s)",
                gen['rows_per_s'], "COPY FROM STDIN", copy['rows_per_s'],
                gen['rows_per_s'] / copy['rows_per_s'],
                "generator / COPY (1 = as fast as COPY)"))
    find = results['find_subscriber']
    for key, label in [('median_ms', 'median'), ('p95_ms', 'p95')]:
        rows.append(("find line by number, %s (ms)" % label,
                find['orm'][key], "plain SQL query", find['sql'][key],
                find['orm'][key] / find['sql'][key],
                "ORM / SQL (1 = as fast as SQL)"))
    rows.append(("  of which search() only, median (ms)",
            find['orm_search_only']['median_ms'], "plain SQL query",
            find['sql']['median_ms'],
            find['orm_search_only']['median_ms'] / find['sql']['median_ms'],
            "ORM / SQL"))
    c360 = results['customer_360']
    for key, label in [('median_ms', 'median'), ('p95_ms', 'p95')]:
        rows.append(("open customer 360° view, %s (ms)" % label,
                c360['orm'][key], "%d SQL queries" % len(SQL_360),
                c360['sql'][key], c360['orm'][key] / c360['sql'][key],
                "ORM / SQL (1 = as fast as SQL)"))
    return rows


def print_summary(results):
    rows = summary_rows(results)
    print()
    print("Subscriber benchmark: %s subscribers, %s, trytond %s, %s" % (
            format(results['subscribers'], ','), results['postgresql'],
            results['trytond'], results['started']))
    if 'generator' in results:
        gen = results['generator']
        print("generated rows: %s in %.1f s (%s); module activation %.1f s" % (
                format(gen['rows'], ','), gen['seconds'],
                ', '.join('%s %s' % (t, format(n, ','))
                    for t, n in gen['rows_per_table'].items()),
                results['activation_seconds']))
    header = ('figure', 'value', 'baseline', 'baseline value', 'ratio')
    table = [header] + [(f, '%.1f' % v if v < 10_000 else format(round(v), ','),
            b, '%.2f' % bv if bv < 10_000 else format(round(bv), ','),
            '%.3f' % r) for f, v, b, bv, r, _ in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    sep = '-+-'.join('-' * w for w in widths)
    for i, row in enumerate(table):
        print(' | '.join(c.ljust(w) if j in (0, 2) else c.rjust(w)
                for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print(sep)
    print()
    print("ratio: generator/COPY for throughput (higher is better, 1 = COPY);"
        " ORM/SQL for latencies (lower is better, 1 = plain SQL)")


def describe_run(uri, benchmark, args, **figures):
    "The head of a results file: what ran, on what, with which sizes"
    import trytond
    results = {
        'benchmark': benchmark,
        'started': dt.datetime.now().isoformat(timespec='seconds'),
        **figures,
        'seed': args.seed,
        'database': args.database,
        'trytond': trytond.__version__,
        'python': platform.python_version(),
        'cpus': os.cpu_count(),
        }
    with pg_connect(uri, 'postgres') as conn:
        results['postgresql'] = 'PostgreSQL ' + conn.execute(
            'SHOW server_version').fetchone()[0]
    return results


def main(argv=None):
    args = parse_args(argv)
    uri = database_uri()
    rng = random.Random(args.seed)
    results = describe_run(uri, 'subscriber', args,
        subscribers=args.subscribers)

    with tempfile.TemporaryDirectory(prefix='crm-bench-') as workdir:
        config_file = write_config(uri, workdir)
        if not args.reuse:
            results['activation_seconds'] = create_database(
                uri, args.database, config_file, workdir)
            with pg_connect(uri, args.database) as conn:
                first = first_ids(conn, GENERATED_TABLES)
            log("step 1: generating %d subscribers" % args.subscribers)
            results['generator'] = run_generator(config_file, args.database,
                args.subscribers, args.seed)
            log("step 2: COPY baseline")
            results['copy_baseline'] = copy_baseline(uri, args.database,
                first, results['generator']['rows_per_table'])
        else:
            results['subscribers'] = None

        client = Client(config_file, args.database)
        with pg_connect(uri, args.database) as conn:
            if args.reuse:
                results['subscribers'], = conn.execute(
                    'SELECT COUNT(*) FROM telecom_subscriber').fetchone()
            log("step 3: find a line by number (%d lookups)" % args.lookups)
            samples = sample_numbers(conn, args.lookups + args.warmup, rng)
            find_call, results['find_subscriber'] = bench_find(
                client, conn, samples, args.warmup)
            log("step 4: customer 360° view (%d customers)" % args.customers)
            customers = sample_customers(conn,
                args.customers + args.warmup, rng)
            view_call, results['customer_360'] = bench_customer(
                client, conn, customers, args.warmup)
            log("diagnostics")
            results['diagnostics'] = run_diagnostics(client, conn,
                samples[-1][1], customers[-1], find_call, view_call)

    results['summary'] = summary_records(summary_rows(results))
    print_summary(results)
    print_diagnostics(results['diagnostics'])
    write_results(results, args.results, 'subscriber')


if __name__ == '__main__':
    sys.exit(main())
