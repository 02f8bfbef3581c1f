# Sourced by start.sh and stop.sh: helpers that need $DIR (the state dir) set.

# pid alive and not a zombie, and its command line mentions our state dir
our_pid() {
	local f=$1 pid st
	[[ -s $f ]] || return 1
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -r /proc/$pid/stat ]] || return 1
	st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
	[[ $st != Z && $st != X ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/" || return 1
	echo "$pid"
}
