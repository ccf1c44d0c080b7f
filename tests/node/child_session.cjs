// Run by session.test.mjs with one of: session, aida, receiver, emulator, messaging,
// forgotten. The one open object alone must keep this process alive (the timer is
// unreferenced), and after close() the process must exit by itself. Messaging clients must
// not keep it alive, and those no longer referenced must be collected.
'use strict'
const path = require('node:path')
const { Session, AidaClient, WebhookReceiver, Emulator, MessagingClient } = require(path.join(__dirname, '..', '..', 'node'))

function recorder(object) {
  const events = []
  object.on('event', (e) => events.push(e.event))
  return async () => {
    await object.close()
    return events.at(-1) === 'closed' && object.closed ? 'closed-last' : `bad order: ${events.join(',')}`
  }
}

async function open(kind) {
  if (kind === 'session') {
    const session = await Session.connect({ threadId: `child-${process.pid}` })
    const close = recorder(session)
    await session.sendText('hi')
    return close
  }
  if (kind === 'aida') {
    const client = await AidaClient.connect()
    const chat = await client.newSession()
    const closeChat = recorder(chat)
    const closeClient = recorder(client)
    return async () => `${await closeChat()} ${await closeClient()}`
  }
  if (kind === 'receiver') return recorder(await WebhookReceiver.open({ verifyKey: 'child-key' }))
  if (kind === 'emulator') return recorder(await Emulator.open({}))
  if (kind === 'forgotten') {
    // Clients never closed are collected (their handles then close in the background).
    require('node:v8').setFlagsFromString('--expose-gc')
    const gc = require('node:vm').runInNewContext('gc')
    let collected = 0
    const registry = new FinalizationRegistry(() => collected++)
    for (let i = 0; i < 300; i++) registry.register(await MessagingClient.open(), i)
    for (let i = 0; i < 10 && collected < 300; i++) {
      gc()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    console.log(`collected ${collected}`)
    return async () => 'closed-last'
  }
  if (kind === 'messaging') {
    await new MessagingClient().sendText(`child-${process.pid}`, 'hi')
    console.log('sent')
    return async () => 'closed-last'
  }
  throw new Error(`unknown kind ${kind}`)
}

async function main() {
  const close = await open(process.argv[2])
  const timer = setTimeout(async () => {
    console.log('still-alive')
    console.log(await close())
  }, 300)
  timer.unref()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
