/* udpconnectclient2.c: the lesson's second client: connect()ed, it uses send() and recv(), as
 * the lesson recommends on a connected socket. The first of two against the pinned server
 * gets its answers ("Hi, g1"); the second gets "recv failed: Connection refused (111)".
 *
 * usage: udpconnectclient2 <IPaddress> */
#include "lesson.h"

int main(int argc, char **argv)
{
	if (argc != 2)
		lesson_error(1, 0, "usage: udpclient2 <IPaddress>");
	int socket_fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in server_addr;
	server_address(&server_addr, argv[1]);
	if (connect(socket_fd, (struct sockaddr *)&server_addr, sizeof(server_addr)))
		lesson_error(1, errno, "connect failed");

	char send_line[MAXLINE], recv_line[MAXLINE + 1];
	while (fgets(send_line, MAXLINE, stdin) != NULL) {
		size_t i = strlen(send_line);
		if (i > 0 && send_line[i - 1] == '\n')
			send_line[i - 1] = 0;
		printf("now sending %s\n", send_line);
		ssize_t rt = send(socket_fd, send_line, strlen(send_line), 0);
		if (rt < 0)
			lesson_error(1, errno, "send failed ");
		printf("send bytes: %zd \n", rt);
		recv_line[0] = 0;
		ssize_t n = recv(socket_fd, recv_line, MAXLINE, 0);
		if (n < 0)
			lesson_error(1, errno, "recv failed");
		recv_line[n] = 0;
		fputs(recv_line, stdout);
		fputs("\n", stdout);
	}
	exit(0);
}
