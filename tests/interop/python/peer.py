#!/usr/bin/python3
"""Python (grpcio) interop peer for the Streams gRPC tests.

Implements the `streams.testing.v1.Interop` service (proto/streams/testing/v1/interop.proto)
as a server, and runs named interop cases against any server that implements it.

    peer.py server [--max-message-bytes N] [--gzip]
    peer.py client --target 127.0.0.1:PORT --case NAME

Run it with Debian's /usr/bin/python3, which has grpcio and grpc_tools.
See tests/interop/README.md for the full contract.
"""

import argparse
import concurrent.futures
import hashlib
import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import grpc

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(SCRIPT_DIR, "..", "..", ".."))
PROTO_ROOT = os.path.join(REPO_ROOT, "proto")
PROTO_REL = "streams/testing/v1/interop.proto"

SERVICE = "streams.testing.v1.Interop"
MAX_4MIB = 4 * 1024 * 1024
CALL_TIMEOUT_S = 15.0

log = logging.getLogger("python-peer")


# --------------------------------------------------------------------------------------------
# Generated code
# --------------------------------------------------------------------------------------------

def _generate_into(out_dir):
    cmd = [
        sys.executable, "-m", "grpc_tools.protoc",
        "-I", PROTO_ROOT,
        "--python_out=" + out_dir,
        "--grpc_python_out=" + out_dir,
        PROTO_REL,
    ]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise RuntimeError("protoc failed (%d): %s" % (proc.returncode, proc.stderr.decode(errors="replace")))
    # Make every level a regular package, so that no other `streams` on sys.path can shadow it.
    pkg = out_dir
    for part in PROTO_REL.split("/")[:-1]:
        pkg = os.path.join(pkg, part)
        open(os.path.join(pkg, "__init__.py"), "a").close()


def load_generated():
    """Generates (if missing or stale) and imports the message and stub modules.

    The output directory is named after a hash of the .proto and of the generator, so a changed
    .proto gets a fresh directory; it is built in a temporary directory and renamed into place,
    so peers started concurrently never see a half-written one."""
    proto_path = os.path.join(PROTO_ROOT, PROTO_REL)
    with open(proto_path, "rb") as f:
        digest = hashlib.sha256(f.read())
    try:
        import grpc_tools
        digest.update(getattr(grpc_tools, "__file__", "").encode())
    except ImportError:
        pass
    digest.update(sys.executable.encode())
    key = "interop-" + digest.hexdigest()[:16]

    gen_root = os.path.join(SCRIPT_DIR, "generated")
    target = os.path.join(gen_root, key)
    marker = os.path.join(target, *PROTO_REL.split("/")[:-1], "interop_pb2_grpc.py")
    if not os.path.exists(marker):
        try:
            os.makedirs(gen_root, exist_ok=True)
            tmp = tempfile.mkdtemp(prefix=".tmp-", dir=gen_root)
        except OSError:
            # Read-only checkout: generate into a private temporary directory instead.
            target = tempfile.mkdtemp(prefix="streams-interop-py-")
            _generate_into(target)
            tmp = None
        if tmp is not None:
            try:
                _generate_into(tmp)
                os.chmod(tmp, 0o755)
                try:
                    os.rename(tmp, target)
                except OSError:
                    if not os.path.exists(marker):
                        raise
            finally:
                if os.path.isdir(tmp):
                    shutil.rmtree(tmp, ignore_errors=True)
            # Drop output generated from older versions of the .proto (best effort; a peer still
            # running from one has already imported its modules).
            for name in os.listdir(gen_root):
                if name.startswith("interop-") and name != key:
                    shutil.rmtree(os.path.join(gen_root, name), ignore_errors=True)
    sys.path.insert(0, target)
    from streams.testing.v1 import interop_pb2, interop_pb2_grpc  # noqa: E402
    return interop_pb2, interop_pb2_grpc


pb, pb_grpc = load_generated()

_CODE_BY_NUMBER = {c.value[0]: c for c in grpc.StatusCode}


def status_code(number):
    code = _CODE_BY_NUMBER.get(number)
    if code is None or code is grpc.StatusCode.OK:
        log.warning("fail_with_code %d is not a usable gRPC status; using UNKNOWN", number)
        return grpc.StatusCode.UNKNOWN
    return code


# --------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------

ECHO_INITIAL = "x-grpc-test-echo-initial"
ECHO_TRAILING = "x-grpc-test-echo-trailing-bin"


class Outcomes:
    def __init__(self):
        self._lock = threading.Lock()
        self._by_tag = {}

    def seen(self, tag):
        if tag:
            with self._lock:
                self._by_tag.setdefault(tag, {"seen": True, "cancelled": False})

    def cancelled(self, tag):
        if tag:
            with self._lock:
                self._by_tag.setdefault(tag, {"seen": True, "cancelled": False})["cancelled"] = True
            log.info("call tagged %r was cancelled", tag)

    def get(self, tag):
        with self._lock:
            o = self._by_tag.get(tag)
            return (o["seen"], o["cancelled"]) if o else (False, False)


class Call:
    """Per-call helper: echoes the test metadata and tells when the call has ended early."""

    def __init__(self, context):
        self.context = context
        self.ended = threading.Event()
        if not context.add_callback(self.ended.set):
            self.ended.set()  # already terminated
        md = context.invocation_metadata() or ()
        initial = [(k, v) for k, v in md if k == ECHO_INITIAL]
        trailing = [(k, v) for k, v in md if k == ECHO_TRAILING]
        if initial:
            context.send_initial_metadata(initial)
        if trailing:
            context.set_trailing_metadata(trailing)

    def sleep(self, ms):
        """Sleeps; returns True if the call ended (cancelled / deadline) meanwhile."""
        if ms > 0:
            return self.ended.wait(ms / 1000.0)
        return self.ended.is_set()

    def wait_for_cancel(self):
        self.ended.wait()

    def fail(self, number, message):
        self.context.abort(status_code(number), message)


class InteropServicer(pb_grpc.InteropServicer):
    def __init__(self, outcomes):
        self.outcomes = outcomes

    def Unary(self, request, context):
        call = Call(context)
        self.outcomes.seen(request.tag)
        if request.wait_for_cancel:
            call.wait_for_cancel()
            self.outcomes.cancelled(request.tag)
            return pb.EchoResponse()  # the call is gone; nothing is sent
        if call.sleep(request.delay_ms):
            self.outcomes.cancelled(request.tag)
            return pb.EchoResponse()
        if request.fail_with_code:
            call.fail(request.fail_with_code, request.fail_with_message)
        return pb.EchoResponse(payload=request.payload)

    def ServerStream(self, request, context):
        call = Call(context)
        self.outcomes.seen(request.tag)
        for i in range(request.response_count):
            if i > 0 and call.sleep(request.delay_ms):
                self.outcomes.cancelled(request.tag)
                return
            yield pb.EchoResponse(index=i, payload=bytes([i % 256]) * request.response_size)
        if request.wait_for_cancel:
            call.wait_for_cancel()
            self.outcomes.cancelled(request.tag)
            return
        if request.fail_with_code:
            call.fail(request.fail_with_code, request.fail_with_message)

    def ClientStream(self, request_iterator, context):
        call = Call(context)
        count = 0
        total = 0
        for request in request_iterator:
            if count == 0 and (request.tag or request.wait_for_cancel):
                self.outcomes.seen(request.tag)
                if request.wait_for_cancel:
                    call.wait_for_cancel()
                    self.outcomes.cancelled(request.tag)
                    return pb.EchoResponse()
            count += 1
            total += len(request.payload)
        return pb.EchoResponse(received_messages=count, received_bytes=total)

    def Bidi(self, request_iterator, context):
        call = Call(context)
        for index, request in enumerate(request_iterator):
            self.outcomes.seen(request.tag)
            if request.wait_for_cancel:
                call.wait_for_cancel()
                self.outcomes.cancelled(request.tag)
                return
            if request.fail_with_code:
                call.fail(request.fail_with_code, request.fail_with_message)
            yield pb.EchoResponse(payload=request.payload, index=index)

    def GetCallOutcome(self, request, context):
        Call(context)
        seen, cancelled = self.outcomes.get(request.tag)
        return pb.OutcomeResponse(seen=seen, cancelled=cancelled)


def run_server(args):
    options = []
    if args.max_message_bytes is not None:
        options += [
            ("grpc.max_receive_message_length", args.max_message_bytes),
            ("grpc.max_send_message_length", args.max_message_bytes),
        ]
    server = grpc.server(
        concurrent.futures.ThreadPoolExecutor(max_workers=64),
        options=options,
        compression=grpc.Compression.Gzip if args.gzip else None,
        maximum_concurrent_rpcs=None,
    )
    pb_grpc.add_InteropServicer_to_server(InteropServicer(Outcomes()), server)
    port = server.add_insecure_port("127.0.0.1:0")
    if port == 0:
        log.error("could not bind 127.0.0.1:0")
        return 1
    server.start()

    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin():
        try:
            while os.read(sys.stdin.fileno(), 65536):
                pass
        except OSError:
            pass
        log.info("stdin closed: stopping")
        stop.set()

    threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()

    log.info("listening on 127.0.0.1:%d (max-message-bytes=%s, gzip=%s)", port, args.max_message_bytes, args.gzip)
    sys.stdout.write("PORT %d\n" % port)
    sys.stdout.flush()

    while not stop.wait(0.5):
        pass
    server.stop(grace=1.0).wait(3.0)
    sys.stdout.flush()
    sys.stderr.flush()
    # Handler threads blocked on cancelled calls must not hold the process up.
    os._exit(0)


# --------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------

class CaseFailed(Exception):
    pass


def expect(cond, detail):
    if not cond:
        raise CaseFailed(detail)


def describe_error(e):
    return "%s: %r" % (e.code().name, e.details())


def expect_status(e, code, what):
    """e: an RpcError (or None if the call succeeded)."""
    if e is None:
        raise CaseFailed("%s: expected status %s, got OK" % (what, code.name))
    expect(e.code() == code, "%s: expected status %s, got %s" % (what, code.name, describe_error(e)))


def channel(target, options=(), compression=None):
    return grpc.insecure_channel(target, options=list(options), compression=compression)


def md_values(metadata, key):
    return [m.value for m in (metadata or ()) if m.key == key]


class Client:
    def __init__(self, target, options=(), compression=None):
        self.channel = channel(target, options, compression)
        self.stub = pb_grpc.InteropStub(self.channel)

    def close(self):
        self.channel.close()


def preview(b, n=16):
    return b[:n].hex() + ("..." if len(b) > n else "")


def case_unary(target):
    c = Client(target)
    try:
        payload = bytes(range(100))
        resp = c.stub.Unary(pb.EchoRequest(payload=payload), timeout=CALL_TIMEOUT_S)
        expect(resp.payload == payload, "expected payload %s (100 bytes), got %s (%d bytes)"
               % (preview(payload), preview(resp.payload), len(resp.payload)))
        return "100-byte payload echoed"
    finally:
        c.close()


def case_server_streaming(target):
    c = Client(target)
    try:
        call = c.stub.ServerStream(pb.EchoRequest(response_count=5, response_size=1000), timeout=CALL_TIMEOUT_S)
        got = list(call)
        expect(len(got) == 5, "expected 5 responses, got %d" % len(got))
        for i, r in enumerate(got):
            expect(r.index == i, "response %d: expected index %d, got %d" % (i, i, r.index))
            expect(len(r.payload) == 1000, "response %d: expected 1000 bytes, got %d" % (i, len(r.payload)))
        expect(call.code() == grpc.StatusCode.OK, "expected status OK, got %s" % call.code())
        return "5 responses, indexes 0..4, 1000 bytes each, OK"
    finally:
        c.close()


def case_client_streaming(target):
    c = Client(target)
    try:
        sizes = [10, 100, 1000, 10000]
        reqs = [pb.EchoRequest(payload=b"\x5a" * n) for n in sizes]
        resp = c.stub.ClientStream(iter(reqs), timeout=CALL_TIMEOUT_S)
        expect(resp.received_messages == 4 and resp.received_bytes == 11110,
               "expected received_messages=4 received_bytes=11110, got received_messages=%d received_bytes=%d"
               % (resp.received_messages, resp.received_bytes))
        return "4 messages / 11110 bytes counted"
    finally:
        c.close()


class RequestQueue:
    """A request iterator fed from the test thread; None half-closes."""

    def __init__(self):
        self.q = queue.Queue()

    def put(self, item):
        self.q.put(item)

    def __iter__(self):
        while True:
            item = self.q.get()
            if item is None:
                return
            yield item


def case_bidi(target):
    c = Client(target)
    reqs = RequestQueue()
    try:
        call = c.stub.Bidi(iter(reqs), timeout=CALL_TIMEOUT_S)
        for i in range(5):
            payload = i.to_bytes(8, "little")
            reqs.put(pb.EchoRequest(payload=payload))
            try:
                r = next(call)
            except StopIteration:
                raise CaseFailed("round %d: stream ended before its response (status %s)" % (i, call.code()))
            expect(r.payload == payload and r.index == i,
                   "round %d: expected payload %s index %d, got payload %s index %d"
                   % (i, payload.hex(), i, r.payload.hex(), r.index))
        reqs.put(None)
        extra = list(call)
        expect(not extra, "expected the stream to end after half-close, got %d more responses" % len(extra))
        expect(call.code() == grpc.StatusCode.OK, "expected status OK, got %s" % call.code())
        return "5 ping-pongs, then OK after half-close"
    finally:
        reqs.put(None)
        c.close()


def case_deadline_exceeded(target):
    c = Client(target)
    try:
        start = time.monotonic()
        err = None
        try:
            c.stub.Unary(pb.EchoRequest(payload=b"x", delay_ms=3000), timeout=0.3)
        except grpc.RpcError as e:
            err = e
        elapsed = time.monotonic() - start
        expect_status(err, grpc.StatusCode.DEADLINE_EXCEEDED, "Unary(delay 3000 ms, deadline 300 ms)")
        expect(elapsed < 2.5, "DEADLINE_EXCEEDED arrived after %.2f s, expected < 2.5 s" % elapsed)
        return "DEADLINE_EXCEEDED after %.0f ms" % (elapsed * 1000)
    finally:
        c.close()


def poll_cancelled(stub, tag, seconds=5.0):
    deadline = time.monotonic() + seconds
    last = None
    while True:
        last = stub.GetCallOutcome(pb.OutcomeRequest(tag=tag), timeout=CALL_TIMEOUT_S)
        if last.cancelled:
            return last
        if time.monotonic() >= deadline:
            raise CaseFailed("server never recorded the call as cancelled within %.0f s (last outcome: seen=%s cancelled=%s)"
                             % (seconds, last.seen, last.cancelled))
        time.sleep(0.1)


def case_cancellation(target):
    c = Client(target)
    reqs = RequestQueue()
    try:
        tag = "py-cancel-" + uuid.uuid4().hex
        call = c.stub.Bidi(iter(reqs), timeout=CALL_TIMEOUT_S)
        reqs.put(pb.EchoRequest(payload=b"cancel me", tag=tag, wait_for_cancel=True))
        time.sleep(0.3)
        call.cancel()
        err = None
        try:
            extra = list(call)
            raise CaseFailed("expected CANCELLED after cancel(), the stream ended normally with %d responses" % len(extra))
        except grpc.RpcError as e:
            err = e
        expect_status(err, grpc.StatusCode.CANCELLED, "Bidi after client cancel")
        poll_cancelled(c.stub, tag)
        return "CANCELLED locally; server saw the cancellation of %s" % tag
    finally:
        reqs.put(None)
        c.close()


def case_max_size_under(target):
    c = Client(target, options=[("grpc.max_send_message_length", MAX_4MIB),
                                ("grpc.max_receive_message_length", MAX_4MIB)])
    try:
        n = MAX_4MIB - 64
        payload = bytes(i % 251 for i in range(251)) * (n // 251) + bytes(n % 251)
        assert len(payload) == n
        resp = c.stub.Unary(pb.EchoRequest(payload=payload), timeout=CALL_TIMEOUT_S)
        expect(len(resp.payload) == n, "expected %d bytes back, got %d" % (n, len(resp.payload)))
        expect(resp.payload == payload, "payload of %d bytes came back altered" % n)
        return "%d-byte payload echoed" % n
    finally:
        c.close()


def case_max_size_over(target):
    c = Client(target, options=[("grpc.max_send_message_length", 64 * 1024 * 1024),
                                ("grpc.max_receive_message_length", MAX_4MIB)])
    try:
        err = None
        try:
            c.stub.Unary(pb.EchoRequest(payload=b"\x01" * (MAX_4MIB + 1)), timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as e:
            err = e
        expect_status(err, grpc.StatusCode.RESOURCE_EXHAUSTED, "Unary with a %d-byte payload (server receive limit)" % (MAX_4MIB + 1))
        # The Unary echo could also trip this client's own 4 MiB receive limit; a ClientStream's reply
        # is a few bytes, so RESOURCE_EXHAUSTED here can only come from the server's receive limit.
        err = None
        try:
            resp = c.stub.ClientStream(iter([pb.EchoRequest(payload=b"\x01" * (MAX_4MIB + 1))]), timeout=CALL_TIMEOUT_S)
            raise CaseFailed("ClientStream with a %d-byte message: expected RESOURCE_EXHAUSTED from the server, "
                             "got OK (server counted %d bytes)" % (MAX_4MIB + 1, resp.received_bytes))
        except grpc.RpcError as e:
            err = e
        expect_status(err, grpc.StatusCode.RESOURCE_EXHAUSTED, "ClientStream with a %d-byte message (server receive limit)" % (MAX_4MIB + 1))
        err = None
        try:
            got = list(c.stub.ServerStream(pb.EchoRequest(response_count=1, response_size=MAX_4MIB + 1),
                                           timeout=CALL_TIMEOUT_S))
            raise CaseFailed("ServerStream with a %d-byte response: expected RESOURCE_EXHAUSTED, got OK with %d responses"
                             % (MAX_4MIB + 1, len(got)))
        except grpc.RpcError as e:
            err = e
        expect_status(err, grpc.StatusCode.RESOURCE_EXHAUSTED, "ServerStream with a %d-byte response (client receive limit)" % (MAX_4MIB + 1))
        return "RESOURCE_EXHAUSTED both ways"
    finally:
        c.close()


INITIAL_VALUE = "test_initial_metadata_value"
TRAILING_VALUE = b"\x0a\x0b\x0a\x0b\x0a\x0b"


def check_echoed_metadata(what, initial, trailing):
    got_i = md_values(initial, ECHO_INITIAL)
    got_t = md_values(trailing, ECHO_TRAILING)
    expect(got_i == [INITIAL_VALUE], "%s: expected initial metadata %s=[%r], got %r (all: %r)"
           % (what, ECHO_INITIAL, INITIAL_VALUE, got_i, list(initial or ())))
    expect(got_t == [TRAILING_VALUE], "%s: expected trailing metadata %s=[%r], got %r (all: %r)"
           % (what, ECHO_TRAILING, TRAILING_VALUE, got_t, list(trailing or ())))


def case_metadata(target):
    c = Client(target)
    try:
        md = ((ECHO_INITIAL, INITIAL_VALUE), (ECHO_TRAILING, TRAILING_VALUE))
        _resp, call = c.stub.Unary.with_call(pb.EchoRequest(payload=b"md"), metadata=md, timeout=CALL_TIMEOUT_S)
        check_echoed_metadata("Unary", call.initial_metadata(), call.trailing_metadata())

        call = c.stub.ServerStream(pb.EchoRequest(response_count=2, response_size=10), metadata=md, timeout=CALL_TIMEOUT_S)
        initial = call.initial_metadata()
        got = list(call)
        expect(len(got) == 2, "ServerStream: expected 2 responses, got %d" % len(got))
        check_echoed_metadata("ServerStream", initial, call.trailing_metadata())
        return "initial and binary trailing metadata echoed on Unary and ServerStream"
    finally:
        c.close()


def case_gzip(target):
    c = Client(target, compression=grpc.Compression.Gzip)
    try:
        payload = (b"streams " * (100 * 1024 // 8 + 1))[:100 * 1024]
        resp = c.stub.Unary(pb.EchoRequest(payload=payload), timeout=CALL_TIMEOUT_S,
                            compression=grpc.Compression.Gzip)
        expect(resp.payload == payload, "Unary: expected the %d-byte payload back, got %d bytes%s"
               % (len(payload), len(resp.payload), "" if len(resp.payload) != len(payload) else " (altered)"))
        reqs = [pb.EchoRequest(payload=payload) for _ in range(3)]
        resp = c.stub.ClientStream(iter(reqs), timeout=CALL_TIMEOUT_S, compression=grpc.Compression.Gzip)
        expect(resp.received_messages == 3 and resp.received_bytes == 3 * len(payload),
               "ClientStream: expected received_messages=3 received_bytes=%d, got %d / %d"
               % (3 * len(payload), resp.received_messages, resp.received_bytes))
        return "gzip Unary echoed 102400 bytes; gzip ClientStream counted 3 / 307200"
    finally:
        c.close()


ERROR_MESSAGE = "bad input: the field 'x' must be \u2264 5 % \u2013 see \u00abdocs\u00bb"


def case_error_status(target):
    c = Client(target)
    try:
        for number, code, message in ((3, grpc.StatusCode.INVALID_ARGUMENT, ERROR_MESSAGE),
                                      (5, grpc.StatusCode.NOT_FOUND, "no such stream")):
            err = None
            try:
                c.stub.Unary(pb.EchoRequest(fail_with_code=number, fail_with_message=message), timeout=CALL_TIMEOUT_S)
            except grpc.RpcError as e:
                err = e
            expect_status(err, code, "Unary(fail_with_code=%d)" % number)
            expect(err.details() == message, "Unary(fail_with_code=%d): expected message %r, got %r"
                   % (number, message, err.details()))
        return "INVALID_ARGUMENT and NOT_FOUND with exact messages"
    finally:
        c.close()


def case_unimplemented(target):
    c = Client(target)
    try:
        for path in ("/%s/NoSuchMethod" % SERVICE, "/no.such.Service/Method"):
            method = c.channel.unary_unary(path, request_serializer=pb.EchoRequest.SerializeToString,
                                           response_deserializer=pb.EchoResponse.FromString)
            err = None
            try:
                method(pb.EchoRequest(payload=b"?"), timeout=CALL_TIMEOUT_S)
            except grpc.RpcError as e:
                err = e
            expect_status(err, grpc.StatusCode.UNIMPLEMENTED, path)
        return "UNIMPLEMENTED for an unknown method and an unknown service"
    finally:
        c.close()


CASES = {
    "unary": case_unary,
    "server_streaming": case_server_streaming,
    "client_streaming": case_client_streaming,
    "bidi": case_bidi,
    "deadline_exceeded": case_deadline_exceeded,
    "cancellation": case_cancellation,
    "max_size_under": case_max_size_under,
    "max_size_over": case_max_size_over,
    "metadata": case_metadata,
    "gzip": case_gzip,
    "error_status": case_error_status,
    "unimplemented": case_unimplemented,
}


def run_case(name, target):
    try:
        detail = CASES[name](target)
        ok = True
    except CaseFailed as e:
        ok, detail = False, str(e)
    except grpc.RpcError as e:
        ok, detail = False, "unexpected RPC failure: %s" % describe_error(e)
    except Exception as e:  # noqa: BLE001 - any surprise is a failed case, with its reason
        ok, detail = False, "unexpected error: %s: %s" % (type(e).__name__, e)
    sys.stdout.write(json.dumps({"case": name, "ok": ok, "detail": detail}) + "\n")
    sys.stdout.flush()
    return ok


def run_client(args):
    if args.case == "all":
        names = list(CASES)
    elif args.case in CASES:
        names = [args.case]
    else:
        sys.stderr.write("unknown case %r; known: %s, all\n" % (args.case, ", ".join(CASES)))
        return 2
    results = [run_case(n, args.target) for n in names]
    return 0 if all(results) else 1


def main(argv):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="[python-peer %(process)d] %(levelname)s %(message)s")
    parser = argparse.ArgumentParser(prog="peer.py", description="grpcio interop peer for streams.testing.v1.Interop")
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("server", help="serve Interop on 127.0.0.1:0 and print 'PORT <n>'")
    s.add_argument("--max-message-bytes", type=int, default=None)
    s.add_argument("--gzip", action="store_true", help="compress responses with gzip")
    c = sub.add_parser("client", help="run one case (or 'all') against --target")
    c.add_argument("--target", required=True)
    c.add_argument("--case", required=True)
    args = parser.parse_args(argv)
    if args.mode == "server":
        return run_server(args)
    return run_client(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
