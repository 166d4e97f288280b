# Sourced by scripts/test (and scripts/demo): the OS packages a command needs, installed when missing.
# As root, or when `sudo -n` works, missing packages are installed with apt-get; otherwise the script stops at
# once with the one command to run. The same way for every package (Debian names).

# need_os_packages COMMAND:PACKAGE ...   install PACKAGE when COMMAND is not on PATH
need_os_packages() {
    local pair missing=()
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    install_os_packages ${missing[@]+"${missing[@]}"}
}

# install_os_packages PACKAGE ...   (nothing to do without arguments)
install_os_packages() {
    [ $# -eq 0 ] && return 0
    local as_root=()
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            as_root=(sudo -n)
        else
            echo "$(basename "$0") needs the OS packages $*; install them with:" >&2
            echo "    sudo apt-get install -y $*" >&2
            exit 3
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$(basename "$0") needs the OS packages $* (Debian names): install them with your package manager" >&2
        exit 3
    fi
    echo "Installing the OS packages $* (apt-get)…" >&2
    local apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300)
    if ! { "${apt[@]}" update >/dev/null && "${apt[@]}" install -y --no-install-recommends "$@" >/dev/null; }; then
        echo "$(basename "$0"): could not install $*; install them with:" >&2
        echo "    sudo apt-get install -y $*" >&2
        exit 3
    fi
}
