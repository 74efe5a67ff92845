#!/usr/bin/env bash
# Start Debian's PostgreSQL (apt-get install postgresql) and make an empty test database; print its URL.
# Used by .ci/run: XQGPT_TEST_POSTGRES=$(scripts/start_test_postgres.sh) .venv/bin/pytest
set -euo pipefail
version=$(ls /etc/postgresql | sort -n | tail -1)
pg_ctlcluster "$version" main start > /dev/null 2>&1 || pg_ctlcluster "$version" main status > /dev/null
psql_admin() { su postgres -c "psql -v ON_ERROR_STOP=1 -qAt -c \"$1\"" > /dev/null; }
for _ in $(seq 30); do su postgres -c "pg_isready -q" && break; sleep 1; done
psql_admin "DROP DATABASE IF EXISTS xqgpt_test"
psql_admin "DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'xqgpt') THEN CREATE ROLE xqgpt LOGIN PASSWORD 'xqgpt'; END IF; END \\\$\\\$"
psql_admin "CREATE DATABASE xqgpt_test OWNER xqgpt"
echo "postgresql+psycopg://xqgpt:xqgpt@127.0.0.1:5432/xqgpt_test"
