#!/bin/sh
# A stand-in agent that records where it runs: its working directory, what that directory
# holds, and the context file it was given; then it escalates.
# usage: where.sh RECORD   (writes RECORD.pwd, RECORD.ls, RECORD.context-path, RECORD.tmpdir)
record=$1
cat > /dev/null
pwd > "$record.pwd"
ls -A > "$record.ls"
printf '%s\n' "$ORCHESTRATOR_CONTEXT" > "$record.context-path"
printf '%s\n' "$TMPDIR" > "$record.tmpdir"
echo scratch > "$TMPDIR/scratch"
# Something left behind must go with the directory.
echo scratch > left-behind
echo '{"diagnosis": "only looking around", "plan": [], "escalate": true}'
