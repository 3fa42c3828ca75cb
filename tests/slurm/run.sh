#!/usr/bin/env bash
# The suite through a real SLURM cluster: installs Debian's SLURM and munge, starts a single-node cluster with two
# fake GPUs, runs the smoke tier of a few studies with `--profile profiles/slurm` (plus the CI overlay
# tests/slurm/profile) and checks with check.py that every job went through SLURM, that training jobs, and only
# they, asked for a GPU, and that the results equal a local run. Needs root on Debian 12 (CI runs it from .ci/run);
# extra arguments go to the SLURM run's snakemake, e.g. `tests/slurm/run.sh --groups ...`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
# Fast studies only: every job through SLURM costs a submission and two Snakemake start-ups.
STUDIES=${REPROSUITE_SLURM_STUDIES:-[saxe_dln_dynamics, nc_deep_linear]}
CONF=/etc/slurm/slurm.conf # srun inside a job drops SLURM_CONF, so the config must be at the default path
MARK="# written by reprosuite tests/slurm/run.sh"
WORK=$(mktemp -d /tmp/reprosuite-slurm.XXXXXX)
STATE=$WORK/slurm
DAEMONS=() # PIDs of the daemons this script started, stopped in reverse order
RUNS=()    # PIDs of the snakemake runs (each leads its own process group, see start_run)

log() { printf '[slurm-test %s] %s\n' "$(date +%T)" "$*"; }

install() {
    if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null ||
        ! command -v munged >/dev/null; then
        log "installing slurmctld slurmd slurm-client munge"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            slurmctld slurmd slurm-client munge >/dev/null
    fi
    if ! "$PY" -c "import snakemake_executor_plugin_slurm" 2>/dev/null; then
        log "installing the project's slurm extra (snakemake-executor-plugin-slurm)"
        (cd "$ROOT" && "$PY" -m pip install --quiet -e ".[slurm]")
    fi
}

write_config() {
    for f in "$CONF" /etc/slurm/gres.conf; do
        if [[ -e $f ]] && ! grep -qF "$MARK" "$f"; then
            echo "$f exists and was not written by this test: refusing to replace a real cluster's config" >&2
            exit 1
        fi
    done
    mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d"
    local cpus mem_mb
    cpus=$(nproc)
    mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
    # linuxproc/task none: no cgroups or systemd needed. cons_tres with CR_Core_Memory and DefMemPerCPU lets jobs
    # share the node by cores and memory (otherwise one job takes all memory). Finished jobs stay visible to
    # squeue and scontrol for MinJobAge seconds: the plugin polls squeue (no slurmdbd, so no sacct) and check.py
    # reads the records at the end. The job completion log is kept with the files of a failed run.
    cat >"$CONF" <<EOF
$MARK
ClusterName=reprosuite-ci
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
MpiDefault=none
MailProg=/bin/true
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
MinJobAge=1800
ReturnToService=2
JobCompType=jobcomp/filetxt
JobCompLoc=$STATE/jobcomp.log
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb Gres=gpu:2 State=UNKNOWN
PartitionName=cpu Nodes=localhost Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=localhost MaxTime=INFINITE State=UP
EOF
    # Fake GPUs: a GPU's File must be a character device (a plain or missing file drains the node).
    cat >/etc/slurm/gres.conf <<EOF
$MARK
AutoDetect=off
NodeName=localhost Name=gpu File=/dev/null
NodeName=localhost Name=gpu File=/dev/zero
EOF
}

munge_ok() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

# Start a daemon in the foreground of a session of its own: a signal to this script's process group (timeout's)
# does not reach it, and cleanup stops it after the jobs are cancelled.
start_daemon() {
    local out=$1
    shift
    setsid "$@" >"$STATE/$out" 2>&1 &
    DAEMONS+=($!)
}

start_cluster() {
    if scontrol ping >/dev/null 2>&1; then
        echo "a SLURM controller already answers on this machine: stop it first" >&2
        exit 1
    fi
    [[ -s /etc/munge/munge.key ]] || mungekey --create --keyfile /etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    mkdir -p /run/munge && chown munge:munge /run/munge
    if ! munge_ok; then
        start_daemon munged.out setpriv --reuid munge --regid munge --init-groups munged --foreground
        for _ in $(seq 50); do
            if munge_ok; then break; fi
            sleep 0.1
        done
    fi
    start_daemon slurmctld.out slurmctld -D
    start_daemon slurmd.out slurmd -D -N localhost
    for _ in $(seq 60); do
        [[ $(sinfo -h -n localhost -p gpu -o %t 2>/dev/null) == idle ]] && return
        sleep 0.5
    done
    echo "the cluster did not come up:" >&2
    sinfo >&2 || true
    tail -n 20 "$STATE"/*.log "$STATE"/*.out >&2 || true
    exit 1
}

# Send signal $2 to PID $1 (a process group when negative); wait up to $3 tenths of a second for it to end.
stop() {
    kill -s "$2" -- "$1" 2>/dev/null || return 0
    for _ in $(seq "$3"); do
        kill -0 -- "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

cleanup() {
    local rc=$? pid
    set +e
    for pid in "${RUNS[@]}"; do # the snakemake process groups this script started, while they run
        [[ -n $pid ]] && { stop "-$pid" TERM 30 || stop "-$pid" KILL 10; }
    done
    if ((${#DAEMONS[@]})); then
        squeue -h -o %i 2>/dev/null | xargs -r scancel 2>/dev/null # jobs of this throwaway cluster only
        for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
            stop "${DAEMONS[i]}" TERM 50 || stop "${DAEMONS[i]}" KILL 10
        done
    fi
    for f in "$CONF" /etc/slurm/gres.conf; do grep -qsF "$MARK" "$f" && rm -f "$f"; done
    if ((rc == 0)); then
        rm -rf "$WORK"
    else
        tail -n 20 "$STATE/slurmctld.log" "$STATE/slurmd.log" 2>/dev/null
        log "failed (exit $rc); files kept in $WORK"
    fi
    exit "$rc"
}

# A copy of the workflow at the smoke tier, so the repository's results/ are not touched.
copy_workflow() {
    mkdir -p "$1"
    cp -r "$ROOT/Snakefile" "$ROOT/config.yaml" "$ROOT/workflow" "$ROOT/profiles" "$1/"
    "$PY" - "$1/config.yaml" "$STUDIES" <<'EOF'
import sys

import yaml

path, studies = sys.argv[1], yaml.safe_load(sys.argv[2])
cfg = yaml.safe_load(open(path))
cfg.update(tier="smoke", studies=studies)
yaml.safe_dump(cfg, open(path, "w"))
EOF
}

# Start snakemake in $1 in the background, its output in $WORK/$2.log, under a time limit: the plugin can lose
# track of a job and wait forever. timeout leads a process group of its own (its PID), which cleanup stops.
start_run() {
    local dir=$1 name=$2
    shift 2
    (cd "$dir" && exec timeout -k 20 480 "$PY" -m snakemake "$@") >"$WORK/$name.log" 2>&1 &
    RUNS+=($!)
}

# Wait for run number $1 (interruptible, unlike a foreground command); show its output's tail when it failed.
finish_run() {
    local rc=0
    wait "${RUNS[$1]}" || rc=$?
    RUNS[$1]=
    if ((rc != 0)); then
        tail -n 60 "$WORK/$2.log"
        log "$2 run failed"
        exit 1
    fi
}

if ((EUID != 0)); then
    echo "tests/slurm/run.sh installs packages and starts daemons: run it as root" >&2
    exit 1
fi
trap cleanup EXIT
trap 'exit 143' TERM INT
START=$SECONDS
install
write_config
start_cluster
log "cluster up: $(sinfo -h -o '%P %D %c %G %t' | tr '\n' ' ')($((SECONDS - START)) s)"

copy_workflow "$WORK/local"
copy_workflow "$WORK/slurm-run"
log "smoke run of $STUDIES: locally and through SLURM, side by side"
T0=$SECONDS
start_run "$WORK/local" local --cores 2 results/suite/claims.parquet
start_run "$WORK/slurm-run" slurm --profile profiles/slurm --profile "$ROOT/tests/slurm/profile" \
    --workflow-profile none "$@"
finish_run 1 slurm
log "SLURM run done in $((SECONDS - T0)) s"
finish_run 0 local
log "local run done"

# Every job this run submitted, as the controller recorded it.
log "dry run of the full tier of every study through the same profile: what each job would ask for"
# a plan only (REPROSUITE_PLAN_ONLY): it reads no data, so datasets absent here (CIFAR-10) do not stop it
(cd "$WORK/slurm-run" && REPROSUITE_PLAN_ONLY=1 "$PY" -m snakemake -n --profile profiles/slurm --profile "$ROOT/tests/slurm/profile" \
    --workflow-profile none --config tier=full studies=all) >"$WORK/full-plan.log" 2>&1 ||
    { tail -n 30 "$WORK/full-plan.log"; exit 1; }

scontrol show job --oneliner >"$WORK/jobs.txt"
"$PY" "$ROOT/tests/slurm/check.py" --jobs "$WORK/jobs.txt" --slurm "$WORK/slurm-run" --local "$WORK/local" \
    --full-plan "$WORK/full-plan.log"
log "done in $((SECONDS - START)) s"
