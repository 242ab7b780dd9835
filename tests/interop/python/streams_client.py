#!/usr/bin/python3
"""A Streams client written with Python grpcio, from streams.proto alone.

It exercises the public API (package streams.v1) the way a Python user would, against a running
node, and checks what comes back:

    streams_client.py --endpoint 127.0.0.1:7400 --stubs DIR [--stream NAME] [--records 100]

- `--stubs DIR`: the output of
      python3 -m grpc_tools.protoc -I proto --python_out=DIR --grpc_python_out=DIR \
          proto/streams/v1/streams.proto
  (so that the modules are `streams.v1.streams_pb2` and `streams.v1.streams_pb2_grpc`). This
  script generates nothing; without --stubs the modules must already be importable (PYTHONPATH).
- `--endpoint`: host:port or http://host:port of any node (h2c; TLS is not supported here).

Steps: CreateStream (2 shards), DescribeStreamSummary until ACTIVE, PutRecords (--records
records) and PutRecord (a few more), ListShards, GetShardIterator(TRIM_HORIZON) + GetRecords on
every shard until caught up (each record back exactly once, with its data and partition key, in
the shard its key hashes to, in sequence order), SubscribeToShard on one shard receiving a record
put after subscribing, a 300-character partition key refused with INVALID_ARGUMENT and the
trailer `streams-error: InvalidArgumentException`, DeleteStream.

Prints one JSON line on stdout: {"ok": true, ...} or {"ok": false, "error": "..."}; the error is
also written to stderr. Exit codes: 0 all good, 1 a check or call failed, 2 bad arguments,
3 grpcio or the stubs cannot be imported. Run it with Debian's /usr/bin/python3 (python3-grpcio).
"""

import argparse
import hashlib
import json
import os
import queue
import sys
import threading
import time
import uuid

CALL_TIMEOUT_S = 20.0
ACTIVE_TIMEOUT_S = 30.0
SUBSCRIBE_TIMEOUT_S = 30.0
EXTRA_PUT_RECORD_COUNT = 10


class CheckFailed(Exception):
    """A response that is not what the API promises."""


def fail(message):
    raise CheckFailed(message)


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Python grpcio client of the Streams API (streams.v1).")
    parser.add_argument("--endpoint", required=True, help="host:port or http://host:port of any node")
    parser.add_argument("--stubs", help="directory holding streams/v1/streams_pb2.py and streams_pb2_grpc.py")
    parser.add_argument("--stream", help="stream name (default: py-client-<random>)")
    parser.add_argument("--records", type=int, default=100, help="records written with PutRecords (default 100)")
    args = parser.parse_args(argv)
    target = args.endpoint
    if target.startswith("https://"):
        parser.error("--endpoint %s: TLS is not supported by this client; use an h2c (http://) node" % target)
    if target.startswith("http://"):
        target = target[len("http://"):]
    target = target.rstrip("/")
    if ":" not in target or "/" in target:
        parser.error("--endpoint %r is not host:port or http://host:port" % args.endpoint)
    args.target = target
    if args.records < 1 or args.records > 500:
        parser.error("--records must be 1 to 500 (one PutRecords call)")
    if args.stubs is not None and not os.path.isfile(os.path.join(args.stubs, "streams", "v1", "streams_pb2.py")):
        parser.error("--stubs %s has no streams/v1/streams_pb2.py; generate it with "
                     "python3 -m grpc_tools.protoc -I proto --python_out=DIR --grpc_python_out=DIR proto/streams/v1/streams.proto"
                     % args.stubs)
    return args


def import_modules(stubs):
    """Imports grpc and the generated modules, or exits 3 saying what is missing."""
    if stubs is not None:
        sys.path.insert(0, os.path.abspath(stubs))
    try:
        import grpc
    except ImportError as e:
        print_result({"ok": False, "error": "cannot import grpc (%s): run with a python3 that has grpcio, "
                                            "such as Debian's /usr/bin/python3 with the package python3-grpcio" % e})
        sys.exit(3)
    try:
        from streams.v1 import streams_pb2, streams_pb2_grpc
    except ImportError as e:
        print_result({"ok": False, "error": "cannot import streams.v1.streams_pb2 / streams_pb2_grpc (%s): "
                                            "pass --stubs DIR with the output of grpc_tools.protoc -I proto "
                                            "proto/streams/v1/streams.proto" % e})
        sys.exit(3)
    return grpc, streams_pb2, streams_pb2_grpc


def print_result(result):
    if not result.get("ok"):
        sys.stderr.write("streams_client: FAILED: %s\n" % result.get("error"))
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()


def hash_key_of(partition_key):
    """The 128-bit hash key of a partition key: MD5 of its UTF-8 bytes, big-endian (as Kinesis)."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def seq_key(sequence_number):
    """Orders sequence numbers within a shard: by length, then lexically (see streams.proto)."""
    return (len(sequence_number), sequence_number)


class Client:
    def __init__(self, grpc, pb, pb_grpc, target):
        self.grpc = grpc
        self.pb = pb
        self.channel = grpc.insecure_channel(target)
        self.stub = pb_grpc.StreamsStub(self.channel)
        self.calls = 0
        self.last_call = None

    def call(self, name, request, attempts=5):
        """A unary call with a deadline; UNAVAILABLE (a leader not yet elected) is retried."""
        method = getattr(self.stub, name)
        self.last_call = name
        for attempt in range(attempts):
            self.calls += 1
            try:
                return method(request, timeout=CALL_TIMEOUT_S)
            except self.grpc.RpcError as e:
                if e.code() != self.grpc.StatusCode.UNAVAILABLE or attempt == attempts - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def close(self):
        self.channel.close()


def error_name(grpc_error):
    for key, value in grpc_error.trailing_metadata() or ():
        if key == "streams-error":
            return value
    return None


def describe_rpc_error(name, e):
    return "%s failed: %s %s (streams-error: %s)" % (name, e.code().name, e.details(), error_name(e))


def wait_active(client, stream):
    pb = client.pb
    deadline = time.monotonic() + ACTIVE_TIMEOUT_S
    polls = 0
    while True:
        polls += 1
        summary = client.call("DescribeStreamSummary", pb.DescribeStreamSummaryRequest(stream_name=stream)).stream_description_summary
        if summary.stream_name != stream:
            fail("DescribeStreamSummary answered for stream %r, not %r" % (summary.stream_name, stream))
        if summary.stream_status == pb.STREAM_STATUS_ACTIVE:
            return summary, polls
        if summary.stream_status != pb.STREAM_STATUS_CREATING:
            fail("stream %s is %s while waiting for ACTIVE" % (stream, pb.StreamStatus.Name(summary.stream_status)))
        if time.monotonic() > deadline:
            fail("stream %s still CREATING after %.0f s" % (stream, ACTIVE_TIMEOUT_S))
        time.sleep(0.05)


def list_shards(client, stream):
    pb = client.pb
    shards = []
    response = client.call("ListShards", pb.ListShardsRequest(stream_name=stream))
    shards.extend(response.shards)
    while response.next_token:
        response = client.call("ListShards", pb.ListShardsRequest(next_token=response.next_token))
        shards.extend(response.shards)
    return shards


def shard_for(shards, partition_key):
    key = hash_key_of(partition_key)
    matches = [s for s in shards if int(s.hash_key_range.starting_hash_key) <= key <= int(s.hash_key_range.ending_hash_key)]
    if len(matches) != 1:
        fail("partition key %r (hash key %d) falls in %d shards' ranges" % (partition_key, key, len(matches)))
    return matches[0].shard_id


def put_records(client, stream, entries):
    """PutRecords, retrying the records that failed (ProvisionedThroughputExceeded...)."""
    pb = client.pb
    results = [None] * len(entries)
    pending = list(range(len(entries)))
    for attempt in range(6):
        request = pb.PutRecordsRequest(stream_name=stream)
        for i in pending:
            key, data = entries[i]
            request.records.add(partition_key=key, data=data)
        response = client.call("PutRecords", request)
        if len(response.records) != len(pending):
            fail("PutRecords of %d records answered %d results" % (len(pending), len(response.records)))
        failed = []
        for i, result in zip(pending, response.records):
            if result.error_code:
                if result.sequence_number:
                    fail("PutRecords result %d has both error_code %s and sequence number %s" % (i, result.error_code, result.sequence_number))
                failed.append((i, result.error_code, result.error_message))
            else:
                if not result.sequence_number or not result.shard_id:
                    fail("PutRecords result %d has neither an error nor a sequence number and shard" % i)
                results[i] = (result.shard_id, result.sequence_number)
        if response.failed_record_count != len(failed):
            fail("PutRecords failed_record_count is %d but %d results carry an error" % (response.failed_record_count, len(failed)))
        if not failed:
            return results
        pending = [i for i, _, _ in failed]
        time.sleep(0.1 * (2 ** attempt))
    fail("PutRecords: %d records still failing after retries, e.g. %s: %s" % (len(failed), failed[0][1], failed[0][2]))


def read_shard(client, stream, shard_id):
    """Every record of a shard from TRIM_HORIZON, by GetRecords until caught up."""
    pb = client.pb
    iterator = client.call("GetShardIterator", pb.GetShardIteratorRequest(
        stream_name=stream, shard_id=shard_id, shard_iterator_type=pb.TRIM_HORIZON)).shard_iterator
    if not iterator:
        fail("GetShardIterator(%s, TRIM_HORIZON) returned an empty iterator" % shard_id)
    records = []
    pages = 0
    while iterator:
        pages += 1
        if pages > 1000:
            fail("GetRecords on %s did not catch up after 1000 pages" % shard_id)
        response = client.call("GetRecords", pb.GetRecordsRequest(shard_iterator=iterator, limit=37))
        records.extend(response.records)
        if not response.records and response.millis_behind_latest == 0:
            break
        iterator = response.next_shard_iterator
    return records


def subscribe_and_put(client, stream, shard_id, after_sequence, partition_key, data):
    """Subscribes to a shard after `after_sequence`, then puts one record there; returns what arrived."""
    pb = client.pb
    request = pb.SubscribeToShardRequest(
        stream_name=stream,
        shard_id=shard_id,
        starting_position=pb.StartingPosition(type=pb.AFTER_SEQUENCE_NUMBER, sequence_number=after_sequence))
    call = client.stub.SubscribeToShard(request, timeout=SUBSCRIBE_TIMEOUT_S)
    events = queue.Queue()

    def pump():
        try:
            for event in call:
                events.put(("event", event))
            events.put(("end", None))
        except client.grpc.RpcError as e:
            events.put(("error", e))

    client.last_call = "SubscribeToShard"
    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    put = client.call("PutRecord", pb.PutRecordRequest(stream_name=stream, partition_key=partition_key, data=data))
    if put.shard_id != shard_id:
        fail("PutRecord of the subscription's record landed in %s, not %s" % (put.shard_id, shard_id))

    received = []
    event_count = 0
    deadline = time.monotonic() + SUBSCRIBE_TIMEOUT_S
    try:
        while not received:
            left = deadline - time.monotonic()
            if left <= 0:
                fail("SubscribeToShard(%s) delivered no record within %.0f s of the put" % (shard_id, SUBSCRIBE_TIMEOUT_S))
            try:
                kind, item = events.get(timeout=left)
            except queue.Empty:
                continue
            if kind == "error":
                fail(describe_rpc_error("SubscribeToShard", item))
            if kind == "end":
                fail("SubscribeToShard(%s) ended before the record arrived" % shard_id)
            event_count += 1
            received.extend(item.records)
            if item.records and item.continuation_sequence_number != item.records[-1].sequence_number:
                fail("SubscribeToShard event's continuation_sequence_number %s is not its last record's %s"
                     % (item.continuation_sequence_number, item.records[-1].sequence_number))
    finally:
        call.cancel()
        reader.join(timeout=10)

    if len(received) != 1:
        fail("SubscribeToShard after %s delivered %d records, expected only the one put after subscribing" % (after_sequence, len(received)))
    record = received[0]
    if record.sequence_number != put.sequence_number or record.data != data or record.partition_key != partition_key:
        fail("SubscribeToShard delivered %s/%r/%r, expected %s/%r/%r"
             % (record.sequence_number, record.partition_key, record.data, put.sequence_number, partition_key, data))
    return {"shard": shard_id, "sequence_number": record.sequence_number, "events": event_count}


def check_invalid_argument(client, stream):
    pb = client.pb
    key = "k" * 300
    try:
        client.call("PutRecord", pb.PutRecordRequest(stream_name=stream, partition_key=key, data=b"x"), attempts=1)
    except client.grpc.RpcError as e:
        if e.code() != client.grpc.StatusCode.INVALID_ARGUMENT:
            fail("a 300-character partition key: expected INVALID_ARGUMENT, got " + describe_rpc_error("PutRecord", e))
        name = error_name(e)
        if name != "InvalidArgumentException":
            fail("a 300-character partition key: trailer streams-error is %r, expected 'InvalidArgumentException'" % name)
        if not e.details():
            fail("a 300-character partition key: INVALID_ARGUMENT without a message")
        return {"code": e.code().name, "streams_error": name, "message": e.details()}
    fail("PutRecord with a 300-character partition key succeeded; expected INVALID_ARGUMENT")


def check_not_found(client, stream):
    pb = client.pb
    try:
        client.call("DescribeStreamSummary", pb.DescribeStreamSummaryRequest(stream_name=stream + "-missing"), attempts=1)
    except client.grpc.RpcError as e:
        if e.code() != client.grpc.StatusCode.NOT_FOUND or error_name(e) != "ResourceNotFoundException":
            fail("DescribeStreamSummary of a missing stream: expected NOT_FOUND + ResourceNotFoundException, got "
                 + describe_rpc_error("DescribeStreamSummary", e))
        return
    fail("DescribeStreamSummary of a missing stream succeeded")


def delete_stream(client, stream):
    """DeleteStream, then waits until the stream is gone (NOT_FOUND) or DELETING."""
    pb = client.pb
    client.call("DeleteStream", pb.DeleteStreamRequest(stream_name=stream))
    deadline = time.monotonic() + ACTIVE_TIMEOUT_S
    while True:
        try:
            summary = client.call("DescribeStreamSummary", pb.DescribeStreamSummaryRequest(stream_name=stream), attempts=1)
        except client.grpc.RpcError as e:
            if e.code() == client.grpc.StatusCode.NOT_FOUND:
                return "gone"
            raise
        status = summary.stream_description_summary.stream_status
        if status != pb.STREAM_STATUS_DELETING:
            fail("after DeleteStream the stream is %s, expected DELETING or gone" % pb.StreamStatus.Name(status))
        if time.monotonic() > deadline:
            return "deleting"
        time.sleep(0.05)


def run(client, stream, record_count):
    pb = client.pb
    started = time.monotonic()
    client.call("CreateStream", pb.CreateStreamRequest(stream_name=stream, shard_count=2))
    summary, polls = wait_active(client, stream)
    if summary.open_shard_count != 2:
        fail("DescribeStreamSummary: open_shard_count %d, expected 2" % summary.open_shard_count)

    shards = list_shards(client, stream)
    if sorted(s.shard_id for s in shards) != ["shardId-000000000000", "shardId-000000000001"]:
        fail("ListShards of a new 2-shard stream: %s" % [s.shard_id for s in shards])
    if int(shards[0].hash_key_range.starting_hash_key) != 0 or int(shards[-1].hash_key_range.ending_hash_key) != 2 ** 128 - 1:
        fail("the shards' hash-key ranges do not cover [0, 2^128 - 1]")

    # Keys cover ASCII and non-ASCII text; data covers every byte value, empty data excepted.
    entries = []
    for i in range(record_count):
        key = "key-%d" % (i % 17) if i % 5 else "clé-ü-%d" % i
        data = ("record-%d:" % i).encode() + bytes([i % 256, 0, 255])
        entries.append((key, data))
    put_results = put_records(client, stream, entries)
    for i in range(EXTRA_PUT_RECORD_COUNT):
        key, data = "single-%d" % i, ("single-%d" % i).encode() + b"\x00\x80"
        response = client.call("PutRecord", pb.PutRecordRequest(stream_name=stream, partition_key=key, data=data))
        if not response.shard_id or not response.sequence_number:
            fail("PutRecord returned no shard or sequence number")
        entries.append((key, data))
        put_results.append((response.shard_id, response.sequence_number))

    expected = {}
    for (key, data), (shard_id, sequence) in zip(entries, put_results):
        if shard_id != shard_for(shards, key):
            fail("record with key %r went to %s, but its hash key is in %s's range" % (key, shard_id, shard_for(shards, key)))
        if (shard_id, sequence) in expected:
            fail("two puts answered the same sequence number %s in %s" % (sequence, shard_id))
        expected[(shard_id, sequence)] = (key, data)

    read_per_shard = {}
    last_sequence = {}
    seen = set()
    for shard in shards:
        records = read_shard(client, stream, shard.shard_id)
        read_per_shard[shard.shard_id] = len(records)
        previous = None
        for record in records:
            ident = (shard.shard_id, record.sequence_number)
            if ident in seen:
                fail("record %s of %s came back twice" % (record.sequence_number, shard.shard_id))
            seen.add(ident)
            if ident not in expected:
                fail("GetRecords on %s returned %s, which no put answered" % (shard.shard_id, record.sequence_number))
            key, data = expected[ident]
            if record.partition_key != key or record.data != data:
                fail("record %s of %s: got key %r data %r, put key %r data %r"
                     % (record.sequence_number, shard.shard_id, record.partition_key, record.data, key, data))
            if previous is not None and seq_key(record.sequence_number) <= seq_key(previous):
                fail("GetRecords on %s: %s after %s is out of order" % (shard.shard_id, record.sequence_number, previous))
            if not record.HasField("approximate_arrival_timestamp") or record.approximate_arrival_timestamp.seconds == 0:
                fail("record %s of %s has no approximate_arrival_timestamp" % (record.sequence_number, shard.shard_id))
            previous = record.sequence_number
        if previous is not None:
            last_sequence[shard.shard_id] = previous
    missing = set(expected) - seen
    if missing:
        fail("%d records put were not read back, e.g. %s" % (len(missing), sorted(missing)[0]))

    # Subscribe to the busiest shard after its last record, then put one more record there.
    target = max(last_sequence, key=lambda s: read_per_shard[s])
    sub_key = next("sub-%d" % i for i in range(10000) if shard_for(shards, "sub-%d" % i) == target)
    subscription = subscribe_and_put(client, stream, target, last_sequence[target], sub_key, b"after subscribing \x01\x02")

    invalid = check_invalid_argument(client, stream)
    check_not_found(client, stream)
    deleted = delete_stream(client, stream)

    return {
        "ok": True,
        "stream": stream,
        "shards": len(shards),
        "put_records": record_count,
        "put_record": EXTRA_PUT_RECORD_COUNT,
        "read": len(seen),
        "read_per_shard": read_per_shard,
        "active_after_polls": polls,
        "subscribe": subscription,
        "invalid_argument": invalid,
        "deleted": deleted,
        "calls": client.calls,
        "seconds": round(time.monotonic() - started, 2),
    }


def main(argv):
    args = parse_args(argv)
    grpc, pb, pb_grpc = import_modules(args.stubs)
    stream = args.stream or "py-client-" + uuid.uuid4().hex[:12]
    client = Client(grpc, pb, pb_grpc, args.target)
    try:
        result = run(client, stream, args.records)
        result["grpcio"] = grpc.__version__
        print_result(result)
        return 0
    except CheckFailed as e:
        print_result({"ok": False, "stream": stream, "error": str(e)})
    except grpc.RpcError as e:
        print_result({"ok": False, "stream": stream, "error": describe_rpc_error(client.last_call, e)})
    finally:
        client.close()
    cleanup(grpc, pb, pb_grpc, args.target, stream)
    return 1


def cleanup(grpc, pb, pb_grpc, target, stream):
    """Best effort: deletes the stream a failed run left behind."""
    channel = grpc.insecure_channel(target)
    try:
        pb_grpc.StreamsStub(channel).DeleteStream(pb.DeleteStreamRequest(stream_name=stream), timeout=5)
    except grpc.RpcError:
        pass
    finally:
        channel.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
