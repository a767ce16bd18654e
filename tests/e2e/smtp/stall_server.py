"""An SMTP server that stalls mid-conversation, for the reminder tests.

lettre's own timeout does not cover a server that accepts the connection, goes along with the
conversation and then never answers, so councilflow bounds every send itself. To prove that, the
tests need exactly such a server. This one is real aiosmtpd (greeting, EHLO, MAIL, RCPT and DATA
are handled by the maintained implementation, not a socket stub); only the handler's
`handle_DATA` never returns, so the reply to the message content never comes.

Usage: python3 stall_server.py --host 127.0.0.1 --port PORT
Prints `ready PORT` on stdout once listening and runs until killed.
"""

import argparse
import asyncio
import sys

from aiosmtpd.smtp import SMTP


class StallingHandler:
    """Accepts everything up to the end of DATA, then waits forever before replying."""

    async def handle_DATA(self, server, session, envelope):
        # An event nobody sets: the coroutine stays pending for the life of the process, so the
        # client sees no reply after its final "." (and aiosmtpd keeps the connection open).
        await asyncio.Event().wait()
        return "250 never reached"


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    handler = StallingHandler()
    server = await loop.create_server(lambda: SMTP(handler), host=host, port=port)
    # Report the bound port (the caller may have asked for 0) only once the socket listens, so
    # the caller can connect as soon as it reads the line.
    bound = server.sockets[0].getsockname()[1]
    print(f"ready {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
