#!/usr/bin/env bash
# Times the phases of `make test` so a CI log shows where the time goes.
#
#   scripts/phase-times.sh run NAME COMMAND [ARG...]   run COMMAND as phase NAME
#   scripts/phase-times.sh report                      print the table and the total
#
# The Makefile sets VIRTHOST_PHASE_TIMES (a file of this make test run) for
# `make test` and everything it makes. Without it, `run` only runs COMMAND, so
# `make libvirtd` or `make test-swift` on their own behave as before.
#
# The file holds one line per command: NAME<TAB>START<TAB>END<TAB>STATUS
# (epoch seconds), after a first line `start<TAB>EPOCH` written by the first
# phase. Commands with the same NAME add up. `run` exits with COMMAND's
# status; when COMMAND fails it prints the report first, so a failed run shows
# where the time went too. The total is the wall time since the first phase
# started; `other` is the part of it spent outside the phases (make itself).
set -euo pipefail

FILE=${VIRTHOST_PHASE_TIMES:-}
now() { date +%s.%N; }

report() {
    [[ -n $FILE && -s $FILE ]] || return 0
    awk -F'\t' -v now="$(now)" -v failed="${1:-}" '
        $1 == "start" { start = $2; next }
        {
            if (!($1 in secs)) { order[++n] = $1 }
            secs[$1] += $3 - $2
            if ($4 != 0) { status[$1] = $4 }
            sum += $3 - $2
        }
        END {
            total = now - start
            print ""
            print "make test: time per phase" (failed != "" ? " (stopped: " failed " failed)" : "")
            for (i = 1; i <= n; i++) {
                name = order[i]
                note = (name in status) ? "  FAILED (exit " status[name] ")" : ""
                printf "  %-16s %8.1f s%s\n", name, secs[name], note
            }
            printf "  %-16s %8.1f s\n", "other", total - sum
            printf "  %-16s %8.1f s  (%dm%02ds)\n", "total", total, int(total / 60), int(total) % 60
        }' "$FILE"
}

case ${1:-} in
run)
    (( $# >= 3 )) || { echo "usage: $0 run NAME COMMAND [ARG...]" >&2; exit 2; }
    name=$2
    shift 2
    [[ -n $FILE ]] || exec "$@"
    if [[ ! -s $FILE ]]; then
        mkdir -p "$(dirname "$FILE")"
        # Files of earlier runs: kept a day for a look after the fact.
        find "$(dirname "$FILE")" -maxdepth 1 -type f -mtime +1 -delete 2>/dev/null || true
        printf 'start\t%s\n' "$(now)" >"$FILE"
    fi
    started=$(now)
    status=0
    "$@" || status=$?
    printf '%s\t%s\t%s\t%s\n' "$name" "$started" "$(now)" "$status" >>"$FILE"
    if (( status != 0 )); then report "$name" >&2; fi
    exit "$status"
    ;;
report)
    report
    ;;
*)
    sed -n '2,6p' "$0" >&2
    exit 2
    ;;
esac
