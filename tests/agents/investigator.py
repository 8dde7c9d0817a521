"""An agent that investigates before it answers: it reads the MCP config orchestrator wrote into
its workspace (ORCHESTRATOR_MCP_CONFIG), starts that server with the official MCP SDK's client,
reads the incident, reads further back in the check's logs than the prompt carries, finds the
flag file that holds the service down, asks judge_plan whether removing it is allowed, and
answers with that plan. A stand-in for an LLM CLI: the reasoning is canned, the protocol real.

usage: investigator.py [--one-shot] [RECORD]
  --one-shot  use no tool: look only at the prompt on stdin (what an agent without tools has)
  RECORD      keep the prompt in RECORD.stdin and the tool calls in RECORD.calls
"""

import asyncio
import json
import os
import re
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

CAUSE = re.compile(r"maintenance flag (/\S+) holds /health")


def answer(diagnosis, plan, escalate=False):
    print(json.dumps({"diagnosis": diagnosis, "confidence": 0.9 if plan else 0.0,
                      "plan": plan, "escalate": escalate}))


async def investigate(record):
    with open(os.environ["ORCHESTRATOR_MCP_CONFIG"]) as f:
        server = json.load(f)["mcpServers"]["orchestrator"]
    params = StdioServerParameters(command=server["command"], args=server["args"])
    calls = []

    async def call(session, tool, arguments):
        result = await session.call_tool(tool, arguments)
        calls.append(tool)
        return json.loads(result.content[0].text)

    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            incident = await call(session, "incident", {})
            check = incident["incident"]["check"]
            logs = await call(session, "check_logs", {"check": check, "lines": 1000})
            found = None
            for text in logs["logs"].values():
                match = CAUSE.search(text or "")
                if match:
                    found = match.group(1)
            if found is None:
                answer("the logs do not say", [], True)
                return calls
            plan = [{"action": "remove_file", "path": found}]
            verdict = await call(session, "judge_plan", {"plan": plan})
            if verdict["verdict"] != "allowed":
                answer("the fix is not mine to run: " + "; ".join(verdict["reasons"]), [], True)
                return calls
            answer(f"the maintenance flag {found} forces /health to 500", plan)
    return calls


def main():
    args = sys.argv[1:]
    one_shot = "--one-shot" in args
    args = [a for a in args if a != "--one-shot"]
    record = args[0] if args else None
    prompt = sys.stdin.read()
    if record:
        with open(record + ".stdin", "w") as f:
            f.write(prompt)
    if one_shot:
        match = CAUSE.search(prompt)
        if match:
            answer("found in the prompt", [{"action": "remove_file", "path": match.group(1)}])
        else:
            answer("what the prompt carries does not say why /health fails", [], True)
        return
    calls = asyncio.run(investigate(record))
    if record:
        with open(record + ".calls", "w") as f:
            f.write("\n".join(calls))


if __name__ == "__main__":
    main()
