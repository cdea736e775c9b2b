#!/usr/bin/env python3
"""Group member import benchmark of the telecom CRM on PostgreSQL.

    bench/run.sh group_import [--members 100000] [--rounds 3] [...]

or, with a PostgreSQL server and TRYTOND_DATABASE_URI set:

    .venv/bin/python bench/bench_group_import.py --members 10000

Measures the import of a CSV file of `--members` numbers into one group
customer through the code path of the wizard (crm_group_customer's
member_import.import_members, in one transaction as the group's account
manager with access checks on, commit included), against plain SQL doing
the same job in the same run on the same data: COPY of the file into a
temporary table, the same checks as joins (format, live line, company,
active membership, repetition, payment values), INSERT ... SELECT of the
members, commit. The members are deleted between the runs; both sides must
write the same members.

See bench/README.md for what each figure means.
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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

MEMBER = 'telecom_group_member'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--members', type=int, default=100_000,
        help="numbers in the imported file")
    parser.add_argument('--lines', type=int, default=None,
        help="lines to generate; default a fifth more than --members "
        "(some are terminated)")
    parser.add_argument('--rounds', type=int, default=3,
        help="imports through the ORM and through plain SQL, alternated")
    parser.add_argument('--seed', type=int, default=1,
        help="seed of the generator and of the sample")
    parser.add_argument('-d', '--database', default='bench_group_import',
        help="PostgreSQL database to (re)create")
    parser.add_argument('--reuse', action='store_true',
        help="skip the set-up and the generator: measure again on the "
        "database of a previous run (for developing the benchmark)")
    parser.add_argument('--profile', action='store_true',
        help="profile one ORM import (cProfile, top functions printed)")
    parser.add_argument('--results', default=str(ROOT / 'bench' / 'results'),
        help="directory of the JSON results")
    args = parser.parse_args(argv)
    if args.lines is None:
        args.lines = args.members * 6 // 5 + 100
    return args


# ---------------------------------------------------------------- data

def generate(tryton, args):
    "The lines, an account manager and the group they import into"
    from crm_group_customer.group import USCC_TYPE
    from crm_group_customer.tests.tools import valid_uscc
    from crm_telecom.tests.reference import load_reference
    from data import bulk
    from data.demo import create_companies, ensure_configuration
    started = time.perf_counter()

    def progress(stage, done, total):
        log("generator %s: %d / %d (%.0f s)" % (
                stage, done, total, time.perf_counter() - started))

    with tryton.transaction() as transaction:
        pool = tryton.Pool()
        Party = pool.get('party.party')
        Employee = pool.get('company.employee')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        company = create_companies()['gd']
        transaction.set_context(company=company.id)
        transaction.commit()
        ensure_configuration()
        load_reference()
        transaction.commit()
        counts = bulk.generate(args.lines, seed=args.seed, progress=progress)
        transaction.commit()
        party, = Party.create([{'name': "客户经理（基准）"}])
        employee, = Employee.create([{'party': party.id,
                    'company': company.id}])
        user, = User.create([{'login': 'bench_manager',
                    'groups': [('add', [ModelData.get_id('crm_telecom',
                                    'group_account_manager')])],
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    'employees': [('add', [employee.id])],
                    'employee': employee.id}])
        with transaction.set_context(telecom_customer=True,
                group_customer=True):
            group, = Party.create([{'name': "广东基准集团有限公司",
                        'group_customer': True,
                        'company': company.id,
                        'group_scope': 'province',
                        'identifiers': [('create', [{'type': USCC_TYPE,
                                        'code': valid_uscc(1)}])],
                        'account_manager': employee.id}])
        transaction.commit()
    return {'rows_per_table': counts,
        'seconds': time.perf_counter() - started}


def settle(uri, database, tables):
    "VACUUM ANALYZE: neither measured side pays for hint bits"
    with pg_connect(uri, database) as conn:
        for table in tables:
            conn.execute('VACUUM (ANALYZE) "%s"' % table)


def setting(uri, database):
    "The ids of the group, of its company and of the manager's user"
    with pg_connect(uri, database) as conn:
        group, company = conn.execute('SELECT id, company FROM party_party '
            'WHERE group_customer ORDER BY id LIMIT 1').fetchone()
        user, employee = conn.execute('SELECT id, employee FROM res_user '
            "WHERE login = 'bench_manager'").fetchone()
    return {'group': group, 'company': company, 'user': user,
        'employee': employee}


def member_file(uri, database, count, rng):
    """A CSV file of count numbers of live lines of the group's company,
    a header, one in four paid by the group, one in two of those capped;
    every row has its three cells, as a spreadsheet writes them"""
    with pg_connect(uri, database) as conn:
        numbers = [n for n, in conn.execute('SELECT n.number '
                'FROM telecom_subscriber s '
                'JOIN telecom_number n ON n.id = s.number '
                "WHERE s.state != 'terminated' ORDER BY s.id")]
    if len(numbers) < count:
        sys.exit("only %d live lines: generate more (--lines)"
            % len(numbers))
    rows = ['号码,集团统付,统付上限']
    for number in rng.sample(numbers, count):
        u = rng.random()
        if u < 0.125:
            rows.append('%s,是,%d' % (number, rng.choice([50, 100, 200])))
        elif u < 0.25:
            rows.append('%s,1,' % number)
        elif u < 0.5:
            rows.append('%s,0,' % number)
        else:
            rows.append('%s,,' % number)
    return ('\n'.join(rows) + '\n').encode('utf-8')


def undo(uri, database, group):
    with pg_connect(uri, database) as conn:
        conn.execute('DELETE FROM "%s" WHERE "group" = %%s' % MEMBER,
            (group,))
    settle(uri, database, [MEMBER])


def outcome(uri, database, group):
    "What a run wrote, to compare both sides"
    with pg_connect(uri, database) as conn:
        return conn.execute('SELECT COUNT(*), SUM(subscriber::bigint), '
            'SUM(paid_by_group::int), SUM(COALESCE(payment_cap, 0)), '
            "COUNT(*) FILTER (WHERE origin = 'import' AND state = 'active' "
            'AND company IS NOT NULL AND start_date IS NOT NULL) '
            'FROM "%s" WHERE "group" = %%s' % MEMBER, (group,)).fetchone()


# ---------------------------------------------------------------- the sides

def run_orm(tryton, ids, data, profile=False):
    "The wizard's entry point as the manager, commit included"
    from crm_group_customer.member_import import import_members
    context = {'company': ids['company'], 'employee': ids['employee'],
        '_check_access': True}
    profiler = None
    if profile:
        import cProfile
        profiler = cProfile.Profile()
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    with tryton.transaction(user=ids['user'], context=context) as transaction:
        Party = tryton.Pool().get('party.party')
        count, problems = import_members(Party(ids['group']), data)
        transaction.commit()
    elapsed = time.perf_counter() - start
    if profiler:
        import pstats
        profiler.disable()
        pstats.Stats(profiler).sort_stats('cumulative').print_stats(30)
    assert not problems, [p.text for p in problems[:10]]
    return elapsed, count


# the checks of member_import.MemberFile as joins; the file's columns as
# text, as COPY reads them
SQL_CHECKS = """
CREATE TEMPORARY TABLE bench_import (
    row_ SERIAL, number VARCHAR, paid VARCHAR, cap VARCHAR)
    ON COMMIT DROP;
COPY bench_import (number, paid, cap) FROM STDIN (FORMAT csv, HEADER);
"""
SQL_PROBLEMS = """
WITH f AS (
    SELECT i.row_, i.number,
        lower(COALESCE(i.paid, '')) AS paid, NULLIF(i.cap, '') AS cap,
        COUNT(*) OVER (PARTITION BY i.number) AS repeated
    FROM bench_import i),
l AS (
    SELECT f.*, s.id AS subscriber, s.company, m."group" AS member_of
    FROM f
    LEFT JOIN telecom_number n ON n.number = f.number
    LEFT JOIN telecom_subscriber s
        ON s.number = n.id AND s.state != 'terminated'
    LEFT JOIN telecom_group_member m
        ON m.subscriber = s.id AND m.state = 'active')
SELECT row_, number FROM l
WHERE number !~ '^1[3-9][0-9]{9}$'
    OR repeated > 1
    OR paid NOT IN ('', '0', '1', '是', '否', 'y', 'n', 'yes', 'no',
        'true', 'false')
    OR (cap IS NOT NULL AND (CASE WHEN cap ~ '^[0-9]+(\\.[0-9]{1,2})?$'
            THEN cap::NUMERIC <= 0 ELSE TRUE END
        OR paid IN ('', '0', '否', 'n', 'no', 'false')))
    OR subscriber IS NULL
    OR company != %(company)s
    OR member_of IS NOT NULL
"""
SQL_INSERT = """
INSERT INTO telecom_group_member ("group", subscriber, company, start_date,
    state, origin, paid_by_group, payment_cap, create_uid, create_date)
SELECT %(group)s, s.id, s.company, CURRENT_DATE, 'active', 'import',
    lower(COALESCE(i.paid, '')) IN ('1', '是', 'y', 'yes', 'true'),
    NULLIF(i.cap, '')::NUMERIC, %(user)s, now() AT TIME ZONE 'UTC'
FROM bench_import i
JOIN telecom_number n ON n.number = i.number
JOIN telecom_subscriber s ON s.number = n.id AND s.state != 'terminated'
"""


def run_sql(uri, database, ids, data):
    "The plain-SQL baseline: COPY, the checks, INSERT ... SELECT, commit"
    with pg_connect(uri, database, autocommit=False) as conn:
        cursor = conn.cursor()
        start = time.perf_counter()
        create, copy = [s.strip() for s in SQL_CHECKS.split(';')
            if s.strip()]
        cursor.execute(create)
        with cursor.copy(copy) as writer:
            writer.write(data)
        cursor.execute(SQL_PROBLEMS, ids)
        problems = cursor.fetchall()
        assert not problems, problems[:10]
        cursor.execute(SQL_INSERT, ids)
        count = cursor.rowcount
        conn.commit()
        elapsed = time.perf_counter() - start
    return elapsed, count


def bench_import(tryton, uri, args, ids, data):
    results = {'orm_seconds_all': [], 'sql_seconds_all': []}
    outcomes = {}
    undo(uri, args.database, ids['group'])
    for round_ in range(args.rounds):
        for side in ['orm', 'sql']:
            if side == 'orm':
                elapsed, count = run_orm(tryton, ids, data,
                    profile=args.profile and round_ == 0)
            else:
                elapsed, count = run_sql(uri, args.database, ids, data)
            assert count == args.members, (side, count)
            outcomes.setdefault(side, outcome(uri, args.database,
                    ids['group']))
            log("round %d, %s: %d members in %.3f s"
                % (round_ + 1, side, count, elapsed))
            results['%s_seconds_all' % side].append(elapsed)
            undo(uri, args.database, ids['group'])
    for side in ['orm', 'sql']:
        results['%s_seconds' % side] = statistics.median(
            results['%s_seconds_all' % side])
    results['same_outcome'] = outcomes['orm'] == outcomes['sql']
    results['outcome'] = outcomes['orm']
    results['file_bytes'] = len(data)
    return results


def summary_rows(results):
    run = results['import']
    return [("member import, %s numbers (s)" % format(results['members'],
                ','), run['orm_seconds'],
            "plain SQL: COPY, checks, INSERT ... SELECT", run['sql_seconds'],
            run['orm_seconds'] / run['sql_seconds'],
            "ORM / SQL (1 = as fast as SQL)")]


def print_summary(results):
    run = results['import']
    print()
    print("Group member import benchmark: %s numbers, %s lines, %s, "
        "trytond %s, %s" % (format(results['members'], ','),
            format(results['lines'], ','), results['postgresql'],
            results['trytond'], results['started']))
    print("runs (s): ORM %s; SQL %s; same members written: %s" % (
            ', '.join('%.3f' % t for t in run['orm_seconds_all']),
            ', '.join('%.3f' % t for t in run['sql_seconds_all']),
            run['same_outcome']))
    header = ('figure', 'value', 'baseline', 'baseline value', 'ratio')
    table = [header] + [(f, '%.3f' % v, b, '%.3f' % bv, '%.2f' % r)
        for f, v, b, bv, r, _ in summary_rows(results)]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    print()
    for i, row in enumerate(table):
        print(' | '.join(c.ljust(w) if j in (0, 2) else c.rjust(w)
                for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print('-+-'.join('-' * w for w in widths))
    print()
    print("ratio: ORM / plain SQL, lower is better (goal: 3 or less)")


def main(argv=None):
    args = parse_args(argv)
    uri = database_uri()
    rng = random.Random(args.seed)
    results = describe_run(uri, 'group_import', args, members=args.members,
        lines=args.lines)
    with tempfile.TemporaryDirectory(prefix='crm-bench-') as workdir:
        config_file = write_config(uri, workdir)
        if not args.reuse:
            results['activation_seconds'] = create_database(
                uri, args.database, config_file, workdir)
            tryton = Tryton(config_file, args.database)
            results['generator'] = generate(tryton, args)
            log("generated in %.0f s" % results['generator']['seconds'])
            settle(uri, args.database,
                list(results['generator']['rows_per_table']))
        else:
            tryton = Tryton(config_file, args.database)
        ids = setting(uri, args.database)
        data = member_file(uri, args.database, args.members, rng)
        log("importing %d numbers, %d rounds" % (args.members, args.rounds))
        results['import'] = bench_import(tryton, uri, args, ids, data)
    results['summary'] = summary_records(summary_rows(results))
    print_summary(results)
    write_results(results, args.results, 'group_import')
    if not results['import']['same_outcome']:
        return 1


if __name__ == '__main__':
    sys.exit(main())
