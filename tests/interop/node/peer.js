#!/usr/bin/env node
// Node (@grpc/grpc-js) interop peer for the Streams gRPC tests.
//
// Implements the streams.testing.v1.Interop service (proto/streams/testing/v1/interop.proto)
// as a server, and runs named interop cases against any server that implements it.
//
//     node peer.js server [--max-message-bytes N] [--gzip]
//     node peer.js client --target 127.0.0.1:PORT --case NAME
//
// See tests/interop/README.md for the full contract.
'use strict';

const path = require('path');
const zlib = require('zlib');
const crypto = require('crypto');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const PROTO_ROOT = path.join(REPO_ROOT, 'proto');
const PROTO_REL = 'streams/testing/v1/interop.proto';
const SERVICE = 'streams.testing.v1.Interop';
const MAX_4MIB = 4 * 1024 * 1024;
const CALL_TIMEOUT_MS = 15000;
const ECHO_INITIAL = 'x-grpc-test-echo-initial';
const ECHO_TRAILING = 'x-grpc-test-echo-trailing-bin';
const Status = grpc.status;

const packageDefinition = protoLoader.loadSync(PROTO_REL, {
  includeDirs: [PROTO_ROOT],
  keepCase: true, // field names as in the .proto: response_count, wait_for_cancel, ...
  longs: Number, // received_bytes (int64) as a plain number
  enums: String,
  defaults: true, // absent fields read as 0 / '' / false / empty Buffer
  oneofs: true,
});
const Interop = grpc.loadPackageDefinition(packageDefinition).streams.testing.v1.Interop;

function log(...args) {
  process.stderr.write(`[node-peer ${process.pid}] ${args.join(' ')}\n`);
}

function statusName(code) {
  return Status[code] !== undefined ? Status[code] : String(code);
}

// ----------------------------------------------------------------------------------------------
// Server
// ----------------------------------------------------------------------------------------------

// grpc-js 1.14 can decompress requests but never compresses responses: its server writes every
// message with the compressed flag 0 and "grpc-encoding: identity". For --gzip we therefore patch
// the server call's framing so that responses are gzip-compressed, which is what the contract
// asks of a --gzip server; like grpc core, only for calls whose grpc-accept-encoding lists gzip.
// The versions are pinned exactly in package.json, and we refuse to start if the internals we
// patch are not there.
function enableGzipResponses() {
  let internals;
  try {
    internals = require('@grpc/grpc-js/build/src/server-interceptors');
  } catch (e) {
    internals = {};
  }
  const base = internals.BaseServerInterceptingCall;
  const proto = base && base.prototype;
  if (
    !proto ||
    typeof proto.serializeMessage !== 'function' ||
    typeof proto.sendMetadata !== 'function' ||
    typeof internals.getServerInterceptingCall !== 'function'
  ) {
    throw new Error('--gzip: this @grpc/grpc-js lacks the server internals that the gzip patch needs');
  }
  // http2 stream -> the client accepts gzip. Filled from the request headers, which the server
  // passes to getServerInterceptingCall (looked up on the module's exports at every call).
  const acceptsGzip = new WeakSet();
  const originalGetCall = internals.getServerInterceptingCall;
  internals.getServerInterceptingCall = function (interceptors, stream, headers, ...rest) {
    const accept = String((headers && headers['grpc-accept-encoding']) || '');
    if (accept.split(',').some((e) => e.trim() === 'gzip')) acceptsGzip.add(stream);
    return originalGetCall.call(this, interceptors, stream, headers, ...rest);
  };
  const originalSendMetadata = proto.sendMetadata;
  proto.sendMetadata = function (metadata) {
    if (!acceptsGzip.has(this.stream)) return originalSendMetadata.call(this, metadata);
    const md = metadata ? metadata.clone() : new grpc.Metadata();
    md.set('grpc-encoding', 'gzip'); // overrides the library's default "identity" header
    return originalSendMetadata.call(this, md);
  };
  const originalSerialize = proto.serializeMessage;
  proto.serializeMessage = function (value) {
    if (!acceptsGzip.has(this.stream)) return originalSerialize.call(this, value);
    const compressed = zlib.gzipSync(this.handler.serialize(value));
    const framed = Buffer.allocUnsafe(compressed.byteLength + 5);
    framed.writeUInt8(1, 0); // compressed flag
    framed.writeUInt32BE(compressed.byteLength, 1);
    compressed.copy(framed, 5);
    return framed;
  };
}

class Outcomes {
  constructor() {
    this.byTag = new Map();
  }
  seen(tag) {
    if (tag && !this.byTag.has(tag)) this.byTag.set(tag, { seen: true, cancelled: false });
  }
  cancelled(tag) {
    if (!tag) return;
    this.seen(tag);
    this.byTag.get(tag).cancelled = true;
    log(`call tagged '${tag}' was cancelled`);
  }
  get(tag) {
    return this.byTag.get(tag) || { seen: false, cancelled: false };
  }
}

// Per-call helper: echoes the test metadata (initial now, trailing returned for the status) and
// offers a promise that settles when the call is cancelled (by the client or by its deadline).
function startCall(call) {
  const initialValues = call.metadata.get(ECHO_INITIAL);
  if (initialValues.length > 0) {
    const md = new grpc.Metadata();
    for (const v of initialValues) md.add(ECHO_INITIAL, v);
    call.sendMetadata(md);
  }
  const trailer = new grpc.Metadata();
  for (const v of call.metadata.get(ECHO_TRAILING)) trailer.add(ECHO_TRAILING, v);
  let finished = false;
  const cancelled = new Promise((resolve) => {
    if (call.cancelled) resolve(true);
    // grpc-js also emits 'cancelled' after a call has completed normally; `finished` hides that.
    call.on('cancelled', () => {
      if (!finished) resolve(true);
    });
  });
  return {
    trailer,
    cancelled,
    finish() {
      finished = true;
    },
    // Resolves true if the call was cancelled during the sleep.
    sleep(ms) {
      if (!(ms > 0)) return Promise.resolve(call.cancelled === true && !finished);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        cancelled.then(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
    error(code, message) {
      finished = true;
      return { code, details: message, metadata: trailer };
    },
  };
}

function makeService(outcomes) {
  return {
    async Unary(call, callback) {
      const c = startCall(call);
      const req = call.request;
      outcomes.seen(req.tag);
      if (req.wait_for_cancel) {
        await c.cancelled;
        outcomes.cancelled(req.tag);
        return;
      }
      if (await c.sleep(req.delay_ms)) {
        outcomes.cancelled(req.tag);
        return;
      }
      if (req.fail_with_code) {
        callback(c.error(req.fail_with_code, req.fail_with_message));
        return;
      }
      c.finish();
      callback(null, { payload: req.payload }, c.trailer);
    },

    async ServerStream(call) {
      const c = startCall(call);
      const req = call.request;
      outcomes.seen(req.tag);
      for (let i = 0; i < req.response_count; i++) {
        if (i > 0 && (await c.sleep(req.delay_ms))) {
          outcomes.cancelled(req.tag);
          return;
        }
        call.write({ index: i, payload: Buffer.alloc(req.response_size, i % 256) });
      }
      if (req.wait_for_cancel) {
        await c.cancelled;
        outcomes.cancelled(req.tag);
        return;
      }
      if (req.fail_with_code) {
        // Ends the stream with this status once the queued responses are written.
        call.emit('error', c.error(req.fail_with_code, req.fail_with_message));
        return;
      }
      c.finish();
      call.end(c.trailer);
    },

    ClientStream(call, callback) {
      const c = startCall(call);
      let count = 0;
      let total = 0;
      let waiting = false;
      call.on('data', (req) => {
        if (waiting) return;
        if (count === 0 && (req.tag || req.wait_for_cancel)) {
          outcomes.seen(req.tag);
          if (req.wait_for_cancel) {
            waiting = true;
            c.cancelled.then(() => outcomes.cancelled(req.tag));
            return;
          }
        }
        count += 1;
        total += req.payload.length;
      });
      call.on('end', () => {
        if (waiting) return;
        c.finish();
        callback(null, { received_messages: count, received_bytes: total }, c.trailer);
      });
      call.on('error', () => {});
    },

    Bidi(call) {
      const c = startCall(call);
      let index = 0;
      let done = false;
      call.on('data', (req) => {
        if (done) return;
        const i = index++;
        outcomes.seen(req.tag);
        if (req.wait_for_cancel) {
          done = true;
          c.cancelled.then(() => outcomes.cancelled(req.tag));
          return;
        }
        if (req.fail_with_code) {
          done = true;
          call.emit('error', c.error(req.fail_with_code, req.fail_with_message));
          return;
        }
        call.write({ payload: req.payload, index: i });
      });
      call.on('end', () => {
        if (done) return;
        done = true;
        c.finish();
        call.end(c.trailer);
      });
    },

    GetCallOutcome(call, callback) {
      const c = startCall(call);
      const o = outcomes.get(call.request.tag);
      c.finish();
      callback(null, { seen: o.seen, cancelled: o.cancelled }, c.trailer);
    },
  };
}

function runServer(opts) {
  const options = {};
  if (opts.maxMessageBytes !== undefined) {
    options['grpc.max_receive_message_length'] = opts.maxMessageBytes;
    options['grpc.max_send_message_length'] = opts.maxMessageBytes;
  }
  if (opts.gzip) enableGzipResponses();
  const server = new grpc.Server(options);
  server.addService(Interop.service, makeService(new Outcomes()));

  let stopping = false;
  function stop(why) {
    if (stopping) return;
    stopping = true;
    log(`${why}: stopping`);
    server.forceShutdown();
    process.exit(0);
  }
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      log(`bind failed: ${err.message}`);
      process.exit(1);
    }
    log(`listening on 127.0.0.1:${port} (max-message-bytes=${opts.maxMessageBytes}, gzip=${opts.gzip})`);
    process.stdout.write(`PORT ${port}\n`, () => {
      process.stdin.on('end', () => stop('stdin closed'));
      process.stdin.on('error', () => stop('stdin error'));
      process.stdin.on('data', () => {});
      process.stdin.resume();
    });
  });
}

// ----------------------------------------------------------------------------------------------
// Client
// ----------------------------------------------------------------------------------------------

class CaseFailed extends Error {}

function expect(cond, detail) {
  if (!cond) throw new CaseFailed(detail);
}

function describeStatus(s) {
  return `${statusName(s.code)}: ${JSON.stringify(s.details)}`;
}

function expectStatus(status, code, what) {
  expect(
    status.code === code,
    `${what}: expected status ${statusName(code)}, got ${status.code === Status.OK ? 'OK' : describeStatus(status)}`
  );
}

function newClient(target, options = {}) {
  return new Interop(target, grpc.credentials.createInsecure(), options);
}

function deadline(ms = CALL_TIMEOUT_MS) {
  return { deadline: Date.now() + ms };
}

// Runs a unary-response call; resolves once the status is in, never rejects.
function unaryResult(start) {
  return new Promise((resolve) => {
    const r = { response: null, error: null, headers: null, status: null };
    const call = start((err, response) => {
      r.error = err || null;
      r.response = response || null;
    });
    call.on('metadata', (md) => {
      r.headers = md;
    });
    call.on('status', (status) => {
      r.status = status;
      setImmediate(() => resolve(r));
    });
  });
}

function unary(client, req, md = new grpc.Metadata(), callOpts = deadline()) {
  return unaryResult((cb) => client.Unary(req, md, callOpts, cb));
}

// Runs a server-streaming call to the end; resolves with every response and the status.
function serverStream(client, req, md = new grpc.Metadata(), callOpts = deadline()) {
  return new Promise((resolve) => {
    const r = { responses: [], headers: null, status: null };
    const call = client.ServerStream(req, md, callOpts);
    call.on('metadata', (m) => {
      r.headers = m;
    });
    call.on('data', (m) => r.responses.push(m));
    call.on('error', () => {}); // the status event carries the outcome
    call.on('status', (s) => {
      r.status = s;
      setImmediate(() => resolve(r));
    });
  });
}

// A bidi call whose responses can be awaited one by one.
function openBidi(client, callOpts = deadline()) {
  const call = client.Bidi(new grpc.Metadata(), callOpts);
  const items = [];
  const waiters = [];
  let status = null;
  let error = null;
  let statusWaiters = [];
  function deliver(item) {
    if (waiters.length) waiters.shift()(item);
    else items.push(item);
  }
  call.on('data', (m) => deliver({ message: m }));
  call.on('error', (e) => {
    error = e;
  });
  call.on('status', (s) => {
    status = s;
    deliver({ end: true });
    statusWaiters.forEach((w) => w(s));
    statusWaiters = [];
  });
  return {
    call,
    get error() {
      return error;
    },
    next(timeoutMs = CALL_TIMEOUT_MS) {
      if (items.length) return Promise.resolve(items.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new CaseFailed(`no response within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((item) => {
          clearTimeout(timer);
          resolve(item);
        });
      });
    },
    status() {
      if (status) return Promise.resolve(status);
      return new Promise((resolve) => statusWaiters.push(resolve));
    },
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function preview(b, n = 16) {
  return b.subarray(0, n).toString('hex') + (b.length > n ? '...' : '');
}

const cases = {
  async unary(target) {
    const client = newClient(target);
    try {
      const payload = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
      const r = await unary(client, { payload });
      expectStatus(r.status, Status.OK, 'Unary');
      expect(
        r.response.payload.equals(payload),
        `expected payload ${preview(payload)} (100 bytes), got ${preview(r.response.payload)} (${r.response.payload.length} bytes)`
      );
      return '100-byte payload echoed';
    } finally {
      client.close();
    }
  },

  async server_streaming(target) {
    const client = newClient(target);
    try {
      const r = await serverStream(client, { response_count: 5, response_size: 1000 });
      expectStatus(r.status, Status.OK, `ServerStream (after ${r.responses.length} responses)`);
      expect(r.responses.length === 5, `expected 5 responses, got ${r.responses.length}`);
      r.responses.forEach((m, i) => {
        expect(m.index === i, `response ${i}: expected index ${i}, got ${m.index}`);
        expect(m.payload.length === 1000, `response ${i}: expected 1000 bytes, got ${m.payload.length}`);
      });
      return '5 responses, indexes 0..4, 1000 bytes each, OK';
    } finally {
      client.close();
    }
  },

  async client_streaming(target) {
    const client = newClient(target);
    try {
      const r = await unaryResult((cb) => {
        const call = client.ClientStream(new grpc.Metadata(), deadline(), cb);
        for (const n of [10, 100, 1000, 10000]) call.write({ payload: Buffer.alloc(n, 0x5a) });
        call.end();
        return call;
      });
      expectStatus(r.status, Status.OK, 'ClientStream');
      const m = r.response;
      expect(
        m.received_messages === 4 && m.received_bytes === 11110,
        `expected received_messages=4 received_bytes=11110, got received_messages=${m.received_messages} received_bytes=${m.received_bytes}`
      );
      return '4 messages / 11110 bytes counted';
    } finally {
      client.close();
    }
  },

  async bidi(target) {
    const client = newClient(target);
    try {
      const b = openBidi(client);
      for (let i = 0; i < 5; i++) {
        const payload = Buffer.alloc(8);
        payload.writeBigUInt64LE(BigInt(i));
        b.call.write({ payload });
        const item = await b.next();
        if (item.end) {
          const s = await b.status();
          throw new CaseFailed(`round ${i}: stream ended before its response (status ${describeStatus(s)})`);
        }
        const m = item.message;
        expect(
          m.payload.equals(payload) && m.index === i,
          `round ${i}: expected payload ${payload.toString('hex')} index ${i}, got payload ${m.payload.toString('hex')} index ${m.index}`
        );
      }
      b.call.end();
      const item = await b.next();
      expect(item.end, `expected the stream to end after half-close, got another response (index ${item.message && item.message.index})`);
      expectStatus(await b.status(), Status.OK, 'Bidi after half-close');
      return '5 ping-pongs, then OK after half-close';
    } finally {
      client.close();
    }
  },

  async deadline_exceeded(target) {
    const client = newClient(target);
    try {
      const started = process.hrtime.bigint();
      const r = await unary(client, { payload: Buffer.from('x'), delay_ms: 3000 }, new grpc.Metadata(), deadline(300));
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      expectStatus(r.status, Status.DEADLINE_EXCEEDED, 'Unary(delay 3000 ms, deadline 300 ms)');
      expect(elapsedMs < 2500, `DEADLINE_EXCEEDED arrived after ${elapsedMs.toFixed(0)} ms, expected < 2500 ms`);
      return `DEADLINE_EXCEEDED after ${elapsedMs.toFixed(0)} ms`;
    } finally {
      client.close();
    }
  },

  async cancellation(target) {
    const client = newClient(target);
    try {
      const tag = `node-cancel-${crypto.randomUUID()}`;
      const b = openBidi(client);
      b.call.write({ payload: Buffer.from('cancel me'), tag, wait_for_cancel: true });
      await sleep(300);
      b.call.cancel();
      const s = await b.status();
      expectStatus(s, Status.CANCELLED, 'Bidi after client cancel');
      const until = Date.now() + 5000;
      for (;;) {
        const r = await unaryResult((cb) => client.GetCallOutcome({ tag }, new grpc.Metadata(), deadline(), cb));
        expectStatus(r.status, Status.OK, 'GetCallOutcome');
        if (r.response.cancelled) break;
        if (Date.now() >= until) {
          throw new CaseFailed(
            `server never recorded the call as cancelled within 5 s (last outcome: seen=${r.response.seen} cancelled=${r.response.cancelled})`
          );
        }
        await sleep(100);
      }
      return `CANCELLED locally; server saw the cancellation of ${tag}`;
    } finally {
      client.close();
    }
  },

  async max_size_under(target) {
    const client = newClient(target, {
      'grpc.max_send_message_length': MAX_4MIB,
      'grpc.max_receive_message_length': MAX_4MIB,
    });
    try {
      const n = MAX_4MIB - 64;
      const payload = Buffer.alloc(n);
      for (let i = 0; i < n; i++) payload[i] = i % 251;
      const r = await unary(client, { payload });
      expectStatus(r.status, Status.OK, `Unary with a ${n}-byte payload`);
      expect(r.response.payload.length === n, `expected ${n} bytes back, got ${r.response.payload.length}`);
      expect(r.response.payload.equals(payload), `payload of ${n} bytes came back altered`);
      return `${n}-byte payload echoed`;
    } finally {
      client.close();
    }
  },

  async max_size_over(target) {
    const client = newClient(target, {
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      'grpc.max_receive_message_length': MAX_4MIB,
    });
    try {
      const big = Buffer.alloc(MAX_4MIB + 1, 1);
      const r1 = await unary(client, { payload: big });
      expectStatus(r1.status, Status.RESOURCE_EXHAUSTED, `Unary with a ${big.length}-byte payload (server receive limit)`);
      // The Unary echo could also trip this client's own 4 MiB receive limit; a ClientStream's reply
      // is a few bytes, so RESOURCE_EXHAUSTED here can only come from the server's receive limit.
      const r2 = await unaryResult((cb) => {
        const call = client.ClientStream(new grpc.Metadata(), deadline(), cb);
        call.write({ payload: big });
        call.end();
        return call;
      });
      if (r2.status.code === Status.OK) {
        throw new CaseFailed(
          `ClientStream with a ${big.length}-byte message: expected RESOURCE_EXHAUSTED from the server, got OK (server counted ${r2.response.received_bytes} bytes)`
        );
      }
      expectStatus(r2.status, Status.RESOURCE_EXHAUSTED, `ClientStream with a ${big.length}-byte message (server receive limit)`);
      const r3 = await serverStream(client, { response_count: 1, response_size: MAX_4MIB + 1 });
      expectStatus(
        r3.status,
        Status.RESOURCE_EXHAUSTED,
        `ServerStream with a ${MAX_4MIB + 1}-byte response (client receive limit; ${r3.responses.length} responses received)`
      );
      return 'RESOURCE_EXHAUSTED both ways';
    } finally {
      client.close();
    }
  },

  async metadata(target) {
    const client = newClient(target);
    try {
      const initialValue = 'test_initial_metadata_value';
      const trailingValue = Buffer.from([0x0a, 0x0b, 0x0a, 0x0b, 0x0a, 0x0b]);
      const md = () => {
        const m = new grpc.Metadata();
        m.add(ECHO_INITIAL, initialValue);
        m.add(ECHO_TRAILING, trailingValue);
        return m;
      };
      const check = (what, headers, trailers) => {
        const gotI = headers ? headers.get(ECHO_INITIAL) : [];
        const gotT = trailers ? trailers.get(ECHO_TRAILING) : [];
        expect(
          gotI.length === 1 && gotI[0] === initialValue,
          `${what}: expected initial metadata ${ECHO_INITIAL}=[${JSON.stringify(initialValue)}], got ${JSON.stringify(gotI)} (all: ${JSON.stringify(headers && headers.getMap())})`
        );
        expect(
          gotT.length === 1 && Buffer.isBuffer(gotT[0]) && gotT[0].equals(trailingValue),
          `${what}: expected trailing metadata ${ECHO_TRAILING}=[${trailingValue.toString('hex')}], got [${gotT
            .map((v) => (Buffer.isBuffer(v) ? v.toString('hex') : JSON.stringify(v)))
            .join(', ')}]`
        );
      };
      const r1 = await unary(client, { payload: Buffer.from('md') }, md());
      expectStatus(r1.status, Status.OK, 'Unary');
      check('Unary', r1.headers, r1.status.metadata);
      const r2 = await serverStream(client, { response_count: 2, response_size: 10 }, md());
      expectStatus(r2.status, Status.OK, 'ServerStream');
      expect(r2.responses.length === 2, `ServerStream: expected 2 responses, got ${r2.responses.length}`);
      check('ServerStream', r2.headers, r2.status.metadata);
      return 'initial and binary trailing metadata echoed on Unary and ServerStream';
    } finally {
      client.close();
    }
  },

  async gzip(target) {
    const client = newClient(target, { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip });
    try {
      const payload = Buffer.from('streams '.repeat((100 * 1024) / 8));
      const r1 = await unary(client, { payload });
      expectStatus(r1.status, Status.OK, 'gzip Unary');
      expect(
        r1.response.payload.equals(payload),
        `Unary: expected the ${payload.length}-byte payload back, got ${r1.response.payload.length} bytes${r1.response.payload.length === payload.length ? ' (altered)' : ''}`
      );
      const r2 = await unaryResult((cb) => {
        const call = client.ClientStream(new grpc.Metadata(), deadline(), cb);
        for (let i = 0; i < 3; i++) call.write({ payload });
        call.end();
        return call;
      });
      expectStatus(r2.status, Status.OK, 'gzip ClientStream');
      expect(
        r2.response.received_messages === 3 && r2.response.received_bytes === 3 * payload.length,
        `ClientStream: expected received_messages=3 received_bytes=${3 * payload.length}, got ${r2.response.received_messages} / ${r2.response.received_bytes}`
      );
      return 'gzip Unary echoed 102400 bytes; gzip ClientStream counted 3 / 307200';
    } finally {
      client.close();
    }
  },

  async error_status(target) {
    const client = newClient(target);
    try {
      const wanted = [
        [3, Status.INVALID_ARGUMENT, "bad input: the field 'x' must be \u2264 5 % \u2013 see \u00abdocs\u00bb"],
        [5, Status.NOT_FOUND, 'no such stream'],
      ];
      for (const [number, code, message] of wanted) {
        const r = await unary(client, { fail_with_code: number, fail_with_message: message });
        expectStatus(r.status, code, `Unary(fail_with_code=${number})`);
        expect(
          r.status.details === message,
          `Unary(fail_with_code=${number}): expected message ${JSON.stringify(message)}, got ${JSON.stringify(r.status.details)}`
        );
      }
      return 'INVALID_ARGUMENT and NOT_FOUND with exact messages';
    } finally {
      client.close();
    }
  },

  async unimplemented(target) {
    const client = newClient(target);
    try {
      const { requestSerialize } = Interop.service.Unary;
      const { responseDeserialize } = Interop.service.Unary;
      for (const p of [`/${SERVICE}/NoSuchMethod`, '/no.such.Service/Method']) {
        const r = await unaryResult((cb) =>
          client.makeUnaryRequest(p, requestSerialize, responseDeserialize, { payload: Buffer.from('?') }, new grpc.Metadata(), deadline(), cb)
        );
        expectStatus(r.status, Status.UNIMPLEMENTED, p);
      }
      return 'UNIMPLEMENTED for an unknown method and an unknown service';
    } finally {
      client.close();
    }
  },
};

async function runCase(name, target) {
  let ok;
  let detail;
  try {
    detail = await cases[name](target);
    ok = true;
  } catch (e) {
    ok = false;
    detail = e instanceof CaseFailed ? e.message : `unexpected error: ${e && e.stack ? e.stack : e}`;
  }
  process.stdout.write(JSON.stringify({ case: name, ok, detail }) + '\n');
  return ok;
}

async function runClient(opts) {
  let names;
  if (opts.case === 'all') names = Object.keys(cases);
  else if (Object.prototype.hasOwnProperty.call(cases, opts.case)) names = [opts.case];
  else {
    process.stderr.write(`unknown case '${opts.case}'; known: ${Object.keys(cases).join(', ')}, all\n`);
    return 2;
  }
  let allOk = true;
  for (const n of names) {
    if (!(await runCase(n, opts.target))) allOk = false;
  }
  return allOk ? 0 : 1;
}

// ----------------------------------------------------------------------------------------------
// Command line
// ----------------------------------------------------------------------------------------------

function usage(message) {
  process.stderr.write(
    (message ? `${message}\n` : '') +
      'usage: node peer.js server [--max-message-bytes N] [--gzip]\n' +
      '       node peer.js client --target HOST:PORT --case NAME\n'
  );
  process.exit(2);
}

function parseArgs(argv) {
  const mode = argv[0];
  const opts = { mode, gzip: false };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (mode === 'server' && a === '--max-message-bytes') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) usage('--max-message-bytes needs a non-negative integer');
      opts.maxMessageBytes = n;
    } else if (mode === 'server' && a === '--gzip') opts.gzip = true;
    else if (mode === 'client' && a === '--target') opts.target = value();
    else if (mode === 'client' && a === '--case') opts.case = value();
    else usage(`unknown argument '${a}'`);
  }
  if (mode === 'client' && (!opts.target || !opts.case)) usage('client needs --target and --case');
  if (mode !== 'server' && mode !== 'client') usage();
  return opts;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.mode === 'server') {
    runServer(opts);
    return;
  }
  runClient(opts).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (e) => {
      log(`client crashed: ${e && e.stack ? e.stack : e}`);
      process.exit(1);
    }
  );
}

main();
