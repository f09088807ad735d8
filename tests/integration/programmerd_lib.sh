# Shared by the programmerd-level integration tests (sourced). fastpath_pid
# is used by every test with fast paths. programmerd_teardown stops the
# test's programmerd and removes every namespace, process and cgroup with
# the run's prefix (the parent "vnode" cgroup too, if nobody else uses it).
# Needs P (prefix), VN (VNode namespace), CG (cgroup root) and PD_PID
# (programmerd's pid, may be empty).
programmerd_teardown() {
    if [ -n "$PD_PID" ] && kill -0 "$PD_PID" 2>/dev/null; then
        kill "$PD_PID"
        i=0
        while kill -0 "$PD_PID" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -9 "$PD_PID" 2>/dev/null
    fi
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P-"); do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -9 "$pid" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null
    done
    for d in "$CG"/*/vnode/"$VN" "$CG"/vnode/"$VN"; do
        [ -d "$d" ] || continue
        for leaf in "$d"/*/; do
            [ -d "$leaf" ] || continue
            for pid in $(cat "$leaf/cgroup.procs" 2>/dev/null); do
                kill -9 "$pid" 2>/dev/null
            done
            sleep 0.1
            rmdir "$leaf" 2>/dev/null
        done
        rmdir "$d" 2>/dev/null
        rmdir "$(dirname "$d")" 2>/dev/null
    done
}

# Prints the pid of the fast-path process in namespace NS (nothing if none).
# Other processes show up in a sliver's namespace for a moment (the
# daemon's `ip -n` helpers), so `ip netns pids` alone is not enough.
fastpath_pid() {
    for p in $(ip netns pids "$1" 2> /dev/null); do
        [ "$(cat "/proc/$p/comm" 2> /dev/null)" = fastpath ] && { echo "$p"; return 0; }
    done
    return 0
}
