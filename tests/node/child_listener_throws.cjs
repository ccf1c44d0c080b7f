// Run by misuse.test.mjs. A session listener throws on the first 'delivered'. With
// `handled` the process has an 'uncaughtException' handler: the error must reach it once,
// while the session keeps working and 'closed' still comes last and once; prints one JSON
// line. With `unhandled` there is no handler: the error must end the process like any
// exception thrown in an I/O callback.
'use strict'
const path = require('node:path')
const { Session } = require(path.join(__dirname, '..', '..', 'node'))

async function main(mode) {
  const caught = []
  if (mode === 'handled') process.on('uncaughtException', (err) => caught.push(err.message))
  const session = await Session.connect({ threadId: `throws-${process.pid}` })
  const types = []
  let thrown = false
  session.on('delivered', () => {
    if (!thrown) {
      thrown = true
      throw new Error('listener boom')
    }
  })
  session.on('event', (e) => types.push(e.event))
  const first = await session.sendText('one')
  const second = await session.sendText('two')
  await new Promise((resolve) => setTimeout(resolve, 50))
  await session.close()
  console.log(
    JSON.stringify({
      caught,
      traces: [first.traceId, second.traceId],
      delivered: types.filter((t) => t === 'delivered').length,
      closed: types.filter((t) => t === 'closed').length,
      last: types.at(-1),
    }),
  )
}

main(process.argv[2]).catch((err) => {
  console.error(err)
  process.exit(2)
})
