#!/bin/sh
# make bench: messages per second through a private Postfix (smtp-source
# into smtpd, relayed to smtp-sink), through the same smtpd with and
# without mailward-milter, in one run.  The milter's service is the MX of
# the test policy: connection rules and partner checks on every message.
#
# The two variants alternate for MWB_ROUNDS rounds and the medians are
# compared, so that a burst of other load on the machine skews one round
# rather than the result.
#
# Environment: MWB_MESSAGES (2000), MWB_SESSIONS (20), MWB_SIZE (10240),
# MWB_ROUNDS (3), MWB_POLICY (the test policy).
set -u
. "$(dirname "$0")/lib.sh"

MESSAGES=${MWB_MESSAGES:-2000}
SESSIONS=${MWB_SESSIONS:-20}
SIZE=${MWB_SIZE:-10240}
ROUNDS=${MWB_ROUNDS:-5}


if [ "$(id -u)" -ne 0 ]; then
	echo "bench: a private Postfix needs root to start" >&2
	exit 1
fi

mwt_ports || { echo "bench: no free ports in 21000-21999" >&2; exit 1; }
mwt_init
mwt_make_certs "$MWT_TMP/certs"
cp "${MWB_POLICY:-$MWT_DIR/policy.conf}" "$MWT_TMP/policy.conf"
chmod 644 "$MWT_TMP/policy.conf"
mwt_milter_start "$MWT_TMP/policy.conf" "unix:$MWT_TMP/run/milter.sock" ||
	{ echo "bench: the milter did not start" >&2; exit 1; }
mwt_postfix_start "unix:$MWT_TMP/run/milter.sock" ||
	{ echo "bench: Postfix did not start" >&2; exit 1; }

# run PORT: prints messages per second from the first connection until
# the sink has received every message.
run() {
	smtp-sink -u nobody -M "$MESSAGES" "127.0.0.1:$MWT_SINK_PORT" 256 \
		>/dev/null 2>&1 &
	sink=$!
	mwt_pids="$mwt_pids $sink"
	mwt_wait_for 10 mwt_port_open "$MWT_SINK_PORT"
	start=$(date +%s.%N)
	smtp-source -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" \
		-f sender@example.org -t rcpt@example.net \
		"127.0.0.1:$1" >/dev/null 2>&1
	wait "$sink"
	end=$(date +%s.%N)
	echo "$MESSAGES $start $end" | awk '{ printf "%.0f\n", $1 / ($3 - $2) }'
}

# A warm-up, so that both variants find smtpd processes running.
MESSAGES_SAVED=$MESSAGES
MESSAGES=200
run "$MWT_PLAIN_PORT" >/dev/null
run "$MWT_MX_PORT" >/dev/null
MESSAGES=$MESSAGES_SAVED

echo "mailward-milter benchmark: $MESSAGES messages of $SIZE bytes, $SESSIONS sessions"
: >"$MWT_TMP/without"
: >"$MWT_TMP/with"
i=1
while [ "$i" -le "$ROUNDS" ]; do
	without=$(run "$MWT_PLAIN_PORT")
	with=$(run "$MWT_MX_PORT")
	echo "round $i: without milter $without msg/s, with milter $with msg/s"
	echo "$without" >>"$MWT_TMP/without"
	echo "$with" >>"$MWT_TMP/with"
	i=$((i + 1))
done
if grep -q "reject:" "$MWT_TMP/milter.log"; then
	echo "bench: the milter rejected benchmark mail:" >&2
	grep "reject:" "$MWT_TMP/milter.log" | head -3 >&2
	exit 1
fi
median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
w=$(median "$MWT_TMP/without")
m=$(median "$MWT_TMP/with")
echo "$w $m" | awk '{
	printf "median: without milter %.0f msg/s, with milter %.0f msg/s, overhead %.1f%%\n",
		$1, $2, ($1 - $2) * 100 / $1 }'
