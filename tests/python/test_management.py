"""Management API: flows, intents, entity types, projects, members, blocking and asyncio."""

from __future__ import annotations

import asyncio

import pytest

import flowai


def test_management_blocking(emulator: dict[str, str]) -> None:
    with flowai.ManagementClient() as client:
        flows = client.list_flows()
        assert flows and all(isinstance(f, flowai.Flow) for f in flows)
        flow = client.get_flow(flows[0].flow_id)
        assert flow.flow_id == flows[0].flow_id and flow.title
        intents = client.list_intents()
        assert intents
        intent = client.get_intent(intents[0].intent_id)
        assert intent.intent_id == intents[0].intent_id
        assert isinstance(client.list_entity_types(), list)
        projects = client.list_projects()
        assert projects and isinstance(projects[0], flowai.Resource)
        pid = projects[0].get("projectId") or projects[0].get("id")
        if pid:
            assert client.get_project(str(pid)).raw
        assert isinstance(client.list_members(), list)
        with pytest.raises(flowai.InvalidArgumentError):
            client.get_flow("")


def test_management_async(emulator: dict[str, str]) -> None:
    async def main() -> None:
        client = flowai.ManagementClient()
        flows, intents, projects = await asyncio.gather(
            client.list_flows_async(), client.list_intents_async(), client.list_projects_async()
        )
        assert flows and intents and projects
        assert (await client.get_flow_async(flows[0].flow_id)).flow_id == flows[0].flow_id
        assert (await client.get_intent_async(intents[0].intent_id)).title
        await client.list_entity_types_async()
        await client.list_members_async()

    asyncio.run(main())


def test_management_wrong_key(emulator: dict[str, str]) -> None:
    with pytest.raises(flowai.AuthenticationError) as info:
        flowai.ManagementClient(management_key="nope").list_flows()
    assert info.value.code == "FLOWAI_AUTH"
