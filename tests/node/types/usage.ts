// Compiled with `tsc --noEmit` by tests/node/run.sh: the generated index.d.ts must describe real usage.
import {
  AidaClient,
  AidaSession,
  Emulator,
  ERROR_CODES,
  EVENT_NAMES,
  FlowAIError,
  ManagementClient,
  MessagingClient,
  RestClient,
  Session,
  WebhookReceiver,
  WebhookVerifier,
  type Delivered,
  type EmulatorSettings,
  type ErrorCode,
  type EventName,
  type Flow,
  type FlowAIEvent,
  type PauseStatus,
  type SendReceipt,
  type ThreadSummary,
  type Webhook,
} from 'flowai'

async function usage(): Promise<void> {
  const emulator = await Emulator.open({})
  const settings: EmulatorSettings = await emulator.info()

  const client = new MessagingClient({ apiUrl: settings.apiUrl, messagingKey: 'k', timeoutMs: 5000 })
  const nothing: null = await client.sendText('thread', 'hi', { traceId: 1, lang: 'en', params: { city: [{ value: 'x' }] } })
  void nothing
  await client.sendMedia('thread', '/tmp/a.png', 'image', { mimeType: 'image/png' })
  client.on('progress', ({ sent, total }) => sent <= total)
  const hook: Webhook = await client.createWebhook('http://x', 'k', ['message.reply'])
  const hooks: Webhook[] = await client.listWebhooks()
  await client.updateWebhook(hook.webhookId, { events: ['message.delivered'] })
  void hooks
  const anything: unknown = await client.call('sendText', { threadId: 't', text: 'hi' })
  void anything

  // A recorder gives its URLs, laid over the real service's settings; a replay gives all.
  const recorder = await Emulator.open({ record: '/tmp/r.jsonl', upstream: settings.apiUrl })
  const urls: EmulatorSettings = await recorder.info()
  await Session.connect({ ...settings, ...urls })
  const replay = await Emulator.open({ replay: '/tmp/r.jsonl' })
  const bot: string | undefined = (await replay.info()).aidaBot
  void bot

  const rest = await RestClient.open({ ...settings, timeoutMs: 5000, maxRetries: 1 })
  const receipt: SendReceipt = await rest.sendText('hi', { sync: true, timeoutMs: 2000 })
  receipt.messages.map((m) => m.fallback)
  for await (const thread of rest.threads()) void thread.threadId
  const summary: ThreadSummary = (await rest.threadsPage({ page: 2 })).items[0]
  const paused: PauseStatus = await rest.pause(summary.threadId, { seconds: 60 })
  void paused.isPaused
  await rest.close()

  const flows: Flow[] = await (await ManagementClient.open(settings)).listFlows()
  void flows[0].flowId

  const receiver = await WebhookReceiver.open({ verifyKey: 'k', port: 0 })
  const { url } = await receiver.info()
  receiver.on('reply', ({ threadId, reply }) => reply.messages.map((m) => m.fallback + threadId))
  await emulator.postWebhook(url, '{}', { verifyKey: 'k', deliveryId: 'd' })
  await receiver.close()
  const verifier = await WebhookVerifier.open({ verifyKey: 'k' })
  const event: FlowAIEvent = await verifier.verify({ 'x-flowai-verify-key': 'k' }, Buffer.from('{}'))
  if (event.event === 'reply') void event.payload.reply.threadId

  const session = new Session({ ...settings, threadId: 't', pingIntervalMs: 1000 })
  session.on('reply', (payload) => payload.reply.messages.length)
  session.on('delivered', ({ traceId, message }) => [traceId, message.speech])
  session.on('closed', ({ error }) => error?.code)
  session.on('reconnecting', ({ delayMs }) => delayMs * 2)
  session.on('agentTyping', ({ threadId }) => threadId.length)
  session.on('event', ({ event, payload }) => [event, payload])
  const delivered: Delivered = await session.sendEvent('INTRO')
  await session.send({ text: 'hi', traceId: 3, originator: { name: 'me' } })
  void delivered.traceId
  for await (const ev of session) {
    const name: EventName = ev.event
    if (name === 'reply') await session.close()
  }

  const aida = await AidaClient.connect(settings)
  const chat: AidaSession = await aida.newSession({ data: { name: 'x' } })
  chat.on('aidaMessage', ({ sessionId, text }) => sessionId + text)
  await chat.sendText('hi')
  const { imageId } = await chat.sendImage('/tmp/a.png', { contentType: 'image/png' })
  const image = await aida.fetchImage(imageId)
  void image.data
  await chat.delete()
  await aida.close()
  await emulator.close()

  try {
    await client.sendText('t', 'x')
  } catch (err) {
    if (err instanceof FlowAIError) {
      const code: ErrorCode = err.code
      const status: number | null = err.status
      void code, status
    }
  }
  const codes: readonly ErrorCode[] = ERROR_CODES
  const names: readonly EventName[] = EVENT_NAMES
  void codes, names
}

void usage
