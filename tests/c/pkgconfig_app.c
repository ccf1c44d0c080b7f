/* The smallest app built with `cc app.c $(pkg-config --cflags --libs flowai)`. */
#include <stdio.h>

#include <flowai.h>

int main(void) {
    printf("flowai %s via pkg-config\n", flowai_version());
    return 0;
}
