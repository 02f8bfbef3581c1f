task=$1 start=$2
alive() {
  { read -r s < "/proc/$task/stat"; } 2>/dev/null || return 1
  s=${s##*") "}
  set -- $s
  [ "$1" != Z ] && [ "$1" != X ] && [ "${20}" = "$start" ]
}
for i in $(seq 2000); do alive || { echo "dead at $i: $s"; break; }; done; echo done
