#!/bin/sh
# Regenerates the real-record fixtures of internal/audit/testdata: seccomp
# audit records the kernel writes for testdata/exerciser.c (and the test
# binary's helper process, see live_test.go), as /dev/kmsg, dmesg, auditd
# and journalctl show them. Run as root on x86_64 from the repository root:
#
#   sh internal/audit/testdata/gen-fixtures.sh
#
# It leaves the machine as it found it: auditd runs for a few seconds with
# its own configuration and log file and "-s nochange" (the kernel's audit
# enabled flag is not touched), and systemd-journald runs in a private
# mount namespace with volatile storage; both are stopped before it ends.
# While auditd runs, the kernel sends audit records to it instead of the
# kernel log, so run this when no one else reads /dev/kmsg for records.
set -eu

here=internal/audit/testdata
work=$(mktemp -d)
auditd_pid=
cleanup() {
	if [ -n "$auditd_pid" ]; then kill -TERM "$auditd_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

go test -c -o "$work/audit.test" ./internal/audit
gcc -O0 -o "$work/exerciser" "$here/exerciser.c"
# A name with a space: audit hex-encodes comm= and exe=.
mkdir -p "$work/odd dir"
cp "$work/exerciser" "$work/odd dir/exer cise"
# A path long enough for the kernel log to cut the record (auditd keeps it).
long=$work
for c in d e f g; do
	long="$long/$(printf "$c%.0s" $(seq 240))"
done
mkdir -p "$long"
cp "$work/exerciser" "$long/exerciser"

pids=$work/pids
: >"$pids"
# The helpers, in a file that the journald step's namespace shell sources too.
cat >"$work/functions" <<EOF
work='$work'
long='$long'
pids='$pids'
EOF
cat >>"$work/functions" <<'EOF'
# run EXERCISER: the helper loads the filters, makes its own syscalls and
# executes EXERCISER, which ends killed by SIGSYS.
run() {
	PGSECCOMP_AUDIT_HELPER=1 PGSECCOMP_AUDIT_EXERCISER="$1" \
		"$work/audit.test" -test.run='^TestHelperProcess$' >/dev/null 2>&1 &
	p=$!
	wait "$p" || true
	echo "$p" >>"$pids"
}
# run_all PAUSE: every exerciser copy. The kernel log is rate-limited (10
# audit lines every 5 s): pause between runs.
run_all() {
	run "$work/exerciser"; sleep "$1"
	run "$work/odd dir/exer cise"; sleep "$1"
	run "$long/exerciser"; sleep "$1"
}
EOF
. "$work/functions"

# window FILE: the lines of FILE from the first to the last that names one
# of our pids, with the kernel's and other processes' lines in between.
window() {
	pat=$(sed 's/.*/ pid=& /' "$pids" | paste -sd'|')
	awk -v pat="$pat" '
		{ line[NR] = $0 }
		$0 ~ pat { if (!first) first = NR; last = NR }
		END { for (i = first; i <= last && first; i++) print line[i] }' "$1"
}

echo "== kernel log"
run_all 6
# A burst over the rate limit, then a run that makes the kernel say how
# many records it suppressed ("kauditd_printk_skb: N callbacks suppressed").
run_all 0
sleep 6
run "$work/exerciser"
timeout 10 dd if=/dev/kmsg iflag=nonblock bs=16384 2>/dev/null >"$work/kmsg" || true
window "$work/kmsg" >"$here/kmsg.log"
dmesg >"$work/dmesg" && window "$work/dmesg" >"$here/dmesg.log"
dmesg -T >"$work/dmesg-T" && window "$work/dmesg-T" >"$here/dmesg-T.log"
dmesg -x >"$work/dmesg-x" && window "$work/dmesg-x" >"$here/dmesg-x.log"

echo "== auditd"
for format in ENRICHED RAW; do
	conf=$work/auditd-$format
	mkdir -p "$conf/plugins.d"
	sed -e "s|^log_file *=.*|log_file = $conf/audit.log|" \
		-e "s|^log_format *=.*|log_format = $format|" \
		-e "s|^plugin_dir *=.*|plugin_dir = $conf/plugins.d|" \
		-e "s|^max_log_file_action *=.*|max_log_file_action = IGNORE|" \
		/etc/audit/auditd.conf >"$conf/auditd.conf"
	chmod 0640 "$conf/auditd.conf"
	pidfile_existed=no
	[ -e /var/run/auditd.pid ] && pidfile_existed=yes
	auditd -n -s nochange -c "$conf" &
	auditd_pid=$!
	for i in $(seq 50); do
		auditctl -s | grep -q "^pid $auditd_pid\$" && break
		sleep 0.1
	done
	run_all 0
	sleep 1
	kill -TERM "$auditd_pid"
	wait "$auditd_pid" || true
	auditd_pid=
	[ "$pidfile_existed" = no ] && rm -f /var/run/auditd.pid
	cp "$conf/audit.log" "$here/audit-$(echo $format | tr A-Z a-z).log"
done
auditctl -s | grep -q '^pid 0$' || { echo "auditd is still registered with the kernel" >&2; exit 1; }

echo "== journald"
printf '[Journal]\nStorage=volatile\nAudit=no\n' >"$work/journald.conf"
: >"$pids"
unshare -m --propagation private sh -eu -c '
	work=$1; here=$2
	mount -t tmpfs tmpfs /run/systemd
	mount -t tmpfs tmpfs /run/log
	mount --bind "$work/journald.conf" /etc/systemd/journald.conf
	/lib/systemd/systemd-journald &
	journald=$!
	sleep 2
	. "$work/functions"
	run_all 6
	sleep 2
	for o in short short-iso short-iso-precise short-precise short-unix short-monotonic short-full; do
		journalctl -D /run/log/journal --no-pager -o $o >"$work/journal-$o"
	done
	journalctl -D /run/log/journal --no-pager -k >"$work/journal-k"
	kill -TERM $journald
	wait $journald || true
' sh "$work" "$here"
for f in "$work"/journal-*; do
	window "$f" >"$here/$(basename "$f").log"
done
echo "done: $(ls "$here"/*.log | wc -l) fixture files"
