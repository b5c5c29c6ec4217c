#include "bench_subcommands.h"
int bench_cmd_score(const char *b, int c, char **v) { (void)b;(void)c;(void)v; return 2; }
