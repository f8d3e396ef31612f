#!/bin/bash
# Content-check cost through the real daemon (issue 6 "Speed"): smtp-source
# against `mta run`, the built-in header-checks plugin in the sandbox.
#
#   tests/bench/content.sh [MESSAGES] [MTA_BINARY]
#
# 1. accept msg/s (20 sessions, 4 KiB messages), three daemons: no content
#    check at all (the plugin is not loaded), the plugin loaded with empty
#    header_checks and body_checks tables, and 200 header + 200 body regexp
#    rules (none match, so every rule is tried on every line). Each daemon
#    first takes WARMUP messages (timed and printed as "cold": instances
#    are created and their rules compiled then), then MESSAGES are timed.
# 2. body scanning: 1 MiB messages with body_checks_size_limit raised to
#    2 MB, no rules vs 100 and 1,000 body rules; scan MB/s is the extra
#    time the rules cost, per MiB scanned (accept time minus the no-rule
#    accept time), so it counts the sandbox call and the matching only.
set -eu
N=${1:-400}
MTA=${2:-${CARGO_TARGET_DIR:-target}/debug/mta}
PLUGINS=$(dirname "$MTA")/../plugins
W=$(mktemp -d /tmp/mta-cbench.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null || true' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
wait_port() { i=0; while ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; do i=$((i+1)); [ $i -gt 600 ] && return 1; sleep 0.05; done; }
rules() { # count prefix -> file of non-matching rules
    python3 -c "import sys
for i in range(int(sys.argv[1])): print('/^%s%d-[a-z]+ never here .*(foo|bar)\$/ REJECT rule %d' % (sys.argv[2], i, i))" "$1" "$2"
}
start() { # name extra-main-cf ($MAIN_CF_EXTRA is added to every run)
    D="$W/$1"; mkdir -p "$D"; P=$(port)
    printf 'queue_directory = %s/spool\nmyhostname = mx.test\nmynetworks = 127.0.0.0/8\nmydestination = mx.test\nlocal_recipient_maps =\nbuiltin_plugin_directory = %s\ndefault_transport = error:bench\n%b\n%b\n' "$D" "$PLUGINS" "$2" "${MAIN_CF_EXTRA:-}" > "$D/main.cf"
    printf '127.0.0.1:%s inet n - n - - smtpd\n' "$P" > "$D/master.cf"
    "$MTA" run -c "$D" > "$D/log" 2>&1 & PID=$!
    wait_port "$P"
}
stop() { kill $PID; wait $PID 2>/dev/null || true; PID=""; }
timed() { # smtp-source args...; prints seconds
    t0=$(now); smtp-source "$@" -f a@example.org -t b@example.net "127.0.0.1:$P" >/dev/null; t1=$(now)
    python3 -c "print('%.3f' % (float('$t1')-float('$t0')))"
}

rules 200 X-Hdr > "$W/r-hdr"; rules 200 body > "$W/r-200"
rules 100 body > "$W/r-100"; rules 1000 body > "$W/r-1000"; : > "$W/r-empty"
WARMUP=${WARMUP:-200}
echo "messages=$N warmup=$WARMUP ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)), binary $MTA"

cpu() { # CPU seconds (user + system) the daemon has used so far
    python3 -c "import os; f=open('/proc/$PID/stat').read().rsplit(')',1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf('SC_CLK_TCK'))"
}
accept() { # name extra-main-cf -> sets C (cold) and T (timed) seconds, U (daemon CPU ms per timed message)
    start "$1" "$2"
    C=$(timed -s 20 -l 4096 -m "$WARMUP")
    cs=$(cpu)
    T=$(timed -s 20 -l 4096 -m "$N")
    U=$(python3 -c "print('%.3f' % (1000*($(cpu)-$cs)/$N))"); stop
}
rate() { python3 -c "print('%.0f' % ($1/$2))"; }
cost() { python3 -c "print('%.1f%%' % (100*($1-$2)/$2))"; }
# Wall time is at the mercy of whatever else runs on the box; the daemon's
# own CPU time per message is the steadier measure of what the checks cost.
accept none ""; c0=$C; t0=$T; u0=$U
echo "accept, no content check:     cold ${c0}s, ${t0}s $(rate "$N" "$t0") msg/s, daemon CPU ${u0} ms/msg"
accept empty "header_checks = regexp:$W/r-empty\nbody_checks = regexp:$W/r-empty"; c1=$C; t1=$T; u1=$U
echo "accept, plugin, empty tables: cold ${c1}s, ${t1}s $(rate "$N" "$t1") msg/s (cost vs none $(cost "$t1" "$t0")), daemon CPU ${u1} ms/msg (cost vs none $(cost "$u1" "$u0"))"
accept full "header_checks = regexp:$W/r-hdr\nbody_checks = regexp:$W/r-200"; c2=$C; t2=$T; u2=$U
echo "accept, 200 hdr + 200 body:   cold ${c2}s, ${t2}s $(rate "$N" "$t2") msg/s (cost vs none $(cost "$t2" "$t0"), vs empty $(cost "$t2" "$t1")), daemon CPU ${u2} ms/msg (cost vs none $(cost "$u2" "$u0"), vs empty $(cost "$u2" "$u1"))"

M=${BODY_MESSAGES:-20}
start bnone "body_checks_size_limit = 2000000\nmessage_size_limit = 20000000"
bt=$(timed -s 1 -l 1048576 -m "$M"); stop
echo "1 MiB x $M, no rules:           ${bt}s"
for n in 100 1000; do
    start "b$n" "body_checks = regexp:$W/r-$n\nbody_checks_size_limit = 2000000\nmessage_size_limit = 20000000"
    t=$(timed -s 1 -l 1048576 -m "$M"); stop
    echo "1 MiB x $M, $n body rules:   ${t}s scan $(python3 -c "d=$t-$bt; print('%.1f MB/s' % ($M*1.048576/d) if d>0 else 'below noise')")"
done
