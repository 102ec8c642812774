# SPDX-License-Identifier: BSD-3-Clause
# bash completion for daxpolicy(1), installed as
# /usr/share/bash-completion/completions/daxpolicy.
#
# The commands and each command's options are read from the program's own --help (once per
# shell and command), so a command or option added later completes without a change here.
# Only what --help cannot tell is listed below: the values some options take, and the names
# (volumes, rules) the running daemon knows, asked for when they are to be completed.

_daxpolicy_commands=
declare -A _daxpolicy_options=()

# The subcommands of `daxpolicy --help`: the lines under "Subcommands:".
_daxpolicy_list_commands()
{
	"$1" --help 2>/dev/null | awk '/^Subcommands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'
}

# The option names of `daxpolicy COMMAND --help` ("  -r,--recursive  ..." gives -r and
# --recursive).
_daxpolicy_list_options()
{
	"$1" "$2" --help 2>/dev/null |
		awk '/^  -/ { n = split($1, o, ","); for (i = 1; i <= n; i++) print o[i] }'
}

# The values of one string field in the daemon's JSON reply to a listing command.
_daxpolicy_names()
{
	"$1" "$2" 2>/dev/null | sed -n "s/.*\"$3\": *\"\\([^\"]*\\)\".*/\\1/p"
}

# COMPREPLY: those of the words that start with what is typed ($cur of _daxpolicy).
_daxpolicy_offer()
{
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

_daxpolicy()
{
	local cur prev words cword
	# VOLUME:/path stays one word (COMP_WORDBREAKS has ':').
	_init_completion -n : || return
	local prog=${words[0]} cmd='' i
	# The command is the first word that is neither an option nor the value of --socket.
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--socket) ((i++)) ;;
		-*) ;;
		*)
			cmd=${words[i]}
			break
			;;
		esac
	done

	case $prev in
	--socket | --config | mkfs | fsck)
		_filedir
		return
		;;
	--policy-dir | --populate)
		_filedir -d
		return
		;;
	--type)
		_daxpolicy_offer "flag-change deferred lease-break lease-revoked rule-change volume reconcile reload"
		return
		;;
	--state)
		_daxpolicy_offer "in-sync pending-unmap pending-evict out-of-sync unmanaged unsupported"
		return
		;;
	--dax)
		_daxpolicy_offer "on off"
		return
		;;
	--rule)
		_daxpolicy_offer "$(_daxpolicy_names "$prog" list-rules name)"
		return
		;;
	--name | --subtree | --include | --exclude | --priority | --since | --since-id | --limit | \
		--size | --inodes | -c)
		return # a value of the user's own
		;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			_daxpolicy_offer "--socket -u --human --version --help"
		else
			[[ -n $_daxpolicy_commands ]] || _daxpolicy_commands=$(_daxpolicy_list_commands "$prog")
			_daxpolicy_offer "$_daxpolicy_commands"
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		[[ -n ${_daxpolicy_options[$cmd]+set} ]] ||
			_daxpolicy_options[$cmd]=$(_daxpolicy_list_options "$prog" "$cmd")
		_daxpolicy_offer "${_daxpolicy_options[$cmd]} -u --human --socket"
		return
	fi
	case $cmd in
	check) _filedir ;;
	remove-rule)
		_daxpolicy_offer "$(_daxpolicy_names "$prog" list-rules name)"
		;;
	list | set-dax | clear-dax | explain | reconcile | cancel-pending | list-leases | io)
		# VOLUME:/path names after the volume, or a host path under a host volume's mount.
		if [[ $cur != */* && $cur != .* ]]; then
			local volumes
			volumes=$(_daxpolicy_names "$prog" list-volumes name | sed 's/$/:\//')
			_daxpolicy_offer "$volumes"
			__ltrim_colon_completions "$cur"
			compopt -o nospace 2>/dev/null # (not when called outside completion, by tests)
		fi
		[[ ${#COMPREPLY[@]} -gt 0 || $cur == *:* ]] || _filedir
		;;
	esac
}
complete -F _daxpolicy daxpolicy
