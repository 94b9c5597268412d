#!/usr/bin/env python3
"""imap_login.py SOURCE PORT USER PASSWORD [plain]: one IMAP login to
127.0.0.1:PORT from the local address SOURCE (Linux routes all of 127/8 to
lo), with LOGIN, or AUTHENTICATE PLAIN when the last argument is "plain"
(the password is then sent as UTF-8 bytes). PASSWORD "@big:N" is N bytes of
'a'. Exit 0 logged in (and SELECT INBOX worked), 1 refused, 2 anything else.
Prints the server's answer, never the password."""
import imaplib
import socket
import sys


class SourceIMAP(imaplib.IMAP4):
    def __init__(self, source, port):
        self._source = source
        super().__init__("127.0.0.1", port, timeout=20)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self._source, 0))


def main():
    source, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    plain = len(sys.argv) > 5 and sys.argv[5] == "plain"
    if password.startswith("@big:"):
        password = "a" * int(password[5:])
    try:
        imap = SourceIMAP(source, port)
    except OSError as e:
        print("connect: %s" % e)
        return 2
    try:
        if plain:
            blob = b"\0" + user.encode() + b"\0" + password.encode("utf-8")
            typ, data = imap.authenticate("PLAIN", lambda _: blob)
        else:
            typ, data = imap.login(user, password)
        print("login: %s %s" % (typ, data))
        typ, data = imap.select("INBOX")
        print("select: %s" % typ)
        imap.logout()
        return 0 if typ == "OK" else 2
    except imaplib.IMAP4.error as e:
        print("refused: %s" % e)
        return 1
    except (OSError, imaplib.IMAP4.abort) as e:
        print("error: %s" % e)
        return 2


sys.exit(main())
