"""Management API: flows, intents, entity types, projects, members, blocking and asyncio."""

from __future__ import annotations

import asyncio

import pytest

import flowai


def test_management_blocking(emulator: dict[str, str]) -> None:
    with flowai.ManagementClient() as client:
        flows = client.list_flows()
        assert flows and all(f["flowId"] and f["title"] for f in flows)
        flow = client.get_flow(flows[0]["flowId"])
        assert flow["flowId"] == flows[0]["flowId"] and flow["steps"]
        intents = client.list_intents()
        intent = client.get_intent(intents[0]["intentId"])
        assert intent["intentId"] == intents[0]["intentId"] and intent["examples"]
        entity_types = client.list_entity_types()
        assert client.get_entity_type(entity_types[0]["entityTypeId"])["entityTypeId"] == entity_types[0]["entityTypeId"]
        projects = client.list_projects()
        assert client.get_project(projects[0]["projectId"])["projectId"] == projects[0]["projectId"]
        assert isinstance(client.list_members(), list)
        with pytest.raises(flowai.InvalidArgumentError):
            client.get_flow("")
    assert client.closed
    with pytest.raises(flowai.ClosedError):
        client.list_flows()


def test_management_async(emulator: dict[str, str]) -> None:
    async def main() -> None:
        async with await flowai.ManagementClient.connect_async() as client:
            flows, intents, projects = await asyncio.gather(
                client.list_flows_async(), client.list_intents_async(), client.list_projects_async()
            )
            assert flows and intents and projects
            assert (await client.get_flow_async(flows[0]["flowId"]))["flowId"] == flows[0]["flowId"]
            assert (await client.get_intent_async(intents[0]["intentId"]))["title"]
            await client.list_entity_types_async()
            await client.list_members_async()

    asyncio.run(main())


def test_management_wrong_key(emulator: dict[str, str]) -> None:
    with pytest.raises(flowai.AuthenticationError) as info:
        flowai.ManagementClient(management_key="nope").list_flows()
    assert info.value.code == "FLOWAI_AUTH" and info.value.status == 401
    assert "nope" not in str(info.value)
