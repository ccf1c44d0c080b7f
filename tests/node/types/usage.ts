// Compiled with `tsc --noEmit` by tests/node/run.sh: index.d.ts must describe real usage.
import {
  AidaClient,
  FlowAIError,
  ManagementClient,
  MessagingClient,
  Session,
  WebhookReceiver,
  verifyAndParse,
  type Delivered,
  type ErrorCode,
  type Flow,
  type SessionEvent,
  type Webhook,
} from 'flowai'

async function usage(): Promise<void> {
  const client = new MessagingClient({ apiUrl: 'http://127.0.0.1:1', messagingKey: 'k' })
  await client.sendText('thread', 'hi', { traceId: 1, lang: 'en', params: { city: [{ value: 'x' }] } })
  await client.sendMedia('thread', '/tmp/a.png', 'image', { mimeType: 'image/png', onProgress: (sent, total) => sent <= total })
  const hook: Webhook = await client.createWebhook({ url: 'http://x', verifyKey: 'k', events: ['message.reply'] })
  const hooks: Webhook[] = await client.listWebhooks()
  void hook, hooks

  const flows: Flow[] = await new ManagementClient().listFlows()
  void flows[0].flowId

  const receiver = await WebhookReceiver.start({ verifyKey: 'k' })
  receiver.on('message.reply', (event) => event.payload.messages.map((m) => m.fallback))
  const parsed = verifyAndParse({ 'x-flowai-verify-key': 'k' }, Buffer.from('{}'), 'k')
  void parsed.type
  await receiver.close()

  const session = new Session({ threadId: 't' })
  session.on('reply', (event) => event.reply.messages.length)
  session.on('closed', (event) => event.error?.code)
  session.on('reconnecting', (event) => event.delayMs)
  const delivered: Delivered = await session.sendEvent('INTRO')
  void delivered.traceId
  for await (const event of session) {
    const e: SessionEvent = event
    if (e.type === 'reply') await session.close()
  }

  const aida = await AidaClient.connect()
  const chat = await aida.newSession({ name: 'x' })
  chat.on('message', (event) => event.text)
  await chat.sendText('hi')
  await chat.delete()
  await aida.close()

  try {
    await client.sendText('t', 'x')
  } catch (err) {
    if (err instanceof FlowAIError) {
      const code: ErrorCode = err.code
      void code, err.status
    }
  }
}

void usage
