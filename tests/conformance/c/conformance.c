/* The conformance scenario (tests/conformance/SCENARIO.md) in C, through flowai_open and
 * flowai_call; prints one JSON line per step on stdout and nothing else. Results and events
 * are printed as the library hands them over, untouched; only error messages (plain text
 * from flowai_last_error_message) are quoted here.
 *
 * tests/conformance/run.sh builds and runs it; by hand, from the repository root:
 *   cargo build -q -p flowai-c && gcc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude \
 *     tests/conformance/c/conformance.c -Ltarget/debug -lflowai -Wl,-rpath,"$PWD/target/debug" \
 *     -pthread -o target/c_conformance && target/c_conformance
 * Exits with 0 when every step went as the scenario plans, 1 otherwise. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flowai.h"

/* How long a step waits for the event it expects (SCENARIO.md: at most 10 s). */
#define EVENT_TIMEOUT_S 10

#define VERIFY_KEY "conformance-key"

/* BODY of SCENARIO.md, as a JSON string (quoted and escaped) for the arguments. */
#define BODY_JSON                                                                                    \
    "\"{\\\"type\\\":\\\"message.reply\\\",\\\"payload\\\":{\\\"threadId\\\":\\\"conformance-thread\\\"," \
    "\\\"messages\\\":[{\\\"fallback\\\":\\\"hello\\\",\\\"silent\\\":false,\\\"responses\\\":[{"         \
    "\\\"type\\\":\\\"text\\\",\\\"payload\\\":{\\\"text\\\":\\\"hello\\\"},\\\"delay\\\":0}]}]}}\""

static int surprises;

/* ---------- the events of one object, kept until a step prints them ---------- */

typedef struct {
    char name[32];
    char *line; /* {"event": NAME, "payload": PAYLOAD} */
} Item;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    Item *items;
    int count;
    int cap;
    int next;  /* the first item not printed yet */
    int ended; /* free_user_data ran: nothing more will come */
} Events;

static void events_init(Events *e) {
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->changed, NULL);
}

static void events_destroy(Events *e) {
    for (int i = 0; i < e->count; i++) {
        free(e->items[i].line);
    }
    free(e->items);
    pthread_cond_destroy(&e->changed);
    pthread_mutex_destroy(&e->lock);
}

static void on_event(void *user_data, const FlowaiEvent *event) {
    Events *e = user_data;
    size_t size = strlen(event->name) + strlen(event->payload_json) + 32;
    char *line = malloc(size);
    snprintf(line, size, "{\"event\":\"%s\",\"payload\":%s}", event->name, event->payload_json);
    pthread_mutex_lock(&e->lock);
    if (e->count == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 16;
        e->items = realloc(e->items, (size_t)e->cap * sizeof *e->items);
    }
    snprintf(e->items[e->count].name, sizeof e->items[e->count].name, "%s", event->name);
    e->items[e->count++].line = line;
    pthread_cond_broadcast(&e->changed);
    pthread_mutex_unlock(&e->lock);
}

static void on_end(void *user_data) {
    Events *e = user_data;
    pthread_mutex_lock(&e->lock);
    e->ended = 1;
    pthread_cond_broadcast(&e->changed);
    pthread_mutex_unlock(&e->lock);
}

/* ---------- printing ---------- */

static void print_string(const char *text) {
    putchar('"');
    for (const unsigned char *s = (const unsigned char *)text; *s; s++) {
        if (*s == '"' || *s == '\\') {
            printf("\\%c", *s);
        } else if (*s < 0x20) {
            printf("\\u%04x", *s);
        } else {
            putchar(*s);
        }
    }
    putchar('"');
}

/* {"step": STEP, "error": {"code", "message"}} for this thread's last error. */
static void print_error(const char *step) {
    printf("{\"step\":\"%s\",\"error\":{\"code\":\"%s\",\"message\":", step,
           flowai_error_code_string((int)flowai_last_error_code()));
    print_string(flowai_last_error_message());
    printf("}}\n");
    fflush(stdout);
}

static void print_result(const char *step, const char *json) {
    printf("{\"step\":\"%s\",\"result\":%s}\n", step, json);
    fflush(stdout);
}

/* Events of `e` up to and including the first `name`; the ones after it stay for the next
 * line. A wait that ends without it prints what did arrive and why. */
static void print_events(const char *step, Events *e, const char *name) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += EVENT_TIMEOUT_S;
    pthread_mutex_lock(&e->lock);
    int found = -1;
    int timed_out = 0;
    for (int scanned = e->next;;) {
        for (; scanned < e->count && found < 0; scanned++) {
            if (strcmp(e->items[scanned].name, name) == 0) {
                found = scanned;
            }
        }
        if (found >= 0 || e->ended || timed_out) {
            break;
        }
        timed_out = pthread_cond_timedwait(&e->changed, &e->lock, &until) == ETIMEDOUT;
    }
    int last = found >= 0 ? found : e->count - 1;
    printf("{\"step\":\"%s\",\"events\":[", step);
    for (int i = e->next; i <= last; i++) {
        printf("%s%s", i > e->next ? "," : "", e->items[i].line);
    }
    printf("]");
    if (found < 0) {
        surprises++;
        printf(",\"error\":{\"code\":\"CONFORMANCE_TIMEOUT\",\"message\":\"%s `%s`%s\"}",
               e->ended ? "the events ended before" : "no", name, e->ended ? "" : " within 10 s");
    }
    printf("}\n");
    fflush(stdout);
    e->next = last + 1;
    pthread_mutex_unlock(&e->lock);
}

/* ---------- steps ---------- */

/* A call expected to succeed: prints its result (returned, for flowai_string_free) or its error. */
static char *call(const char *step, FlowaiHandle *h, const char *method, const char *args) {
    char *out = NULL;
    if (flowai_call(h, method, args, &out) == FLOWAI_OK) {
        print_result(step, out);
        return out;
    }
    surprises++;
    print_error(step);
    return NULL;
}

/* A call expected to fail: prints its error, or its result when it did not fail. */
static void call_fails(const char *step, FlowaiHandle *h, const char *method, const char *args) {
    char *out = NULL;
    if (flowai_call(h, method, args, &out) == FLOWAI_OK) {
        surprises++;
        print_result(step, out);
        flowai_string_free(out);
    } else {
        print_error(step);
    }
}

static void close_step(const char *step, FlowaiHandle *h) {
    if (flowai_close(h) == FLOWAI_OK) {
        print_result(step, "null");
    } else {
        surprises++;
        print_error(step);
    }
}

/* Open `kind` with its events going to `e` (NULL: none); prints `step`'s error on failure. */
static FlowaiHandle *open_object(const char *step, const char *kind, const char *settings, Events *e) {
    FlowaiHandle *h = NULL;
    if (flowai_open(kind, settings, e ? on_event : NULL, e, e ? on_end : NULL, &h) != FLOWAI_OK) {
        surprises++;
        print_error(step);
    }
    return h;
}

/* An open expected to fail: prints its error. */
static void open_fails(const char *step, const char *kind, const char *settings) {
    FlowaiHandle *h = NULL;
    if (flowai_open(kind, settings, NULL, NULL, NULL, &h) == FLOWAI_OK) {
        surprises++;
        print_result(step, "null");
        flowai_close(h);
        flowai_free(h);
    } else {
        print_error(step);
    }
}

/* The string value of "key":"..." in compact JSON, copied into out. */
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

/* Steps 2 to 10: a Flow Socket session. */
static void session_steps(const char *settings) {
    Events e;
    events_init(&e);
    FlowaiHandle *s = open_object("session.connected", FLOWAI_KIND_SESSION, settings, &e);
    if (s != NULL) {
        print_events("session.connected", &e, "connected");
        flowai_string_free(call("session.send_text", s, FLOWAI_SESSION_SEND_TEXT, "{\"text\":\"hi\"}"));
        print_events("session.send_text.events", &e, "reply");
        flowai_string_free(call("session.send_event", s, FLOWAI_SESSION_SEND_EVENT, "{\"event_name\":\"INTRO\"}"));
        print_events("session.send_event.events", &e, "reply");
        flowai_string_free(call("session.typing", s, FLOWAI_SESSION_TYPING, "{}"));
        flowai_string_free(call("session.history", s, FLOWAI_SESSION_HISTORY, "{}"));
        close_step("session.close", s);
        print_events("session.closed", &e, "closed");
        flowai_free(s);
    }
    events_destroy(&e);
}

/* Steps 11 to 20: an AIDA client with two conversations. */
static void aida_steps(const char *settings) {
    Events ea, e1, e2;
    events_init(&ea);
    events_init(&e1);
    events_init(&e2);
    FlowaiHandle *aida = open_object("aida.connected", FLOWAI_KIND_AIDA, settings, &ea);
    FlowaiHandle *s1 = NULL;
    FlowaiHandle *s2 = NULL;
    if (aida != NULL) {
        print_events("aida.connected", &ea, "connected");
        const char *steps[] = {"aida.s1", "aida.s2"};
        FlowaiHandle **made[] = {&s1, &s2};
        Events *events[] = {&e1, &e2};
        for (int i = 0; i < 2; i++) {
            if (flowai_call_open(aida, FLOWAI_AIDA_NEW_SESSION, "{}", on_event, events[i], on_end, made[i]) ==
                FLOWAI_OK) {
                flowai_string_free(call(steps[i], *made[i], FLOWAI_AIDA_SESSION_INFO, "{}"));
            } else {
                surprises++;
                print_error(steps[i]);
            }
        }
    }
    if (s1 != NULL && s2 != NULL) {
        flowai_string_free(call("aida.s1.send_text", s1, FLOWAI_AIDA_SESSION_SEND_TEXT, "{\"text\":\"hi\"}"));
        print_events("aida.s1.events", &e1, "aida_message");
        flowai_string_free(call("aida.s2.send_text", s2, FLOWAI_AIDA_SESSION_SEND_TEXT, "{\"text\":\"hello\"}"));
        print_events("aida.s2.events", &e2, "aida_message");
        close_step("aida.close", aida);
        print_events("aida.events", &ea, "closed");
        print_events("aida.s1.closed", &e1, "closed");
    }
    /* Not steps: every object is closed before the program ends (SCENARIO.md). */
    FlowaiHandle *all[] = {s1, s2, aida};
    for (int i = 0; i < 3; i++) {
        if (all[i] != NULL) {
            flowai_close(all[i]);
        }
    }
    flowai_free(s1);
    flowai_free(s2);
    flowai_free(aida);
    events_destroy(&e2);
    events_destroy(&e1);
    events_destroy(&ea);
}

/* Steps 21 to 28: an embedded receiver called by the emulator, then the verifier. */
static void webhook_steps(FlowaiHandle *emulator) {
    Events er;
    events_init(&er);
    FlowaiHandle *receiver = open_object("receiver.open", FLOWAI_KIND_RECEIVER, "{\"verify_key\":\"" VERIFY_KEY "\"}", &er);
    if (receiver != NULL) {
        char *info = call("receiver.open", receiver, FLOWAI_RECEIVER_INFO, "{}");
        char url[256] = "";
        json_str(info, "url", url, sizeof url);
        flowai_string_free(info);
        static const char *const posts[][3] = {
            {"receiver.signed", VERIFY_KEY, "d-1"},
            {"receiver.bad_key", "wrong-key", "d-2"},
            {"receiver.duplicate", VERIFY_KEY, "d-1"},
        };
        for (int i = 0; i < 3; i++) {
            char args[1024];
            snprintf(args, sizeof args, "{\"url\":\"%s\",\"body\":%s,\"verify_key\":\"%s\",\"delivery_id\":\"%s\"}", url,
                     BODY_JSON, posts[i][1], posts[i][2]);
            flowai_string_free(call(posts[i][0], emulator, FLOWAI_EMULATOR_POST_WEBHOOK, args));
        }
        close_step("receiver.close", receiver);
        print_events("receiver.events", &er, "closed");
        flowai_free(receiver);
    }
    events_destroy(&er);

    FlowaiHandle *verifier = open_object("verifier.signed", FLOWAI_KIND_VERIFIER, "{\"verify_key\":\"" VERIFY_KEY "\"}", NULL);
    if (verifier != NULL) {
        flowai_string_free(call("verifier.signed", verifier, FLOWAI_VERIFIER_VERIFY,
                                "{\"headers\":{\"X-Flowai-Verify-Key\":\"" VERIFY_KEY "\"},\"body\":" BODY_JSON "}"));
        call_fails("verifier.bad_key", verifier, FLOWAI_VERIFIER_VERIFY,
                   "{\"headers\":{\"X-Flowai-Verify-Key\":\"wrong-key\"},\"body\":" BODY_JSON "}");
        flowai_close(verifier);
        flowai_free(verifier);
    }
}

/* Steps 29 to 32: the same settings and argument errors as every other language. */
static void settings_steps(const char *settings) {
    char api_url[256] = "";
    json_str(settings, "api_url", api_url, sizeof api_url);
    char zero_timeout[512];
    snprintf(zero_timeout, sizeof zero_timeout, "{\"api_url\":\"%s\",\"messaging_key\":\"k\",\"timeout_ms\":0}",
             api_url);
    open_fails("settings.zero_timeout", FLOWAI_KIND_MESSAGING, zero_timeout);
    open_fails("settings.bad_url", FLOWAI_KIND_MESSAGING, "{\"api_url\":\"not a url\",\"messaging_key\":\"k\"}");
    FlowaiHandle *client = open_object("call.too_long", FLOWAI_KIND_MESSAGING, settings, NULL);
    if (client != NULL) {
        char args[512];
        snprintf(args, sizeof args, "{\"thread_id\":\"t-1\",\"text\":\"%0256d\"}", 0);
        for (char *x = strstr(args, "\"text\":\"") + 8; *x == '0'; x++) {
            *x = 'x';
        }
        call_fails("call.too_long", client, FLOWAI_MESSAGING_SEND_TEXT, args);
        call_fails("call.unknown_argument", client, FLOWAI_MESSAGING_SEND_TEXT,
                   "{\"thread_id\":\"t-1\",\"text\":\"hi\",\"colour\":\"red\"}");
        flowai_close(client);
        flowai_free(client);
    }
}

/* The number of items of a paged method, walked with its page cursor: `{"count": N}`. The
 * items of threads and messages each carry one "threadId". */
static void count_items(const char *step, FlowaiHandle *client, const char *method, const char *args) {
    FlowaiHandle *cursor = NULL;
    if (flowai_call_open(client, method, args, NULL, NULL, NULL, &cursor) != FLOWAI_OK) {
        surprises++;
        print_error(step);
        return;
    }
    int count = 0;
    for (;;) {
        char *page = NULL;
        if (flowai_call(cursor, FLOWAI_PAGE_CURSOR_NEXT, "{}", &page) != FLOWAI_OK) {
            surprises++;
            print_error(step);
            flowai_close(cursor);
            flowai_free(cursor);
            return;
        }
        int done = strcmp(page, "null") == 0;
        for (const char *at = page; !done && (at = strstr(at, "\"threadId\":")) != NULL; at++) {
            count++;
        }
        flowai_string_free(page);
        if (done) {
            break;
        }
    }
    flowai_close(cursor);
    flowai_free(cursor);
    char out[64];
    snprintf(out, sizeof out, "{\"count\":%d}", count);
    print_result(step, out);
}

/* Steps 33 to 50: the Flow REST API v1. */
static void rest_steps(const char *settings, FlowaiHandle *emulator) {
    FlowaiHandle *c = open_object("rest.send_sync", FLOWAI_KIND_REST, settings, NULL);
    if (c == NULL) {
        return;
    }
    char *sent = call("rest.send_sync", c, FLOWAI_REST_SEND_TEXT, "{\"text\":\"hi\",\"sync\":true}");
    char thread[256] = "";
    json_str(sent, "threadId", thread, sizeof thread);
    flowai_string_free(sent);
    for (int i = 0; i < 24; i++) { /* not a step: more threads than two pages hold */
        char *out = NULL;
        if (flowai_call(c, FLOWAI_REST_SEND_TEXT, "{\"text\":\"hello\"}", &out) == FLOWAI_OK) {
            flowai_string_free(out);
        }
    }
    count_items("rest.threads", c, FLOWAI_REST_THREADS, "{}");
    char *page = NULL;
    if (flowai_call(c, FLOWAI_REST_THREADS_PAGE, "{\"page\":2}", &page) == FLOWAI_OK) {
        int items = 0;
        for (const char *at = page; (at = strstr(at, "\"threadId\":")) != NULL; at++) {
            items++;
        }
        char out[128];
        snprintf(out, sizeof out, "{\"page\":%d,\"has_more\":%s,\"items\":%d}", strstr(page, "\"page\":2") ? 2 : 0,
                 strstr(page, "\"has_more\":true") ? "true" : "false", items);
        print_result("rest.threads_page", out);
        flowai_string_free(page);
    } else {
        surprises++;
        print_error("rest.threads_page");
    }
    char on_thread[320], sync_hi[384], handover[384], trigger[384];
    snprintf(on_thread, sizeof on_thread, "{\"thread_id\":\"%s\"}", thread);
    snprintf(sync_hi, sizeof sync_hi, "{\"text\":\"hi\",\"thread_id\":\"%s\",\"sync\":true}", thread);
    snprintf(handover, sizeof handover, "{\"thread_id\":\"%s\",\"seconds\":60}", thread);
    snprintf(trigger, sizeof trigger, "{\"thread_id\":\"%s\",\"event_name\":\"INTRO\"}", thread);
    count_items("rest.messages", c, FLOWAI_REST_MESSAGES, on_thread);
    flowai_string_free(call("rest.pause", c, FLOWAI_REST_PAUSE, on_thread));
    flowai_string_free(call("rest.paused_send", c, FLOWAI_REST_SEND_TEXT, sync_hi));
    flowai_string_free(call("rest.pause_status", c, FLOWAI_REST_PAUSE_STATUS, on_thread));
    flowai_string_free(call("rest.resume", c, FLOWAI_REST_RESUME, on_thread));
    flowai_string_free(call("rest.resumed_send", c, FLOWAI_REST_SEND_TEXT, sync_hi));
    flowai_string_free(call("rest.handover", c, FLOWAI_REST_HANDOVER, handover));
    flowai_string_free(call("rest.handover_status", c, FLOWAI_REST_PAUSE_STATUS, on_thread));
    flowai_string_free(call("rest.trigger_events", c, FLOWAI_REST_TRIGGER_EVENTS, "{}"));
    flowai_string_free(call("rest.trigger_event", c, FLOWAI_REST_TRIGGER_EVENT, trigger));
    flowai_string_free(call("rest.business_hours", c, FLOWAI_REST_BUSINESS_HOURS, "{}"));
    flowai_string_free(call("rest.segments", c, FLOWAI_REST_SEGMENTS, "{}"));
    char long_text[512];
    snprintf(long_text, sizeof long_text, "{\"text\":\"%0256d\",\"sync\":true}", 0);
    for (char *x = strstr(long_text, "\"text\":\"") + 8; *x == '0'; x++) {
        *x = 'x';
    }
    call_fails("rest.too_long", c, FLOWAI_REST_SEND_TEXT, long_text);
    /* A send is never retried: the one failure is the answer. A read is. */
    char *faults = NULL;
    flowai_call(emulator, FLOWAI_EMULATOR_SET_FAULTS, "{\"faults\":{\"restV1Failures\":1,\"restV1Status\":500}}",
                &faults);
    flowai_string_free(faults);
    call_fails("rest.send_5xx", c, FLOWAI_REST_SEND_TEXT, sync_hi);
    faults = NULL;
    flowai_call(emulator, FLOWAI_EMULATOR_SET_FAULTS, "{\"faults\":{\"restV1Failures\":1,\"restV1Status\":503}}",
                &faults);
    flowai_string_free(faults);
    flowai_string_free(call("rest.read_retried", c, FLOWAI_REST_PAUSE_STATUS, on_thread));
    flowai_close(c);
    flowai_free(c);
}

int main(void) {
    /* 1. The emulator, whose settings every client takes as they are. */
    FlowaiHandle *emulator = open_object("emulator.info", FLOWAI_KIND_EMULATOR, "{}", NULL);
    if (emulator == NULL) {
        return 1;
    }
    char *settings = call("emulator.info", emulator, FLOWAI_EMULATOR_INFO, "{}");
    if (settings == NULL) {
        flowai_free(emulator);
        return 1;
    }
    session_steps(settings);
    aida_steps(settings);
    webhook_steps(emulator);
    settings_steps(settings);
    rest_steps(settings, emulator);
    close_step("emulator.close", emulator);
    flowai_free(emulator);
    flowai_string_free(settings);
    if (surprises != 0) {
        fprintf(stderr, "conformance: %d step(s) went wrong\n", surprises);
        return 1;
    }
    return 0;
}
