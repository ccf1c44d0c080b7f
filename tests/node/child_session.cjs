// Run by session.test.mjs with one of: session, aida, receiver. The one open object alone
// must keep this process alive (the timer is unreferenced), and after close() the process
// must exit by itself.
'use strict'
const path = require('node:path')
const { Session, AidaClient, WebhookReceiver } = require(path.join(__dirname, '..', '..', 'node'))

async function open(kind) {
  if (kind === 'session') {
    const session = await Session.connect({ threadId: `child-${process.pid}` })
    const events = []
    session.on('event', (e) => events.push(e.type))
    await session.sendText('hi')
    return async () => {
      await session.close()
      return events.at(-1) === 'closed' ? 'closed-last' : `bad order: ${events.join(',')}`
    }
  }
  if (kind === 'aida') {
    const client = await AidaClient.connect()
    const chat = await client.newSession()
    const events = []
    chat.on('event', (e) => events.push(e.type))
    return async () => {
      await chat.close()
      await client.close()
      return events.at(-1) === 'closed' && client.closed ? 'closed-last' : `bad order: ${events.join(',')}`
    }
  }
  if (kind === 'receiver') {
    const receiver = await WebhookReceiver.start({ verifyKey: 'child-key' })
    return async () => {
      await receiver.close()
      return 'closed-last'
    }
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
