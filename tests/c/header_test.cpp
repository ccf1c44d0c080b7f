// Compiles and links include/flowai.h (and the flowai_methods.h it includes) from C++:
// extern "C", no C-only constructs; then one real object through the generic calls.
#include "flowai.h"

#include <cstdio>
#include <cstring>

static void on_event(void *user_data, const FlowaiEvent *event) {
    if (event->kind == FLOWAI_EVENT_CLOSED) {
        *static_cast<int *>(user_data) += 1;
    }
}

int main() {
    const char *code = flowai_error_code_string(FLOWAI_CLOSED);
    FlowaiEvent event{};
    event.kind = FLOWAI_EVENT_CLOSED;
    FlowaiResultCallback done = nullptr;
    FlowaiFreeCallback release = nullptr;
    (void)done;
    (void)event;
    int closed = 0;
    FlowaiHandle *verifier = nullptr;
    if (flowai_open(FLOWAI_KIND_VERIFIER, "{\"verify_key\":\"k\"}", on_event, &closed, release, &verifier) !=
        FLOWAI_OK) {
        std::printf("open: %s\n", flowai_last_error_message());
        return 1;
    }
    char *parsed = nullptr;
    FlowaiStatus status = flowai_call(
        verifier, FLOWAI_VERIFIER_VERIFY,
        "{\"headers\":{\"X-Flowai-Verify-Key\":\"k\"},\"body\":\"{\\\"type\\\":\\\"x.y\\\",\\\"payload\\\":{}}\"}",
        &parsed);
    std::printf("C++ header test: %s %s %s\n", flowai_version(), code, parsed ? parsed : flowai_last_error_message());
    flowai_string_free(parsed);
    flowai_close(verifier);
    flowai_free(verifier);
    return status == FLOWAI_OK && closed == 1 && std::strcmp(code, "FLOWAI_CLOSED") == 0 ? 0 : 1;
}
