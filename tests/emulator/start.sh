#!/usr/bin/env bash
# Start the ALB emulator. Creates the venv first if needed (see setup.sh), then
# execs server.py with all flags passed through (--port N, --host 127.0.0.1,
# --exit-on-stdin-eof, --metrics-mode aws|fast, --metrics-delay SECONDS,
# --verbose). Prints `ALB_EMULATOR_ENDPOINT=http://...`
# on stdout when ready; logs go to stderr.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$HERE/setup.sh" >&2
exec "$HERE/.venv/bin/python" -u "$HERE/server.py" "$@"
