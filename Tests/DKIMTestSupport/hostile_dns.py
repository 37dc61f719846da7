#!/usr/bin/python3
"""A misbehaving DNS server for dkimctl's evidence tests.

It answers for one zone (--zone) on UDP and TCP at every --listen address on
--port. What it does with a TXT question depends on the first label of the
name (the DKIM selector); the key record it forges or serves is read on every
query from --key-file (so a test can write it after `dkimctl new`):

  honest-*         the right answer (the control: must pass)
  caseflip-*       the right answer with the question's letters case-swapped (must pass)
  wrongid-*        a reply carrying the key with another message ID, nothing else
  wrongidthen-*    that forgery first, then the real answer: NXDOMAIN
  wrongname-*      a reply with the right ID whose question is another name
  wrongtype-*      a reply with the right ID whose question asks for A
  notqr-*          the right reply with the QR bit clear (a query, not a response)
  otheraddr-*      the right reply, sent from --spoof-from instead of the server
  tcpwrongid-*     UDP says truncated; over TCP a reply with another ID
  slow-*           no reply at all
  loop-*           CNAME loop inside one answer: a -> b -> a
  loop3-*          CNAME loop that does not return to the name: a -> b -> c -> b
  selfloop-*       CNAME to itself: a -> a

As a recursive resolver (any RD query) it also serves discovery data:
  manyhosts.test     300 NS hosts
  manyaddresses.test one NS host with 300 A records (the answer needs TCP)
  slowzone.test      --slow-count NS hosts at the --slow addresses, which never answer
  rendezvous.test    the same NS hosts, which answer (with the key, for any TXT) only
                     once every one of them has been asked the same round of questions:
                     servers asked one after another get no answer at all

Every question received is logged to stderr as "query ADDRESS NAME TYPE".

With --port 0 it binds a port the kernel chooses on the first --listen
address, then that port everywhere else (choosing again if one is taken).
Prints "ready PORT" on stdout once every socket is bound.
"""

import argparse
import json
import socket
import sys
import threading

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset


LOG_LOCK = threading.Lock()


def log(line):
    """One whole line on stderr: the threads' lines never interleave."""
    with LOG_LOCK:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def txt_rdata(value):
    data = value.encode()
    chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks)


class Hostile:
    def __init__(self, args):
        self.args = args
        self.zone = dns.name.from_text(args.zone)
        self.slow = set(args.slow)
        # One round of questions per crossing: every slow address must arrive.
        self.rendezvous = threading.Barrier(max(1, len(args.slow)), timeout=3)

    def key(self):
        try:
            with open(self.args.key_file) as handle:
                return json.load(handle)["value"]
        except (OSError, ValueError, KeyError):
            return "v=DKIM1; k=rsa; p="

    # -- building replies -------------------------------------------------

    def soa(self, name):
        return dns.rrset.from_text(self.zone, 3600, "IN", "SOA",
                                   f"ns1.{self.zone} hostmaster.{self.zone} 1 3600 600 86400 300")

    def reply(self, query, rcode=dns.rcode.NOERROR):
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        response.set_rcode(rcode)
        return response

    def with_key(self, response, name):
        rrset = dns.rrset.RRset(name, dns.rdataclass.IN, dns.rdatatype.TXT)
        rrset.update_ttl(300)
        rrset.add(txt_rdata(self.key()))
        response.answer.append(rrset)
        return response

    def cname(self, response, owner, target):
        response.answer.append(dns.rrset.from_text(owner, 300, "IN", "CNAME", target.to_text()))

    # -- answering --------------------------------------------------------

    def answer(self, query, local_address, over_tcp):
        """A list of (wire bytes, send from spoof address?) to send back."""
        question = query.question[0]
        name, rdtype = question.name, question.rdtype
        log(f"query {local_address} {name.to_text().lower()} {dns.rdatatype.to_text(rdtype)}")
        if local_address in self.slow:
            return self.meet(query, name, rdtype) if name.is_subdomain(dns.name.from_text("rendezvous.test")) else []
        if query.flags & dns.flags.RD and not name.is_subdomain(self.zone):
            return [(self.resolve(query).to_wire(max_size=65535), False)]
        if rdtype == dns.rdatatype.SOA and name == self.zone:
            response = self.reply(query)
            response.answer.append(self.soa(name))
            return [(response.to_wire(max_size=65535), False)]
        if rdtype != dns.rdatatype.TXT:
            response = self.reply(query)
            response.authority.append(self.soa(name))
            return [(response.to_wire(max_size=65535), False)]
        label = name.labels[0].decode().lower()
        scenario = label.split("-")[0]
        if scenario == "honest":
            return [(self.with_key(self.reply(query), name).to_wire(max_size=65535), False)]
        if scenario == "caseflip":
            flipped = dns.name.from_text(name.to_text().swapcase())
            forged_query = dns.message.make_query(flipped, dns.rdatatype.TXT)
            forged_query.id = query.id
            response = self.with_key(self.reply(forged_query), flipped)
            return [(response.to_wire(max_size=65535), False)]
        if scenario in ("wrongid", "wrongidthen"):
            forged = self.with_key(self.reply(query), name)
            forged.id = (query.id + 1) % 65536
            replies = [(forged.to_wire(max_size=65535), False)]
            if scenario == "wrongidthen":
                real = self.reply(query, dns.rcode.NXDOMAIN)
                real.authority.append(self.soa(name))
                replies.append((real.to_wire(max_size=65535), False))
            return replies
        if scenario in ("wrongname", "wrongtype"):
            other = dns.name.from_text("other", self.zone) if scenario == "wrongname" else name
            forged_query = dns.message.make_query(other, dns.rdatatype.TXT if scenario == "wrongname" else dns.rdatatype.A)
            forged_query.id = query.id
            forged = self.with_key(self.reply(forged_query), name)
            return [(forged.to_wire(max_size=65535), False)]
        if scenario == "notqr":
            forged = self.with_key(self.reply(query), name)
            forged.flags &= ~dns.flags.QR
            return [(forged.to_wire(max_size=65535), False)]
        if scenario == "otheraddr":
            return [(self.with_key(self.reply(query), name).to_wire(max_size=65535), True)]
        if scenario == "tcpwrongid":
            if not over_tcp:
                response = self.reply(query)
                response.flags |= dns.flags.TC
                return [(response.to_wire(max_size=65535), False)]
            forged = self.with_key(self.reply(query), name)
            forged.id = (query.id + 1) % 65536
            return [(forged.to_wire(max_size=65535), False)]
        if scenario == "slow":
            return []
        if scenario in ("loop", "loop3", "selfloop"):
            response = self.reply(query)
            a = name
            b = dns.name.from_text(label + "-b", name.parent())
            c = dns.name.from_text(label + "-c", name.parent())
            if scenario == "selfloop":
                self.cname(response, a, a)
            elif scenario == "loop":
                self.cname(response, a, b)
                self.cname(response, b, a)
            else:
                self.cname(response, a, b)
                self.cname(response, b, c)
                self.cname(response, c, b)
            return [(response.to_wire(max_size=65535), False)]
        response = self.reply(query, dns.rcode.NXDOMAIN)
        response.authority.append(self.soa(name))
        return [(response.to_wire(max_size=65535), False)]

    def resolve(self, query):
        """Discovery answers, as a recursive resolver would give them."""
        question = query.question[0]
        name, rdtype = question.name, question.rdtype
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        zone = name.split(3)[1] if len(name) >= 3 else name
        text = name.to_text().lower()
        if rdtype == dns.rdatatype.SOA:
            response.authority.append(dns.rrset.from_text(
                zone, 300, "IN", "SOA", f"ns1.{zone} hostmaster.{zone} 1 3600 600 86400 300"))
            if name == zone:
                response.answer = response.authority
                response.authority = []
            return response
        if rdtype == dns.rdatatype.NS and text == "manyhosts.test.":
            response.answer.append(dns.rrset.from_text_list(
                name, 300, "IN", "NS", [f"ns{i}.manyhosts.test." for i in range(300)]))
        elif rdtype == dns.rdatatype.NS and text == "manyaddresses.test.":
            response.answer.append(dns.rrset.from_text(name, 300, "IN", "NS", "ns1.manyaddresses.test."))
        elif rdtype == dns.rdatatype.A and text == "ns1.manyaddresses.test.":
            response.answer.append(dns.rrset.from_text_list(
                name, 300, "IN", "A", [f"10.0.{i // 250}.{i % 250 + 1}" for i in range(300)]))
        elif rdtype == dns.rdatatype.NS and text in ("slowzone.test.", "rendezvous.test."):
            response.answer.append(dns.rrset.from_text_list(
                name, 300, "IN", "NS", [f"ns{i}.{text}" for i in range(len(self.args.slow))]))
        elif rdtype == dns.rdatatype.A and text.startswith("ns") and (text.endswith(".slowzone.test.") or text.endswith(".rendezvous.test.")):
            index = int(text[2:text.index(".")])
            response.answer.append(dns.rrset.from_text(name, 300, "IN", "A", self.args.slow[index]))
        elif rdtype == dns.rdatatype.A and text.endswith(".manyhosts.test."):
            response.answer.append(dns.rrset.from_text(name, 300, "IN", "A", "10.1.0.1"))
        return response

    def meet(self, query, name, rdtype):
        """Waits until every slow address was asked this round, then answers; else nothing."""
        try:
            self.rendezvous.wait()
        except threading.BrokenBarrierError:
            self.rendezvous.reset()
            return []
        response = self.reply(query)
        zone = dns.name.from_text("rendezvous.test")
        if rdtype == dns.rdatatype.SOA and name == zone:
            response.answer.append(dns.rrset.from_text(zone, 3600, "IN", "SOA", "ns0.rendezvous.test. hostmaster.rendezvous.test. 1 3600 600 86400 300"))
        elif rdtype == dns.rdatatype.TXT:
            self.with_key(response, name)
        return [(response.to_wire(max_size=65535), False)]

    # -- sockets ----------------------------------------------------------

    def serve_udp(self, sock, local_address, spoof):
        while True:
            data, peer = sock.recvfrom(65535)
            try:
                query = dns.message.from_wire(data)
                replies = self.answer(query, local_address, False)
            except Exception as error:  # a test server: report and keep serving
                print(f"hostile_dns: {error}", file=sys.stderr, flush=True)
                continue
            for wire, from_spoof in replies:
                # A real server would truncate; the tests only need the bytes.
                if len(wire) > 1232 and not from_spoof:
                    response = dns.message.from_wire(wire)
                    response.answer = []
                    response.flags |= dns.flags.TC
                    wire = response.to_wire(max_size=65535)
                (spoof if from_spoof else sock).sendto(wire, peer)

    def serve_tcp(self, listener, local_address):
        while True:
            connection, _ = listener.accept()
            threading.Thread(target=self.tcp_connection, args=(connection, local_address), daemon=True).start()

    def tcp_connection(self, connection, local_address):
        with connection:
            try:
                header = self.read_exactly(connection, 2)
                query = dns.message.from_wire(self.read_exactly(connection, int.from_bytes(header, "big")))
                for wire, _ in self.answer(query, local_address, True):
                    connection.sendall(len(wire).to_bytes(2, "big") + wire)
                connection.recv(1)  # wait for the client to close
            except (OSError, EOFError, dns.exception.DNSException):
                return

    @staticmethod
    def read_exactly(connection, count):
        data = b""
        while len(data) < count:
            chunk = connection.recv(count - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data


def bind_all(args):
    """Binds every socket on one port: --port, or with 0 one the kernel chooses."""
    for _ in range(20):
        opened = []
        try:
            first = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            opened.append(first)
            first.bind((args.listen[0], args.port))
            port = first.getsockname()[1]
            sockets = []
            for address in args.listen + args.slow:
                udp = first if address == args.listen[0] and not sockets else socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                if udp is not first:
                    opened.append(udp)
                    udp.bind((address, port))
                tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                opened.append(tcp)
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind((address, port))
                tcp.listen(16)
                sockets.append((address, udp, tcp))
            spoof = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            opened.append(spoof)
            spoof.bind((args.spoof_from, port))
            return spoof, sockets
        except OSError:
            for sock in opened:
                sock.close()
            if args.port != 0:
                raise
    raise SystemExit("hostile_dns: no port could be bound on every address")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--zone", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--listen", action="append", required=True)
    parser.add_argument("--slow", action="append", default=[])
    parser.add_argument("--spoof-from", required=True)
    parser.add_argument("--key-file", required=True)
    args = parser.parse_args()
    hostile = Hostile(args)
    spoof, sockets = bind_all(args)
    threads = []
    for address, udp, tcp in sockets:
        threads.append(threading.Thread(target=hostile.serve_udp, args=(udp, address, spoof), daemon=True))
        threads.append(threading.Thread(target=hostile.serve_tcp, args=(tcp, address), daemon=True))
    for thread in threads:
        thread.start()
    print(f"ready {spoof.getsockname()[1]}", flush=True)
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
