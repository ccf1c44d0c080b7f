// Compiles and links include/flowai.h from C++: extern "C", no C-only constructs.
#include "flowai.h"

#include <cstdio>
#include <cstring>

int main() {
    const char *code = flowai_error_code_string(FLOWAI_CLOSED);
    FlowaiEvent event{};
    event.kind = FLOWAI_EVENT_CLOSED;
    event.status = FLOWAI_OK;
    FlowaiEventCallback callback = nullptr;
    (void)callback;
    std::printf("C++ header test: %s %s %d\n", flowai_version(), code, static_cast<int>(event.kind));
    return std::strcmp(code, "FLOWAI_CLOSED") == 0 ? 0 : 1;
}
