#!/bin/bash
# The real thing on one machine: a one-node Slurm cluster (munged, slurmctld, slurmd), a
# kendall sweep split into a job array of shards, the merge as a dependent job (afterok), and
# the merged output compared with the same sweep run locally in one process.
#
#   sudo deploy/slurm/try-locally.sh            # from the repository's root, as root
#
# Installs slurm-wlm and munge with apt-get when missing (Debian/Ubuntu), builds kendall with
# cargo (or takes KENDALL=path/to/kendall), and keeps everything else under WORK (default
# /tmp/kendall-slurm): the cluster's configuration (SLURM_CONF points there, /etc/slurm is left
# alone), spool, logs and outputs. The daemons it started are stopped at the end (KEEP=1 keeps
# them). SHARDS (default 4) is the array's size, CPUS (default 2) the node's CPUs.
set -euo pipefail

WORK=${WORK:-/tmp/kendall-slurm}
SHARDS=${SHARDS:-4}
CPUS=${CPUS:-2}
SWEEP=(scenarios/mm1.toml --vary load=0.5,0.7,0.9 --replications 24 --duration 2000s)

[ "$(id -u)" -eq 0 ] || { echo "run as root (it starts munged, slurmctld and slurmd)" >&2; exit 2; }
[ -f Cargo.toml ] && [ -f scenarios/mm1.toml ] || { echo "run from the repository's root" >&2; exit 2; }

if ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge
fi

if [ -z "${KENDALL:-}" ]; then
    cargo build --profile fast
    KENDALL=$(realpath "${CARGO_TARGET_DIR:-target}/fast/kendall")
fi
export KENDALL

rm -rf "$WORK"
mkdir -p "$WORK"/{spool/ctld,spool/d,logs}
host=$(hostname -s)
export SLURM_CONF=$WORK/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=kendall
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=$WORK/spool/ctld
SlurmdSpoolDir=$WORK/spool/d
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/logs/slurmctld.log
SlurmdLogFile=$WORK/logs/slurmd.log
NodeName=$host CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

started=()
stop() {
    if [ "${KEEP:-0}" != 1 ]; then
        for pidfile in "${started[@]}"; do
            [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
        done
    fi
}
trap stop EXIT

if ! pgrep -x munged >/dev/null; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    [ -f /etc/munge/munge.key ] || (umask 077 && dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 && chown munge:munge /etc/munge/munge.key)
    runuser -u munge -- /usr/sbin/munged
    started+=(/run/munge/munged.pid)
fi
slurmctld -f "$SLURM_CONF"
started+=("$WORK/slurmctld.pid")
slurmd -f "$SLURM_CONF"
started+=("$WORK/slurmd.pid")

for _ in $(seq 60); do
    state=$(sinfo -h -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 1
done
echo "cluster: $(sinfo -h -o '%P %D %c %T')"
[ "$state" = idle ] || { echo "the node did not come up: see $WORK/logs" >&2; exit 1; }

out=$WORK/out
array=$(sbatch --parsable --array=0-$((SHARDS - 1)) --output="$WORK/logs/shard-%A_%a.log" \
    deploy/slurm/sweep.sbatch "$out" "${SWEEP[@]}")
merge=$(sbatch --parsable --dependency=afterok:"$array" --output="$WORK/logs/merge-%j.log" \
    deploy/slurm/merge.sbatch "$out")
echo "submitted array job $array ($SHARDS shards) and merge job $merge (afterok:$array)"
while [ -n "$(squeue -h -j "$array,$merge" 2>/dev/null)" ]; do
    squeue -h -j "$array,$merge" -o '  %i %j %T' | sort | uniq | head -n $((SHARDS + 1))
    sleep 2
done
cat "$WORK"/logs/merge-*.log
[ -f "$out/sweep.json" ] || { echo "the merge wrote no sweep.json: see $WORK/logs" >&2; exit 1; }
ls -l "$out/shards"

"$KENDALL" sweep "${SWEEP[@]}" --out "$WORK/local" --quiet > /dev/null
# Timing fields and the command line are the only differences a merge may make.
if diff -r -x shards \
    -I '"wall_seconds"' -I '"line"' -I '^<pre>kendall ' -I 'wall-clock time' -I ' events in ' -I 'intervals; ' \
    "$WORK/local" "$out"; then
    echo "the merged output of $SHARDS Slurm shards equals the local run ($(find "$out" -type f -not -path '*/shards/*' | wc -l) files)"
else
    echo "the merged output differs from the local run" >&2
    exit 1
fi
