"""Interop client for tests/integration/interop-python.test.ts: the MCP Python SDK 2.x `Client`
over Streamable HTTP against this repo's server, written from the SDK's documentation only.

Usage: python_client.py <server /mcp URL> <mode> <file to read>
  mode: a modern protocol version (e.g. 2026-07-28: no initialize, every request carries it),
        "auto" (server/discover, falling back to initialize) or "legacy" (initialize).
The bearer token comes from the environment (MCP_TOKEN), never from the command line, where
other local users could read it. Prints one JSON object: the negotiated protocol version, the
tool names tools/list returned and the outcome of a read-file call: `read` (its text blocks: the
file's text, then the structured result mirrored as JSON), or `refused` when the SDK raised an
MCP error for it.
"""

import asyncio
import json
import os
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError


async def run(url: str, mode: str, file_path: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {os.environ['MCP_TOKEN']}"}
    # What the server answered when it refused a request (the SDK reports only a generic error).
    refusals: list[dict[str, object]] = []

    async def note_refusal(response: httpx2.Response) -> None:
        if response.status_code >= 400:
            challenge = response.headers.get("www-authenticate")
            refusals.append({"status": response.status_code, "challenge": challenge})

    # The SDK's documented way to send headers: an httpx2 client of one's own.
    hooks = {"response": [note_refusal]}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300), event_hooks=hooks) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode) as client:
            tools = await client.list_tools()
            outcome: dict[str, object] = {
                "protocolVersion": client.protocol_version,
                "tools": [tool.name for tool in tools.tools],
            }
            try:
                read = await client.call_tool("read-file", {"filePath": file_path})
            except MCPError as refused:
                outcome["refused"] = {"code": refused.code, "message": refused.message, "http": refusals}
                return outcome
            texts = [block.text for block in read.content if block.type == "text"]
            outcome["read"] = {"isError": bool(read.is_error), "texts": texts}
            return outcome


def main() -> None:
    if len(sys.argv) != 4 or "MCP_TOKEN" not in os.environ:
        sys.exit("usage: MCP_TOKEN=<access token> python_client.py <url> <mode> <file>")
    print(json.dumps(asyncio.run(run(sys.argv[1], sys.argv[2], sys.argv[3]))))


if __name__ == "__main__":
    main()
