#!/usr/bin/python3
"""A user-space "wire" between two TAP devices, for kernels without the netem qdisc.

deploy/netns/hosts.sh (create --link wire) gives host I an eth0 that is a TAP device inside the
namespace PREFIX-I, and hangs a second TAP, PREFIX-vI, on the bridge PREFIX-br in the root
namespace. This process joins the two: every Ethernet frame read from one is written to the
other. Frames the host sends (read from its eth0, written to PREFIX-vI: the host's egress, where
netem on eth0 would act) get the faults of the settings file; frames towards the host pass
untouched.

Settings file (--conf), re-read on SIGHUP; keys separated by spaces or newlines, 0 or absent is off:
    delay_ms=50 jitter_ms=10 loss_pct=5 reorder_pct=25 gen=ANY
  loss_pct     each frame is dropped with this probability, independently
  delay_ms     every other frame is held for delay_ms ± jitter_ms (uniform); each frame gets its
               own send time and the queue is ordered by it, so a jitter larger than the gap
               between frames reorders them (as netem's jitter does); without jitter frames keep
               their order (a frame is never sent before one queued ahead of it)
  reorder_pct  this share of frames skips the delay and is sent at once, overtaking the queue (as
               netem's reorder); needs a delay, 10 ms when delay_ms is 0
  gen          echoed in the "wire: applied gen=..." line, so the writer knows the file was read
The queue holds at most --limit frames (default 10000); more are dropped (counted as overflow).

Lines on stdout: "wire: ready ..." once both TAPs are attached and frames flow, "wire: applied
..." after each (re)read of the settings, "wire: stats ..." on SIGUSR1 and at exit. SIGTERM or
SIGINT: exits 0. The TAP devices are not created or deleted here (hosts.sh makes persistent ones
with `ip tuntap add`); they are attached with TUNSETIFF, the host's one after setns() into its
namespace.

Cost: a user-space copy per frame and two system calls (read, write); see deploy/netns/README.md.
"""

import argparse
import ctypes
import errno
import fcntl
import heapq
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000
REORDER_DEFAULT_DELAY_MS = 10
# Frames read from one device before looking at the other and at the queue again.
BATCH = 64
READ_SIZE = 65536

KEYS = ("delay_ms", "jitter_ms", "loss_pct", "reorder_pct")


def log(text):
    print("wire: " + text, flush=True)


def fail(text):
    print("wire: error: " + text, file=sys.stderr, flush=True)
    sys.exit(1)


def open_tap(name):
    """Attaches to the TAP device NAME of the current network namespace; returns a non-blocking fd."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), IFF_TAP | IFF_NO_PI))
    except OSError as e:
        os.close(fd)
        raise OSError(e.errno, f"TUNSETIFF {name} (tap, no packet info): {e.strerror}") from None
    os.set_blocking(fd, False)
    return fd


def open_tap_in(netns, name):
    """Opens NAME inside the namespace /var/run/netns/NETNS: /dev/net/tun binds to the namespace
    of the thread that opens it, so setns() there, open, and setns() back."""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(os.path.join("/var/run/netns", netns), os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        os.close(home)
        raise OSError(e.errno, f"namespace {netns}: {e.strerror}") from None
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns into {netns}: {os.strerror(err)}")
        try:
            return open_tap(name)
        finally:
            if libc.setns(home, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                fail(f"setns back to the root namespace: {os.strerror(err)}")
    finally:
        os.close(target)
        os.close(home)


class Settings:
    def __init__(self):
        self.delay_ms = 0.0
        self.jitter_ms = 0.0
        self.loss_pct = 0.0
        self.reorder_pct = 0.0
        self.gen = "-"

    def active(self):
        return self.delay_ms > 0 or self.loss_pct > 0 or self.reorder_pct > 0

    def describe(self):
        return (f"gen={self.gen} delay_ms={self.delay_ms:g} jitter_ms={self.jitter_ms:g} "
                f"loss_pct={self.loss_pct:g} reorder_pct={self.reorder_pct:g}")


def read_settings(path):
    """The settings in PATH (all off when it is missing); raises ValueError on a bad value."""
    settings = Settings()
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return settings
    for word in text.split():
        key, sep, value = word.partition("=")
        if not sep:
            raise ValueError(f"'{word}' is not key=value")
        if key == "gen":
            settings.gen = value
            continue
        if key not in KEYS:
            raise ValueError(f"unknown key '{key}' (known: {', '.join(KEYS)}, gen)")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{key}: '{value}' is not a number") from None
        if not 0 <= number < 1e7 or (key.endswith("_pct") and number > 100):
            raise ValueError(f"{key}: {value} is out of range")
        setattr(settings, key, number)
    return settings


class Wire:
    def __init__(self, host_fd, bridge_fd, conf, limit, rng):
        self.host_fd = host_fd
        self.bridge_fd = bridge_fd
        self.conf = conf
        self.limit = limit
        self.rng = rng
        self.settings = Settings()
        # Held frames: (send time, sequence number, frame); the sequence keeps equal times FIFO.
        self.queue = []
        self.seq = 0
        # The latest send time queued without jitter: later frames never go before it.
        self.last_due = 0.0
        self.stats = dict.fromkeys(
            ("to_host", "from_host", "sent", "lost", "delayed", "reordered", "overflow", "write_errors"), 0)
        self.stop = False
        self.reload = False
        self.dump = False

    def load(self):
        try:
            settings = read_settings(self.conf)
        except (OSError, ValueError) as e:
            log(f"not applied: {self.conf}: {e}; keeping {self.settings.describe()}")
            return
        self.settings = settings
        log("applied " + settings.describe())

    def write(self, fd, frame):
        try:
            os.write(fd, frame)
            return True
        except OSError as e:
            # EIO: the device is down; EAGAIN/ENOBUFS: no room. The frame is lost, as on a wire.
            self.stats["write_errors"] += 1
            if e.errno not in (errno.EIO, errno.EAGAIN, errno.ENOBUFS, errno.EINVAL):
                raise
            return False

    def egress(self, frame, now):
        """A frame the host sent: the faults, then to the bridge (now or later)."""
        s = self.settings
        stats = self.stats
        stats["from_host"] += 1
        if s.loss_pct > 0 and self.rng.random() * 100 < s.loss_pct:
            stats["lost"] += 1
            return
        delay = s.delay_ms
        if delay <= 0 and s.reorder_pct > 0:
            delay = REORDER_DEFAULT_DELAY_MS
        if delay <= 0 and not self.queue:
            if self.write(self.bridge_fd, frame):
                stats["sent"] += 1
            return
        if s.reorder_pct > 0 and self.rng.random() * 100 < s.reorder_pct:
            stats["reordered"] += 1
            if self.write(self.bridge_fd, frame):
                stats["sent"] += 1
            return
        if len(self.queue) >= self.limit:
            stats["overflow"] += 1
            return
        if delay > 0 and s.jitter_ms > 0:
            due = now + max(0.0, delay + self.rng.uniform(-s.jitter_ms, s.jitter_ms)) / 1000
        else:
            # No jitter (or the delay was just removed with frames still held): keep the order.
            due = max(now + max(delay, 0) / 1000, self.last_due)
            self.last_due = due
        self.seq += 1
        heapq.heappush(self.queue, (due, self.seq, frame))
        stats["delayed"] += 1

    def flush(self, now):
        """Sends every held frame that is due; returns seconds until the next one, or None."""
        queue = self.queue
        while queue and queue[0][0] <= now:
            _, _, frame = heapq.heappop(queue)
            if self.write(self.bridge_fd, frame):
                self.stats["sent"] += 1
        return queue[0][0] - now if queue else None

    def pump(self, fd):
        """Reads up to BATCH frames from FD and forwards them; False when the device went away."""
        from_host = fd == self.host_fd
        stats = self.stats
        for _ in range(BATCH):
            try:
                frame = os.read(fd, READ_SIZE)
            except BlockingIOError:
                return True
            except OSError as e:
                if e.errno == errno.EINTR:
                    return True
                if e.errno in (errno.EBADFD, errno.EIO, errno.ENXIO, errno.ENODEV):
                    log(f"device gone ({e.strerror})")
                    return False
                raise
            if not frame:
                return True
            if not from_host:
                stats["to_host"] += 1
                self.write(self.host_fd, frame)
            elif self.queue or self.settings.active():
                self.egress(frame, time.monotonic())
            else:
                # Nothing to apply: straight through.
                stats["from_host"] += 1
                if self.write(self.bridge_fd, frame):
                    stats["sent"] += 1
        return True

    def run(self, wake_fd):
        poller = select.poll()
        for fd in (self.host_fd, self.bridge_fd, wake_fd):
            poller.register(fd, select.POLLIN)
        bad = select.POLLERR | select.POLLHUP | select.POLLNVAL
        while not self.stop:
            wait = self.flush(time.monotonic())
            timeout = None if wait is None else max(0, int(wait * 1000 + 0.999))
            events = poller.poll(timeout)
            for fd, mask in events:
                if fd == wake_fd:
                    try:
                        while os.read(wake_fd, 512):
                            pass
                    except BlockingIOError:
                        pass
                    continue
                if mask & select.POLLIN:
                    if not self.pump(fd):
                        return 1
                elif mask & bad:
                    log("device gone (poll says %#x)" % mask)
                    return 1
            if self.reload:
                self.reload = False
                self.load()
            if self.dump:
                self.dump = False
                self.log_stats()
        return 0

    def log_stats(self):
        log("stats " + " ".join(f"{k}={v}" for k, v in self.stats.items()) + f" queued={len(self.queue)}")


def main():
    parser = argparse.ArgumentParser(description="Copies Ethernet frames between two TAP devices; "
                                     "delay, jitter, loss and reorder on the host's egress.")
    parser.add_argument("--netns", help="namespace (/var/run/netns/NAME) of --host-dev; default: this one")
    parser.add_argument("--host-dev", required=True, help="the host's TAP (its eth0)")
    parser.add_argument("--bridge-dev", required=True, help="the TAP on the bridge, in this namespace")
    parser.add_argument("--conf", required=True, help="settings file, re-read on SIGHUP")
    parser.add_argument("--seed", type=int, help="seed for loss/jitter/reorder decisions")
    parser.add_argument("--limit", type=int, default=10000, help="most frames held by the delay (10000)")
    args = parser.parse_args()
    if args.limit < 1:
        fail("--limit must be at least 1")

    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    try:
        bridge_fd = open_tap(args.bridge_dev)
        host_fd = open_tap_in(args.netns, args.host_dev) if args.netns else open_tap(args.host_dev)
    except OSError as e:
        fail(str(e))

    wire = Wire(host_fd, bridge_fd, args.conf, args.limit, random.Random(args.seed))

    def on_stop(_sig, _frame):
        wire.stop = True

    def on_hup(_sig, _frame):
        wire.reload = True

    def on_usr1(_sig, _frame):
        wire.dump = True

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGUSR1, on_usr1)

    wire.load()
    where = f"{args.netns}:{args.host_dev}" if args.netns else args.host_dev
    log(f"ready {where} <-> {args.bridge_dev} (pid {os.getpid()}, seed {args.seed})")
    rc = wire.run(wake_r)
    wire.log_stats()
    log("exit" if rc == 0 else "exit: a device went away")
    os.close(host_fd)
    os.close(bridge_fd)
    return rc


if __name__ == "__main__":
    sys.exit(main())
