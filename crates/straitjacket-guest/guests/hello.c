/* A C guest: prints its arguments, one per line, through the C header. Built as a static
 * PIE by the tests (so straitjacket places it at its chosen base) and as ET_EXEC. */
#include "straitjacket_guest.h"

SJ_ENTRY()

int sj_main(int argc, char **argv) {
    static const char hello[] = "hello from C\n";
    sj_write_all(1, hello, sizeof hello - 1);
    for (int i = 1; i < argc; i++) {
        sj_write_all(1, argv[i], sj_strlen(argv[i]));
        sj_write_all(1, "\n", 1);
    }
    return argc;
}
