#!/usr/bin/python3
"""Misbehaving LDAP servers for the LDAP source's time-out tests.

  ldap-netem.py hang PORT
      accepts connections on 127.0.0.1:PORT and never answers (a server
      whose TCP stack works and whose slapd is stuck)
  ldap-netem.py slow PORT TARGET DELAY PEAKFILE
      forwards 127.0.0.1:PORT to 127.0.0.1:TARGET, each chunk from the
      server held back DELAY seconds (a slow directory); writes the
      largest number of connections open at once to PEAKFILE
Prints "ready" once listening.
"""
import asyncio
import sys


async def hang(port):
    held = []

    async def client(reader, writer):
        held.append(writer)
        await reader.read()  # until the client gives up

    server = await asyncio.start_server(client, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


async def slow(port, target, delay, peakfile):
    state = {"open": 0, "peak": 0}

    async def pipe(reader, writer, hold):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if hold:
                    await asyncio.sleep(hold)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def client(creader, cwriter):
        state["open"] += 1
        if state["open"] > state["peak"]:
            state["peak"] = state["open"]
            with open(peakfile, "w") as f:
                f.write("%d\n" % state["peak"])
        try:
            sreader, swriter = await asyncio.open_connection("127.0.0.1", target)
            await asyncio.gather(pipe(creader, swriter, 0),
                                 pipe(sreader, cwriter, delay))
        finally:
            state["open"] -= 1

    server = await asyncio.start_server(client, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def main():
    if sys.argv[1] == "hang":
        asyncio.run(hang(int(sys.argv[2])))
    else:
        asyncio.run(slow(int(sys.argv[2]), int(sys.argv[3]),
                         float(sys.argv[4]), sys.argv[5]))


if __name__ == "__main__":
    main()
