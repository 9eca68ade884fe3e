#!/usr/bin/env bash
# Run the reminder loop (python -m actions.appointments.reminders) and the staff inbox
# (python -m actions.handoff.inbox) next to the given command, and stop them when the
# command ends or when SIGINT / SIGTERM arrives.
#   scripts/with-reminders-and-inbox.sh <command...>      (make run: inside with-actions.sh)
set -uo pipefail
mkdir -p var

.venv/actions/bin/python -m actions.appointments.reminders >> var/reminders.log 2>&1 &
reminders=$!
.venv/actions/bin/python -m actions.handoff.inbox >> var/inbox.log 2>&1 &
inbox=$!
main=""
stop() {
  trap - EXIT INT TERM
  [ -n "$main" ] && kill "$main" 2>/dev/null
  kill "$reminders" "$inbox" 2>/dev/null
  wait 2>/dev/null
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

echo "Recordatorios por WhatsApp cada ${REMINDER_POLL_SECONDS} s (log: var/reminders.log)"
echo "Bandeja de asesores en http://${ACTIONS_HOST}:${STAFF_INBOX_PORT}/ $([ -n "${STAFF_TOKEN}" ] && echo "(clave: STAFF_TOKEN)" || echo "(cerrada: sin STAFF_TOKEN)") (log: var/inbox.log)"
"$@" <&0 &
main=$!
wait "$main"
status=$?
exit "$status"
