/*
 * berth-init: `docker run --init`'s PID 1 (Docker uses tini). Bind-mounted into
 * the container as /sbin/docker-init; runs `-- CMD...` as its child, passes on
 * the signals it gets, reaps every orphan, and exits as the child did.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void forward(int sig) {
  if (child > 0) kill(child, sig);
}

int main(int argc, char **argv) {
  int i = 1;
  if (i < argc && !strcmp(argv[i], "--")) i++;
  if (i >= argc) {
    fprintf(stderr, "docker-init: usage: docker-init -- COMMAND [ARG...]\n");
    return 2;
  }
  /* the signals a user sends to the container go to the command */
  int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM};
  struct sigaction sa = {.sa_handler = forward};
  sigemptyset(&sa.sa_mask);
  for (size_t k = 0; k < sizeof sigs / sizeof *sigs; k++) sigaction(sigs[k], &sa, NULL);
  child = fork();
  if (child < 0) { perror("docker-init: fork"); return 1; }
  if (child == 0) {
    for (size_t k = 0; k < sizeof sigs / sizeof *sigs; k++) signal(sigs[k], SIG_DFL);
    /* the command gets the terminal's foreground, as it would as PID 1 */
    setpgid(0, 0);
    if (isatty(0)) tcsetpgrp(0, getpid());
    execvp(argv[i], argv + i);
    fprintf(stderr, "docker-init: exec %s: %s\n", argv[i], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  for (;;) {
    int st;
    pid_t p = wait(&st);
    if (p < 0 && errno == EINTR) continue;
    if (p < 0) return 1;
    if (p == child) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
}
