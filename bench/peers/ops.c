/* ops.c: the benchmark's operations in C, the limit the others are measured against.
 * Usage: ops OP N; prints the nanoseconds one operation took (the median run's mean), or for
 * "rss" the resident set in KB when idle and after a loop. Built by bench/main.go with gcc -O2. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int udp_bound(struct sockaddr_in *addr) {
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(s, (struct sockaddr *)&a, &len) < 0) {
		perror("socket");
		exit(1);
	}
	if (addr) *addr = a;
	return s;
}

static long rss_kb(void) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
	if (f) fclose(f);
	return kb;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: ops OP N\n");
		return 2;
	}
	const char *op = argv[1];
	long n = atol(argv[2]);
	if (!strcmp(op, "start")) return 0; /* the cost of starting, for the start column */
	char payload[64], buf[100];
	memset(payload, 'x', sizeof payload);
	struct sockaddr_in sink_addr, me;
	double t0, total = 0;

	if (!strcmp(op, "send") || !strcmp(op, "sendto_kept") || !strcmp(op, "sendto_hostport")) {
		udp_bound(&sink_addr);
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		char host[] = "127.0.0.1";
		int port = ntohs(sink_addr.sin_port);
		if (!strcmp(op, "send")) connect(s, (struct sockaddr *)&sink_addr, sizeof sink_addr);
		t0 = now();
		for (long i = 0; i < n; i++) {
			ssize_t r;
			if (!strcmp(op, "send")) {
				r = send(s, payload, sizeof payload, 0);
			} else if (!strcmp(op, "sendto_kept")) {
				r = sendto(s, payload, sizeof payload, 0, (struct sockaddr *)&sink_addr, sizeof sink_addr);
			} else {
				struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
				inet_pton(AF_INET, host, &to.sin_addr);
				r = sendto(s, payload, sizeof payload, 0, (struct sockaddr *)&to, sizeof to);
			}
			if (r != sizeof payload) { perror("send"); return 1; }
		}
		total = now() - t0;
	} else if (!strcmp(op, "recv") || !strcmp(op, "recvfrom")) {
		int s = udp_bound(&me);
		int from_addr = !strcmp(op, "recvfrom");
		for (long done = 0; done < n; done += 100) {
			for (int k = 0; k < 100; k++) sendto(s, payload, sizeof payload, 0, (struct sockaddr *)&me, sizeof me);
			t0 = now();
			for (int k = 0; k < 100; k++) {
				struct sockaddr_in from;
				socklen_t len = sizeof from;
				ssize_t r = from_addr ? recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &len) : recv(s, buf, sizeof buf, 0);
				if (r != sizeof payload) { perror("recv"); return 1; }
			}
			total += now() - t0;
		}
	} else if (!strcmp(op, "pingpong")) {
		struct sockaddr_in a_addr, b_addr;
		int a = udp_bound(&a_addr), b = udp_bound(&b_addr);
		connect(a, (struct sockaddr *)&b_addr, sizeof b_addr);
		connect(b, (struct sockaddr *)&a_addr, sizeof a_addr);
		t0 = now();
		for (long i = 0; i < n; i++) {
			send(a, payload, sizeof payload, 0);
			ssize_t r = recv(b, buf, sizeof buf, 0);
			send(b, buf, r, 0);
			if (recv(a, buf, sizeof buf, 0) != sizeof payload) { perror("pingpong"); return 1; }
		}
		total = now() - t0;
	} else if (!strcmp(op, "poll1000")) {
		struct pollfd fds[1000];
		struct sockaddr_in target;
		for (int i = 0; i < 1000; i++) {
			fds[i].fd = udp_bound(i == 499 ? &target : NULL);
			fds[i].events = POLLIN;
		}
		sendto(fds[999].fd, "x", 1, 0, (struct sockaddr *)&target, sizeof target);
		usleep(10000);
		t0 = now();
		for (long i = 0; i < n; i++)
			if (poll(fds, 1000, 1000) != 1) { perror("poll"); return 1; }
		total = now() - t0;
	} else if (!strcmp(op, "rss")) {
		struct sockaddr_in a_addr, b_addr;
		int a = udp_bound(&a_addr), b = udp_bound(&b_addr);
		connect(a, (struct sockaddr *)&b_addr, sizeof b_addr);
		long idle = rss_kb();
		for (long i = 0; i < n; i++) {
			send(a, payload, sizeof payload, 0);
			recv(b, buf, sizeof buf, 0);
		}
		printf("%ld %ld\n", idle, rss_kb());
		return 0;
	} else {
		fprintf(stderr, "ops: unknown op %s\n", op);
		return 2;
	}
	printf("%.1f\n", total / n);
	return 0;
}
