// Management API through the Node package, against the emulator's demo project.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { flowai, rejectsWithCode } from './support.mjs'

const { ManagementClient } = flowai

test('lists and retrieves flows and intents', async () => {
  const client = new ManagementClient()
  const flows = await client.listFlows()
  assert.ok(Array.isArray(flows) && flows.length > 0)
  const flow = await client.getFlow(flows[0].flowId)
  assert.equal(flow.flowId, flows[0].flowId)
  assert.ok(Array.isArray(flow.steps))
  const intents = await client.listIntents()
  assert.ok(intents.length > 0)
  const intent = await client.getIntent(intents[0].intentId)
  assert.equal(intent.intentId, intents[0].intentId)
})

test('lists entity types, projects and members', async () => {
  const client = new ManagementClient()
  assert.ok(Array.isArray(await client.listEntityTypes()))
  const projects = await client.listProjects()
  assert.ok(Array.isArray(projects))
  if (projects.length > 0) {
    const id = projects[0].projectId ?? projects[0].id
    if (typeof id === 'string') assert.ok(await client.getProject(id))
  }
  assert.ok(Array.isArray(await client.listMembers()))
})

test('errors: unknown id, empty id, wrong key, wrong types', async () => {
  const client = new ManagementClient()
  await assert.rejects(client.getFlow('no-such-flow'), (err) => err instanceof flowai.FlowAIError)
  await rejectsWithCode(assert, client.getFlow(''), 'FLOWAI_INVALID_ARGUMENT')
  await rejectsWithCode(assert, new ManagementClient({ managementKey: 'nope' }).listFlows(), 'FLOWAI_AUTH')
  await rejectsWithCode(assert, client.getFlow(5), 'FLOWAI_INVALID_ARGUMENT', 'get_flow: `flow_id` must be a string')
})
