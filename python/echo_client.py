#!/usr/bin/env python3
"""echo_client: sends each line of stdin to an echo server and prints what
comes back.

    python3 echo_client.py [address]        (default "127.0.0.1:8088")

Lines are sent without their "\\r\\n" ending, followed by "\\n". Exits 0 at
the end of stdin, 1 with gonet's message when the server cannot be reached
or goes away.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gonet  # noqa: E402


def main():
    address = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8088"
    try:
        conn = gonet.dial("tcp", address)
    except gonet.GonetError as e:
        print("echo_client: %s" % e, file=sys.stderr)
        return 1
    with conn:
        inbox = conn.makefile("rb")
        stdin = sys.stdin.buffer
        try:
            while True:
                line = stdin.readline()
                if not line:
                    return 0
                conn.write(line.rstrip(b"\r\n") + b"\n")
                echoed = inbox.readline()
                if not echoed.endswith(b"\n"):
                    print("echo_client: the server closed the connection", file=sys.stderr)
                    return 1
                sys.stdout.write(echoed[:-1].decode("utf-8", "replace") + "\n")
                sys.stdout.flush()
        except gonet.GonetError as e:
            print("echo_client: %s" % e, file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
