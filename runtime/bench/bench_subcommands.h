/* The subcommands of warmrun-bench besides startup (bench_startup.h). */
#ifndef WARMRUN_BENCH_SUBCOMMANDS_H
#define WARMRUN_BENCH_SUBCOMMANDS_H

int bench_cmd_activation(const char *bindir, int argc, char **argv);
int bench_cmd_load(const char *bindir, int argc, char **argv);
int bench_cmd_scale(const char *bindir, int argc, char **argv);
int bench_cmd_fill(const char *bindir, int argc, char **argv);
int bench_cmd_invoke(const char *bindir, int argc, char **argv);
int bench_cmd_score(const char *bindir, int argc, char **argv);

#endif
