/* Tests of the flowai C API (flowai_open / flowai_call and friends) against the emulator that
 * tests/c/run.sh starts (the FLOWAI_* variables) and against the in-process `emulator` kind.
 * Every kind and every method, events and their order, callbacks that close, block or call
 * again, every pointer parameter of every export, settings errors, secrets, and thousands of
 * objects opened and closed. Prints "N passed, N failed" and exits non-zero on any failure. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

#define CHECK_STATUS(call, expected)                                                         \
    do {                                                                                     \
        FlowaiStatus got_ = (call);                                                          \
        if (got_ == (expected)) {                                                            \
            passed++;                                                                        \
        } else {                                                                             \
            failed++;                                                                        \
            fprintf(stderr, "FAIL %s:%d: %s returned %s, expected %s (last error: %s)\n",    \
                    __FILE__, __LINE__, #call, flowai_error_code_string((int)got_),          \
                    flowai_error_code_string((int)(expected)), flowai_last_error_message()); \
        }                                                                                    \
    } while (0)

/* The last error message is exactly `text`. */
#define CHECK_MESSAGE(text)                                                                  \
    do {                                                                                     \
        const char *msg_ = flowai_last_error_message();                                      \
        if (strcmp(msg_, (text)) == 0) {                                                     \
            passed++;                                                                        \
        } else {                                                                             \
            failed++;                                                                        \
            fprintf(stderr, "FAIL %s:%d: message \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
                    msg_, (text));                                                           \
        }                                                                                    \
    } while (0)

/* A generous safety net so that a broken build ends instead of hanging; no assertion on speed. */
#define WAIT_SECONDS 30

static const char *const EVENT_NAMES[] = {
    "connected", "disconnected", "reconnecting", "delivered", "reply", "agent_typing", "interruption",
    "handover",  "aida_message", "progress",     "error",     "unknown", "closed",
};

static const char *const CODES[] = {
    "FLOWAI_OK",       "FLOWAI_INVALID_ARGUMENT", "FLOWAI_AUTH",         "FLOWAI_HTTP",
    "FLOWAI_RATE_LIMITED", "FLOWAI_TIMEOUT",     "FLOWAI_CONNECTION",   "FLOWAI_PROTOCOL",
    "FLOWAI_CLOSED",   "FLOWAI_VERIFICATION",     "FLOWAI_QUEUE_FULL",   "FLOWAI_INTERNAL",
    "FLOWAI_MISUSE",
};

/* The webhook body of the conformance scenario, and the same text as a JSON string. */
#define BODY                                                                                   \
    "{\"type\":\"message.reply\",\"payload\":{\"threadId\":\"conformance-thread\",\"messages\":" \
    "[{\"fallback\":\"hello\",\"silent\":false,\"responses\":[{\"type\":\"text\",\"payload\":"  \
    "{\"text\":\"hello\"},\"delay\":0}]}]}}"

/* ---------- small helpers ---------- */

static int has(const char *text, const char *needle) {
    return text != NULL && strstr(text, needle) != NULL;
}

static char *dup_text(const char *src) {
    size_t len = strlen(src) + 1;
    char *copy = malloc(len);
    if (copy != NULL) {
        memcpy(copy, src, len);
    }
    return copy;
}

/* `text` as a JSON string literal (quotes included), in a new malloc'd buffer. */
static char *json_quote(const char *text) {
    size_t len = strlen(text);
    char *out = malloc(len * 6 + 3);
    char *p = out;
    *p++ = '"';
    for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
        if (*s == '"' || *s == '\\') {
            *p++ = '\\';
            *p++ = (char)*s;
        } else if (*s < 0x20) {
            p += sprintf(p, "\\u%04x", *s);
        } else {
            *p++ = (char)*s;
        }
    }
    *p++ = '"';
    *p = '\0';
    return out;
}

/* Copy the string value of "key":"..." from compact JSON into out. */
static int json_str(const char *json, const char *key, char *out, size_t size) {
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

static struct timespec deadline(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += WAIT_SECONDS;
    return ts;
}

/* Let late events arrive; only used before asserting that nothing more came. */
static void settle(void) {
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* A temporary file of `bytes` bytes; 0 on failure. */
static int temp_file(char *path, size_t bytes, const unsigned char *head, size_t head_len) {
    int fd = mkstemp(path);
    if (fd < 0) {
        return 0;
    }
    FILE *f = fdopen(fd, "wb");
    if (f == NULL) {
        close(fd);
        return 0;
    }
    fwrite(head, 1, head_len, f);
    for (size_t i = head_len; i < bytes; i++) {
        fputc('a' + (int)(i % 26), f);
    }
    fclose(f);
    return 1;
}

/* ---------- events collected from callbacks, shared with the test thread ---------- */

typedef struct {
    FlowaiEventKind kind;
    char name[32];
    char *payload;
} Seen;

typedef struct Collector Collector;

/* Runs inside the event callback (outside the collector's lock) for every event. */
typedef void (*Actor)(Collector *c, const FlowaiEvent *event);

struct Collector {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    Seen *events;
    int count;
    int cap;
    int freed;
    int count_at_free; /* events seen when free_user_data ran: none may come after */
    int bad_name;      /* an event whose kind and name disagree */
    Actor actor;
    int acted;
    FlowaiHandle *self;  /* the object these events belong to, for actors */
    FlowaiHandle *other; /* another object an actor uses */
    FlowaiStatus st[6];  /* what an actor saw */
    int chain_sent, chain_ok, chain_failed;
};

static void collector_init(Collector *c) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
}

static void collector_destroy(Collector *c) {
    for (int i = 0; i < c->count; i++) {
        free(c->events[i].payload);
    }
    free(c->events);
    pthread_cond_destroy(&c->changed);
    pthread_mutex_destroy(&c->lock);
}

/* user_data is a heap tag pointing at the collector: freeing it proves ownership passed. */
typedef struct {
    Collector *collector;
} Tag;

static Tag *tag(Collector *c) {
    Tag *t = malloc(sizeof *t);
    t->collector = c;
    return t;
}

static void on_event(void *user_data, const FlowaiEvent *event) {
    Collector *c = ((Tag *)user_data)->collector;
    pthread_mutex_lock(&c->lock);
    if (c->count == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->events = realloc(c->events, (size_t)c->cap * sizeof *c->events);
    }
    Seen *s = &c->events[c->count++];
    s->kind = event->kind;
    snprintf(s->name, sizeof s->name, "%s", event->name);
    s->payload = dup_text(event->payload_json);
    if ((int)event->kind < 0 || event->kind > FLOWAI_EVENT_CLOSED ||
        strcmp(EVENT_NAMES[event->kind], event->name) != 0 || event->payload_json[0] != '{') {
        c->bad_name++;
    }
    Actor actor = c->self != NULL ? c->actor : NULL;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    if (actor != NULL) {
        actor(c, event);
    }
}

static void free_tag(void *user_data) {
    Tag *t = user_data;
    Collector *c = t->collector;
    pthread_mutex_lock(&c->lock);
    c->freed++;
    c->count_at_free = c->count;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    free(t);
}

/* Whether an actor should act now: the first event of `kind` (once per collector). */
static int first(Collector *c, const FlowaiEvent *event, FlowaiEventKind kind) {
    pthread_mutex_lock(&c->lock);
    int go = event->kind == kind && !c->acted;
    c->acted |= go;
    pthread_mutex_unlock(&c->lock);
    return go;
}

/* Wait for an event of `kind` whose payload contains `needle` (NULL: any), from index *from
 * on. Returns its index or -1. */
static int wait_event(Collector *c, FlowaiEventKind kind, const char *needle, int *from) {
    struct timespec until = deadline();
    int found = -1;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        for (int i = *from; i < c->count; i++) {
            if (c->events[i].kind == kind && (needle == NULL || has(c->events[i].payload, needle))) {
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
    while (c->freed == 0 && pthread_cond_timedwait(&c->changed, &c->lock, &until) != ETIMEDOUT) {
    }
    int freed = c->freed;
    pthread_mutex_unlock(&c->lock);
    return freed;
}

static int freed_now(Collector *c) {
    pthread_mutex_lock(&c->lock);
    int freed = c->freed;
    pthread_mutex_unlock(&c->lock);
    return freed;
}

/* Whether event `at` (an index from wait_event) has `needle` in its payload. */
static int event_has(Collector *c, int at, const char *needle) {
    pthread_mutex_lock(&c->lock);
    int yes = at >= 0 && at < c->count && has(c->events[at].payload, needle);
    pthread_mutex_unlock(&c->lock);
    return yes;
}

static int count_kind(Collector *c, FlowaiEventKind kind) {
    pthread_mutex_lock(&c->lock);
    int n = 0;
    for (int i = 0; i < c->count; i++) {
        n += c->events[i].kind == kind;
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* The object's events ended as promised: CLOSED once and last, user data freed once after
 * it, nothing after the free, every kind named by its name. */
#define CHECK_ENDED(c) check_ended((c), __LINE__)
static void check_ended(Collector *c, int line) {
    int freed = wait_freed(c);
    settle();
    pthread_mutex_lock(&c->lock);
    int closed = 0;
    for (int i = 0; i < c->count; i++) {
        closed += c->events[i].kind == FLOWAI_EVENT_CLOSED;
    }
    int ok = freed == 1 && c->freed == 1 && closed == 1 && c->count > 0 &&
             c->events[c->count - 1].kind == FLOWAI_EVENT_CLOSED && c->count_at_free == c->count &&
             c->bad_name == 0;
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d: events did not end well (freed %d, closed %d, count %d, at free %d, bad %d)\n",
                line, c->freed, closed, c->count, c->count_at_free, c->bad_name);
    }
    pthread_mutex_unlock(&c->lock);
}

/* Open an object with its events going to `c` (NULL: no callback). */
#define OPEN(kind, settings, c) open_at(__LINE__, (kind), (settings), (c))
static FlowaiHandle *open_at(int line, const char *kind, const char *settings, Collector *c) {
    FlowaiHandle *h = NULL;
    FlowaiStatus st = flowai_open(kind, settings, c ? on_event : NULL, c ? tag(c) : NULL,
                                  c ? free_tag : NULL, &h);
    if (st == FLOWAI_OK && h != NULL) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d: flowai_open(%s) returned %s: %s\n", line, kind,
                flowai_error_code_string((int)st), flowai_last_error_message());
    }
    if (c != NULL && h != NULL) {
        pthread_mutex_lock(&c->lock);
        c->self = h;
        pthread_mutex_unlock(&c->lock);
    }
    return h;
}

/* Open an object that a method makes, its events going to `c`. */
#define OPEN_BY(h, method, args, c) open_by_at(__LINE__, (h), (method), (args), (c))
static FlowaiHandle *open_by_at(int line, const FlowaiHandle *h, const char *method, const char *args,
                                Collector *c) {
    FlowaiHandle *made = NULL;
    FlowaiStatus st = flowai_call_open(h, method, args, on_event, tag(c), free_tag, &made);
    if (st == FLOWAI_OK && made != NULL) {
        passed++;
        pthread_mutex_lock(&c->lock);
        c->self = made;
        pthread_mutex_unlock(&c->lock);
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d: flowai_call_open(%s) returned %s: %s\n", line, method,
                flowai_error_code_string((int)st), flowai_last_error_message());
    }
    return made;
}

/* Call and expect `expected`; the result (free it with flowai_string_free) on FLOWAI_OK. */
static char *call_at(int line, const FlowaiHandle *h, const char *method, const char *args,
                     FlowaiStatus expected, const char *needle) {
    char *out = NULL;
    FlowaiStatus got = flowai_call(h, method, args, &out);
    const char *message = flowai_last_error_message();
    int ok = got == expected && (got == FLOWAI_OK) == (out != NULL) &&
             (got == FLOWAI_OK ? strlen(message) == 0 : strlen(message) > 0) &&
             flowai_last_error_code() == got && (needle == NULL || has(message, needle));
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d: %s %s returned %s, expected %s (%s)\n", line, method,
                args ? args : "NULL", flowai_error_code_string((int)got),
                flowai_error_code_string((int)expected), message);
    }
    return out;
}
#define CALL(h, method, args) call_at(__LINE__, (h), (method), (args), FLOWAI_OK, NULL)
#define CALL_FAILS(h, method, args, status, needle) \
    flowai_string_free(call_at(__LINE__, (h), (method), (args), (status), (needle)))
#define CALL_NULL(h, method, args)                     \
    do {                                               \
        char *r_ = CALL((h), (method), (args));        \
        CHECK(r_ != NULL && strcmp(r_, "null") == 0);  \
        flowai_string_free(r_);                        \
    } while (0)

/* ---------- results of flowai_call_async ---------- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int calls;
    FlowaiStatus status;
    char *json;
} Result;

static void result_init(Result *r) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->changed, NULL);
}

static void result_destroy(Result *r) {
    free(r->json);
    pthread_cond_destroy(&r->changed);
    pthread_mutex_destroy(&r->lock);
}

static void on_result(void *user_data, FlowaiStatus status, const char *json) {
    Result *r = user_data;
    pthread_mutex_lock(&r->lock);
    r->calls++;
    r->status = status;
    free(r->json);
    r->json = dup_text(json);
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
}

/* Wait for the result; returns how many times `done` ran (1 expected). */
static int wait_result(Result *r) {
    struct timespec until = deadline();
    pthread_mutex_lock(&r->lock);
    while (r->calls == 0 && pthread_cond_timedwait(&r->changed, &r->lock, &until) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&r->lock);
    settle();
    pthread_mutex_lock(&r->lock);
    int calls = r->calls;
    pthread_mutex_unlock(&r->lock);
    return calls;
}

/* ---------- secrets ---------- */

/* Distinctive keys that must never appear in an error message, a result or an event. */
static const char *const SECRETS[] = {
    "SECRETmsgKEY7c1a",    "SECRETmgmtKEY3b9e",  "SECRETclientID55d2", "SECRETaidaTOKEN81f0",
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

#define CHECK_NO_SECRET() CHECK(!has_secret(flowai_last_error_message()))

/* ---------- basics ---------- */

static void test_basics(void) {
    CHECK(strlen(flowai_version()) > 0);
    for (int i = 0; i <= FLOWAI_MISUSE; i++) {
        CHECK(strcmp(flowai_error_code_string(i), CODES[i]) == 0);
    }
    CHECK(FLOWAI_OK == 0 && FLOWAI_INVALID_ARGUMENT == 1 && FLOWAI_MISUSE == 12);
    CHECK(FLOWAI_EVENT_CONNECTED == 0 && FLOWAI_EVENT_REPLY == 4 && FLOWAI_EVENT_CLOSED == 12);
    CHECK(strcmp(flowai_error_code_string(13), "FLOWAI_UNKNOWN") == 0);
    CHECK(strcmp(flowai_error_code_string(-1), "FLOWAI_UNKNOWN") == 0);
    flowai_string_free(NULL);
    flowai_free(NULL);
    CHECK(strcmp(flowai_last_error_message(), "") == 0);
    CHECK(flowai_last_error_code() == FLOWAI_OK);

    /* Kinds come from the table; aida_session is made by an aida client only. */
    FlowaiHandle *h = NULL;
    CHECK_STATUS(flowai_open("spaceship", "{}", NULL, NULL, NULL, &h), FLOWAI_INVALID_ARGUMENT);
    CHECK(has(flowai_last_error_message(), "unknown kind `spaceship`"));
    CHECK(flowai_last_error_code() == FLOWAI_INVALID_ARGUMENT);
    CHECK_STATUS(flowai_open(FLOWAI_KIND_AIDA_SESSION, NULL, NULL, NULL, NULL, &h),
                 FLOWAI_INVALID_ARGUMENT);
    CHECK(h == NULL);
    /* A later success clears this thread's error. */
    FlowaiHandle *v = OPEN(FLOWAI_KIND_VERIFIER, "{\"verify_key\":\"k\"}", NULL);
    CHECK(strcmp(flowai_last_error_message(), "") == 0 && flowai_last_error_code() == FLOWAI_OK);
    CHECK_STATUS(flowai_close(v), FLOWAI_OK);
    flowai_free(v);
}

/* ---------- settings: the core's validation and messages ---------- */

static void expect_open_error(int line, const char *kind, const char *settings, FlowaiStatus status,
                              const char *exact, const char *needle) {
    Collector c;
    collector_init(&c);
    FlowaiHandle *h = NULL;
    FlowaiStatus got = flowai_open(kind, settings, on_event, tag(&c), free_tag, &h);
    const char *message = flowai_last_error_message();
    /* Ownership of user_data passed: it is freed before a failed open returns. */
    int ok = got == status && h == NULL && freed_now(&c) == 1 && flowai_last_error_code() == got &&
             (exact == NULL || strcmp(message, exact) == 0) && (needle == NULL || has(message, needle));
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d: open %s %s returned %s (\"%s\", freed %d)\n", line, kind,
                settings ? settings : "NULL", flowai_error_code_string((int)got), message, freed_now(&c));
    }
    flowai_free(h);
    collector_destroy(&c);
}
#define OPEN_FAILS(kind, settings, status, exact, needle) \
    expect_open_error(__LINE__, (kind), (settings), (status), (exact), (needle))

static void test_settings(void) {
    const FlowaiStatus bad = FLOWAI_INVALID_ARGUMENT;
    OPEN_FAILS("messaging", "{\"messaging_key\":\"k\",\"timeout_ms\":0}", bad,
               "timeout_ms must be greater than 0", NULL);
    OPEN_FAILS("messaging", "{\"api_url\":\"not a url\",\"messaging_key\":\"k\"}", bad,
               "api_url is not a valid URL: relative URL without a base", NULL);
    /* camelCase names are the same settings. */
    OPEN_FAILS("messaging", "{\"messagingKey\":\"k\",\"timeoutMs\":0}", bad,
               "timeout_ms must be greater than 0", NULL);
    OPEN_FAILS("management", "{\"management_key\":\"k\",\"timeout_ms\":0}", bad,
               "timeout_ms must be greater than 0", NULL);
    OPEN_FAILS("session", "{\"send_timeout_ms\":0}", bad, "send_timeout_ms must be greater than 0", NULL);
    OPEN_FAILS("session", "{\"thread_id\":\" \"}", bad, "thread_id must not be empty", NULL);
    OPEN_FAILS("aida", "{\"push_timeout_ms\":0}", bad, "push_timeout_ms must be greater than 0", NULL);
    OPEN_FAILS("receiver", "{\"verify_key\":\"k\",\"path\":\"hook\"}", bad, "path must start with '/'", NULL);
    OPEN_FAILS("verifier", "{}", bad, NULL, "verify_key");
    OPEN_FAILS("emulator", "{\"time_scale\":0}", bad, "time_scale must be greater than 0", NULL);
    OPEN_FAILS("messaging", "{\"colour\":\"red\"}", bad, "invalid settings: unknown field `colour`", NULL);
    OPEN_FAILS("messaging", "[1]", bad, "settings must be an object", NULL);
    OPEN_FAILS("messaging", "{not json", bad, NULL, "settings_json is not valid JSON");
    OPEN_FAILS("messaging", "{\"messaging_key\":\"\\ud800\"}", bad, NULL, "settings_json is not valid JSON");
}

/* ---------- the in-process emulator kind ---------- */

static void test_emulator_kind(void) {
    Collector ce;
    collector_init(&ce);
    FlowaiHandle *emu = OPEN(FLOWAI_KIND_EMULATOR, "{}", &ce);
    if (emu == NULL) {
        collector_destroy(&ce);
        return;
    }
    char *s = CALL(emu, FLOWAI_EMULATOR_INFO, NULL);
    CHECK(has(s, "\"api_url\":\"http://127.0.0.1:") && has(s, "\"client_id\":") &&
          has(s, "\"messaging_key\":") && has(s, "\"management_key\":") && has(s, "\"aida_token\":"));

    /* One settings object serves every client kind. */
    static const char *const kinds[] = {FLOWAI_KIND_MESSAGING, FLOWAI_KIND_MANAGEMENT, FLOWAI_KIND_SESSION,
                                        FLOWAI_KIND_AIDA};
    for (size_t i = 0; s != NULL && i < sizeof kinds / sizeof kinds[0]; i++) {
        Collector c;
        collector_init(&c);
        FlowaiHandle *h = OPEN(kinds[i], s, &c);
        if (h != NULL && i >= 2) {
            int from = 0;
            CHECK(wait_event(&c, FLOWAI_EVENT_CONNECTED, NULL, &from) == 0);
        }
        if (i == 1) {
            char *flows = CALL(h, FLOWAI_MANAGEMENT_LIST_FLOWS, NULL);
            CHECK(has(flows, "flowId"));
            flowai_string_free(flows);
        }
        CHECK_STATUS(flowai_close(h), FLOWAI_OK);
        flowai_free(h);
        CHECK_ENDED(&c);
        collector_destroy(&c);
    }

    /* post_webhook: a signed call, a wrong key and a retried duplicate, into a receiver. */
    Collector cr;
    collector_init(&cr);
    FlowaiHandle *receiver = OPEN(FLOWAI_KIND_RECEIVER, "{\"verify_key\":\"emu-key\"}", &cr);
    char *info = receiver ? CALL(receiver, FLOWAI_RECEIVER_INFO, NULL) : NULL;
    char url[256] = "";
    CHECK(json_str(info, "url", url, sizeof url) && strncmp(url, "http://127.0.0.1:", 17) == 0);
    CHECK(has(info, "\"port\":"));
    char *body = json_quote(BODY);
    char args[2048];
    static const char *const posts[][3] = {
        {"emu-key", "d-1", "\"status\":200"}, {"wrong-key", "d-2", "\"status\":401"}, {"emu-key", "d-1", "\"status\":2"}};
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "{\"url\":\"%s\",\"body\":%s,\"verify_key\":\"%s\",\"delivery_id\":\"%s\"}",
                 url, body, posts[i][0], posts[i][1]);
        char *status = CALL(emu, FLOWAI_EMULATOR_POST_WEBHOOK, args);
        CHECK(has(status, posts[i][2]));
        flowai_string_free(status);
    }
    int from = 0;
    CHECK(wait_event(&cr, FLOWAI_EVENT_REPLY, "\"thread_id\":\"conformance-thread\"", &from) >= 0);
    settle();
    CHECK(count_kind(&cr, FLOWAI_EVENT_REPLY) == 1); /* the duplicate was dropped */
    CALL_FAILS(emu, FLOWAI_EMULATOR_POST_WEBHOOK, "{\"url\":\"not a url\",\"body\":\"{}\"}",
               FLOWAI_INVALID_ARGUMENT, "url");
    CHECK_STATUS(flowai_close(receiver), FLOWAI_OK);
    CALL_FAILS(receiver, FLOWAI_RECEIVER_INFO, NULL, FLOWAI_CLOSED, NULL);
    flowai_free(receiver);
    CHECK_ENDED(&cr);

    CHECK_STATUS(flowai_close(emu), FLOWAI_OK);
    CHECK_STATUS(flowai_close(emu), FLOWAI_OK);
    CALL_FAILS(emu, FLOWAI_EMULATOR_INFO, NULL, FLOWAI_CLOSED, NULL);
    flowai_free(emu);
    CHECK_ENDED(&ce);
    free(body);
    flowai_string_free(info);
    flowai_string_free(s);
    collector_destroy(&cr);
    collector_destroy(&ce);
}

/* ---------- record and replay through the emulator kind ---------- */

/* A session opened with `settings` says "hi"; the first fallback of the bot's reply goes
 * into `fallback`. The delivery and the reply carry the session's own thread. */
static void say_hi(const char *settings, char *fallback, size_t size) {
    fallback[0] = '\0';
    Collector c;
    collector_init(&c);
    FlowaiHandle *s = OPEN(FLOWAI_KIND_SESSION, settings, &c);
    if (s == NULL) {
        collector_destroy(&c);
        return;
    }
    char *info = CALL(s, FLOWAI_SESSION_INFO, NULL);
    char thread_id[160] = "";
    CHECK(json_str(info, "thread_id", thread_id, sizeof thread_id));
    int from = 0;
    CHECK(wait_event(&c, FLOWAI_EVENT_CONNECTED, NULL, &from) == 0);
    char *delivered = CALL(s, FLOWAI_SESSION_SEND_TEXT, "{\"text\":\"hi\"}");
    CHECK(has(delivered, "\"speech\":\"hi\"") && has(delivered, thread_id));
    flowai_string_free(delivered);
    int at = wait_event(&c, FLOWAI_EVENT_REPLY, NULL, &from);
    CHECK(at >= 0 && event_has(&c, at, thread_id));
    if (at >= 0) {
        pthread_mutex_lock(&c.lock);
        CHECK(json_str(c.events[at].payload, "fallback", fallback, size));
        pthread_mutex_unlock(&c.lock);
    }
    CHECK_STATUS(flowai_close(s), FLOWAI_OK);
    flowai_free(s);
    CHECK_ENDED(&c);
    flowai_string_free(info);
    collector_destroy(&c);
}

/* The whole file as a string (malloc'd), NULL when it cannot be read. */
static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    size_t n;
    while (text != NULL && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len == 1) {
            cap *= 2;
            char *bigger = realloc(text, cap);
            if (bigger == NULL) {
                free(text);
                fclose(f);
                return NULL;
            }
            text = bigger;
        }
    }
    fclose(f);
    if (text != NULL) {
        text[len] = '\0';
    }
    return text;
}

static void test_record_replay(void) {
    /* The service: an emulator in this process. */
    FlowaiHandle *service = OPEN(FLOWAI_KIND_EMULATOR, "{}", NULL);
    char path[] = "/tmp/flowai-c-recording-XXXXXX";
    if (service == NULL || !temp_file(path, 0, (const unsigned char *)"", 0)) {
        CHECK(0);
        flowai_close(service);
        flowai_free(service);
        return;
    }
    char *real = CALL(service, FLOWAI_EMULATOR_INFO, NULL);
    char api_url[128] = "", client_id[256] = "";
    CHECK(json_str(real, "api_url", api_url, sizeof api_url) &&
          json_str(real, "client_id", client_id, sizeof client_id));

    /* The recorder: its URLs only, the keys are the service's and pass through it. */
    char settings[1024];
    snprintf(settings, sizeof settings, "{\"record\":\"%s\",\"upstream\":\"%s\"}", path, api_url);
    Collector cr;
    collector_init(&cr);
    FlowaiHandle *recorder = OPEN(FLOWAI_KIND_EMULATOR, settings, &cr);
    char *urls = recorder ? CALL(recorder, FLOWAI_EMULATOR_INFO, NULL) : NULL;
    char recorder_url[128] = "";
    CHECK(json_str(urls, "api_url", recorder_url, sizeof recorder_url) &&
          strncmp(recorder_url, "http://127.0.0.1:", 17) == 0 && strcmp(recorder_url, api_url) != 0);
    CHECK(has(urls, "\"aida_url\":") && !has(urls, "client_id") && !has(urls, "messaging_key"));
    snprintf(settings, sizeof settings, "{\"api_url\":\"%s\",\"client_id\":\"%s\"}", recorder_url, client_id);
    char live[256];
    say_hi(settings, live, sizeof live);
    CHECK(has(live, "customer service demo bot"));
    CHECK_STATUS(flowai_close(recorder), FLOWAI_OK);
    flowai_free(recorder);
    CHECK_ENDED(&cr);

    /* Complete when close returned; the client id masked. */
    char *text = read_file(path);
    CHECK(has(text, "\"format\":\"flowai-recording\"") && has(text, "\"kind\":\"frame\""));
    CHECK(text != NULL && !has(text, client_id));
    free(text);

    /* The replay, with the service gone: fresh credentials, no bot (no AIDA recorded). */
    CHECK_STATUS(flowai_close(service), FLOWAI_OK);
    flowai_free(service);
    snprintf(settings, sizeof settings, "{\"replay\":\"%s\"}", path);
    Collector cp;
    collector_init(&cp);
    FlowaiHandle *replay = OPEN(FLOWAI_KIND_EMULATOR, settings, &cp);
    char *replayed_settings = replay ? CALL(replay, FLOWAI_EMULATOR_INFO, NULL) : NULL;
    CHECK(has(replayed_settings, "\"api_url\":\"http://127.0.0.1:") && has(replayed_settings, "\"client_id\":") &&
          !has(replayed_settings, client_id) && !has(replayed_settings, "aida_bot"));
    char replayed[256] = "";
    if (replayed_settings != NULL) {
        say_hi(replayed_settings, replayed, sizeof replayed);
    }
    CHECK(strlen(live) > 0 && strcmp(replayed, live) == 0);
    CHECK_STATUS(flowai_close(replay), FLOWAI_OK);
    CALL_FAILS(replay, FLOWAI_EMULATOR_INFO, NULL, FLOWAI_CLOSED, NULL);
    flowai_free(replay);
    CHECK_ENDED(&cp);

    /* Settings errors, in the core's words. */
    const FlowaiStatus bad = FLOWAI_INVALID_ARGUMENT;
    OPEN_FAILS(FLOWAI_KIND_EMULATOR, "{\"record\":\"/tmp/r.jsonl\"}", bad,
               "record needs upstream: the URL of the service to record", NULL);
    OPEN_FAILS(FLOWAI_KIND_EMULATOR, "{\"replay\":\"/tmp/r.jsonl\",\"time_scale\":0.5}", bad,
               "replay cannot be combined with time_scale: a replay serves the recording as it is", NULL);
    OPEN_FAILS(FLOWAI_KIND_EMULATOR, "{\"replay\":\"/nonexistent/r.jsonl\"}", bad, NULL,
               "cannot start the replay: cannot read the recording /nonexistent/r.jsonl");

    remove(path);
    flowai_string_free(replayed_settings);
    flowai_string_free(urls);
    flowai_string_free(real);
    collector_destroy(&cp);
    collector_destroy(&cr);
}

/* ---------- messaging, webhook subscriptions, the receiver ---------- */

static void test_messaging(void) {
    Collector cm;
    collector_init(&cm);
    FlowaiHandle *m = OPEN(FLOWAI_KIND_MESSAGING, "{}", &cm);
    if (m == NULL) {
        collector_destroy(&cm);
        return;
    }
    CALL_NULL(m, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"c-msg\",\"text\":\"hello there\"}");
    CHECK(strcmp(flowai_last_error_message(), "") == 0);
    CALL_NULL(m, FLOWAI_MESSAGING_SEND_TEXT,
              "{\"thread_id\":\"c-msg\",\"text\":\"with options\",\"trace_id\":42,\"lang\":\"en\","
              "\"timezone\":1,\"params\":{\"city\":[{\"value\":\"Amsterdam\"}]}}");
    CALL_NULL(m, FLOWAI_MESSAGING_SEND_TEXT, "{\"threadId\":\"c-msg\",\"text\":\"camel\",\"traceId\":43}");
    CALL_NULL(m, FLOWAI_MESSAGING_SEND_EVENT, "{\"thread_id\":\"c-msg\",\"event_name\":\"INTRO\"}");
    CALL_NULL(m, FLOWAI_MESSAGING_SEND_LOCATION, "{\"thread_id\":\"c-msg\",\"lat\":52.37,\"lng\":\"4.89\"}");
    CALL_NULL(m, FLOWAI_MESSAGING_SEND,
              "{\"message\":{\"threadId\":\"c-msg\",\"type\":\"text\",\"text\":\"raw\"}}");

    char path[] = "/tmp/flowai-c-media-XXXXXX";
    if (temp_file(path, 200000, (const unsigned char *)"", 0)) {
        char args[256];
        snprintf(args, sizeof args,
                 "{\"thread_id\":\"c-msg\",\"path\":\"%s\",\"media_type\":\"image\",\"mime_type\":\"image/png\"}", path);
        CALL_NULL(m, FLOWAI_MESSAGING_SEND_MEDIA, args);
        /* Progress comes as events of the messaging object. */
        int from = 0;
        CHECK(wait_event(&cm, FLOWAI_EVENT_PROGRESS, "\"sent\":200000,\"total\":200000", &from) >= 0);
        snprintf(args, sizeof args, "{\"thread_id\":\"c-msg\",\"path\":\"%s\",\"media_type\":\"hologram\"}", path);
        CALL_FAILS(m, FLOWAI_MESSAGING_SEND_MEDIA, args, FLOWAI_INVALID_ARGUMENT, NULL);
        remove(path);
    } else {
        CHECK(!"temp file");
    }
    char *missing = NULL;
    CHECK(flowai_call(m, FLOWAI_MESSAGING_SEND_MEDIA,
                      "{\"thread_id\":\"c-msg\",\"path\":\"/nonexistent/x.png\",\"media_type\":\"image\"}",
                      &missing) != FLOWAI_OK);
    CHECK(missing == NULL);

    /* Bad input is refused before anything is sent, with the table's and the core's messages. */
    char long_args[512];
    snprintf(long_args, sizeof long_args, "{\"thread_id\":\"t\",\"text\":\"%0256d\"}", 0);
    CALL_FAILS(m, FLOWAI_MESSAGING_SEND_TEXT, long_args, FLOWAI_INVALID_ARGUMENT, NULL);
    CALL_FAILS(m, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"\",\"text\":\"x\"}", FLOWAI_INVALID_ARGUMENT, NULL);
    CALL_FAILS(m, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"t\",\"text\":\"hi\",\"colour\":\"red\"}",
               FLOWAI_INVALID_ARGUMENT, NULL);
    CHECK_MESSAGE("send_text: unknown argument `colour`");
    CALL_FAILS(m, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"t\"}", FLOWAI_INVALID_ARGUMENT, NULL);
    CHECK_MESSAGE("send_text: `text` is required");
    CALL_FAILS(m, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"t\",\"text\":1}", FLOWAI_INVALID_ARGUMENT, NULL);
    CHECK_MESSAGE("send_text: `text` must be a string");
    CALL_FAILS(m, FLOWAI_MESSAGING_SEND_TEXT, "[1]", FLOWAI_INVALID_ARGUMENT, NULL);
    CHECK_MESSAGE("send_text: the arguments must be an object");
    CALL_FAILS(m, FLOWAI_MESSAGING_SEND_TEXT, "{oops", FLOWAI_INVALID_ARGUMENT, "args_json is not valid JSON");
    CALL_FAILS(m, FLOWAI_MESSAGING_SEND_TEXT, NULL, FLOWAI_INVALID_ARGUMENT, "`thread_id` is required");
    CALL_FAILS(m, "fly", NULL, FLOWAI_INVALID_ARGUMENT, "messaging has no method `fly`");

    /* Webhook subscriptions, with a receiver that gets the bot's replies as events. */
    static const char *key = "c-test-verify-key";
    Collector cr;
    collector_init(&cr);
    char settings[128];
    snprintf(settings, sizeof settings, "{\"verify_key\":\"%s\"}", key);
    FlowaiHandle *receiver = OPEN(FLOWAI_KIND_RECEIVER, settings, &cr);
    char *info = receiver ? CALL(receiver, FLOWAI_RECEIVER_INFO, NULL) : NULL;
    char url[256] = "";
    CHECK(json_str(info, "url", url, sizeof url));
    char args[512];
    snprintf(args, sizeof args, "{\"url\":\"%s\",\"verify_key\":\"%s\",\"events\":[\"message.reply\"]}", url, key);
    char *created = CALL(m, FLOWAI_MESSAGING_CREATE_WEBHOOK, args);
    char id[128] = "";
    CHECK(json_str(created, "webhookId", id, sizeof id));
    char *listed = CALL(m, FLOWAI_MESSAGING_LIST_WEBHOOKS, NULL);
    CHECK(listed != NULL && listed[0] == '[' && has(listed, id));
    snprintf(args, sizeof args, "{\"webhook_id\":\"%s\"}", id);
    char *got = CALL(m, FLOWAI_MESSAGING_GET_WEBHOOK, args);
    CHECK(has(got, url));
    snprintf(args, sizeof args, "{\"webhook_id\":\"%s\",\"events\":[\"message.reply\",\"message.delivered\"]}", id);
    char *updated = CALL(m, FLOWAI_MESSAGING_UPDATE_WEBHOOK, args);
    CHECK(has(updated, "message.delivered"));
    CALL_FAILS(m, FLOWAI_MESSAGING_CREATE_WEBHOOK, "{\"url\":\"\",\"verify_key\":\"k\",\"events\":[]}",
               FLOWAI_INVALID_ARGUMENT, NULL);
    CALL_FAILS(m, FLOWAI_MESSAGING_CREATE_WEBHOOK, "{\"url\":\"http://x\",\"verify_key\":\"k\",\"events\":[1]}",
               FLOWAI_INVALID_ARGUMENT, "`events` must be a list of strings");

    CALL_NULL(m, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"c-thread-webhook\",\"text\":\"hi\"}");
    int from = 0;
    int at = wait_event(&cr, FLOWAI_EVENT_REPLY, "customer service demo bot", &from);
    CHECK(event_has(&cr, at, "\"thread_id\":\"c-thread-webhook\""));

    snprintf(args, sizeof args, "{\"webhook_id\":\"%s\"}", id);
    CALL_NULL(m, FLOWAI_MESSAGING_DELETE_WEBHOOK, args);
    CALL_FAILS(m, FLOWAI_MESSAGING_GET_WEBHOOK, args, FLOWAI_HTTP, NULL);
    CHECK_STATUS(flowai_close(receiver), FLOWAI_OK);
    flowai_free(receiver);
    CHECK_ENDED(&cr);

    /* After close every call is CLOSED; closing again is fine; free stays the only release. */
    CHECK_STATUS(flowai_close(m), FLOWAI_OK);
    CHECK(freed_now(&cm) == 1); /* close returned after CLOSED and the free */
    CALL_FAILS(m, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"t\",\"text\":\"x\"}", FLOWAI_CLOSED, NULL);
    CHECK_STATUS(flowai_close(m), FLOWAI_OK);
    flowai_free(m);
    CHECK_ENDED(&cm);

    /* A wrong key is FLOWAI_AUTH, and the key is not in the message. */
    FlowaiHandle *wrong = OPEN(FLOWAI_KIND_MESSAGING, "{\"messaging_key\":\"not-the-key\"}", NULL);
    CALL_FAILS(wrong, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"t\",\"text\":\"x\"}", FLOWAI_AUTH, NULL);
    CHECK(!has(flowai_last_error_message(), "not-the-key"));
    flowai_free(wrong);

    flowai_string_free(info);
    flowai_string_free(created);
    flowai_string_free(listed);
    flowai_string_free(got);
    flowai_string_free(updated);
    collector_destroy(&cr);
    collector_destroy(&cm);
}

typedef struct {
    FlowaiHandle *client;
    int index;
    int ok;
} Sender;

static void *send_from_thread(void *arg) {
    Sender *sender = arg;
    char args[128];
    snprintf(args, sizeof args, "{\"thread_id\":\"c-thread-par-%d\",\"text\":\"parallel\"}", sender->index);
    for (int i = 0; i < 5; i++) {
        char *out = NULL;
        if (flowai_call(sender->client, FLOWAI_MESSAGING_SEND_TEXT, args, &out) == FLOWAI_OK &&
            strcmp(flowai_last_error_message(), "") == 0 && out != NULL) {
            sender->ok++;
        }
        flowai_string_free(out);
    }
    /* An error here is visible on this thread only. */
    if (flowai_call(sender->client, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"\",\"text\":\"x\"}", NULL) ==
            FLOWAI_INVALID_ARGUMENT &&
        strlen(flowai_last_error_message()) > 0 && flowai_last_error_code() == FLOWAI_INVALID_ARGUMENT) {
        sender->ok++;
    }
    return NULL;
}

static void test_threads(void) {
    FlowaiHandle *client = OPEN(FLOWAI_KIND_MESSAGING, "{}", NULL);
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
    CHECK_STATUS(flowai_close(client), FLOWAI_OK);
    CHECK(strcmp(flowai_last_error_message(), "") == 0);
    flowai_free(client);
}

/* ---------- verifier ---------- */

static void test_verifier(void) {
    Collector cv;
    collector_init(&cv);
    FlowaiHandle *v = OPEN(FLOWAI_KIND_VERIFIER, "{\"verify_key\":\"verify-me\"}", &cv);
    if (v == NULL) {
        collector_destroy(&cv);
        return;
    }
    char *body = json_quote(BODY);
    char args[2048];
    snprintf(args, sizeof args,
             "{\"headers\":{\"Content-Type\":\"application/json\",\"x-flowai-verify-key\":\"verify-me\"},\"body\":%s}", body);
    char *event = CALL(v, FLOWAI_VERIFIER_VERIFY, args);
    CHECK(has(event, "\"event\":\"reply\"") && has(event, "\"thread_id\":\"conformance-thread\""));
    flowai_string_free(event);
    snprintf(args, sizeof args, "{\"headers\":[[\"X-Flowai-Verify-Key\",\"verify-me\"]],\"body\":%s}", body);
    flowai_string_free(CALL(v, FLOWAI_VERIFIER_VERIFY, args));
    snprintf(args, sizeof args, "{\"headers\":{},\"body\":%s,\"query\":\"verifyKey=verify-me\"}", body);
    flowai_string_free(CALL(v, FLOWAI_VERIFIER_VERIFY, args));
    snprintf(args, sizeof args, "{\"headers\":{\"X-Flowai-Verify-Key\":\"nope\"},\"body\":%s}", body);
    CALL_FAILS(v, FLOWAI_VERIFIER_VERIFY, args, FLOWAI_VERIFICATION, NULL);
    snprintf(args, sizeof args, "{\"headers\":{},\"body\":%s}", body);
    CALL_FAILS(v, FLOWAI_VERIFIER_VERIFY, args, FLOWAI_VERIFICATION, NULL);
    CALL_FAILS(v, FLOWAI_VERIFIER_VERIFY, "{\"headers\":{\"X-Flowai-Verify-Key\":\"verify-me\"},\"body\":\"{oops\"}",
               FLOWAI_PROTOCOL, NULL);
    CALL_FAILS(v, FLOWAI_VERIFIER_VERIFY, "{\"headers\":[1],\"body\":\"{}\"}", FLOWAI_INVALID_ARGUMENT, "headers");
    CHECK_STATUS(flowai_close(v), FLOWAI_OK);
    flowai_free(v);
    CHECK_ENDED(&cv);

    /* Another header name. */
    FlowaiHandle *custom = OPEN(FLOWAI_KIND_VERIFIER, "{\"verify_key\":\"k2\",\"verify_header\":\"X-Custom\"}", NULL);
    snprintf(args, sizeof args, "{\"headers\":{\"x-custom\":\"k2\"},\"body\":%s}", body);
    flowai_string_free(CALL(custom, FLOWAI_VERIFIER_VERIFY, args));
    flowai_free(custom);
    free(body);
    collector_destroy(&cv);
}

/* ---------- management ---------- */

/* list, then get the first item by its id (or an unknown id when the list is empty). */
static void list_and_get(FlowaiHandle *g, const char *list, const char *get, const char *id_key,
                         const char *param) {
    char *items = CALL(g, list, NULL);
    CHECK(items != NULL && items[0] == '[');
    char id[128];
    char args[256];
    int found = json_str(items, id_key, id, sizeof id);
    snprintf(args, sizeof args, "{\"%s\":\"%s\"}", param, found ? id : "nope");
    if (found) {
        char *item = CALL(g, get, args);
        CHECK(has(item, id));
        flowai_string_free(item);
    } else {
        CALL_FAILS(g, get, args, FLOWAI_HTTP, NULL);
    }
    flowai_string_free(items);
}

static void test_management(void) {
    Collector cg;
    collector_init(&cg);
    FlowaiHandle *g = OPEN(FLOWAI_KIND_MANAGEMENT, "{}", &cg);
    if (g == NULL) {
        collector_destroy(&cg);
        return;
    }
    list_and_get(g, FLOWAI_MANAGEMENT_LIST_FLOWS, FLOWAI_MANAGEMENT_GET_FLOW, "flowId", "flow_id");
    list_and_get(g, FLOWAI_MANAGEMENT_LIST_INTENTS, FLOWAI_MANAGEMENT_GET_INTENT, "intentId", "intent_id");
    list_and_get(g, FLOWAI_MANAGEMENT_LIST_ENTITY_TYPES, FLOWAI_MANAGEMENT_GET_ENTITY_TYPE, "entityTypeId",
                 "entity_type_id");
    list_and_get(g, FLOWAI_MANAGEMENT_LIST_PROJECTS, FLOWAI_MANAGEMENT_GET_PROJECT, "projectId", "project_id");
    char *members = CALL(g, FLOWAI_MANAGEMENT_LIST_MEMBERS, NULL);
    CHECK(members != NULL && members[0] == '[');
    flowai_string_free(members);
    CALL_FAILS(g, FLOWAI_MANAGEMENT_GET_FLOW, "{\"flow_id\":\"nope\"}", FLOWAI_HTTP, NULL);
    CALL_FAILS(g, FLOWAI_MANAGEMENT_GET_FLOW, NULL, FLOWAI_INVALID_ARGUMENT, "`flow_id` is required");
    CHECK_STATUS(flowai_close(g), FLOWAI_OK);
    CALL_FAILS(g, FLOWAI_MANAGEMENT_LIST_FLOWS, NULL, FLOWAI_CLOSED, NULL);
    flowai_free(g);
    CHECK_ENDED(&cg);
    collector_destroy(&cg);

    FlowaiHandle *wrong = OPEN(FLOWAI_KIND_MANAGEMENT, "{\"management_key\":\"wrong\"}", NULL);
    CALL_FAILS(wrong, FLOWAI_MANAGEMENT_LIST_FLOWS, NULL, FLOWAI_AUTH, NULL);
    flowai_free(wrong);
}

/* ---------- the socket session ---------- */

static Collector scratch; /* user data of opens refused inside callbacks */

/* On the first reply: blocking calls are refused, the asynchronous one works. */
static Result inside_result;
static char inside_message[256];
static void session_actor(Collector *c, const FlowaiEvent *event) {
    if (!first(c, event, FLOWAI_EVENT_REPLY)) {
        return;
    }
    FlowaiStatus blocking = flowai_call(c->self, FLOWAI_SESSION_TYPING, NULL, NULL);
    snprintf(inside_message, sizeof inside_message, "%s", flowai_last_error_message());
    FlowaiStatus code = flowai_last_error_code();
    FlowaiHandle *h = NULL;
    FlowaiStatus opened = flowai_open(FLOWAI_KIND_MESSAGING, "{}", on_event, tag(&scratch), free_tag, &h);
    FlowaiStatus async = flowai_call_async(c->self, FLOWAI_SESSION_SEND_TEXT, "{\"text\":\"from a callback\"}",
                                           on_result, &inside_result);
    pthread_mutex_lock(&c->lock);
    c->st[0] = blocking;
    c->st[1] = code;
    c->st[2] = opened;
    c->st[3] = async;
    pthread_mutex_unlock(&c->lock);
}

static void test_session(void) {
    Collector c;
    collector_init(&c);
    collector_init(&scratch);
    result_init(&inside_result);
    c.actor = session_actor;
    FlowaiHandle *s = OPEN(FLOWAI_KIND_SESSION, "{\"send_timeout_ms\":10000}", &c);
    if (s == NULL) {
        collector_destroy(&c);
        return;
    }
    char *info = CALL(s, FLOWAI_SESSION_INFO, NULL);
    char thread_id[160] = "";
    CHECK(json_str(info, "thread_id", thread_id, sizeof thread_id) && has(info, "\"session_id\":") &&
          has(info, "\"closed\":false"));
    int from = 0;
    CHECK(wait_event(&c, FLOWAI_EVENT_CONNECTED, thread_id, &from) == 0); /* connected comes first */

    char *delivered = CALL(s, FLOWAI_SESSION_SEND_EVENT, "{\"event_name\":\"INTRO\"}");
    CHECK(has(delivered, "\"traceId\":"));
    flowai_string_free(delivered);
    int at = wait_event(&c, FLOWAI_EVENT_REPLY, "Hi, how can we help?", &from);
    CHECK(event_has(&c, at, thread_id));
    delivered = CALL(s, FLOWAI_SESSION_SEND_TEXT, "{\"text\":\"hi\"}");
    CHECK(has(delivered, "\"speech\":\"hi\""));
    flowai_string_free(delivered);
    CHECK(wait_event(&c, FLOWAI_EVENT_REPLY, "customer service demo bot", &from) >= 0);

    /* The first reply's callback: blocking calls there are MISUSE; call_async works. */
    CHECK(wait_result(&inside_result) == 1);
    pthread_mutex_lock(&c.lock);
    CHECK(c.st[0] == FLOWAI_MISUSE && c.st[1] == FLOWAI_MISUSE);
    CHECK(c.st[2] == FLOWAI_MISUSE && c.st[3] == FLOWAI_OK);
    pthread_mutex_unlock(&c.lock);
    CHECK(has(inside_message, "blocking"));
    CHECK(freed_now(&scratch) == 1); /* the refused open still released its user data */
    CHECK(inside_result.status == FLOWAI_OK && has(inside_result.json, "from a callback"));
    int dfrom = 0;
    CHECK(wait_event(&c, FLOWAI_EVENT_DELIVERED, "from a callback", &dfrom) >= 0);

    delivered = CALL(s, FLOWAI_SESSION_SEND, "{\"text\":\"raw\",\"trace_id\":777,\"lang\":\"en\"}");
    CHECK(has(delivered, "\"traceId\":777"));
    flowai_string_free(delivered);
    delivered = CALL(s, FLOWAI_SESSION_SEND,
                     "{\"event\":\"INTRO\",\"originator\":{\"name\":\"C tester\",\"role\":\"external\"}}");
    flowai_string_free(delivered);
    CALL_FAILS(s, FLOWAI_SESSION_SEND, "{\"text\":\"a\",\"event\":\"b\"}", FLOWAI_INVALID_ARGUMENT, NULL);
    CHECK_MESSAGE("send: give exactly one of `text` and `event`");
    char long_args[512];
    snprintf(long_args, sizeof long_args, "{\"text\":\"%0256d\"}", 0);
    CALL_FAILS(s, FLOWAI_SESSION_SEND_TEXT, long_args, FLOWAI_INVALID_ARGUMENT, NULL);
    CALL_NULL(s, FLOWAI_SESSION_TYPING, NULL);
    CALL_NULL(s, FLOWAI_SESSION_NOTICED, "{}");
    char *history = CALL(s, FLOWAI_SESSION_HISTORY, NULL);
    CHECK(history != NULL && (history[0] == '[' || history[0] == '{'));
    flowai_string_free(history);
    char *unnoticed = CALL(s, FLOWAI_SESSION_UNNOTICED, NULL);
    CHECK(unnoticed != NULL && (unnoticed[0] == '[' || unnoticed[0] == '{'));
    flowai_string_free(unnoticed);
    char path[] = "/tmp/flowai-c-upload-XXXXXX";
    if (temp_file(path, 5000, (const unsigned char *)"", 0)) {
        char args[256];
        snprintf(args, sizeof args, "{\"path\":\"%s\"}", path);
        char *uploaded = CALL(s, FLOWAI_SESSION_UPLOAD, args);
        CHECK(uploaded != NULL);
        flowai_string_free(uploaded);
        int pfrom = 0;
        CHECK(wait_event(&c, FLOWAI_EVENT_PROGRESS, "\"sent\":5000,\"total\":5000", &pfrom) >= 0);
        remove(path);
    }
    char *nothing = NULL;
    CHECK(flowai_call(s, FLOWAI_SESSION_UPLOAD, "{\"path\":\"/nonexistent/file\"}", &nothing) != FLOWAI_OK);
    CHECK(nothing == NULL);
    CHECK(count_kind(&c, FLOWAI_EVENT_DELIVERED) >= 3);

    CHECK_STATUS(flowai_close(s), FLOWAI_OK);
    /* After close returns, CLOSED was the last event and user_data was freed once. */
    CHECK(freed_now(&c) == 1);
    CHECK_ENDED(&c);
    pthread_mutex_lock(&c.lock);
    CHECK(c.count > 0 && c.events[0].kind == FLOWAI_EVENT_CONNECTED);
    CHECK(has(c.events[c.count - 1].payload, "\"error\":null"));
    pthread_mutex_unlock(&c.lock);
    CALL_FAILS(s, FLOWAI_SESSION_SEND_TEXT, "{\"text\":\"hi\"}", FLOWAI_CLOSED, NULL);
    Result late;
    result_init(&late);
    CHECK_STATUS(flowai_call_async(s, FLOWAI_SESSION_SEND_TEXT, "{\"text\":\"late\"}", on_result, &late), FLOWAI_OK);
    CHECK(wait_result(&late) == 1);
    CHECK(late.status == FLOWAI_CLOSED && has(late.json, "\"code\":\"FLOWAI_CLOSED\""));
    result_destroy(&late);
    CHECK_STATUS(flowai_close(s), FLOWAI_OK);
    flowai_free(s);
    flowai_string_free(info);
    collector_destroy(&c);
    collector_destroy(&scratch);
    result_destroy(&inside_result);

    /* Freed without close: the session still ends, with CLOSED and free_user_data. */
    Collector e;
    collector_init(&e);
    s = OPEN(FLOWAI_KIND_SESSION, NULL, &e);
    flowai_free(s);
    CHECK_ENDED(&e);
    collector_destroy(&e);

    /* Without a callback the events are dropped, and user_data is still freed once. */
    Collector n;
    collector_init(&n);
    s = NULL;
    CHECK_STATUS(flowai_open(FLOWAI_KIND_SESSION, "", NULL, tag(&n), free_tag, &s), FLOWAI_OK);
    CALL_NULL(s, FLOWAI_SESSION_TYPING, NULL);
    CHECK_STATUS(flowai_close(s), FLOWAI_OK);
    CHECK(freed_now(&n) == 1 && n.count == 0);
    flowai_free(s);
    collector_destroy(&n);

    /* A refused client id is FLOWAI_AUTH, and user_data is freed even so. */
    OPEN_FAILS(FLOWAI_KIND_SESSION, "{\"client_id\":\"bm90LWEtY2xpZW50fG5vcGU=\"}", FLOWAI_AUTH, NULL, NULL);
}

/* ---------- AIDA ---------- */

static void test_aida(void) {
    Collector ca;
    collector_init(&ca);
    FlowaiHandle *a = OPEN(FLOWAI_KIND_AIDA, "{}", &ca);
    if (a == NULL) {
        collector_destroy(&ca);
        return;
    }
    int afrom = 0;
    CHECK(wait_event(&ca, FLOWAI_EVENT_CONNECTED, NULL, &afrom) == 0);
    char *info = CALL(a, FLOWAI_AIDA_INFO, NULL);
    CHECK(has(info, "\"bot\":") && has(info, "\"connected\":true"));
    flowai_string_free(info);

    Collector cs;
    collector_init(&cs);
    FlowaiHandle *s = OPEN_BY(a, FLOWAI_AIDA_NEW_SESSION, "{\"data\":{\"name\":\"C tester\"}}", &cs);
    if (s == NULL) {
        flowai_free(a);
        collector_destroy(&cs);
        collector_destroy(&ca);
        return;
    }
    char *sinfo = CALL(s, FLOWAI_AIDA_SESSION_INFO, NULL);
    char id[128] = "";
    CHECK(json_str(sinfo, "session_id", id, sizeof id) && strlen(id) > 0);
    flowai_string_free(sinfo);

    flowai_string_free(CALL(s, FLOWAI_AIDA_SESSION_SEND_TEXT, "{\"text\":\"hi\"}"));
    int from = 0;
    int at = wait_event(&cs, FLOWAI_EVENT_AIDA_MESSAGE, "customer service demo bot", &from);
    CHECK(event_has(&cs, at, id));
    /* The client sees every session's traffic of its bot. */
    CHECK(wait_event(&ca, FLOWAI_EVENT_AIDA_MESSAGE, id, &afrom) >= 0);

    flowai_string_free(CALL(s, FLOWAI_AIDA_SESSION_PUT_DATA, "{\"data\":{\"city\":\"Amsterdam\"}}"));
    CALL_FAILS(s, FLOWAI_AIDA_SESSION_PUT_DATA, "{\"data\":[1,2]}", FLOWAI_INVALID_ARGUMENT, NULL);
    CHECK_MESSAGE("put_data: `data` must be an object");

    char path[] = "/tmp/flowai-c-image-XXXXXX";
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};
    if (temp_file(path, sizeof png, png, sizeof png)) {
        char args[256];
        snprintf(args, sizeof args, "{\"path\":\"%s\",\"filename\":\"tiny.png\",\"content_type\":\"image/png\"}", path);
        char *sent = CALL(s, FLOWAI_AIDA_SESSION_SEND_IMAGE, args);
        char image_id[128] = "";
        CHECK(json_str(sent, "image_id", image_id, sizeof image_id) && strlen(image_id) > 0);
        snprintf(args, sizeof args, "{\"image_id\":\"%s\"}", image_id);
        char *image = CALL(a, FLOWAI_AIDA_FETCH_IMAGE, args);
        CHECK(has(image, "\"content_type\":\"image/png\"") && has(image, "\"data\":\"iVBORw0KGgoAAAAA\""));
        flowai_string_free(image);
        flowai_string_free(sent);
        remove(path);
    }
    CALL_FAILS(a, FLOWAI_AIDA_FETCH_IMAGE, "{\"image_id\":\"nope\"}", FLOWAI_HTTP, NULL);

    /* A conversation resumed by its id. */
    Collector cr;
    collector_init(&cr);
    char args[256];
    snprintf(args, sizeof args, "{\"session_id\":\"%s\"}", id);
    FlowaiHandle *resumed = OPEN_BY(a, FLOWAI_AIDA_SESSION, args, &cr);
    char *rinfo = resumed ? CALL(resumed, FLOWAI_AIDA_SESSION_INFO, NULL) : NULL;
    CHECK(has(rinfo, id));
    flowai_string_free(rinfo);
    CHECK_STATUS(flowai_close(resumed), FLOWAI_OK);
    flowai_free(resumed);
    CHECK_ENDED(&cr);
    collector_destroy(&cr);

    /* Objects come through flowai_call_open, values through flowai_call. */
    CALL_FAILS(a, FLOWAI_AIDA_NEW_SESSION, NULL, FLOWAI_INVALID_ARGUMENT, "flowai_call_open");
    Result r;
    result_init(&r);
    CHECK_STATUS(flowai_call_async(a, FLOWAI_AIDA_NEW_SESSION, NULL, on_result, &r), FLOWAI_INVALID_ARGUMENT);
    result_destroy(&r);
    Collector refused;
    collector_init(&refused);
    FlowaiHandle *none = NULL;
    CHECK_STATUS(flowai_call_open(a, FLOWAI_AIDA_INFO, NULL, on_event, tag(&refused), free_tag, &none),
                 FLOWAI_INVALID_ARGUMENT);
    CHECK(has(flowai_last_error_message(), "flowai_call") && none == NULL && freed_now(&refused) == 1);
    CHECK_STATUS(flowai_call_open(a, "fly", NULL, on_event, tag(&refused), free_tag, &none),
                 FLOWAI_INVALID_ARGUMENT);
    CHECK(has(flowai_last_error_message(), "aida has no method `fly`") && freed_now(&refused) == 2);
    collector_destroy(&refused);

    CALL_NULL(s, FLOWAI_AIDA_SESSION_DELETE, NULL);
    CHECK_ENDED(&cs);
    CALL_FAILS(s, FLOWAI_AIDA_SESSION_SEND_TEXT, "{\"text\":\"hi\"}", FLOWAI_CLOSED, NULL);
    CHECK_STATUS(flowai_close(s), FLOWAI_OK);
    flowai_free(s);
    collector_destroy(&cs);

    /* A session freed without delete gets CLOSED and its user data freed. */
    Collector ce;
    collector_init(&ce);
    s = OPEN_BY(a, FLOWAI_AIDA_NEW_SESSION, NULL, &ce);
    flowai_free(s);
    CHECK_ENDED(&ce);
    collector_destroy(&ce);

    /* Sessions still open when their client closes end too. */
    Collector cd;
    collector_init(&cd);
    s = OPEN_BY(a, FLOWAI_AIDA_NEW_SESSION, NULL, &cd);
    CHECK_STATUS(flowai_close(a), FLOWAI_OK);
    CHECK_ENDED(&ca);
    CHECK_ENDED(&cd);
    Collector late;
    collector_init(&late);
    CHECK_STATUS(flowai_call_open(a, FLOWAI_AIDA_NEW_SESSION, NULL, on_event, tag(&late), free_tag, &none),
                 FLOWAI_CLOSED);
    CHECK(freed_now(&late) == 1);
    collector_destroy(&late);
    flowai_free(s);
    flowai_free(a);
    collector_destroy(&cd);
    collector_destroy(&ca);

    /* A wrong token is FLOWAI_AUTH. */
    OPEN_FAILS(FLOWAI_KIND_AIDA, "{\"aida_token\":\"not-the-token\"}", FLOWAI_AUTH, NULL, NULL);
}

/* ---------- the event benchmark source ---------- */

static void test_bench(void) {
    Collector cb;
    collector_init(&cb);
    FlowaiHandle *b = OPEN(FLOWAI_KIND_BENCH, "{}", &cb);
    if (b == NULL) {
        collector_destroy(&cb);
        return;
    }
    CALL_NULL(b, FLOWAI_BENCH_RUN, "{\"count\":100}");
    CHECK_ENDED(&cb); /* the source ends itself after its events */
    pthread_mutex_lock(&cb.lock);
    int in_order = cb.count == 101;
    for (int i = 0; in_order && i < 100; i++) {
        char needle[32];
        snprintf(needle, sizeof needle, "\"sent\":%d,", i + 1);
        in_order = cb.events[i].kind == FLOWAI_EVENT_PROGRESS && has(cb.events[i].payload, needle);
    }
    pthread_mutex_unlock(&cb.lock);
    CHECK(in_order);
    CALL_FAILS(b, FLOWAI_BENCH_RUN, "{\"count\":\"many\"}", FLOWAI_INVALID_ARGUMENT, "`count` must be a whole number");
    CHECK_STATUS(flowai_close(b), FLOWAI_OK);
    flowai_free(b);
    collector_destroy(&cb);
}

/* ---------- asynchronous calls ---------- */

static void chain_done(void *user_data, FlowaiStatus status, const char *json) {
    Collector *c = user_data;
    (void)json;
    pthread_mutex_lock(&c->lock);
    if (status == FLOWAI_OK) {
        c->chain_ok++;
    } else {
        c->chain_failed++;
    }
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

/* Each delivery of the chain sends the next message from inside the callback. */
static void chain_actor(Collector *c, const FlowaiEvent *event) {
    int start = event->kind == FLOWAI_EVENT_REPLY;
    int next = event->kind == FLOWAI_EVENT_DELIVERED && has(event->payload_json, "chain ");
    if (!start && !next) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    int n = c->chain_sent;
    int go = n < 10 && (next || n == 0);
    c->chain_sent += go;
    pthread_mutex_unlock(&c->lock);
    if (go) {
        char args[64];
        snprintf(args, sizeof args, "{\"text\":\"chain %d\"}", n);
        if (flowai_call_async(c->self, FLOWAI_SESSION_SEND_TEXT, args, chain_done, c) != FLOWAI_OK) {
            chain_done(c, FLOWAI_INTERNAL, "{}");
        }
    }
}

static void test_async(void) {
    Collector c;
    collector_init(&c);
    c.actor = chain_actor;
    FlowaiHandle *s = OPEN(FLOWAI_KIND_SESSION, NULL, &c);
    if (s == NULL) {
        collector_destroy(&c);
        return;
    }
    Result r;
    result_init(&r);
    CHECK_STATUS(flowai_call_async(s, FLOWAI_SESSION_SEND_EVENT, "{\"event_name\":\"INTRO\"}", on_result, &r),
                 FLOWAI_OK);
    CHECK(wait_result(&r) == 1 && r.status == FLOWAI_OK && has(r.json, "\"traceId\":"));
    result_destroy(&r);
    int from = 0;
    CHECK(wait_event(&c, FLOWAI_EVENT_DELIVERED, "chain 9", &from) >= 0);
    struct timespec until = deadline();
    pthread_mutex_lock(&c.lock);
    while (c.chain_ok + c.chain_failed < 10 &&
           pthread_cond_timedwait(&c.changed, &c.lock, &until) != ETIMEDOUT) {
    }
    CHECK(c.chain_sent == 10 && c.chain_ok == 10 && c.chain_failed == 0);
    pthread_mutex_unlock(&c.lock);

    /* Errors come through done as {"code", "message", "status"}. */
    result_init(&r);
    CHECK_STATUS(flowai_call_async(s, FLOWAI_SESSION_SEND_TEXT, "{\"text\":\"x\",\"colour\":1}", on_result, &r),
                 FLOWAI_OK);
    CHECK(wait_result(&r) == 1 && r.status == FLOWAI_INVALID_ARGUMENT);
    CHECK(has(r.json, "\"code\":\"FLOWAI_INVALID_ARGUMENT\"") &&
          has(r.json, "\"message\":\"send_text: unknown argument `colour`\"") && has(r.json, "\"status\":null"));
    result_destroy(&r);
    /* Argument text that is not JSON, and no done, are refused at once. */
    CHECK_STATUS(flowai_call_async(s, FLOWAI_SESSION_SEND_TEXT, "{oops", on_result, &r), FLOWAI_INVALID_ARGUMENT);
    CHECK_STATUS(flowai_call_async(s, FLOWAI_SESSION_TYPING, NULL, NULL, NULL), FLOWAI_INVALID_ARGUMENT);
    CHECK_MESSAGE("done must not be NULL");

    CHECK_STATUS(flowai_close(s), FLOWAI_OK);
    flowai_free(s);
    CHECK_ENDED(&c);
    collector_destroy(&c);
}

/* ---------- closing, freeing and blocking inside callbacks ---------- */

static FlowaiStatus free_probe_status = FLOWAI_OK;
static void free_probe(void *user_data) {
    /* free_user_data runs on a library thread after CLOSED: blocking there is MISUSE too. */
    FlowaiHandle *h = NULL;
    free_probe_status = flowai_open(FLOWAI_KIND_VERIFIER, "{\"verify_key\":\"k\"}", NULL, NULL, NULL, &h);
    flowai_free(h);
    free_tag(user_data);
}

/* On the first `kind` event: a blocking call, a close, a second close, a call on `other`. */
static FlowaiEventKind close_on;
static void close_actor(Collector *c, const FlowaiEvent *event) {
    if (!first(c, event, close_on)) {
        return;
    }
    FlowaiStatus blocking = flowai_call(c->self, "info", NULL, NULL);
    FlowaiStatus closed = flowai_close(c->self);
    FlowaiStatus again = flowai_close(c->self);
    FlowaiStatus other = c->other ? flowai_call(c->other, "info", NULL, NULL) : FLOWAI_MISUSE;
    pthread_mutex_lock(&c->lock);
    c->st[0] = blocking;
    c->st[1] = closed;
    c->st[2] = again;
    c->st[3] = other;
    pthread_mutex_unlock(&c->lock);
}

/* On the first aida message: close the AIDA client (c->other) from a session's callback. */
static void close_client_actor(Collector *c, const FlowaiEvent *event) {
    if (first(c, event, FLOWAI_EVENT_AIDA_MESSAGE)) {
        FlowaiStatus closed = flowai_close(c->other);
        pthread_mutex_lock(&c->lock);
        c->st[1] = closed;
        pthread_mutex_unlock(&c->lock);
    }
}

/* On the first reply: release the handle from inside its own callback. */
static void free_actor(Collector *c, const FlowaiEvent *event) {
    if (first(c, event, FLOWAI_EVENT_REPLY)) {
        flowai_free(c->self);
    }
}

static void check_close_actor(Collector *c) {
    pthread_mutex_lock(&c->lock);
    CHECK(c->acted);
    CHECK(c->st[0] == FLOWAI_MISUSE && c->st[1] == FLOWAI_OK && c->st[2] == FLOWAI_OK && c->st[3] == FLOWAI_MISUSE);
    pthread_mutex_unlock(&c->lock);
}

static void test_close_in_callback(void) {
    /* A session closed from its own reply callback; its free_user_data tries to block. */
    Collector c;
    collector_init(&c);
    c.actor = close_actor;
    close_on = FLOWAI_EVENT_REPLY;
    FlowaiHandle *s = NULL;
    CHECK_STATUS(flowai_open(FLOWAI_KIND_SESSION, NULL, on_event, tag(&c), free_probe, &s), FLOWAI_OK);
    if (s != NULL) {
        pthread_mutex_lock(&c.lock);
        c.self = s;
        pthread_mutex_unlock(&c.lock);
        flowai_string_free(CALL(s, FLOWAI_SESSION_SEND_TEXT, "{\"text\":\"hi\"}"));
        CHECK_ENDED(&c);
        check_close_actor(&c);
        CHECK(free_probe_status == FLOWAI_MISUSE);
        CHECK_STATUS(flowai_close(s), FLOWAI_OK);
        CALL_FAILS(s, FLOWAI_SESSION_SEND_TEXT, "{\"text\":\"hi\"}", FLOWAI_CLOSED, NULL);
        flowai_free(s);
    }
    collector_destroy(&c);

    /* An AIDA session closed from its own callback, with a blocking call on another object. */
    Collector ca;
    collector_init(&ca);
    FlowaiHandle *a = OPEN(FLOWAI_KIND_AIDA, NULL, &ca);
    FlowaiHandle *m = OPEN(FLOWAI_KIND_MESSAGING, NULL, NULL);
    collector_init(&c);
    c.actor = close_actor;
    c.other = m;
    close_on = FLOWAI_EVENT_AIDA_MESSAGE;
    FlowaiHandle *as = a ? OPEN_BY(a, FLOWAI_AIDA_NEW_SESSION, NULL, &c) : NULL;
    if (as != NULL) {
        flowai_string_free(CALL(as, FLOWAI_AIDA_SESSION_SEND_TEXT, "{\"text\":\"hi\"}"));
        CHECK_ENDED(&c);
        check_close_actor(&c);
        CALL_FAILS(as, FLOWAI_AIDA_SESSION_SEND_TEXT, "{\"text\":\"hi\"}", FLOWAI_CLOSED, NULL);
        flowai_free(as);
    }
    collector_destroy(&c);
    flowai_free(m);

    /* The AIDA client closed from a session's callback: that session and a second one end. */
    collector_init(&c);
    Collector other;
    collector_init(&other);
    c.actor = close_client_actor;
    c.other = a;
    FlowaiHandle *first_session = a ? OPEN_BY(a, FLOWAI_AIDA_NEW_SESSION, NULL, &c) : NULL;
    FlowaiHandle *second = a ? OPEN_BY(a, FLOWAI_AIDA_NEW_SESSION, NULL, &other) : NULL;
    if (first_session != NULL && second != NULL) {
        flowai_string_free(CALL(first_session, FLOWAI_AIDA_SESSION_SEND_TEXT, "{\"text\":\"hi\"}"));
        CHECK_ENDED(&c);
        CHECK_ENDED(&other);
        CHECK_ENDED(&ca);
        CHECK(c.st[1] == FLOWAI_OK);
        CALL_FAILS(second, FLOWAI_AIDA_SESSION_SEND_TEXT, "{\"text\":\"hi\"}", FLOWAI_CLOSED, NULL);
        CHECK_STATUS(flowai_close(a), FLOWAI_OK);
    }
    flowai_free(first_session);
    flowai_free(second);
    flowai_free(a);
    collector_destroy(&c);
    collector_destroy(&other);
    collector_destroy(&ca);

    /* A session released from inside its own callback: closed in the background, freed once. */
    collector_init(&c);
    c.actor = free_actor;
    s = OPEN(FLOWAI_KIND_SESSION, NULL, &c);
    if (s != NULL) {
        Result r;
        result_init(&r);
        /* Asynchronous, so the handle is not in use on this thread when the callback frees it. */
        CHECK_STATUS(flowai_call_async(s, FLOWAI_SESSION_SEND_TEXT, "{\"text\":\"hi\"}", on_result, &r), FLOWAI_OK);
        CHECK_ENDED(&c);
        wait_result(&r);
        result_destroy(&r);
    }
    collector_destroy(&c);

    /* A receiver closed from its own callback. */
    Collector cr;
    collector_init(&cr);
    cr.actor = close_actor;
    cr.other = NULL;
    close_on = FLOWAI_EVENT_REPLY;
    FlowaiHandle *receiver = OPEN(FLOWAI_KIND_RECEIVER, "{\"verify_key\":\"c-cb-key\"}", &cr);
    FlowaiHandle *messaging = OPEN(FLOWAI_KIND_MESSAGING, NULL, NULL);
    char *info = receiver ? CALL(receiver, FLOWAI_RECEIVER_INFO, NULL) : NULL;
    char url[256] = "";
    if (json_str(info, "url", url, sizeof url) && messaging != NULL) {
        char args[512];
        snprintf(args, sizeof args, "{\"url\":\"%s\",\"verify_key\":\"c-cb-key\",\"events\":[\"message.reply\"]}", url);
        char *created = CALL(messaging, FLOWAI_MESSAGING_CREATE_WEBHOOK, args);
        char id[128] = "";
        json_str(created, "webhookId", id, sizeof id);
        CALL_NULL(messaging, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"c-cb-receiver\",\"text\":\"hi\"}");
        CHECK_ENDED(&cr);
        check_close_actor(&cr);
        snprintf(args, sizeof args, "{\"webhook_id\":\"%s\"}", id);
        CALL_NULL(messaging, FLOWAI_MESSAGING_DELETE_WEBHOOK, args);
        flowai_string_free(created);
    }
    flowai_string_free(info);
    flowai_free(receiver);
    flowai_free(messaging);
    collector_destroy(&cr);
}

/* ---------- every pointer parameter of every export: NULL and invalid UTF-8 ---------- */

/* Which parameter gets `repl` (NULL or a bad string); -1: none. */
typedef struct {
    int sel;
    const char *repl;
} Sub;

/* Live objects the table calls on, and out-parameters that must stay untouched. */
static struct {
    FlowaiHandle *messaging;
    FlowaiHandle *session;
    FlowaiHandle *aida;
    Collector collector;
    char *out_str;
    FlowaiHandle *out_handle;
} g;

#define A(i, dflt) (sub->sel == (i) ? (void *)sub->repl : (void *)(dflt))
#define CB(i, fn) (sub->sel == (i) ? NULL : (fn))

static FlowaiStatus w_open(const Sub *sub) {
    return flowai_open(A(0, FLOWAI_KIND_MESSAGING), A(1, "{}"), on_event, tag(&g.collector), free_tag,
                       A(5, &g.out_handle));
}
static FlowaiStatus w_call(const Sub *sub) {
    return flowai_call(A(0, g.messaging), A(1, FLOWAI_MESSAGING_SEND_TEXT),
                       A(2, "{\"thread_id\":\"t\",\"text\":\"x\"}"), A(3, &g.out_str));
}
static FlowaiStatus w_call_async(const Sub *sub) {
    return flowai_call_async(A(0, g.session), A(1, FLOWAI_SESSION_TYPING), A(2, "{}"), CB(3, on_result), NULL);
}
static FlowaiStatus w_call_open(const Sub *sub) {
    return flowai_call_open(A(0, g.aida), A(1, FLOWAI_AIDA_NEW_SESSION), A(2, "{}"), on_event, tag(&g.collector),
                            free_tag, A(6, &g.out_handle));
}
static FlowaiStatus w_close(const Sub *sub) { return flowai_close(A(0, g.session)); }

/* Parameter kinds, one letter each: h handle, o out, s string, c callback (NULL refused);
 * S string (NULL allowed), O out (NULL allowed), u user data or a callback that may be NULL.
 * Strings (s, S) also get invalid UTF-8. */
static const struct {
    const char *name;
    FlowaiStatus (*call)(const Sub *);
    const char *kinds;
    const char *names[8];
    int takes_user_data;
} EXPORTS[] = {
    {"flowai_open", w_open, "sSuuuo", {"kind", "settings_json", "", "", "", "out"}, 1},
    {"flowai_call", w_call, "hsSO", {"handle", "method", "args_json", "out_json"}, 0},
    {"flowai_call_async", w_call_async, "hsScu", {"handle", "method", "args_json", "done", ""}, 0},
    {"flowai_call_open", w_call_open, "hsSuuuo", {"handle", "method", "args_json", "", "", "", "out"}, 1},
    {"flowai_close", w_close, "h", {"handle"}, 0},
};

/* Out-parameters are written only on success: anything found there is a failure. */
static int outs_untouched(void) {
    int clean = g.out_str == NULL && g.out_handle == NULL;
    flowai_string_free(g.out_str);
    flowai_free(g.out_handle);
    g.out_str = NULL;
    g.out_handle = NULL;
    return clean;
}

/* One call with parameter `i` replaced; expects FLOWAI_INVALID_ARGUMENT naming the parameter
 * and no side effects. */
static void expect_invalid(size_t e, int i, const char *repl, const char *what) {
    Sub sub = {i, repl};
    int freed_before = freed_now(&g.collector);
    FlowaiStatus status = EXPORTS[e].call(&sub);
    const char *message = flowai_last_error_message();
    char expected[128];
    snprintf(expected, sizeof expected, "%s %s", EXPORTS[e].names[i], what);
    int ok = status == FLOWAI_INVALID_ARGUMENT && strcmp(message, expected) == 0 && !has_secret(message) &&
             flowai_last_error_code() == FLOWAI_INVALID_ARGUMENT;
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
                repl == NULL ? "NULL" : "invalid UTF-8", flowai_error_code_string((int)status), message);
    }
}

static void test_every_pointer_parameter(void) {
    memset(&g, 0, sizeof g);
    collector_init(&g.collector);
    Collector events;
    collector_init(&events);
    g.messaging = OPEN(FLOWAI_KIND_MESSAGING, NULL, &events);
    g.session = OPEN(FLOWAI_KIND_SESSION, NULL, NULL);
    g.aida = OPEN(FLOWAI_KIND_AIDA, NULL, NULL);
    if (g.messaging && g.session && g.aida) {
        /* A bad string that also carries a secret: the message names the parameter only. */
        static const char bad_utf8[] = "SECRETmsgKEY7c1a\xff\xfe\xc3(";
        for (size_t e = 0; e < sizeof EXPORTS / sizeof EXPORTS[0]; e++) {
            for (int i = 0; EXPORTS[e].kinds[i] != '\0'; i++) {
                char kind = EXPORTS[e].kinds[i];
                if (strchr("hosc", kind) != NULL) {
                    expect_invalid(e, i, NULL, "must not be NULL");
                }
                if (kind == 's' || kind == 'S') {
                    expect_invalid(e, i, bad_utf8, "is not valid UTF-8");
                }
            }
        }
        /* JSON text that holds invalid escapes is refused too, and no secret is echoed. */
        CALL_FAILS(g.messaging, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"SECRETmsgKEY7c1a\",\"text\":\"\\ud800\"}",
                   FLOWAI_INVALID_ARGUMENT, "args_json is not valid JSON");
        CHECK_NO_SECRET();
        CALL_FAILS(g.messaging, "SECRETmsgKEY7c1a\xff", NULL, FLOWAI_INVALID_ARGUMENT, "method is not valid UTF-8");
        CHECK_NO_SECRET();
        /* NULL and blank arguments mean none; out_json may be NULL when the result is not wanted. */
        CHECK_STATUS(flowai_call(g.session, FLOWAI_SESSION_TYPING, NULL, NULL), FLOWAI_OK);
        CHECK_STATUS(flowai_call(g.session, FLOWAI_SESSION_TYPING, "  ", NULL), FLOWAI_OK);
        /* The live objects were not harmed by any of it. */
        CHECK_STATUS(flowai_call(g.session, FLOWAI_SESSION_SEND_TEXT, "{\"text\":\"still here\"}", NULL), FLOWAI_OK);
        CHECK_STATUS(flowai_call(g.messaging, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"t\",\"text\":\"ok\"}", NULL),
                     FLOWAI_OK);
    }
    /* The release functions ignore NULL; the static strings never fail. */
    flowai_string_free(NULL);
    flowai_free(NULL);
    CHECK(strlen(flowai_version()) > 0);
    CHECK(strcmp(flowai_error_code_string(1000), "FLOWAI_UNKNOWN") == 0);

    flowai_free(g.session);
    CHECK_STATUS(flowai_close(g.aida), FLOWAI_OK);
    flowai_free(g.aida);
    CHECK_STATUS(flowai_close(g.messaging), FLOWAI_OK);
    flowai_free(g.messaging);
    CHECK_ENDED(&events);
    collector_destroy(&events);
    collector_destroy(&g.collector);
}

/* ---------- secrets never appear in error messages ---------- */

static void test_secrets(void) {
    FlowaiHandle *m = OPEN(FLOWAI_KIND_MESSAGING, "{\"messaging_key\":\"SECRETmsgKEY7c1a\"}", NULL);
    CALL_FAILS(m, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"t\",\"text\":\"x\"}", FLOWAI_AUTH, NULL);
    CHECK_NO_SECRET();
    CALL_FAILS(m, FLOWAI_MESSAGING_LIST_WEBHOOKS, NULL, FLOWAI_AUTH, NULL);
    CHECK_NO_SECRET();
    CALL_FAILS(m, FLOWAI_MESSAGING_CREATE_WEBHOOK,
               "{\"url\":\"http://127.0.0.1:1/\",\"verify_key\":\"SECRETverifyKEY0a4c\",\"events\":[\"message.reply\"]}",
               FLOWAI_AUTH, NULL);
    CHECK_NO_SECRET();
    Result r;
    result_init(&r);
    CHECK_STATUS(flowai_call_async(m, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"t\",\"text\":\"x\"}", on_result, &r),
                 FLOWAI_OK);
    CHECK(wait_result(&r) == 1 && r.status == FLOWAI_AUTH && !has_secret(r.json));
    result_destroy(&r);
    flowai_free(m);

    /* A user, a password and a key in the URL of an unreachable server. */
    m = NULL;
    FlowaiStatus status = flowai_open(
        FLOWAI_KIND_MESSAGING,
        "{\"api_url\":\"http://SECRETclientID55d2:SECRETpass6e2f@127.0.0.1:1/?key=SECRETmsgKEY7c1a\","
        "\"messaging_key\":\"SECRETmsgKEY7c1a\"}",
        NULL, NULL, NULL, &m);
    CHECK_NO_SECRET();
    if (status == FLOWAI_OK) {
        status = flowai_call(m, FLOWAI_MESSAGING_SEND_TEXT, "{\"thread_id\":\"t\",\"text\":\"x\"}", NULL);
        CHECK(status == FLOWAI_CONNECTION || status == FLOWAI_INVALID_ARGUMENT);
        CHECK_NO_SECRET();
        flowai_free(m);
    }
    OPEN_FAILS(FLOWAI_KIND_MESSAGING, "{\"api_url\":\"not a url SECRETmsgKEY7c1a\",\"messaging_key\":\"SECRETmsgKEY7c1a\"}",
               FLOWAI_INVALID_ARGUMENT, NULL, NULL);
    CHECK_NO_SECRET();
    OPEN_FAILS(FLOWAI_KIND_MESSAGING, "{\"messaging_key\":\"SECRETmsgKEY7c1a\",\"colour\":1}",
               FLOWAI_INVALID_ARGUMENT, NULL, NULL);
    CHECK_NO_SECRET();

    FlowaiHandle *g2 = OPEN(FLOWAI_KIND_MANAGEMENT, "{\"management_key\":\"SECRETmgmtKEY3b9e\"}", NULL);
    CALL_FAILS(g2, FLOWAI_MANAGEMENT_LIST_FLOWS, NULL, FLOWAI_AUTH, NULL);
    CHECK_NO_SECRET();
    CALL_FAILS(g2, FLOWAI_MANAGEMENT_GET_FLOW, "{\"flow_id\":\"x\"}", FLOWAI_AUTH, NULL);
    CHECK_NO_SECRET();
    flowai_free(g2);

    /* A client id that is no valid id, and a well-formed one that is refused. */
    Collector c;
    collector_init(&c);
    FlowaiHandle *s = NULL;
    CHECK(flowai_open(FLOWAI_KIND_SESSION, "{\"client_id\":\"SECRETclientID55d2\"}", on_event, tag(&c), free_tag, &s) !=
          FLOWAI_OK);
    CHECK_NO_SECRET();
    /* base64 of "SECRETclientID55d2|SECRETpass6e2f" */
    CHECK_STATUS(flowai_open(FLOWAI_KIND_SESSION, "{\"client_id\":\"U0VDUkVUY2xpZW50SUQ1NWQyfFNFQ1JFVHBhc3M2ZTJm\"}",
                             on_event, tag(&c), free_tag, &s),
                 FLOWAI_AUTH);
    CHECK_NO_SECRET();
    CHECK(freed_now(&c) == 2 && s == NULL);
    collector_destroy(&c);

    OPEN_FAILS(FLOWAI_KIND_AIDA, "{\"aida_token\":\"SECRETaidaTOKEN81f0\"}", FLOWAI_AUTH, NULL, NULL);
    CHECK_NO_SECRET();
    FlowaiHandle *a = NULL;
    status = flowai_open(FLOWAI_KIND_AIDA,
                         "{\"aida_url\":\"http://SECRETclientID55d2:SECRETpass6e2f@127.0.0.1:1/\","
                         "\"aida_token\":\"SECRETaidaTOKEN81f0\",\"connect_timeout_ms\":2000}",
                         NULL, NULL, NULL, &a);
    CHECK(status != FLOWAI_OK);
    CHECK_NO_SECRET();
    flowai_free(a);

    /* Webhook verification: neither the expected nor the presented key is echoed. */
    FlowaiHandle *v = OPEN(FLOWAI_KIND_VERIFIER, "{\"verify_key\":\"SECRETverifyKEY0a4c\"}", NULL);
    static const char *const calls[] = {
        "{\"headers\":{\"X-Flowai-Verify-Key\":\"SECRETwrongKEY9d1e\"},\"body\":\"{\\\"type\\\":\\\"x\\\",\\\"payload\\\":{}}\"}",
        "{\"headers\":{},\"query\":\"verifyKey=SECRETwrongKEY9d1e\",\"body\":\"{\\\"type\\\":\\\"x\\\",\\\"payload\\\":{}}\"}",
        "{\"headers\":{},\"body\":\"{\\\"type\\\":\\\"x\\\",\\\"verifyKey\\\":\\\"SECRETwrongKEY9d1e\\\",\\\"payload\\\":{}}\"}",
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        CALL_FAILS(v, FLOWAI_VERIFIER_VERIFY, calls[i], FLOWAI_VERIFICATION, NULL);
        CHECK_NO_SECRET();
    }
    CALL_FAILS(v, FLOWAI_VERIFIER_VERIFY,
               "{\"headers\":{\"X-Flowai-Verify-Key\":\"SECRETverifyKEY0a4c\"},\"body\":\"{SECRETwrongKEY9d1e\"}",
               FLOWAI_PROTOCOL, NULL);
    CHECK_NO_SECRET();
    flowai_free(v);
    OPEN_FAILS(FLOWAI_KIND_RECEIVER, "{\"verify_key\":\"SECRETverifyKEY0a4c\",\"max_body_bytes\":\"many\"}",
               FLOWAI_INVALID_ARGUMENT, NULL, NULL);
    CHECK_NO_SECRET();
}

/* ---------- thousands of objects opened and closed ---------- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    long closed;
    long freed;
    long bad_order; /* an event after CLOSED, a second CLOSED, or a free before CLOSED */
} Counter;

typedef struct {
    Counter *counter;
    int closed;
} CountTag;

static void on_count(void *user_data, const FlowaiEvent *event) {
    CountTag *t = user_data;
    Counter *c = t->counter;
    pthread_mutex_lock(&c->lock);
    if (t->closed) {
        c->bad_order++;
    }
    if (event->kind == FLOWAI_EVENT_CLOSED) {
        t->closed = 1;
        c->closed++;
    }
    pthread_mutex_unlock(&c->lock);
}

static void free_count(void *user_data) {
    CountTag *t = user_data;
    Counter *c = t->counter;
    pthread_mutex_lock(&c->lock);
    if (!t->closed) {
        c->bad_order++;
    }
    c->freed++;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    free(t);
}

static CountTag *count_tag(Counter *c) {
    CountTag *t = calloc(1, sizeof *t);
    t->counter = c;
    return t;
}

static void counter_init(Counter *c) {
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
}

static void counter_destroy(Counter *c) {
    pthread_cond_destroy(&c->changed);
    pthread_mutex_destroy(&c->lock);
}

static long wait_count_freed(Counter *c, long expected) {
    struct timespec until = deadline();
    pthread_mutex_lock(&c->lock);
    while (c->freed < expected && pthread_cond_timedwait(&c->changed, &c->lock, &until) != ETIMEDOUT) {
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

/* `total` objects opened (by flowai_open, or flowai_call_open on `maker`), half closed and
 * freed, half freed open; returns how many opened. */
static long open_close_many(const char *kind, FlowaiHandle *maker, long total, Counter *counter, int check_rss) {
    static FlowaiHandle *handles[BATCH];
    long opened = 0;
    long ok = 0;
    long rss_base = -1;
    long rss_max = -1;
    int rounds = (int)((total + BATCH - 1) / BATCH);
    for (int round = 0; round < rounds; round++) {
        int n = 0;
        for (; n < BATCH && opened < total; n++, opened++) {
            handles[n] = NULL;
            FlowaiStatus st = maker == NULL
                                  ? flowai_open(kind, NULL, on_count, count_tag(counter), free_count, &handles[n])
                                  : flowai_call_open(maker, FLOWAI_AIDA_NEW_SESSION, NULL, on_count,
                                                     count_tag(counter), free_count, &handles[n]);
            ok += st == FLOWAI_OK;
        }
        for (int i = 0; i < n; i++) {
            if (i % 2 == 0 && handles[i] != NULL) {
                flowai_close(handles[i]);
            }
            flowai_free(handles[i]);
        }
        wait_count_freed(counter, opened);
        if (check_rss && round >= 2) {
            long rss = rss_kib();
            if (round == 2) {
                rss_base = rss;
            }
            rss_max = rss > rss_max ? rss : rss_max;
        }
    }
    if (check_rss && rss_base > 0) {
        /* Flat within a generous bound: allocator caches and runtime threads settle early. */
        printf("  %s: rss after warm-up %ld KiB, max %ld KiB over %d rounds\n", kind, rss_base, rss_max, rounds);
        CHECK(rss_max <= rss_base + rss_base / 2 + 16 * 1024);
    }
    return ok;
}

static void test_many(void) {
    long socket_total = env_long("FLOWAI_C_STRESS_SESSIONS", 2000);
    long aida_total = env_long("FLOWAI_C_STRESS_AIDA", 200);
    int check_rss = (int)env_long("FLOWAI_C_CHECK_RSS", 0);

    Counter sessions;
    counter_init(&sessions);
    CHECK(open_close_many(FLOWAI_KIND_SESSION, NULL, socket_total, &sessions, check_rss) == socket_total);
    CHECK(wait_count_freed(&sessions, socket_total) == socket_total);
    pthread_mutex_lock(&sessions.lock);
    CHECK(sessions.closed == socket_total && sessions.bad_order == 0);
    pthread_mutex_unlock(&sessions.lock);
    counter_destroy(&sessions);

    /* A tenth as many REST clients: each builds its own HTTP client with the system's TLS
     * roots (milliseconds each), and the same handle and event paths are what is tested. */
    long rest_total = socket_total / 10;
    Counter messaging;
    counter_init(&messaging);
    CHECK(open_close_many(FLOWAI_KIND_MESSAGING, NULL, rest_total, &messaging, 0) == rest_total);
    CHECK(wait_count_freed(&messaging, rest_total) == rest_total);
    CHECK(messaging.closed == rest_total && messaging.bad_order == 0);
    counter_destroy(&messaging);

    FlowaiHandle *a = OPEN(FLOWAI_KIND_AIDA, NULL, NULL);
    Counter aida;
    counter_init(&aida);
    if (a != NULL) {
        CHECK(open_close_many("aida_session", a, aida_total, &aida, 0) == aida_total);
        CHECK(wait_count_freed(&aida, aida_total) == aida_total);
        CHECK(aida.closed == aida_total && aida.bad_order == 0);
        CHECK_STATUS(flowai_close(a), FLOWAI_OK);
        flowai_free(a);
    }
    counter_destroy(&aida);
    /* A few whole AIDA clients too. */
    Counter clients;
    counter_init(&clients);
    long n = aida_total / 20 > 2 ? aida_total / 20 : 2;
    CHECK(open_close_many(FLOWAI_KIND_AIDA, NULL, n, &clients, 0) == n);
    CHECK(wait_count_freed(&clients, n) == n && clients.bad_order == 0);
    counter_destroy(&clients);
}

/* ---------- the REST API v1: a listing walked with a page cursor ---------- */

/* How many times `needle` occurs in `text`. */
static int occurrences(const char *text, const char *needle) {
    int n = 0;
    for (const char *at = text; at != NULL && (at = strstr(at, needle)) != NULL; at += strlen(needle)) n++;
    return n;
}

static void test_rest(void) {
    FlowaiHandle *emu = OPEN(FLOWAI_KIND_EMULATOR, "{}", NULL);
    char *s = emu ? CALL(emu, FLOWAI_EMULATOR_INFO, NULL) : NULL;
    FlowaiHandle *rest = s ? OPEN(FLOWAI_KIND_REST, s, NULL) : NULL;
    if (rest != NULL) {
        char *receipt = CALL(rest, FLOWAI_REST_SEND_TEXT, "{\"text\":\"hi\",\"sync\":true}");
        CHECK(has(receipt, "customer service demo bot"));
        flowai_string_free(receipt);
        for (int i = 0; i < 44; i++) flowai_string_free(CALL(rest, FLOWAI_REST_SEND_TEXT, "{\"text\":\"hello\"}"));
        CALL_FAILS(rest, FLOWAI_REST_SEND_TEXT, "{\"text\":\"hi\",\"sync\":1}", FLOWAI_INVALID_ARGUMENT,
                   "`sync` must be a boolean");

        /* Each next fetches one page, then null once the listing is over. */
        Collector cc;
        collector_init(&cc);
        FlowaiHandle *cursor = OPEN_BY(rest, FLOWAI_REST_THREADS, NULL, &cc);
        int pages = 0, items = 0, more = 0;
        char *page = NULL;
        while (cursor != NULL && (page = CALL(cursor, FLOWAI_PAGE_CURSOR_NEXT, NULL)) != NULL) {
            int done = strcmp(page, "null") == 0;
            if (!done) {
                pages++;
                items += occurrences(page, "\"threadId\":");
                more += has(page, "\"has_more\":true");
            }
            flowai_string_free(page);
            if (done) break;
        }
        CHECK(pages == 3 && items == 45 && more == 2);
        if (cursor != NULL) {
            CHECK_STATUS(flowai_close(cursor), FLOWAI_OK);
            flowai_free(cursor);
            CHECK_ENDED(&cc);
        }
        collector_destroy(&cc);
        CHECK_STATUS(flowai_close(rest), FLOWAI_OK);
        flowai_free(rest);
    }
    flowai_string_free(s);
    if (emu != NULL) {
        CHECK_STATUS(flowai_close(emu), FLOWAI_OK);
        flowai_free(emu);
    }
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
        {"basics", test_basics},
        {"settings", test_settings},
        {"emulator kind", test_emulator_kind},
        {"record and replay", test_record_replay},
        {"messaging and webhooks", test_messaging},
        {"threads", test_threads},
        {"verifier", test_verifier},
        {"management", test_management},
        {"rest v1", test_rest},
        {"session", test_session},
        {"aida", test_aida},
        {"bench", test_bench},
        {"async calls", test_async},
        {"close in callback", test_close_in_callback},
        {"every pointer parameter", test_every_pointer_parameter},
        {"secrets", test_secrets},
        {"many objects", test_many},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        int before = failed;
        tests[i].run();
        printf("%s %s\n", failed == before ? "ok  " : "FAIL", tests[i].name);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
