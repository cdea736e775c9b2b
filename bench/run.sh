#!/usr/bin/env bash
# Run a benchmark on the local PostgreSQL server.
#   bench/run.sh                        # subscribers: 1,000,000 lines
#   bench/run.sh --subscribers 20000    # quick check
#   bench/run.sh billing                # bill run: 100,000 lines, 3,000,000
#                                       # usage records; usage import
#   bench/run.sh billing --subscribers 2000 --usage 60000   # quick check
#   bench/run.sh service                # escalation cron over 200,000 open
#                                       # requests; supervisor board over
#                                       # 1,000,000 requests
#   bench/run.sh service --requests 20000   # quick check
#   bench/run.sh group_import           # import of 100,000 group members
#   bench/run.sh group_import --members 10000   # quick check
#   bench/run.sh group_billing          # bill run: 10,000 groups of 10
#                                       # members paid by their group
#   bench/run.sh group_billing --groups 200 --usage 60000   # quick check
#   bench/run.sh commission             # dealers' monthly commission run:
#                                       # 100,000 activations and their bills
#   bench/run.sh commission --activations 5000   # quick check
# Other options: bench/run.sh --help, bench/run.sh billing --help,
# bench/run.sh service --help
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
script=bench_subscriber.py
case "${1:-}" in
    billing) script=bench_billing.py; shift ;;
    service) script=bench_service.py; shift ;;
    group_import) script=bench_group_import.py; shift ;;
    group_billing) script=bench_group_billing.py; shift ;;
    commission) script=bench_commission.py; shift ;;
    subscriber) shift ;;
esac
TRYTOND_DATABASE_URI=$(bin/pg-up)
export TRYTOND_DATABASE_URI
exec "$root/.venv/bin/python" "$root/bench/$script" "$@"
