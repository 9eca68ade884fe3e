#!/usr/bin/env bash
# Run the reminder loop (python -m actions.appointments.reminders) next to the given command,
# and stop it when the command ends or when SIGINT / SIGTERM arrives.
#   scripts/with-reminders.sh <command...>      (make run: inside with-actions.sh)
set -uo pipefail
mkdir -p var

.venv/actions/bin/python -m actions.appointments.reminders >> var/reminders.log 2>&1 &
reminders=$!
main=""
stop() {
  trap - EXIT INT TERM
  [ -n "$main" ] && kill "$main" 2>/dev/null
  kill "$reminders" 2>/dev/null
  wait 2>/dev/null
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

echo "Recordatorios por WhatsApp cada ${REMINDER_POLL_SECONDS} s (log: var/reminders.log)"
"$@" <&0 &
main=$!
wait "$main"
status=$?
exit "$status"
