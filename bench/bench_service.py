#!/usr/bin/env python3
"""Service benchmark of the telecom CRM on PostgreSQL.

    bench/run.sh service [--requests 1000000] [--open 200000] [...]

or, with a PostgreSQL server and TRYTOND_DATABASE_URI set:

    .venv/bin/python bench/bench_service.py --requests 20000 --open 4000

Measures, each against a baseline measured in the same run on the same
database:

1. the escalation cron (telecom.service_request|escalate: reminders before
   the deadline, escalations to supervisors then directors after it, with
   their events and notifications) over the open requests, against plain
   SQL doing the same updates and event inserts (one data-modifying
   statement per step); both sides run on the same rows, undone in
   between, and must change the same rows the same way;
2. the supervisor board's query (the act_window "Requests near or past
   Deadline" with its first tab: search with limit 80, then the count when
   the page is full, as sao does on opening, each call in its own
   transaction like an RPC), and the counters of its tabs, for a
   supervisor of one team and a director of five, against plain SQL with
   the same WHERE and ORDER.

See bench/README.md for what each figure means.
"""
import argparse
import datetime as dt
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
    capture_queries,
    create_database,
    database_uri,
    describe_run,
    latency,
    log,
    pg_connect,
    summary_records,
    write_config,
    write_results,
)

REQUEST = 'telecom_service_request'
EVENT = 'telecom_service_request_event'
TEAM = 'telecom_service_team'
TYPES = [('complaint', 35), ('consultation', 30), ('fault', 15),
    ('business', 15), ('suggestion', 5)]
CHANNELS = ['business_hall', 'call_centre', 'online', 'sms_hall', 'app']
# the open requests by where their clock stands at the bench's moment;
# the due ones are what one run of the cron has to do
OPEN_MIX = [
    ('running', 75),            # reminder ahead
    ('due_reminder', 5),        # reminder moment passed, not reminded
    ('reminded', 8),            # reminded, deadline ahead
    ('due_supervisor', 2),      # deadline passed, not escalated
    ('supervisor', 6),          # escalated to the supervisor
    ('due_director', 1),        # the director's moment passed
    ('director', 3),            # escalated to the director
    ]
# what the other requests are, in shares of them
CLOSED_MIX = [('closed', 86), ('resolved', 10), ('waiting', 3),
    ('merged', 1)]
# a cron run sees what passed since the last run, 15 minutes ago
CRON_INTERVAL = dt.timedelta(minutes=15)
DIRECTOR_AFTER = dt.timedelta(hours=8)
REMIND_BEFORE = dt.timedelta(hours=2)
# sao: a list shows 80 records; the count of a full page is limited to
# 100 pages, the counts of the tabs to 1000
CLIENT_LIMIT = 80
PAGE_COUNT_LIMIT = CLIENT_LIMIT * 100
TAB_COUNT_LIMIT = 1000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--requests', type=int, default=1_000_000,
        help="service requests to generate (the board's table)")
    parser.add_argument('--open', type=int, default=None,
        help="of which open (the cron's); default a fifth")
    parser.add_argument('--lines', type=int, default=20_000,
        help="lines (and two thirds as many customers) to generate")
    parser.add_argument('--teams', type=int, default=50,
        help="service teams; a director directs five")
    parser.add_argument('--agents', type=int, default=20,
        help="agents per team")
    parser.add_argument('--rounds', type=int, default=3,
        help="runs of the cron and of its baseline (step 1)")
    parser.add_argument('--lookups', type=int, default=30,
        help="openings of the board per user (step 2)")
    parser.add_argument('--warmup', type=int, default=5,
        help="untimed openings before step 2")
    parser.add_argument('--seed', type=int, default=1,
        help="seed of the generators")
    parser.add_argument('-d', '--database', default='bench_service',
        help="PostgreSQL database to (re)create")
    parser.add_argument('--reuse', action='store_true',
        help="skip the set-up and the generator: measure again on the "
        "database of a previous run (for developing the benchmark)")
    parser.add_argument('--results', default=str(ROOT / 'bench' / 'results'),
        help="directory of the JSON results")
    args = parser.parse_args(argv)
    if args.open is None:
        args.open = args.requests // 5
    if not 0 < args.open <= args.requests:
        parser.error("--open must be between 1 and --requests")
    return args


def pick(rng, mix):
    keys = [k for k, _ in mix]
    weights = [w for _, w in mix]
    return lambda: rng.choices(keys, weights)[0]


# ---------------------------------------------------------------- data

def create_staff(args, company):
    """Teams with their agents, a supervisor each and a director for five,
    every one a user working as an employee (the cron notifies them)"""
    from trytond.pool import Pool
    pool = Pool()
    Party = pool.get('party.party')
    Employee = pool.get('company.employee')
    User = pool.get('res.user')
    Team = pool.get('telecom.service.team')
    ModelData = pool.get('ir.model.data')
    call_centre = ModelData.get_id('crm_telecom', 'group_call_centre')
    supervisors = ModelData.get_id('crm_service', 'group_service_supervisor')
    people = []
    n_directors = max(1, args.teams // 5)
    for d in range(n_directors):
        people.append(('director%02d' % d, "客服总监%02d" % d, supervisors))
    for t in range(args.teams):
        people.append(('supervisor%02d' % t, "班长%02d" % t, supervisors))
        for a in range(args.agents):
            people.append(('agent%02d_%02d' % (t, a), "客服%02d-%02d" % (t, a),
                    call_centre))
    parties = Party.create([{'name': name} for _, name, _ in people])
    employees = Employee.create([{'party': p.id, 'company': company.id}
            for p in parties])
    User.create([{'login': login, 'name': name,
                'groups': [('add', [group])],
                'companies': [('add', [company.id])], 'company': company.id,
                'employees': [('add', [e.id])], 'employee': e.id}
            for (login, name, group), e in zip(people, employees)])
    by_login = {login: e.id for (login, _, _), e in zip(people, employees)}
    teams = Team.create([{
                'code': 'T%02d' % t, 'name': "热线%02d组" % t,
                'company': company.id,
                'supervisor': by_login['supervisor%02d' % t],
                'director': by_login['director%02d' % (t % n_directors)],
                'members': [('add', [by_login['agent%02d_%02d' % (t, a)]
                            for a in range(args.agents)])],
                } for t in range(args.teams)])
    return [{
            'id': team.id, 'supervisor': team.supervisor.id,
            'director': team.director.id,
            'agents': [by_login['agent%02d_%02d' % (t, a)]
                for a in range(args.agents)],
            } for t, team in enumerate(teams)]


def create_sla():
    "The office calendar and a policy per type and tier"
    from trytond.pool import Pool
    pool = Pool()
    Calendar = pool.get('telecom.service.calendar')
    SLA = pool.get('telecom.service.sla')
    Configuration = pool.get('telecom.configuration')
    calendar, = Calendar.create([{'name': "客服工作日",
                'hours': [('create', [{'weekday': str(d),
                                'from_time': dt.time(9),
                                'to_time': dt.time(21)} for d in range(7)])],
                }])
    configuration = Configuration(1)
    configuration.service_calendar = calendar
    configuration.save()
    policies = {}
    for type_, _ in TYPES:
        for level, hours in [(None, 24), ('gold', 12), ('diamond', 4)]:
            policy, = SLA.create([{'name': '%s %s' % (type_, level or ''),
                        'request_type': type_, 'customer_level': level,
                        'resolve_hours': hours, 'remind_hours': 2,
                        'supervisor_hours': 0, 'director_hours': 8}])
            policies[type_, level] = policy
    return policies


def generate(tryton, args):
    from crm_telecom.bulk import BulkWriter
    from crm_telecom.tests.reference import load_reference
    from data import bulk
    from data.demo import create_companies, ensure_configuration
    rng = random.Random(args.seed)
    started = time.perf_counter()

    def progress(stage, done, total):
        log("generator %s: %d / %d (%.0f s)" % (
                stage, done, total, time.perf_counter() - started))

    with tryton.transaction() as transaction:
        pool = tryton.Pool()
        Request = pool.get('telecom.service_request')
        Event = pool.get('telecom.service_request.event')
        company = create_companies()['gd']
        transaction.set_context(company=company.id)
        transaction.commit()
        ensure_configuration()
        load_reference()
        transaction.commit()
        counts = bulk.generate(args.lines, seed=args.seed, progress=progress)
        transaction.commit()
        log("staff, calendar and policies")
        teams = create_staff(args, company)
        policies = create_sla()
        transaction.commit()

        cursor = transaction.connection.cursor()
        cursor.execute('SELECT p.id, p.telecom_level FROM party_party p '
            'WHERE EXISTS (SELECT 1 FROM telecom_subscriber s '
            'WHERE s.customer = p.id)')
        customers = cursor.fetchall()
        now = dt.datetime.now().replace(microsecond=0)
        cursor.execute('CREATE TABLE bench_service_clock (now TIMESTAMP)')
        cursor.execute('INSERT INTO bench_service_clock VALUES (%s)', (now,))

        columns = ['code', 'company', 'type', 'channel', 'priority',
            'regulator', 'subject', 'customer', 'owner', 'team', 'state',
            'customer_confirmed', 'resolved_at', 'closed_at', 'sla_policy',
            'sla_hours', 'sla_started_at', 'sla_paused_hours', 'paused_at',
            'deadline', 'remind_at', 'supervisor_at', 'director_at',
            'reminded', 'escalation_level', 'escalated_to', 'escalated_at',
            'sla_met']
        requests = BulkWriter(Request, columns, ids=True)
        events = BulkWriter(Event, ['request', 'date', 'kind', 'company'])
        open_kind = pick(rng, OPEN_MIX)
        other_state = pick(rng, CLOSED_MIX)
        request_type = pick(rng, TYPES)
        hour = dt.timedelta(hours=1)

        def moments(kind):
            "deadline, remind_at, supervisor_at, director_at, reminded, level"
            u = rng.random
            if kind == 'running':
                remind = now + dt.timedelta(minutes=1 + u() * 48 * 60)
            elif kind == 'due_reminder':
                remind = now - CRON_INTERVAL * u()
            elif kind == 'reminded':
                remind = now - CRON_INTERVAL - (REMIND_BEFORE
                    - CRON_INTERVAL) * u()
            elif kind == 'due_supervisor':
                remind = now - CRON_INTERVAL * u() - REMIND_BEFORE
            elif kind == 'supervisor':
                remind = (now - CRON_INTERVAL - (DIRECTOR_AFTER
                        - 2 * CRON_INTERVAL) * u() - REMIND_BEFORE)
            elif kind == 'due_director':
                remind = (now - CRON_INTERVAL * u() - DIRECTOR_AFTER
                    - REMIND_BEFORE)
            else:
                remind = (now - DIRECTOR_AFTER - REMIND_BEFORE
                    - CRON_INTERVAL - u() * 72 * hour)
            deadline = remind + REMIND_BEFORE
            level = {'supervisor': 1, 'due_director': 1, 'director': 2}.get(
                kind, 0)
            return (deadline, remind, deadline, deadline + DIRECTOR_AFTER,
                kind not in {'running', 'due_reminder'}, level)

        total, done = args.requests, 0
        n_open = args.open
        batch = 50_000
        log("generating %d requests (%d open)" % (total, n_open))
        while done < total:
            rows, event_rows = [], []
            for i in range(done, min(done + batch, total)):
                team = teams[rng.randrange(len(teams))]
                owner = rng.choice(team['agents'])
                customer, level = customers[rng.randrange(len(customers))]
                type_ = request_type()
                policy = policies.get((type_, level)) or policies[type_, None]
                if i < n_open:
                    state, kind = 'open', open_kind()
                else:
                    state, kind = other_state(), 'running'
                (deadline, remind, supervisor_at, director_at, reminded,
                    level_) = moments(kind)
                started_at = deadline - dt.timedelta(
                    hours=policy.resolve_hours)
                resolved_at = closed_at = paused_at = None
                escalated_to = escalated_at = None
                sla_met = False
                if state in {'resolved', 'closed', 'merged', 'waiting'}:
                    # done or waiting some days ago
                    shift = dt.timedelta(days=1 + rng.random() * 180)
                    started_at -= shift
                    deadline -= shift
                    supervisor_at -= shift
                    director_at -= shift
                    reminded, level_ = rng.random() < 0.2, 0
                    paused_at = deadline - hour * rng.random() * 4
                    if state in {'resolved', 'closed'}:
                        resolved_at = paused_at + hour * (
                            rng.random() * 5 if rng.random() < 0.1 else 0)
                        sla_met = resolved_at <= deadline
                        if state == 'closed':
                            closed_at = resolved_at + dt.timedelta(days=1)
                if level_:
                    escalated_to = (team['supervisor'] if level_ == 1
                        else team['director'])
                    escalated_at = supervisor_at if level_ == 1 else (
                        director_at)
                if state != 'open':
                    # the clock stands still
                    remind = supervisor_at = director_at = None
                rows.append((
                        'SRB%09d' % i, company.id, type_,
                        CHANNELS[i % len(CHANNELS)], 'normal',
                        False, "话费查询", customer, owner, team['id'],
                        state, state == 'closed', resolved_at, closed_at,
                        policy.id, policy.resolve_hours, started_at, 0.0,
                        paused_at, deadline, remind, supervisor_at,
                        director_at, reminded, level_, escalated_to,
                        escalated_at, sla_met))
            ids = requests.write(rows)
            for id_, row in zip(ids, rows):
                event_rows.append((id_, row[16], 'created', company.id))
            events.write(event_rows)
            done += len(rows)
            progress('requests', done, total)
        transaction.commit()
        counts.update({REQUEST: requests.rows, EVENT: events.rows})
    return {'rows_per_table': counts,
        'seconds': time.perf_counter() - started, 'now': now}


def settle(uri, database, tables):
    "VACUUM ANALYZE: neither measured side pays for hint bits"
    with pg_connect(uri, database) as conn:
        for table in tables:
            conn.execute('VACUUM (ANALYZE) "%s"' % table)


def bench_now(uri, database):
    with pg_connect(uri, database) as conn:
        return conn.execute(
            'SELECT now FROM bench_service_clock').fetchone()[0]


# ---------------------------------------------------------------- step 1

DUE = """state = 'open' AND ((NOT reminded AND remind_at < deadline
        AND remind_at <= %(now)s)
    OR (escalation_level = 0 AND supervisor_at <= %(now)s)
    OR (escalation_level < 2 AND director_at <= %(now)s))"""


def save_due(uri, database, now):
    """Keep what the cron changes on the rows it will change, to undo it
    between the runs"""
    with pg_connect(uri, database) as conn:
        conn.execute('DROP TABLE IF EXISTS bench_service_saved')
        conn.execute('CREATE TABLE bench_service_saved AS SELECT id, '
            'reminded, escalation_level, escalated_to, escalated_at, '
            'write_uid, write_date FROM "%s" WHERE %s' % (REQUEST, DUE),
            {'now': now})
        due = {}
        for name, condition in [
                ('reminders', "NOT reminded AND remind_at < deadline "
                    "AND remind_at <= %(now)s"),
                ('supervisor', "escalation_level = 0 "
                    "AND supervisor_at <= %(now)s"),
                ('director', "escalation_level < 2 "
                    "AND director_at <= %(now)s")]:
            due[name], = conn.execute('SELECT COUNT(*) FROM "%s" WHERE '
                "state = 'open' AND %s" % (REQUEST, condition),
                {'now': now}).fetchone()
        due['open'], = conn.execute('SELECT COUNT(*) FROM "%s" '
            "WHERE state = 'open'" % REQUEST).fetchone()
        last_event, = conn.execute(
            'SELECT MAX(id) FROM "%s"' % EVENT).fetchone()
        last_notification, = conn.execute(
            'SELECT COALESCE(MAX(id), 0) FROM res_notification').fetchone()
    return due, last_event, last_notification


def undo(uri, database, last_event, last_notification):
    with pg_connect(uri, database, autocommit=False) as conn:
        conn.execute('UPDATE "%s" AS r SET reminded = s.reminded, '
            'escalation_level = s.escalation_level, '
            'escalated_to = s.escalated_to, escalated_at = s.escalated_at, '
            'write_uid = s.write_uid, write_date = s.write_date '
            'FROM bench_service_saved AS s WHERE r.id = s.id' % REQUEST)
        conn.execute('DELETE FROM "%s" WHERE id > %%s' % EVENT,
            (last_event,))
        conn.execute('DELETE FROM res_notification WHERE id > %s',
            (last_notification,))
        conn.commit()
    settle(uri, database, [REQUEST, EVENT, 'res_notification'])


def outcome(uri, database, last_event):
    "What a run changed, to compare both sides"
    with pg_connect(uri, database) as conn:
        changed = conn.execute('SELECT COUNT(*), SUM(r.id::bigint), '
            'SUM(r.escalation_level), SUM(COALESCE(r.escalated_to, 0)), '
            'SUM(r.reminded::int) FROM "%s" r '
            'JOIN bench_service_saved s ON s.id = r.id' % REQUEST
            ).fetchone()
        events = conn.execute('SELECT kind, COUNT(*), SUM(request::bigint), '
            'COUNT(DISTINCT description) FROM "%s" WHERE id > %%s '
            'GROUP BY kind ORDER BY kind' % EVENT, (last_event,)).fetchall()
    return {'requests': list(changed), 'events': [list(e) for e in events]}


# The same steps as the cron, each one statement: the UPDATE of the step's
# rows (as `done`) and the INSERT of their events from what it returns
BASELINE_EVENTS = """
INSERT INTO telecom_service_request_event (request, date, kind, employee,
    company, description, create_uid, create_date)
SELECT done.id, %%(now)s, '%s', NULL, done.company,
    %%(prefix)s || COALESCE(p.name, %%(nobody)s) || %%(suffix)s,
    0, CURRENT_TIMESTAMP
FROM done LEFT JOIN company_employee e ON e.id = done.employee
LEFT JOIN party_party p ON p.id = e.party
"""
BASELINE_UPDATES = [
    ('reminded', 'reminded', """
WITH done AS (
    UPDATE telecom_service_request SET reminded = true,
        write_uid = 0, write_date = CURRENT_TIMESTAMP
    WHERE state = 'open' AND NOT reminded AND remind_at < deadline
        AND remind_at <= %(now)s
    RETURNING id, owner AS employee, company)"""),
    ('supervisor', 'escalated', """
WITH done AS (
    UPDATE telecom_service_request AS r SET escalation_level = 1,
        escalated_to = COALESCE(t.supervisor, t.director),
        escalated_at = %(now)s,
        write_uid = 0, write_date = CURRENT_TIMESTAMP
    FROM telecom_service_team t
    WHERE t.id = r.team AND r.state = 'open' AND r.escalation_level = 0
        AND r.supervisor_at <= %(now)s
    RETURNING r.id, r.escalated_to AS employee, r.company)"""),
    ('director', 'escalated', """
WITH done AS (
    UPDATE telecom_service_request AS r SET escalation_level = 2,
        escalated_to = COALESCE(t.director, t.supervisor),
        escalated_at = %(now)s,
        write_uid = 0, write_date = CURRENT_TIMESTAMP
    FROM telecom_service_team t
    WHERE t.id = r.team AND r.state = 'open' AND r.escalation_level < 2
        AND r.director_at <= %(now)s
    RETURNING r.id, r.escalated_to AS employee, r.company)"""),
    ]
BASELINE_STEPS = [(step, update + BASELINE_EVENTS % kind)
    for step, kind, update in BASELINE_UPDATES]


def event_texts(tryton):
    "The texts of the cron's events, as the cron writes them"
    from trytond.i18n import gettext
    texts = {}
    with tryton.transaction(readonly=True):
        nobody = gettext('crm_service.msg_sla_nobody')
        for step, message in [
                ('reminded', 'msg_event_reminded'),
                ('supervisor', 'msg_event_escalated_supervisor'),
                ('director', 'msg_event_escalated_director')]:
            prefix, suffix = gettext('crm_service.' + message,
                employee='\x00').split('\x00')
            texts[step] = {'prefix': prefix, 'suffix': suffix,
                'nobody': nobody}
    return texts


def run_baseline(uri, database, now, texts):
    with pg_connect(uri, database, autocommit=False) as conn:
        start = time.perf_counter()
        rows = {}
        for step, query in BASELINE_STEPS:
            cursor = conn.execute(query, {'now': now, **texts[step]},
                prepare=False)
            rows[step] = cursor.rowcount
        conn.commit()
        return time.perf_counter() - start, rows


def run_cron(tryton, now, company):
    "The cron's method as ir.cron calls it: user 0, the company's context"
    with tryton.transaction(context={'company': company,
                '_cron': 'telecom.service_request|escalate'}) as transaction:
        Request = tryton.Pool().get('telecom.service_request')
        start = time.perf_counter()
        reminded, escalated = Request.escalate(now)
        transaction.commit()
        return time.perf_counter() - start, {'reminded': reminded,
            'escalated': escalated}


def bench_cron(tryton, uri, args, now):
    due, last_event, last_notification = save_due(uri, args.database, now)
    log("step 1: %(open)d open requests; due: %(reminders)d reminders, "
        "%(supervisor)d to supervisors, %(director)d to directors" % due)
    texts = event_texts(tryton)
    with pg_connect(uri, args.database) as conn:
        company, = conn.execute('SELECT company FROM "%s" LIMIT 1'
            % REQUEST).fetchone()
    orm_times, sql_times, outcomes = [], [], {}
    for round_ in range(args.rounds):
        order = ['sql', 'orm'] if round_ % 2 == 0 else ['orm', 'sql']
        for side in order:
            if side == 'sql':
                elapsed, rows = run_baseline(uri, args.database, now, texts)
                sql_times.append(elapsed)
            else:
                elapsed, rows = run_cron(tryton, now, company)
                orm_times.append(elapsed)
            log("step 1 round %d %s: %.3f s %s" % (round_ + 1, side,
                    elapsed, rows))
            result = outcome(uri, args.database, last_event)
            if side in outcomes:
                assert outcomes[side] == result, (side, outcomes[side],
                    result)
            outcomes[side] = result
            with pg_connect(uri, args.database) as conn:
                notifications, = conn.execute('SELECT COUNT(*) FROM '
                    'res_notification WHERE id > %s',
                    (last_notification,)).fetchone()
            if side == 'orm':
                due['notifications'] = notifications
            undo(uri, args.database, last_event, last_notification)
    same = outcomes['orm'] == outcomes['sql']
    if not same:
        log("step 1: the cron and the baseline differ: %s" % outcomes)
    return {
        'due': due,
        'orm_seconds': statistics.median(orm_times),
        'sql_seconds': statistics.median(sql_times),
        'orm_seconds_all': orm_times,
        'sql_seconds_all': sql_times,
        'same_outcome': same,
        'outcome': outcomes,
        }


# ---------------------------------------------------------------- step 2

class Client:
    """RPC-like calls as a user: one transaction per call, the user's
    preferences as context, access checks on"""

    def __init__(self, tryton, login):
        self.tryton = tryton
        with tryton.transaction(readonly=True):
            User = tryton.Pool().get('res.user')
            user, = User.search([('login', '=', login)])
            self.user = user.id
        with tryton.transaction(user=self.user, readonly=True):
            User = tryton.Pool().get('res.user')
            self.context = User.get_preferences(context_only=True)
            # what the record rules of the requests allow
            self.companies = list(User.get_companies())
        self.context['_check_access'] = True

    def __call__(self, model, method, *args):
        with self.tryton.transaction(user=self.user, readonly=True,
                context=dict(self.context)):
            Model = self.tryton.Pool().get(model)
            result = getattr(Model, method)(*args)
            if method == 'search':
                result = [r.id for r in result]
            return result

    def list_fields(self):
        """The fields sao reads for the board's list (Record.load of its
        eager fields): those of the view, with '.rec_name' of the
        relations and ':string' of the selections"""
        if getattr(self, '_list_fields', None) is None:
            with self.tryton.transaction(user=self.user, readonly=True,
                    context=dict(self.context)):
                pool = self.tryton.Pool()
                ModelData = pool.get('ir.model.data')
                Request = pool.get('telecom.service_request')
                view = Request.fields_view_get(ModelData.get_id(
                        'crm_service', 'sla_request_view_list'), 'tree')
            names = []
            for name, field in sorted(view['fields'].items()):
                if field.get('loading', 'eager') != 'eager':
                    continue
                names.append(name)
                if field['type'] in {'many2one', 'one2one', 'reference'}:
                    names.append(name + '.rec_name')
                elif field['type'] in {'selection', 'multiselection'}:
                    names.append(name + ':string')
            self._list_fields = names + [
                'rec_name', '_timestamp', '_write', '_delete']
            lazy = {n: f for n, f in view['fields'].items()
                if f.get('loading', 'eager') != 'eager'}
            self.lazy_list_fields = sorted(lazy)
            self.lazy_list_relations = sorted(n for n, f in lazy.items()
                if f['type'] in {'many2one', 'one2one', 'reference'})
        return self._list_fields

    def board(self):
        "The board's domain, order and tabs as sao decodes them"
        from trytond.pyson import PYSONDecoder
        with self.tryton.transaction(user=self.user, readonly=True,
                context=dict(self.context)):
            pool = self.tryton.Pool()
            ModelData = pool.get('ir.model.data')
            ActWindow = pool.get('ir.action.act_window')
            action = ActWindow(ModelData.get_id(
                    'crm_service', 'act_request_board'))
            context = dict(self.context, _user=self.user)
            context['context'] = context
            decoder = PYSONDecoder(context)
            domain = decoder.decode(action.pyson_domain)
            order = decoder.decode(action.pyson_order)
            tabs = [(d.name, decoder.decode(d.domain), d.count)
                for d in action.act_window_domains]
        return domain, order, tabs


def board_page(client, domain, order, tabs):
    """The board's query as sao runs it on opening: the first tab's page
    of 80, and its count when the page is full"""
    page_domain = ['AND', domain, tabs[0][1]]
    ids = client('telecom.service_request', 'search', page_domain, 0,
        CLIENT_LIMIT, order)
    page_count = None
    if len(ids) == CLIENT_LIMIT:
        page_count = client('telecom.service_request', 'search_count',
            page_domain, 0, PAGE_COUNT_LIMIT)
    return ids, page_count


class Floor:
    """The board query's statements as the ORM builds them (record rules
    and all), run one trytond transaction per call as the two RPCs are,
    without the ORM: what trytond's per-call plumbing (the pool's
    connection check, BEGIN, ROLLBACK) costs before any model code runs"""

    def __init__(self, client, domain, order, tabs):
        self.client = client
        page_domain = ['AND', domain, tabs[0][1]]
        with client.tryton.transaction(user=client.user, readonly=True,
                context=dict(client.context)):
            Request = client.tryton.Pool().get('telecom.service_request')
            self.page = tuple(Request.search(page_domain, 0, CLIENT_LIMIT,
                    order, query=True))
            self.count = tuple(Request.search(page_domain, 0,
                    PAGE_COUNT_LIMIT, count=True, query=True))

    def _run(self, query):
        client = self.client
        with client.tryton.transaction(user=client.user, readonly=True,
                context=dict(client.context)):
            cursor = client.tryton.Transaction().connection.cursor()
            cursor.execute(*query)
            return cursor.fetchall()

    def __call__(self, client, domain, order, tabs):
        ids = [i for i, in self._run(self.page)]
        page_count = None
        if len(ids) == CLIENT_LIMIT:
            (page_count,), = self._run(self.count)
        return ids, page_count


def board_list(client, domain, order, tabs):
    """The board as sao opens it: the page and its count, then one read
    of what the list shows (the eager fields of the list view, the names
    of the records they point to, the labels of the selections, the
    record's name, timestamp and access), as sao's record group loads
    the page, and a second read of the view's lazy fields if it has any,
    as sao does when it displays them"""
    ids, page_count = board_page(client, domain, order, tabs)
    rows = client('telecom.service_request', 'read', ids,
        client.list_fields())
    if client.lazy_list_fields:
        client('telecom.service_request', 'read', ids,
            client.lazy_list_fields + [
                n + '.rec_name' for n in client.lazy_list_relations])
    # read answers in no particular order; sao places the rows by id
    rows = {r['id']: r for r in rows}
    return [(i, rows[i]['customer.']['rec_name'],
            rows[i]['owner.']['rec_name'] if rows[i]['owner.'] else None,
            rows[i]['team.']['rec_name'] if rows[i]['team.'] else None)
        for i in ids], page_count


def board_tabs(client, domain, order, tabs):
    "The counters of the board's tabs, as sao asks for them on opening"
    return [client('telecom.service_request', 'search_count',
            ['AND', tab, domain], 0, TAB_COUNT_LIMIT)
        for _, tab, count in tabs if count]


BOARD_WHERE = """r.team IN (SELECT t.id FROM telecom_service_team t
        WHERE t.supervisor = %(employee)s OR t.director = %(employee)s)
    AND r.company = ANY(%(companies)s)
    AND r.state = 'open'
    AND r.remind_at <= %(now)s"""
TAB_WHERE = [
    "r.deadline > %(now)s",
    "r.deadline <= %(now)s",
    "r.escalation_level > 0",
    ]
SQL_PAGE = ('SELECT r.id FROM telecom_service_request r WHERE '
    + BOARD_WHERE + ' AND {tab} ORDER BY r.deadline, r.id LIMIT {limit}')
SQL_COUNT = ('SELECT COUNT(*) FROM (SELECT r.id FROM '
    'telecom_service_request r WHERE ' + BOARD_WHERE + ' AND {tab} '
    'LIMIT {limit}) AS c')


# what the board's list shows, the names of the customer, owner, team and
# employee escalated to joined (the team's in the user's language), as a
# client written in SQL would fetch the page: the page first, then its
# names (joined before the LIMIT, PostgreSQL joins every candidate)
SQL_LIST = """SELECT r.id, c.name, op.name, COALESCE(tt.value, t.name),
        r.deadline, r.remind_at, r.state, r.sla_met, r.escalation_level,
        r.escalated_to, ep.name, r.code, r.type, r.priority, r.subject,
        r.customer, r.owner, r.team, r.create_date,
        COALESCE(r.write_date, r.create_date)
    FROM (SELECT r.* FROM telecom_service_request r WHERE """ + BOARD_WHERE \
    + """ AND {tab} ORDER BY r.deadline, r.id LIMIT {limit}) AS r
    JOIN party_party c ON c.id = r.customer
    LEFT JOIN company_employee o ON o.id = r.owner
    LEFT JOIN party_party op ON op.id = o.party
    LEFT JOIN company_employee e ON e.id = r.escalated_to
    LEFT JOIN party_party ep ON ep.id = e.party
    LEFT JOIN telecom_service_team t ON t.id = r.team
    LEFT JOIN ir_translation tt ON tt.name = 'telecom.service.team,name'
        AND tt.type = 'model' AND tt.res_id = t.id AND tt.lang = %(lang)s
        AND tt.value != '' AND NOT tt.fuzzy
    ORDER BY r.deadline, r.id"""


def _sql(query, tab, limit):
    return query.replace('{tab}', tab).replace('{limit}', str(limit))


def sql_page(conn, params):
    ids = [r for r, in conn.execute(_sql(SQL_PAGE, TAB_WHERE[0],
                CLIENT_LIMIT), params, prepare=False)]
    page_count = None
    if len(ids) == CLIENT_LIMIT:
        page_count, = conn.execute(_sql(SQL_COUNT, TAB_WHERE[0],
                PAGE_COUNT_LIMIT), params, prepare=False).fetchone()
    return ids, page_count


def sql_list(conn, params):
    rows = conn.execute(_sql(SQL_LIST, TAB_WHERE[0], CLIENT_LIMIT),
        params, prepare=False).fetchall()
    page_count = None
    if len(rows) == CLIENT_LIMIT:
        page_count, = conn.execute(_sql(SQL_COUNT, TAB_WHERE[0],
                PAGE_COUNT_LIMIT), params, prepare=False).fetchone()
    return [tuple(r[:4]) for r in rows], page_count


def sql_tabs(conn, params):
    return [conn.execute(_sql(SQL_COUNT, w, TAB_COUNT_LIMIT), params,
            prepare=False).fetchone()[0] for w in TAB_WHERE]


def bench_board(tryton, uri, args, now, login):
    """The board's query (page and count) and its tab counters for a user,
    through the ORM and as plain SQL, alternately"""
    from unittest.mock import patch
    client = Client(tryton, login)
    domain, order, tabs = client.board()
    employee = client.context['employee']
    params = {'employee': employee, 'now': now,
        'companies': client.companies,
        'lang': client.context.get('language') or 'en'}
    Request = tryton.Pool(args.database).get('telecom.service_request')
    with patch.object(Request, '_sla_now', classmethod(lambda cls: now)):
        floor = Floor(client, domain, order, tabs)
    sides = {
        'page': (board_page, sql_page),
        'floor': (floor, sql_page),
        'list': (board_list, sql_list),
        'tabs': (board_tabs, sql_tabs),
        }
    times = {(part, side): [] for part in sides for side in ['orm', 'sql']}
    found = {}
    # the ORM's clock reads the bench's moment, as the baseline's does
    with patch.object(Request, '_sla_now', classmethod(lambda cls: now)), \
            pg_connect(uri, args.database) as conn:
        for i in range(args.warmup + args.lookups):
            for part, (orm_call, sql_call) in sides.items():
                order_ = ['orm', 'sql'] if i % 2 == 0 else ['sql', 'orm']
                for side in order_:
                    start = time.perf_counter()
                    if side == 'orm':
                        result = orm_call(client, domain, order, tabs)
                    else:
                        result = sql_call(conn, params)
                    elapsed = time.perf_counter() - start
                    if i >= args.warmup:
                        times[part, side].append(elapsed)
                    found[part, side] = result
                assert found[part, 'orm'] == found[part, 'sql'], (
                    part, found[part, 'orm'], found[part, 'sql'])
        with capture_queries() as queries:
            board_page(client, domain, order, tabs)
        explained = []
        for query in queries:
            if query.lstrip().upper().startswith('SELECT'):
                plan = conn.execute('EXPLAIN (ANALYZE, FORMAT JSON) '
                    + query).fetchone()[0][0]
                explained.append({'query': query[:3000],
                        'planning_ms': plan['Planning Time'],
                        'execution_ms': plan['Execution Time']})
    ids, page_count = found['page', 'orm']
    log("step 2 %s: %d on the page, page count %s, tab counts %s" % (
            login, len(ids), page_count, found['tabs', 'orm']))
    return {
        'user': login,
        'employee': employee,
        'page': len(ids),
        'page_count': page_count,
        'tab_counts': found['tabs', 'orm'],
        'page_calls': 1 + (page_count is not None),
        'tab_calls': len(found['tabs', 'orm']),
        'page_orm': latency(times['page', 'orm']),
        'page_sql': latency(times['page', 'sql']),
        'floor_orm': latency(times['floor', 'orm']),
        'floor_sql': latency(times['floor', 'sql']),
        'list_orm': latency(times['list', 'orm']),
        'list_sql': latency(times['list', 'sql']),
        'list_calls': 2 + (page_count is not None)
        + bool(client.lazy_list_fields),
        'list_fields': client.list_fields(),
        'list_lazy_fields': client.lazy_list_fields,
        'tabs_orm': latency(times['tabs', 'orm']),
        'tabs_sql': latency(times['tabs', 'sql']),
        'page_orm_statements': explained,
        }


# ---------------------------------------------------------------- report

def summary_rows(results):
    rows = []
    cron = results['cron']
    rows.append(("escalation cron, %s open requests (s)"
            % format(cron['due']['open'], ','), cron['orm_seconds'],
            "plain SQL, 3 statements", cron['sql_seconds'],
            cron['orm_seconds'] / cron['sql_seconds'],
            "cron / SQL (1 = as fast as SQL)"))
    for key in ['supervisor', 'director']:
        board = results.get('board_' + key)
        if not board:
            continue
        label = '%s, %d team%s' % (key, board['teams'],
            's' if board['teams'] > 1 else '')
        for part, what, calls in [
                ('page', 'board query (page + count)', 'page_calls'),
                ('floor', "board query's statements in trytond "
                    "transactions, no ORM", 'page_calls'),
                ('list', 'board list (page + count + read)', 'page_calls'),
                ('tabs', 'board tab counters', 'tab_calls')]:
            for stat in ['median_ms', 'p95_ms']:
                orm, sql = board[part + '_orm'][stat], board[part + '_sql'][
                    stat]
                rows.append(("%s, %s, %s (ms)" % (what, label,
                            stat.split('_')[0]), orm,
                        "plain SQL, %d statements" % board[calls], sql,
                        orm / sql, "ORM / SQL (1 = as fast as SQL)"))
    return rows


def print_summary(results):
    rows = summary_rows(results)
    print()
    print("Service benchmark: %s requests, %s, trytond %s, %s" % (
            format(results['requests'], ','), results['postgresql'],
            results['trytond'], results['started']))
    cron = results['cron']
    due = cron['due']
    print("cron: %s reminders, %s escalations to supervisors, %s to "
        "directors, %s notifications; same outcome as SQL: %s" % (
            format(due['reminders'], ','), format(due['supervisor'], ','),
            format(due['director'], ','),
            format(due.get('notifications', 0), ','), cron['same_outcome']))
    print("cron runs (s): ORM %s; SQL %s" % (
            ', '.join('%.3f' % t for t in cron['orm_seconds_all']),
            ', '.join('%.3f' % t for t in cron['sql_seconds_all'])))
    for key in ['supervisor', 'director']:
        board = results.get('board_' + key)
        if board:
            print("board of %s (%s teams): %d on the page, page count %s, "
                "tab counts %s; the page's ORM statements in PostgreSQL "
                "(planning + execution, ms): %s" % (board['user'],
                    board['teams'], board['page'], board['page_count'],
                    board['tab_counts'], ', '.join('%.1f + %.1f' % (
                            e['planning_ms'], e['execution_ms'])
                        for e in board['page_orm_statements'])))
    header = ('figure', 'value', 'baseline', 'baseline value', 'ratio')
    table = [header] + [(f, '%.3f' % v if v < 100 else '%.1f' % v, b,
            '%.3f' % bv if bv < 100 else '%.1f' % bv, '%.2f' % r)
        for f, v, b, bv, r, _ in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    print()
    for i, row in enumerate(table):
        print(' | '.join(c.ljust(w) if j in (0, 2) else c.rjust(w)
                for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print('-+-'.join('-' * w for w in widths))
    print()
    print("ratio: ORM / plain SQL, lower is better (goal: 2 or less)")


def team_count(uri, database, login):
    with pg_connect(uri, database) as conn:
        count, = conn.execute('SELECT COUNT(*) FROM telecom_service_team t '
            'JOIN res_user u ON u.employee IN (t.supervisor, t.director) '
            'WHERE u.login = %s', (login,)).fetchone()
    return count


def main(argv=None):
    args = parse_args(argv)
    uri = database_uri()
    results = describe_run(uri, 'service', args, requests=args.requests,
        open=args.open, lines=args.lines, teams=args.teams,
        agents=args.agents)
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
            with pg_connect(uri, args.database) as conn:
                results['requests'], = conn.execute(
                    'SELECT COUNT(*) FROM "%s"' % REQUEST).fetchone()
        now = bench_now(uri, args.database)
        results['now'] = now
        results['cron'] = bench_cron(tryton, uri, args, now)
        for key, login in [('supervisor', 'supervisor00'),
                ('director', 'director00')]:
            log("step 2: the board of %s" % login)
            board = bench_board(tryton, uri, args, now, login)
            board['teams'] = team_count(uri, args.database, login)
            results['board_' + key] = board
    results['summary'] = summary_records(summary_rows(results))
    print_summary(results)
    write_results(results, args.results, 'service')
    if not results['cron']['same_outcome']:
        return 1


if __name__ == '__main__':
    sys.exit(main())
