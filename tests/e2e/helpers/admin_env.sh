# tests/e2e/helpers/admin_env.sh - a throwaway root for the admin-login
# tests (admin_sshd.sh, admin_sudo_su.sh). Sourced, not run: tests/e2e/*.sh
# are the tests, this folder holds their helpers.
#
# The tests install pam_garde the way an administrator would: the plain
# module name in /etc/pam.d/sshd, sudo, su and login, the policy in
# /etc/garde/policy.conf, tokens in /var/lib/garde, events in
# /var/spool/garde, test users made with useradd and chpasswd. All of it
# happens inside a private mount namespace (unshare -m) over private copies:
#
#   /etc                       a copy of the host's, bind-mounted over it
#   the PAM module directory   a copy with build/pam_garde.so added
#   /run, /var                 empty tmpfs (sshd's /run/sshd, sudo's
#                              timestamps, wtmp, the garde store and spool)
#
# The host's /etc/pam.d, /etc/sudoers, /etc/passwd and /etc/shadow are never
# written, whatever happens to the test: the namespace and its mounts vanish
# with its last process, even after kill -9. The EXIT/INT/TERM trap kills
# the servers the test started and removes its temporary directory.

# admin_env_enter NAME SCRIPT [ARGS...]: checks that the tools are there and
# re-executes SCRIPT inside a private mount namespace. Returns (does
# nothing) when already inside. Set ADMIN_TOOLS first: the commands needed.
admin_env_enter() {
	name=$1
	shift
	[ -n "${GARDE_E2E_NS:-}" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		admin_env_skip "$name" "needs root (useradd and unshare in a private namespace)"
	fi
	for tool in unshare mount useradd chpasswd $ADMIN_TOOLS; do
		command -v "$tool" >/dev/null 2>&1 ||
			admin_env_skip "$name" "$tool missing (make deps installs it)"
	done
	if ! unshare -m --propagation private true 2>/dev/null; then
		admin_env_skip "$name" "cannot make a mount namespace (unshare -m)"
	fi
	GARDE_E2E_NS=1 exec unshare -m --propagation private sh "$@"
}

# A missing tool skips the test on a developer's machine and fails it in CI
# (CI=true), where `make deps` must have installed everything.
admin_env_skip() {
	if [ -n "${CI:-}" ] && [ "${CI}" != "false" ]; then
		echo "$1: FAIL: $2"
		echo "$1: 0 passed, 1 failed"
		exit 1
	fi
	echo "$1: SKIP (not counted): $2"
	exit 0
}

# The directory that holds pam_unix.so: where libpam looks for a module
# named without a path.
admin_env_pam_dir() {
	for d in /usr/lib/*/security /lib/*/security /usr/lib64/security /lib64/security \
		/usr/lib/security /lib/security; do
		if [ -e "$d/pam_unix.so" ]; then
			readlink -f "$d"
			return 0
		fi
	done
	return 1
}

# admin_env_setup ROOT MODULE: the private /etc, /run, /var and PAM module
# directory; ROOT is an empty 0700 directory of the test's.
admin_env_setup() {
	root=$1 module=$2
	[ -n "${GARDE_E2E_NS:-}" ] || { echo "admin_env_setup: not in the namespace" >&2; return 1; }
	pamdir=$(admin_env_pam_dir) || { echo "admin_env_setup: no pam_unix.so found" >&2; return 1; }
	# Nothing mounted here may propagate back to the host.
	mount --make-rprivate / || return 1
	cp -a /etc "$root/etc" || return 1
	mount --bind "$root/etc" /etc || return 1
	mkdir "$root/pam" && cp -a "$pamdir/." "$root/pam/" || return 1
	install -m 0644 "$module" "$root/pam/pam_garde.so" || return 1
	mount --bind "$root/pam" "$pamdir" || return 1
	mount -t tmpfs -o mode=0755 garde-e2e-run /run || return 1
	mkdir -m 0755 /run/sshd /run/lock || return 1
	mount -t tmpfs -o mode=0755 garde-e2e-var /var || return 1
	mkdir -m 0755 /var/lib /var/spool /var/log /var/cache /var/mail /var/lib/sudo || return 1
	mkdir -m 1777 /var/tmp || return 1
	ln -s /run /var/run && ln -s /run/lock /var/lock || return 1
	: >/var/log/wtmp && : >/var/log/btmp && : >/var/log/lastlog
	# The store and the spool as an administrator would make them.
	mkdir -m 0700 /var/lib/garde /var/spool/garde /etc/garde || return 1
	return 0
}

# admin_env_user NAME PASSWORD HOME_PARENT: a user in the private /etc.
admin_env_user() {
	useradd -M -d "$3/$1" -s /bin/sh "$1" || return 1
	mkdir -m 0700 "$3/$1" && chown "$1:" "$3/$1" || return 1
	printf '%s:%s\n' "$1" "$2" | chpasswd
}

# The events in the spool, one per line, and empties it.
admin_env_events() {
	for f in /var/spool/garde/new/*.json; do
		[ -e "$f" ] || continue
		cat "$f"
		echo
		rm -f "$f"
	done
}

# Counts the events among $1 (one per line) that match the regex $2.
admin_env_count() {
	printf '%s\n' "$1" | grep -Ec -- "$2"
}

# No store lock is held: every lock file and every user's record (a
# record is its user's lock) can be taken at once, without waiting
# (flock -n); prints the ones that cannot.
admin_env_locks_held() {
	for f in /var/lib/garde/lock/* /var/lib/garde/users/*; do
		[ -e "$f" ] || continue
		flock -n -x "$f" true || echo "$f"
	done
}

# admin_env_start_sshd DROPIN PAMFILE HOSTKEY LOG: the distro's sshd_config
# with DROPIN as /etc/ssh/sshd_config.d/00-garde.conf (drop-ins are read
# first and sshd keeps the first value, so it wins over the distro's
# KbdInteractiveAuthentication no) and PAMFILE as /etc/pam.d/sshd. Only the
# port, the host key and the log level are set on the command line. Sets
# PORT and SSHD_PID; stops the sshd started before, if any.
SSHD_PID=""
admin_env_start_sshd() {
	admin_env_stop_sshd
	mkdir -p /etc/ssh/sshd_config.d
	cp "$1" /etc/ssh/sshd_config.d/00-garde.conf || return 1
	cp "$2" /etc/pam.d/sshd || return 1
	: >"$4"
	for try in 1 2 3 4 5; do
		PORT=$((20000 + ($$ * 7 + try * 1009 + $(date +%N | sed 's/^0*//;s/^$/0/') % 997) % 30000))
		/usr/sbin/sshd -D -f /etc/ssh/sshd_config -h "$3" -E "$4" \
			-o "Port=$PORT" -o ListenAddress=127.0.0.1 -o LogLevel=VERBOSE \
			-o MaxStartups=30:30:60 &
		SSHD_PID=$!
		for _ in $(seq 50); do
			grep -q "Server listening on 127.0.0.1 port $PORT" "$4" && return 0
			kill -0 "$SSHD_PID" 2>/dev/null || break
			sleep 0.1
		done
		admin_env_stop_sshd
	done
	echo "sshd did not start:" && cat "$4"
	return 1
}

admin_env_stop_sshd() {
	if [ -n "$SSHD_PID" ]; then
		kill "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
	fi
	SSHD_PID=""
}
