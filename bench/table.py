#!/usr/bin/env python3
"""Reads bench/run's logs (build/bench-logs/<bench>.log and .cmd) and prints
one table: figure, median, min, max, unit, aim, reproduce. Writes the same
table as Markdown to the output file. Figures only; never judges a machine."""
import os
import re
import sys

logs, out_md, ncpu, secs, args = sys.argv[1:6]
NUM = r'([0-9][0-9.]*)'
MMM = NUM + r' \(min ' + NUM + r', max ' + NUM + r'\)'
rows = []


def read(name):
    try:
        with open(f'{logs}/{name}.log') as f:
            text = f.read()
        with open(f'{logs}/{name}.cmd') as f:
            cmd = f.read().strip()
        return text, cmd
    except OSError:
        return None, None


def add(fig, m, unit, aim, cmd, groups=(1, 2, 3)):
    if m:
        rows.append([fig] + [m.group(g) for g in groups] + [unit, aim, cmd])
    else:
        rows.append([fig, 'n/a', '', '', unit, aim, cmd])


t, c = read('feed')
if t is not None:
    add('feed: events/s producer→consumer, fsync both ends',
        re.search(r'feed: median ' + NUM + r' events/s \(min ' + NUM + r', max ' + NUM, t),
        'events/s', '≥ 200,000', c)
t, c = read('intake')
if t is not None:
    for k, aim in (('1', '—'), ('16', '—'), ('256', '≥ 100,000; ≥ fastest peer')):
        add(f'intake: acknowledged durable submissions/s, {k} in flight',
            re.search(r'intake acknowledged/s, ' + k + r' in flight: ' + MMM, t), 'msgs/s', aim, c)
    m = re.search(r'intake ack latency at ([0-9,]+)/s: p50 ' + MMM + r' ms, p99 ' + MMM, t)
    rate = m.group(1) if m else '10,000'
    add(f'intake: ack latency p50 at {rate}/s', m, 'ms', '—', c, (2, 3, 4))
    add(f'intake: ack latency p99 at {rate}/s', m, 'ms', '< 10', c, (5, 6, 7))
t, c = read('routing')
if t is not None:
    add('routing: decisions/s, durable commits of 2,000',
        re.search(r'routing decisions/s[^:]*: ' + MMM, t), 'decisions/s', '≥ 50,000', c)
    for m in re.finditer(r'duplicate lookup with ([0-9]+) cases indexed: ' + MMM + r' us', t):
        rows.append([f'routing: duplicate lookup, {int(m.group(1)):,} cases indexed',
                     m.group(2), m.group(3), m.group(4), 'µs', 'sub-linear growth', c])
t, c = read('deadline')
if t is not None:
    m = re.search(r'RSS after start with ([0-9]+) open clocks: ' + MMM, t)
    n = f'{int(m.group(1)):,}' if m else '?'
    add(f'deadline: RSS with {n} open clocks', m, 'MB', '< 64 (at 1,000,000)', c, (2, 3, 4))
    add(f'deadline: recompute every open clock after a calendar change ({n})',
        re.search(r'calendar reload[^:]*: ' + MMM + ' s', t), 's', '< 10 (at 1,000,000)', c)
    add(f'deadline: RSS after the recompute ({n})',
        re.search(r'RSS after the recompute: ' + MMM, t), 'MB', '< 64', c)
    m = re.search(r'light load[^:]*: p50 ' + MMM + r' ms, p99 ' + MMM, t)
    add('deadline: due instant → subscriber p50, light load', m, 'ms', '—', c)
    add('deadline: due instant → subscriber p99, light load', m, 'ms', '< 5', c, (4, 5, 6))
    m = re.search(r'with [0-9]+ open clocks \(30 days[^:]*: p50 ' + MMM + r' ms, p99 ' + MMM, t)
    add(f'deadline: due instant → subscriber p50, {n} open clocks', m, 'ms', '—', c)
    add(f'deadline: due instant → subscriber p99, {n} open clocks', m, 'ms', '< 5', c, (4, 5, 6))
t, c = read('report')
if t is not None:
    m = re.search(r'generated cases=([0-9]+)', t)
    n = f'{int(m.group(1)):,}' if m else '?'
    for key, fig, unit, aim in (
            ('rebuild_events_per_s', 'report: rebuild rate replaying the three feeds', 'events/s', '≥ 200,000'),
            ('live_events_per_s', 'report: live apply rate', 'events/s', '—'),
            ('report_ms form=01/XLD', f'report: province annual 01/XLD latency, {n} cases', 'ms', '< 50 (at 1,000,000)'),
            ('report_ms form=all', f'report: province annual report latency, all 9 forms, {n} cases', 'ms', '< 50 (at 1,000,000)'),
            ('xlsx_ms form=01/XLD rows=province', 'report: write province 01/XLD as XLSX', 'ms', '—')):
        add(fig, re.search(re.escape(key) + r' median=' + NUM + ' min=' + NUM + ' max=' + NUM, t), unit, aim, c)
t, c = read('pipeline')
if t is not None:
    add('pipeline: petitions/s, publish → counted by the report service, 256 in flight',
        re.search(r'pipeline petitions/s[^:]*: ' + MMM, t), 'petitions/s', '—', c)
    add('pipeline: intake acknowledged/s in the same runs',
        re.search(r'pipeline intake acknowledged/s[^:]*: ' + MMM, t), 'msgs/s', '—', c)
    m = re.search(r'pipeline publish -> clocks set, 256 in flight[^:]*: p50 ' + MMM + r' ms, p99 ' + MMM, t)
    add('pipeline: publish → clocks set p50, 256 in flight (queueing included)', m, 'ms', '—', c)
    add('pipeline: publish → clocks set p99, 256 in flight (queueing included)', m, 'ms', '—', c, (4, 5, 6))
    m = re.search(r'pipeline publish -> clocks set at a fixed ([0-9,]+)/s[^:]*: p50 ' + MMM + r' ms, p99 ' + MMM, t)
    rate = f'{int(m.group(1).replace(",", "")):,}' if m else '1,000'
    add(f'pipeline: publish → clocks set p50 at {rate}/s', m, 'ms', '—', c, (2, 3, 4))
    add(f'pipeline: publish → clocks set p99 at {rate}/s', m, 'ms', '—', c, (5, 6, 7))
    for key, name in (('SUB subscriber', 'SUB subscriber'), ('feed reader', 'long-polling feed reader')):
        m = re.search(r'pipeline due instant -> ' + key + r' \(([0-9]+) escalations[^:]*: p50 ' + MMM +
                      r' ms, p99 ' + MMM, t)
        n = f', {int(m.group(1)):,} escalations' if m else ''
        add(f'pipeline: due instant → {name} p50{n}', m, 'ms', '—', c, (2, 3, 4))
        add(f'pipeline: due instant → {name} p99{n}', m, 'ms', '< 5', c, (5, 6, 7))
t, c = read('peers')
if t is not None:
    for m in re.finditer(r'^peer: (.*): ([0-9]+) msgs/s$', t, re.M):
        rows.append([f'peer: {m.group(1)}', m.group(2), '', '', 'msgs/s', '—', c])
    for m in re.finditer(r'^peer (\w+): not available \((.*)\)$', t, re.M):
        rows.append([f'peer: {m.group(1)}', 'not available', '', '', '', m.group(2), c])
    for m in re.finditer(r'^ratio: donthu intake / (.*) best \(([0-9]+) msgs/s\) = ([0-9.]+)x$', t, re.M):
        aim = {'RabbitMQ': '≥ 8', 'PostgreSQL': '≥ 2.5', 'Redis Streams': '≥ 1'}.get(m.group(1), '≥ 0.5')
        rows.append([f'ratio: intake (256 in flight) / {m.group(1)} best ({int(m.group(2)):,}/s)',
                     m.group(3), '', '', '×', aim, c])


def fmt(v):
    try:
        f = float(v)
    except ValueError:
        return v
    return f'{f:,.0f}' if f >= 1000 else (f'{f:.3g}' if '.' in v else v)


head = ['figure', 'value (median)', 'min', 'max', 'unit', 'aim', 'reproduce']
cells = [[r[0], fmt(r[1]), fmt(r[2]), fmt(r[3]), r[4], r[5], r[6]] for r in rows]
w = [max(len(x[i]) for x in [head] + cells) for i in range(7)]
for r in [head] + cells:
    print('  '.join(r[i].ljust(w[i]) for i in range(6)) + '  ' + r[6])
with open('/proc/loadavg') as f:
    load = ' '.join(f.read().split()[:3])
note = (f'Machine: {ncpu} CPUs, load generator on the same cores; `bench/run {args}`'
        f' took {secs} s; load average at the start {os.environ.get("BENCH_LOAD_START", "?")},'
        f' at the end {load} (other work on the machine skews every figure).'
        f' Raw output in {logs}/.')
print('\n' + note)
with open(out_md, 'w') as f:
    f.write('| ' + ' | '.join(head) + ' |\n|' + '---|' * 7 + '\n')
    for r in cells:
        f.write('| ' + ' | '.join(r[:6]) + f' | `{r[6]}` |\n')
    f.write('\n' + note + '\n')
print(f'written to {out_md}')
