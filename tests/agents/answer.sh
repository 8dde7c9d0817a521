#!/bin/sh
# A stand-in for an LLM agent: it keeps what it was given (the prompt on stdin and the context
# file named by ORCHESTRATOR_CONTEXT) and prints a canned answer.
# usage: answer.sh ANSWERS [RECORD]
#   ANSWERS  a file with the answer, or a directory of answers 1, 2, 3… given in turn
#   RECORD   where to keep RECORD.stdin, RECORD.context and RECORD.env (optional)
answers=$1
record=$2
if [ -n "$record" ]; then
  cat > "$record.stdin"
  cp "$ORCHESTRATOR_CONTEXT" "$record.context"
  env > "$record.env"
else
  cat > /dev/null
fi
if [ -d "$answers" ]; then
  n=$(( $(cat "$answers/count" 2>/dev/null || echo 0) + 1 ))
  echo "$n" > "$answers/count"
  cat "$answers/$n"
else
  cat "$answers"
fi
