"""Run the whole test suite: every module on PostgreSQL and on SQLite,
the suite-level tests, ruff, then the browser test.

    python -m tests.run [--backend sqlite|postgresql|all] [--no-browser]

Each backend runs in its own processes (trytond picks its backend at import
time), all at once: PostgreSQL's modules in two (PG_SHARDS), SQLite's in
one. Activated databases are cached in .cache/ (DB_CACHE) between test
classes and between runs. Ends with one line 'N passed, N failed'.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = ['crm_telecom', 'crm_provisioning', 'crm_billing', 'crm_dunning',
    'crm_service', 'crm_group_customer', 'crm_channel']
SUITE_TESTS = ['tests.suite']


# PostgreSQL's run is the longest: its modules go in two processes, which
# share the machine with SQLite's (the suite-level tests go in the first)
PG_SHARDS = [
    ['crm_telecom', 'crm_provisioning', 'crm_billing', 'crm_dunning'],
    ['crm_service', 'crm_group_customer', 'crm_channel'],
    ]


def discover():
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    modules = os.environ.get('TEST_MODULES')
    modules = modules.split(',') if modules else MODULES
    for module in modules:
        suite.addTests(loader.discover(
                os.path.join(ROOT, module, 'tests'), top_level_dir=ROOT))
    for name in SUITE_TESTS if os.environ.get('TEST_SUITE', '1') == '1' else []:
        if os.path.isdir(os.path.join(ROOT, *name.split('.'))):
            suite.addTests(loader.discover(
                    os.path.join(ROOT, *name.split('.')), top_level_dir=ROOT))
    return suite


def run_here(result_file):
    "Child process: run everything on the backend set in the environment"
    runner = unittest.TextTestRunner(verbosity=1, stream=sys.stderr)
    result = runner.run(discover())
    failed = len(result.failures) + len(result.errors) + len(
        result.unexpectedSuccesses)
    with open(result_file, 'w') as file:
        json.dump({
                'run': result.testsRun,
                'failed': failed,
                'skipped': len(result.skipped),
                }, file)
    return 0 if result.wasSuccessful() else 1


def sources_hash():
    "Hash of the modules' files: a cached database is only as new as them"
    digest = hashlib.sha1()
    for module in MODULES:
        for folder, dirs, files in sorted(os.walk(os.path.join(ROOT, module))):
            dirs[:] = sorted(d for d in dirs
                if d not in {'tests', '__pycache__'})
            for name in sorted(files):
                if name.endswith(('.py', '.xml', '.cfg', '.po', '.svg')):
                    path = os.path.join(folder, name)
                    digest.update(path[len(ROOT):].encode())
                    with open(path, 'rb') as file:
                        digest.update(file.read())
    return digest.hexdigest()[:12]


def start_backend(name, uri, output=None, modules=None, suite=True):
    """Start the child process running the tests of modules (all by
    default) on one backend; its output goes to output (a file) when
    given, else to ours"""
    env = dict(os.environ)
    env['TRYTOND_DATABASE_URI'] = uri
    key = name.replace(' ', '').replace('/', 'of')
    env['DB_CACHE'] = os.path.join(
        ROOT, '.cache', 'db-%s-%s' % (key, sources_hash()))
    env.setdefault('DB_CACHE_JOBS', '2')
    env.pop('DB_NAME', None)
    if uri.startswith('postgresql'):
        # processes side by side on one server need their own databases
        env['DB_NAME'] = 'test_%d_%s' % (time.time(), key)
    env.pop('TEST_MODULES', None)
    if modules:
        env['TEST_MODULES'] = ','.join(modules)
    env['TEST_SUITE'] = '1' if suite else '0'
    os.makedirs(env['DB_CACHE'], exist_ok=True)
    with tempfile.NamedTemporaryFile(suffix='.json', delete=False) as tmp:
        result_file = tmp.name
    print('=== %s: %s' % (name, uri), flush=True)
    process = subprocess.Popen([sys.executable, '-m', 'tests.run',
            '--child', result_file], cwd=ROOT, env=env,
        stdout=output, stderr=subprocess.STDOUT if output else None)
    return {'name': name, 'process': process, 'result_file': result_file,
        'output': output, 'start': time.perf_counter()}


def finish_backend(run):
    "Wait for a backend's child; print its output if kept, then its figures"
    code = run['process'].wait()
    seconds = run.get('end', time.perf_counter()) - run['start']
    if run['output']:
        run['output'].seek(0)
        print('=== %s (its output, kept until it ended)' % run['name'],
            flush=True)
        sys.stdout.buffer.write(run['output'].read())
        sys.stdout.flush()
        run['output'].close()
    try:
        with open(run['result_file']) as file:
            result = json.load(file)
    except (OSError, ValueError):
        result = {'run': 0, 'failed': 1, 'skipped': 0}
    os.unlink(run['result_file'])
    if code and not result['failed']:
        result['failed'] = 1
    passed = result['run'] - result['failed'] - result['skipped']
    print('%s: %d passed, %d failed, %d skipped in %.0f s' % (
            run['name'], passed, result['failed'], result['skipped'],
            seconds), flush=True)
    return passed, result['failed'], result['skipped']


def run_lint():
    "ruff (pycodestyle, pyflakes, import order) as configured in pyproject"
    print('=== lint: ruff check', flush=True)
    code = subprocess.call([sys.executable, '-m', 'ruff', 'check', '.'],
        cwd=ROOT)
    print('lint: %s' % ('passed' if code == 0 else 'FAILED'), flush=True)
    return (1, 0, 0) if code == 0 else (0, 1, 0)


def run_browser():
    script = os.path.join(ROOT, 'tests', 'browser', 'run.sh')
    if not os.path.exists(script):
        print('browser: no browser test found', flush=True)
        return 0, 1, 0
    print('=== browser', flush=True)
    code = subprocess.call(['bash', script], cwd=ROOT)
    print('browser: %s' % ('passed' if code == 0 else 'FAILED'), flush=True)
    return (1, 0, 0) if code == 0 else (0, 1, 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--backend', default='all',
        choices=['all', 'sqlite', 'postgresql'])
    parser.add_argument('--no-browser', action='store_true')
    parser.add_argument('--pg-uri', default='postgresql:///')
    parser.add_argument('--child')
    args = parser.parse_args()
    if args.child:
        return run_here(args.child)

    totals = list(run_lint())
    runs = []
    if args.backend in ('all', 'postgresql'):
        for i, modules in enumerate(PG_SHARDS):
            runs.append(('postgresql %d/%d' % (i + 1, len(PG_SHARDS)),
                    args.pg_uri, modules, i == 0))
    if args.backend in ('all', 'sqlite'):
        runs.append(('sqlite', 'sqlite://', None, True))
    # the backends side by side: PostgreSQL's tests wait on the server
    # much of the time, which SQLite's fill; the later one's output is
    # kept until it ends, to be read whole
    started = [start_backend(name, uri,
            tempfile.TemporaryFile() if i else None, modules, suite)
        for i, (name, uri, modules, suite) in enumerate(runs)]
    # each one's time ends when it does
    while any('end' not in r for r in started):
        for run in started:
            if 'end' not in run and run['process'].poll() is not None:
                run['end'] = time.perf_counter()
        time.sleep(0.5)
    for run in started:
        for i, n in enumerate(finish_backend(run)):
            totals[i] += n
    if not args.no_browser:
        for i, n in enumerate(run_browser()):
            totals[i] += n
    print('%d passed, %d failed, %d skipped' % tuple(totals), flush=True)
    return 1 if totals[1] or not totals[0] else 0


if __name__ == '__main__':
    sys.exit(main())
