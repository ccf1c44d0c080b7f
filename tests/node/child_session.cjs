// Run by session.test.mjs: the open session alone must keep this process alive, and
// after close() the process must exit by itself.
'use strict'
const path = require('node:path')
const { Session, AidaClient } = require(path.join(__dirname, '..', '..', 'node'))

async function main() {
  const session = await Session.connect({ threadId: `child-${process.pid}` })
  const events = []
  session.on('event', (e) => events.push(e.type))
  await session.sendText('hi')
  const aida = process.env.FLOWAI_AIDA_URL ? await AidaClient.connect() : null
  const aidaSession = aida ? await aida.newSession() : null
  // Unreferenced: only the sessions can keep the process alive until it fires.
  const timer = setTimeout(async () => {
    console.log('still-alive')
    await session.close()
    if (aidaSession) await aidaSession.close()
    if (aida) await aida.close()
    console.log(events.at(-1) === 'closed' ? 'closed-last' : `bad order: ${events.join(',')}`)
  }, 300)
  timer.unref()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
