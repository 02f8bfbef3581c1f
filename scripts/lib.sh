# shellcheck shell=bash disable=SC2034 # MUSTER_JDK_* and MUSTER_REL_* are outputs for the caller
# Helpers sourced by muster's scripts (scripts/muster, build, test, demo, .ci/run). Defines functions only:
# sourcing it runs nothing and changes no shell option.
#
# scripts/muster sources this on every task start, so the JDK lookup uses bash builtins only (no subshell,
# no `java -version`): a JDK's version comes from its `release` file.

# muster_log NAME MESSAGE... : one status line on stderr, prefixed with the script's name.
muster_log() {
	local name=$1
	shift
	printf '%s: %s\n' "$name" "$*" >&2
}

# muster_die NAME MESSAGE... : one error line on stderr, then exit 1.
muster_die() {
	muster_log "$1" "error: ${*:2}"
	exit 1
}

# muster_jdk_release HOME : reads HOME/release. Sets MUSTER_REL_VERSION (JAVA_VERSION, e.g. 25.0.1),
# MUSTER_REL_RUNTIME (JAVA_RUNTIME_VERSION, e.g. 25.0.1+8-LTS), MUSTER_REL_MAJOR (25) and MUSTER_REL_ORDER
# (a number that sorts versions: 25000001). Returns 1 when there is no readable release file.
muster_jdk_release() {
	local line lines
	MUSTER_REL_VERSION='' MUSTER_REL_RUNTIME='' MUSTER_REL_MAJOR=0 MUSTER_REL_ORDER=0
	[[ -f $1/release && -r $1/release ]] || return 1
	mapfile -t lines <"$1/release" || return 1
	for line in "${lines[@]}"; do
		case $line in
		JAVA_VERSION=*) line=${line#*=} && MUSTER_REL_VERSION=${line//\"/} ;;
		JAVA_RUNTIME_VERSION=*) line=${line#*=} && MUSTER_REL_RUNTIME=${line//\"/} ;;
		esac
	done
	[[ -n $MUSTER_REL_VERSION ]] || return 1
	# 1.8.0_402 is Java 8; 25.0.1, 25, 26-ea are 25, 25, 26.
	local v=${MUSTER_REL_VERSION#1.} major minor=0 patch=0
	[[ $MUSTER_REL_VERSION == 1.* ]] || v=$MUSTER_REL_VERSION
	v=${v%%[!0-9.]*}
	IFS=. read -r major minor patch _ <<<"$v"
	[[ $major =~ ^[0-9]+$ ]] || return 1
	[[ ${minor:-0} =~ ^[0-9]+$ ]] || minor=0
	[[ ${patch:-0} =~ ^[0-9]+$ ]] || patch=0
	MUSTER_REL_MAJOR=$((10#$major))
	MUSTER_REL_ORDER=$((10#$major * 1000000 + 10#${minor:-0} * 1000 + 10#${patch:-0}))
	[[ -n $MUSTER_REL_RUNTIME ]] || MUSTER_REL_RUNTIME=$MUSTER_REL_VERSION
}

# _muster_take HOME JAVA : accept this JDK as the selection (globals below).
_muster_take() {
	MUSTER_JDK_HOME=$1 MUSTER_JDK_JAVA=$2
	MUSTER_JDK_VERSION=$MUSTER_REL_VERSION MUSTER_JDK_RUNTIME=$MUSTER_REL_RUNTIME MUSTER_JDK_MAJOR=$MUSTER_REL_MAJOR
}

# _muster_home_of JAVA : sets _MUSTER_HOME to the home of a java binary (…/bin/java → …), following a
# symbolic link (the alternatives system's /usr/bin/java) only when there is no release file next to it.
_muster_home_of() {
	local bin=$1
	_MUSTER_HOME=''
	if [[ $bin == */bin/java && -f ${bin%/bin/java}/release ]]; then
		_MUSTER_HOME=${bin%/bin/java}
		return 0
	fi
	[[ -L $bin ]] && bin=$(readlink -f -- "$bin" 2>/dev/null)
	[[ $bin == */bin/java ]] || return 1
	_MUSTER_HOME=${bin%/bin/java}
}

# muster_select_jdk MIN [PINNED] : picks a Java whose version is >= MIN and sets MUSTER_JDK_HOME, MUSTER_JDK_JAVA
# (the binary), MUSTER_JDK_VERSION, MUSTER_JDK_RUNTIME and MUSTER_JDK_MAJOR. Order: MUSTER_JAVA (a java binary),
# JAVA_HOME, PINNED (a java binary: the one an installed muster was installed with), the newest JDK under
# MUSTER_JVM_DIR (default /usr/lib/jvm), java on PATH. A MUSTER_JAVA whose version cannot be read is taken as
# given (MUSTER_JDK_MAJOR 0): the user named it. Returns 1 if none fits.
muster_select_jdk() {
	local min=$1 pinned=${2:-} d best='' best_order=0 java
	MUSTER_JDK_HOME='' MUSTER_JDK_JAVA='' MUSTER_JDK_VERSION='' MUSTER_JDK_RUNTIME='' MUSTER_JDK_MAJOR=0
	if [[ -n ${MUSTER_JAVA:-} && -x $MUSTER_JAVA ]]; then
		if _muster_home_of "$MUSTER_JAVA" && muster_jdk_release "$_MUSTER_HOME"; then
			((MUSTER_REL_MAJOR >= min)) && { _muster_take "$_MUSTER_HOME" "$MUSTER_JAVA"; return 0; }
		else
			MUSTER_REL_VERSION='' MUSTER_REL_RUNTIME='' MUSTER_REL_MAJOR=0
			_muster_take "${_MUSTER_HOME:-}" "$MUSTER_JAVA"
			return 0
		fi
	fi
	if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]] && muster_jdk_release "$JAVA_HOME" &&
		((MUSTER_REL_MAJOR >= min)); then
		_muster_take "${JAVA_HOME%/}" "${JAVA_HOME%/}/bin/java"
		return 0
	fi
	# A pinned Java that is gone (the JDK was upgraded away) falls through to the search below.
	if [[ -n $pinned && -x $pinned ]] && _muster_home_of "$pinned" && muster_jdk_release "$_MUSTER_HOME" &&
		((MUSTER_REL_MAJOR >= min)); then
		_muster_take "$_MUSTER_HOME" "$pinned"
		return 0
	fi
	for d in "${MUSTER_JVM_DIR:-/usr/lib/jvm}"/*/; do
		d=${d%/}
		# Debian's java-1.17.0-openjdk-amd64 style links point at a directory we also see.
		[[ -L $d || ! -x $d/bin/java ]] && continue
		muster_jdk_release "$d" || continue
		((MUSTER_REL_MAJOR >= min && MUSTER_REL_ORDER > best_order)) || continue
		best=$d best_order=$MUSTER_REL_ORDER
	done
	if [[ -n $best ]]; then
		muster_jdk_release "$best"
		_muster_take "$best" "$best/bin/java"
		return 0
	fi
	java=$(type -P java) || return 1
	_muster_home_of "$java" && muster_jdk_release "$_MUSTER_HOME" && ((MUSTER_REL_MAJOR >= min)) || return 1
	_muster_take "$_MUSTER_HOME" "$java"
}

# muster_find_jdk MIN : prints the home of a JDK with version >= MIN (see muster_select_jdk); returns 1 if none.
muster_find_jdk() {
	muster_select_jdk "$1" || return 1
	printf '%s\n' "$MUSTER_JDK_HOME"
}

# muster_root : prints the repository root (the parent of scripts/).
muster_root() {
	local here=${BASH_SOURCE[0]%/*}
	[[ $here == "${BASH_SOURCE[0]}" ]] && here=.
	(cd "$here/.." && pwd -P)
}

# muster_apt_install NAME PACKAGE... : installs the Debian packages that are missing, running `apt-get update`
# at most once per process tree (MUSTER_APT_UPDATED=1 is exported after it). Needs root and apt-get.
muster_apt_install() {
	local name=$1 p missing=()
	shift
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	command -v apt-get >/dev/null 2>&1 || { muster_log "$name" "error: missing packages (${missing[*]}) and no apt-get"; return 1; }
	[[ $(id -u) == 0 ]] || { muster_log "$name" "error: missing packages (${missing[*]}); install them as root"; return 1; }
	if [[ ${MUSTER_APT_UPDATED:-0} != 1 ]]; then
		DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=180 update >&2 || return 1
		export MUSTER_APT_UPDATED=1
	fi
	muster_log "$name" "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=180 \
		"${missing[@]}" >&2
}

# muster_normpath PATH : sets MUSTER_PATH to PATH made absolute (against $PWD) with `.`, `..` and repeated `/`
# removed lexically, without a subshell. Symbolic links are not resolved.
muster_normpath() {
	local p=$1 part out=() IFS=/
	[[ $p == /* ]] || p=$PWD/$p
	for part in $p; do
		case $part in
		'' | .) ;;
		..) ((${#out[@]})) && unset 'out[${#out[@]}-1]' ;;
		*) out+=("$part") ;;
		esac
	done
	MUSTER_PATH="/${out[*]}"
}

# muster_cds_train WAIT JAVA TRAIN_FLAG DIR JAR_ID KEY EXT JAR JVM_FLAG... : the start-up archive training run
# for scripts/muster. Under the lock DIR/JAR_ID.lock (WAIT=0: give up at once if another task holds it; else wait
# up to WAIT seconds) it runs
#   JAVA JVM_FLAG... TRAIN_FLAG=TMP -jar JAR run --dry-run --no-barrier --quiet -- /bin/true
# (an exec'ing run never exits, so it would never write an archive), then renames TMP to
# DIR/JAR_ID-KEY.<size>.EXT. scripts/muster checks the size in the name against the file's real size: a
# truncated dynamic archive crashes JDK 17 with SIGBUS. Older archives of the same jar, and temp files that a
# killed training left, are removed. Under its final name an archive is always complete.
muster_cds_train() {
	local wait=$1 java=$2 flag=$3 dir=$4 id=$5 key=$6 ext=$7 jar=$8 f size
	shift 8
	local tmp=$dir/.$id-$key.$$.tmp fd
	# Descriptors the task inherited (PMI's, a pipe of srun's) must not stay open in a process that outlives it.
	for fd in /proc/self/fd/*; do
		fd=${fd##*/}
		((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
	done
	mkdir -p -- "$dir" || return 1
	exec 9>>"$dir/$id.lock" || return 1
	if ((wait > 0)); then flock -w "$wait" 9; else flock -n 9; fi || return 0
	for f in "$dir/$id-$key".*."$ext"; do
		[[ -e $f ]] || continue
		size=${f%."$ext"} && size=${size##*.}
		[[ $(stat -c %s -- "$f" 2>/dev/null) == "$size" ]] && return 0 # another task has just trained it
	done
	for f in "$dir/.$id"-*.tmp*; do rm -f -- "$f"; done
	# JDK 25 writes TMP.config beside TMP while it trains. Niced: the tasks of the step come first.
	if ! nice -n 10 timeout 300 "$java" "$@" "$flag=$tmp" -jar "$jar" run --dry-run --no-barrier --quiet -- /bin/true \
		</dev/null >/dev/null 2>&1 || [[ ! -s $tmp ]]; then
		rm -f -- "$tmp" "$tmp.config"
		return 1
	fi
	size=$(stat -c %s -- "$tmp") || return 1
	for f in "$dir/$id"-*."$ext"; do rm -f -- "$f"; done
	mv -f -- "$tmp" "$dir/$id-$key.$size.$ext"
}

# muster_maven_env NAME : selects a JDK >= 17 for Maven (exports JAVA_HOME; JAVA_HOME wins, else the newest) or
# exits with one line saying so. Any of them builds the jars (the FFM exec class is compiled against a stand-in
# of that API: launcher/pom.xml).
# On JDK >= 23 Maven's own Guava calls sun.misc.Unsafe, and the JDK warns about it on every build: allowed
# here, since it is Maven's code, not muster's.
muster_maven_env() {
	if ! muster_select_jdk 17 || [[ -z $MUSTER_JDK_HOME ]]; then
		muster_die "$1" "muster's build needs a JDK >= 17 (Debian: apt-get install openjdk-17-jdk-headless); install one or set JAVA_HOME"
	fi
	command -v mvn >/dev/null 2>&1 || muster_die "$1" "mvn not found; install Maven >= 3.8 (apt-get install maven)"
	export JAVA_HOME=$MUSTER_JDK_HOME
	if ((MUSTER_JDK_MAJOR >= 23)) && [[ ${MAVEN_OPTS:-} != *sun-misc-unsafe-memory-access* ]]; then
		export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow"
	fi
}
