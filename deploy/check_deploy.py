#!/usr/bin/python3
"""Helper of deploy/check.sh: structural checks of the deployment files, and the parts of a
replay of the Dockerfile that need parsing. Needs PyYAML (Debian python3-yaml).

  check_deploy.py structure REPO              check Dockerfile, compose file and k8s manifests
  check_deploy.py replay REPO ROOT LOG        the build stage in order: COPY into ROOT/<dest>, RUN
                                              in ROOT/<WORKDIR> (output to LOG); writes ROOT/image.json
  check_deploy.py node1 REPO ROOT GRPC HTTP DATA
                                              write ROOT/node1.env and ROOT/node1.args (NUL-separated):
                                              node-1 of the compose file as a one-node cluster on 127.0.0.1
"""

import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

try:
    import yaml
except ImportError:  # pragma: no cover - reported to the user
    sys.stderr.write("check_deploy: PyYAML is missing (Debian package python3-yaml)\n")
    sys.exit(2)

NODE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
IMAGE_GRPC_PORT = 7400
IMAGE_HTTP_PORT = 7401
# What the base image mcr.microsoft.com/dotnet/aspnet sets that matters to the node.
BASE_IMAGE_ENV = {"ASPNETCORE_HTTP_PORTS": "8080", "APP_UID": "1654"}


class Checker:
    def __init__(self):
        self.failures = 0
        self.passed = 0

    def check(self, condition, what, detail=""):
        if condition:
            self.passed += 1
            print("  ok    %s" % what)
        else:
            self.failures += 1
            print("  FAIL  %s%s" % (what, (": " + detail) if detail else ""))
        return bool(condition)


# ---------------------------------------------------------------- Dockerfile

def dockerfile_instructions(path):
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    result = []
    current = ""
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if current and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                current += line[:-1] + " "
                continue
            current += line
            word, _, rest = current.strip().partition(" ")
            result.append((word.upper(), rest.strip()))
            current = ""
    if current.strip():
        word, _, rest = current.strip().partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def stages(instructions):
    """[{name, base, lines: [(instr, args)]}] per FROM."""
    result = []
    for instr, args in instructions:
        if instr == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            result.append({"name": name, "base": parts[0], "lines": []})
        elif result:
            result[-1]["lines"].append((instr, args))
    return result


def split_flags(args):
    """COPY/ADD arguments: (flags, words); JSON form too."""
    flags = {}
    words = shlex.split(args)
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        flags[key] = value
    rest = " ".join(shlex.quote(w) for w in words)
    if rest.startswith("["):
        words = json.loads(args[args.index("["):])
    return flags, words


def exec_form(args):
    args = args.strip()
    if args.startswith("["):
        return json.loads(args)
    return ["/bin/sh", "-c", args]


def parse_env(args):
    """ENV a=b c=d, or the legacy ENV a b."""
    words = shlex.split(args)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(w.split("=", 1) for w in words)


def runtime_facts(dockerfile):
    all_stages = stages(dockerfile_instructions(dockerfile))
    final = all_stages[-1]
    env, workdir, entrypoint, healthcheck, user, volumes, exposed, copies, runs = {}, "/", None, None, None, [], [], [], []
    for instr, args in final["lines"]:
        if instr == "ENV":
            env.update(parse_env(args))
        elif instr == "WORKDIR":
            workdir = os.path.join(workdir, args)
        elif instr == "ENTRYPOINT":
            entrypoint = exec_form(args)
        elif instr == "HEALTHCHECK":
            healthcheck = args
        elif instr == "USER":
            user = args
        elif instr == "VOLUME":
            volumes += json.loads(args) if args.startswith("[") else args.split()
        elif instr == "EXPOSE":
            exposed += [int(p.split("/")[0]) for p in args.split()]
        elif instr == "COPY":
            copies.append(split_flags(args))
        elif instr == "RUN":
            runs.append(args)
    return {
        "stages": all_stages, "base": final["base"], "env": env, "workdir": workdir,
        "entrypoint": entrypoint, "healthcheck": healthcheck, "user": user, "volumes": volumes,
        "exposed": exposed, "copies": copies, "runs": runs,
    }


def healthcheck_command(spec):
    """The CMD of a HEALTHCHECK line, as an argv."""
    words = spec.split(None, 1)
    while words and words[0].startswith("--"):
        words = words[1].split(None, 1) if len(words) > 1 else []
    if not words or len(words) < 2 or words[0].upper() != "CMD":
        return None
    return exec_form(words[1])


# ---------------------------------------------------------------- dockerignore

def ignore_patterns(repo, dockerfile):
    specific = dockerfile + ".dockerignore"
    path = specific if os.path.exists(specific) else os.path.join(repo, ".dockerignore")
    patterns = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    negate = line.startswith("!")
                    patterns.append((negate, pattern_regex(line.lstrip("!").strip("/"))))
    return path if os.path.exists(path) else None, patterns


def pattern_regex(pattern):
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    # A pattern that matches a directory excludes everything under it.
    return re.compile("^" + out + "(?:/.*)?$")


def ignored(relative, patterns):
    result = False
    for negate, regex in patterns:
        if regex.match(relative):
            result = not negate
    return result


def copy_into(repo, source, target, patterns):
    """COPY one source (relative to the context) to target, Docker's way: a directory's contents."""
    rel = os.path.normpath(source).lstrip("./") if source not in (".", "./") else ""
    path = os.path.join(repo, rel)
    copied = 0
    if os.path.isdir(path):
        for dirpath, dirnames, filenames in os.walk(path):
            reldir = os.path.relpath(dirpath, repo)
            reldir = "" if reldir == "." else reldir
            dirnames[:] = [d for d in dirnames if not ignored(os.path.join(reldir, d), patterns)]
            for name in filenames:
                relfile = os.path.join(reldir, name)
                if ignored(relfile, patterns):
                    continue
                dest = os.path.join(target, os.path.relpath(os.path.join(dirpath, name), path))
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copy2(os.path.join(dirpath, name), dest)
                copied += 1
    elif os.path.isfile(path) and not ignored(rel, patterns):
        dest = os.path.join(target, os.path.basename(path)) if target.endswith("/") else target
        os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
        shutil.copy2(path, dest)
        copied += 1
    return copied


def replay(repo, root, log_path):
    dockerfile = os.path.join(repo, "deploy", "Dockerfile")
    facts = runtime_facts(dockerfile)
    ignore_file, patterns = ignore_patterns(repo, dockerfile)
    print("  dockerignore: %s" % (os.path.relpath(ignore_file, repo) if ignore_file else "none"))
    build_stages = {s["name"]: s for s in facts["stages"] if s["name"]}
    # The stage the final image copies from.
    from_stage = next((flags["from"] for flags, _ in facts["copies"] if "from" in flags), None)
    stage = build_stages.get(from_stage) if from_stage else facts["stages"][0]
    if stage is None:
        print("  FAIL  the runtime stage copies from '%s', which is no stage of the Dockerfile" % from_stage)
        return 1

    def host(container_path):
        return os.path.join(root, container_path.lstrip("/"))

    workdir = "/"
    env = dict(os.environ)
    log = open(log_path, "w", encoding="utf-8")
    for instr, args in stage["lines"]:
        if instr == "WORKDIR":
            workdir = os.path.join(workdir, args)
            os.makedirs(host(workdir), exist_ok=True)
        elif instr == "COPY":
            flags, words = split_flags(args)
            if "from" in flags:
                print("  FAIL  COPY --from inside the build stage is not replayed: %s" % args)
                return 1
            sources, dest = words[:-1], words[-1]
            dest_abs = dest if dest.startswith("/") else os.path.join(workdir, dest)
            target = host(dest_abs) + ("/" if dest.endswith("/") or len(sources) > 1 or dest in (".", "./") else "")
            total = 0
            for source in sources:
                matches = sorted(glob.glob(os.path.join(repo, source))) if any(c in source for c in "*?[") else [os.path.join(repo, source)]
                for match in matches:
                    if not os.path.exists(match):
                        print("  FAIL  COPY %s: %s is not in the build context" % (args, source))
                        return 1
                    total += copy_into(repo, os.path.relpath(match, repo) + ("/" if source.endswith("/") else ""), target, patterns)
            print("  COPY %-60s %5d file(s)" % (args, total))
        elif instr == "RUN":
            words = shlex.split(args)
            # Container paths (an absolute path as a word, e.g. -o /app) map under ROOT.
            mapped = [host(w) if w.startswith("/") else w for w in words]
            line = " ".join(shlex.quote(w) if w not in ("&&", "||", ";") else w for w in mapped)
            started = time.monotonic()
            log.write("RUN %s\n" % line)
            log.flush()
            code = subprocess.call(["/bin/bash", "-c", line], cwd=host(workdir), env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            print("  RUN %s: exit code %d after %.0f s" % (" ".join(args.split()), code, time.monotonic() - started))
            if code != 0:
                print("  FAIL  RUN %s failed (a file it needs not copied yet?)" % " ".join(args.split()))
                return 1
        elif instr in ("ENV", "ARG"):
            if instr == "ENV":
                env.update(parse_env(args))
        else:
            print("  FAIL  the build stage has %s, which the replay does not know: %s %s" % (instr, instr, args))
            return 1
    log.close()

    # What the runtime stage takes from the build stage, and how it starts.
    runtime_copies = []
    for flags, words in facts["copies"]:
        if flags.get("from") == from_stage:
            runtime_copies.append({"source": host(words[0]), "dest": words[-1]})
    image = {
        "workdir": facts["workdir"], "entrypoint": facts["entrypoint"], "env": facts["env"],
        "copies": runtime_copies, "healthcheck": healthcheck_command(facts["healthcheck"] or ""),
    }
    with open(os.path.join(root, "image.json"), "w", encoding="utf-8") as f:
        json.dump(image, f, indent=1)
    return 0


# ---------------------------------------------------------------- compose

INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def interpolate(value):
    if isinstance(value, str):
        return INTERPOLATION.sub(lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), value).replace("$$", "$")
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    return value


def as_env(environment):
    if isinstance(environment, dict):
        return {k: "" if v is None else str(v) for k, v in environment.items()}
    result = {}
    for item in environment or []:
        key, _, value = str(item).partition("=")
        result[key] = value
    return result


def as_args(command):
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command or []]


def options(args):
    """--x=v and --x v pairs of a node's command line."""
    result = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--") and "=" in arg:
            key, value = arg.split("=", 1)
            result[key] = value
        elif arg.startswith("--") and i + 1 < len(args):
            result[arg] = args[i + 1]
            i += 1
        i += 1
    return result


def parse_peers(text):
    peers = []
    for item in [p.strip() for p in text.split(",") if p.strip()]:
        node, sep, address = item.partition("=")
        peers.append((node, address if sep else None))
    return peers


def port_of(url):
    match = re.match(r"^(https?)://([^:/]+)(?::(\d+))?/?$", url or "")
    if not match:
        return None, None
    return match.group(2), int(match.group(3) or (443 if match.group(1) == "https" else 80))


def node_settings(service, image_env):
    """A compose node's settings the way the node reads them: image ENV, service environment, command."""
    env = dict(image_env)
    env.update(as_env(service.get("environment")))
    opts = options(as_args(service.get("command")))
    def setting(switch, key, default=None):
        return opts.get(switch, opts.get("--" + key.replace("__", ":"), env.get("STREAMS_" + key, default)))
    return {
        "node_id": setting("--node-id", "Node__NodeId", "node-1"),
        "peers": setting("--peers", "Cluster__Peers", ""),
        "advertise": setting("--advertise", "Cluster__AdvertiseAddress", ""),
        "grpc_port": int(setting("--grpc-port", "Node__GrpcPort", IMAGE_GRPC_PORT)),
        "http_port": int(setting("--http-port", "Node__HttpPort", IMAGE_HTTP_PORT)),
        "data": setting("--data-dir", "Node__DataDirectory", "./data"),
        "bind": setting("--bind", "Node__BindAddress", "127.0.0.1"),
    }


def check_compose(repo, c, facts):
    path = os.path.join(repo, "deploy", "docker-compose.yml")
    print("deploy/docker-compose.yml")
    with open(path, encoding="utf-8") as f:
        compose = interpolate(yaml.safe_load(f))
    services = compose.get("services") or {}
    nodes = {name: s for name, s in services.items() if re.match(r"^node-\d+$", name)}
    c.check(sorted(nodes) == ["node-1", "node-2", "node-3"], "three node services node-1..node-3", str(sorted(nodes)))
    declared_volumes = set((compose.get("volumes") or {}).keys())
    declared_networks = set((compose.get("networks") or {}).keys())
    peer_lists = set()
    host_ports = []
    node_volumes = []
    for name in sorted(nodes):
        s = nodes[name]
        st = node_settings(s, facts["env"])
        c.check(s.get("build", {}).get("dockerfile") == "deploy/Dockerfile", "%s builds deploy/Dockerfile" % name, str(s.get("build")))
        c.check(st["node_id"] == name and NODE_ID.match(st["node_id"]), "%s: --node-id is %s, a valid node id" % (name, st["node_id"]), st["node_id"])
        peers = parse_peers(st["peers"])
        peer_lists.add(st["peers"])
        ids = [p for p, _ in peers]
        c.check(sorted(ids) == sorted(nodes) and len(set(ids)) == len(ids), "%s: --peers names every node service once" % name, st["peers"])
        bad = [(p, a) for p, a in peers if p in nodes and port_of(a) != (p, node_settings(nodes[p], facts["env"])["grpc_port"])]
        c.check(not bad and all(a for _, a in peers), "%s: each peer's address is http://<its service>:<its gRPC port>" % name, str(bad))
        own = dict(peers).get(name)
        c.check(st["advertise"] == own, "%s: --advertise %s is its own --peers entry" % (name, st["advertise"]), "peers say %s" % own)
        c.check(st["bind"] in ("0.0.0.0", "*"), "%s: binds every interface (%s)" % (name, st["bind"]))
        ports = [str(p) for p in s.get("ports") or []]
        published = {}
        for p in ports:
            parts = p.split(":")
            if len(parts) >= 2:
                published[int(parts[-1])] = int(parts[-2])
        c.check(st["grpc_port"] in published and st["http_port"] in published,
                "%s: publishes gRPC %d and HTTP %d (%s)" % (name, st["grpc_port"], st["http_port"], ", ".join(ports)), str(ports))
        host_ports += published.values()
        mounts = [str(v).split(":") for v in s.get("volumes") or []]
        data_mounts = [m for m in mounts if len(m) >= 2 and m[1] == st["data"]]
        c.check(len(data_mounts) == 1 and data_mounts[0][0] in declared_volumes,
                "%s: a named volume declared at the top level on its data directory %s" % (name, st["data"]), str(mounts))
        node_volumes += [m[0] for m in data_mounts]
        c.check(set(s.get("networks") or []) & declared_networks, "%s: on a declared network" % name, str(s.get("networks")))
        c.check(facts["healthcheck"] is not None or "healthcheck" in s, "%s: has a healthcheck (the image's HEALTHCHECK)" % name)
    c.check(len(peer_lists) == 1, "the nodes' --peers lists are identical", str(peer_lists))
    c.check(len(host_ports) == len(set(host_ports)), "host ports are distinct", str(sorted(host_ports)))
    c.check(len(node_volumes) == len(set(node_volumes)) == 3, "each node has its own volume", str(node_volumes))
    n1 = nodes.get("node-1", {})
    c.check({"7400:7400", "7401:7401"} <= set(map(str, n1.get("ports") or [])), "node-1 publishes 7400 and 7401 as themselves")

    minio = services.get("minio") or {}
    c.check(str(minio.get("image", "")).startswith("minio/minio"), "minio runs the image minio/minio", str(minio.get("image")))
    minio_env = as_env(minio.get("environment"))
    mc = services.get("minio-init") or {}
    c.check(str(mc.get("image", "")).startswith("minio/mc"), "minio-init runs the image minio/mc", str(mc.get("image")))
    c.check("minio" in (mc.get("depends_on") or {}), "minio-init depends on minio")
    init = services.get("streams-init") or {}
    init_env = as_env(init.get("environment"))
    bucket = init_env.get("S3_BUCKET", "")
    mc_command = " ".join(as_args(mc.get("entrypoint")) + as_args(mc.get("command")))
    c.check(bucket and re.search(r"mc mb\b.*/%s\b" % re.escape(bucket), mc_command), "minio-init creates the bucket %s that streams-init delivers to" % bucket, mc_command)
    deps = init.get("depends_on") or {}
    c.check(all(isinstance(deps, dict) and deps.get(n, {}).get("condition") == "service_healthy" for n in nodes),
            "streams-init waits until every node is healthy", str(deps))
    c.check(isinstance(deps, dict) and deps.get("minio-init", {}).get("condition") == "service_completed_successfully",
            "streams-init waits for the bucket (minio-init completed)", str(deps))
    s3_host, s3_port = port_of(init_env.get("S3_ENDPOINT"))
    c.check(s3_host == "minio" and s3_port == 9000, "streams-init's S3 endpoint is the minio service (%s)" % init_env.get("S3_ENDPOINT"))
    c.check(init_env.get("S3_ACCESS_KEY_ID") == minio_env.get("MINIO_ROOT_USER") and init_env.get("S3_SECRET_ACCESS_KEY") == minio_env.get("MINIO_ROOT_PASSWORD"),
            "streams-init signs with MinIO's credentials")
    ep_host, ep_port = port_of(init_env.get("STREAMS_ENDPOINT"))
    c.check(ep_host in nodes and ep_port == node_settings(nodes[ep_host], facts["env"])["grpc_port"], "streams-init talks to a node's gRPC port (%s)" % init_env.get("STREAMS_ENDPOINT"))
    mounts = [str(v).split(":") for v in init.get("volumes") or []]
    scripts = [m for m in mounts if m[0].startswith(".")]
    c.check(scripts and all(os.path.isfile(os.path.join(repo, "deploy", m[0])) for m in scripts), "streams-init's mounted script exists", str(mounts))
    c.check(scripts and any(m[1] in " ".join(as_args(init.get("entrypoint")) + as_args(init.get("command"))) for m in scripts), "streams-init runs the mounted script")
    for name in ("minio", "minio-init", "streams-init"):
        c.check(set((services.get(name) or {}).get("networks") or []) & declared_networks, "%s: on a declared network" % name)
    used = {m[0] for s in services.values() for m in (str(v).split(":") for v in s.get("volumes") or []) if not m[0].startswith((".", "/"))}
    c.check(used <= declared_volumes, "every named volume used is declared", str(used - declared_volumes))
    return nodes


# ---------------------------------------------------------------- Kubernetes

def check_k8s(repo, c):
    directory = os.path.join(repo, "deploy", "k8s")
    print("deploy/k8s")
    docs = []
    files = sorted(f for f in os.listdir(directory) if f.endswith((".yaml", ".yml")))
    kustomization = None
    for name in files:
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            loaded = [d for d in yaml.safe_load_all(f) if d]
        c.check(loaded and all("apiVersion" in d and "kind" in d for d in loaded), "%s parses: %s" % (name, ", ".join(d.get("kind", "?") for d in loaded)))
        for d in loaded:
            if d.get("kind") == "Kustomization":
                kustomization = (name, d)
            else:
                docs.append(d)
    if c.check(kustomization is not None, "a kustomization.yaml (kubectl apply -k)"):
        name, k = kustomization
        resources = set(k.get("resources") or [])
        others = set(files) - {name}
        c.check(resources == others, "the kustomization lists every manifest", "resources %s, files %s" % (sorted(resources), sorted(others)))

    def kind(k):
        return [d for d in docs if d.get("kind") == k]
    sts_list, services, pdbs = kind("StatefulSet"), kind("Service"), kind("PodDisruptionBudget")
    if not c.check(len(sts_list) == 1, "one StatefulSet"):
        return
    sts = sts_list[0]
    spec = sts["spec"]
    name = sts["metadata"]["name"]
    replicas = spec.get("replicas", 1)
    c.check(replicas == 3, "StatefulSet %s: 3 replicas" % name, str(replicas))
    c.check(spec.get("podManagementPolicy") == "Parallel", "podManagementPolicy Parallel")
    labels = spec["template"]["metadata"].get("labels") or {}
    selector = spec["selector"].get("matchLabels") or {}
    c.check(selector and selector.items() <= labels.items(), "the StatefulSet's selector matches its pod labels")
    headless = [s for s in services if s["metadata"]["name"] == spec.get("serviceName")]
    if c.check(len(headless) == 1, "serviceName %s is a Service" % spec.get("serviceName")):
        h = headless[0]["spec"]
        c.check(h.get("clusterIP") == "None", "%s is headless (clusterIP None)" % spec.get("serviceName"))
        c.check(h.get("publishNotReadyAddresses") is True, "%s publishes not-ready pods (peers find each other before the cluster forms)" % spec.get("serviceName"))
    clients = [s for s in services if s["spec"].get("clusterIP") != "None"]
    c.check(len(clients) >= 1, "a client Service", str([s["metadata"]["name"] for s in clients]))
    for s in services:
        sel = s["spec"].get("selector") or {}
        c.check(sel and sel.items() <= labels.items(), "Service %s selects the StatefulSet's pods" % s["metadata"]["name"], str(sel))
    if c.check(len(pdbs) == 1, "one PodDisruptionBudget"):
        p = pdbs[0]["spec"]
        c.check(p.get("maxUnavailable") == 1, "the PDB allows 1 unavailable", str(p.get("maxUnavailable")))
        c.check(p.get("selector", {}).get("matchLabels") == selector, "the PDB's selector is the StatefulSet's", str(p.get("selector")))

    container = spec["template"]["spec"]["containers"][0]
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
    env = {e["name"]: e for e in container.get("env") or []}
    pod_name_env = env.get("POD_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    c.check(pod_name_env == "metadata.name", "POD_NAME is the pod's name (fieldRef metadata.name)")
    opts = options([str(a) for a in container.get("args") or []])
    c.check(opts.get("--node-id") == "$(POD_NAME)", "--node-id is $(POD_NAME): node ids are the pod names", str(opts.get("--node-id")))
    grpc_port = int(opts.get("--grpc-port", IMAGE_GRPC_PORT))
    http_port = int(opts.get("--http-port", IMAGE_HTTP_PORT))
    c.check(ports.get("grpc") == grpc_port and ports.get("http") == http_port, "container ports grpc %d and http %d" % (grpc_port, http_port), str(ports))
    pods = ["%s-%d" % (name, i) for i in range(replicas)]
    peers = parse_peers(opts.get("--peers", ""))
    c.check([p for p, _ in peers] == pods, "--peers names the pods %s" % ", ".join(pods), str([p for p, _ in peers]))
    c.check(all(NODE_ID.match(p) for p in pods), "pod names are valid node ids (letters, digits, '.', '_', '-'; at most 64)")
    svc = spec.get("serviceName")
    wrong = [(p, a) for p, a in peers if a != "http://%s.%s:%d" % (p, svc, grpc_port)]
    c.check(not wrong, "each peer's address is http://<pod>.%s:%d" % (svc, grpc_port), str(wrong))
    c.check(opts.get("--advertise") == "http://$(POD_NAME).%s:%d" % (svc, grpc_port), "--advertise is the pod's own stable name", str(opts.get("--advertise")))
    bind = env.get("STREAMS_Node__BindAddress", {}).get("value", "0.0.0.0")
    c.check(bind in ("0.0.0.0", "*"), "binds every interface")

    def probe_ok(probe, path):
        get = (probe or {}).get("httpGet") or {}
        port = ports.get(get.get("port")) if isinstance(get.get("port"), str) else get.get("port")
        return get.get("path") == path and port == http_port
    c.check(probe_ok(container.get("readinessProbe"), "/readyz"), "readinessProbe GET /readyz on %d" % http_port)
    c.check(probe_ok(container.get("livenessProbe"), "/healthz"), "livenessProbe GET /healthz on %d" % http_port)
    data_dir = env.get("STREAMS_Node__DataDirectory", {}).get("value", "/data")
    claims = [t["metadata"]["name"] for t in spec.get("volumeClaimTemplates") or []]
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts") or []}
    c.check(any(mounts.get(cl) == data_dir for cl in claims), "a volumeClaimTemplate mounted on the data directory %s" % data_dir, "claims %s, mounts %s" % (claims, mounts))
    sc = spec["template"]["spec"].get("securityContext") or {}
    c.check(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == int(BASE_IMAGE_ENV["APP_UID"]) and sc.get("fsGroup") == sc.get("runAsUser"),
            "runs as the image's non-root uid %s, volume writable (fsGroup)" % BASE_IMAGE_ENV["APP_UID"], str(sc))
    grace = spec["template"]["spec"].get("terminationGracePeriodSeconds", 30)
    c.check(grace > 30, "terminationGracePeriodSeconds %s exceeds the node's 30 s graceful stop" % grace)


# ---------------------------------------------------------------- Dockerfile structure

def check_dockerfile(repo, c):
    print("deploy/Dockerfile")
    facts = runtime_facts(os.path.join(repo, "deploy", "Dockerfile"))
    st = facts["stages"]
    c.check(len(st) >= 2 and st[0]["base"].startswith("mcr.microsoft.com/dotnet/sdk:10.0"), "build stage FROM mcr.microsoft.com/dotnet/sdk:10.0", st[0]["base"])
    c.check(facts["base"].startswith("mcr.microsoft.com/dotnet/aspnet:10.0"), "runtime stage FROM mcr.microsoft.com/dotnet/aspnet:10.0", facts["base"])
    runs = " ".join(facts["runs"])
    c.check(re.search(r"apt-get install[^&;]*\bliblz4-1\b", runs), "runtime stage installs liblz4-1 (Streams.Storage loads liblz4.so.1)")
    user = (facts["user"] or "").strip()
    c.check(user and user not in ("root", "0") and not user.startswith("0:"), "runs as a non-root user (USER %s)" % user)
    c.check(facts["env"].get("STREAMS_Node__DataDirectory") in facts["volumes"], "the data directory %s is a VOLUME" % facts["env"].get("STREAMS_Node__DataDirectory"), str(facts["volumes"]))
    c.check(facts["env"].get("STREAMS_Node__BindAddress") in ("0.0.0.0", "*"), "listens on every interface (STREAMS_Node__BindAddress)")
    c.check({IMAGE_GRPC_PORT, IMAGE_HTTP_PORT} <= set(facts["exposed"]), "EXPOSE 7400 7401")
    hc = healthcheck_command(facts["healthcheck"] or "")
    c.check(hc and any("7401/healthz" in w for w in hc), "HEALTHCHECK asks :7401/healthz", str(facts["healthcheck"]))
    if hc and hc[0] == "curl":
        c.check(re.search(r"apt-get install[^&;]*\bcurl\b", runs), "the HEALTHCHECK's curl is installed in the runtime stage")
    c.check(facts["entrypoint"] == ["dotnet", "Streams.Server.dll"], "ENTRYPOINT dotnet Streams.Server.dll", str(facts["entrypoint"]))

    # Every project the published projects reference must have its csproj copied before restore.
    published = re.findall(r"dotnet publish (\S+\.csproj)", " ".join(a for i, a in st[0]["lines"] if i == "RUN"))
    c.check(any("Streams.Server" in p for p in published) and any("Streams.Cli" in p for p in published), "the build publishes the server and the CLI", str(published))
    closure, todo = set(), [os.path.normpath(p) for p in published]
    while todo:
        project = todo.pop()
        if project in closure:
            continue
        closure.add(project)
        with open(os.path.join(repo, project), encoding="utf-8") as f:
            for ref in re.findall(r'<ProjectReference\s+Include="([^"]+)"', f.read()):
                todo.append(os.path.normpath(os.path.join(os.path.dirname(project), ref.replace("\\", "/"))))
    restore_index = next((n for n, (i, a) in enumerate(st[0]["lines"]) if i == "RUN" and "dotnet restore" in a), None)
    copied_before = [a for i, a in st[0]["lines"][:restore_index or 0] if i == "COPY"]
    missing = sorted(p for p in closure if not any(p in a for a in copied_before))
    c.check(restore_index is not None and not missing, "every referenced project file (%d) is copied before dotnet restore" % len(closure), "missing: %s" % ", ".join(missing))
    return facts


def structure(repo):
    c = Checker()
    facts = check_dockerfile(repo, c)
    check_compose(repo, c, facts)
    check_k8s(repo, c)
    print("structure: %d passed, %d failed" % (c.passed, c.failures))
    return 1 if c.failures else 0


# ---------------------------------------------------------------- node-1 on this machine

def node1(repo, root, grpc, http, data):
    facts = runtime_facts(os.path.join(repo, "deploy", "Dockerfile"))
    with open(os.path.join(repo, "deploy", "docker-compose.yml"), encoding="utf-8") as f:
        compose = interpolate(yaml.safe_load(f))
    service = compose["services"]["node-1"]
    env = dict(BASE_IMAGE_ENV)
    env.update(facts["env"])
    env.update(as_env(service.get("environment")))
    args = as_args(service.get("entrypoint")) or list(facts["entrypoint"])
    local = "http://127.0.0.1:%s" % grpc
    node_id = node_settings(service, facts["env"])["node_id"]
    command = as_args(service.get("command"))
    adapted = []
    i = 0
    while i < len(command):
        arg = command[i]
        key, has_value, value = arg.partition("=")
        if not has_value and key.startswith("--") and i + 1 < len(command):
            value = command[i + 1]
            i += 1
        if key == "--peers":
            # A one-node cluster: this node's entry only, at its local address.
            value = ",".join("%s=%s" % (p, local) for p, _ in parse_peers(value) if p == node_id)
        elif key == "--advertise":
            value = local
        adapted += [key, value] if key.startswith("--") else [arg]
        i += 1
    adapted += ["--grpc-port", str(grpc), "--http-port", str(http), "--data-dir", data, "--bind", "127.0.0.1"]
    with open(os.path.join(root, "node1.env"), "wb") as f:
        f.write(b"".join(("%s=%s" % kv).encode() + b"\0" for kv in sorted(env.items())))
    with open(os.path.join(root, "node1.args"), "wb") as f:
        f.write(b"".join(a.encode() + b"\0" for a in args + adapted))
    print("  node-1: %s" % " ".join(shlex.quote(a) for a in args + adapted))
    print("  environment: %s" % " ".join("%s=%s" % kv for kv in sorted(env.items())))
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    if len(argv) == 3 and argv[1] == "structure":
        return structure(argv[2])
    if len(argv) == 5 and argv[1] == "replay":
        return replay(argv[2], argv[3], argv[4])
    if len(argv) == 7 and argv[1] == "node1":
        return node1(*argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
