/* The payload of memfd_exec: says it ran. */
#include "escape.h"
int main(void) { escaped("a program from an anonymous file ran"); }
