#!/usr/bin/env bash
# Run the subscriber benchmark on the local PostgreSQL server.
#   bench/run.sh                        # 1,000,000 subscribers
#   bench/run.sh --subscribers 20000    # quick check
# Other options: bench/run.sh --help
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
TRYTOND_DATABASE_URI=$(bin/pg-up)
export TRYTOND_DATABASE_URI
exec "$root/.venv/bin/python" "$root/bench/bench_subscriber.py" "$@"
