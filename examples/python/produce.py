#!/usr/bin/env python3
"""Writes log lines to Tributary's `logs.<tenant>` topic as envelopes, as the TypeScript SDK does.

    echo 'invoice paid' | produce.py --brokers kafka:9092 --tenant payments --app billing
    produce.py --brokers kafka:9092 --tenant payments --app billing 'line one' 'line two'
    produce.py --brokers kafka:9092 --tenant payments --app billing --input-id import-2026-11-25 < import.log

One record per line (blank lines are skipped), from the arguments or else from stdin. The
contract is docs/producing.md. Uses confluent_kafka (Debian: python3-confluent-kafka).

Ids: by default each line gets a new UUID v7, made once and kept through the client's
retries, exactly like the TypeScript SDK: a retried record is stored once, but running the
program again stores the lines again. With --input-id, the id is derived from the app, that
input id and the line's number, so running the same input again stores each line once.
The input id must never name two different inputs.

Exit status: 0 once Kafka acknowledged every record (acks=all), 1 when any record was not
delivered (the reason is printed), 2 for bad arguments.
"""
import argparse
import base64
import hashlib
import json
import os
import re
import socket
import sys
import time
import uuid

from confluent_kafka import KafkaException, Producer

# A tenant is a Kubernetes namespace name (DNS-1123 label).
TENANT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# The processor dead-letters an envelope whose message is larger than this (UTF-8 bytes).
MAX_MESSAGE_BYTES = 1024 * 1024


def producer_config(brokers, app, timeout_s):
    """The client settings the contract asks for, as the TypeScript SDK uses them."""
    return {
        "bootstrap.servers": brokers,
        "client.id": f"tributary-producer-{app}",
        "acks": "all",  # acknowledged once every in-sync replica has it
        "enable.idempotence": True,  # a retry is never written twice, order is kept
        "compression.type": "lz4",
        # The Java client's (and kafkajs's) partitioner: a key lands where the TypeScript SDK puts it.
        "partitioner": "murmur2_random",
        "linger.ms": 50,
        # Retries (with backoff) go on until this long after produce(); then the record fails.
        "message.timeout.ms": int(timeout_s * 1000),
    }


def uuid7(now_ms):
    """A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits."""
    value = ((now_ms & 0xFFFF_FFFF_FFFF) << 80) | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # variant 10 (RFC 9562)
    return str(uuid.UUID(int=value))


def input_line_id(app, input_id, line_number):
    """`i1-` + 22 base64url characters of SHA-256 over the JSON array [app, input id, line number]."""
    # Compact JSON without ASCII escapes: the bytes JavaScript's JSON.stringify writes.
    text = json.dumps([app, input_id, line_number], ensure_ascii=False, separators=(",", ":"))
    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return "i1-" + digest[:22]


def rfc3339_now():
    """Now in UTC, RFC 3339 with nanoseconds: 2026-11-25T10:00:00.123456789Z."""
    ns = time.time_ns()
    seconds, fraction = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


def envelope(record_id, stream, message, app, host):
    """The record value: the envelope as compact UTF-8 JSON, fields in contract order."""
    value = {
        "id": record_id,
        "time": rfc3339_now(),
        "stream": stream,
        "message": message,
        "source": {"kind": "sdk", "app": app, "host": host},
    }
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def input_lines(args):
    """(line number from 1, text) of every non-blank line; bytes that are not UTF-8 become \\xNN."""
    raw = [os.fsencode(arg) for arg in args.lines] if args.lines else sys.stdin.buffer
    for number, line in enumerate(raw, start=1):
        text = line.decode("utf-8", "backslashreplace").removesuffix("\n").removesuffix("\r")
        if text.strip():
            yield number, text


def produce(producer, topic, key, value, on_delivery):
    """Hands one record to the client; None, or why the client refused it at once."""
    while True:
        try:
            producer.produce(topic, key=key, value=value, on_delivery=on_delivery)
            producer.poll(0)  # serve delivery reports of earlier records
            return None
        except BufferError:  # the client's queue is full: let it send, then try again
            producer.poll(0.5)
        except KafkaException as err:
            return err.args[0].str()


def topic_missing(producer, topic):
    """True when the brokers answer and have no such topic (producers can't create it)."""
    try:
        return topic not in producer.list_topics(timeout=5).topics
    except KafkaException:
        return False  # no answer: the delivery errors say why


def parse_args():
    parser = argparse.ArgumentParser(description="Write log lines to Tributary's logs.<tenant> topic.")
    parser.add_argument("--brokers", required=True, help="Kafka bootstrap servers, host:port[,host:port]")
    parser.add_argument("--tenant", required=True, help="the tenant (Kubernetes namespace) whose logs.<tenant> to write")
    parser.add_argument("--app", required=True, help="the app's name (source.app)")
    parser.add_argument("--host", default=socket.gethostname(), help="the host or instance (source.host); default this machine's name")
    parser.add_argument("--stream", choices=["stdout", "stderr"], default="stdout")
    parser.add_argument("--input-id", help="names this input; ids then come from it, so a re-run stores each line once")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to keep retrying a record before giving up (default 30)")
    parser.add_argument("lines", nargs="*", help="the lines to send; without them, stdin is read")
    args = parser.parse_args()
    if len(args.tenant) > 63 or not TENANT_NAME.match(args.tenant):
        parser.error(f"--tenant {args.tenant!r} is not a Kubernetes namespace name (lowercase letters, digits and '-', at most 63)")
    if not args.app or not args.host:
        parser.error("--app and --host must not be empty")
    if args.input_id == "":
        parser.error("--input-id must not be empty")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    return args


def main():
    args = parse_args()
    topic = f"logs.{args.tenant}"
    key = f"{args.app}/{args.host}".encode("utf-8")  # one instance's records stay in order on one partition
    producer = Producer(producer_config(args.brokers, args.app, args.timeout))
    failures = []

    def delivered(err, msg):
        if err is not None:
            failures.append(f"a record was not acknowledged: {err.str()}")

    sent = 0
    for number, message in input_lines(args):
        if len(message.encode("utf-8")) > MAX_MESSAGE_BYTES:
            failures.append(f"line {number} is over {MAX_MESSAGE_BYTES} bytes: not sent")
            continue
        record_id = input_line_id(args.app, args.input_id, number) if args.input_id else uuid7(time.time_ns() // 1_000_000)
        value = envelope(record_id, args.stream, message, args.app, args.host)
        problem = produce(producer, topic, key, value, delivered)
        if problem is not None:
            failures.append(f"line {number}: {problem}")
            continue
        sent += 1

    left = producer.flush(args.timeout + 5)
    if left > 0:
        failures.append(f"{left} records still unacknowledged after {args.timeout + 5:g} s")
    if failures:
        if topic_missing(producer, topic):
            failures.insert(0, f"{topic} does not exist (the control plane creates it when a pipeline of the tenant is applied; producers can't)")
        print(f"produce.py: {len(failures)} problem(s), {sent} record(s) handed to the client for {topic}:", file=sys.stderr)
        for problem in failures[:10]:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"produce.py: {sent} record(s) acknowledged by {topic}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
