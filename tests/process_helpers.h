/*
 * process_helpers.h: start a program in the background, wait for it, sleep,
 * for tests that stop the runner part-way (signals, kill -9). Test-only.
 */
#ifndef RUNNER_TEST_PROCESS_HELPERS_H
#define RUNNER_TEST_PROCESS_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>

#include "e2e_helpers.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Start prog with args (split on spaces), output to dir/log. */
static pid_t spawn(const char *prog, const char *args)
{
    char buf[2048], *argv[64];
    int argc = 0;
    snprintf(buf, sizeof buf, "%s", args);
    argv[argc++] = (char *)prog;
    for (char *save, *t = strtok_r(buf, " ", &save); t && argc < 63; t = strtok_r(NULL, " ", &save)) argv[argc++] = t;
    argv[argc] = NULL;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int fd = open(in_dir("log"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* build/runner with args, as spawn. */
static pid_t spawn_runner(const char *args) { return spawn(RUNNER_BUILD_DIR "/runner", args); }

static int wait_exit(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? -WTERMSIG(st) : -1000;
}

static void sleep_seconds(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

#endif
