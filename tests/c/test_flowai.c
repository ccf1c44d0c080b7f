/* Tests of the flowai C API against the local emulator (FLOWAI_* variables set by run.sh).
 * Prints "N passed, N failed" and exits non-zero on any failure. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowai.h"

static int passed;
static int failed;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (cond) {                                                                   \
            passed++;                                                                 \
        } else {                                                                      \
            failed++;                                                                 \
            fprintf(stderr, "FAIL %s:%d: %s (last error: %s)\n", __FILE__, __LINE__, \
                    #cond, flowai_last_error_message());                              \
        }                                                                             \
    } while (0)

#define CHECK_STATUS(call, expected)                                                    \
    do {                                                                                \
        FlowaiStatus got_ = (call);                                                     \
        if (got_ == (expected)) {                                                       \
            passed++;                                                                   \
        } else {                                                                        \
            failed++;                                                                   \
            fprintf(stderr, "FAIL %s:%d: %s returned %s, expected %s (last error: %s)\n", \
                    __FILE__, __LINE__, #call, flowai_error_code_string((int)got_),     \
                    flowai_error_code_string((int)(expected)), flowai_last_error_message()); \
        }                                                                               \
    } while (0)

/* Generous safety net so a broken build ends instead of hanging; no assertion on speed. */
#define WAIT_SECONDS 20

/* ---------- events collected from callbacks, shared with the test thread ---------- */

#define MAX_EVENTS 64

typedef struct {
    FlowaiEventKind kind;
    FlowaiStatus status;
    char type_name[64];
    char *json;
    char session_id[160];
    char trace_id[32];
} Seen;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    Seen events[MAX_EVENTS];
    int count;
    int freed;
    int overflow;
    /* Set by a callback that tried a blocking call. */
    int misuse_checked;
    FlowaiStatus misuse_status;
    /* Set by a callback that posted without blocking. */
    FlowaiStatus post_status;
    uint64_t post_trace_id;
    const FlowaiSession *session; /* for the misuse check */
} Collector;

static void collector_init(Collector *c) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
}

static void collector_destroy(Collector *c) {
    for (int i = 0; i < c->count; i++) {
        free(c->events[i].json);
    }
    pthread_cond_destroy(&c->changed);
    pthread_mutex_destroy(&c->lock);
}

static void copy_text(char *dst, size_t size, const char *src) {
    if (src == NULL) {
        dst[0] = '\0';
        return;
    }
    strncpy(dst, src, size - 1);
    dst[size - 1] = '\0';
}

static char *dup_text(const char *src) {
    size_t len = strlen(src);
    char *copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, src, len + 1);
    }
    return copy;
}

static void on_event(void *user_data, const FlowaiEvent *event) {
    Collector *c = user_data;
    pthread_mutex_lock(&c->lock);
    const FlowaiSession *session = c->misuse_checked ? NULL : c->session;
    pthread_mutex_unlock(&c->lock);
    if (event->kind == FLOWAI_EVENT_REPLY && session != NULL) {
        /* Blocking from inside a callback must be refused, not deadlock. */
        FlowaiStatus status = flowai_session_send_text(session, "inside", NULL);
        /* The non-blocking post is allowed here. */
        uint64_t trace_id = 0;
        FlowaiStatus posted = flowai_session_post(session, "{\"speech\":\"posted from a callback\"}",
                                                  &trace_id);
        pthread_mutex_lock(&c->lock);
        c->misuse_checked = 1;
        c->misuse_status = status;
        c->post_status = posted;
        c->post_trace_id = trace_id;
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_lock(&c->lock);
    if (c->count < MAX_EVENTS) {
        Seen *s = &c->events[c->count++];
        s->kind = event->kind;
        s->status = event->status;
        copy_text(s->type_name, sizeof s->type_name, event->type_name);
        s->json = dup_text(event->json);
        copy_text(s->session_id, sizeof s->session_id, event->session_id);
        copy_text(s->trace_id, sizeof s->trace_id, event->trace_id);
    } else {
        c->overflow = 1;
    }
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

/* user_data is a heap tag pointing at the collector: freeing it proves ownership passed. */
typedef struct {
    Collector *collector;
} Tag;

static void on_event_tagged(void *user_data, const FlowaiEvent *event) {
    on_event(((Tag *)user_data)->collector, event);
}

static void free_tag(void *user_data) {
    Tag *tag = user_data;
    Collector *c = tag->collector;
    pthread_mutex_lock(&c->lock);
    c->freed++;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    free(tag);
}

static Tag *new_tag(Collector *c) {
    Tag *tag = malloc(sizeof *tag);
    tag->collector = c;
    return tag;
}

static struct timespec deadline(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += WAIT_SECONDS;
    return ts;
}

/* Wait for an event of `kind` whose json contains `needle` (NULL: any), from index *from on.
 * Returns its index or -1. */
static int wait_event(Collector *c, FlowaiEventKind kind, const char *needle, int *from) {
    struct timespec until = deadline();
    int found = -1;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        for (int i = *from; i < c->count; i++) {
            if (c->events[i].kind == kind &&
                (needle == NULL || (c->events[i].json && strstr(c->events[i].json, needle)))) {
                found = i;
                break;
            }
        }
        if (found >= 0) {
            *from = found + 1;
            break;
        }
        if (pthread_cond_timedwait(&c->changed, &c->lock, &until) == ETIMEDOUT) {
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

static int wait_freed(Collector *c) {
    struct timespec until = deadline();
    pthread_mutex_lock(&c->lock);
    while (c->freed == 0) {
        if (pthread_cond_timedwait(&c->changed, &c->lock, &until) == ETIMEDOUT) {
            break;
        }
    }
    int freed = c->freed;
    pthread_mutex_unlock(&c->lock);
    return freed;
}

/* Copy the string value of "key":"..." from compact JSON into out. */
static int json_field(const char *json, const char *key, char *out, size_t size) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *start = json ? strstr(json, pattern) : NULL;
    if (start == NULL) {
        return 0;
    }
    start += strlen(pattern);
    const char *end = strchr(start, '"');
    if (end == NULL || (size_t)(end - start) >= size) {
        return 0;
    }
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return 1;
}

/* ---------- tests ---------- */

static void test_basics(void) {
    CHECK(strlen(flowai_version()) > 0);
    CHECK(strcmp(flowai_error_code_string(FLOWAI_OK), "FLOWAI_OK") == 0);
    CHECK(strcmp(flowai_error_code_string(FLOWAI_AUTH), "FLOWAI_AUTH") == 0);
    CHECK(strcmp(flowai_error_code_string(FLOWAI_INTERNAL), "FLOWAI_INTERNAL") == 0);
    CHECK(strcmp(flowai_error_code_string(FLOWAI_MISUSE), "FLOWAI_MISUSE") == 0);
    CHECK(strcmp(flowai_error_code_string(99), "FLOWAI_UNKNOWN") == 0);
    flowai_string_free(NULL);
}

static void progress_cb(void *user_data, uint64_t sent, uint64_t total) {
    uint64_t *last = user_data;
    last[0] = sent;
    last[1] = total;
    last[2]++;
}

static void test_messaging(void) {
    FlowaiMessaging *client = NULL;
    CHECK_STATUS(flowai_messaging_new_from_env(&client), FLOWAI_OK);
    if (client == NULL) {
        return;
    }
    CHECK_STATUS(flowai_messaging_send_text(client, "c-thread-msg", "hello there", NULL), FLOWAI_OK);
    CHECK(strcmp(flowai_last_error_message(), "") == 0);
    CHECK_STATUS(flowai_messaging_send_text(client, "c-thread-msg", "with options",
                                            "{\"traceId\":42,\"lang\":\"en\",\"timezone\":1}"),
                 FLOWAI_OK);
    CHECK_STATUS(flowai_messaging_send_event(client, "c-thread-msg", "INTRO", NULL), FLOWAI_OK);
    CHECK_STATUS(flowai_messaging_send_location(client, "c-thread-msg", "52.37", "4.89", NULL),
                 FLOWAI_OK);

    char path[] = "/tmp/flowai-c-media-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        FILE *f = fdopen(fd, "wb");
        for (int i = 0; i < 200000; i++) {
            fputc('a' + i % 26, f);
        }
        fclose(f);
        uint64_t progress[3] = {0, 0, 0};
        CHECK_STATUS(flowai_messaging_send_media(client, "c-thread-msg", path, "image", "image/png",
                                                 NULL, progress_cb, progress),
                     FLOWAI_OK);
        CHECK(progress[2] > 0);
        CHECK(progress[0] == 200000 && progress[1] == 200000);
        CHECK_STATUS(flowai_messaging_send_media(client, "c-thread-msg", path, "hologram", NULL, NULL,
                                                 NULL, NULL),
                     FLOWAI_INVALID_ARGUMENT);
        remove(path);
    }

    /* Error paths, all refused before anything is sent. */
    CHECK_STATUS(flowai_messaging_send_text(client, NULL, "x", NULL), FLOWAI_INVALID_ARGUMENT);
    CHECK_STATUS(flowai_messaging_send_text(client, "t", "\xff\xfe", NULL), FLOWAI_INVALID_ARGUMENT);
    CHECK(strstr(flowai_last_error_message(), "UTF-8") != NULL);
    CHECK_STATUS(flowai_messaging_send_text(client, "t", "x", "{not json"), FLOWAI_INVALID_ARGUMENT);
    char long_text[300];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    CHECK_STATUS(flowai_messaging_send_text(client, "t", long_text, NULL), FLOWAI_INVALID_ARGUMENT);
    CHECK_STATUS(flowai_messaging_send_text(NULL, "t", "x", NULL), FLOWAI_INVALID_ARGUMENT);
    CHECK_STATUS(flowai_messaging_new_from_env(NULL), FLOWAI_INVALID_ARGUMENT);

    /* After close every call says CLOSED; free stays the only release. */
    CHECK_STATUS(flowai_messaging_close(client), FLOWAI_OK);
    CHECK_STATUS(flowai_messaging_send_text(client, "t", "x", NULL), FLOWAI_CLOSED);
    CHECK_STATUS(flowai_messaging_close(client), FLOWAI_OK);
    flowai_messaging_free(client);

    /* A wrong key is FLOWAI_AUTH. */
    FlowaiMessaging *wrong = NULL;
    CHECK_STATUS(flowai_messaging_new(getenv("FLOWAI_API_URL"), "not-the-key", &wrong), FLOWAI_OK);
    if (wrong != NULL) {
        CHECK_STATUS(flowai_messaging_send_text(wrong, "t", "x", NULL), FLOWAI_AUTH);
        CHECK(strstr(flowai_last_error_message(), "not-the-key") == NULL);
        flowai_messaging_free(wrong);
    }
    CHECK_STATUS(flowai_messaging_new(NULL, NULL, &wrong), FLOWAI_INVALID_ARGUMENT);
}

typedef struct {
    FlowaiMessaging *client;
    int index;
    int ok;
} Sender;

static void *send_from_thread(void *arg) {
    Sender *sender = arg;
    char thread_id[64];
    snprintf(thread_id, sizeof thread_id, "c-thread-par-%d", sender->index);
    for (int i = 0; i < 5; i++) {
        if (flowai_messaging_send_text(sender->client, thread_id, "parallel", NULL) == FLOWAI_OK &&
            strcmp(flowai_last_error_message(), "") == 0) {
            sender->ok++;
        }
    }
    /* An error here is visible on this thread only. */
    if (flowai_messaging_send_text(sender->client, "", "x", NULL) == FLOWAI_INVALID_ARGUMENT &&
        strlen(flowai_last_error_message()) > 0) {
        sender->ok++;
    }
    return NULL;
}

static void test_threads(void) {
    FlowaiMessaging *client = NULL;
    CHECK_STATUS(flowai_messaging_new_from_env(&client), FLOWAI_OK);
    if (client == NULL) {
        return;
    }
    pthread_t threads[4];
    Sender senders[4];
    for (int i = 0; i < 4; i++) {
        senders[i] = (Sender){client, i, 0};
        CHECK(pthread_create(&threads[i], NULL, send_from_thread, &senders[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK(senders[i].ok == 6);
    }
    /* The other threads' errors did not leak into this thread's last error. */
    CHECK_STATUS(flowai_messaging_close(client), FLOWAI_OK);
    CHECK(strcmp(flowai_last_error_message(), "") == 0);
    flowai_messaging_free(client);
}

static void test_webhooks(void) {
    static const char *key = "c-test-verify-key";
    Collector c;
    collector_init(&c);
    FlowaiReceiver *receiver = NULL;
    CHECK_STATUS(flowai_receiver_start(key, NULL, on_event_tagged, new_tag(&c), free_tag, &receiver),
                 FLOWAI_OK);
    FlowaiMessaging *client = NULL;
    CHECK_STATUS(flowai_messaging_new_from_env(&client), FLOWAI_OK);
    if (receiver == NULL || client == NULL) {
        collector_destroy(&c);
        return;
    }
    char *url = NULL;
    CHECK_STATUS(flowai_receiver_url(receiver, &url), FLOWAI_OK);
    CHECK(url != NULL && strncmp(url, "http://127.0.0.1:", 17) == 0);

    char body[512];
    snprintf(body, sizeof body, "{\"url\":\"%s\",\"verifyKey\":\"%s\",\"events\":[\"message.reply\"]}",
             url, key);
    char *created = NULL;
    CHECK_STATUS(flowai_messaging_webhook_create(client, body, &created), FLOWAI_OK);
    char id[128] = "";
    CHECK(created != NULL && json_field(created, "webhookId", id, sizeof id));

    char *listed = NULL;
    CHECK_STATUS(flowai_messaging_webhook_list(client, &listed), FLOWAI_OK);
    CHECK(listed != NULL && listed[0] == '[' && strstr(listed, id) != NULL);
    char *got = NULL;
    CHECK_STATUS(flowai_messaging_webhook_get(client, id, &got), FLOWAI_OK);
    CHECK(got != NULL && strstr(got, url) != NULL);
    char *updated = NULL;
    CHECK_STATUS(flowai_messaging_webhook_update(client, id,
                                                 "{\"events\":[\"message.reply\",\"message.delivered\"]}",
                                                 &updated),
                 FLOWAI_OK);
    CHECK(updated != NULL && strstr(updated, "message.delivered") != NULL);
    CHECK_STATUS(flowai_messaging_webhook_create(client, "{\"url\":\"\",\"events\":[]}", &created),
                 FLOWAI_INVALID_ARGUMENT);

    /* The bot's reply to a REST message arrives through the receiver callback. */
    CHECK_STATUS(flowai_messaging_send_text(client, "c-thread-webhook", "hi", NULL), FLOWAI_OK);
    int from = 0;
    int at = wait_event(&c, FLOWAI_EVENT_REPLY, "customer service demo bot", &from);
    CHECK(at >= 0);
    if (at >= 0) {
        CHECK(strcmp(c.events[at].type_name, "message.reply") == 0);
        CHECK(strcmp(c.events[at].session_id, "c-thread-webhook") == 0);
    }

    CHECK_STATUS(flowai_messaging_webhook_delete(client, id), FLOWAI_OK);
    CHECK_STATUS(flowai_messaging_webhook_get(client, id, &got), FLOWAI_HTTP);

    CHECK_STATUS(flowai_receiver_close(receiver), FLOWAI_OK);
    CHECK_STATUS(flowai_receiver_url(receiver, &url), FLOWAI_CLOSED);
    flowai_receiver_free(receiver);
    CHECK(wait_freed(&c) == 1);

    flowai_string_free(url);
    flowai_string_free(created);
    flowai_string_free(listed);
    flowai_string_free(got);
    flowai_string_free(updated);
    flowai_messaging_free(client);
    collector_destroy(&c);

    /* A NULL callback is refused, and user_data is still freed exactly once. */
    Collector d;
    collector_init(&d);
    CHECK_STATUS(flowai_receiver_start(key, NULL, NULL, new_tag(&d), free_tag, &receiver),
                 FLOWAI_INVALID_ARGUMENT);
    CHECK(d.freed == 1);
    collector_destroy(&d);
}

static void test_verify(void) {
    static const char *key = "verify-me";
    const char *body = "{\"type\":\"message.reply\",\"payload\":{\"threadId\":\"t1\",\"messages\":[]}}";
    const char *names[] = {"Content-Type", "x-flowai-verify-key"};
    const char *values[] = {"application/json", "verify-me"};
    char *out = NULL;
    CHECK_STATUS(flowai_webhook_verify(key, names, values, 2, NULL, (const uint8_t *)body,
                                       strlen(body), &out),
                 FLOWAI_OK);
    CHECK(out != NULL && strstr(out, "\"type\":\"message.reply\"") != NULL);
    flowai_string_free(out);
    out = NULL;

    const char *wrong[] = {"application/json", "nope"};
    CHECK_STATUS(flowai_webhook_verify(key, names, wrong, 2, NULL, (const uint8_t *)body,
                                       strlen(body), &out),
                 FLOWAI_VERIFICATION);
    CHECK(out == NULL);
    CHECK_STATUS(flowai_webhook_verify(key, NULL, NULL, 0, NULL, (const uint8_t *)body,
                                       strlen(body), &out),
                 FLOWAI_VERIFICATION);
    CHECK_STATUS(flowai_webhook_verify(key, NULL, NULL, 0, "verifyKey=verify-me",
                                       (const uint8_t *)body, strlen(body), &out),
                 FLOWAI_OK);
    flowai_string_free(out);
    out = NULL;
    CHECK_STATUS(flowai_webhook_verify_json(key, "{\"X-Flowai-Verify-Key\":\"verify-me\"}", NULL,
                                            (const uint8_t *)body, strlen(body), &out),
                 FLOWAI_OK);
    flowai_string_free(out);
    out = NULL;
    CHECK_STATUS(flowai_webhook_verify_json(key, "{\"X-Flowai-Verify-Key\":\"verify-me\"}", NULL,
                                            (const uint8_t *)"{oops", 5, &out),
                 FLOWAI_PROTOCOL);
    CHECK_STATUS(flowai_webhook_verify_json(key, "[1]", NULL, (const uint8_t *)body, strlen(body),
                                            &out),
                 FLOWAI_INVALID_ARGUMENT);
    CHECK_STATUS(flowai_webhook_verify(key, NULL, NULL, 0, NULL, NULL, 10, &out),
                 FLOWAI_INVALID_ARGUMENT);
}

static void test_management(void) {
    FlowaiManagement *mgmt = NULL;
    CHECK_STATUS(flowai_management_new_from_env(&mgmt), FLOWAI_OK);
    if (mgmt == NULL) {
        return;
    }
    char *flows = NULL;
    CHECK_STATUS(flowai_management_list(mgmt, "flows", &flows), FLOWAI_OK);
    char flow_id[128] = "";
    CHECK(flows != NULL && flows[0] == '[' && json_field(flows, "flowId", flow_id, sizeof flow_id));
    char *info = NULL;
    CHECK_STATUS(flowai_management_info(mgmt, "flows", flow_id, &info), FLOWAI_OK);
    CHECK(info != NULL && strstr(info, flow_id) != NULL);
    char *intents = NULL;
    CHECK_STATUS(flowai_management_list(mgmt, "intents", &intents), FLOWAI_OK);
    CHECK_STATUS(flowai_management_list(mgmt, "spaceships", &intents), FLOWAI_INVALID_ARGUMENT);
    flowai_string_free(flows);
    flowai_string_free(info);
    flowai_string_free(intents);
    CHECK_STATUS(flowai_management_close(mgmt), FLOWAI_OK);
    CHECK_STATUS(flowai_management_list(mgmt, "flows", &flows), FLOWAI_CLOSED);
    flowai_management_free(mgmt);

    FlowaiManagement *wrong = NULL;
    CHECK_STATUS(flowai_management_new(getenv("FLOWAI_API_URL"), "wrong", &wrong), FLOWAI_OK);
    if (wrong != NULL) {
        CHECK_STATUS(flowai_management_list(wrong, "flows", &flows), FLOWAI_AUTH);
        flowai_management_free(wrong);
    }
}

static void test_session(void) {
    Collector c;
    collector_init(&c);
    FlowaiSession *session = NULL;
    CHECK_STATUS(flowai_session_connect(NULL, NULL, "{\"sendTimeoutMs\":10000}", on_event_tagged,
                                        new_tag(&c), free_tag, &session),
                 FLOWAI_OK);
    if (session == NULL) {
        collector_destroy(&c);
        return;
    }
    pthread_mutex_lock(&c.lock);
    c.session = session;
    pthread_mutex_unlock(&c.lock);
    char *thread_id = NULL;
    CHECK_STATUS(flowai_session_thread_id(session, &thread_id), FLOWAI_OK);
    CHECK(thread_id != NULL && strlen(thread_id) > 0);

    char *delivered = NULL;
    CHECK_STATUS(flowai_session_send_event(session, "INTRO", &delivered), FLOWAI_OK);
    CHECK(delivered != NULL && strstr(delivered, "\"traceId\":") != NULL);
    int from = 0;
    int at = wait_event(&c, FLOWAI_EVENT_REPLY, "Hi, how can we help?", &from);
    CHECK(at >= 0);
    if (at >= 0) {
        CHECK(strcmp(c.events[at].type_name, "message.received") == 0);
        CHECK(strcmp(c.events[at].session_id, thread_id) == 0);
    }
    flowai_string_free(delivered);
    delivered = NULL;

    CHECK_STATUS(flowai_session_send_text(session, "hi", &delivered), FLOWAI_OK);
    CHECK(delivered != NULL && strstr(delivered, "\"speech\":\"hi\"") != NULL);
    CHECK(wait_event(&c, FLOWAI_EVENT_REPLY, "customer service demo bot", &from) >= 0);
    flowai_string_free(delivered);

    /* The first reply callback tried a blocking send: refused as misuse, no deadlock. */
    pthread_mutex_lock(&c.lock);
    int checked = c.misuse_checked;
    FlowaiStatus misuse = c.misuse_status;
    pthread_mutex_unlock(&c.lock);
    CHECK(checked == 1);
    CHECK(misuse == FLOWAI_MISUSE);

    /* ...and its non-blocking post went out: a DELIVERED event carries its trace id. */
    pthread_mutex_lock(&c.lock);
    FlowaiStatus posted = c.post_status;
    char trace[32];
    snprintf(trace, sizeof trace, "%llu", (unsigned long long)c.post_trace_id);
    pthread_mutex_unlock(&c.lock);
    CHECK(posted == FLOWAI_OK);
    int post_from = 0;
    int post_seen = 0;
    while (!post_seen && wait_event(&c, FLOWAI_EVENT_DELIVERED, "posted from a callback", &post_from) >= 0) {
        post_seen = strcmp(c.events[post_from - 1].trace_id, trace) == 0;
    }
    CHECK(post_seen);
    uint64_t own_trace = 0;
    CHECK_STATUS(flowai_session_post(session, "{\"speech\":\"mine\",\"traceId\":777}", &own_trace),
                 FLOWAI_OK);
    CHECK(own_trace == 777);
    CHECK_STATUS(flowai_session_post(session, "{\"speech\":1}", NULL), FLOWAI_INVALID_ARGUMENT);

    int delivered_events = 0;
    from = 0;
    while (wait_event(&c, FLOWAI_EVENT_DELIVERED, NULL, &from) >= 0) {
        delivered_events++;
        if (delivered_events == 2) {
            break;
        }
    }
    CHECK(delivered_events == 2);

    CHECK_STATUS(flowai_session_send_text(session, NULL, NULL), FLOWAI_INVALID_ARGUMENT);
    CHECK_STATUS(flowai_session_send(session, "{\"speech\":42}", NULL), FLOWAI_INVALID_ARGUMENT);

    CHECK_STATUS(flowai_session_close(session), FLOWAI_OK);
    /* After close returns, CLOSED was the last event and user_data was freed once. */
    pthread_mutex_lock(&c.lock);
    int count = c.count;
    int freed = c.freed;
    int last_closed = count > 0 && c.events[count - 1].kind == FLOWAI_EVENT_CLOSED &&
                      c.events[count - 1].status == FLOWAI_OK;
    int closed_events = 0;
    for (int i = 0; i < count; i++) {
        closed_events += c.events[i].kind == FLOWAI_EVENT_CLOSED;
    }
    pthread_mutex_unlock(&c.lock);
    CHECK(last_closed);
    CHECK(closed_events == 1);
    CHECK(freed == 1);
    CHECK_STATUS(flowai_session_send_text(session, "hi", NULL), FLOWAI_CLOSED);
    CHECK_STATUS(flowai_session_post(session, "{\"speech\":\"late\"}", NULL), FLOWAI_CLOSED);
    CHECK_STATUS(flowai_session_close(session), FLOWAI_OK);
    flowai_session_free(session);
    flowai_string_free(thread_id);
    collector_destroy(&c);

    /* Freed without close: the session still ends, with CLOSED and free_user_data. */
    Collector e;
    collector_init(&e);
    session = NULL;
    CHECK_STATUS(flowai_session_connect(NULL, NULL, NULL, on_event_tagged, new_tag(&e), free_tag, &session),
                 FLOWAI_OK);
    flowai_session_free(session);
    int from_e = 0;
    CHECK(wait_event(&e, FLOWAI_EVENT_CLOSED, NULL, &from_e) >= 0);
    CHECK(wait_freed(&e) == 1);
    collector_destroy(&e);

    /* A refused client id is FLOWAI_AUTH, and user_data is freed even so. */
    Collector d;
    collector_init(&d);
    session = NULL;
    CHECK_STATUS(flowai_session_connect(NULL, "bm90LWEtY2xpZW50fG5vcGU=", NULL, on_event_tagged,
                                        new_tag(&d), free_tag, &session),
                 FLOWAI_AUTH);
    CHECK(session == NULL);
    CHECK(wait_freed(&d) == 1);
    collector_destroy(&d);
}

static void test_aida(void) {
    FlowaiAida *aida = NULL;
    CHECK_STATUS(flowai_aida_connect(NULL, NULL, NULL, &aida), FLOWAI_OK);
    if (aida == NULL) {
        return;
    }
    Collector c;
    collector_init(&c);
    FlowaiAidaSession *session = NULL;
    CHECK_STATUS(flowai_aida_session_new(aida, "{\"name\":\"C tester\"}", on_event_tagged,
                                         new_tag(&c), free_tag, &session),
                 FLOWAI_OK);
    if (session == NULL) {
        collector_destroy(&c);
        flowai_aida_free(aida);
        return;
    }
    char *id = NULL;
    CHECK_STATUS(flowai_aida_session_id(session, &id), FLOWAI_OK);
    CHECK(id != NULL && strlen(id) > 0);

    CHECK_STATUS(flowai_aida_session_send_text(session, "hi", NULL), FLOWAI_OK);
    int from = 0;
    int at = wait_event(&c, FLOWAI_EVENT_REPLY, "customer service demo bot", &from);
    CHECK(at >= 0);
    if (at >= 0) {
        CHECK(strcmp(c.events[at].type_name, "btu_msg") == 0);
        CHECK(strcmp(c.events[at].session_id, id) == 0);
    }

    char *ack = NULL;
    CHECK_STATUS(flowai_aida_session_put_data(session, "{\"city\":\"Amsterdam\"}", &ack), FLOWAI_OK);
    CHECK(ack != NULL);
    flowai_string_free(ack);
    CHECK_STATUS(flowai_aida_session_put_data(session, "[1,2]", NULL), FLOWAI_INVALID_ARGUMENT);

    char path[] = "/tmp/flowai-c-image-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};
        FILE *f = fdopen(fd, "wb");
        fwrite(png, 1, sizeof png, f);
        fclose(f);
        char *image_id = NULL;
        CHECK_STATUS(flowai_aida_session_send_image(session, path, "tiny.png", "image/png", &image_id),
                     FLOWAI_OK);
        CHECK(image_id != NULL && strlen(image_id) > 0);
        flowai_string_free(image_id);
        remove(path);
    }

    CHECK_STATUS(flowai_aida_session_delete(session), FLOWAI_OK);
    pthread_mutex_lock(&c.lock);
    int last_closed = c.count > 0 && c.events[c.count - 1].kind == FLOWAI_EVENT_CLOSED;
    int freed = c.freed;
    pthread_mutex_unlock(&c.lock);
    CHECK(last_closed);
    CHECK(freed == 1);
    CHECK_STATUS(flowai_aida_session_send_text(session, "hi", NULL), FLOWAI_CLOSED);
    CHECK_STATUS(flowai_aida_session_delete(session), FLOWAI_CLOSED);
    flowai_aida_session_free(session);
    flowai_string_free(id);
    collector_destroy(&c);

    /* A session freed without delete gets CLOSED and its user data freed. */
    Collector e;
    collector_init(&e);
    session = NULL;
    CHECK_STATUS(flowai_aida_session_new(aida, NULL, on_event_tagged, new_tag(&e), free_tag, &session),
                 FLOWAI_OK);
    flowai_aida_session_free(session);
    int from_e = 0;
    CHECK(wait_event(&e, FLOWAI_EVENT_CLOSED, NULL, &from_e) >= 0);
    CHECK(wait_freed(&e) == 1);
    collector_destroy(&e);

    /* A session still open when its client closes gets CLOSED and is freed. */
    Collector d;
    collector_init(&d);
    session = NULL;
    CHECK_STATUS(flowai_aida_session_new(aida, NULL, on_event_tagged, new_tag(&d), free_tag, &session),
                 FLOWAI_OK);
    CHECK_STATUS(flowai_aida_close(aida), FLOWAI_OK);
    int from_d = 0;
    CHECK(wait_event(&d, FLOWAI_EVENT_CLOSED, NULL, &from_d) >= 0);
    CHECK(wait_freed(&d) == 1);
    CHECK_STATUS(flowai_aida_session_new(aida, NULL, on_event_tagged, NULL, NULL, &session), FLOWAI_CLOSED);
    flowai_aida_session_free(session);
    flowai_aida_free(aida);
    collector_destroy(&d);

    /* A wrong token is FLOWAI_AUTH. */
    FlowaiAida *wrong = NULL;
    CHECK_STATUS(flowai_aida_connect(NULL, NULL, "not-the-token", &wrong), FLOWAI_AUTH);
    CHECK(wrong == NULL);
}

/* ---------- FFI misuse (issue 9) ---------- */

/* Distinctive keys that must never appear in an error message or event. */
static const char *const SECRETS[] = {
    "SECRETmsgKEY7c1a", "SECRETmgmtKEY3b9e", "SECRETclientID55d2", "SECRETaidaTOKEN81f0",
    "SECRETverifyKEY0a4c", "SECRETwrongKEY9d1e", "SECRETpass6e2f",
};

static int has_secret(const char *text) {
    for (size_t i = 0; text != NULL && i < sizeof SECRETS / sizeof SECRETS[0]; i++) {
        if (strstr(text, SECRETS[i]) != NULL) {
            return 1;
        }
    }
    return 0;
}

#define CHECK_NO_SECRET()                                                           \
    do {                                                                            \
        const char *msg_ = flowai_last_error_message();                             \
        if (!has_secret(msg_)) {                                                    \
            passed++;                                                               \
        } else {                                                                    \
            failed++;                                                               \
            fprintf(stderr, "FAIL %s:%d: a secret is in the error message\n", __FILE__, \
                    __LINE__);                                                      \
        }                                                                           \
    } while (0)

/* Count CLOSED events of one collector and whether the last event is CLOSED. */
static void closed_summary(Collector *c, int *closed_events, int *last_closed, int *freed) {
    pthread_mutex_lock(&c->lock);
    *closed_events = 0;
    for (int i = 0; i < c->count; i++) {
        *closed_events += c->events[i].kind == FLOWAI_EVENT_CLOSED;
    }
    *last_closed = c->count > 0 && c->events[c->count - 1].kind == FLOWAI_EVENT_CLOSED;
    *freed = c->freed;
    pthread_mutex_unlock(&c->lock);
}

/* Wait until no event arrived for a moment; only used before asserting "nothing more". */
static void settle(void) {
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

typedef enum { CLOSE_SESSION, DELETE_AIDA_SESSION, CLOSE_AIDA_CLIENT, POST_CHAIN } CloserMode;

/* user_data of the callbacks that act on their own session from inside the callback. */
typedef struct {
    Collector *collector;
    CloserMode mode;
    pthread_mutex_t lock;
    const FlowaiSession *session;
    const FlowaiAidaSession *aida_session;
    const FlowaiAida *aida;
    const FlowaiMessaging *messaging;
    const FlowaiReceiver *receiver;
    int acted;
    FlowaiStatus close_status;
    FlowaiStatus close_again_status;
    FlowaiStatus after_close_status;
    FlowaiStatus blocking_status;
    FlowaiStatus rest_status;
    FlowaiStatus receiver_status;
    int posted;
    int post_failures;
} Closer;

static void closer_act(Closer *k) {
    switch (k->mode) {
    case CLOSE_SESSION:
        k->blocking_status = flowai_session_send_text(k->session, "blocked", NULL);
        k->close_status = flowai_session_close(k->session);
        k->close_again_status = flowai_session_close(k->session);
        k->after_close_status = flowai_session_post(k->session, "{\"speech\":\"late\"}", NULL);
        break;
    case DELETE_AIDA_SESSION:
        k->blocking_status = flowai_aida_session_send_text(k->aida_session, "blocked", NULL);
        if (k->messaging != NULL) {
            k->rest_status = flowai_messaging_send_text(k->messaging, "c-cb", "blocked", NULL);
        }
        if (k->receiver != NULL) {
            k->receiver_status = flowai_receiver_close(k->receiver);
        }
        k->close_status = flowai_aida_session_delete(k->aida_session);
        k->close_again_status = flowai_aida_session_delete(k->aida_session);
        k->after_close_status = flowai_aida_session_send_text(k->aida_session, "late", NULL);
        break;
    case CLOSE_AIDA_CLIENT:
        k->close_status = flowai_aida_close(k->aida);
        k->close_again_status = flowai_aida_close(k->aida);
        {
            FlowaiAidaSession *late = NULL;
            k->after_close_status = flowai_aida_session_new(k->aida, NULL, on_event_tagged, NULL, NULL, &late);
            flowai_aida_session_free(late);
        }
        break;
    case POST_CHAIN:
        break;
    }
}

static void on_event_closer(void *user_data, const FlowaiEvent *event) {
    Closer *k = user_data;
    pthread_mutex_lock(&k->lock);
    if (k->mode == POST_CHAIN) {
        /* Every delivery of the chain posts the next message from inside the callback. */
        if ((event->kind == FLOWAI_EVENT_DELIVERED && event->json && strstr(event->json, "chain")) ||
            (event->kind == FLOWAI_EVENT_REPLY && k->posted == 0)) {
            if (k->posted < 10) {
                char message[64];
                snprintf(message, sizeof message, "{\"speech\":\"chain %d\"}", k->posted);
                if (flowai_session_post(k->session, message, NULL) == FLOWAI_OK) {
                    k->posted++;
                } else {
                    k->post_failures++;
                }
            }
        }
    } else if (event->kind == FLOWAI_EVENT_REPLY && !k->acted) {
        k->acted = 1;
        closer_act(k);
    }
    pthread_mutex_unlock(&k->lock);
    on_event(k->collector, event);
}

static void free_closer(void *user_data) {
    Closer *k = user_data;
    Collector *c = k->collector;
    pthread_mutex_destroy(&k->lock);
    free(k);
    pthread_mutex_lock(&c->lock);
    c->freed++;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

static Closer *new_closer(Collector *c, CloserMode mode) {
    Closer *k = calloc(1, sizeof *k);
    k->collector = c;
    k->mode = mode;
    pthread_mutex_init(&k->lock, NULL);
    return k;
}

/* Read a status the callback stored, under its lock. */
#define CLOSER_GET(k, field, out)         \
    do {                                  \
        pthread_mutex_lock(&(k)->lock);   \
        (out) = (k)->field;               \
        pthread_mutex_unlock(&(k)->lock); \
    } while (0)

/* The statuses a closer saw are checked through a copy kept by this wrapper. */
typedef struct {
    FlowaiStatus close_status, close_again_status, after_close_status, blocking_status,
        rest_status, receiver_status;
    int acted;
} CloserResult;

static CloserResult last_closer_result;

static void free_closer_keep(void *user_data) {
    Closer *k = user_data;
    pthread_mutex_lock(&k->lock);
    last_closer_result = (CloserResult){k->close_status,  k->close_again_status,
                                        k->after_close_status, k->blocking_status,
                                        k->rest_status,   k->receiver_status,
                                        k->acted};
    pthread_mutex_unlock(&k->lock);
    free_closer(user_data);
}

static void test_close_in_callback(void) {
    /* Socket session: close inside the callback returns OK (twice), blocking send is MISUSE. */
    Collector c;
    collector_init(&c);
    Closer *k = new_closer(&c, CLOSE_SESSION);
    FlowaiSession *session = NULL;
    CHECK_STATUS(flowai_session_connect(NULL, NULL, NULL, on_event_closer, k, free_closer_keep, &session),
                 FLOWAI_OK);
    if (session != NULL) {
        pthread_mutex_lock(&k->lock);
        k->session = session;
        pthread_mutex_unlock(&k->lock);
        CHECK_STATUS(flowai_session_send_text(session, "hi", NULL), FLOWAI_OK);
        CHECK(wait_freed(&c) == 1);
        CHECK(last_closer_result.acted == 1);
        CHECK(last_closer_result.blocking_status == FLOWAI_MISUSE);
        CHECK(last_closer_result.close_status == FLOWAI_OK);
        CHECK(last_closer_result.close_again_status == FLOWAI_OK);
        CHECK(last_closer_result.after_close_status == FLOWAI_CLOSED);
        settle();
        int closed_events, last_closed, freed;
        closed_summary(&c, &closed_events, &last_closed, &freed);
        CHECK(closed_events == 1);
        CHECK(last_closed);
        CHECK(freed == 1);
        CHECK(c.count > 0 && c.events[c.count - 1].status == FLOWAI_OK);
        CHECK_STATUS(flowai_session_close(session), FLOWAI_OK);
        CHECK_STATUS(flowai_session_send_text(session, "hi", NULL), FLOWAI_CLOSED);
        CHECK_STATUS(flowai_session_post(session, "{\"speech\":\"late\"}", NULL), FLOWAI_CLOSED);
        flowai_session_free(session);
    }
    collector_destroy(&c);

    /* AIDA session deleted from its own reply callback; blocking calls there are MISUSE. */
    FlowaiAida *aida = NULL;
    FlowaiMessaging *messaging = NULL;
    FlowaiReceiver *receiver = NULL;
    Collector r;
    collector_init(&r);
    CHECK_STATUS(flowai_aida_connect(NULL, NULL, NULL, &aida), FLOWAI_OK);
    CHECK_STATUS(flowai_messaging_new_from_env(&messaging), FLOWAI_OK);
    CHECK_STATUS(flowai_receiver_start("c-cb-key", NULL, on_event_tagged, new_tag(&r), free_tag, &receiver),
                 FLOWAI_OK);
    if (aida == NULL || messaging == NULL || receiver == NULL) {
        flowai_aida_free(aida);
        flowai_messaging_free(messaging);
        flowai_receiver_free(receiver);
        wait_freed(&r);
        collector_destroy(&r);
        return;
    }
    collector_init(&c);
    k = new_closer(&c, DELETE_AIDA_SESSION);
    k->messaging = messaging;
    k->receiver = receiver;
    FlowaiAidaSession *aida_session = NULL;
    CHECK_STATUS(flowai_aida_session_new(aida, NULL, on_event_closer, k, free_closer_keep, &aida_session),
                 FLOWAI_OK);
    if (aida_session != NULL) {
        pthread_mutex_lock(&k->lock);
        k->aida_session = aida_session;
        pthread_mutex_unlock(&k->lock);
        memset(&last_closer_result, 0, sizeof last_closer_result);
        CHECK_STATUS(flowai_aida_session_send_text(aida_session, "hi", NULL), FLOWAI_OK);
        CHECK(wait_freed(&c) == 1);
        settle();
        int closed_events, last_closed, freed;
        closed_summary(&c, &closed_events, &last_closed, &freed);
        CHECK(closed_events == 1);
        CHECK(last_closed);
        CHECK(freed == 1);
        CHECK(last_closer_result.acted == 1);
        CHECK(last_closer_result.blocking_status == FLOWAI_MISUSE);
        CHECK(last_closer_result.rest_status == FLOWAI_MISUSE);
        CHECK(last_closer_result.receiver_status == FLOWAI_MISUSE);
        CHECK(last_closer_result.close_status == FLOWAI_OK);
        CHECK(last_closer_result.close_again_status == FLOWAI_CLOSED);
        CHECK(last_closer_result.after_close_status == FLOWAI_CLOSED);
        CHECK_STATUS(flowai_aida_session_send_text(aida_session, "hi", NULL), FLOWAI_CLOSED);
        CHECK_STATUS(flowai_aida_session_delete(aida_session), FLOWAI_CLOSED);
        flowai_aida_session_free(aida_session);
    }
    collector_destroy(&c);
    /* The receiver refused to close from the callback, so it still runs. */
    char *url = NULL;
    CHECK_STATUS(flowai_receiver_url(receiver, &url), FLOWAI_OK);
    flowai_string_free(url);
    CHECK_STATUS(flowai_receiver_close(receiver), FLOWAI_OK);
    flowai_receiver_free(receiver);
    CHECK(wait_freed(&r) == 1);
    collector_destroy(&r);
    flowai_messaging_free(messaging);

    /* The AIDA client closed from a session's callback: that session and a second one end. */
    collector_init(&c);
    Collector other;
    collector_init(&other);
    k = new_closer(&c, CLOSE_AIDA_CLIENT);
    k->aida = aida;
    aida_session = NULL;
    FlowaiAidaSession *second = NULL;
    CHECK_STATUS(flowai_aida_session_new(aida, NULL, on_event_closer, k, free_closer_keep, &aida_session),
                 FLOWAI_OK);
    CHECK_STATUS(flowai_aida_session_new(aida, NULL, on_event_tagged, new_tag(&other), free_tag, &second),
                 FLOWAI_OK);
    if (aida_session != NULL && second != NULL) {
        memset(&last_closer_result, 0, sizeof last_closer_result);
        CHECK_STATUS(flowai_aida_session_send_text(aida_session, "hi", NULL), FLOWAI_OK);
        CHECK(wait_freed(&c) == 1);
        CHECK(wait_freed(&other) == 1);
        settle();
        int closed_events, last_closed, freed;
        closed_summary(&c, &closed_events, &last_closed, &freed);
        CHECK(closed_events == 1 && last_closed && freed == 1);
        closed_summary(&other, &closed_events, &last_closed, &freed);
        CHECK(closed_events == 1 && last_closed && freed == 1);
        CHECK(last_closer_result.close_status == FLOWAI_OK);
        CHECK(last_closer_result.close_again_status == FLOWAI_OK);
        CHECK(last_closer_result.after_close_status == FLOWAI_CLOSED);
        CHECK_STATUS(flowai_aida_session_send_text(second, "hi", NULL), FLOWAI_CLOSED);
        CHECK_STATUS(flowai_aida_close(aida), FLOWAI_OK);
    }
    flowai_aida_session_free(aida_session);
    flowai_aida_session_free(second);
    flowai_aida_free(aida);
    collector_destroy(&c);
    collector_destroy(&other);
}

static void test_post_in_callback(void) {
    /* Ten posts, each from the callback that saw the previous one delivered: no deadlock. */
    Collector c;
    collector_init(&c);
    Closer *k = new_closer(&c, POST_CHAIN);
    FlowaiSession *session = NULL;
    CHECK_STATUS(flowai_session_connect(NULL, NULL, NULL, on_event_closer, k, free_closer, &session),
                 FLOWAI_OK);
    if (session == NULL) {
        collector_destroy(&c);
        return;
    }
    pthread_mutex_lock(&k->lock);
    k->session = session;
    pthread_mutex_unlock(&k->lock);
    CHECK_STATUS(flowai_session_send_event(session, "INTRO", NULL), FLOWAI_OK);
    CHECK(wait_event(&c, FLOWAI_EVENT_DELIVERED, "chain 9", &(int){0}) >= 0);
    int posted, failures;
    CLOSER_GET(k, posted, posted);
    CLOSER_GET(k, post_failures, failures);
    CHECK(posted == 10);
    CHECK(failures == 0);
    CHECK_STATUS(flowai_session_close(session), FLOWAI_OK);
    CHECK(wait_freed(&c) == 1);
    flowai_session_free(session);
    collector_destroy(&c);
}

/* ---------- every pointer parameter of every export: NULL and invalid UTF-8 ---------- */

/* Which parameter gets `repl` (NULL or a bad string); -1: none. */
typedef struct {
    int sel;
    const char *repl;
} Sub;

/* Live objects the table calls on, and out-parameters that must stay untouched. */
static struct {
    FlowaiMessaging *messaging;
    FlowaiManagement *management;
    FlowaiSession *session;
    FlowaiAida *aida;
    FlowaiAidaSession *aida_session;
    FlowaiReceiver *receiver;
    Collector collector;
    char *out_str;
    FlowaiMessaging *out_messaging;
    FlowaiManagement *out_management;
    FlowaiSession *out_session;
    FlowaiAida *out_aida;
    FlowaiAidaSession *out_aida_session;
    FlowaiReceiver *out_receiver;
    uint64_t out_trace;
} g;

#define A(i, dflt) (sub->sel == (i) ? (void *)sub->repl : (void *)(dflt))
#define CB(i, fn) (sub->sel == (i) ? NULL : (fn))

static const char *const HNAMES[] = {"X-Flowai-Verify-Key"};
static const char *const HVALUES[] = {"k"};
static const char BODY[] = "{\"type\":\"x\",\"payload\":{}}";

static FlowaiStatus w_aida_connect(const Sub *sub) {
    return flowai_aida_connect(A(0, NULL), A(1, NULL), A(2, NULL), A(3, &g.out_aida));
}
static FlowaiStatus w_aida_close(const Sub *sub) { return flowai_aida_close(A(0, g.aida)); }
static FlowaiStatus w_aida_session_new(const Sub *sub) {
    return flowai_aida_session_new(A(0, g.aida), A(1, NULL), CB(2, on_event_tagged),
                                   new_tag(&g.collector), free_tag, A(5, &g.out_aida_session));
}
static FlowaiStatus w_aida_session_id(const Sub *sub) {
    return flowai_aida_session_id(A(0, g.aida_session), A(1, &g.out_str));
}
static FlowaiStatus w_aida_session_send_text(const Sub *sub) {
    return flowai_aida_session_send_text(A(0, g.aida_session), A(1, "hi"), A(2, NULL));
}
static FlowaiStatus w_aida_session_put_data(const Sub *sub) {
    return flowai_aida_session_put_data(A(0, g.aida_session), A(1, "{}"), A(2, NULL));
}
static FlowaiStatus w_aida_session_send_image(const Sub *sub) {
    return flowai_aida_session_send_image(A(0, g.aida_session), A(1, "/nonexistent.png"), A(2, NULL),
                                          A(3, "image/png"), A(4, &g.out_str));
}
static FlowaiStatus w_aida_session_delete(const Sub *sub) {
    return flowai_aida_session_delete(A(0, g.aida_session));
}
static FlowaiStatus w_messaging_new(const Sub *sub) {
    return flowai_messaging_new(A(0, NULL), A(1, "key"), A(2, &g.out_messaging));
}
static FlowaiStatus w_messaging_new_from_env(const Sub *sub) {
    return flowai_messaging_new_from_env(A(0, &g.out_messaging));
}
static FlowaiStatus w_messaging_close(const Sub *sub) { return flowai_messaging_close(A(0, g.messaging)); }
static FlowaiStatus w_messaging_send_text(const Sub *sub) {
    return flowai_messaging_send_text(A(0, g.messaging), A(1, "t"), A(2, "x"), A(3, NULL));
}
static FlowaiStatus w_messaging_send_event(const Sub *sub) {
    return flowai_messaging_send_event(A(0, g.messaging), A(1, "t"), A(2, "INTRO"), A(3, NULL));
}
static FlowaiStatus w_messaging_send_location(const Sub *sub) {
    return flowai_messaging_send_location(A(0, g.messaging), A(1, "t"), A(2, "1"), A(3, "2"), A(4, NULL));
}
static FlowaiStatus w_messaging_send_media(const Sub *sub) {
    return flowai_messaging_send_media(A(0, g.messaging), A(1, "t"), A(2, "/nonexistent"), A(3, "image"),
                                       A(4, NULL), A(5, NULL), NULL, NULL);
}
static FlowaiStatus w_webhook_create(const Sub *sub) {
    return flowai_messaging_webhook_create(A(0, g.messaging), A(1, "{\"url\":\"http://127.0.0.1:1/\"}"),
                                           A(2, &g.out_str));
}
static FlowaiStatus w_webhook_get(const Sub *sub) {
    return flowai_messaging_webhook_get(A(0, g.messaging), A(1, "nope"), A(2, &g.out_str));
}
static FlowaiStatus w_webhook_update(const Sub *sub) {
    return flowai_messaging_webhook_update(A(0, g.messaging), A(1, "nope"), A(2, "{}"), A(3, &g.out_str));
}
static FlowaiStatus w_webhook_list(const Sub *sub) {
    return flowai_messaging_webhook_list(A(0, g.messaging), A(1, &g.out_str));
}
static FlowaiStatus w_webhook_delete(const Sub *sub) {
    return flowai_messaging_webhook_delete(A(0, g.messaging), A(1, "nope"));
}
static FlowaiStatus w_management_new(const Sub *sub) {
    return flowai_management_new(A(0, NULL), A(1, "key"), A(2, &g.out_management));
}
static FlowaiStatus w_management_new_from_env(const Sub *sub) {
    return flowai_management_new_from_env(A(0, &g.out_management));
}
static FlowaiStatus w_management_close(const Sub *sub) {
    return flowai_management_close(A(0, g.management));
}
static FlowaiStatus w_management_list(const Sub *sub) {
    return flowai_management_list(A(0, g.management), A(1, "flows"), A(2, &g.out_str));
}
static FlowaiStatus w_management_info(const Sub *sub) {
    return flowai_management_info(A(0, g.management), A(1, "flows"), A(2, "nope"), A(3, &g.out_str));
}
static FlowaiStatus w_session_connect(const Sub *sub) {
    return flowai_session_connect(A(0, NULL), A(1, NULL), A(2, NULL), CB(3, on_event_tagged),
                                  new_tag(&g.collector), free_tag, A(6, &g.out_session));
}
static FlowaiStatus w_session_thread_id(const Sub *sub) {
    return flowai_session_thread_id(A(0, g.session), A(1, &g.out_str));
}
static FlowaiStatus w_session_send_text(const Sub *sub) {
    return flowai_session_send_text(A(0, g.session), A(1, "hi"), A(2, NULL));
}
static FlowaiStatus w_session_send_event(const Sub *sub) {
    return flowai_session_send_event(A(0, g.session), A(1, "INTRO"), A(2, NULL));
}
static FlowaiStatus w_session_send(const Sub *sub) {
    return flowai_session_send(A(0, g.session), A(1, "{\"speech\":\"hi\"}"), A(2, NULL));
}
static FlowaiStatus w_session_post(const Sub *sub) {
    return flowai_session_post(A(0, g.session), A(1, "{\"speech\":\"hi\"}"), A(2, &g.out_trace));
}
static FlowaiStatus w_session_close(const Sub *sub) { return flowai_session_close(A(0, g.session)); }
static FlowaiStatus w_webhook_verify(const Sub *sub) {
    return flowai_webhook_verify(A(0, "k"), A(1, HNAMES), A(2, HVALUES), 1, A(4, NULL), A(5, BODY),
                                 sizeof BODY - 1, A(7, &g.out_str));
}
static FlowaiStatus w_webhook_verify_json(const Sub *sub) {
    return flowai_webhook_verify_json(A(0, "k"), A(1, NULL), A(2, NULL), A(3, BODY), sizeof BODY - 1,
                                      A(5, &g.out_str));
}
static FlowaiStatus w_receiver_start(const Sub *sub) {
    return flowai_receiver_start(A(0, "k"), A(1, NULL), CB(2, on_event_tagged), new_tag(&g.collector),
                                 free_tag, A(5, &g.out_receiver));
}
static FlowaiStatus w_receiver_url(const Sub *sub) {
    return flowai_receiver_url(A(0, g.receiver), A(1, &g.out_str));
}
static FlowaiStatus w_receiver_close(const Sub *sub) {
    return flowai_receiver_close(A(0, g.receiver));
}

/* Parameter kinds, one letter each: h handle, o out, s string, c callback (NULL refused);
 * a header array, b body bytes (NULL refused with a length); S string, O out, u user data,
 * free function or progress, n number (NULL allowed or not a pointer). Strings (s, S) also
 * get invalid UTF-8. */
static const struct {
    const char *name;
    FlowaiStatus (*call)(const Sub *);
    const char *kinds;
    int takes_user_data;
} EXPORTS[] = {
    {"flowai_aida_connect", w_aida_connect, "SSSo", 0},
    {"flowai_aida_close", w_aida_close, "h", 0},
    {"flowai_aida_session_new", w_aida_session_new, "hScuuo", 1},
    {"flowai_aida_session_id", w_aida_session_id, "ho", 0},
    {"flowai_aida_session_send_text", w_aida_session_send_text, "hsO", 0},
    {"flowai_aida_session_put_data", w_aida_session_put_data, "hsO", 0},
    {"flowai_aida_session_send_image", w_aida_session_send_image, "hsSso", 0},
    {"flowai_aida_session_delete", w_aida_session_delete, "h", 0},
    {"flowai_messaging_new", w_messaging_new, "Sso", 0},
    {"flowai_messaging_new_from_env", w_messaging_new_from_env, "o", 0},
    {"flowai_messaging_close", w_messaging_close, "h", 0},
    {"flowai_messaging_send_text", w_messaging_send_text, "hssS", 0},
    {"flowai_messaging_send_event", w_messaging_send_event, "hssS", 0},
    {"flowai_messaging_send_location", w_messaging_send_location, "hsssS", 0},
    {"flowai_messaging_send_media", w_messaging_send_media, "hsssSSuu", 0},
    {"flowai_messaging_webhook_create", w_webhook_create, "hso", 0},
    {"flowai_messaging_webhook_get", w_webhook_get, "hso", 0},
    {"flowai_messaging_webhook_update", w_webhook_update, "hsso", 0},
    {"flowai_messaging_webhook_list", w_webhook_list, "ho", 0},
    {"flowai_messaging_webhook_delete", w_webhook_delete, "hs", 0},
    {"flowai_management_new", w_management_new, "Sso", 0},
    {"flowai_management_new_from_env", w_management_new_from_env, "o", 0},
    {"flowai_management_close", w_management_close, "h", 0},
    {"flowai_management_list", w_management_list, "hso", 0},
    {"flowai_management_info", w_management_info, "hsso", 0},
    {"flowai_session_connect", w_session_connect, "SSScuuo", 1},
    {"flowai_session_thread_id", w_session_thread_id, "ho", 0},
    {"flowai_session_send_text", w_session_send_text, "hsO", 0},
    {"flowai_session_send_event", w_session_send_event, "hsO", 0},
    {"flowai_session_send", w_session_send, "hsO", 0},
    {"flowai_session_post", w_session_post, "hsO", 0},
    {"flowai_session_close", w_session_close, "h", 0},
    {"flowai_webhook_verify", w_webhook_verify, "saanSbno", 0},
    {"flowai_webhook_verify_json", w_webhook_verify_json, "sSSbno", 0},
    {"flowai_receiver_start", w_receiver_start, "sScuuo", 1},
    {"flowai_receiver_url", w_receiver_url, "ho", 0},
    {"flowai_receiver_close", w_receiver_close, "h", 0},
};

/* Out-parameters are written only on success: anything found there is a failure. */
static int outs_untouched(void) {
    int clean = g.out_str == NULL && g.out_messaging == NULL && g.out_management == NULL &&
                g.out_session == NULL && g.out_aida == NULL && g.out_aida_session == NULL &&
                g.out_receiver == NULL && g.out_trace == 0;
    flowai_string_free(g.out_str);
    flowai_messaging_free(g.out_messaging);
    flowai_management_free(g.out_management);
    flowai_session_free(g.out_session);
    flowai_aida_session_free(g.out_aida_session);
    flowai_aida_free(g.out_aida);
    flowai_receiver_free(g.out_receiver);
    g.out_str = NULL;
    g.out_messaging = NULL;
    g.out_management = NULL;
    g.out_session = NULL;
    g.out_aida_session = NULL;
    g.out_aida = NULL;
    g.out_receiver = NULL;
    g.out_trace = 0;
    return clean;
}

static int freed_now(Collector *c) {
    pthread_mutex_lock(&c->lock);
    int freed = c->freed;
    pthread_mutex_unlock(&c->lock);
    return freed;
}

/* One call with parameter `i` replaced; expects FLOWAI_INVALID_ARGUMENT and no side effects. */
static void expect_invalid(size_t e, int i, const char *repl, const char *needle) {
    Sub sub = {i, repl};
    int freed_before = freed_now(&g.collector);
    FlowaiStatus status = EXPORTS[e].call(&sub);
    const char *message = flowai_last_error_message();
    int ok = status == FLOWAI_INVALID_ARGUMENT && strlen(message) > 0 &&
             (needle == NULL || strstr(message, needle) != NULL) && !has_secret(message);
    /* A call that takes user data frees it exactly once, even when it fails. */
    if (EXPORTS[e].takes_user_data && freed_now(&g.collector) != freed_before + 1) {
        ok = 0;
    }
    if (!outs_untouched()) {
        ok = 0;
    }
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL %s parameter %d = %s: %s (%s)\n", EXPORTS[e].name, i,
                repl == NULL ? "NULL" : "invalid UTF-8", flowai_error_code_string((int)status),
                message);
    }
}

static void test_every_pointer_parameter(void) {
    memset(&g, 0, sizeof g);
    collector_init(&g.collector);
    Collector events;
    collector_init(&events);
    CHECK_STATUS(flowai_messaging_new_from_env(&g.messaging), FLOWAI_OK);
    CHECK_STATUS(flowai_management_new_from_env(&g.management), FLOWAI_OK);
    CHECK_STATUS(flowai_session_connect(NULL, NULL, NULL, on_event_tagged, new_tag(&events), free_tag,
                                        &g.session),
                 FLOWAI_OK);
    CHECK_STATUS(flowai_aida_connect(NULL, NULL, NULL, &g.aida), FLOWAI_OK);
    CHECK_STATUS(flowai_aida_session_new(g.aida, NULL, on_event_tagged, new_tag(&events), free_tag,
                                         &g.aida_session),
                 FLOWAI_OK);
    CHECK_STATUS(flowai_receiver_start("k", NULL, on_event_tagged, new_tag(&events), free_tag, &g.receiver),
                 FLOWAI_OK);
    if (g.messaging && g.management && g.session && g.aida && g.aida_session && g.receiver) {
        /* A bad string that also carries a secret: the message may name the parameter only. */
        static const char bad_utf8[] = "SECRETmsgKEY7c1a\xff\xfe\xc3(";
        for (size_t e = 0; e < sizeof EXPORTS / sizeof EXPORTS[0]; e++) {
            for (int i = 0; EXPORTS[e].kinds[i] != '\0'; i++) {
                char kind = EXPORTS[e].kinds[i];
                if (strchr("hoscab", kind) != NULL) {
                    expect_invalid(e, i, NULL, "NULL");
                }
                if (kind == 's' || kind == 'S') {
                    expect_invalid(e, i, bad_utf8, "UTF-8");
                }
            }
        }
        /* Invalid UTF-8 inside the header arrays, and a body that is no UTF-8 at all. */
        const char *bad_names[] = {"X-Flowai-Verify-Key", "X-\xff"};
        const char *bad_values[] = {"k\xfe", "v"};
        const char *names[] = {"X-Flowai-Verify-Key", "Other"};
        const char *values[] = {"k", "v"};
        char *out = NULL;
        CHECK_STATUS(flowai_webhook_verify("k", bad_names, values, 2, NULL, (const uint8_t *)BODY,
                                           sizeof BODY - 1, &out),
                     FLOWAI_INVALID_ARGUMENT);
        CHECK_STATUS(flowai_webhook_verify("k", names, bad_values, 2, NULL, (const uint8_t *)BODY,
                                           sizeof BODY - 1, &out),
                     FLOWAI_INVALID_ARGUMENT);
        const char *null_entry[] = {"X-Flowai-Verify-Key", NULL};
        CHECK_STATUS(flowai_webhook_verify("k", names, null_entry, 2, NULL, (const uint8_t *)BODY,
                                           sizeof BODY - 1, &out),
                     FLOWAI_INVALID_ARGUMENT);
        static const uint8_t binary[] = {0xff, 0xfe, 0x00, 0x80};
        FlowaiStatus status = flowai_webhook_verify("k", names, values, 2, NULL, binary, sizeof binary, &out);
        CHECK(status == FLOWAI_PROTOCOL || status == FLOWAI_INVALID_ARGUMENT);
        CHECK(out == NULL);
        /* JSON arguments that are valid JSON holding invalid escapes are refused too. */
        CHECK_STATUS(flowai_session_send(g.session, "{\"speech\":\"\\ud800\"}", NULL),
                     FLOWAI_INVALID_ARGUMENT);
        /* The live objects were not harmed by any of it. */
        CHECK_STATUS(flowai_session_send_text(g.session, "still here", NULL), FLOWAI_OK);
        CHECK_STATUS(flowai_aida_session_send_text(g.aida_session, "still here", NULL), FLOWAI_OK);
    }
    /* Every release function ignores NULL; flowai_string_free(NULL) is a no-op. */
    flowai_string_free(NULL);
    flowai_messaging_free(NULL);
    flowai_management_free(NULL);
    flowai_session_free(NULL);
    flowai_aida_session_free(NULL);
    flowai_aida_free(NULL);
    flowai_receiver_free(NULL);
    CHECK(strlen(flowai_version()) > 0);

    CHECK_STATUS(flowai_session_close(g.session), FLOWAI_OK);
    flowai_session_free(g.session);
    CHECK_STATUS(flowai_aida_session_delete(g.aida_session), FLOWAI_OK);
    flowai_aida_session_free(g.aida_session);
    flowai_aida_free(g.aida);
    CHECK_STATUS(flowai_receiver_close(g.receiver), FLOWAI_OK);
    flowai_receiver_free(g.receiver);
    flowai_messaging_free(g.messaging);
    flowai_management_free(g.management);
    struct timespec until = deadline();
    pthread_mutex_lock(&events.lock);
    while (events.freed < 3 &&
           pthread_cond_timedwait(&events.changed, &events.lock, &until) != ETIMEDOUT) {
    }
    int freed = events.freed;
    pthread_mutex_unlock(&events.lock);
    CHECK(freed == 3);
    collector_destroy(&events);
    collector_destroy(&g.collector);
}

/* ---------- secrets never appear in error messages ---------- */

static void test_secrets(void) {
    const char *api = getenv("FLOWAI_API_URL");
    FlowaiMessaging *messaging = NULL;
    CHECK_STATUS(flowai_messaging_new(api, "SECRETmsgKEY7c1a", &messaging), FLOWAI_OK);
    if (messaging != NULL) {
        CHECK_STATUS(flowai_messaging_send_text(messaging, "t", "x", NULL), FLOWAI_AUTH);
        CHECK_NO_SECRET();
        char *out = NULL;
        CHECK_STATUS(flowai_messaging_webhook_list(messaging, &out), FLOWAI_AUTH);
        CHECK_NO_SECRET();
        CHECK_STATUS(flowai_messaging_webhook_create(
                         messaging, "{\"url\":\"http://127.0.0.1:1/\",\"verifyKey\":\"SECRETverifyKEY0a4c\","
                                    "\"events\":[\"message.reply\"]}",
                         &out),
                     FLOWAI_AUTH);
        CHECK_NO_SECRET();
        flowai_messaging_free(messaging);
    }
    /* A key, user and password in the URL of an unreachable server. */
    messaging = NULL;
    CHECK_STATUS(flowai_messaging_new("http://SECRETclientID55d2:SECRETpass6e2f@127.0.0.1:1/?key=SECRETmsgKEY7c1a",
                                      "SECRETmsgKEY7c1a", &messaging),
                 FLOWAI_OK);
    if (messaging != NULL) {
        FlowaiStatus status = flowai_messaging_send_text(messaging, "t", "x", NULL);
        CHECK(status == FLOWAI_CONNECTION || status == FLOWAI_INVALID_ARGUMENT);
        CHECK_NO_SECRET();
        flowai_messaging_free(messaging);
    }
    messaging = NULL;
    FlowaiStatus made = flowai_messaging_new("not a url SECRETmsgKEY7c1a", "SECRETmsgKEY7c1a", &messaging);
    CHECK_NO_SECRET();
    if (made == FLOWAI_OK) {
        CHECK(flowai_messaging_send_text(messaging, "t", "x", NULL) != FLOWAI_OK);
        CHECK_NO_SECRET();
        flowai_messaging_free(messaging);
    }

    FlowaiManagement *management = NULL;
    CHECK_STATUS(flowai_management_new(api, "SECRETmgmtKEY3b9e", &management), FLOWAI_OK);
    if (management != NULL) {
        char *out = NULL;
        CHECK_STATUS(flowai_management_list(management, "flows", &out), FLOWAI_AUTH);
        CHECK_NO_SECRET();
        CHECK_STATUS(flowai_management_info(management, "flows", "x", &out), FLOWAI_AUTH);
        CHECK_NO_SECRET();
        flowai_management_free(management);
    }

    /* A client id that is no valid id, and a well-formed one that is refused. */
    Collector c;
    collector_init(&c);
    FlowaiSession *session = NULL;
    FlowaiStatus status = flowai_session_connect(NULL, "SECRETclientID55d2", NULL, on_event_tagged,
                                                 new_tag(&c), free_tag, &session);
    CHECK(status != FLOWAI_OK);
    CHECK_NO_SECRET();
    CHECK(wait_freed(&c) == 1);
    /* base64 of "SECRETclientID55d2|SECRETpass6e2f" */
    status = flowai_session_connect(NULL, "U0VDUkVUY2xpZW50SUQ1NWQyfFNFQ1JFVHBhc3M2ZTJm", NULL,
                                    on_event_tagged, new_tag(&c), free_tag, &session);
    CHECK(status == FLOWAI_AUTH);
    CHECK_NO_SECRET();
    CHECK(wait_freed(&c) == 2);
    pthread_mutex_lock(&c.lock);
    int leaked = 0;
    for (int i = 0; i < c.count; i++) {
        leaked |= has_secret(c.events[i].json);
    }
    pthread_mutex_unlock(&c.lock);
    CHECK(!leaked);
    collector_destroy(&c);

    FlowaiAida *aida = NULL;
    CHECK_STATUS(flowai_aida_connect(NULL, NULL, "SECRETaidaTOKEN81f0", &aida), FLOWAI_AUTH);
    CHECK_NO_SECRET();
    status = flowai_aida_connect("http://SECRETclientID55d2:SECRETpass6e2f@127.0.0.1:1/", NULL,
                                 "SECRETaidaTOKEN81f0", &aida);
    CHECK(status != FLOWAI_OK);
    CHECK_NO_SECRET();
    if (status == FLOWAI_OK) {
        flowai_aida_free(aida);
    }

    /* Webhook verification: neither the expected nor the presented key is echoed. */
    const char *body = "{\"type\":\"message.reply\",\"verifyKey\":\"SECRETwrongKEY9d1e\",\"payload\":{}}";
    const char *names[] = {"X-Flowai-Verify-Key"};
    const char *values[] = {"SECRETwrongKEY9d1e"};
    char *out = NULL;
    CHECK_STATUS(flowai_webhook_verify("SECRETverifyKEY0a4c", names, values, 1, NULL,
                                       (const uint8_t *)body, strlen(body), &out),
                 FLOWAI_VERIFICATION);
    CHECK_NO_SECRET();
    CHECK_STATUS(flowai_webhook_verify("SECRETverifyKEY0a4c", NULL, NULL, 0,
                                       "verifyKey=SECRETwrongKEY9d1e", (const uint8_t *)body,
                                       strlen(body), &out),
                 FLOWAI_VERIFICATION);
    CHECK_NO_SECRET();
    CHECK_STATUS(flowai_webhook_verify("SECRETverifyKEY0a4c", NULL, NULL, 0, NULL,
                                       (const uint8_t *)body, strlen(body), &out),
                 FLOWAI_VERIFICATION);
    CHECK_NO_SECRET();
    CHECK_STATUS(flowai_webhook_verify_json("SECRETverifyKEY0a4c",
                                            "{\"X-Flowai-Verify-Key\":\"SECRETwrongKEY9d1e\"}", NULL,
                                            (const uint8_t *)body, strlen(body), &out),
                 FLOWAI_VERIFICATION);
    CHECK_NO_SECRET();
    CHECK_STATUS(flowai_webhook_verify_json("SECRETverifyKEY0a4c", "{\"X-Flowai-Verify-Key\":\"SECRETverifyKEY0a4c\"}",
                                            NULL, (const uint8_t *)"{SECRETwrongKEY9d1e", 19, &out),
                 FLOWAI_PROTOCOL);
    CHECK_NO_SECRET();
    CHECK(out == NULL);
    FlowaiReceiver *receiver = NULL;
    Collector r;
    collector_init(&r);
    CHECK_STATUS(flowai_receiver_start("SECRETverifyKEY0a4c", "{\"maxBodyBytes\":\"many\"}", on_event_tagged,
                                       new_tag(&r), free_tag, &receiver),
                 FLOWAI_INVALID_ARGUMENT);
    CHECK_NO_SECRET();
    CHECK(wait_freed(&r) == 1);
    collector_destroy(&r);
}

/* ---------- thousands of sessions opened and closed ---------- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    long closed;
    long freed;
    long bad_order; /* an event after CLOSED, or a second CLOSED */
} Counter;

typedef struct {
    Counter *counter;
    int closed;
} CountTag;

static void on_count(void *user_data, const FlowaiEvent *event) {
    CountTag *tag = user_data;
    Counter *c = tag->counter;
    pthread_mutex_lock(&c->lock);
    if (tag->closed) {
        c->bad_order++;
    }
    if (event->kind == FLOWAI_EVENT_CLOSED) {
        tag->closed = 1;
        c->closed++;
    }
    pthread_mutex_unlock(&c->lock);
}

static void free_count(void *user_data) {
    CountTag *tag = user_data;
    Counter *c = tag->counter;
    pthread_mutex_lock(&c->lock);
    if (!tag->closed) {
        c->bad_order++;
    }
    c->freed++;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    free(tag);
}

static CountTag *new_count_tag(Counter *c) {
    CountTag *tag = calloc(1, sizeof *tag);
    tag->counter = c;
    return tag;
}

static long wait_count_freed(Counter *c, long expected) {
    struct timespec until = deadline();
    pthread_mutex_lock(&c->lock);
    while (c->freed < expected &&
           pthread_cond_timedwait(&c->changed, &c->lock, &until) != ETIMEDOUT) {
    }
    long freed = c->freed;
    pthread_mutex_unlock(&c->lock);
    return freed;
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return -1;
    }
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
        }
    }
    fclose(f);
    return kib;
}

static long env_long(const char *name, long fallback) {
    const char *value = getenv(name);
    return value != NULL && *value != '\0' ? strtol(value, NULL, 10) : fallback;
}

#define BATCH 100

static void test_many_sessions(void) {
    long socket_total = env_long("FLOWAI_C_STRESS_SESSIONS", 2000);
    long aida_total = env_long("FLOWAI_C_STRESS_AIDA", 200);
    int check_rss = (int)env_long("FLOWAI_C_CHECK_RSS", 0);
    Counter counter;
    memset(&counter, 0, sizeof counter);
    pthread_mutex_init(&counter.lock, NULL);
    pthread_cond_init(&counter.changed, NULL);

    static FlowaiSession *sessions[BATCH];
    long opened = 0;
    long ok = 0;
    long rss_base = -1;
    long rss_max = -1;
    int rounds = (int)((socket_total + BATCH - 1) / BATCH);
    for (int round = 0; round < rounds; round++) {
        int n = 0;
        for (; n < BATCH && opened < socket_total; n++, opened++) {
            sessions[n] = NULL;
            if (flowai_session_connect(NULL, NULL, NULL, on_count, new_count_tag(&counter), free_count,
                                       &sessions[n]) == FLOWAI_OK) {
                ok++;
            }
        }
        /* Half closed and released, half released open (closed in the background). */
        for (int i = 0; i < n; i++) {
            if (i % 2 == 0 && sessions[i] != NULL) {
                flowai_session_close(sessions[i]);
            }
            flowai_session_free(sessions[i]);
        }
        wait_count_freed(&counter, opened);
        if (check_rss && round >= 2) {
            long rss = rss_kib();
            if (round == 2) {
                rss_base = rss;
            }
            rss_max = rss > rss_max ? rss : rss_max;
        }
    }
    CHECK(ok == socket_total);
    CHECK(wait_count_freed(&counter, socket_total) == socket_total);
    pthread_mutex_lock(&counter.lock);
    CHECK(counter.closed == socket_total);
    CHECK(counter.bad_order == 0);
    pthread_mutex_unlock(&counter.lock);
    if (check_rss && rss_base > 0) {
        /* Flat within a generous bound: allocator caches and runtime threads settle early. */
        printf("  rss after warm-up %ld KiB, max %ld KiB over %d rounds\n", rss_base, rss_max, rounds);
        CHECK(rss_max <= rss_base + rss_base / 2 + 16 * 1024);
    }

    FlowaiAida *aida = NULL;
    CHECK_STATUS(flowai_aida_connect(NULL, NULL, NULL, &aida), FLOWAI_OK);
    static FlowaiAidaSession *aida_sessions[BATCH];
    Counter aida_counter;
    memset(&aida_counter, 0, sizeof aida_counter);
    pthread_mutex_init(&aida_counter.lock, NULL);
    pthread_cond_init(&aida_counter.changed, NULL);
    opened = 0;
    ok = 0;
    while (aida != NULL && opened < aida_total) {
        int n = 0;
        for (; n < BATCH && opened < aida_total; n++, opened++) {
            aida_sessions[n] = NULL;
            if (flowai_aida_session_new(aida, NULL, on_count, new_count_tag(&aida_counter), free_count,
                                        &aida_sessions[n]) == FLOWAI_OK) {
                ok++;
            }
        }
        for (int i = 0; i < n; i++) {
            if (i % 2 == 0 && aida_sessions[i] != NULL) {
                flowai_aida_session_delete(aida_sessions[i]);
            }
            flowai_aida_session_free(aida_sessions[i]);
        }
        wait_count_freed(&aida_counter, opened);
    }
    CHECK(ok == aida_total);
    CHECK(wait_count_freed(&aida_counter, aida_total) == aida_total);
    CHECK(aida_counter.closed == aida_total && aida_counter.bad_order == 0);
    if (aida != NULL) {
        CHECK_STATUS(flowai_aida_close(aida), FLOWAI_OK);
        flowai_aida_free(aida);
    }
    /* A few whole AIDA clients too. */
    long clients = aida_total / 20 > 2 ? aida_total / 20 : 2;
    for (long i = 0; i < clients; i++) {
        FlowaiAida *client = NULL;
        CHECK_STATUS(flowai_aida_connect(NULL, NULL, NULL, &client), FLOWAI_OK);
        if (i % 2 == 0) {
            flowai_aida_close(client);
        }
        flowai_aida_free(client);
    }
    pthread_cond_destroy(&counter.changed);
    pthread_mutex_destroy(&counter.lock);
    pthread_cond_destroy(&aida_counter.changed);
    pthread_mutex_destroy(&aida_counter.lock);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (getenv("FLOWAI_API_URL") == NULL) {
        fprintf(stderr, "FLOWAI_API_URL is not set: run tests/c/run.sh\n");
        return 2;
    }
    struct {
        const char *name;
        void (*run)(void);
    } tests[] = {
        {"basics", test_basics},       {"messaging", test_messaging}, {"threads", test_threads}, {"webhooks", test_webhooks},
        {"verify", test_verify},       {"management", test_management},
        {"session", test_session},     {"aida", test_aida},
        {"close in callback", test_close_in_callback},
        {"post in callback", test_post_in_callback},
        {"every pointer parameter", test_every_pointer_parameter},
        {"secrets", test_secrets},
        {"many sessions", test_many_sessions},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = failed;
        tests[i].run();
        printf("%s %s\n", failed == before ? "ok  " : "FAIL", tests[i].name);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
