#!/usr/bin/python3
"""Example publisher: submit petitions to donthu-intake and wait for each
durable acknowledgement.

    /usr/bin/python3 examples/publisher.py --endpoint tcp://127.0.0.1:7101 --count 100

It shows the whole publisher contract of docs/PROTOCOL.md §3:
  * one DEALER socket, up to --inflight requests pipelined, replies matched
    by request_id;
  * every submission named by an idempotency key (source system + the
    source's own id), so a resend can never create a second case: run this
    twice with the same --run and the second run gets DUPLICATE for all;
  * on a timeout the socket is closed, a new one opened and everything not
    yet answered resent with the same keys; UNAVAILABLE (disk full, shutting
    down) is retried later, REJECTED is reported and never resent;
  * CURVE when --server-key is given (docker-compose turns it on).

Prints one line per answer with --verbose and always a summary line
"accepted=A duplicate=D rejected=R unavailable_retries=U". Exit status: 0 when
every petition is stored (accepted or duplicate), 1 when some were rejected,
3 when some got no answer after --attempts tries.
"""
import argparse
import datetime
import sys
import time
import zlib

import zmq

import donthu_proto

ENV, TYPES, INTAKE, _EVENTS = donthu_proto.load()

KINDS = {
    "feedback": TYPES.PETITION_KIND_FEEDBACK,
    "recommendation": TYPES.PETITION_KIND_RECOMMENDATION,
    "complaint": TYPES.PETITION_KIND_COMPLAINT,
    "denunciation": TYPES.PETITION_KIND_DENUNCIATION,
}
STATUS = {
    INTAKE.SUBMIT_STATUS_ACCEPTED: "accepted",
    INTAKE.SUBMIT_STATUS_DUPLICATE: "duplicate",
    INTAKE.SUBMIT_STATUS_REJECTED: "rejected",
    INTAKE.SUBMIT_STATUS_UNAVAILABLE: "unavailable",
}


def parse_time(text):
    """RFC 3339 ("2026-03-10T09:00:00+07:00") to epoch milliseconds."""
    t = datetime.datetime.fromisoformat(text)
    if t.tzinfo is None:
        sys.exit("--received-at needs a UTC offset, e.g. 2026-03-10T09:00:00+07:00")
    return int(t.timestamp() * 1000)


def petition_request(args, i, received_ms):
    """Submission number i: a feedback petition about a blocked pavement, by
    one petitioner. The name and identity number go to intake only; intake
    seals them and puts a pseudonym on its feed."""
    q = INTAKE.SubmitRequest()
    q.request_id = i + 1
    q.key.source_system = args.source_system
    q.key.source_id = "%s-%06d" % (args.run, i)
    p = q.petition
    p.channel = TYPES.CHANNEL_PORTAL
    p.received_at_ms = received_ms
    p.receiving_agency = args.agency
    p.kind = KINDS[args.kind]
    person = p.petitioners.add()
    person.full_name = "Trần Văn Bình"
    person.id_kind = TYPES.ID_KIND_CCCD
    # A different person per submission (and per --run): the same person
    # writing the same thing twice is a repeat petition, which routing files.
    person.id_number = "048095%06d" % ((zlib.crc32(args.run.encode()) + i) % 1000000)
    person.address = "45 Nguyễn Văn Linh, Phường Hải Châu, Thành phố Đà Nẵng"
    person.phone = "0905123456"
    p.signer_count = 1
    p.signed = True
    p.field = args.field
    p.location_unit = args.unit
    p.summary = ("Phản ánh công trình xây dựng lấn chiếm vỉa hè số %d đường Nguyễn Văn Linh (%s)"
                 % (i + 1, args.run))
    p.text = ("Kính gửi Thanh tra thành phố. Công trình xây dựng lấn chiếm vỉa hè từ tháng "
              "trước, vật liệu để dưới lòng đường; đề nghị kiểm tra và xử lý.")
    env = ENV.Envelope(schema_version=1, producer=args.source_system)
    env.submit.CopyFrom(q)
    return env.SerializeToString()


def new_socket(ctx, args):
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    donthu_proto.set_curve(s, args.server_key, args.public_key, args.secret_key)
    s.connect(args.endpoint)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", default="tcp://127.0.0.1:7101", help="intake's submit socket")
    ap.add_argument("--count", type=int, default=10, help="petitions to submit")
    ap.add_argument("--inflight", type=int, default=16, help="requests in flight at once")
    ap.add_argument("--source-system", default="example.publisher",
                    help="first half of every idempotency key")
    ap.add_argument("--run", default="run1",
                    help="prefix of the source ids; reuse it and every submission is a DUPLICATE")
    ap.add_argument("--agency", default="DN-TTR", help="receiving agency code (register)")
    ap.add_argument("--kind", choices=sorted(KINDS), default="feedback")
    ap.add_argument("--field", default="xay-dung", help="field (lĩnh vực) code from the register")
    ap.add_argument("--unit", default="20242", help="administrative-unit code of the location")
    ap.add_argument("--received-at", help="RFC 3339 time of receipt (default: a minute ago); "
                    "with a simulated clock give a time at or before intake's")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds before resending")
    ap.add_argument("--attempts", type=int, default=5, help="sends per petition before giving up")
    ap.add_argument("--server-key", help="CURVE: intake's public key file (turns CURVE on)")
    ap.add_argument("--public-key", help="CURVE: our public key file (in intake's allowlist)")
    ap.add_argument("--secret-key", help="CURVE: our secret key file")
    ap.add_argument("--verbose", "-v", action="store_true", help="one line per answer")
    args = ap.parse_args()

    received_ms = (parse_time(args.received_at) if args.received_at
                   else int(time.time() * 1000) - 60000)
    ctx = zmq.Context()
    sock = new_socket(ctx, args)
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)

    todo = list(range(args.count))       # not yet sent (or to be resent)
    todo.reverse()
    inflight = {}                        # request_id -> (index, sent at)
    attempts = {}
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0, "unavailable_retries": 0}
    given_up = 0
    while todo or inflight:
        while todo and len(inflight) < args.inflight:
            i = todo.pop()
            attempts[i] = attempts.get(i, 0) + 1
            sock.send(petition_request(args, i, received_ms))
            inflight[i + 1] = (i, time.monotonic())
        if not dict(poller.poll(100)):
            oldest = min((t for _, t in inflight.values()), default=time.monotonic())
            if time.monotonic() - oldest < args.timeout:
                continue
            # No answer in time: this socket may have lost requests or replies
            # (a restart of intake, a dropped connection). Start over on a new
            # socket and resend everything unanswered with the same keys; what
            # was stored comes back DUPLICATE.
            poller.unregister(sock)
            sock.close()
            sock = new_socket(ctx, args)
            poller.register(sock, zmq.POLLIN)
            for i, _ in inflight.values():
                if attempts[i] < args.attempts:
                    todo.append(i)
                else:
                    given_up += 1
                    print("no answer for %s-%06d after %d attempts" % (args.run, i, attempts[i]),
                          file=sys.stderr)
            inflight.clear()
            continue
        while True:
            try:
                raw = sock.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
            env = ENV.Envelope()
            env.ParseFromString(raw)
            if env.WhichOneof("body") == "control_reply":
                e = env.control_reply.error
                sys.exit("intake refused the request: %s %s %s" % (e.code, e.field, e.message))
            r = env.submit_reply
            entry = inflight.pop(r.request_id, None)
            if entry is None:
                continue  # an answer to a request already resent; its twin will answer too
            i = entry[0]
            status = STATUS.get(r.status, "unknown")
            if status == "unavailable":
                counts["unavailable_retries"] += 1
                time.sleep(0.5)
                todo.append(i)
                continue
            if status in counts:
                counts[status] += 1
            if status == "rejected":
                print("%s-%06d rejected: %s %s: %s" % (args.run, i, r.error.code, r.error.field,
                                                       r.error.message), file=sys.stderr)
            elif args.verbose:
                print("%s-%06d %s %s feed_seq=%d" % (args.run, i, status, r.case_number,
                                                     r.feed_seq))
    sock.close()
    ctx.term()
    print(" ".join("%s=%d" % kv for kv in counts.items()) + " no_answer=%d" % given_up)
    if given_up:
        return 3
    return 1 if counts["rejected"] else 0


if __name__ == "__main__":
    sys.exit(main())
