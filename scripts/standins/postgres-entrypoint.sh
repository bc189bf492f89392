#!/usr/bin/env bash
# The official postgres image's entrypoint, reduced to what compose.production.yaml uses: on an
# empty PGDATA, initdb with POSTGRES_USER and the password from POSTGRES_PASSWORD(_FILE), create
# POSTGRES_DB, accept scram-sha-256 logins from the network; then run the command as postgres.
set -euo pipefail

# `postgres --version` / `--help` / `-C` print and exit: no initialisation for those (as upstream).
wants_info() {
  local a
  for a in "$@"; do case $a in -'?' | --help | --describe-config | -V | --version | -C) return 0 ;; esac; done
  return 1
}

if [ "${1:-}" = postgres ] && wants_info "$@"; then exec "$@"; fi

if [ "${1:-}" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  exec gosu postgres "$0" "$@"
fi

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then POSTGRES_PASSWORD=$(<"$POSTGRES_PASSWORD_FILE"); fi
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "postgres: set POSTGRES_PASSWORD_FILE (or POSTGRES_PASSWORD) to initialise the database" >&2
    exit 1
  fi
  : "${POSTGRES_USER:=postgres}"
  : "${POSTGRES_DB:=$POSTGRES_USER}"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
  rm -f "$pwfile"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\";" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "postgres: initialised $PGDATA (database $POSTGRES_DB, user $POSTGRES_USER)"
fi

exec "$@"
