#!/usr/bin/env bash
# Installs the Redis servers the test suites start: redis-server,
# redis-cli (which creates the test clusters), redis-sentinel and the
# RediSearch module, from Debian's packages.
# Does nothing when they are already there.
set -euo pipefail

module=/usr/lib/redis/modules/redisearch.so
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
[ -f "$module" ] || missing+=(redis-redisearch)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing ${missing[*]} (apt-get)" >&2
if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo=(sudo -n)
else
	echo "missing ${missing[*]}: run as root: apt-get install -y redis-server redis-tools redis-sentinel redis-redisearch" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends redis-server redis-tools redis-sentinel redis-redisearch >/dev/null
# The packages start system services on the default ports where an init
# system runs; the tests use their own servers on free ports, so stop them.
for svc in redis-server redis-sentinel; do
	"${sudo[@]}" service "$svc" stop >/dev/null 2>&1 || true
done
