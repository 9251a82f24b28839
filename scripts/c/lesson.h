/* lesson.h: what the lesson's three programs share (the course's lib/common.h, reduced to
 * what they use), written for udplab from the lesson's description. */
#ifndef LESSON_H
#define LESSON_H

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERV_PORT 43211
#define MAXLINE 4096

/* lesson_error is the course's error(): the message on stderr, then, when errnum is not 0,
 * ": <strerror> (<errnum>)" and a newline (with errnum 0 no newline, as the course's helper
 * does); it exits with status when status is not 0. */
static inline void lesson_error(int status, int errnum, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (errnum)
		fprintf(stderr, ": %s (%d)\n", strerror(errnum), errnum);
	fflush(stderr);
	if (status)
		exit(status);
}

/* server_address fills addr with host:SERV_PORT, host given as a dotted quad. */
static inline void server_address(struct sockaddr_in *addr, const char *host)
{
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_port = htons(SERV_PORT);
	inet_pton(AF_INET, host, &addr->sin_addr);
}

#endif
