#!/usr/bin/env bash
# Starts the Debian PostgreSQL cluster on 127.0.0.1 only, with a test role `lockstep` (CREATEDB, CREATEROLE) that
# logs in from 127.0.0.1 without a password (trust for that role only). Prints the export line for the test URL.
set -euo pipefail
ver=$(ls /etc/postgresql | sort -V | tail -1)
conf=/etc/postgresql/$ver/main
if ! grep -q '^# lockstep-test' "$conf/pg_hba.conf"; then
  { echo '# lockstep-test: the test role logs in from loopback without a password'; echo 'host all lockstep 127.0.0.1/32 trust'; cat "$conf/pg_hba.conf"; } > "$conf/pg_hba.conf.new"
  mv "$conf/pg_hba.conf.new" "$conf/pg_hba.conf"
fi
sed -i "s/^#\?listen_addresses.*/listen_addresses = '127.0.0.1'/" "$conf/postgresql.conf"
sed -i "s/^#\?max_connections.*/max_connections = 300/" "$conf/postgresql.conf"
if pg_ctlcluster "$ver" main status >/dev/null 2>&1; then pg_ctlcluster "$ver" main reload >&2; else pg_ctlcluster "$ver" main start >&2; fi
for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -q && break; sleep 0.5; done
runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -c "do \$\$ begin if not exists (select from pg_roles where rolname = 'lockstep') then create role lockstep login createdb createrole; end if; end \$\$;" >&2
echo "export LOCKSTEP_TEST_PG_URL=postgres://lockstep@127.0.0.1:5432/postgres"
