"""A real MCP client (the official Python SDK, `mcp` from PyPI) against `orchestrator mcp`.

usage: client.py CALLS.json -- COMMAND ARGS...
Starts COMMAND over stdio, initializes, lists the tools and calls each (tool, arguments) pair
of CALLS.json in turn; prints one JSON document: the server's name and protocol version, every
tool with its annotations, and every call's error flag and text. tests/mcp.rs judges them.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main(calls, command, args):
    server = StdioServerParameters(command=command, args=args)
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            listed = await session.list_tools()
            tools = []
            for tool in listed.tools:
                a = tool.annotations
                tools.append({
                    "name": tool.name,
                    "title": tool.title,
                    "input_schema": tool.input_schema,
                    "read_only": a.read_only_hint if a else None,
                    "destructive": a.destructive_hint if a else None,
                    "idempotent": a.idempotent_hint if a else None,
                    "open_world": a.open_world_hint if a else None,
                })
            results = []
            for name, arguments in calls:
                result = await session.call_tool(name, arguments)
                text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
                results.append({"tool": name, "is_error": bool(result.is_error), "text": text})
            print(json.dumps({
                "server": init.server_info.name,
                "protocol": str(init.protocol_version),
                "tools": tools,
                "calls": results,
            }))


if __name__ == "__main__":
    split = sys.argv.index("--")
    with open(sys.argv[1]) as f:
        calls = json.load(f)
    asyncio.run(main(calls, sys.argv[split + 1], sys.argv[split + 2:]))
