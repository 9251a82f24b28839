/* udpconnectclient.c: the lesson's first client. It connect()s its UDP socket to the server,
 * then, for each line of its input, sends it with sendto() (the server's address given again,
 * on the connected socket) and waits for the answer with recvfrom(). With no server, the
 * kernel's ICMP port unreachable makes the recvfrom fail:
 *
 *   now sending g1
 *   send bytes: 2
 *   recvfrom failed: Connection refused (111)
 *
 * usage: udpconnectclient <IPaddress> */
#include "lesson.h"

int main(int argc, char **argv)
{
	if (argc != 2)
		lesson_error(1, 0, "usage: udpclient1 <IPaddress>");
	int socket_fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in server_addr;
	server_address(&server_addr, argv[1]);
	socklen_t server_len = sizeof(server_addr);
	if (connect(socket_fd, (struct sockaddr *)&server_addr, server_len))
		lesson_error(1, errno, "connect failed");

	struct sockaddr_in reply_addr;
	char send_line[MAXLINE], recv_line[MAXLINE + 1];
	while (fgets(send_line, MAXLINE, stdin) != NULL) {
		size_t i = strlen(send_line);
		if (i > 0 && send_line[i - 1] == '\n')
			send_line[i - 1] = 0;
		printf("now sending %s\n", send_line);
		ssize_t rt = sendto(socket_fd, send_line, strlen(send_line), 0, (struct sockaddr *)&server_addr, server_len);
		if (rt < 0)
			lesson_error(1, errno, "sendto failed");
		printf("send bytes: %zd \n", rt);
		socklen_t len = 0;
		recv_line[0] = 0;
		ssize_t n = recvfrom(socket_fd, recv_line, MAXLINE, 0, (struct sockaddr *)&reply_addr, &len);
		if (n < 0)
			lesson_error(1, errno, "recvfrom failed");
		recv_line[n] = 0;
		fputs(recv_line, stdout);
		fputs("\n", stdout);
	}
	exit(0);
}
