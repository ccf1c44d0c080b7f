// The C++ twin of emulator_app.c: the same header from C++, the reply handed over with a
// condition variable. Prints "version X", "bot: {...}" and exits 0 once a reply came.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>

#include <flowai.h>

namespace {

struct Replies {
    std::mutex lock;
    std::condition_variable arrived;
    std::string first;
};

void on_event(void *user_data, const FlowaiEvent *event) {
    auto *replies = static_cast<Replies *>(user_data);
    if (event->kind != FLOWAI_EVENT_REPLY) {
        return;
    }
    std::lock_guard<std::mutex> guard(replies->lock);
    if (replies->first.empty()) {
        replies->first = event->payload_json;
        replies->arrived.notify_all();
    }
}

int fail(const char *what) {
    std::fprintf(stderr, "%s: %s\n", what, flowai_last_error_message());
    return 1;
}

}  // namespace

int main() {
    std::printf("version %s\n", flowai_version());
    FlowaiHandle *emulator = nullptr;
    char *settings = nullptr;
    if (flowai_emulator_start(R"({"time_scale": 0.01})", &emulator, &settings) != FLOWAI_OK) {
        return fail("flowai_emulator_start");
    }
    Replies replies;
    FlowaiHandle *session = nullptr;
    if (flowai_open(FLOWAI_KIND_SESSION, settings, on_event, &replies, nullptr, &session) != FLOWAI_OK) {
        return fail("flowai_open");
    }
    flowai_string_free(settings);
    if (flowai_call(session, FLOWAI_SESSION_SEND_TEXT, R"({"text": "hi"})", nullptr) != FLOWAI_OK) {
        return fail("send_text");
    }
    std::string reply;
    {
        std::unique_lock<std::mutex> guard(replies.lock);
        replies.arrived.wait_for(guard, std::chrono::seconds(10), [&] { return !replies.first.empty(); });
        reply = replies.first;
    }
    flowai_close(session);  // returns after the CLOSED event: `replies` is no longer used
    flowai_free(session);
    if (flowai_emulator_stop(emulator) != FLOWAI_OK) {
        return fail("flowai_emulator_stop");
    }
    if (reply.empty()) {
        std::fprintf(stderr, "no reply\n");
        return 1;
    }
    std::printf("bot: %s\n", reply.c_str());
    return 0;
}
