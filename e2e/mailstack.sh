#!/usr/bin/env bash
# mailstack.sh: a throw-away Dovecot (IMAP + LMTP) and Postfix (SMTP) pair on
# loopback ports, for the helpdeskd end-to-end tests.
#
#   e2e/mailstack.sh start DIR   # (re)create configs under DIR, start, write DIR/env
#   e2e/mailstack.sh stop DIR    # stop both (ok if already stopped)
#   e2e/mailstack.sh status DIR  # exit 0 when both answer
#   e2e/mailstack.sh stop-dovecot DIR   # stop Dovecot only (an IMAP outage)
#   e2e/mailstack.sh start-dovecot DIR  # start it again with the same config and mail
#
# Environment (all optional):
#   E2E_IMAP_PORT (21143) E2E_LMTP_PORT (21024) E2E_SMTP_PORT (21025)
#   E2E_SUBMIT_PORT (21587) E2E_PASSWORD (e2e-secret) E2E_START_TIMEOUT (30)
#
# Must run as root: Dovecot and Postfix masters run as root and drop to their
# unprivileged users (dovecot/dovenull, postfix) and the mail user helpdeske2e.
# A start wipes the previous state in DIR (mail, queue, logs) and begins fresh.
set -euo pipefail

IMAP_PORT=${E2E_IMAP_PORT:-21143}
LMTP_PORT=${E2E_LMTP_PORT:-21024}
SMTP_PORT=${E2E_SMTP_PORT:-21025}
SUBMIT_PORT=${E2E_SUBMIT_PORT:-21587}
PASSWORD=${E2E_PASSWORD:-e2e-secret}
START_TIMEOUT=${E2E_START_TIMEOUT:-30}
MAIL_USER=helpdeske2e

LOCAL_DOMAINS="example.test acme.test globex.test"
USERS="support@example.test eng1@example.test eng2@example.test csm@example.test
scm@example.test quality@example.test desk@example.test impl@example.test
liaison@example.test alice@acme.test bob@acme.test carol@globex.test"

log() { printf 'mailstack: %s %s\n' "$(date +%T.%3N)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() {
	echo "usage: $0 start|stop|status|stop-dovecot|start-dovecot DIR" >&2
	exit 2
}

[ $# -eq 2 ] || usage
CMD=$1
[ -n "$2" ] || usage
if [ ! -d "$2" ]; then
	case "$CMD" in
	start) mkdir -p -- "$2" ;;
	stop | status | stop-dovecot | start-dovecot)
		log "$2 does not exist: nothing running"
		[ "$CMD" = stop ] && exit 0 || exit 1
		;;
	*) usage ;;
	esac
fi
DIR=$(cd -- "$2" && pwd -P)
[ "$DIR" != / ] || die "refusing to use / as DIR"

DC_DIR=$DIR/dovecot
DC_CONF=$DC_DIR/dovecot.conf
DC_BASE=$DC_DIR/run
PF_DIR=$DIR/postfix
PF_CONF=$PF_DIR/etc
PF_QUEUE=$PF_DIR/spool
PF_DATA=$PF_DIR/data
MAIL_DIR=$DIR/mail

need_root() {
	[ "$(id -u)" -eq 0 ] || die "must run as root (Dovecot/Postfix masters start as root and drop privileges)"
}

ensure_packages() {
	if command -v dovecot >/dev/null && [ -x /usr/lib/dovecot/imap ] &&
		[ -x /usr/lib/dovecot/lmtp ] && command -v postfix >/dev/null &&
		command -v postconf >/dev/null; then
		return
	fi
	log "installing dovecot-imapd dovecot-lmtpd postfix swaks"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q dovecot-imapd dovecot-lmtpd postfix swaks
}

ensure_user() {
	if ! getent passwd "$MAIL_USER" >/dev/null; then
		log "creating system user $MAIL_USER"
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$MAIL_USER"
	fi
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# greets PORT PATTERN: the server on PORT sends a greeting matching PATTERN.
greets() (
	line=
	exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
	IFS= read -r -t 3 line <&3 || true
	[[ $line == "$2"* ]]
) 2>/dev/null

# alive PID: the process exists and is not a zombie nobody reaped yet.
alive() {
	[ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
	local stat
	stat=$(cat 2>/dev/null "/proc/$1/stat") || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# Master PIDs from the pid files, but only if that process really is our
# master (a stale DIR after a reboot may name a reused PID).
dovecot_pid() {
	local pid
	pid=$(tr -dc '0-9' 2>/dev/null <"$DC_BASE/master.pid") || return 1
	[ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "-c $DC_CONF" || return 1
	echo "$pid"
}
postfix_pid() {
	local pid
	pid=$(tr -dc '0-9' 2>/dev/null <"$PF_QUEUE/pid/master.pid") || return 1
	[ -n "$pid" ] && [ "$(cat 2>/dev/null "/proc/$pid/comm")" = master ] &&
		tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF -- "MAIL_CONFIG=$PF_CONF" || return 1
	echo "$pid"
}

# wait_gone PID SECONDS
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

# ---- alternate_config_directories in the default /etc/postfix/main.cf ----

acd_list() { postconf -h alternate_config_directories 2>/dev/null | tr ', ' '\n\n' | sed '/^$/d'; }

# Postfix pauses ("to let the file cool down") before it reads a config file
# or texthash map modified in the last second, for every command and daemon.
# Backdating what we just wrote saves ~2 s per postfix/postconf call.
cool_down() { touch -d '-10 seconds' -- "$@"; }

acd_add() {
	if ! acd_list | grep -qxF -- "$PF_CONF"; then
		local v
		v=$( (acd_list; echo "$PF_CONF") | paste -sd' ')
		postconf -e "alternate_config_directories = $v"
		cool_down /etc/postfix/main.cf
	fi
}

acd_remove() {
	if acd_list | grep -qxF -- "$PF_CONF"; then
		local v
		v=$(acd_list | grep -vxF -- "$PF_CONF" | paste -sd' ' || true)
		postconf -e "alternate_config_directories = $v"
		cool_down /etc/postfix/main.cf
	fi
}

# ---------------------------------------------------------------- stop ----

# Both masters take their children down on SIGTERM (postfix-script stop does
# the same kill); stop them in parallel, poll fast, SIGKILL the process group
# as a last resort.
do_stop() {
	local keep_acd=${1:-} pf dc pid deadline p
	pf=$(postfix_pid || true)
	dc=$(dovecot_pid || true)
	alive "$pf" || pf=
	alive "$dc" || dc=
	if [ -n "$pf" ]; then
		log "stopping postfix (pid $pf)"
		kill "$pf" 2>/dev/null || true
	fi
	if [ -n "$dc" ]; then
		log "stopping dovecot (pid $dc)"
		kill "$dc" 2>/dev/null || true
	fi
	for pid in $pf $dc; do
		if ! wait_gone "$pid" 15; then
			log "master $pid did not exit, killing its process group"
			kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid" 2>/dev/null || true
			wait_gone "$pid" 5 || true
		fi
	done
	if [ -n "$pf$dc" ]; then
		# children may hold the listening sockets a moment longer
		deadline=$((SECONDS + 5))
		for p in "$IMAP_PORT" "$LMTP_PORT" "$SMTP_PORT" "$SUBMIT_PORT"; do
			while port_open "$p" && ((SECONDS < deadline)); do sleep 0.1; done
		done
	fi
	if [ -z "$keep_acd" ] && command -v postconf >/dev/null; then
		acd_remove
	fi
}

# --------------------------------------------------------------- start ----

write_dovecot() {
	local uid gid u
	uid=$(id -u "$MAIL_USER")
	gid=$(id -g "$MAIL_USER")
	mkdir -p "$DC_DIR/state" "$MAIL_DIR"
	chown "$MAIL_USER:$MAIL_USER" "$MAIL_DIR"
	chmod 0700 "$MAIL_DIR"

	: >"$DC_DIR/users"
	for u in $USERS; do
		# user:password:uid:gid:gecos:home:shell:extra (mail in home/Maildir)
		printf '%s:{PLAIN}%s:%s:%s::%s/%s/%s::\n' \
			"$u" "$PASSWORD" "$uid" "$gid" "$MAIL_DIR" "${u#*@}" "${u%@*}" >>"$DC_DIR/users"
	done
	chown root:dovecot "$DC_DIR/users"
	chmod 0640 "$DC_DIR/users"

	local plaintext=disable_plaintext_auth
	case "$(dovecot --version)" in
	2.3.* | 2.2.* | 2.1.* | 2.0.*) ;;
	*) plaintext=auth_allow_cleartext ;;
	esac
	local plainval=no
	[ "$plaintext" = auth_allow_cleartext ] && plainval=yes

	cat >"$DC_CONF" <<EOF
# generated by e2e/mailstack.sh; do not edit
instance_name = helpdeskd-e2e
base_dir = $DC_BASE
state_dir = $DC_DIR/state
log_path = $DC_DIR/dovecot.log
info_log_path = $DC_DIR/dovecot.log
debug_log_path = $DC_DIR/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
$plaintext = $plainval
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
mail_location = maildir:~/Maildir
mail_uid = $MAIL_USER
mail_gid = $MAIL_USER
mail_fsync = never
# the e2e tests expect full addresses as IMAP login names
auth_username_format = %Lu
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
login_trusted_networks = 127.0.0.0/8
# helpdeskd restarts and reconnects a lot in tests
mail_max_userip_connections = 200
# ps shows each imap/lmtp process's user and state
verbose_proctitle = yes
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
  }
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $DC_DIR/users
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $DC_DIR/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
  # Postfix keeps up to lmtp_destination_concurrency_limit connections
  # open; a few processes wait ready so a new one is not forked on demand.
  process_min_avail = 4
  client_limit = 1
}
service anvil {
  # no need for a chroot in a throw-away instance
  chroot =
}
# IDLE clients (helpdeskd, WaitFor) see new mail within a second even where
# inotify is unreliable (containers, gVisor).
mailbox_idle_check_interval = 1 secs
protocol imap {
  imap_idle_notify_interval = 1 mins
}
EOF
}

write_postfix() {
	mkdir -p "$PF_CONF" "$PF_QUEUE" "$PF_DATA"
	chown root:root "$PF_CONF" "$PF_QUEUE"
	chmod 0755 "$PF_CONF" "$PF_QUEUE"
	chown postfix:postfix "$PF_DATA"
	chmod 0700 "$PF_DATA"

	local u d
	: >"$PF_CONF/vmailbox"
	for u in $USERS; do
		printf '%s OK\n' "$u" >>"$PF_CONF/vmailbox"
	done
	# Not a user and not a local domain: accepted from loopback, then thrown away.
	printf 'evil.test discard:\n' >"$PF_CONF/transport"
	# Accepted from loopback (not a local domain, so smtpd does not check the
	# user), then handed to Dovecot's LMTP, which knows no such user (550
	# 5.1.1): Postfix bounces it itself, a DSN (RFC 3464) to the envelope
	# sender, as a real MTA does for a dead address.
	printf 'bounce.test lmtp:inet:[127.0.0.1]:%s\n' "$LMTP_PORT" >>"$PF_CONF/transport"

	cat >"$PF_CONF/main.cf" <<EOF
# generated by e2e/mailstack.sh; do not edit
compatibility_level = 3.6
config_directory = $PF_CONF
queue_directory = $PF_QUEUE
data_directory = $PF_DATA
maillog_file_prefixes = /var, /dev/stdout, $PF_DIR
maillog_file = $PF_DIR/postfix.log
syslog_name = postfix-e2e
mail_owner = postfix
setgid_group = postdrop

myhostname = mx.e2e.test
mydomain = e2e.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mynetworks_style = host
relay_domains =
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:no local delivery in the e2e stack
biff = no
append_dot_mydomain = no
readme_directory = no
smtputf8_enable = yes
recipient_delimiter = +

# every test domain goes to Dovecot over LMTP
virtual_mailbox_domains = $LOCAL_DOMAINS
virtual_mailbox_maps = texthash:$PF_CONF/vmailbox
virtual_alias_maps =
virtual_transport = lmtp:inet:[127.0.0.1]:$LMTP_PORT
transport_maps = texthash:$PF_CONF/transport
# mail for any other domain never leaves the box
default_transport = discard:no external delivery in the e2e stack
relay_transport = discard:no external delivery in the e2e stack

smtpd_banner = \$myhostname ESMTP helpdeskd-e2e
smtpd_tls_security_level = none
smtp_tls_security_level = none
lmtp_tls_security_level = none
smtpd_sasl_auth_enable = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_reject_unlisted_recipient = yes

# fast and DNS-free
disable_dns_lookups = yes
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_rate_limit = 0
smtpd_client_connection_count_limit = 0
in_flow_delay = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s
maximal_queue_lifetime = 10m
bounce_queue_lifetime = 10m
delay_warning_time = 0
lmtp_connect_timeout = 5s
# Postfix -> Dovecot over LMTP, tuned as for a local hop in production:
# connections to Dovecot are always kept and reused between deliveries
# (not only once a backlog builds up), so a mail costs no connect + LHLO
# (the pattern is the next hop's host, without brackets or port); and the
# queue manager starts at the full concurrency instead of a slow start
# from 5, within what Dovecot's lmtp service allows (process_limit).
lmtp_connection_cache_destinations = 127.0.0.1
lmtp_initial_destination_concurrency = 20
lmtp_destination_concurrency_limit = 20
lmtp_lhlo_timeout = 10s
message_size_limit = 52428800
EOF

	cat >"$PF_CONF/master.cf" <<EOF
# generated by e2e/mailstack.sh; do not edit
# service              type  private unpriv chroot wakeup maxproc command
127.0.0.1:$SMTP_PORT   inet  n       -      n      -      -       smtpd
127.0.0.1:$SUBMIT_PORT inet  n       -      n      -      -       smtpd
  -o syslog_name=postfix-e2e/submission
pickup    unix  n       -       n       1       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       1       1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	cool_down "$PF_CONF"/*
}

wait_ready() {
	local deadline=$((SECONDS + START_TIMEOUT)) ok_imap= ok_lmtp= ok_smtp= ok_sub=
	while :; do
		[ -n "$ok_imap" ] || { greets "$IMAP_PORT" '* OK' && ok_imap=1; } || true
		[ -n "$ok_lmtp" ] || { greets "$LMTP_PORT" '220' && ok_lmtp=1; } || true
		[ -n "$ok_smtp" ] || { greets "$SMTP_PORT" '220' && ok_smtp=1; } || true
		[ -n "$ok_sub" ] || { greets "$SUBMIT_PORT" '220' && ok_sub=1; } || true
		if [ -n "$ok_imap" ] && [ -n "$ok_lmtp" ] && [ -n "$ok_smtp" ] && [ -n "$ok_sub" ]; then
			return 0
		fi
		if ((SECONDS >= deadline)); then
			log "timeout after ${START_TIMEOUT}s: imap=${ok_imap:-no} lmtp=${ok_lmtp:-no} smtp=${ok_smtp:-no} submit=${ok_sub:-no}"
			tail -n 30 "$DC_DIR/dovecot.log" "$PF_DIR/postfix.log" >&2 2>/dev/null || true
			return 1
		fi
		sleep 0.1
	done
}

do_start() {
	local t0=$SECONDS p
	need_root
	case "$PASSWORD" in
	'' | *[:[:space:]]*) die "E2E_PASSWORD must be non-empty without ':' or whitespace (passwd-file format)" ;;
	esac
	ensure_packages
	ensure_user

	# A previous instance in the same DIR (stale or still running) goes first.
	do_stop keep-acd

	for p in "$IMAP_PORT" "$LMTP_PORT" "$SMTP_PORT" "$SUBMIT_PORT"; do
		if port_open "$p"; then
			die "port 127.0.0.1:$p is already in use (another mail stack with a different DIR? stop it, or set E2E_*_PORT)"
		fi
	done
	# Dovecot's UNIX sockets live under DIR and are limited to ~108 bytes.
	[ ${#DIR} -le 70 ] || die "DIR path too long for UNIX sockets (${#DIR} > 70 chars): $DIR"

	rm -rf -- "$DC_DIR" "$PF_DIR" "$MAIL_DIR" "$DIR/env"
	mkdir -p "$DC_DIR" "$PF_DIR"
	# Unprivileged daemons (dovecot auth, mail user, postfix) must traverse DIR.
	chmod 0755 "$DIR" "$DC_DIR" "$PF_DIR"
	write_dovecot
	write_postfix
	if ! runuser -u "$MAIL_USER" -- test -w "$MAIL_DIR"; then
		die "$MAIL_USER cannot write $MAIL_DIR: a parent directory of $DIR is not searchable by other users; use a DIR under /tmp"
	fi

	log "starting dovecot ($(dovecot --version | cut -d' ' -f1)) imap=$IMAP_PORT lmtp=$LMTP_PORT"
	# Daemons must not inherit our stdout/stderr: a caller piping this script
	# (| tee, $(...), CI log capture) would otherwise wait forever.
	dovecot -c "$DC_CONF" </dev/null >>"$DC_DIR/dovecot.log" 2>&1 || die "dovecot failed to start; see $DC_DIR/dovecot.log"

	acd_add
	log "starting postfix ($(postconf -h mail_version)) smtp=$SMTP_PORT submit=$SUBMIT_PORT"
	postfix -c "$PF_CONF" start </dev/null >"$PF_DIR/start.out" 2>&1 || {
		cat "$PF_DIR/start.out" >&2
		tail -n 30 "$PF_DIR/postfix.log" >&2 2>/dev/null || true
		die "postfix failed to start"
	}

	wait_ready || die "mail stack did not become ready"

	{
		printf 'export E2E_DIR=%q\n' "$DIR"
		printf 'export E2E_IMAP=127.0.0.1:%s\n' "$IMAP_PORT"
		printf 'export E2E_SMTP=127.0.0.1:%s\n' "$SMTP_PORT"
		printf 'export E2E_SUBMIT=127.0.0.1:%s\n' "$SUBMIT_PORT"
		printf 'export E2E_LMTP=127.0.0.1:%s\n' "$LMTP_PORT"
		printf 'export E2E_PASSWORD=%q\n' "$PASSWORD"
		printf 'export E2E_USERS=%q\n' "$(echo $USERS)"
		printf 'export E2E_DOVECOT_LOG=%q\n' "$DC_DIR/dovecot.log"
		printf 'export E2E_POSTFIX_LOG=%q\n' "$PF_DIR/postfix.log"
	} >"$DIR/env"
	log "ready in $((SECONDS - t0))s; source $DIR/env"
}

do_status() {
	local rc=0
	if alive "$(dovecot_pid || true)" && greets "$IMAP_PORT" '* OK'; then
		log "dovecot running (pid $(dovecot_pid))"
	else
		log "dovecot not running"
		rc=1
	fi
	if alive "$(postfix_pid || true)" && greets "$SMTP_PORT" '220'; then
		log "postfix running (pid $(postfix_pid))"
	else
		log "postfix not running"
		rc=1
	fi
	return $rc
}

# An IMAP outage for the tests: Dovecot alone goes down and comes back with
# the configuration and mail of the running stack.
do_stop_dovecot() {
	local dc
	need_root
	dc=$(dovecot_pid || true)
	if alive "$dc"; then
		log "stopping dovecot (pid $dc)"
		kill "$dc" 2>/dev/null || true
		wait_gone "$dc" 15 || kill -9 -- "-$dc" 2>/dev/null || kill -9 "$dc" 2>/dev/null || true
	fi
	local deadline=$((SECONDS + 5))
	while port_open "$IMAP_PORT" && ((SECONDS < deadline)); do sleep 0.1; done
}

do_start_dovecot() {
	local i
	need_root
	[ -f "$DC_CONF" ] || die "no dovecot config in $DC_DIR: run start first"
	alive "$(dovecot_pid || true)" && return 0
	log "starting dovecot imap=$IMAP_PORT"
	dovecot -c "$DC_CONF" </dev/null >>"$DC_DIR/dovecot.log" 2>&1 || die "dovecot failed to start; see $DC_DIR/dovecot.log"
	for ((i = 0; i < START_TIMEOUT * 10; i++)); do
		greets "$IMAP_PORT" '* OK' && return 0
		sleep 0.1
	done
	die "dovecot did not answer on $IMAP_PORT"
}

case "$CMD" in
start) do_start ;;
stop-dovecot) do_stop_dovecot ;;
start-dovecot) do_start_dovecot ;;
stop)
	need_root
	do_stop
	log "stopped"
	;;
status) do_status ;;
*) usage ;;
esac
