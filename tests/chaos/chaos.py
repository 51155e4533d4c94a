#!/usr/bin/python3
"""Helpers for tests/chaos/run and tests/integration/backup_test.

    chaos.py gen FILE PUB N [START_INDEX]   N petitions as NDJSON (keys chaos/<PUB>-p<i>)
    chaos.py actions OUT PUB ANSWERS...     an `accept` action for every other case accepted
                                            (or duplicate) in the submit --json answers
    chaos.py sub EP OUT                     PUB subscriber: one line per message (sequence),
                                            "gap A B" for each jump it noticed; stops on SIGTERM
    chaos.py verify DIR ...                 fetch every feed and check (see run)

The pb2 modules come from examples/donthu_proto.py (protoc --python_out at run time).
Needs /usr/bin/python3 with python3-zmq and python3-protobuf.
"""
import collections
import glob
import json
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))

AGENCIES = ["DN-TTR", "DN-SNNMT", "DN-STC"]


def gen(path, pub, n, start=0):
    # Received between January and April 2026 so that, with the clock at
    # the chaos start, part of the clocks are already due and escalations
    # flow while services are killed.
    with open(path, "w") as f:
        for i in range(start, start + n):
            day = 1 + (i * 7919) % 28
            month = 1 + (i // 28) % 4
            ag = AGENCIES[i % len(AGENCIES)]
            o = {
                "key": {"source_system": "chaos", "source_id": "%s-p%d" % (pub, i)},
                "petition": {
                    "channel": "PORTAL", "kind": "COMPLAINT",
                    "complaint_subject": "ADMINISTRATIVE_DECISION", "round": "FIRST",
                    "signer_count": 1, "signed": True, "field": "dat-dai",
                    "received_at_ms": "2026-%02d-%02dT09:00:00+07:00" % (month, day),
                    "receiving_agency": ag,
                    "summary": "Khiếu nại quyết định thu hồi đất số %s-%d" % (pub, i),
                    "respondent": {"name": "UBND phường Hòa Cường", "issuing_agency": "UBND-20257",
                                   "decision_number": "%d/QĐ-UBND" % (i + 1),
                                   "decision_date": "2025-12-02"},
                    "petitioners": [{"full_name": "Người %s %d" % (pub, i), "id_kind": "CCCD",
                                     "id_number": "0480%08d" % (sum(map(ord, pub)) % 1000 * 100000 + i % 100000),
                                     "address": "%d Lê Duẩn, Hải Châu" % (i % 500 + 1)}],
                },
            }
            f.write(json.dumps(o, ensure_ascii=False) + "\n")


def read_answers(paths):
    """(file, line) -> answer, the last non-transient answer wins."""
    out = {}
    for p in paths:
        with open(p) as f:
            for ln in f:
                ln = ln.strip()
                if not ln.startswith("{"):
                    continue
                try:
                    a = json.loads(ln)
                except ValueError:
                    continue
                st = a.get("status", "")
                if st in ("SUBMIT_STATUS_ACCEPTED", "SUBMIT_STATUS_DUPLICATE", "SUBMIT_STATUS_REJECTED"):
                    out[(os.path.basename(a.get("file", "")), int(a.get("line", 0)))] = a
    return out


def actions(out, pub, answers):
    ans = read_answers(answers)
    cases = sorted({a["case_number"] for a in ans.values()
                    if a["status"] != "SUBMIT_STATUS_REJECTED" and a.get("case_number")})
    with open(out, "w") as f:
        for i, c in enumerate(cases):
            if i % 2:
                continue
            o = {"key": {"source_system": "chaos", "source_id": "%s-a-%s" % (pub, c)},
                 "action": {"case_number": c, "effective_at_ms": "2026-05-02T10:00:00+07:00",
                            "officer": "chaos.officer", "document_number": "%d/QĐ-TL" % (i + 1),
                            "accept": {"complexity": "NORMAL", "remote_area": False}}}
            f.write(json.dumps(o, ensure_ascii=False) + "\n")


def sub(ep, out):
    import zmq
    import donthu_proto
    envelope_pb2 = donthu_proto.load()[0]
    ctx = zmq.Context()
    s = ctx.socket(zmq.SUB)
    s.setsockopt(zmq.SUBSCRIBE, b"")
    s.setsockopt(zmq.RCVTIMEO, 200)
    s.connect(ep)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    last = 0
    with open(out, "w", buffering=1) as f:
        while not stop:
            try:
                parts = s.recv_multipart()
            except zmq.Again:
                continue
            except zmq.ZMQError:
                continue
            env = envelope_pb2.Envelope()
            env.ParseFromString(parts[-1])
            seq = env.sequence
            # A jump means messages were dropped while the PUB was away;
            # a monitor would fetch [last+1, seq-1] from the feed.
            if last and seq > last + 1:
                f.write("gap %d %d\n" % (last + 1, seq - 1))
            f.write("%d\n" % seq)
            if seq > last:
                last = seq
    s.close(0)
    ctx.term()


class Feeds:
    def __init__(self):
        import zmq
        import donthu_proto
        self.zmq = zmq
        self.pb = donthu_proto.load()
        self.ctx = zmq.Context()

    def call(self, ep, env, timeout_ms=10000, tries=5):
        zmq = self.zmq
        for _ in range(tries):
            s = self.ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 0)
            s.connect(ep)
            s.send(env.SerializeToString())
            if s.poll(timeout_ms):
                r = self.pb[0].Envelope()
                r.ParseFromString(s.recv())
                s.close()
                return r
            s.close()
        raise SystemExit("no answer from %s" % ep)

    def fetch_all(self, ep):
        E = self.pb[0].Envelope
        evs = []
        nxt = 1
        head = None
        while True:
            q = E(schema_version=1)
            q.fetch.consumer = "chaos.verify"
            q.fetch.from_seq = nxt
            q.fetch.max_events = 10000
            q.fetch.wait_ms = 0
            r = self.call(ep, q, 30000)
            if not r.HasField("fetch_reply"):
                raise SystemExit("fetch %s: %s" % (ep, r))
            head = r.fetch_reply.head_seq
            for raw in r.fetch_reply.events:
                e = E()
                e.ParseFromString(raw)
                evs.append(e)
            if not r.fetch_reply.events:
                break
            nxt = evs[-1].sequence + 1
            if nxt > head:
                break
        return evs, head

    def status(self, ep, timeout_ms=10000, tries=5):
        q = self.pb[0].Envelope(schema_version=1)
        q.status.SetInParent()
        return self.call(ep, q, timeout_ms, tries).status_reply


def verify(d, inputs, answers, watch_out, sub_out, eps):
    """eps: intake-feed routing-feed deadline-feed report"""
    F = Feeds()
    bad = []

    def check(ok, what):
        print("  %-4s %s" % ("ok" if ok else "FAIL", what))
        if not ok:
            bad.append(what)

    # What was submitted and what the publishers were told.
    line_key = {}
    for p in inputs:
        with open(p) as f:
            for i, ln in enumerate(f, 1):
                if ln.strip():
                    k = json.loads(ln)["key"]
                    line_key[(os.path.basename(p), i)] = (k["source_system"], k["source_id"])
    ans = read_answers(answers)
    stored = {line_key[fl] for fl, a in ans.items()
              if a["status"] in ("SUBMIT_STATUS_ACCEPTED", "SUBMIT_STATUS_DUPLICATE") and fl in line_key}
    rejected = sum(1 for a in ans.values() if a["status"] == "SUBMIT_STATUS_REJECTED")
    unanswered = len(line_key) - len(ans)

    feeds = {}
    for name, ep in zip(("intake", "routing", "deadline"), eps[:3]):
        evs, head = F.fetch_all(ep)
        feeds[name] = (evs, head)
        seqs = [e.sequence for e in evs]
        check(seqs == list(range(1, head + 1)),
              "%s feed gap-free 1..%d (%d events)" % (name, head, len(evs)))

    ievs = feeds["intake"][0]
    keycount = collections.Counter()
    petitions = set()
    for e in ievs:
        body = e.WhichOneof("body")
        b = getattr(e, body)
        if hasattr(b, "key") and b.HasField("key"):
            keycount[(b.key.source_system, b.key.source_id)] += 1
        if body == "petition_received":
            petitions.add(e.case_number)
    dups = sum(c - 1 for c in keycount.values() if c > 1)
    lost = len([k for k in stored if keycount[k] == 0])
    check(dups == 0, "no idempotency key twice in intake's feed (%d duplicates)" % dups)
    check(lost == 0, "every ACCEPTED/DUPLICATE answer (%d) is in intake's feed (%d lost)" % (len(stored), lost))
    check(unanswered == 0 and rejected == 0,
          "every submission answered (%d unanswered, %d rejected)" % (unanswered, rejected))
    submitted = set(line_key.values())
    stray = len([k for k in keycount if k not in submitted])
    check(stray == 0, "nothing in intake's feed that was not submitted (%d)" % stray)

    classified = collections.Counter(e.case_number for e in feeds["routing"][0]
                                     if e.WhichOneof("body") == "classified")
    check(set(classified) == petitions and all(v == 1 for v in classified.values()),
          "every petition classified once (%d petitions, %d classified, %d twice, %d missing)" %
          (len(petitions), sum(classified.values()), sum(1 for v in classified.values() if v > 1),
           len(petitions - set(classified))))
    devs = feeds["deadline"][0]
    dset = collections.Counter(e.deadline_set.clock_id for e in devs
                               if e.WhichOneof("body") == "deadline_set")
    check(all(v == 1 for v in dset.values()) and len(dset) > 0,
          "one DeadlineSet per clock_id (%d clocks, %d set twice)" %
          (len(dset), sum(1 for v in dset.values() if v > 1)))
    cases_with_clock = {c.split("/")[0] for c in dset}
    check(cases_with_clock <= petitions, "clocks only for known cases (%d cases with clocks)"
          % len(cases_with_clock))

    # Consumers caught up exactly at their producers' heads.
    heads = {"intake": feeds["intake"][1], "routing": feeds["routing"][1], "deadline": feeds["deadline"][1]}
    sts = {"intake": F.status(eps[0]), "routing": F.status(eps[1]),
           "deadline": F.status(eps[2]), "report": F.status(eps[3])}
    for svc, st in sts.items():
        for c in st.consumers:
            check(c.applied_seq == heads.get(c.producer, -1) and c.head_seq == c.applied_seq,
                  "%s applied %s %d/%d (producer head %d)" %
                  (svc, c.producer, c.applied_seq, c.head_seq, heads.get(c.producer, -1)))
    check(sts["report"].cases == len(petitions),
          "report counts every case once: report %d cases, intake's feed %d petitions accepted" %
          (sts["report"].cases, len(petitions)))
    if sts["intake"].cases != len(petitions):
        # Not a pipeline check: intake's own counter (see docs/RELIABILITY.md).
        print("  note intake's StatusReply.cases is %d (its store holds %d cases)"
              % (sts["intake"].cases, len(petitions)))

    esc = {e.sequence for e in devs if e.WhichOneof("body") == "escalation"}
    seen = []
    if watch_out:
        for p in watch_out:
            with open(p) as f:
                for ln in f:
                    ln = ln.rstrip()
                    if "#" in ln:
                        try:
                            seen.append(int(ln.rsplit("#", 1)[1]))
                        except ValueError:
                            pass
        wdup = len(seen) - len(set(seen))
        check(esc == set(seen), "monitor received every escalation (%d on the feed, %d seen, %d missing, "
              "%d extra)" % (len(esc), len(set(seen)), len(esc - set(seen)), len(set(seen) - esc)))
        check(wdup == 0, "monitor printed no escalation twice (%d)" % wdup)
    if sub_out:
        got, gaps = set(), []
        with open(sub_out) as f:
            for ln in f:
                w = ln.split()
                if not w:
                    continue
                if w[0] == "gap":
                    gaps.append((int(w[1]), int(w[2])))
                else:
                    got.add(int(w[0]))
        if got:
            lo, hi = min(got), max(got)
            missing = {s for s in esc if lo <= s <= hi} - got
            flagged = set()
            for a, b in gaps:
                flagged |= {s for s in esc if a <= s <= b}
            check(got <= esc, "PUB delivered only escalations (%d received)" % len(got))
            check(missing == flagged,
                  "PUB subscriber's gaps = its missing escalations (%d received, %d missing, %d in %d gaps)"
                  % (len(got), len(missing), len(flagged), len(gaps)))
        else:
            check(len(esc) == 0, "PUB subscriber received nothing (%d escalations on the feed)" % len(esc))
    summary = {"submissions": len(line_key), "stored": len(stored), "petitions": len(petitions),
               "actions": sum(1 for e in ievs if e.WhichOneof("body") == "case_action"),
               "escalations": len(esc), "losses": lost, "duplicates": dups, "failures": len(bad)}
    with open(os.path.join(d, "verify.json"), "w") as f:
        json.dump(summary, f)
    return 1 if bad else 0


def main(a):
    if a[0] == "gen":
        gen(a[1], a[2], int(a[3]), int(a[4]) if len(a) > 4 else 0)
    elif a[0] == "actions":
        actions(a[1], a[2], a[3:])
    elif a[0] == "sub":
        sub(a[1], a[2])
    elif a[0] == "caughtup":
        # caughtup EP_INTAKE_FEED EP_ROUTING EP_DEADLINE EP_REPORT: exit 0 when
        # every consumer's applied position is its producer's head.
        F = Feeds()
        try:
            sts = [F.status(ep, 3000, 1) for ep in a[1:5]]
        except SystemExit:
            return 1
        heads = {"intake": sts[0].feed_head, "routing": sts[1].feed_head, "deadline": sts[2].feed_head}
        lag = [(s.service, c.producer, c.applied_seq, heads[c.producer]) for s in sts for c in s.consumers
               if c.applied_seq != heads.get(c.producer)]
        print(" ".join("%s<-%s %d/%d" % x for x in lag) or "caught up")
        return 1 if lag else 0
    elif a[0] == "verify":
        # verify DIR EP_INTAKE_FEED EP_ROUTING EP_DEADLINE EP_REPORT
        d = a[1]
        eps = a[2:6]
        inputs = sorted(glob.glob(os.path.join(d, "in", "*.ndjson")))
        answers = sorted(glob.glob(os.path.join(d, "answers", "*")))
        watch = sorted(glob.glob(os.path.join(d, "watch.out*")))
        subf = os.path.join(d, "sub.out")
        return verify(d, inputs, answers, watch, subf if os.path.exists(subf) else None, eps)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
