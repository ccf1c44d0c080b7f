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
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = failed;
        tests[i].run();
        printf("%s %s\n", failed == before ? "ok  " : "FAIL", tests[i].name);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
