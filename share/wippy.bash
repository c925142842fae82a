# bash completion for wippy: commands, options, and the command processes
# of the project in the current directory (wippy run list).
_wippy() {
    local current=${COMP_WORDS[COMP_CWORD]} previous=${COMP_WORDS[COMP_CWORD-1]}
    local command="" word
    for word in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
        case $word in
            run|init|registry|version|help) command=$word; break ;;
        esac
    done
    case $previous in
        -c|--config) COMPREPLY=($(compgen -f -- "$current")); return ;;
        --set|-m|--memory-limit|-o|--override|--threads) return ;;
        --log-format) COMPREPLY=($(compgen -W "text json" -- "$current")); return ;;
    esac
    case $command in
        "")
            COMPREPLY=($(compgen -W "run init registry version help --config --set --override --memory-limit --threads -q --quiet -vv --log-format --verbose --help --version" -- "$current")) ;;
        run)
            COMPREPLY=($(compgen -W "list --exec --help $(wippy run list 2>/dev/null | awk '{print $1}')" -- "$current")) ;;
        registry)
            if [[ $previous == show ]]; then
                COMPREPLY=($(compgen -W "$(wippy registry list 2>/dev/null | awk '{print $1}')" -- "$current"))
            else
                COMPREPLY=($(compgen -W "list show --json" -- "$current"))
            fi ;;
        help)
            COMPREPLY=($(compgen -W "run init registry version help" -- "$current")) ;;
        init)
            COMPREPLY=($(compgen -W "--starter -d --modules-dir -l --help" -- "$current")) ;;
    esac
}
complete -F _wippy wippy
