#!/usr/bin/env python3
"""Runs the seed's flow against a Refline server's /mcp with the official MCP Python SDK.

    mcp_client.py <server base URL> <live key> <read-only key> <seed body JSON file> \
        <test key> <refline binary>

Connects over Streamable HTTP, lists the tools (every one needs an input schema, annotations and
an output schema), then: list_campaigns -> list_affiliates -> create_conversion with the seed's
body (commission 19.80) -> the same again (tool error `duplicate`); a write tool with a
read-only key of another merchant (tool error `insufficient_permissions`) and the first
merchant's campaign with it (`not_found`); the seed's sale with the test key (a test
conversion); a session pinned to protocol 2025-06-18 (LinkJolt's connector) and one without a
key (only the three no-account tools); and over stdio, through `refline mcp` spawned by the SDK's stdio client, the
tools and the campaigns. Prints one JSON line with what it saw; exits 1 on the first thing that
is not as expected. Used by crates/app/tests/it/mcp_sdk.rs.
"""

import asyncio
import json
import sys

import mcp.types
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client


def check(condition, what):
    if not condition:
        print(json.dumps({"ok": False, "failed": what}))
        sys.exit(1)


def error_of(result):
    check(result.isError, "expected a tool error")
    return (result.structuredContent or {}).get("error", {})


async def session_for(url, key, run, protocol=None):
    """Runs `run` in a session over Streamable HTTP; `key` None sends no Authorization.

    `protocol` pins the revision the client asks for. The SDK has no option for that: its
    `ClientSession.initialize` asks for `mcp.types.LATEST_PROTOCOL_VERSION`, read when it is
    called, so the constant is swapped for the handshake only (the transport then sends the
    negotiated revision in `mcp-protocol-version` on every later request)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with streamablehttp_client(f"{url}/mcp", headers=headers) as (read, write, _):
        async with ClientSession(read, write) as session:
            latest = mcp.types.LATEST_PROTOCOL_VERSION
            if protocol:
                mcp.types.LATEST_PROTOCOL_VERSION = protocol
            try:
                init = await session.initialize()
            finally:
                mcp.types.LATEST_PROTOCOL_VERSION = latest
            return await run(session, init)


async def main():
    url, key, read_only_key, seed_file, test_key, binary = sys.argv[1:7]
    with open(seed_file, encoding="utf-8") as f:
        seed = json.load(f)
    seen = {}

    async def flow(session, init):
        seen["protocolVersion"] = str(init.protocolVersion)
        seen["server"] = init.serverInfo.name
        tools = (await session.list_tools()).tools
        seen["tools"] = len(tools)
        for tool in tools:
            check(tool.inputSchema.get("type") == "object", f"{tool.name}: input schema")
            check(tool.outputSchema is not None, f"{tool.name}: output schema")
            check(tool.annotations is not None and tool.annotations.readOnlyHint is not None,
                  f"{tool.name}: annotations")
        campaigns = await session.call_tool("list_campaigns", {})
        check(not campaigns.isError, "list_campaigns")
        campaign = campaigns.structuredContent["data"][0]
        check(campaign["id"] == seed["campaignId"], "seed campaign listed")
        affiliates = await session.call_tool("list_affiliates", {"campaignId": campaign["id"]})
        check(not affiliates.isError, "list_affiliates")
        affiliate = affiliates.structuredContent["data"][0]
        check(affiliate["id"] == seed["affiliateId"] and affiliate["status"] == "approved", "seed affiliate")
        created = await session.call_tool("create_conversion", seed)
        check(not created.isError, f"create_conversion: {created.content}")
        data = created.structuredContent["data"]
        check(abs(float(data["commission"]) - 19.80) < 1e-9, "commission 19.80")
        check('"commission":19.80' in created.content[0].text, "commission written 19.80")
        seen["commission"] = created.content[0].text.split('"commission":')[1].split(",")[0]
        again = await session.call_tool("create_conversion", seed)
        duplicate = error_of(again)
        check(duplicate.get("code") == "duplicate", f"duplicate: {again.content}")
        seen["duplicate"] = duplicate["code"]

    await session_for(url, key, flow)

    async def read_only(session, _init):
        refused = await session.call_tool(
            "create_campaign", {"name": "No", "commissionType": "percentage", "commissionValue": 10})
        seen["readOnly"] = error_of(refused).get("code")
        check(seen["readOnly"] == "insufficient_permissions", "read-only key refused")
        other = await session.call_tool("get_campaign", {"campaignId": seed["campaignId"]})
        seen["otherMerchant"] = error_of(other).get("code")
        check(seen["otherMerchant"] == "not_found", "another merchant's campaign is not found")

    await session_for(url, read_only_key, read_only)

    async def test_mode(session, _init):
        body = dict(seed, orderId=f"{seed.get('orderId', 'order')}-test")
        created = await session.call_tool("create_conversion", body)
        check(not created.isError, f"test create_conversion: {created.content}")
        seen["testConversion"] = created.structuredContent["data"].get("isTest")
        check(seen["testConversion"] is True, "a test key's conversion is a test conversion")

    await session_for(url, test_key, test_mode)

    async def pinned(session, init):
        seen["pinnedProtocol"] = str(init.protocolVersion)
        check(seen["pinnedProtocol"] == "2025-06-18", f"pinned to 2025-06-18: {init.protocolVersion}")
        check(len((await session.list_tools()).tools) == seen["tools"], "tools over 2025-06-18")
        campaigns = await session.call_tool("list_campaigns", {})
        check(not campaigns.isError, "list_campaigns over 2025-06-18")
        check(campaigns.structuredContent["data"][0]["id"] == seed["campaignId"], "campaign over 2025-06-18")

    await session_for(url, key, pinned, protocol="2025-06-18")

    async def keyless(session, _init):
        names = [tool.name for tool in (await session.list_tools()).tools]
        seen["keylessTools"] = len(names)
        check(set(names) == {"get_linkjolt_plans", "plan_affiliate_program", "switch_from_another_tool"},
              f"keyless tools: {names}")
        plans = await session.call_tool("get_linkjolt_plans", {})
        check(not plans.isError and len(plans.structuredContent["plans"]) == 4, "plans without a key")

    await session_for(url, None, keyless, protocol="2025-06-18")

    params = StdioServerParameters(command=binary, args=["mcp", "--api-key", key, "--url", url])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            seen["stdioTools"] = len((await session.list_tools()).tools)
            campaigns = await session.call_tool("list_campaigns", {})
            check(not campaigns.isError, "list_campaigns over stdio")
            seen["stdioCampaign"] = campaigns.structuredContent["data"][0]["id"]
    seen["ok"] = True
    print(json.dumps(seen))


if __name__ == "__main__":
    asyncio.run(main())
