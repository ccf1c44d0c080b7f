/* A C program built against the unpacked C tarball (pkg-config or CMake): starts the
 * emulator in its own process with flowai_emulator_start, opens a session with the settings
 * it gives, sends a text and waits for the bot's reply through the event callback.
 * Prints "version X", "bot: {...}" and exits 0 once a reply came. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <flowai.h>

static atomic_int replies;

static void on_event(void *user_data, const FlowaiEvent *event) {
    (void)user_data;
    if (event->kind == FLOWAI_EVENT_REPLY && atomic_fetch_add(&replies, 1) == 0) {
        printf("bot: %s\n", event->payload_json);
    }
}

static int fail(const char *what) {
    fprintf(stderr, "%s: %s\n", what, flowai_last_error_message());
    return 1;
}

int main(void) {
    printf("version %s\n", flowai_version());
    FlowaiHandle *emulator = NULL;
    char *settings = NULL;
    if (flowai_emulator_start("{\"time_scale\": 0.01}", &emulator, &settings) != FLOWAI_OK) {
        return fail("flowai_emulator_start");
    }
    FlowaiHandle *session = NULL;
    if (flowai_open(FLOWAI_KIND_SESSION, settings, on_event, NULL, NULL, &session) != FLOWAI_OK) {
        return fail("flowai_open");
    }
    flowai_string_free(settings);
    if (flowai_call(session, FLOWAI_SESSION_SEND_TEXT, "{\"text\": \"hi\"}", NULL) != FLOWAI_OK) {
        return fail("send_text");
    }
    for (int i = 0; i < 200 && atomic_load(&replies) == 0; i++) {
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
    }
    flowai_close(session);
    flowai_free(session);
    if (flowai_emulator_stop(emulator) != FLOWAI_OK) {
        return fail("flowai_emulator_stop");
    }
    return atomic_load(&replies) > 0 ? 0 : 1;
}
