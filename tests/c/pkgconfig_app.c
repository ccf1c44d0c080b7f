/* The smallest app built with `cc app.c $(pkg-config --cflags --libs flowai)`. */
#include <stdio.h>

#include <flowai.h>

int main(void) {
    /* FLOWAI_KIND_SESSION comes from flowai_methods.h, installed next to flowai.h. */
    printf("flowai %s via pkg-config (kinds such as \"%s\")\n", flowai_version(), FLOWAI_KIND_SESSION);
    return 0;
}
