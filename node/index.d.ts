// Types of the `flowai` package (index.js). The native layer's generated types are in
// native.d.ts; this file describes the public wrapper.

import { EventEmitter } from 'node:events'

/** The stable error codes, the same in every language. */
export type ErrorCode =
  | 'FLOWAI_INVALID_ARGUMENT'
  | 'FLOWAI_AUTH'
  | 'FLOWAI_HTTP'
  | 'FLOWAI_RATE_LIMITED'
  | 'FLOWAI_TIMEOUT'
  | 'FLOWAI_CONNECTION'
  | 'FLOWAI_PROTOCOL'
  | 'FLOWAI_CLOSED'
  | 'FLOWAI_VERIFICATION'
  | 'FLOWAI_QUEUE_FULL'
  | 'FLOWAI_INTERNAL'

export declare const ERROR_CODES: readonly ErrorCode[]

/** Every error the SDK raises (wrong argument types raise TypeError instead). */
export declare class FlowAIError extends Error {
  constructor(code: ErrorCode, message: string, options?: ErrorOptions)
  readonly name: 'FlowAIError'
  readonly code: ErrorCode
  /** The HTTP status when the error came from an HTTP answer. */
  readonly status?: number
}

// ---------------------------------------------------------------- shared models

export interface Profile {
  fullName?: string
  firstName?: string
  lastName?: string
  email?: string
  locale?: string
  timezone?: number
  gender?: string
  picture?: string
  [extra: string]: unknown
}

export interface Originator {
  userId?: string
  name?: string
  role?: string
  profile?: Profile
  metadata?: Record<string, unknown>
  [extra: string]: unknown
}

export interface Param {
  value: unknown
  match?: string
  [extra: string]: unknown
}

/** Parameters for the AI engine: each name holds a list of values. */
export type Params = Record<string, Param[]>

export interface QuickReply {
  label: string
  value?: string
  type?: string
  [extra: string]: unknown
}

export interface Button {
  type: string
  label: string
  value?: string
  [extra: string]: unknown
}

/** One response template of a reply: `{ type, payload, delay }`; unknown types pass through. */
export type Template =
  | { type: 'text'; payload: { text: string; quickReplies?: QuickReply[] }; delay?: number }
  | { type: 'image' | 'video' | 'audio' | 'file'; payload: { title?: string; url: string }; delay?: number }
  | { type: 'location'; payload: { title?: string; lat: unknown; long: unknown }; delay?: number }
  | { type: 'card'; payload: Record<string, unknown>; delay?: number }
  | { type: 'buttons'; payload: { title?: string; buttons: Button[] }; delay?: number }
  | { type: 'carousel'; payload: { cards: Record<string, unknown>[] }; delay?: number }
  | { type: 'list'; payload: Record<string, unknown>; delay?: number }
  | { type: string; payload?: unknown; delay?: number; [extra: string]: unknown }

/** One reply message of the bot. */
export interface ReplyMessage {
  fallback: string
  silent: boolean
  replyTo?: string
  originator?: Originator
  actions: unknown[]
  responses: Template[]
  flow?: { flowId?: string; title?: string; [extra: string]: unknown }
  step?: { stepId?: string; title?: string; [extra: string]: unknown }
  params?: Params
  [extra: string]: unknown
}

/** A reply (`message.received` on a socket, `message.reply` on a webhook). */
export interface Received {
  threadId: string
  messages: ReplyMessage[]
  originator?: Originator
  [extra: string]: unknown
}

/** The service accepted a message. */
export interface Delivered {
  threadId: string
  traceId?: number
  speech?: string
  [extra: string]: unknown
}

// ---------------------------------------------------------------- configuration

/** Connection settings; anything left out comes from the FLOWAI_* environment variables. */
export interface ClientOptions {
  /** FLOWAI_API_URL, default https://api.flow.ai */
  apiUrl?: string
  /** FLOWAI_MESSAGING_KEY */
  messagingKey?: string
  /** FLOWAI_MANAGEMENT_KEY */
  managementKey?: string
  /** Deadline of one HTTP request in ms (default 30000). */
  requestTimeoutMs?: number
  /** Path of a PEM file with an extra root certificate to trust (FLOWAI_CA_CERT). */
  caCert?: string
}

// ---------------------------------------------------------------- messaging

export interface MessageOptions {
  /** Identifies the message in delivery events (0 to 2^53 - 1). */
  traceId?: number
  /** ISO 639-1 language code. */
  lang?: string
  /** Offset from UTC in hours. */
  timezone?: number
  params?: Params
}

export interface MediaOptions extends MessageOptions {
  /** MIME type, e.g. image/png. */
  mimeType?: string
  /** Called as the file goes out; the last call has bytesSent === totalBytes. */
  onProgress?: (bytesSent: number, totalBytes: number) => void
}

export type MediaType = 'image' | 'file' | 'audio' | 'video'

export interface Webhook {
  webhookId: string
  organisationId: string
  url: string
  verifyKey: string
  events: string[]
  [extra: string]: unknown
}

export interface NewWebhook {
  url: string
  verifyKey: string
  events: string[]
}

export interface WebhookUpdate {
  url?: string
  verifyKey?: string
  events?: string[]
}

export declare class MessagingClient {
  /** Throws FlowAIError FLOWAI_INVALID_ARGUMENT when no messaging key is given or set. */
  constructor(options?: ClientOptions)
  sendText(threadId: string, text: string, options?: MessageOptions): Promise<void>
  sendEvent(threadId: string, eventName: string, options?: MessageOptions): Promise<void>
  sendLocation(threadId: string, lat: string | number, lng: string | number, options?: MessageOptions): Promise<void>
  sendMedia(threadId: string, path: string, mediaType: MediaType, options?: MediaOptions): Promise<void>
  createWebhook(webhook: NewWebhook): Promise<Webhook>
  getWebhook(webhookId: string): Promise<Webhook>
  updateWebhook(webhookId: string, update: WebhookUpdate): Promise<Webhook>
  listWebhooks(): Promise<Webhook[]>
  deleteWebhook(webhookId: string): Promise<void>
}

// ---------------------------------------------------------------- management

export interface Step {
  stepId?: string
  title?: string
  type?: string
  contexts?: string[]
  intent?: unknown
  actions?: unknown[]
  [extra: string]: unknown
}

export interface Flow {
  flowId: string
  title?: string
  group?: string
  disabled?: boolean
  steps?: Step[]
  [extra: string]: unknown
}

export interface Intent {
  intentId?: string
  title?: string
  examples?: Array<{ text?: string; [extra: string]: unknown }>
  [extra: string]: unknown
}

/** An entity type, project or member: fields as the service sends them. */
export type Resource = Record<string, unknown>

export declare class ManagementClient {
  /** Throws FlowAIError FLOWAI_INVALID_ARGUMENT when no management key is given or set. */
  constructor(options?: ClientOptions)
  listFlows(): Promise<Flow[]>
  flowInfo(flowId: string): Promise<Flow>
  listIntents(): Promise<Intent[]>
  intentInfo(intentId: string): Promise<Intent>
  listEntityTypes(): Promise<Resource[]>
  entityTypeInfo(entityTypeId: string): Promise<Resource>
  listProjects(): Promise<Resource[]>
  projectInfo(projectId: string): Promise<Resource>
  listMembers(): Promise<Resource[]>
}

// ---------------------------------------------------------------- webhooks

export type WebhookEvent =
  | { type: 'message.reply'; payload: Received }
  | { type: 'message.delivered'; payload: Delivered }
  | { type: 'control.handover'; payload: unknown }
  | { type: string; payload?: unknown; [extra: string]: unknown }

export interface VerifyOptions {
  /** Header carrying the key (default X-Flowai-Verify-Key). */
  headerName?: string
  /** The raw query string (may carry verifyKey=...). */
  query?: string
}

/**
 * Verify a webhook call in constant time, then parse its body.
 * Throws FlowAIError FLOWAI_VERIFICATION (wrong or missing key) or FLOWAI_PROTOCOL (bad JSON).
 */
export declare function verifyAndParse(
  headers: Record<string, string | string[] | undefined> | Iterable<[string, string]>,
  body: string | Buffer | Uint8Array,
  verifyKey: string,
  options?: VerifyOptions,
): WebhookEvent

export interface ReceiverOptions {
  /** The verify key given when the webhook was created. */
  verifyKey: string
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0 (a free port). */
  port?: number
  /** Default /webhook. */
  path?: string
  /** Default X-Flowai-Verify-Key. */
  verifyHeader?: string
  /** Larger bodies get 413 (default 1 MiB). */
  maxBodyBytes?: number
  /** Events waiting for listeners before calls get 503 (default 1024). */
  queueCapacity?: number
}

/** An embedded webhook server; emits 'event' and each event's type, one at a time, in order. */
export declare class WebhookReceiver extends EventEmitter {
  private constructor()
  static start(options: ReceiverOptions): Promise<WebhookReceiver>
  readonly url: string
  readonly port: number
  close(): Promise<void>
  on(event: 'event', listener: (event: WebhookEvent) => void): this
  on(event: 'message.reply', listener: (event: { type: 'message.reply'; payload: Received }) => void): this
  on(event: 'message.delivered', listener: (event: { type: 'message.delivered'; payload: Delivered }) => void): this
  on(event: string, listener: (event: WebhookEvent) => void): this
}

// ---------------------------------------------------------------- socket session

export type SessionEvent =
  | { type: 'connected' }
  | { type: 'delivered'; delivered: Delivered }
  | { type: 'reply'; reply: Received }
  | { type: 'agentTyping'; payload: unknown }
  | { type: 'interruption'; payload: unknown }
  | { type: 'error'; message: string }
  | { type: 'reconnecting'; attempt: number; delayMs: number }
  | { type: 'disconnected'; reason: string }
  | { type: 'closed'; error: { code: ErrorCode; message: string } | null }
  | { type: 'unknown'; frameType: string; raw: unknown }

type EventOf<E extends { type: string }, T extends E['type']> = Extract<E, { type: T }>

export interface SessionOptions {
  /** FLOWAI_API_URL */
  apiUrl?: string
  /** FLOWAI_CLIENT_ID */
  clientId?: string
  /** The end user to talk as; generated when absent. */
  threadId?: string
  sessionId?: string
  /** Default originator of sends. */
  originator?: Originator
  pingIntervalMs?: number
  pongTimeoutMs?: number
  sendTimeoutMs?: number
  connectTimeoutMs?: number
  /** Most sends awaiting delivery (queued while offline); more fail with FLOWAI_QUEUE_FULL. */
  queueCapacity?: number
  eventCapacity?: number
  backoffBaseMs?: number
  backoffCapMs?: number
  /** Path of a PEM file with an extra root certificate to trust (FLOWAI_CA_CERT). */
  caCert?: string
}

export interface SendOptions {
  traceId?: number
  originator?: Originator
  language?: string
  timezone?: number
  params?: Params
}

export interface OutgoingMessage {
  speech: string
  traceId?: number
  attachment?: { type: 'event' | 'flow' | 'step' | string; payload: unknown }
  originator?: Originator
  metadata?: { language?: string; timezone?: number; params?: Params }
}

/**
 * Common surface of Session, AidaClient and AidaSession. A listener that throws does not
 * stop the other listeners, later events or 'closed': its error is rethrown on its own tick,
 * as a process 'uncaughtException' (which ends the process unless handled, as for any
 * I/O callback).
 */
declare class EventSession<E extends { type: string }> extends EventEmitter {
  /** Resolves with this object once connected; rejects with the connect error. */
  ready(): Promise<this>
  /** True once 'closed' was emitted. */
  readonly closed: boolean
  /** Resolves after the 'closed' event was emitted. */
  close(): Promise<void>
  [Symbol.asyncIterator](): AsyncIterableIterator<E>
  on<T extends E['type']>(event: T, listener: (event: EventOf<E, T>) => void): this
  on(event: 'event', listener: (event: E) => void): this
  once<T extends E['type']>(event: T, listener: (event: EventOf<E, T>) => void): this
  once(event: 'event', listener: (event: E) => void): this
}

/**
 * A real-time Flow Socket session; connects on construction, keeps the process alive
 * until closed. 'closed' is always the last event and comes exactly once.
 */
export declare class Session extends EventSession<SessionEvent> {
  constructor(options?: SessionOptions)
  static connect(options?: SessionOptions): Promise<Session>
  readonly threadId: string | undefined
  readonly sessionId: string | undefined
  sendText(text: string, options?: SendOptions): Promise<Delivered>
  sendEvent(eventName: string, options?: SendOptions): Promise<Delivered>
  send(message: OutgoingMessage): Promise<Delivered>
  typing(): Promise<void>
  noticed(): Promise<void>
  history(): Promise<unknown>
  unnoticed(): Promise<unknown>
  upload(path: string, onProgress?: (bytesSent: number, totalBytes: number) => void): Promise<unknown>
}

// ---------------------------------------------------------------- AIDA

export interface AidaClientOptions {
  /** FLOWAI_AIDA_URL (http(s) or ws(s)) */
  url?: string
  /** FLOWAI_AIDA_BOT */
  bot?: string
  /** FLOWAI_AIDA_TOKEN */
  token?: string
  pushTimeoutMs?: number
  heartbeatIntervalMs?: number
  /** Path of a PEM file with an extra root certificate to trust (FLOWAI_CA_CERT). */
  caCert?: string
}

export type AidaClientEvent =
  | { type: 'connected' }
  | { type: 'disconnected'; reason: string }
  | { type: 'reconnecting'; attempt: number; delayMs: number }
  | { type: 'error'; message: string }
  | { type: 'closed'; error: { code: ErrorCode; message: string } | null }

export type AidaSessionEvent =
  | { type: 'message'; session: string; text: string | null; payload: Record<string, unknown> }
  | { type: 'closed'; error: { code: ErrorCode; message: string } | null }

/** A connection to one AIDA bot; sees every session's traffic of the bot. */
export declare class AidaClient extends EventSession<AidaClientEvent> {
  constructor(options?: AidaClientOptions)
  static connect(options?: AidaClientOptions): Promise<AidaClient>
  readonly bot: string | undefined
  readonly isConnected: boolean
  newSession(data?: Record<string, unknown>): Promise<AidaSession>
  session(id: string): AidaSession
  downloadImage(id: string): Promise<Buffer>
}

/** One conversation with an AIDA bot; emits only its own messages. */
export declare class AidaSession extends EventSession<AidaSessionEvent> {
  private constructor()
  readonly id: string | undefined
  sendText(text: string): Promise<unknown>
  putData(data: Record<string, unknown>): Promise<unknown>
  sendImage(image: string | Buffer, filename: string, contentType: string): Promise<string>
  /** Delete the session on the server; resolves after 'closed'. */
  delete(): Promise<void>
}
