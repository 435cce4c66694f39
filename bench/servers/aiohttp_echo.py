"""aiohttp's BaseProtocol echo server for protogen's side-by-side benchmark.

Run with Debian's python3 (python3-aiohttp, python3-uvloop):

    /usr/bin/python3 aiohttp_echo.py --loop asyncio|uvloop [--addr 127.0.0.1:0] [--block-on-s 2ms]

It prints "listening ADDR" once ready and serves until killed. The
back-pressure policy is the common one: stop reading while writing is
paused. With --block-on-s it blocks its callback for that long on a read
that starts with "S", as a callback that makes a synchronous call does.
"""
import argparse
import asyncio
import time

from aiohttp.base_protocol import BaseProtocol


BLOCK = 0.0  # seconds: --block-on-s


class Echo(BaseProtocol):
    def data_received(self, data):
        if BLOCK and data[:1] == b"S":
            time.sleep(BLOCK)
        self.transport.write(data)

    def pause_writing(self):
        super().pause_writing()
        self.pause_reading()

    def resume_writing(self):
        super().resume_writing()
        self.resume_reading()


async def serve(host, port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Echo(loop), host, port, backlog=4096)
    addr = server.sockets[0].getsockname()
    print("listening %s:%d" % (addr[0], addr[1]), flush=True)
    await server.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    ap.add_argument("--addr", default="127.0.0.1:0")
    ap.add_argument("--block-on-s", default="0ms", help="Go duration in ms, such as 2ms")
    args = ap.parse_args()
    global BLOCK
    BLOCK = float(args.block_on_s.removesuffix("ms")) / 1000
    host, port = args.addr.rsplit(":", 1)
    if args.loop == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(serve(host, int(port)))


if __name__ == "__main__":
    main()
