#!/usr/bin/env bash
# The main job: set up (once), then serve the demo page, where a guest boots in
# the browser tab and runs containers. Usage: scripts/demo.sh [--port N] [--host ADDR]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/berth.js serve "$@"
