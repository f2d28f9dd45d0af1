#!/usr/bin/env python3
"""Runs the seed's flow against a running `refline serve`'s /mcp with the official MCP Python SDK.

    mcp_client.py <server base URL> <live key> <read-only key> <seed body JSON file> \
        <test key> <refline binary>

Uses the SDK's `mcp.Client` (mcp 2.x) over Streamable HTTP in both protocol revisions the issue
names: 2026-07-28 (the SDK's default: it probes `server/discover` and then sends stateless
requests) and 2025-06-18 (LinkJolt's connector: the `initialize` handshake, pinned). In each:
the tools are listed (every one needs an input schema, annotations and an output schema), then
list_campaigns -> list_affiliates -> create_conversion with the seed's body (commission 19.80)
-> the same again (tool error `duplicate`). Then a write tool with a read-only key of another
merchant (tool error `insufficient_permissions`) and the first merchant's campaign with it
(`not_found`); the seed's sale with the test key (a test conversion); a session without a key
(only the three no-account tools); and over stdio, through `refline mcp` spawned by the SDK's
stdio client, the tools and the campaigns. Prints one JSON line with what it saw; exits 1 on the
first thing that is not as expected. Used by crates/app/tests/it/mcp_sdk.rs.
"""

import asyncio
import json
import sys

import httpx2
import mcp.client.session
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

NEWEST = "2026-07-28"
CONNECTOR = "2025-06-18"


def check(condition, what):
    if not condition:
        print(json.dumps({"ok": False, "failed": what}))
        sys.exit(1)


def error_of(result):
    check(result.is_error, "expected a tool error")
    return (result.structured_content or {}).get("error", {})


async def session_for(url, key, run, protocol=NEWEST):
    """Runs `run(client)` over Streamable HTTP; `key` None sends no Authorization.

    `protocol` NEWEST lets the SDK negotiate as it does by default (`server/discover`, then
    stateless requests); CONNECTOR forces the `initialize` handshake and pins the revision it
    asks for. The SDK has no option for the second: its handshake asks for the module constant
    `mcp.client.session.LATEST_HANDSHAKE_VERSION`, read when it runs, so the constant is
    swapped for the handshake only (the transport then sends the negotiated revision in
    `mcp-protocol-version` on every later request)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        transport = streamable_http_client(f"{url}/mcp", http_client=http)
        mode = "auto" if protocol == NEWEST else "legacy"
        latest = mcp.client.session.LATEST_HANDSHAKE_VERSION
        mcp.client.session.LATEST_HANDSHAKE_VERSION = protocol if mode == "legacy" else latest
        try:
            client = Client(transport, mode=mode, cache=None)
            await client.__aenter__()
        finally:
            mcp.client.session.LATEST_HANDSHAKE_VERSION = latest
        try:
            check(client.protocol_version == protocol, f"negotiated {client.protocol_version}, not {protocol}")
            return await run(client)
        finally:
            await client.__aexit__(None, None, None)


async def main():
    url, key, read_only_key, seed_file, test_key, binary = sys.argv[1:7]
    with open(seed_file, encoding="utf-8") as f:
        seed = json.load(f)
    seen = {}

    async def flow(client, protocol, order_id):
        seen.setdefault("server", client.server_info.name if client.server_info else None)
        tools = (await client.list_tools()).tools
        seen[f"tools@{protocol}"] = len(tools)
        for tool in tools:
            check(tool.input_schema.get("type") == "object", f"{tool.name}: input schema")
            check(tool.output_schema is not None, f"{tool.name}: output schema")
            check(tool.annotations is not None and tool.annotations.read_only_hint is not None,
                  f"{tool.name}: annotations")
        campaigns = await client.call_tool("list_campaigns", {})
        check(not campaigns.is_error, f"list_campaigns: {campaigns.content}")
        campaign = campaigns.structured_content["data"][0]
        check(campaign["id"] == seed["campaignId"], "seed campaign listed")
        affiliates = await client.call_tool("list_affiliates", {"campaignId": campaign["id"]})
        check(not affiliates.is_error, "list_affiliates")
        affiliate = affiliates.structured_content["data"][0]
        check(affiliate["id"] == seed["affiliateId"] and affiliate["status"] == "approved", "seed affiliate")
        body = dict(seed, orderId=order_id)
        created = await client.call_tool("create_conversion", body)
        check(not created.is_error, f"create_conversion: {created.content}")
        data = created.structured_content["data"]
        check(abs(float(data["commission"]) - 19.80) < 1e-9, "commission 19.80")
        text = created.content[0].text
        check('"commission":19.80' in text, f"commission written 19.80: {text}")
        seen[f"commission@{protocol}"] = text.split('"commission":')[1].split(",")[0]
        again = await client.call_tool("create_conversion", body)
        duplicate = error_of(again)
        check(duplicate.get("code") == "duplicate", f"duplicate: {again.content}")
        seen[f"duplicate@{protocol}"] = duplicate["code"]

    # The seed's own body on the newest revision; the same sale under another order id on
    # LinkJolt's (the seed's order id is taken by then).
    await session_for(url, key, lambda c: flow(c, NEWEST, seed["orderId"]))
    await session_for(url, key, lambda c: flow(c, CONNECTOR, f"{seed['orderId']}-2025"), protocol=CONNECTOR)

    async def read_only(client):
        refused = await client.call_tool(
            "create_campaign", {"name": "No", "commissionType": "percentage", "commissionValue": 10})
        seen["readOnly"] = error_of(refused).get("code")
        check(seen["readOnly"] == "insufficient_permissions", "read-only key refused")
        other = await client.call_tool("get_campaign", {"campaignId": seed["campaignId"]})
        seen["otherMerchant"] = error_of(other).get("code")
        check(seen["otherMerchant"] == "not_found", "another merchant's campaign is not found")

    await session_for(url, read_only_key, read_only)

    async def test_mode(client):
        body = dict(seed, orderId=f"{seed['orderId']}-test")
        created = await client.call_tool("create_conversion", body)
        check(not created.is_error, f"test create_conversion: {created.content}")
        seen["testConversion"] = created.structured_content["data"].get("isTest")
        check(seen["testConversion"] is True, "a test key's conversion is a test conversion")

    await session_for(url, test_key, test_mode)

    async def keyless(client):
        names = [tool.name for tool in (await client.list_tools()).tools]
        seen["keylessTools"] = len(names)
        check(set(names) == {"get_linkjolt_plans", "plan_affiliate_program", "switch_from_another_tool"},
              f"keyless tools: {names}")
        plans = await client.call_tool("get_linkjolt_plans", {})
        check(not plans.is_error and len(plans.structured_content["plans"]) == 4, "plans without a key")

    for protocol in (NEWEST, CONNECTOR):
        await session_for(url, None, keyless, protocol=protocol)

    # stdio: the SDK spawns `refline mcp`, which relays to the server, in both revisions.
    params = StdioServerParameters(command=binary, args=["mcp", "--api-key", key, "--url", url])
    for protocol in (NEWEST, CONNECTOR):
        mode = "auto" if protocol == NEWEST else "legacy"
        latest = mcp.client.session.LATEST_HANDSHAKE_VERSION
        mcp.client.session.LATEST_HANDSHAKE_VERSION = protocol if mode == "legacy" else latest
        try:
            client = Client(params, mode=mode, cache=None)
            await client.__aenter__()
        finally:
            mcp.client.session.LATEST_HANDSHAKE_VERSION = latest
        try:
            check(client.protocol_version == protocol, f"stdio negotiated {client.protocol_version}")
            seen[f"stdioTools@{protocol}"] = len((await client.list_tools()).tools)
            campaigns = await client.call_tool("list_campaigns", {})
            check(not campaigns.is_error, f"list_campaigns over stdio: {campaigns.content}")
            seen[f"stdioCampaign@{protocol}"] = campaigns.structured_content["data"][0]["id"]
        finally:
            await client.__aexit__(None, None, None)
    seen["ok"] = True
    print(json.dumps(seen))


if __name__ == "__main__":
    asyncio.run(main())
