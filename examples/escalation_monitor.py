#!/usr/bin/python3
"""Example escalation monitor: print donthu-deadline's escalations, one line
each, without missing any while it was down.

    /usr/bin/python3 examples/escalation_monitor.py --state ~/.donthu-monitor.pos
    /usr/bin/python3 examples/escalation_monitor.py --live --level chairman

Two ways to listen (docs/PROTOCOL.md §4 and §6):
  * the feed (default): pull the deadline feed from a remembered sequence
    number with long-polling FetchRequests. Nothing is ever missed: the
    position is saved to --state after each batch, and a restarted monitor
    continues from there (at-least-once: a crash between printing and saving
    prints the last batch again).
  * --live: subscribe to the escalation PUB socket by topic prefix
    (esc.<level>.<agency>). PUB drops what arrives while you are not
    connected; every message carries its feed sequence number, so a jump is
    detected and, with --feed, the missing range is fetched from the feed.

--all-events prints every event of the feed instead of only escalations,
which makes this a generic feed reader for any producer (intake, routing,
deadline). Exit status: 0, or 1 when --count escalations did not arrive
within --timeout seconds.
"""
import argparse
import json
import os
import signal
import sys
import time

import zmq
from google.protobuf import json_format

import donthu_proto

ENV, _TYPES, _INTAKE, EVENTS = donthu_proto.load()

LEVELS = ["warning", "overdue", "head", "chairman", "inspectorate"]


def level_name(n):
    name = EVENTS.EscalationLevel.Name(n) if n in EVENTS.EscalationLevel.values() else str(n)
    return name.replace("ESCALATION_LEVEL_", "").lower()


def reason_name(n):
    name = EVENTS.EscalationReason.Name(n) if n in EVENTS.EscalationReason.values() else str(n)
    return name.replace("ESCALATION_REASON_", "").lower()


class Printer:
    def __init__(self, args):
        self.args = args
        self.shown = 0

    def wanted(self, env):
        if env.WhichOneof("body") != "escalation":
            return self.args.all_events
        e = env.escalation
        if self.args.level and level_name(e.level) not in self.args.level:
            return False
        if self.args.agency and self.args.agency not in (e.agency, e.notify_agency):
            return False
        return True

    def show(self, env):
        if not self.wanted(env):
            return
        body = env.WhichOneof("body")
        if body == "escalation":
            self.shown += 1
        if self.args.json:
            d = json_format.MessageToDict(env, preserving_proto_field_name=True)
            print(json.dumps(d, ensure_ascii=False, sort_keys=True), flush=True)
        elif body == "escalation":
            e = env.escalation
            print("seq=%d %s %-8s %s case=%s stage=%s due=%s days_overdue=%d reason=%s notify=%s%s"
                  % (env.sequence, e.raised_date, level_name(e.level), e.agency, e.case_number,
                     e.stage, e.due_date, e.days_overdue, reason_name(e.reason), e.notify_agency,
                     (" detail=" + e.detail) if e.detail else ""), flush=True)
        else:
            print("seq=%d %s %s %s" % (env.sequence, env.producer, body, env.case_number),
                  flush=True)

    def done(self):
        return self.args.count and self.shown >= self.args.count


def feed_socket(ctx, args):
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    donthu_proto.set_curve(s, args.server_key, args.public_key, args.secret_key)
    s.connect(args.feed)
    return s


def load_position(args):
    if args.from_seq:
        return args.from_seq - 1
    if args.state and os.path.exists(args.state):
        with open(args.state) as f:
            return int(f.read().strip() or 0)
    return 0


def save_position(args, applied):
    if not args.state:
        return
    tmp = args.state + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % applied)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, args.state)


def fetch(ctx, args, sock, from_seq, max_events, wait_ms):
    """One FetchRequest; returns (socket, reply or None). On no answer the
    socket is replaced, so a late reply can never be mistaken for a new one."""
    env = ENV.Envelope(schema_version=1, producer="monitor")
    env.fetch.consumer = args.name
    env.fetch.from_seq = from_seq
    env.fetch.max_events = max_events
    env.fetch.wait_ms = wait_ms
    sock.send(env.SerializeToString())
    if not sock.poll(wait_ms + 3000):
        sock.close()
        return feed_socket(ctx, args), None
    rep = ENV.Envelope()
    rep.ParseFromString(sock.recv())
    if rep.WhichOneof("body") == "control_reply":
        e = rep.control_reply.error
        sys.exit("feed refused the fetch: %s %s %s" % (e.code, e.field, e.message))
    return sock, rep.fetch_reply


def run_feed(ctx, args, printer, deadline):
    sock = feed_socket(ctx, args)
    applied = load_position(args)
    while not printer.done() and time.monotonic() < deadline:
        wait = int(max(0, min(args.wait_ms, (deadline - time.monotonic()) * 1000)))
        sock, rep = fetch(ctx, args, sock, applied + 1, 1000, wait)
        if rep is None:
            continue
        if not rep.events and applied > rep.head_seq:
            print("warning: the feed's head is %d, behind our position %d (restored from an "
                  "older backup?)" % (rep.head_seq, applied), file=sys.stderr)
        for raw in rep.events:
            env = ENV.Envelope()
            env.ParseFromString(raw)
            if env.sequence <= applied:
                continue
            printer.show(env)
            applied = env.sequence
            if printer.done():
                break
        save_position(args, applied)
    sock.close()


def run_live(ctx, args, printer, deadline):
    sub = ctx.socket(zmq.SUB)
    sub.linger = 0
    donthu_proto.set_curve(sub, args.server_key, args.public_key, args.secret_key)
    # Subscriptions are topic prefixes: esc.<level>.<agency code>.
    for lvl in args.level or [""]:
        topic = "esc." + (lvl + "." if lvl else "")
        if lvl and args.agency:
            topic += args.agency
        sub.setsockopt_string(zmq.SUBSCRIBE, topic)
    sub.connect(args.live_endpoint)
    feed = feed_socket(ctx, args) if args.feed_fill else None
    last = None
    while not printer.done() and time.monotonic() < deadline:
        if not sub.poll(200):
            continue
        frames = sub.recv_multipart()
        if len(frames) != 2:
            continue
        env = ENV.Envelope()
        env.ParseFromString(frames[1])
        if last is not None and env.sequence > last + 1:
            print("gap: sequences %d..%d were not received live" % (last + 1, env.sequence - 1),
                  file=sys.stderr)
            # The PUB socket dropped them; the feed has them all.
            seq = last + 1
            while feed is not None and seq < env.sequence:
                feed, rep = fetch(ctx, args, feed, seq, min(1000, env.sequence - seq), 0)
                if rep is None or not rep.events:
                    break
                for raw in rep.events:
                    missed = ENV.Envelope()
                    missed.ParseFromString(raw)
                    if seq <= missed.sequence < env.sequence and not printer.done():
                        printer.show(missed)
                    seq = max(seq, missed.sequence + 1)
        if (last is None or env.sequence > last) and not printer.done():
            printer.show(env)
            last = env.sequence
    sub.close()
    if feed is not None:
        feed.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feed", default="tcp://127.0.0.1:7302", help="the deadline feed socket")
    ap.add_argument("--live", action="store_true", help="subscribe to the PUB socket instead")
    ap.add_argument("--live-endpoint", default="tcp://127.0.0.1:7303",
                    help="the escalation PUB socket")
    ap.add_argument("--feed-fill", action="store_true",
                    help="with --live: fetch gaps from --feed")
    ap.add_argument("--state", help="file remembering the last sequence seen (feed mode)")
    ap.add_argument("--from-seq", type=int, default=0, help="start here instead of --state")
    ap.add_argument("--level", action="append", choices=LEVELS, help="only these levels")
    ap.add_argument("--agency", help="only escalations for (or to) this agency code")
    ap.add_argument("--all-events", action="store_true", help="print every event of the feed")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    ap.add_argument("--count", type=int, default=0, help="exit after this many escalations")
    ap.add_argument("--timeout", type=float, default=0, help="exit after this many seconds")
    ap.add_argument("--wait-ms", type=int, default=10000, help="long-poll wait per fetch")
    ap.add_argument("--name", default="example-monitor", help="consumer name in the feed's metrics")
    ap.add_argument("--server-key", help="CURVE: the server's public key file (turns CURVE on)")
    ap.add_argument("--public-key", help="CURVE: our public key file (in the allowlist)")
    ap.add_argument("--secret-key", help="CURVE: our secret key file")
    args = ap.parse_args()

    # Piped into head or grep: exit quietly when the reader goes away.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    printer = Printer(args)
    deadline = time.monotonic() + (args.timeout if args.timeout > 0 else 10 ** 9)
    ctx = zmq.Context()
    try:
        if args.live:
            run_live(ctx, args, printer, deadline)
        else:
            run_feed(ctx, args, printer, deadline)
    except KeyboardInterrupt:
        pass
    ctx.term()
    if args.count and printer.shown < args.count:
        print("only %d of %d escalations within %gs" % (printer.shown, args.count, args.timeout),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
