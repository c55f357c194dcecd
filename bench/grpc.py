#!/usr/bin/env python3
"""Helpers of bench/run.sh, standard library only.

  grpc.py body get ID               GetImageRequest, as a gRPC frame, to stdout
  grpc.py body list PAGE_SIZE       ListImagesRequest (no category, no filter)
  grpc.py body share ID USER...     ShareImageRequest naming USER...
  grpc.py inspect FILE              decodes a gRPC response body (as curl saved it):
                                    frame length and top-level fields (repeated ones counted)
  grpc.py h2load OUT LOG            parses h2load's output and per-request log into JSON
  grpc.py measure [--pids P,P] [--pg] [--warmup S] --out FILE -- COMMAND...
                                    runs COMMAND (stdout to FILE) and prints, as JSON, the CPU
                                    time that the given processes, PostgreSQL, COMMAND itself
                                    and everything else on the machine used while it measured
  grpc.py quiet [--threshold 0.15] [--max-wait 300]
                                    waits until the machine is idle (other sessions' builds
                                    make figures meaningless); prints the busy fraction
  grpc.py record h2load OUT LOG CPU EXTRA CONC
                                    one JSON result line from an h2load run: its figures, the
                                    CPU that `measure` printed, and the EXTRA JSON fields
  grpc.py record clone LINE CPU EXTRA CONC
                                    the same from clone_load's output line
  grpc.py amend RESULTS.jsonl KEY INT   adds KEY to the last result line
  grpc.py show RESULTS.jsonl        the last result line, for a person
  grpc.py report RESULTS.jsonl      the results as Markdown tables

The protobuf messages are encoded by hand (tags and varints): the benchmark needs three
requests of two or three fields each, which is not worth a code generator.
"""

import json
import os
import re
import struct
import subprocess
import sys
import time


# --- protobuf encoding ------------------------------------------------------------------------

def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_varint(number, value):
    return varint(number << 3 | 0) + varint(value)


def grpc_frame(message):
    """The 5-byte gRPC frame header (uncompressed, big-endian length) and the message."""
    return struct.pack(">BI", 0, len(message)) + message


def body(kind, args):
    if kind == "get":  # GetImageRequest { string id = 1; }
        (image_id,) = args
        return field_bytes(1, image_id.encode())
    if kind == "list":  # ListImagesRequest { int32 page_size = 2; }
        (page_size,) = args
        return field_varint(2, int(page_size))
    if kind == "share":  # ShareImageRequest { string id = 1; repeated string users = 2; }
        image_id, *users = args
        return field_bytes(1, image_id.encode()) + b"".join(
            field_bytes(2, u.encode()) for u in users
        )
    raise SystemExit(f"unknown body kind {kind}")


# --- protobuf decoding (top level only) -------------------------------------------------------

def read_varint(data, pos):
    shift = value = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def top_level_fields(message):
    """{field number: [values]}; length-delimited values as their lengths."""
    fields = {}
    pos = 0
    while pos < len(message):
        key, pos = read_varint(message, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(message, pos)
        elif wire == 2:
            length, pos = read_varint(message, pos)
            value = f"<{length} bytes>"
            pos += length
        elif wire == 1:
            value, pos = struct.unpack_from("<Q", message, pos)[0], pos + 8
        elif wire == 5:
            value, pos = struct.unpack_from("<I", message, pos)[0], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


def inspect(path):
    data = open(path, "rb").read()
    if len(data) < 5:
        return {"frame_bytes": len(data), "fields": {}}
    flag, length = struct.unpack_from(">BI", data, 0)
    message = data[5 : 5 + length]
    fields = top_level_fields(message) if flag == 0 else {}
    summary = {
        str(n): (len(v) if len(v) > 1 else v[0]) for n, v in sorted(fields.items())
    }
    return {"frame_bytes": len(data), "compressed": bool(flag), "fields": summary}


# --- h2load --------------------------------------------------------------------------------------

UNITS = {"us": 1.0, "ms": 1000.0, "s": 1_000_000.0}


def micros(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def parse_h2load(out_path, log_path):
    text = open(out_path).read()
    result = {}
    m = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", text)
    if m:
        result["seconds"] = float(m.group(1))
        result["rps"] = float(m.group(2))
    m = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
        r"(\d+) errored, (\d+) timeout",
        text,
    )
    if m:
        keys = ["total", "started", "done", "succeeded", "failed", "errored", "timeout"]
        result.update({k: int(v) for k, v in zip(keys, m.groups())})
    m = re.search(r"traffic: .*?([\d.]+\w*B) \((\d+)\) data", text)
    if m:
        result["data_bytes"] = int(m.group(2))
    m = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", text)
    if m:
        for key, value in zip(["min_us", "max_us", "mean_us", "sd_us"], m.groups()):
            result[key] = micros(value)
    # The per-request log: start (µs since the epoch), HTTP status, duration (µs); h2load logs
    # the measured period only, not the warm-up.
    durations = []
    try:
        with open(log_path) as log:
            for line in log:
                parts = line.split("\t")
                if len(parts) >= 3:
                    durations.append(int(parts[2]))
        durations.sort()
    except FileNotFoundError:
        pass
    if durations:
        def pct(p):
            rank = max(1, min(len(durations), int(-(-p * len(durations) // 100))))
            return float(durations[rank - 1])
        result.update({"p50_us": pct(50), "p90_us": pct(90), "p99_us": pct(99)})
        result["logged"] = len(durations)
    return result


# --- CPU accounting -----------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def machine_ticks():
    """(busy, total, interrupts) clock ticks of all cores since boot; `interrupts` is the time
    in hard and soft interrupts (loopback TCP is mostly softirq), which no process is charged."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields), fields[5] + fields[6]


def process_ticks(pid):
    try:
        text = open(f"/proc/{pid}/stat").read()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def postgres_pids():
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if open(f"/proc/{entry}/comm").read().strip() == "postgres":
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def snapshot(pids, pg, child):
    busy, _, interrupts = machine_ticks()
    return {
        "time": time.monotonic(),
        "busy": busy,
        "irq": interrupts,
        "service": sum(process_ticks(p) for p in pids),
        "db": {p: process_ticks(p) for p in postgres_pids()} if pg else {},
        "load": process_ticks(child) if child else 0,
    }


def measure(args):
    pids, pg, warmup, out = [], False, 0.0, None
    while args and args[0] != "--":
        flag = args.pop(0)
        if flag == "--pids":
            pids = [int(p) for p in args.pop(0).split(",") if p]
        elif flag == "--pg":
            pg = True
        elif flag == "--warmup":
            warmup = float(args.pop(0))
        elif flag == "--out":
            out = args.pop(0)
        else:
            raise SystemExit(f"measure: unknown flag {flag}")
    command = args[1:]
    with open(out, "w") as stdout:
        child = subprocess.Popen(command, stdout=stdout, stderr=subprocess.STDOUT)
        time.sleep(warmup)
        first = snapshot(pids, pg, child.pid)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        last = snapshot(pids, pg, None)
    window = last["time"] - first["time"]
    load_total = (usage.ru_utime + usage.ru_stime) * TICK
    db = sum(last["db"].get(p, 0) - t for p, t in first["db"].items() if p in last["db"])
    db += sum(t for p, t in last["db"].items() if p not in first["db"])  # new backends
    used = {
        "service": last["service"] - first["service"],
        "db": db,
        "load": max(0.0, load_total - first["load"]),
        "busy": last["busy"] - first["busy"],
        "irq": last["irq"] - first["irq"],
    }
    result = {f"{k}_cpu_s": v / TICK for k, v in used.items()}
    result["window_s"] = window
    result["other_cores"] = max(
        0.0,
        (used["busy"] - used["irq"] - used["service"] - used["db"] - used["load"]) / TICK / window,
    ) if window > 0 else 0.0
    result["exit_code"] = child.returncode
    return result


def quiet(args):
    threshold, max_wait = 0.15, 300.0
    while args:
        flag = args.pop(0)
        if flag == "--threshold":
            threshold = float(args.pop(0))
        elif flag == "--max-wait":
            max_wait = float(args.pop(0))
    cores = os.cpu_count() or 1
    deadline = time.monotonic() + max_wait
    waited = 0.0
    while True:
        b0, t0, _ = machine_ticks()
        time.sleep(2)
        b1, t1, _ = machine_ticks()
        busy = (b1 - b0) / max(1, t1 - t0)
        if busy <= threshold or time.monotonic() >= deadline:
            return {"busy": round(busy, 3), "cores": cores, "waited_s": waited,
                    "quiet": busy <= threshold}
        waited += 2


# --- report --------------------------------------------------------------------------------------

def fmt_us(value):
    if value is None:
        return "–"
    if value >= 10_000:
        return f"{value / 1000:.0f} ms"
    if value >= 1000:
        return f"{value / 1000:.1f} ms"
    return f"{value:.0f} µs"


def errors(r):
    n = r.get("errors", 0)
    total = r.get("total") or r.get("calls")
    if not n:
        return "0"
    return f"{n:,} of {total:,}" if total else f"{n:,}"


def targets(rows, ceiling):
    """The targets of the brief, each with what this run measured."""
    out = ["### Targets\n", "| target | measured | verdict |", "|---|---|---|"]
    rpcs = [r for r in rows if r.get("kind") == "rpc"]

    def share(rpc, backend, goal):
        found = [r for r in rpcs if r["rpc"] == rpc and r["backend"] == backend and r["conc"] in ceiling]
        if not found:
            return
        values = [r["rps"] / ceiling[r["conc"]] * 100 for r in found]
        text = "; ".join(
            f"{r['images']:,} images, {r['conc']}: {v:.1f} %" for r, v in zip(found, values)
        )
        verdict = "met" if min(values) >= goal else ("met at best" if max(values) >= goal else "missed")
        out.append(f"| {rpc} ≥ {goal} % of echo on {backend} | {text} | {verdict} |")

    share("GetImage", "sqlite", 50)
    share("GetImage", "postgres", 30)
    share("ListImages", "sqlite", 20)

    lists = {}
    for r in rpcs:
        if r["rpc"] == "ListImages":
            lists.setdefault((r["backend"], r["conc"]), {})[r["images"]] = r
    cost = lambda r: (r.get("service_cpu_us") or 0) + (r.get("db_cpu_us") or 0)
    for (backend, c), by_size in sorted(lists.items()):
        if len(by_size) < 2:
            continue
        a, b = by_size[min(by_size)], by_size[max(by_size)]
        growth = cost(b) / cost(a)
        failed = " (the larger size's calls failed)" if b.get("errors") else ""
        out.append(
            f"| a page at {max(by_size):,} images costs ≤ 1.5× a page at {min(by_size):,} "
            f"({backend}, {c}) | {growth:.2f}× CPU per call{failed} | "
            f"{'met' if growth <= 1.5 and not failed else 'missed'} |"
        )
    for r in (r for r in rows if r.get("kind") == "memory"):
        mib = r["c64_kib"] / 1024
        out.append(
            f"| peak memory ≤ 64 MiB under 64 streams ({r['backend']}, {r['images']:,} images) | "
            f"{mib:.1f} MiB (640 streams: {r['c640_kib'] / 1024:.1f} MiB) | "
            f"{'met' if mib <= 64 else 'missed'} |"
        )
    out.append("")
    return out


def report(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    echo = {}
    for r in rows:
        if r.get("kind") == "echo":
            echo.setdefault(r["conc"], []).append(r)
    ceiling = {c: sum(x["rps"] for x in v) / len(v) for c, v in echo.items()}
    ceiling_mean = {c: sum(x["mean_us"] for x in v) / len(v) for c, v in echo.items()}

    out = []
    out.append("### Echo ceiling (bare tonic unary server)\n")
    out.append(
        "| connections × streams | run | calls/s | mean | p50 | p99 | min | max | sd | "
        "server CPU/call | h2load CPU/call | irq/call | other cores |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c, v in echo.items():
        for x in v:
            out.append(
                f"| {c} | {x.get('when', '')} | {x['rps']:,.0f} | {fmt_us(x.get('mean_us'))} | "
                f"{fmt_us(x.get('p50_us'))} | {fmt_us(x.get('p99_us'))} | "
                f"{fmt_us(x.get('min_us'))} | {fmt_us(x.get('max_us'))} | {fmt_us(x.get('sd_us'))} | "
                f"{fmt_us(x.get('service_cpu_us'))} | {fmt_us(x.get('load_cpu_us'))} | "
                f"{fmt_us(x.get('irq_cpu_us'))} | {x.get('other_cores', 0):.2f} |"
            )
    out.append("")
    out.append("### Image service\n")
    out.append(
        "`% of echo` = calls/s ÷ echo's calls/s at the same concurrency (averaged over its runs); "
        "`latency ×` = mean latency ÷ echo's. CPU/call: CPU time of the service process and of "
        "all PostgreSQL processes per call (SQLite runs inside the service); `irq`: interrupt "
        "time per call, charged to no process (mostly loopback TCP in softirq). `other`: cores "
        "used meanwhile by processes outside the benchmark. `errors`: calls answered with a "
        "grpc-status other than 0 (the service's log; clone_load's count for CloneImage). "
        "CloneImage ×10 is driven by `clone_load` (distinct names per call), its calls/s are "
        "clones of 10 images each.\n"
    )
    out.append(
        "| backend | images | call | conn × streams | calls/s | % of echo | mean | latency × | "
        "p50 | p99 | min | max | sd | server CPU/call | DB CPU/call | irq/call | other | errors |"
    )
    out.append("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if r.get("kind") != "rpc":
            continue
        c = r["conc"]
        ratio = r["rps"] / ceiling[c] * 100 if c in ceiling and r.get("rps") else None
        lat = r["mean_us"] / ceiling_mean[c] if c in ceiling_mean and r.get("mean_us") else None
        db = fmt_us(r.get("db_cpu_us")) if r["backend"] != "sqlite" else "(in server)"
        out.append(
            f"| {r['backend']} | {r['images']:,} | {r['rpc']} | {c} | {r['rps']:,.0f} | "
            f"{'–' if ratio is None else f'{ratio:.1f} %'} | {fmt_us(r.get('mean_us'))} | "
            f"{'–' if lat is None else f'{lat:.1f}×'} | {fmt_us(r.get('p50_us'))} | "
            f"{fmt_us(r.get('p99_us'))} | {fmt_us(r.get('min_us'))} | {fmt_us(r.get('max_us'))} | "
            f"{fmt_us(r.get('sd_us'))} | {fmt_us(r.get('service_cpu_us'))} | {db} | "
            f"{fmt_us(r.get('irq_cpu_us'))} | {r.get('other_cores', 0):.2f} | {errors(r)} |"
        )
    out.append("")

    # ListImages at the largest size against the smallest, per backend and concurrency.
    lists = {}
    for r in rows:
        if r.get("kind") == "rpc" and r["rpc"] == "ListImages":
            lists.setdefault((r["backend"], r["conc"]), {})[r["images"]] = r
    growth = []
    cpu = lambda r: (r.get("service_cpu_us") or 0) + (r.get("db_cpu_us") or 0)
    for (backend, c), by_size in sorted(lists.items()):
        if len(by_size) < 2:
            continue
        small, large = min(by_size), max(by_size)
        a, b = by_size[small], by_size[large]
        growth.append(
            f"| {backend} | {c} | {small:,} → {large:,} | {a['rps']:,.0f} → {b['rps']:,.0f} | "
            f"{fmt_us(a['mean_us'])} → {fmt_us(b['mean_us'])} | "
            f"{fmt_us(cpu(a))} → {fmt_us(cpu(b))} | **{cpu(b) / cpu(a):.2f}×** | "
            f"{b['mean_us'] / a['mean_us']:.2f}×"
            + (" (calls failed: see errors above)" if a.get("errors") or b.get("errors") else "")
            + " |"
        )
    if growth:
        out.append("### Cost of a ListImages page as the catalogue grows (target ≤ 1.5×)\n")
        out.append(
            "Cost = CPU per call of the service and the database together; latency growth = "
            "ratio of mean latencies.\n"
        )
        out.append(
            "| backend | conn × streams | images | calls/s | mean latency | CPU/call | "
            "cost growth | latency growth |"
        )
        out.append("|---|---|---|---:|---:|---:|---:|---:|")
        out.extend(growth)
        out.append("")

    mem = [r for r in rows if r.get("kind") == "memory"]
    if mem:
        out.append("### Peak memory of the service (VmHWM, target ≤ 64 MiB under 64 streams)\n")
        out.append("| backend | images | idle after start | after 16 × 1 | after 64 × 1 (64 streams) | after 64 × 10 (640 streams) |")
        out.append("|---|---:|---:|---:|---:|---:|")
        for r in mem:
            def mib(key):
                return f"{r[key] / 1024:.1f} MiB" if r.get(key) else "–"
            out.append(
                f"| {r['backend']} | {r['images']:,} | {mib('idle_kib')} | {mib('c16_kib')} | "
                f"{mib('c64_kib')} | {mib('c640_kib')} |"
            )
        out.append("")
    out.extend(targets(rows, ceiling))
    seeds = [r for r in rows if r.get("kind") == "seed"]
    if seeds:
        out.append("### Seeding\n")
        out.append("| backend | images | users | shares | visible to the caller | seconds |")
        out.append("|---|---:|---:|---:|---:|---:|")
        for r in seeds:
            out.append(
                f"| {r['backend']} | {r['images']:,} | {r['users']:,} | {r['members']:,} | "
                f"{r['visible']} | {r['seconds']} |"
            )
        out.append("")
    checks = [r for r in rows if r.get("kind") == "check"]
    if checks:
        out.append("### grpc-status of one call each (curl, HTTP/2 trailers)\n")
        out.append("| target | call | grpc-status | response |")
        out.append("|---|---|---|---|")
        for r in checks:
            out.append(
                f"| {r['target']} | {r['rpc']} | {r['grpc_status']} | {r['response']} |"
            )
        out.append("")
    print("\n".join(out))


def with_cpu(r, cpu, calls):
    for key in ("service", "db", "load", "irq"):
        r[f"{key}_cpu_us"] = cpu[f"{key}_cpu_s"] / calls * 1e6 if calls else None
    r["other_cores"] = round(cpu["other_cores"], 2)
    return r


def record(kind, args):
    if kind == "h2load":
        out, log, cpu, extra, conc = args
        r = parse_h2load(out, log)
        if "rps" not in r:
            sys.stderr.write(open(out).read())
            raise SystemExit("h2load printed no figures")
        cpu = json.loads(cpu)
        calls = r["rps"] * cpu["window_s"]
        r["h2load_output"] = out
    elif kind == "clone":
        line, cpu, extra, conc = args
        kv = dict(p.split("=", 1) for p in line.split())
        r = {"rps": float(kv["rps"]), "errors": int(kv["failed"]), "calls": int(kv["calls"])}
        for key in ("mean", "min", "max", "p50", "p90", "p99"):
            r[f"{key}_us"] = float(kv[f"{key}_us"])
        cpu = json.loads(cpu)
        calls = r["calls"]
    else:
        raise SystemExit(f"record: unknown kind {kind}")
    r.update(json.loads(extra))
    r["conc"] = conc
    return with_cpu(r, cpu, calls)


def amend(path, key, value):
    lines = open(path).read().splitlines()
    r = json.loads(lines[-1])
    r[key] = r.get(key, 0) + int(value)
    lines[-1] = json.dumps(r)
    open(path, "w").write("\n".join(lines) + "\n")


def show(path):
    r = json.loads(open(path).read().splitlines()[-1])
    print(
        f"   {r.get('rpc', 'Echo'):<14} {r['conc']:<8} {r['rps']:>9,.0f} calls/s  "
        f"mean {fmt_us(r.get('mean_us')):>8}  p99 {fmt_us(r.get('p99_us')):>8}  CPU/call: "
        f"server {fmt_us(r.get('service_cpu_us'))}, db {fmt_us(r.get('db_cpu_us'))}, "
        f"load {fmt_us(r.get('load_cpu_us'))}, irq {fmt_us(r.get('irq_cpu_us'))}; other processes {r.get('other_cores', 0):.2f} cores"
        + (f"; {r['errors']} errors" if r.get("errors") else "")
    )


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "body":
        sys.stdout.buffer.write(grpc_frame(body(args[0], args[1:])))
    elif cmd == "inspect":
        print(json.dumps(inspect(args[0])))
    elif cmd == "h2load":
        print(json.dumps(parse_h2load(args[0], args[1])))
    elif cmd == "measure":
        print(json.dumps(measure(args)))
    elif cmd == "quiet":
        print(json.dumps(quiet(args)))
    elif cmd == "record":
        print(json.dumps(record(args[0], args[1:])))
    elif cmd == "amend":
        amend(*args)
    elif cmd == "show":
        show(args[0])
    elif cmd == "report":
        report(args[0])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
