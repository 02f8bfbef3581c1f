
# The function below is packaging/bash-completion/muster.bash; the data above come from the --help texts.
# Completes commands, rendezvous sub-commands, each command's flags and the fixed values of a flag
# (--format text|json); after `--`, the program (a command name) and then files.
_muster() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' i word cmd='' sub=''
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		if [[ $word == -- ]]; then
			# the program: a command name first, then (through -o default) file names
			((i == COMP_CWORD - 1)) && mapfile -t COMPREPLY < <(compgen -c -- "$cur")
			return 0
		fi
		if [[ -z $cmd && " $_muster_commands " == *" $word "* ]]; then
			cmd=$word
		elif [[ $cmd == rendezvous && -z $sub && $word != -* ]]; then
			sub=$word
		fi
	done
	if [[ -n ${_muster_values[$prev]:-} ]]; then
		mapfile -t COMPREPLY < <(compgen -W "${_muster_values[$prev]}" -- "$cur")
		return 0
	fi
	case $prev in
	--*-dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur") && return 0 ;;
	--trace) mapfile -t COMPREPLY < <(compgen -f -- "$cur") && return 0 ;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "${_muster_flags[${cmd:-run}]:-} --help --version" -- "$cur")
	elif [[ -z $cmd ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$_muster_commands" -- "$cur")
	elif [[ $cmd == rendezvous && -z $sub ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$_muster_rendezvous_commands" -- "$cur")
	fi
	return 0
}
complete -o bashdefault -o default -F _muster muster
