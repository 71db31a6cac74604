#!/usr/bin/env bash
# Every test: set up (once), check the import rules, run the Node tests (unit
# and real-VM integration) and the browser tests in Debian's Chromium, then
# print one closing line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --for-tests || { echo "0 passed, 1 failed"; exit 1; }

status=0
node scripts/check-imports.mjs || status=1

node_log=$(mktemp)
node --test --test-reporter=tap dist/test/node/ 2>&1 | tee "$node_log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
node_pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$node_log" | tail -n 1)
node_fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$node_log" | tail -n 1)

web_log=$(mktemp)
npx --no-install web-test-runner --config test/browser/web-test-runner.config.mjs 2>&1 | tee "$web_log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
web_counts=$(grep -o '[0-9]* passed, [0-9]* failed' "$web_log" | tail -n 1)
web_pass=${web_counts%% passed*}
web_fail=$(echo "$web_counts" | sed -n 's/.* \([0-9]*\) failed/\1/p')

passed=$(( ${node_pass:-0} + ${web_pass:-0} ))
failed=$(( ${node_fail:-0} + ${web_fail:-0} ))
# a runner that failed without counting a failure still fails the run
[ $status = 0 ] || [ $failed -gt 0 ] || failed=1
rm -f "$node_log" "$web_log"
echo "$passed passed, $failed failed"
exit $status
