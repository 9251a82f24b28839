/* udpconnectserver.c: the lesson's "pinned" server. It binds 0.0.0.0:43211, waits for a first
 * datagram with recvfrom(), then connect()s to that client: the kernel then gives it only that
 * client's datagrams and answers any other with ICMP port unreachable. It answers "Hi, <message>"
 * until a message starts with "goodbye"; on Ctrl-C (SIGINT) it prints how many datagrams it
 * received.
 *
 * As the lesson's program does, it leaves the first datagram out of its count, and does not end
 * the string after recv(): a shorter message after a longer one is answered with the longer
 * one's last bytes ("Hi, shortnger message"). udplab's scripts/udpconnectserver.lua does not
 * copy those two bugs; this program keeps them, so that its lines are the lesson's. */
#include "lesson.h"

static int count;

static void recvfrom_int(int signo)
{
	(void)signo;
	printf("\nreceived %d datagrams\n", count);
	exit(0);
}

int main(void)
{
	int socket_fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in server_addr;
	memset(&server_addr, 0, sizeof(server_addr));
	server_addr.sin_family = AF_INET;
	server_addr.sin_addr.s_addr = htonl(INADDR_ANY);
	server_addr.sin_port = htons(SERV_PORT);
	bind(socket_fd, (struct sockaddr *)&server_addr, sizeof(server_addr));

	char message[MAXLINE + 1];
	message[0] = 0;
	count = 0;
	signal(SIGINT, recvfrom_int);

	struct sockaddr_in client_addr;
	socklen_t client_len = sizeof(client_addr);
	ssize_t n = recvfrom(socket_fd, message, MAXLINE, 0, (struct sockaddr *)&client_addr, &client_len);
	if (n < 0)
		lesson_error(1, errno, "recvfrom failed");
	message[n] = 0;
	printf("received %zd bytes: %s\n", n, message);
	if (connect(socket_fd, (struct sockaddr *)&client_addr, client_len))
		lesson_error(1, errno, "connect failed");

	while (strncmp(message, "goodbye", 7) != 0) {
		char send_line[MAXLINE + 8];
		snprintf(send_line, sizeof(send_line), "Hi, %s", message);
		ssize_t rt = send(socket_fd, send_line, strlen(send_line), 0);
		if (rt < 0)
			lesson_error(1, errno, "send failed ");
		printf("send bytes: %zd \n", rt);
		ssize_t rc = recv(socket_fd, message, MAXLINE, 0);
		if (rc < 0)
			lesson_error(1, errno, "recv failed");
		count++;
	}
	exit(0);
}
