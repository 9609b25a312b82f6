"""Several hosts on one machine: Linux network namespaces joined by a switch.

Each host is a network namespace ``ns-<host>-mv<run>`` (``run``: the test
process's pid) with its own loopback and one veth (``eth0``) plugged into a
bridge that lives in a namespace of its own (``ns-switch-mv<run>``), an
address in ``10.77.X.0/24`` (a /24 no route of this machine uses), and its
own host name: every process starts in a UTS namespace of its own named
``ns-<host>``, so a worker on ``w1`` calls itself ``ns-w1:<pid>`` in the jobs
it claims, as on a real machine. Hosts reach each other only through the
switch. The test process joins it too (``.254``, a veth from the root
namespace), as an operator's machine would, to drive the API and read the
database. The filesystem, the clock and the pid space stay shared: a
"shared volume" is one directory.

Needs root and iproute2 (``skip_reason()`` says why not). ``Hosts.close()``
kills every process left in each namespace and deletes them all; namespaces
left by a run that was itself killed are deleted by the next one.
"""

from __future__ import annotations

import contextlib
import glob
import ipaddress
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import redis

from tests.live import PASSWORD, REPO, SEED, USERS, run_manage

SUBNETS = ipaddress.ip_network("10.77.0.0/16")
OPERATOR = 254  # the test process's address in the subnet
# Run a command under its own host name (the UTS namespace ``unshare`` makes).
RENAMED = ("unshare", "--uts", "--", "sh", "-c", 'hostname "$0" && exec "$@"')


def skip_reason() -> str | None:
    """Why namespaces cannot be built here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    missing = [tool for tool in ("ip", "unshare", "setpriv") if not shutil.which(tool)]
    if missing:
        return f"{', '.join(missing)} missing (iproute2, util-linux)"
    return None


def ip(command: str) -> str:
    """``ip`` with these words (no name here has a space)."""
    argv = ["ip", *command.split()]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


class Hosts:
    """Namespaces named after ``hosts``, each with an address on one switch."""

    def __init__(self, *hosts: str) -> None:
        self.run = str(os.getpid())
        self.names = hosts
        self.switch = f"ns-switch-mv{self.run}"
        self.uplink = f"mvnet{self.run}"  # the operator's veth, in the root namespace
        self.addresses: dict[str, str] = {}
        self.subnet: ipaddress.IPv4Network | None = None
        self.procs: list[subprocess.Popen] = []

    def namespace(self, host: str) -> str:
        return f"ns-{host}-mv{self.run}"

    def address(self, host: str) -> str:
        return self.addresses[host]

    @property
    def operator(self) -> str:
        return str(self.subnet[OPERATOR])

    def open(self) -> Hosts:
        """1. Delete what a killed run left. 2. Pick a free /24. 3. The switch:
        a bridge in its own namespace. 4. Each host: a namespace, ``lo`` up, a
        veth pair from its ``eth0`` to a port of the bridge. 5. The operator's
        veth from the root namespace."""
        _delete_orphans()
        self.subnet = _free_subnet()
        ip(f"netns add {self.switch}")
        ip(f"-n {self.switch} link add br0 type bridge")
        ip(f"-n {self.switch} link set br0 up")
        for i, host in enumerate(self.names, start=1):
            ns = self.namespace(host)
            ip(f"netns add {ns}")
            ip(f"-n {ns} link set lo up")
            self._plug(ns, "eth0", host, self.subnet[i])
            self.addresses[host] = str(self.subnet[i])
        ip(f"link add {self.uplink} type veth peer name operator netns {self.switch}")
        ip(f"addr add {self.operator}/24 dev {self.uplink}")
        ip(f"link set {self.uplink} up")
        ip(f"-n {self.switch} link set operator master br0 up")
        return self

    def _plug(self, ns: str, device: str, port: str, address) -> None:
        ip(f"link add {device} netns {ns} type veth peer name {port} netns {self.switch}")
        ip(f"-n {ns} addr add {address}/24 dev {device}")
        ip(f"-n {ns} link set {device} up")
        ip(f"-n {self.switch} link set {port} master br0 up")

    def command(self, host: str) -> tuple[str, ...]:
        """The prefix that runs a command on ``host``."""
        return ("ip", "netns", "exec", self.namespace(host), *RENAMED, f"ns-{host}")

    def spawn(self, host: str, argv: list[str], log: Path, **popen) -> subprocess.Popen:
        """Start ``argv`` on ``host``, its output to ``log``. Its pid is the
        command's own (``ip netns exec``, ``unshare`` and ``sh`` each exec)."""
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [*self.command(host), *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                **popen,
            )
        self.procs.append(proc)
        return proc

    def pids(self, host: str) -> list[int]:
        return _ns_pids(self.namespace(host))

    def kill(self, host: str) -> int:
        """SIGKILL every process on ``host`` (a child forked meanwhile too);
        how many there were."""
        return _kill_all(self.namespace(host))

    def close(self) -> None:
        """Every process in every namespace killed, every namespace deleted
        (the veths go with them)."""
        for host in self.names:
            with contextlib.suppress(subprocess.CalledProcessError):
                self.kill(host)
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        for ns in [*map(self.namespace, self.names), self.switch]:
            with contextlib.suppress(subprocess.CalledProcessError):
                ip(f"netns del {ns}")
        with contextlib.suppress(subprocess.CalledProcessError):
            ip(f"link del {self.uplink}")

    def __enter__(self) -> Hosts:
        try:
            return self.open()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()


def _ns_pids(ns: str) -> list[int]:
    return [int(pid) for pid in ip(f"netns pids {ns}").split()]


def _kill_all(ns: str) -> int:
    killed: set[int] = set()
    for _ in range(50):
        pids = set(_ns_pids(ns))
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        killed |= pids
        time.sleep(0.05)
    return len(killed)


def _delete_orphans() -> None:
    """Namespaces (and uplinks) of earlier runs whose test process is gone."""
    for line in ip("netns list").splitlines():
        name = line.split()[0] if line.strip() else ""
        if (m := re.fullmatch(r"ns-\w+-mv(\d+)", name)) and not _alive(int(m.group(1))):
            _kill_all(name)
            with contextlib.suppress(subprocess.CalledProcessError):
                ip(f"netns del {name}")
    for m in re.finditer(r"^\d+: (mvnet(\d+))[@:]", ip("-o link"), re.M):
        if not _alive(int(m.group(2))):
            with contextlib.suppress(subprocess.CalledProcessError):
                ip(f"link del {m.group(1)}")


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _free_subnet() -> ipaddress.IPv4Network:
    """A /24 of 10.77.0.0/16 that no address or route of the root namespace touches."""
    used = [
        ipaddress.ip_network(word, strict=False)
        for word in (ip("-4 -o addr") + ip("-4 route")).split()
        if re.fullmatch(r"\d+\.\d+\.\d+\.\d+(/\d+)?", word)
    ]
    free = [net for net in SUBNETS.subnets(new_prefix=24) if not any(net.overlaps(u) for u in used)]
    return random.choice(free)


# -- the data host's services --------------------------------------------------


def start_redis(hosts: Hosts, host: str, workdir: Path) -> str:
    """A Redis of its own on ``host``, nothing kept on disk; its URL."""
    address = hosts.address(host)
    options = f"--bind {address} --port 6379 --appendonly no --protected-mode no --dir {workdir}"
    argv = ["redis-server", *options.split(), "--save", ""]
    hosts.spawn(host, argv, workdir / "redis.log")
    client = redis.Redis(host=address, port=6379, socket_timeout=2)
    _wait(lambda: _answers(client.ping), f"Redis on {host}", workdir / "redis.log")
    return f"redis://{address}:6379/0"


def start_postgres(hosts: Hosts, host: str, workdir: Path) -> str:
    """A private PostgreSQL cluster on ``host`` (initdb into ``workdir``, run
    as the postgres user, listening on the host's address only, trusting the
    switch's subnet) with a database ``mvidarr``; its URL."""
    bindir = Path(max(glob.glob("/usr/lib/postgresql/*/bin"), key=_version))
    pgdata = workdir / "pgdata"
    pgdata.mkdir(mode=0o700)
    shutil.chown(pgdata, "postgres", "postgres")
    initdb = f"{bindir}/initdb -D {pgdata} -U postgres --auth=trust --no-sync -E UTF8"
    subprocess.run(initdb.split(), user="postgres", check=True, capture_output=True, cwd=pgdata)
    with open(pgdata / "pg_hba.conf", "a") as hba:
        hba.write(f"host all all {hosts.subnet} trust\n")
    address = hosts.address(host)
    settings = {
        "listen_addresses": address,
        "port": "5432",
        "unix_socket_directories": str(pgdata),  # not the machine's own cluster's
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
    }
    options = [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")]
    as_postgres = ["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups"]
    log = workdir / "postgres.log"
    hosts.spawn(host, [*as_postgres, str(bindir / "postgres"), "-D", str(pgdata), *options], log)
    server = f"postgres://postgres@{address}:5432"
    _wait(lambda: _answers(lambda: psycopg.connect(f"{server}/postgres").close()), host, log)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE mvidarr")
    return f"{server}/mvidarr"


def _version(bindir: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", bindir))


def _answers(call) -> bool:
    try:
        call()
    except (redis.RedisError, psycopg.OperationalError, httpx.HTTPError):
        return False
    return True


def _wait(check, what: str, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up:\n{log.read_text(errors='replace')[-3000:]}")


# -- MVidarr on the hosts --------------------------------------------------------


class Deployment:
    """MVidarr in scaled mode spread over ``hosts``: every command with the
    same environment (one ``MVIDARR_DATA_DIR``, the shared volume, under
    ``workdir``), each process's output in ``workdir/<name>.log``."""

    def __init__(self, hosts: Hosts, workdir: Path, env: dict[str, str]) -> None:
        self.hosts = hosts
        self.workdir = workdir
        self.data_dir = workdir / "shared"
        self.env = {**os.environ, "MVIDARR_DATA_DIR": str(self.data_dir), "PYTHONUNBUFFERED": "1"}
        self.env.pop("DATABASE_URL", None)
        self.env.update(env)
        self.keys: dict[str, str] = {}
        self.base_url = ""

    def manage(self, host: str, *args: str) -> str:
        return run_manage(self.env, *args, prefix=self.hosts.command(host))

    def seed(self, host: str) -> None:
        """The schema, and the users alice, bob and staff with an API key each."""
        self.manage(host, "migrate", "-v0")
        out = self.manage(host, "shell", "-c", SEED % (USERS, PASSWORD))
        self.keys = json.loads(out.splitlines()[-1])

    def start(self, host: str, name: str, *args: str) -> subprocess.Popen:
        argv = [sys.executable, "manage.py", *args]
        return self.hosts.spawn(host, argv, self.workdir / f"{name}.log", cwd=REPO, env=self.env)

    def serve(self, host: str, port: int = 8000) -> None:
        """``serve`` on ``host``'s address; up once ``/api/health`` answers."""
        address = self.hosts.address(host)
        self.base_url = f"http://{address}:{port}"
        self.start(host, "serve", "serve", "--host", address, "--port", str(port), "--no-migrate")
        health = f"{self.base_url}/api/health"
        _wait(
            lambda: _answers(lambda: httpx.get(health, timeout=2).raise_for_status()),
            f"serve on {host}",
            self.workdir / "serve.log",
        )

    def client(self, user: str = "alice") -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"X-Api-Key": self.keys[user]}, timeout=10
        )

    def log(self, name: str, tail: int = 5000) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""
