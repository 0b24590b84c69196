/* An fd inherited from the caller: the caller opened a secret file without close-on-exec as
 * fd argv[1]; the program reads it. */
#include "escape.h"

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    char buf[64] = {0};
    attempting("read the inherited fd");
    if (read(atoi(argv[1]), buf, sizeof buf - 1) < 0)
        contained("read inherited fd", errno);
    if (strstr(buf, "SECRET"))
        escaped("read the caller's secret through an inherited fd");
    escaped("read an inherited fd");
}
