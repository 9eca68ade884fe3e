#!/usr/bin/env bash
# Start the action server, wait for its /health, run the given command, and
# stop both when the command ends or when Ctrl-C / SIGTERM arrives.
#   python -m settings scripts/with-actions.sh <command...>
# (settings.py puts ACTIONS_PORT, and ACTIONS_HOST as SANIC_HOST, in the environment.)
set -uo pipefail
port=$ACTIONS_PORT
mkdir -p var

# Bound to ACTIONS_HOST (127.0.0.1 by default): only Rasa, on this machine, calls the actions.
.venv/actions/bin/python -m rasa_sdk --actions actions -p "$port" > var/actions.log 2>&1 &
actions=$!
main=""
stop() {
  trap - EXIT INT TERM
  [ -n "$main" ] && kill "$main" 2>/dev/null
  kill "$actions" 2>/dev/null
  wait 2>/dev/null
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

echo "Servidor de acciones en :$port (log: var/actions.log), cargando..."
for _ in $(seq 240); do
  curl -sf "localhost:$port/health" > /dev/null && break
  kill -0 "$actions" 2>/dev/null || { echo "El servidor de acciones no arrancó:"; tail -20 var/actions.log; exit 1; }
  sleep 0.5
done
echo "Servidor de acciones listo en http://localhost:$port (/health)"

"$@" <&0 &
main=$!
wait "$main"
status=$?
exit "$status"
